"""The contagion test: hand-counted person-days, the exact Mantel-Haenszel estimate, planted effects, no leakage."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from bellwether.algorithms.churn import contagion_test, mantel_haenszel
from bellwether.algorithms.churn.contagion import StudyData, per_contact_multiplier, person_day_counts, verdict
from bellwether.algorithms.report.contagion import contagion_test_html
from bellwether.graph.contact_graph import ContactGraph


# --- the estimators on hand-made timelines --------------------------------------------------------------
def test_mantel_haenszel_matches_the_greenland_robins_formulas():
    a, t1, b, t0 = [2, 3], [100, 50], [10, 5], [1000, 500]
    T = [1100, 550]
    r = 2 * 1000 / 1100 + 3 * 500 / 550
    s = 10 * 100 / 1100 + 5 * 50 / 550
    var = ((2 + 10) * 100 * 1000 / T[0] ** 2 + (3 + 5) * 50 * 500 / T[1] ** 2) / (r * s)
    out = mantel_haenszel(a, t1, b, t0)
    assert out["hr"] == pytest.approx(r / s) == pytest.approx(10 / 3)
    assert out["se_log"] == pytest.approx(math.sqrt(var))
    assert out["ci_low"] == pytest.approx(r / s * math.exp(-1.959963984540054 * math.sqrt(var)))
    assert out["ci_high"] == pytest.approx(r / s * math.exp(1.959963984540054 * math.sqrt(var)))


def test_mantel_haenszel_undefined_without_events_or_overlap():
    assert mantel_haenszel([0], [10], [3], [100])["hr"] is None  # no exposed events
    assert mantel_haenszel([2], [0], [3], [100])["hr"] is None  # no stratum holds both groups


def _tiny(**kw) -> StudyData:
    """Days 0..9, exposure window 3 days.

    0 churns on day 2 (the source); 1 and 2 count 0 as a close contact, 1 churns on day 4;
    3 has no close contact and churns on day 8; 4 counts 0 as close and churns on day 2, the
    same day as 0 (not exposure).  Strata: {0, 1, 4} and {2, 3}.
    """
    args = dict(churn_day=np.array([2, 4, 1_000_000, 8, 2]), u=np.array([1, 2, 4]), v=np.array([0, 0, 0]),
                stratum=np.array([0, 0, 1, 1, 0]), start=0, end=10, origin=0, window_days=3, band_days=10)
    args.update(kw)
    return StudyData(**args)


def test_person_days_and_events_of_a_tiny_timeline():
    t = person_day_counts(_tiny()).set_index("stratum")
    # stratum 0: customer 0 at risk days 0-2 (event day 2, unexposed); customer 1 days 0-4, exposed on
    # days 3-4 (0 left on day 2), event day 4 exposed; customer 4 days 0-2, event day 2 unexposed
    assert t.loc[0, ["exposed_days", "exposed_events", "unexposed_days", "unexposed_events"]].tolist() == [2, 1, 9, 2]
    # stratum 1: customer 2 days 0-9, exposed 3-5; customer 3 days 0-8, never exposed, event day 8
    assert t.loc[1, ["exposed_days", "exposed_events", "unexposed_days", "unexposed_events"]].tolist() == [3, 0, 16, 1]


def test_exact_mantel_haenszel_estimate_of_the_tiny_timeline():
    t = person_day_counts(_tiny())
    out = mantel_haenszel(t["exposed_events"], t["exposed_days"], t["unexposed_events"], t["unexposed_days"])
    r = 1 * 9 / 11 + 0 * 16 / 19  # sum a t0 / T
    s = 2 * 2 / 11 + 1 * 3 / 19  # sum b t1 / T
    assert out["hr"] == pytest.approx(r / s)


def test_churn_before_the_records_exposes_nobody():
    # the source left before the first day with records: its ties are not seen, so nobody is exposed
    t = person_day_counts(_tiny(origin=3, start=3))
    assert t["exposed_days"].sum() == 0


def test_calendar_bands_split_person_days():
    t = person_day_counts(_tiny(band_days=5))
    assert t["band"].nunique() == 2
    assert (t["exposed_days"] + t["unexposed_days"]).sum() == 3 + 5 + 10 + 9 + 3


def test_per_contact_multiplier_without_decay_is_the_rate_ratio():
    # one stratum, an effect that never fades: x = 1 on every day after 0 left, so the conditional
    # maximum likelihood is the crude rate ratio of days with and without a churned close contact
    data = _tiny(stratum=np.zeros(5, np.int64), decay_days=1e12)
    # days with x = 1: customer 1 days 3-4 (event on 4), customer 2 days 3-9; x = 0: the rest
    exposed_days, exposed_events = 2 + 7, 1
    zero_days, zero_events = (3 + 3 + 3 + 9 + 3), 3
    out = per_contact_multiplier(data)
    assert out["hr"] == pytest.approx((exposed_events / exposed_days) / (zero_events / zero_days), rel=1e-6)
    assert out["ci_low"] < out["hr"] < out["ci_high"]


# --- planted contagion in the synthetic operator ------------------------------------------------------------
def _operator(tmp_path_factory, contagion: float, seed: int):
    from bellwether.graph.build import build_contacts
    from bellwether.graph.core.workspace import Workspace
    from bellwether.loaders.load import LoadOptions, load
    from bellwether.loaders.synthetic import generate_operator
    from bellwether.loaders.synthetic.churn import ChurnModel
    from bellwether.algorithms.churn import timeline

    root = tmp_path_factory.mktemp(f"op-{contagion:g}-{seed}")
    op = generate_operator(root / "data", subscribers=10_000, seed=seed,
                           churn=ChurnModel(contagion=contagion, monthly_churn=0.04))
    ws = Workspace(root / "ws")
    load(ws, [root / "data" / "cdr"], subscribers=root / "data" / "subscribers.csv", options=LoadOptions(key=b"k" * 32))
    as_of = timeline.to_day(op["suggested_as_of"])
    return build_contacts(ws, str(as_of), 30), build_contacts(ws, str(as_of - 30 * timeline.DAY), 30), as_of


@pytest.fixture(scope="module")
def strong(tmp_path_factory):
    return _operator(tmp_path_factory, 5.0, 1)


@pytest.fixture(scope="module")
def none(tmp_path_factory):
    return _operator(tmp_path_factory, 1.0, 1)


def test_strong_planted_contagion_is_called_and_its_size_recovered(strong):
    graph, history, as_of = strong
    m = contagion_test(graph, as_of, history=history, permutations=49, seed=1).metrics
    assert m["measured"] and m["called"]
    assert m["ci_low"] > 1.0 and m["p_value"] < 0.05
    assert m["ci_low"] < 5.0 * 1.3 and m["ci_high"] > 5.0 / 1.3  # covers x5, roughly
    assert m["null_median"] < m["hr"]
    assert m["verdict"].startswith("Churn spreads in this network")
    assert m["exposed_days"] > 0 and m["unexposed_days"] > m["exposed_days"]
    assert len(m["null"]) == 49 and m["history"].startswith("records from")


def test_no_planted_contagion_is_not_called(none):
    graph, history, as_of = none
    m = contagion_test(graph, as_of, history=history, permutations=49, seed=1).metrics
    assert m["measured"] and not m["called"]
    assert m["ci_low"] < 1.0 < m["ci_high"] * 1.3  # covers 1, roughly
    assert m["verdict"].startswith("No evidence")


def test_the_test_is_reproducible_for_a_seed(none):
    graph, history, as_of = none
    a = contagion_test(graph, as_of, history=history, permutations=9, seed=3).metrics
    b = contagion_test(graph, as_of, history=history, permutations=9, seed=3).metrics
    a.pop("seconds"), b.pop("seconds")
    assert a == b


# --- nothing after as_of ---------------------------------------------------------------------------------
def test_future_churn_changes_nothing_past_churn_does(strong):
    graph, history, as_of = strong
    subs = graph.subscribers.copy()
    d = pd.to_datetime(subs["churn_date"])
    cut = pd.Timestamp(str(as_of))
    rng = np.random.default_rng(0)
    future = (d >= cut).to_numpy()
    assert future.sum() > 20
    moved = d.copy()
    moved[future] = cut + pd.to_timedelta(rng.integers(0, 60, future.sum()), unit="D")
    never = d.isna().to_numpy() & subs["on_net"].to_numpy(bool)
    add = never & (rng.random(len(d)) < 0.05)
    moved[add] = cut + pd.to_timedelta(rng.integers(0, 30, add.sum()), unit="D")
    subs["churn_date"] = moved
    before = contagion_test(graph, as_of, history=history, permutations=9).metrics
    after = contagion_test(ContactGraph(subs, graph.contacts, graph.info), as_of, history=history, permutations=9).metrics
    before.pop("seconds"), after.pop("seconds")
    assert before == after
    past = (d < cut).to_numpy() & (d >= cut - pd.Timedelta(days=20)).to_numpy()
    subs["churn_date"] = d.where(~past, pd.NaT)
    changed = contagion_test(ContactGraph(subs, graph.contacts, graph.info), as_of, history=history, permutations=9).metrics
    assert changed["hr"] != before["hr"]


def test_a_graph_with_records_after_as_of_is_refused(strong):
    from bellwether.algorithms.churn.timeline import AsOfError

    graph, history, as_of = strong
    with pytest.raises(AsOfError):
        contagion_test(graph, as_of - np.timedelta64(10, "D"), history=history)


# --- without churn data, the verdict, the report ----------------------------------------------------------
def test_without_a_subscriber_extract_it_says_why():
    subs = pd.DataFrame({"id": ["a", "b", "c"], "on_net": [False] * 3, "kind": ["person"] * 3})
    g = ContactGraph.from_edges(np.array([[0, 1], [1, 2]]), n=3, subscribers=subs)
    g.info = {"as_of": "2024-03-01", "window_days": 30}
    m = contagion_test(g, "2024-03-01").metrics
    assert m["measured"] is False and m["called"] is None
    assert m["verdict"].startswith("Cannot tell whether churn spreads") and "subscriber extract" in m["verdict"]


def _figures(**kw):
    m = {"hr": 2.1, "ci_low": 1.7, "ci_high": 2.6, "p_value": 0.005, "null_exceeding": 0, "null_median": 1.02,
         "called": True, "window_days": 30, "decay_days": 30.0, "hr_window": {"hr": 1.6, "ci_low": 1.3, "ci_high": 1.9}}
    m.update(kw)
    return m


def test_verdicts_read_as_sentences():
    assert verdict(_figures()) == (
        "Churn spreads in this network: right after a close contact churned, customers were 2.10× as likely to leave "
        "(95% CI 1.70–2.60), fading over about 30 days (1.60× over the next 30 days); with churn dates shuffled in "
        "time the ratio is 1.02 (p ≤ 0.005).")
    assert "includes 1" in verdict(_figures(ci_low=0.8, called=False, p_value=0.4, null_exceeding=80))
    assert "like attracting like" in verdict(_figures(called=False, p_value=0.3, null_exceeding=60, null_median=2.0))


def test_report_fragment_shows_verdict_and_chart():
    html = contagion_test_html({**_figures(), "measured": True, "null": [0.9, 1.0, 1.05, 1.1], "verdict": verdict(_figures()),
                                "study": ["2024-01-01", "2024-03-01"], "exposed_events": 10, "exposed_days": 500,
                                "unexposed_events": 90, "unexposed_days": 9000})
    assert "Churn spreads in this network" in html and "<svg" in html and "observed 2.10" in html
    assert html.count("<rect") >= 4  # background + null bars + interval band
    assert "<svg" not in contagion_test_html({"measured": False, "verdict": "Cannot tell whether churn spreads: x."})
    assert "no contagion test" in contagion_test_html(None)


# --- the generator's planted strength -------------------------------------------------------------------------
def test_generator_contagion_option_is_checked():
    from bellwether.cli.app import app
    from bellwether.loaders.synthetic.churn import ChurnModel

    with pytest.raises(ValueError, match="contagion"):
        ChurnModel(contagion=0.5)
    result = CliRunner().invoke(app, ["generate", "/tmp/never-written", "--contagion", "0.5", "-q"])
    assert result.exit_code != 0


# --- where users see it ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("crm", [True, False], ids=["crm", "no-crm"])
def test_analyze_records_the_verdict_in_the_manifest(tmp_path, crm):
    from bellwether.algorithms.analysis import analyze, run_summary
    from bellwether.graph.core.workspace import Workspace, read_json
    from support.graphs import save, small_graph

    g = small_graph(600)
    if not crm:
        g.subscribers["on_net"] = False
    ws = Workspace(tmp_path / "ws")
    save(ws, g)
    run = analyze(ws, seed=1, k=5, progress=False, influence_simulations=0)
    test = read_json(run / "manifest.json")["metrics"]["churn"]["contagion"]
    assert test["verdict"] == run_summary(run)["contagion"]
    if crm:
        assert {"measured", "verdict", "exposed_days", "unexposed_days", "study", "ties"} <= set(test)
    else:
        assert test["measured"] is False and "subscriber extract" in test["verdict"]

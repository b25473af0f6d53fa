"""Evaluation against known truth: AUC, lift, NMI by hand, and `bellwether evaluate` on a run directory."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from bellwether.algorithms.evaluation import (
    SIZE_CLASSES,
    ami,
    ari,
    auc,
    community_agreement,
    decile_lift,
    evaluate_run,
    evaluate_run_dir,
    expected_hits,
    gains_curve,
    lift_at,
    nmi,
    ranking_table,
    read_truth,
    recovery_by_class,
)
from bellwether.algorithms.evaluation.partition import read_size_classes, size_class
from bellwether.cli.app import app
from bellwether.graph import schema
from bellwether.graph.core.workspace import Workspace, read_json, write_json


# --- ranking -----------------------------------------------------------------------------------------
def test_auc_by_hand():
    # positives .9 and .3; negatives .8 and .1: pairs won 2 + 1 of 4
    assert auc([1, 0, 1, 0], [0.9, 0.8, 0.3, 0.1]) == 0.75
    assert auc([1, 0], [0.5, 0.5]) == 0.5  # a tie counts one half
    assert auc([1, 1, 0], [0.2, np.nan, 0.1]) == 0.5  # NaN ranks lowest: .2 beats .1, NaN loses
    assert math.isnan(auc([0, 0], [0.1, 0.2]))


def test_gains_and_deciles_on_a_perfect_and_a_useless_score():
    y = np.array([1] * 10 + [0] * 90, bool)
    perfect = np.linspace(1, 0, 100)
    g = gains_curve(y, perfect)
    assert g.loc[g["share_targeted"].round(2) == 0.10, "share_captured"].item() == 1.0
    assert decile_lift(y, perfect)["lift"].iloc[0] == pytest.approx(10.0)
    assert auc(y, perfect) == 1.0
    useless = decile_lift(y, np.zeros(100))  # everyone tied: every decile at the base rate
    assert useless["lift"].to_numpy() == pytest.approx(np.ones(10))
    assert auc(y, np.zeros(100)) == 0.5


def test_one_tie_rule_for_lift_gains_and_deciles():
    """The report's decile and gains figures count ties as lift_at does, whatever the row order."""
    rng = np.random.default_rng(3)
    y = rng.random(1000) < 0.08
    s = np.round(rng.random(1000) + y * 0.2, 1)  # coarse scores: big tied groups straddle every cut
    deciles = decile_lift(y, s)
    assert deciles["lift"].iloc[0] == pytest.approx(lift_at(y, s, 0.10))
    assert deciles["churners"].sum() == pytest.approx(y.sum())
    gains = gains_curve(y, s)
    assert gains.loc[10, "share_captured"] == pytest.approx(lift_at(y, s, 0.10) * 0.10)
    order = rng.permutation(1000)
    pd.testing.assert_frame_equal(decile_lift(y[order], s[order]), deciles)
    assert expected_hits(y, s)[-1] == y.sum()


def test_lift_by_hand():
    y = [1, 0, 1, 0, 0, 0, 0, 0, 0, 0]
    s = [0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.0]
    # base rate 0.2; top 10% = 1 subscriber, a churner: 1 / 0.2 = 5
    assert lift_at(y, s, 0.10) == 5.0
    # top 30% = 3 subscribers, 2 churners: (2/3) / 0.2
    assert lift_at(y, s, 0.30) == pytest.approx(10 / 3)
    # ties across the cut-off count in expectation: 2 tied at the top, 1 churner, 1 place -> 0.5 / 0.25
    assert lift_at([1, 0, 0, 0], [1.0, 1.0, 0.0, 0.0], 0.25) == 2.0
    # a constant score has lift 1 whatever the row order
    assert lift_at([0, 0, 0, 1] * 25, np.zeros(100), 0.05) == pytest.approx(1.0)
    # 1% of 250 rounds up to 3 subscribers
    y = np.zeros(250, bool)
    y[[0, 1, 10, 20, 30]] = True
    assert lift_at(y, -np.arange(250.0), 0.01) == pytest.approx((2 / 3) / (5 / 250))
    with pytest.raises(ValueError):
        lift_at(y, y, 0.0)


def test_ranking_table_columns():
    t = ranking_table([1, 0, 0, 0], {"a": [1, 0, 0, 0], "b": [0, 1, 1, 1]})
    assert list(t.columns) == ["score", "auc", "lift_1", "lift_5", "lift_10"]
    assert t.set_index("score").loc["a", "auc"] == 1.0 and t.set_index("score").loc["b", "auc"] == 0.0


# --- NMI ---------------------------------------------------------------------------------------------
def test_nmi_by_hand():
    a = [0, 0, 0, 1, 1, 1]
    b = [0, 0, 1, 1, 1, 1]
    # joint cells: (0,0) 2/6, (0,1) 1/6, (1,1) 3/6; marginals a (1/2, 1/2), b (1/3, 2/3)
    mi = (2 / 6) * math.log((2 / 6) / (1 / 2 * 1 / 3)) + (1 / 6) * math.log((1 / 6) / (1 / 2 * 2 / 3)) \
        + (3 / 6) * math.log((3 / 6) / (1 / 2 * 2 / 3))
    ha = math.log(2)
    hb = -(1 / 3) * math.log(1 / 3) - (2 / 3) * math.log(2 / 3)
    assert nmi(a, b) == pytest.approx(mi / ((ha + hb) / 2), abs=1e-12)
    assert nmi(a, b) == pytest.approx(0.4787, abs=1e-4)
    assert nmi([0, 0, 1, 1], [7, 7, 3, 3]) == 1.0
    assert nmi([0, 0, 1, 1], [0, 1, 0, 1]) == pytest.approx(0.0, abs=1e-12)


def test_community_agreement_on_persons_in_both():
    run = pd.DataFrame({"id": ["a", "b", "c", "d", "x"], "community": [1, 1, 2, 2, 9]})
    truth = pd.DataFrame({
        "id": ["a", "b", "c", "d", "s", "y"],
        "kind": ["person", "person", "person", "person", "service", "person"],
        "community": [5, 5, 6, 6, -1, 8],
    })
    out = community_agreement(run, truth)
    assert out == {"nmi": 1.0, "ami": 1.0, "ari": 1.0, "compared": 4, "run_communities": 2, "planted_communities": 2,
                   "recovery_by_class": {"family": {"groups": 2, "members": 4, "recovery": 1.0},
                                         "all": {"groups": 2, "members": 4, "recovery": 1.0}}}


def test_ami_and_ari_are_zero_for_shuffled_labels_where_nmi_is_not():
    """Many small groups: NMI of an unrelated (shuffled) partition is far from 0, AMI and ARI are not."""
    rng = np.random.default_rng(0)
    truth = np.repeat(np.arange(2000), 5)
    found = truth.copy()
    lost = rng.random(len(found)) < 0.1
    found[lost] = 10_000 + np.arange(lost.sum())  # a tenth of the members left alone
    shuffled = rng.permutation(found)
    assert nmi(truth, shuffled) > 0.6  # chance agreement that NMI does not correct
    assert abs(ami(truth, shuffled)) < 0.01 and abs(ari(truth, shuffled)) < 0.01
    assert ami(truth, found) > 0.7 and ari(truth, found) > 0.7
    assert ami([0, 0, 1, 1], [1, 1, 0, 0]) == 1.0 == ari([0, 0, 1, 1], [1, 1, 0, 0])


@pytest.mark.parametrize("n, groups", [(7, 1), (60, 6), (500, 40), (3000, 600), (4000, 4000)])
def test_ami_equals_scikit_learns(n, groups):
    """The expected mutual information summed by group size gives scikit-learn's AMI, edge cases included."""
    from sklearn.metrics import adjusted_mutual_info_score

    rng = np.random.default_rng(n)
    a = rng.integers(0, groups, n)
    b = np.where(rng.random(n) < 0.6, a, rng.integers(0, max(groups // 2, 1), n))
    for x, y in [(a, b), (a, a), (a, np.zeros(n)), (np.arange(n), np.arange(n)), (np.arange(n), b)]:
        assert ami(x, y) == pytest.approx(adjusted_mutual_info_score(x, y), abs=1e-8)


def test_recovery_by_size_class():
    # family f (4 members): 3 found together; friends g (12): 6 + 6; workplace h (40): 40 together
    planted = np.array(["f"] * 4 + ["g"] * 12 + ["h"] * 40)
    found = np.array([0, 0, 0, 1] + [2] * 6 + [3] * 6 + [4] * 40)
    out = recovery_by_class(found, planted, {"f": 4, "g": 12, "h": 40})
    assert out["family"] == {"groups": 1, "members": 4, "recovery": 0.75}
    assert out["friends"]["recovery"] == 0.5 and out["workplace"]["recovery"] == 1.0
    assert out["all"]["recovery"] == pytest.approx((0.75 + 0.5 + 1.0) / 3)
    # the class follows the planted size, not the compared members: 2 of a 12-member group are friends
    out = recovery_by_class([0, 0], ["g", "g"], {"g": 12})
    assert list(out) == ["friends", "all"]
    assert size_class(np.array([1, 3, 8, 9, 30, 31, 400, 900])).tolist() == [
        "family", "family", "family", "friends", "friends", "workplace", "workplace", "workplace"]


def test_size_classes_come_from_the_generator_record(tmp_path):
    assert read_size_classes(None) == SIZE_CLASSES
    (tmp_path / "operator.json").write_text(json.dumps({"planted": {"community_sizes": {"family": [2, 5], "club": [6, 50]}}}))
    assert read_size_classes(tmp_path / "truth.csv") == {"family": (2, 5), "club": (6, 50)}
    assert read_size_classes(tmp_path / "elsewhere" / "truth.csv") == SIZE_CLASSES


def test_community_agreement_separates_persons_without_contacts():
    # c and d had no contact in the window: singletons in the run, a pair in the truth
    run = pd.DataFrame({"id": ["a", "b", "c", "d"], "community": [1, 1, 2, 3], "degree": [1, 1, 0, 0]})
    truth = pd.DataFrame({"id": ["a", "b", "c", "d"], "kind": ["person"] * 4, "community": [5, 5, 6, 6]})
    out = community_agreement(run, truth)
    assert out["nmi"] < 1.0
    assert out["nmi_with_contacts"] == 1.0 and out["compared_with_contacts"] == 2


# --- a run directory ---------------------------------------------------------------------------------
AS_OF = "2026-03-01"


def _run_table(n: int = 200, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A run subscribers table and its truth: churn risk that ranks future churners high."""
    rng = np.random.default_rng(seed)
    ids = [f"{i:016x}" for i in range(n)]
    planted = np.arange(n) // 10
    churn = pd.Series([pd.NaT] * n, dtype="datetime64[ns]")
    future = rng.random(n) < 0.15
    churn[future] = pd.Timestamp("2026-03-10")
    churn[:5] = pd.Timestamp("2026-02-20")  # churned before as_of: not scored
    churn[5] = pd.Timestamp("2026-04-15")  # after the horizon: a negative
    churn[6] = pd.Timestamp(AS_OF)  # on as_of itself: not known at as_of, the first day of the label window
    churn[7] = pd.Timestamp("2026-03-31")  # as_of + 30 days: just outside the window
    churned = np.zeros(n, bool)
    churned[:5] = True
    risk = np.where(future, 0.6, 0.2) + rng.random(n) * 0.5
    run = pd.DataFrame({
        "vid": np.arange(n), "id": ids, "on_net": True, "community": planted + 100,
        "churned": churned,
        "churn_risk": np.where(churned, np.nan, risk),
        "churn_risk_baseline": np.where(churned, np.nan, rng.random(n)),
        "spreading_activation": np.where(churned, np.nan, np.where(future & (rng.random(n) < 0.3), 1.0, 0.0)),
        "contagion_score": np.where(churned, np.nan, rng.random(n)),
    })
    truth = pd.DataFrame({"id": ids, "on_net": True, "kind": "person", "community": planted, "role": "member",
                          "churn_date": churn})
    return run, truth


def _write_run(root, run: pd.DataFrame, influence: dict | None = None) -> Workspace:
    ws = Workspace(root).create()
    run_dir = ws.runs_dir / "20260301T000000"
    run_dir.mkdir(parents=True)
    full = run.copy()
    for f in schema.RUN_SUBSCRIBERS:
        if f.name not in full:
            full[f.name] = None
    full = full[schema.column_names(schema.RUN_SUBSCRIBERS)]
    pq.write_table(pa.Table.from_pandas(full, schema=schema.RUN_SUBSCRIBERS, preserve_index=False),
                   run_dir / "subscribers.parquet")
    metrics = {"churn": {"horizon_days": 30}}
    if influence is not None:
        metrics["influence"] = influence
    write_json(run_dir / "manifest.json", {"run_id": run_dir.name, "as_of": AS_OF,
                                           "parameters": {"horizon_days": 30}, "metrics": metrics})
    return ws


def test_evaluate_run_by_hand():
    run, truth = _run_table()
    out = evaluate_run(run, truth, as_of=AS_OF, horizon_days=30)
    keep = ~run["churned"].to_numpy()
    d = truth["churn_date"].to_numpy()
    y = (d >= np.datetime64("2026-03-01")) & (d < np.datetime64("2026-03-31"))
    assert y[6] and not y[7]
    churn = out["churn"]
    assert churn["population"] == keep.sum() and churn["churners"] == int(y[keep].sum())
    assert churn["label_window"] == "[2026-03-01, 2026-03-31)"
    assert churn["methods"]["network_model"]["auc"] == pytest.approx(auc(y[keep], run["churn_risk"][keep]))
    assert churn["methods"]["spreading_activation"]["lift_5"] == pytest.approx(
        lift_at(y[keep], run["spreading_activation"][keep], 0.05))
    r = churn["ratios"]["lift_10_network_over_baseline"]
    assert r == pytest.approx(churn["methods"]["network_model"]["lift_10"] / churn["methods"]["baseline"]["lift_10"])
    assert out["communities"]["nmi"] == 1.0 and out["influence"] is None
    json.dumps(out)  # plain types only


def test_cli_evaluate_records_into_manifest(tmp_path):
    run, truth = _run_table()
    influence = {"k": 10, "expected_spread": 42.0, "pagerank_spread": 30.0, "spread_ratio_vs_pagerank": 1.4}
    ws = _write_run(tmp_path / "ws", run, influence)
    truth_path = tmp_path / "truth.csv"
    truth.assign(churn_date=truth["churn_date"].dt.strftime("%Y-%m-%d")).to_csv(truth_path, index=False)
    res = CliRunner().invoke(app, ["evaluate", "--truth", str(truth_path), "--workspace", str(ws.root), "--json"])
    assert res.exit_code == 0, res.output
    printed = json.loads(res.output)
    manifest = read_json(ws.run_dir() / "manifest.json")
    recorded = manifest["metrics"]["evaluation"]
    assert printed == recorded
    assert manifest["metrics"]["churn"] == {"horizon_days": 30}  # the rest of the manifest is kept
    lib = evaluate_run_dir(ws.run_dir(), read_truth(truth_path), record=False)
    assert lib["churn"] == printed["churn"] and lib["communities"] == printed["communities"]
    assert printed["influence"]["seeds_expected_spread"] == 42.0 and printed["influence"]["ratio_vs_pagerank"] == 1.4
    table = CliRunner().invoke(app, ["evaluate", "--truth", str(truth_path), "--workspace", str(ws.root)])
    assert table.exit_code == 0, table.output
    assert "community NMI" in table.output and "lift_10_network_over_baseline" in table.output


def test_cli_evaluate_errors(tmp_path):
    run, truth = _run_table()
    ws = _write_run(tmp_path / "ws", run)
    res = CliRunner().invoke(app, ["evaluate", "--truth", str(tmp_path / "nope.csv"), "--workspace", str(ws.root)])
    assert res.exit_code != 0 and "does not exist" in str(res.exception)
    bad = tmp_path / "bad.csv"
    truth.drop(columns=["community"]).to_csv(bad, index=False)
    res = CliRunner().invoke(app, ["evaluate", "--truth", str(bad), "--workspace", str(ws.root)])
    assert "missing column(s) community" in str(res.exception)


@pytest.mark.parametrize("pseudonymized", [True, False], ids=["pseudonyms", "e164"])
def test_cli_evaluate_matches_phone_numbers(tmp_path, monkeypatch, pseudonymized):
    """truth.csv holds phone numbers as the generator writes them; the run holds the workspace's ids."""
    from bellwether.loaders.msisdn import normalize_msisdn
    from bellwether.loaders.pseudonym import pseudonymize

    key = "evaluation-test-key-0123456789"
    monkeypatch.setenv("BELLWETHER_PSEUDONYM_KEY", key)
    monkeypatch.setenv("BELLWETHER_CONFIG", str(tmp_path / "none.toml"))
    run, truth = _run_table()
    msisdn = [str(13800000000 + i) for i in range(len(run))]
    written = [m if i % 3 else "+86" + m for i, m in enumerate(msisdn)]  # mixed formats
    run["id"] = pseudonymize(msisdn, key.encode()) if pseudonymized else [normalize_msisdn(m) for m in msisdn]
    ws = _write_run(tmp_path / "ws", run)
    write_json(ws.manifest_path, {"pseudonymized": pseudonymized})
    truth_path = tmp_path / "truth.csv"
    t = truth.drop(columns=["id"]).assign(msisdn=written, churn_date=truth["churn_date"].dt.strftime("%Y-%m-%d"))
    t[["msisdn", "on_net", "kind", "community", "role", "churn_date"]].to_csv(truth_path, index=False)
    res = CliRunner().invoke(app, ["evaluate", "--truth", str(truth_path), "--workspace", str(ws.root), "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    expected = evaluate_run(run, truth.assign(id=run["id"]), as_of=AS_OF, horizon_days=30)
    assert out["churn"] == expected["churn"] and out["communities"]["compared"] == len(run)


@pytest.mark.slow
def test_evaluate_generated_operator_end_to_end(tmp_path, monkeypatch):
    """generate -> build -> analyze -> evaluate on a small synthetic operator with planted truth."""
    monkeypatch.setenv("BELLWETHER_PSEUDONYM_KEY", "evaluation-test-key-0123456789")
    monkeypatch.setenv("BELLWETHER_CONFIG", str(tmp_path / "none.toml"))
    gen, ws = tmp_path / "gen", tmp_path / "ws"
    runner = CliRunner()
    for args in (["generate", str(gen), "--subscribers", "3000", "-q"],
                 ["build", str(gen / "cdr"), "--subscribers", str(gen / "subscribers.csv"), "--workspace", str(ws),
                  "--as-of", "2026-03-01", "-q"],
                 ["analyze", "--workspace", str(ws), "-q"]):
        res = runner.invoke(app, args)
        assert res.exit_code == 0, (args[0], res.output, res.exception)
    res = runner.invoke(app, ["evaluate", "--truth", str(gen / "truth.csv"), "--workspace", str(ws), "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert out["communities"]["compared"] > 3000 and out["communities"]["nmi"] > 0.5
    # chance-corrected scores beside NMI, and recovery per planted group type (from operator.json)
    assert 0.2 < out["communities"]["ami"] < out["communities"]["nmi"] and 0 < out["communities"]["ari"] <= 1
    rec = out["communities"]["recovery_by_class"]
    assert {"family", "friends", "workplace", "all"} <= set(rec)
    assert rec["family"]["recovery"] > 0.8 and rec["family"]["groups"] > rec["workplace"]["groups"]
    churn = out["churn"]
    assert churn["population"] > 2500 and churn["churners"] > 20
    assert churn["methods"]["network_model"]["auc"] > 0.55  # the planted baseline hazard is learnt
    assert read_json(Workspace(ws).run_dir() / "manifest.json")["metrics"]["evaluation"] == out


def test_report_and_evaluate_share_one_label_window():
    """The run tables' ``churned_after`` (the report's gains) and ``evaluate`` count the same churners."""
    from bellwether.algorithms.churn import timeline
    from bellwether.algorithms.segments.run_tables import churned_after

    days = ["2026-02-28", "2026-03-01", "2026-03-30", "2026-03-31", None]
    subs = pd.DataFrame({"churn_date": pd.to_datetime(days), "churned": [True, False, False, False, False],
                         "on_net": True})
    report = churned_after(subs, pd.Timestamp(AS_OF), 30)
    judged = timeline.evaluation_labels(timeline.churn_dates(subs), AS_OF, 30)
    assert report.isna().tolist() == [True, False, False, False, False]
    assert report[1:].tolist() == judged[1:].tolist() == [True, True, False, False]

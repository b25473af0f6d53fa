"""Target lists: suppression before scoring and at export, churned never targeted, priority de-dup,
top-N and budget caps, retention by expected value saved (and by exposure without a churn model),
viral spread accounted on the kept seeds, community offers one row per member, rounding, reason
codes in plain words, small-group suppression, sidecars and export formats."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from bellwether.algorithms.segments import load_run
from bellwether.algorithms.targets import (
    COLUMN_NOTES, PRIORITY, TargetError, TargetOptions, build_lists, churned_mask, community_offers, fit_offers,
    limit_rows, parse_segment_filter, retention_list, retention_scores, round_columns, write_lists,
)
from bellwether.algorithms.targets.reasons import churned_contacts_text, leads_community_text, percent_text
from bellwether.cli.app import app
from bellwether.graph.exports import FORMATS, content_version, export_table, read_sidecar, read_table
from support.marketing_run import make_marketing_run


@pytest.fixture(scope="module")
def mrun(tmp_path_factory):
    return make_marketing_run(tmp_path_factory.mktemp("targets") / "ws")


@pytest.fixture()
def run(mrun):
    return load_run(mrun.workspace)


@pytest.fixture(scope="module")
def lists(mrun):
    return build_lists(load_run(mrun.workspace), options=TargetOptions(top=20))


PYTHON_WORDS = re.compile(r"\b(?:nan|NaN|None|True|False|inf)\b")


def _all_ids(built) -> list[str]:
    return [i for tl in built.values() for i in tl.rows["id"]]


def _without_churn_model(run):
    """The run as if its churn model could not be fitted (churn_risk and the baseline all missing)."""
    subs = run.subscribers.copy()
    subs[["churn_risk", "churn_risk_baseline"]] = np.nan
    run.subscribers = subs
    run.__dict__.pop("customers", None)
    return run


def test_do_not_contact_is_removed_before_scoring(mrun, run, lists):
    dnc = set(mrun.do_not_contact)
    assert not dnc & set(_all_ids(lists))
    assert lists["retention"].suppressed["do_not_contact"] == 2  # two on-net customers on the list
    assert lists["acquisition"].suppressed["do_not_contact"] == 1  # one off-net number
    # without the do-not-contact list, vertex 8 (the highest churn risk) is on the retention list
    run.__dict__["do_not_contact"] = np.empty(0, dtype=object)
    free = build_lists(run, lists=["retention"], options=TargetOptions(top=None))["retention"].rows
    assert free.loc[free["churn_risk"].idxmax(), "id"] == mrun.do_not_contact[0]
    assert "do_not_contact" not in build_lists(run, lists=["retention"])["retention"].suppressed


def test_do_not_contact_is_checked_again_at_export(mrun, run, tmp_path):
    built = build_lists(run, lists=["retention"], options=TargetOptions(top=5))
    tl = built["retention"]
    leaked = pd.concat([tl.rows.iloc[:1].assign(id=mrun.do_not_contact[0]), tl.rows], ignore_index=True)
    tl.rows = leaked  # a list edited after scoring
    e = write_lists(run, built, "csv", tmp_path)["retention"]
    back = read_table(e.path)
    assert mrun.do_not_contact[0] not in set(back["id"])
    assert back["rank"].tolist() == list(range(1, len(back) + 1))
    assert e.manifest["suppressed"]["do_not_contact_at_export"] == 1
    assert e.manifest["rows"] == 5


def test_churned_are_never_targeted(mrun, run, lists):
    subs = mrun.subscribers
    churned_ids = set(subs.loc[subs["churned"], "id"])
    assert len(churned_ids) == 10
    assert not churned_ids & set(_all_ids(lists))
    assert lists["retention"].suppressed["churned"] == 10
    # CRM says churned before as_of although the run flag missed it: still never targeted
    t = pd.DataFrame({"churned": [False, False, False, True],
                      "status": ["churned", "churned", "active", "active"],
                      "churn_date": pd.to_datetime(["2024-02-01", "2024-04-01", None, None]).date})
    assert churned_mask(t, "2024-03-01").tolist() == [True, False, False, True]


def test_lists_are_deduplicated_with_priority(run, lists):
    assert list(lists) == list(PRIORITY)
    ids = _all_ids(lists)
    assert len(ids) == len(set(ids))
    lists = build_lists(run, options=TargetOptions(top=80))
    ids = _all_ids(lists)
    assert len(ids) == len(set(ids))
    retention = set(lists["retention"].rows["id"])
    alone = build_lists(run, lists=["viral"], options=TargetOptions(top=None))["viral"]
    overlap = set(alone.rows["id"]) & retention
    assert overlap, "fixture: some seeds are also retention targets"
    assert lists["viral"].suppressed["in_retention_list"] >= len(overlap)
    assert not overlap & set(lists["viral"].rows["id"])
    assert lists["viral"].info["deduplicated_against"] == ["retention"]
    assert lists["acquisition"].info["priority"] == list(PRIORITY)


def test_top_n_and_budget(run):
    top = build_lists(run, options=TargetOptions(top=3))
    assert all(len(tl.rows) <= 3 for tl in top.values())
    assert len(top["retention"].rows) == 3 and top["retention"].rows["rank"].tolist() == [1, 2, 3]
    b = build_lists(run, options=TargetOptions(top=None, budget=10.0, cost_per_contact=2.0))
    assert len(b["retention"].rows) == 5
    assert len(b["community"].rows) == 0  # one community offer reaches more than 5 members
    assert b["community"].info["offers_over_budget"] == 1 and "kept whole" in b["community"].info["notice"]
    rows = pd.DataFrame({"rank": [1, 2, 3], "members": [12, 10, 30]})
    assert limit_rows(rows, budget=100, cost_per_contact=4, contacts_column="members")["rank"].tolist() == [1, 2]
    with pytest.raises(TargetError, match="together"):
        limit_rows(rows, budget=10)
    with pytest.raises(TargetError, match="response-rate"):
        build_lists(run, options=TargetOptions(response_rate=1.5))
    # a cost without a budget: retention leaves out whoever is expected to save less than a contact costs
    cut = build_lists(run, lists=["retention"], options=TargetOptions(top=None, cost_per_contact=30.0))["retention"]
    assert (cut.rows["expected_value_saved"] >= 30.0).all() and cut.suppressed["below_cost"] > 0


def test_retention_score_formula_by_hand():
    # path 0 - 1 - 2 - 3; vertex 3 churned; ARPU 10 / 100 / unknown; risks 0.5 / 0.1 / 0.4
    table = pd.DataFrame({"vid": [0, 1, 2, 3], "on_net": True, "churned": [False, False, False, True],
                          "churn_risk": [0.5, 0.1, 0.4, np.nan], "arpu": [10.0, 100.0, np.nan, 50.0]})
    contacts = pd.DataFrame({"a_vid": [0, 1, 2], "b_vid": [1, 2, 3], "weight": [1.0, 2.0, 3.0]})
    s = retention_scores(table, contacts, response_rate=0.25, value_months=12)
    # unknown ARPU: valued at the median of the active customers' ARPU (10, 100 -> 55)
    assert s["monthly_value"].tolist()[:3] == pytest.approx([10.0, 100.0, 55.0])
    assert np.isnan(s.loc[2, "arpu"])
    # expected value saved = risk x monthly value x months x response rate
    assert s["expected_value_saved"].tolist()[:3] == pytest.approx([0.5 * 10 * 12 * 0.25, 0.1 * 100 * 12 * 0.25,
                                                                    0.4 * 55 * 12 * 0.25])
    # exposure: tie strength shared with contacts who churned before as_of (only vertex 2 touches vertex 3)
    assert s["exposure"].tolist() == pytest.approx([0.0, 0.0, 3.0, 0.0]) and s["churned_ties"].tolist() == [0, 0, 1, 0]
    # value is weighed against risk: the likelier churner paying little ranks below the richer one
    rows, how = retention_list(table, contacts, np.array([True, True, True, False]), response_rate=0.25)
    assert how["ranking"] == "expected_value_saved" and rows["vid"].tolist() == [2, 1, 0]
    assert rows["score"].tolist() == pytest.approx(rows["expected_value_saved"].tolist())
    # a cost per contact leaves out whoever is expected to save less than it
    rows, how = retention_list(table, contacts, np.array([True, True, True, False]), cost_per_contact=20.0)
    assert rows["vid"].tolist() == [2, 1] and how["held_back"] == {"below_cost": 1}
    with pytest.raises(ValueError, match="response_rate"):
        retention_scores(table, contacts, response_rate=0)


def test_retention_without_a_churn_model_ranks_by_exposure(run):
    tl = build_lists(_without_churn_model(run), lists=["retention"], options=TargetOptions(top=None))["retention"]
    rows = tl.rows
    assert tl.info["ranking"] == "exposure" and "no churn model score" in tl.info["notice"]
    assert "ranked by network exposure" in tl.info["notice"] and "empty_because" not in tl.info
    assert len(rows) > 0 and (rows["exposure"] > 0).all()  # never "everyone at 0"
    assert rows["score"].tolist() == rows["exposure"].tolist()
    assert (np.diff(rows["score"].to_numpy()) <= 0).all()
    assert rows["expected_value_saved"].isna().all() and rows["churn_risk"].isna().all()
    assert rows["reasons"].str.startswith("tied to ").all()
    assert not rows["reasons"].str.contains(PYTHON_WORDS).any()
    # exposure is the tie strength to contacts who churned before as_of, from the contact graph
    subs = run.subscribers
    churned = set(subs.loc[churned_mask(subs, run.as_of), "vid"])
    c = run.contacts
    top = int(subs.set_index("id").loc[rows["id"].iloc[0], "vid"])
    by_hand = c.loc[(c["a_vid"].eq(top) & c["b_vid"].isin(churned)) | (c["b_vid"].eq(top) & c["a_vid"].isin(churned)),
                    "weight"].sum()
    assert rows["exposure"].iloc[0] == pytest.approx(by_hand, rel=1e-3)


def test_retention_without_any_churn_is_empty_and_says_why(run):
    run = _without_churn_model(run)
    subs = run.subscribers.copy()
    subs["churned"] = False
    subs["status"] = np.where(subs["on_net"], "active", None)
    subs["churn_date"] = None
    run.subscribers = subs
    tl = build_lists(run, lists=["retention"])["retention"]
    assert len(tl.rows) == 0 and tl.info["empty_because"].startswith("no churn signal: nobody churned before as_of")
    assert list(tl.rows.columns)[:7] == ["list", "rank", "id", "score", "segment", "community", "reasons"]


def test_reason_codes_in_plain_words(mrun, run, lists):
    assert churned_contacts_text(3, 30) == "3 close contacts churned in the last 30 days"
    assert churned_contacts_text(1, 30) == "1 close contact churned in the last 30 days"
    assert leads_community_text(17, 42) == "leads community 17 of 42 people"
    assert [percent_text(p) for p in (0.42, 0.041, 0.0004, 0.0)] == ["42%", "4.1%", "under 0.1%", "0%"]
    big = build_lists(run, options=TargetOptions(top=None))
    r = big["retention"].rows.set_index("id")
    follower = r.loc[r["community"].eq(0) & r["role"].eq("follower")].iloc[0]
    assert "close contact" in follower["reasons"] and "churned in the last 30 days" in follower["reasons"]
    assert "community 0 is losing members" in follower["reasons"]
    bell = r.loc[r["role"].eq("bellwether")].iloc[0]
    size = int(mrun.communities.set_index("community").loc[bell["community"], "size"])
    assert f"leads community {bell['community']} of {size} people" in bell["reasons"]
    # what drove the rank comes first: risk or value, whichever stands out more
    for _, row in lists["retention"].rows.iterrows():
        first = row["reasons"].split("; ")[0]
        assert first.startswith("churn risk ") or first.startswith("ARPU "), row["reasons"]
    assert lists["retention"].rows["reasons"].str.contains("within 90 days").all()  # the churn model's horizon
    assert not lists["retention"].rows["reasons"].str.startswith("low value").any()
    v = lists["viral"].rows
    assert v["reasons"].iloc[0].startswith("reaches about ")
    assert v["reasons"].str.contains("influence seed ").all()
    assert all(lists["acquisition"].rows["reasons"].str.contains("of our bellwethers"))
    big["community"] = build_lists(run, lists=["community"], options=TargetOptions(top=None))["community"]
    c = big["community"].rows.iloc[0]
    assert c["reasons"].startswith(f"{c['recent_churners']} members of community {c['community']} ({c['size']} people) "
                                   "churned in the last 30 days")
    assert f"group offer 1 goes to {c['members']} members" in c["reasons"]
    for tl in big.values():
        for col in ("reasons", "segment"):
            assert not tl.rows[col].astype(str).str.contains(PYTHON_WORDS).any(), (tl.name, col)


def test_community_offers_are_one_row_per_member_with_their_role(run):
    tl = build_lists(run, lists=["community"], options=TargetOptions(top=None))["community"]
    rows = tl.rows
    assert len(rows) > 1 and rows["id"].is_unique and rows["rank"].tolist() == list(range(1, len(rows) + 1))
    for (offer, com), g in rows.groupby(["offer", "community"]):
        assert len(g) == g["members"].iloc[0]  # every member who receives the offer has a row
        assert g["role"].iloc[0] == "bellwether" or "bellwether" not in set(g["role"])
        assert (g["score"] == g["score"].iloc[0]).all()
    assert set(rows["role"]) <= {"bellwether", "follower", "bridge", "member", "isolate"}
    subs = run.subscribers.set_index("id")
    assert (subs.loc[rows["id"], "community"].to_numpy() == rows["community"].to_numpy()).all()
    assert rows["segment"].str.contains(" value; ").all()  # the person's segment, not the group's
    # a cap in people keeps whole offers only
    n = int(rows["members"].iloc[0])
    assert len(build_lists(run, lists=["community"], options=TargetOptions(top=n + 3))["community"].rows) == n
    offers = pd.DataFrame({"rank": [1, 2, 3], "members": [12, 30, 10]})
    kept, passed = fit_offers(offers, top=25)
    assert kept["rank"].tolist() == [1, 3] and passed == 1
    kept, passed = fit_offers(offers, budget=100, cost_per_contact=4)
    assert kept["rank"].tolist() == [1, 3] and passed == 1


def test_viral_spread_is_accounted_on_the_kept_seeds(mrun, run, lists):
    v = lists["viral"].rows
    dnc_seed = mrun.do_not_contact[1]
    assert dnc_seed in set(mrun.seeds["id"]) and dnc_seed not in set(v["id"])
    gains = v["marginal_gain"].to_numpy()
    np.testing.assert_allclose(v["cumulative_spread"].to_numpy(), np.cumsum(gains), rtol=2e-3)
    assert (gains > 0).all()
    mc = lists["viral"].info["expected_spread"]
    assert abs(v["cumulative_spread"].iloc[-1] - mc["mean"]) <= 0.05 * mc["mean"]
    assert lists["viral"].info["rr_spread"] == pytest.approx(v["cumulative_spread"].iloc[-1], rel=1e-3)
    # the run's own figures counted the held-back seeds and no longer add up
    run_seeds = mrun.seeds.set_index("id")
    assert set(v["id"]) < set(run_seeds.index)
    assert v["cumulative_spread"].iloc[-1] < run_seeds["cumulative_spread"].iloc[-1]


def test_numbers_are_rounded_for_people(run, tmp_path):
    built = build_lists(run, options=TargetOptions(top=None))
    built["community"] = build_lists(run, lists=["community"], options=TargetOptions(top=None))["community"]
    assert len(built["community"].rows)
    exports = write_lists(run, built, "csv", tmp_path)
    for name, e in exports.items():
        text = e.path.read_text()
        assert not re.search(r"\d\.\d{6,}", text), name  # no 16-decimal floats
        rows = built[name].rows
        for col in rows.columns:
            if pd.api.types.is_float_dtype(rows[col].dtype):
                x = rows[col].dropna().to_numpy()
                digits = [len(f"{abs(v):.15g}".replace(".", "").lstrip("0").rstrip("0")) for v in x if v]
                assert max(digits, default=0) <= (6 if col in ("arpu", "monthly_value", "expected_value_saved",
                                                              "mean_arpu") or (name == "retention" and col == "score")
                                                  else 4), (name, col)
        side = e.manifest
        assert set(side["column_notes"]) == set(side["columns"]) and set(side["columns"]) <= set(COLUMN_NOTES)
    money = built["retention"].rows["expected_value_saved"].to_numpy()
    assert np.allclose(money, np.round(money, 2))
    assert round_columns(pd.DataFrame({"churn_risk": [0.123456, 1234.5678, np.nan]}))["churn_risk"].tolist()[:2] == \
        [0.1235, 1235.0]
    r = exports["retention"].manifest
    assert r["assumptions"]["response_rate"] == 0.2 and r["assumptions"]["value_months"] == 12.0
    assert r["assumptions"]["churn_horizon_days"] == 90 and "expected value saved" in r["score"]


def test_community_offers_hold_back_small_groups():
    # two tight communities with contagion; community 1 has only 8 people who may receive the offer
    n = 12 + 8 + 80
    com = np.array([0] * 12 + [1] * 8 + [2] * 80)
    table = pd.DataFrame({"vid": np.arange(n), "community": com, "bellwether_score": np.linspace(1, 0, n)})
    communities = pd.DataFrame({"community": [0, 1, 2], "size": [16, 12, 80], "recent_churners": [4, 4, 0],
                                "internal_weight_share": [0.9, 0.9, 0.9], "churn_rate": [0.25, 0.3, 0.0],
                                "mean_arpu": [50.0, 40.0, 30.0]})
    rows, suppressed = community_offers(table, communities, np.ones(n, bool))
    assert rows["community"].tolist() == [0]
    assert rows.loc[0, "members"] == 12 and rows.loc[0, "vid"] == 0
    assert suppressed == {"group_smaller_than_min_size": 1}


def test_acquisition_lists_off_net_pseudonyms_only(mrun, lists):
    a = lists["acquisition"].rows
    off = set(mrun.subscribers.loc[~mrun.subscribers["on_net"], "id"])
    assert len(a) > 0 and set(a["id"]) <= off
    assert a["id"].str.fullmatch(r"[0-9a-f]{16}").all()
    assert (a["bellwether_ties"] >= 1).all()


def test_segment_filter_restricts_and_reselects_seeds(mrun, run):
    built = build_lists(run, lists=["retention", "viral"], options=TargetOptions(top=5),
                        segment_filter={"value_tier": "high"})
    from bellwether.algorithms.segments import segment_run

    high = set(built["retention"].rows["id"]) | set(built["viral"].rows["id"])
    table = segment_run(run).table
    tier_of = dict(zip(table["id"], table["value_tier"]))
    assert high and all(tier_of[i] == "high" for i in high)
    assert built["viral"].info["method"] == "select_seeds"
    assert built["viral"].info["segment_filter"] == {"value_tier": "high"}
    with pytest.raises(TargetError, match="unknown column"):
        parse_segment_filter(["arpu=3"])


def test_sidecar_counts_and_version(run, tmp_path):
    built = build_lists(run, options=TargetOptions(top=4))
    exports = write_lists(run, built, "csv", tmp_path)
    for name, e in exports.items():
        side = read_sidecar(e.path)
        back = read_table(e.path)
        assert side["rows"] == len(back) == len(built[name].rows)
        assert side["suppressed"] == built[name].suppressed
        assert side["suppressed_total"] == sum(built[name].suppressed.values())
        assert side["list_version"] == content_version(back)
        assert side["list"] == name and side["priority"] == list(PRIORITY)
    assert "expected_spread" in exports["viral"].manifest and exports["viral"].manifest["expected_spread"]["mean"] > 0


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_formats_round_trip(run, tmp_path, fmt):
    built = build_lists(run, lists=["retention", "acquisition"], options=TargetOptions(top=20))
    exports = write_lists(run, built, fmt, tmp_path / fmt)
    for name, e in exports.items():
        back = read_table(e.path)
        ref = built[name].rows
        assert list(back.columns) == list(ref.columns)
        assert back["id"].tolist() == ref["id"].tolist()
        assert back["rank"].tolist() == ref["rank"].tolist()
        assert back["reasons"].tolist() == ref["reasons"].tolist()
        np.testing.assert_allclose(back["score"].to_numpy(float), ref["score"].to_numpy(float), rtol=1e-12)
        assert content_version(back) == content_version(ref) == e.list_version


def test_same_rows_in_every_format(tmp_path):
    df = pd.DataFrame({"id": ["0000000000000012", "00ab"], "rank": [1, 2], "score": [0.5, np.nan],
                       "community": pd.array([3, None], dtype="Int64"), "reasons": ["a; b", 'c, "d"']})
    versions, frames = set(), []
    for fmt in FORMATS:
        e = export_table(df, tmp_path, f"t_{fmt}", fmt)
        frames.append(read_table(e.path))
        versions.add(e.list_version)
    assert len(versions) == 1
    for f in frames[1:]:
        pd.testing.assert_frame_equal(f, frames[0])
    assert frames[0]["id"].tolist() == ["0000000000000012", "00ab"]  # pseudonyms stay text


def test_cli_targets_json_matches_sidecars(mrun, tmp_path):
    res = CliRunner().invoke(app, ["targets", "--workspace", str(mrun.workspace.root), "--top", "5", "--format",
                                   "jsonl", "--out", str(tmp_path), "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert list(out) == list(PRIORITY)
    for name, m in out.items():
        assert (tmp_path / f"{name}.jsonl").exists()
        side = read_sidecar(tmp_path / f"{name}.jsonl")
        assert side["list_version"] == m["list_version"] and side["rows"] == m["rows"] <= 5
    bad = CliRunner().invoke(app, ["targets", "--workspace", str(mrun.workspace.root), "--budget", "10"])
    assert bad.exit_code != 0


def test_churn_risk_falls_back_to_the_baseline_model():
    from bellwether.algorithms.targets.retention import pick_churn_risk

    t = pd.DataFrame({"churn_risk": [np.nan, np.nan], "churn_risk_baseline": [0.2, np.nan], "contagion_score": [0.0, 0.1]})
    risk, source = pick_churn_risk(t)
    assert source == "churn_risk_baseline" and risk.tolist() == [0.2, 0.0]
    assert pick_churn_risk(t.assign(churn_risk_baseline=np.nan))[1] == "none"  # no model: exposure ranking instead


def test_export_reads_the_do_not_contact_list_again(mrun, tmp_path):
    """An entry added after the run's tables were read (and the lists scored) is still held back at export."""
    import shutil

    from bellwether.graph.core.workspace import Workspace
    from bellwether.loaders.do_not_contact import DoNotContactUnavailable, read_stored, write_do_not_contact

    ws = Workspace(tmp_path / "ws")
    shutil.copytree(mrun.workspace.root, ws.root, symlinks=True)
    run = load_run(ws)
    built = build_lists(run, lists=["retention"], options=TargetOptions(top=5))
    late = built["retention"].rows["id"].iloc[1]
    write_do_not_contact(read_stored(ws.do_not_contact_path) | {late}, ws.do_not_contact_path)
    e = write_lists(run, built, "csv", tmp_path / "out")["retention"]
    assert late not in set(read_table(e.path)["id"]) and e.manifest["rows"] == 4
    assert e.manifest["suppressed"]["do_not_contact_at_export"] == 1
    ws.do_not_contact_path.write_bytes(b"not parquet")  # fail-closed: nothing is written without a readable list
    with pytest.raises(DoNotContactUnavailable, match="cannot be read"):
        write_lists(run, built, "csv", tmp_path / "again")
    assert not (tmp_path / "again").exists()

"""Target lists: suppression before scoring and at export, churned never targeted, priority de-dup,
top-N and budget caps, reason codes, small-group suppression, sidecars and export formats."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from algorithms.segments import load_run
from algorithms.targets import (
    PRIORITY, TargetError, TargetOptions, build_lists, churned_mask, community_offers, limit_rows, parse_segment_filter,
    retention_scores, write_lists,
)
from algorithms.targets.reasons import churned_contacts_text, leads_community_text
from cli.app import app
from graph.exports import FORMATS, content_version, export_table, read_sidecar, read_table
from marketing_run import make_marketing_run


@pytest.fixture(scope="module")
def mrun(tmp_path_factory):
    return make_marketing_run(tmp_path_factory.mktemp("targets") / "ws")


@pytest.fixture()
def run(mrun):
    return load_run(mrun.workspace)


@pytest.fixture(scope="module")
def lists(mrun):
    return build_lists(load_run(mrun.workspace), options=TargetOptions(top=20))


def _all_ids(built) -> list[str]:
    return [i for tl in built.values() for i in tl.rows["id"]]


def test_do_not_contact_is_removed_before_scoring(mrun, run, lists):
    dnc = set(mrun.do_not_contact)
    assert not dnc & set(_all_ids(lists))
    assert lists["retention"].suppressed["do_not_contact"] == 2  # two on-net customers on the list
    assert lists["acquisition"].suppressed["do_not_contact"] == 1  # one off-net number
    # without the do-not-contact list, vertex 8 (the highest churn risk) is first on the retention list
    run.__dict__["do_not_contact"] = np.empty(0, dtype=object)
    free = build_lists(run, lists=["retention"], options=TargetOptions(top=None))
    assert mrun.do_not_contact[0] in set(free["retention"].rows["id"].head(5))
    assert "do_not_contact" not in free["retention"].suppressed


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
    rows = pd.DataFrame({"rank": [1, 2, 3], "members": [12, 10, 30]})
    assert limit_rows(rows, budget=100, cost_per_contact=4, contacts_column="members")["rank"].tolist() == [1, 2]
    with pytest.raises(TargetError, match="together"):
        limit_rows(rows, budget=10)


def test_retention_score_formula_by_hand():
    # path 0 - 1 - 2, equal ARPU, risks 0.5 / 0.2 / 0
    table = pd.DataFrame({"on_net": True, "churned": False, "churn_risk": [0.5, 0.2, 0.0], "arpu": [10.0, 10, 10]})
    contacts = pd.DataFrame({"a_vid": [0, 1], "b_vid": [1, 2], "weight": [1.0, 1.0]})
    s = retention_scores(table, contacts, beta=0.5)
    # F_0 = w01/s_1 = 1/2 ; F_1 = w10/s_0 + w12/s_2 = 1 + 1
    assert s["follower_value"].tolist() == pytest.approx([0.5, 2.0, 0.5])
    assert s["score"].tolist() == pytest.approx([0.5 * (1 + 0.25), 0.2 * (1 + 1.0), 0.0])


def test_reason_codes_in_plain_words(mrun, lists):
    assert churned_contacts_text(3, 30) == "3 close contacts churned in the last 30 days"
    assert churned_contacts_text(1, 30) == "1 close contact churned in the last 30 days"
    assert leads_community_text(17, 42) == "leads community 17 of 42 people"
    r = lists["retention"].rows.set_index("id")
    follower = r.loc[r["community"].eq(0) & r["role"].eq("follower")].iloc[0]
    assert "close contact" in follower["reasons"] and "churned in the last 30 days" in follower["reasons"]
    assert "community 0 is losing members" in follower["reasons"]
    bell = r.loc[r["role"].eq("bellwether")].iloc[0]
    size = int(mrun.communities.set_index("community").loc[bell["community"], "size"])
    assert f"leads community {bell['community']} of {size} people" in bell["reasons"]
    assert all(lists["viral"].rows["reasons"].str.startswith("influence seed "))
    assert all(lists["acquisition"].rows["reasons"].str.contains("of our bellwethers"))
    c = lists["community"].rows.iloc[0]
    assert c["reasons"].startswith(f"community {c['community']} of {c['size']} people")


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
    from algorithms.segments import segment_run

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


def test_churn_risk_falls_back_when_the_model_was_not_fitted():
    from algorithms.targets.retention import pick_churn_risk

    t = pd.DataFrame({"churn_risk": [np.nan, np.nan], "churn_risk_baseline": [0.2, np.nan], "contagion_score": [0.0, 0.1]})
    risk, source = pick_churn_risk(t)
    assert source == "churn_risk_baseline" and risk.tolist() == [0.2, 0.0]
    risk, source = pick_churn_risk(t.assign(churn_risk_baseline=np.nan))
    assert source == "contagion_score" and risk[1] > risk[0]
    assert pick_churn_risk(t.drop(columns=["churn_risk_baseline", "contagion_score"]))[1] == "none"


def test_export_reads_the_do_not_contact_list_again(mrun, tmp_path):
    """An entry added after the run's tables were read (and the lists scored) is still held back at export."""
    import shutil

    from graph.workspace import Workspace
    from loaders.do_not_contact import DoNotContactUnavailable, read_stored, write_do_not_contact

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

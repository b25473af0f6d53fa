"""Segments: every subscriber once per dimension, quantile tiers, behaviour, usage mix, k-means labels, profiles."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from bellwether.algorithms.segments import (
    BEHAVIOUR_LABELS, SEGMENT_COLUMNS, USAGE_MIX_LABELS, SegmentOptions, at_risk_communities, behaviour,
    kmeans_clusters, load_run, segment_profiles, segment_run, usage_features, usage_mix, value_tiers, write_segments,
)
from bellwether.algorithms.segments.clusters import FEATURE_WORDS
from bellwether.cli.app import app
from bellwether.graph.exports import read_table
from support.marketing_run import SIZES, make_marketing_run


@pytest.fixture(scope="module")
def mrun(tmp_path_factory):
    return make_marketing_run(tmp_path_factory.mktemp("segments") / "ws")


@pytest.fixture(scope="module")
def seg(mrun):
    return segment_run(load_run(mrun.workspace))


def test_every_subscriber_exactly_once_in_every_dimension(mrun, seg):
    t = seg.table
    assert list(t.columns) == list(SEGMENT_COLUMNS)
    assert t["vid"].tolist() == list(range(len(mrun.subscribers)))
    assert t["id"].tolist() == mrun.subscribers["id"].tolist()
    for col in ("value_tier", "behaviour", "usage_mix", "cluster", "cluster_label", "role", "at_risk_community"):
        assert t[col].notna().all(), col
    assert set(t["value_tier"]) <= {"low", "mid", "high", "unknown", "off_net"}
    assert set(t["behaviour"]) <= set(BEHAVIOUR_LABELS)
    assert set(t["usage_mix"]) <= set(USAGE_MIX_LABELS)
    on = mrun.subscribers["on_net"].to_numpy()
    assert (t.loc[~on, "value_tier"] == "off_net").all()
    assert (t.loc[~on, "cluster"] == -1).all()
    assert (t.loc[on, "cluster"] >= 0).all()
    # churned before as_of -> "churned"; churn after as_of is never used
    churned = mrun.subscribers["churned"].to_numpy()
    assert (t.loc[churned, "behaviour"] == "churned").all()
    assert not (t.loc[~churned, "behaviour"] == "churned").any()
    assert t.loc[20, "behaviour"] == "silent"  # all its ties went quiet in 2023


def test_value_tiers_on_known_arpu():
    arpu = np.arange(1.0, 101.0)
    tiers = value_tiers(arpu)  # cut at the 50th (50.5) and 80th (80.2) percentiles
    assert (tiers[:50] == "low").all() and (tiers[50:80] == "mid").all() and (tiers[80:] == "high").all()
    q = value_tiers(arpu, quantiles=(0.25, 0.5, 0.75), labels=("D", "C", "B", "A"))
    assert pd.Series(q).value_counts().to_dict() == {"D": 25, "C": 25, "B": 25, "A": 25}
    on = np.ones(102, bool)
    on[-1] = False
    mixed = value_tiers(np.concatenate([arpu, [np.nan, 500.0]]), on)
    assert mixed[-2] == "unknown" and mixed[-1] == "off_net"
    assert (mixed[:100] == tiers).all()  # the off-net 500 does not move the cut points
    with pytest.raises(ValueError, match="labels"):
        value_tiers(arpu, quantiles=(0.5,), labels=("a", "b", "c"))
    with pytest.raises(ValueError, match="increasing"):
        value_tiers(arpu, quantiles=(0.8, 0.5))


def test_behaviour_precedence():
    last = np.array(["2024-02-25", "2024-02-25", "2023-12-01", "NaT", "2024-02-25"], dtype="datetime64[s]")
    got = behaviour(np.array([True, False, False, False, False]), np.array([40, 2, 40, 40, 40.0]), last, "2024-03-01",
                    silent_days=30, new_months=3)
    assert list(got) == ["churned", "new", "silent", "silent", "active"]


def test_usage_features_and_mix_on_a_tiny_graph():
    contacts = pd.DataFrame({"a_vid": [0, 0, 1], "b_vid": [1, 2, 2], "weight": [4.0, 1.0, 1.0],
                             "calls_ab": [5, 0, 0], "calls_ba": [5, 0, 1], "sms_ab": [0, 9, 0], "sms_ba": [0, 1, 1],
                             "seconds_ab": [100, 0, 0], "seconds_ba": [50, 0, 10]})
    f = usage_features(4, contacts, np.array([True, True, False, True]), strong_quantile=0.75)
    assert f["degree"].tolist() == [2, 2, 2, 0]
    assert f["voice_calls"].tolist() == [10, 11, 1, 0]
    assert f["sms"].tolist() == [10, 1, 11, 0]
    assert f["voice_seconds"].tolist() == [150, 160, 10, 0]
    assert f["strong_ties"].tolist() == [1, 1, 0, 0]  # only the 4.0 tie reaches the 75th percentile
    assert f.loc[0, "on_net_share"] == pytest.approx(4 / 5)  # vertex 2 is off-net
    assert np.isnan(f.loc[3, "on_net_share"])
    assert list(usage_mix(f["voice_share"].to_numpy())) == ["mixed", "voice-centric", "SMS-centric", "no activity"]


def test_kmeans_is_seeded_reproducible_and_described_in_plain_words():
    rng = np.random.default_rng(0)
    n = 300
    group = np.arange(n) < 150
    feats = pd.DataFrame({
        "arpu": np.where(group, rng.normal(90, 5, n), rng.normal(20, 5, n)),
        "voice_share": np.where(group, rng.uniform(0.85, 1, n), rng.uniform(0, 0.15, n)),
        "strong_ties": np.where(group, rng.integers(8, 12, n), rng.integers(0, 2, n)),
        "degree": rng.integers(5, 10, n),
    })
    c1, t1 = kmeans_clusters(feats, k=2, seed=3)
    c2, t2 = kmeans_clusters(feats, k=2, seed=3)
    assert np.array_equal(c1, c2) and t1["cluster_label"].tolist() == t2["cluster_label"].tolist()
    assert len(set(c1[group])) == 1 and len(set(c1[~group])) == 1 and c1[0] != c1[-1]
    rich = t1.set_index("cluster").loc[c1[0], "cluster_label"]
    poor = t1.set_index("cluster").loc[c1[-1], "cluster_label"]
    assert rich.startswith(("high ARPU", "voice-centric", "many strong ties"))
    assert "high ARPU" in rich and "voice-centric" in rich and "many strong ties" in rich
    assert "low ARPU" in poor and "SMS-centric" in poor
    vocabulary = {w for _, hi, lo in FEATURE_WORDS.values() for w in (hi, lo)} | {"typical usage"}
    for label in t1["cluster_label"]:
        assert set(label.split(", ")) <= vocabulary
        assert not re.search(r"\d", label)


def test_run_clusters_default_k5_reproducible(mrun, seg):
    again = segment_run(load_run(mrun.workspace))
    assert len(seg.clusters) == 5
    assert seg.table["cluster"].equals(again.table["cluster"])
    assert seg.table["cluster_label"].tolist() == again.table["cluster_label"].tolist()
    assert seg.clusters["cluster_label"].is_unique
    assert seg.clusters["size"].is_monotonic_decreasing


def test_at_risk_community_is_the_one_with_contagion(mrun, seg):
    risk = at_risk_communities(mrun.communities)
    assert risk[risk].index.tolist() == [0]  # six recent churners in community 0
    com0 = seg.table["community"].to_numpy() == 0
    assert seg.table.loc[com0, "at_risk_community"].all()
    assert not seg.table.loc[~com0, "at_risk_community"].any()


def test_profiles_hold_back_groups_under_ten(mrun, seg):
    p = seg.profiles
    assert (p["size"] >= 10).all()
    roles = p.loc[p["dimension"] == "role", "segment"].tolist()
    assert "bellwether" not in roles  # six bellwethers: too few to report
    assert seg.suppressed_profiles >= 1
    on = mrun.subscribers["on_net"].to_numpy()
    vt = p.loc[p["dimension"] == "value_tier"].set_index("segment")
    arpu = mrun.subscribers.loc[on, "arpu"]
    high = seg.table.loc[on, "value_tier"].to_numpy() == "high"
    assert vt.loc["high", "size"] == high.sum()
    assert vt.loc["high", "mean_arpu"] == pytest.approx(arpu[high].mean())
    churned = mrun.subscribers.loc[on, "churned"].to_numpy()
    assert vt.loc["high", "churn_rate"] == pytest.approx(churned[high].mean())
    toy = pd.DataFrame({"on_net": True, "churned": False, "churn_risk": 0.1, "arpu": 1.0, "on_net_share": 1.0,
                        "value_tier": ["a"] * 12 + ["b"] * 9})
    small, n_small = segment_profiles(toy, dimensions=["value_tier"])
    assert small["segment"].tolist() == ["a"] and n_small == 1


def test_write_segments_files(mrun, seg):
    run = load_run(mrun.workspace)
    paths = write_segments(run, seg)
    t = pq.read_table(paths["segments"]).to_pandas()
    assert list(t.columns) == list(SEGMENT_COLUMNS) and len(t) == len(mrun.subscribers)
    a, b = read_table(paths["profiles_csv"]), read_table(paths["profiles_parquet"])
    assert len(a) == len(b) == len(seg.profiles)
    assert a["segment"].tolist() == b["segment"].tolist()
    side = json.loads((run.run_dir / "segment_profiles.csv.manifest.json").read_text())
    assert side["suppressed"] == {"group_smaller_than_min_size": seg.suppressed_profiles}


def test_cli_segments_json_equals_library(mrun):
    res = CliRunner().invoke(app, ["segments", "--workspace", str(mrun.workspace.root), "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    lib = segment_run(load_run(mrun.workspace), SegmentOptions())
    assert [(r["dimension"], r["segment"], r["size"]) for r in out["profiles"]] == list(
        lib.profiles[["dimension", "segment", "size"]].itertuples(index=False, name=None))
    assert [c["cluster_label"] for c in out["clusters"]] == lib.clusters["cluster_label"].tolist()
    bad = CliRunner().invoke(app, ["segments", "--workspace", str(mrun.workspace.root), "--quantiles", "0.9,0.5"])
    assert bad.exit_code != 0 and "increasing" in bad.output


def test_sizes_of_fixture_match_the_plan(mrun):
    assert mrun.subscribers["on_net"].sum() == sum(SIZES)

"""The analysis pipeline end to end on a small generated workspace, and the CLI on top of it."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from bellwether.algorithms.analysis import (
    AnalysisError, AnalysisOptions, analyze, history_step, mask_after, run_summary,
)
from bellwether.algorithms.churn.options import NetworkOptions
from bellwether.cli.app import app
from bellwether.graph import schema
from bellwether.graph.contact_graph import ContactGraph
from bellwether.graph.core.workspace import Workspace, read_json

from support.graphs import AS_OF, save, small_graph


def read_tables(run):
    return (
        pd.read_parquet(run / "subscribers.parquet"),
        pd.read_parquet(run / "communities.parquet"),
        pd.read_parquet(run / "influence_seeds.parquet"),
    )


@pytest.fixture(scope="module")
def graph():
    return small_graph()


def test_analyze_writes_a_complete_run(tmp_path, graph):
    ws = Workspace(tmp_path / "ws").create()
    run = analyze(ws, graph=graph, progress=False, skip=("churn",))
    assert pq.read_schema(run / "subscribers.parquet").names == schema.column_names(schema.RUN_SUBSCRIBERS)
    assert pq.read_schema(run / "communities.parquet").names == schema.column_names(schema.COMMUNITIES)
    subs, comms, seeds = read_tables(run)
    assert len(subs) == graph.n_subscribers and subs["vid"].tolist() == list(range(graph.n_subscribers))
    assert comms["size"].sum() == graph.n_subscribers
    assert set(subs["role"]) <= {"bellwether", "follower", "bridge", "member", "isolate"}
    # the community table's bellwether is the rank-1 member of that community
    top = subs[subs["community_rank"] == 1].set_index("community")["id"]
    assert (comms.set_index("community")["bellwether"] == top.reindex(comms["community"]).to_numpy()).all()
    # churned means churned strictly before as_of
    cd = pd.to_datetime(graph.subscribers["churn_date"])
    assert subs["churned"].tolist() == (cd < pd.Timestamp(AS_OF)).fillna(False).tolist()
    m = json.loads((run / "manifest.json").read_text())
    for key in ("run_id", "created", "as_of", "engine", "seed", "parameters", "versions", "graph", "timings", "metrics"):
        assert key in m
    assert m["as_of"] == AS_OF and m["metrics"]["communities"]["disconnected_split"] == 0
    assert {"python", "igraph", "leidenalg", "networkx"} <= set(m["versions"])
    assert set(m["peak_memory_mib"]) == set(m["timings"]) and min(m["peak_memory_mib"].values()) > 0
    assert m["metrics"]["communities"]["n_communities"] == len(comms)
    if "skipped" not in m["metrics"]["influence"]:
        assert len(seeds) > 0 and subs["influence_seed_rank"].notna().sum() == len(seeds)


def test_objective_defaults_to_the_engines_own(tmp_path, graph):
    """Without an objective the engine's default_objective applies (gds: modularity), else the adaptive one."""
    from bellwether.algorithms.engines.gds_engine import GdsEngine
    from bellwether.algorithms.engines.igraph_engine import IgraphEngine

    assert GdsEngine.default_objective == "modularity"
    like_gds = IgraphEngine(leiden="igraph")
    like_gds.default_objective = "modularity"
    fixed = analyze(Workspace(tmp_path / "a"), graph=graph, engine=like_gds, progress=False, skip=("churn", "influence"))
    auto = analyze(Workspace(tmp_path / "b"), graph=graph, progress=False, skip=("churn", "influence"))
    objectives = [json.loads((r / "manifest.json").read_text())["parameters"]["objective"] for r in (fixed, auto)]
    assert objectives == ["modularity", "auto"]


def test_same_seed_gives_identical_tables(tmp_path, graph):
    a = analyze(Workspace(tmp_path / "a"), graph=graph, progress=False, skip=("churn",), seed=3)
    b = analyze(Workspace(tmp_path / "b"), graph=graph, progress=False, skip=("churn",), seed=3)
    for ta, tb in zip(read_tables(a), read_tables(b)):
        pd.testing.assert_frame_equal(ta, tb)


def test_future_churn_dates_do_not_change_any_score(tmp_path, graph):
    moved = graph.subscribers.copy()
    cd = pd.to_datetime(moved["churn_date"])
    future = cd >= pd.Timestamp(AS_OF)
    assert future.sum() > 10
    moved.loc[future, "churn_date"] = (cd[future] + pd.Timedelta(days=40)).dt.date  # later still
    rng = np.random.default_rng(1)
    extra = (~future) & cd.isna() & (rng.random(len(moved)) < 0.05)  # new churners after as_of
    moved.loc[extra, "churn_date"] = pd.Timestamp("2024-03-10").date()
    moved.loc[extra, "status"] = "churned"
    g2 = ContactGraph(moved, graph.contacts, graph.info)
    a = analyze(Workspace(tmp_path / "a"), graph=graph, progress=False, seed=5)
    b = analyze(Workspace(tmp_path / "b"), graph=g2, progress=False, seed=5)
    for ta, tb in zip(read_tables(a), read_tables(b)):
        pd.testing.assert_frame_equal(ta, tb)


def test_mask_after_erases_the_future():
    subs = pd.DataFrame({"churn_date": [pd.Timestamp("2024-01-05").date(), pd.Timestamp("2024-03-01").date(), None],
                         "status": ["churned", "churned", "active"]})
    out = mask_after(subs, AS_OF)
    assert out["status"].tolist() == ["churned", "active", "active"]
    assert pd.isna(out["churn_date"].iloc[1]) and not pd.isna(out["churn_date"].iloc[0])


def test_second_run_keeps_community_ids(tmp_path, graph):
    ws = Workspace(tmp_path / "ws").create()
    first = analyze(ws, graph=graph, progress=False, skip=("churn", "influence"))
    keep = np.random.default_rng(2).random(graph.n_contacts) > 0.03
    g2 = ContactGraph(graph.subscribers, graph.contacts[keep].reset_index(drop=True), graph.info)
    second = analyze(ws, graph=g2, progress=False, skip=("churn", "influence"), seed=9)
    a, b = read_tables(first)[0], read_tables(second)[0]
    assert (a["community"] == b["community"]).mean() > 0.8
    assert (a["coarse_community"] == b["coarse_community"]).mean() > 0.8
    m = json.loads((second / "manifest.json").read_text())
    assert m["metrics"]["communities"]["coarse"]["id_matching"]["matched"] > 0
    assert m["metrics"]["communities"]["previous_run"] == first.name


def test_cli_json_equals_the_library_call(tmp_path, graph):
    ws = Workspace(tmp_path / "ws")
    save(ws, graph)
    result = CliRunner().invoke(app, ["analyze", "--workspace", str(ws.root), "--json", "--seed", "4", "--k", "10"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert out["subscribers"] == graph.n_subscribers and out["as_of"] == AS_OF and out["seed"] == 4
    lib = run_summary(analyze(ws, seed=4, k=10, progress=False))
    for key in ("communities", "modularity", "roles", "subscribers", "contacts"):
        assert out[key] == lib[key]


def test_cli_without_a_graph_says_what_to_run(tmp_path):
    from bellwether.cli.app import main

    with pytest.raises(SystemExit) as exc:
        main(["analyze", "--workspace", str(tmp_path / "empty"), "--quiet"])
    assert exc.value.code == 1


def test_options_object_and_keyword_overrides_give_the_same_run(tmp_path, graph):
    opts = AnalysisOptions(seed=3, k=5, skip=("churn",), network=NetworkOptions(recency_days=14))
    a = analyze(Workspace(tmp_path / "a"), opts, graph=graph, progress=False)
    b = analyze(Workspace(tmp_path / "b"), graph=graph, progress=False, seed=3, k=5, skip=("churn",),
                network=NetworkOptions(recency_days=14))
    pd.testing.assert_frame_equal(pd.read_parquet(a / "subscribers.parquet"), pd.read_parquet(b / "subscribers.parquet"))
    params = read_json(a / "manifest.json")["parameters"]
    assert params["k"] == 5 and params["recency_days"] == 14 and params["churn_network"]["recency_days"] == 14


def test_bad_options_are_refused_before_any_work(tmp_path, graph):
    with pytest.raises(AnalysisError, match="only 'influence' and 'churn'"):
        AnalysisOptions(skip=("roles",))
    with pytest.raises(AnalysisError, match="k=-1"):
        AnalysisOptions(k=-1)
    with pytest.raises(TypeError, match="unknown option.*recency"):
        analyze(Workspace(tmp_path / "a"), graph=graph, progress=False, recency=3)
    assert not (tmp_path / "a" / "runs").exists()


def test_the_run_reads_the_graph_without_the_pseudonym_columns(tmp_path, graph):
    """Vertex numbers stand for the pseudonyms in a run; a graph saved with fewer columns still loads."""
    from bellwether.algorithms.analysis import graph_step

    ws = Workspace(tmp_path / "ws")
    save(ws, graph)
    loaded = graph_step(ws, None)
    assert {"a", "b"}.isdisjoint(loaded.graph.contacts.columns)
    assert {"a_vid", "b_vid", "weight"} <= set(loaded.graph.contacts.columns)
    assert len(loaded.graph.contacts) == graph.n_contacts


def test_the_training_snapshot_is_built_from_the_records_first_and_leaves_no_files(tmp_path):
    """The history step writes the snapshot one horizon back before the graph is loaded; the churn step reads it."""
    from datetime import date, timedelta

    from bellwether.graph.build import build_graph
    from bellwether.loaders.load import LoadOptions, load
    from bellwether.loaders.synthetic import generate_operator

    op = generate_operator(tmp_path / "data", subscribers=3_000, seed=3)
    ws = Workspace(tmp_path / "ws")
    load(ws, [tmp_path / "data" / "cdr"], subscribers=tmp_path / "data" / "subscribers.csv",
         options=LoadOptions(key=b"k" * 32))
    build_graph(ws, as_of=op["suggested_as_of"], progress=False)
    run = analyze(ws, progress=False, skip=("influence",))
    m = read_json(run / "manifest.json")
    t0 = date.fromisoformat(op["suggested_as_of"]) - timedelta(days=30)
    assert "history" in m["timings"]
    assert m["metrics"]["churn"]["history"] == f"contacts before {t0}"
    assert m["metrics"]["churn"]["training"]["source"] == "history"
    assert not list((ws.root / ".tmp").glob("history-*"))
    assert history_step(ws, None, 30, skip=True).files is None  # churn skipped: nothing is written

"""The Neo4j store against a real Neo4j 5.26 + OpenGDS 2.13 server: schema, push, pull, write-back, errors."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from bellwether.graph import schema
from bellwether.graph.cypher_library import CypherLibraryError
from bellwether.graph.neo4j_store import (
    Neo4jError,
    Neo4jStore,
    ensure_schema,
    pull_graph,
    push_graph,
    push_workspace,
    schema_objects,
    write_back,
)
from bellwether.graph.core.workspace import Workspace

pytestmark = pytest.mark.neo4j


def as_table(df: pd.DataFrame, sch: pa.Schema) -> pd.DataFrame:
    """The frame cast to a table schema, as the workspace reads it back."""
    return pa.Table.from_pandas(df[sch.names], schema=sch, preserve_index=False).to_pandas()


def write_workspace(root: Path, graph) -> Workspace:
    ws = Workspace(root).create()
    pq.write_table(pa.Table.from_pandas(graph.subscribers[schema.SUBSCRIBERS.names], schema=schema.SUBSCRIBERS,
                                        preserve_index=False), ws.subscribers_path)
    pq.write_table(pa.Table.from_pandas(graph.contacts[schema.CONTACTS.names], schema=schema.CONTACTS,
                                        preserve_index=False), ws.contacts_path)
    return ws


def duplicate_pairs(store: Neo4jStore) -> int:
    return int(store.scalar(
        "MATCH (a:Subscriber)-[c:CONTACT]-(b:Subscriber) WHERE a.id < b.id "
        "WITH a, b, count(c) AS n WHERE n > 1 RETURN count(*) AS dup"
    ))


# --- server and store ---------------------------------------------------------------------------------
def test_server_runs_neo4j_526_with_gds_213(neo4j_store, neo4j_server):
    info = neo4j_store.server_info()
    assert info["neo4j_version"].startswith("5.26.")
    assert info["gds_version"].startswith("2.13.")
    assert info["subscribers"] == 0 and info["contacts"] == 0
    print(f"\nNeo4j {info['neo4j_version']} {info['edition']}, GDS {info['gds_version']}, "
          f"server start {neo4j_server.start_seconds:.1f} s")


def test_gds_algorithms_run_and_write(neo4j_store, make_contact_graph):
    push_graph(neo4j_store, make_contact_graph(60, 150, seed=3), progress=False)
    neo4j_store.execute_auto(
        "CALL gds.graph.project('g', 'Subscriber', {CONTACT: {orientation: 'UNDIRECTED', properties: 'weight'}})"
    )
    wrote = neo4j_store.run("CALL gds.louvain.write('g', {writeProperty: 'louvain', relationshipWeightProperty: "
                            "'weight'}) YIELD nodePropertiesWritten RETURN nodePropertiesWritten")
    assert wrote["nodePropertiesWritten"].iloc[0] == 60
    assert neo4j_store.scalar("MATCH (s:Subscriber) WHERE s.louvain IS NULL RETURN count(s)") == 0


def test_run_by_name_and_text_returns_frames(neo4j_store):
    ensure_schema(neo4j_store)
    assert neo4j_store.run("load.count_contacts")["n"].tolist() == [0]
    df = neo4j_store.run("UNWIND range(1, $k) AS i RETURN i, i * i AS sq", k=3)
    assert df.columns.tolist() == ["i", "sq"] and df["sq"].tolist() == [1, 4, 9]
    with pytest.raises(CypherLibraryError, match="load.count_contact"):
        neo4j_store.run("load.count_contact")
    with pytest.raises(CypherLibraryError, match=r"missing \$load"):
        neo4j_store.run("load.done_batches", kind="contacts")


def test_schema_is_idempotent(neo4j_store):
    ensure_schema(neo4j_store)
    first = schema_objects(neo4j_store)
    ensure_schema(neo4j_store)
    assert schema_objects(neo4j_store) == first
    assert {"subscriber_id", "community_id", "load_batch_key"} <= set(first["constraints"])
    assert {"subscriber_community", "subscriber_role", "community_size"} <= set(first["indexes"])


def test_missing_gds_function_is_one_clear_error(neo4j_store):
    with pytest.raises(Neo4jError, match="Graph Data Science"):
        with neo4j_store.translate_errors():
            neo4j_store.scalar("RETURN gds.no_such_function() AS v")


# --- push and pull -------------------------------------------------------------------------------------
def test_push_then_pull_gives_the_same_tables(neo4j_store, make_contact_graph):
    g = make_contact_graph(300, 1200, seed=1)
    g.info = {"as_of": "2025-04-01", "window_days": 30}
    result = push_graph(neo4j_store, g, batch_size=250, progress=False)
    assert result.counts["subscribers"] == 300 and result.counts["contacts"] == len(g.contacts)

    back = pull_graph(neo4j_store)
    pd.testing.assert_frame_equal(back.subscribers, as_table(g.subscribers, schema.SUBSCRIBERS))
    want = as_table(g.contacts.sort_values(["a_vid", "b_vid"]).reset_index(drop=True), schema.CONTACTS)
    pd.testing.assert_frame_equal(back.contacts, want)
    assert back.as_of == "2025-04-01"


def test_pull_command_writes_a_workspace_the_analysis_can_read(neo4j_store, make_contact_graph, tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from bellwether.cli.app import app
    from bellwether.graph.contact_graph import ContactGraph

    g = make_contact_graph(120, 400, seed=4)
    g.info = {"as_of": "2025-04-01", "window_days": 30}
    push_graph(neo4j_store, g, progress=False)
    monkeypatch.setenv("BELLWETHER_NEO4J_URI", neo4j_store.uri)
    out = tmp_path / "from-neo4j"
    result = CliRunner().invoke(app, ["neo4j", "pull", "--out", str(out)])
    assert result.exit_code == 0, result.output
    back = ContactGraph.load(out)
    pd.testing.assert_frame_equal(back.subscribers, as_table(g.subscribers, schema.SUBSCRIBERS))
    assert back.n_contacts == len(g.contacts) and back.as_of == "2025-04-01"
    again = CliRunner().invoke(app, ["neo4j", "pull", "--out", str(out)])
    assert again.exit_code != 0 and "--force" in str(again.exception or again.output)


def test_timestamps_are_neo4j_datetimes(neo4j_store, make_contact_graph):
    push_graph(neo4j_store, make_contact_graph(20, 30, seed=2), progress=False)
    types = neo4j_store.run(
        "MATCH (:Subscriber)-[c:CONTACT]->(:Subscriber) RETURN DISTINCT valueType(c.first_contact) AS t"
    )["t"].tolist()
    assert types == ["ZONED DATETIME NOT NULL"]
    assert neo4j_store.scalar(
        "MATCH (s:Subscriber) WHERE s.churn_date IS NOT NULL RETURN DISTINCT valueType(s.churn_date)"
    ) == "DATE NOT NULL"


def test_push_twice_changes_nothing(neo4j_store, make_contact_graph):
    g = make_contact_graph(200, 600, seed=4)
    push_graph(neo4j_store, g, batch_size=100, progress=False)
    again = push_graph(neo4j_store, g, batch_size=100, progress=False)
    assert again.contacts_loaded == 0 and again.contacts_skipped == 600
    assert again.subscribers_loaded == 0
    assert again.counts["contacts"] == 600 and duplicate_pairs(neo4j_store) == 0


def test_push_of_another_graph_replaces_the_contacts(neo4j_store, make_contact_graph):
    push_graph(neo4j_store, make_contact_graph(200, 600, seed=5), progress=False)
    g2 = make_contact_graph(200, 450, seed=6)
    result = push_graph(neo4j_store, g2, progress=False)
    assert result.contacts_replaced == 600
    assert result.counts["contacts"] == 450 and duplicate_pairs(neo4j_store) == 0
    back = pull_graph(neo4j_store)
    assert set(zip(back.contacts["a"], back.contacts["b"])) == set(zip(g2.contacts["a"], g2.contacts["b"]))
    loads = neo4j_store.run("MATCH (b:LoadBatch) RETURN b.kind AS kind, count(DISTINCT b.load) AS loads ORDER BY kind")
    assert loads["loads"].tolist() == [1, 1]  # the first push's batches are forgotten


def test_contact_with_unknown_subscriber_is_reported(neo4j_store, make_contact_graph):
    g = make_contact_graph(50, 100, seed=7)
    g.subscribers = g.subscribers.iloc[:40].reset_index(drop=True)
    with pytest.raises(Neo4jError, match="expected 100"):
        push_graph(neo4j_store, g, progress=False)


@pytest.mark.slow
def test_push_killed_half_way_resumes_exactly(neo4j_store, neo4j_server, make_contact_graph, tmp_path):
    """Kill a real `bellwether neo4j push` mid-way, run it again: exact counts, no duplicates."""
    g = make_contact_graph(5_000, 40_000, seed=8)
    ws = write_workspace(tmp_path / "ws", g)
    env = {**os.environ, "BELLWETHER_NEO4J_URI": neo4j_server.uri, "BELLWETHER_NEO4J_DATABASE": "neo4j"}
    cmd = [sys.executable, "-m", "bellwether.cli", "neo4j", "push", "--workspace", str(ws.root), "--batch-size", "500", "-q"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    done = 0
    while time.monotonic() < deadline and proc.poll() is None:
        done = int(neo4j_store.scalar("MATCH (b:LoadBatch {kind: 'contacts'}) RETURN count(b)"))
        if done >= 10:
            break
        time.sleep(0.05)
    assert proc.poll() is None, f"push finished before it could be killed: {proc.communicate()}"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    partial = int(neo4j_store.scalar("load.count_contacts"))
    assert 0 < partial < 40_000

    rerun = subprocess.run(cmd[:-1] + ["--json"], env=env, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    import json

    report = json.loads(rerun.stdout)
    assert report["contacts_skipped"] >= partial  # the committed batches were not sent again
    assert report["counts"]["contacts"] == 40_000 and report["counts"]["subscribers"] == 5_000
    assert duplicate_pairs(neo4j_store) == 0
    back = pull_graph(neo4j_store)
    want = as_table(g.contacts.sort_values(["a_vid", "b_vid"]).reset_index(drop=True), schema.CONTACTS)
    pd.testing.assert_frame_equal(back.contacts, want)


def test_concurrent_writers_load_exactly_and_resume_with_the_same_plan(neo4j_store, make_contact_graph):
    g = make_contact_graph(2_000, 9_000, seed=12)
    first = push_graph(neo4j_store, g, batch_size=300, writers=3, progress=False)
    assert first.contacts_loaded == 9_000 and first.counts["contacts"] == 9_000
    assert duplicate_pairs(neo4j_store) == 0
    again = push_graph(neo4j_store, g, batch_size=300, writers=3, progress=False)
    assert again.contacts_loaded == 0 and again.contacts_skipped == 9_000
    back = pull_graph(neo4j_store)
    want = as_table(g.contacts.sort_values(["a_vid", "b_vid"]).reset_index(drop=True), schema.CONTACTS)
    pd.testing.assert_frame_equal(back.contacts, want)
    # another number of writers cuts other batches: the contacts are replaced, not doubled
    other = push_graph(neo4j_store, g, batch_size=300, writers=1, progress=False)
    assert other.contacts_replaced == 9_000 and other.counts["contacts"] == 9_000
    assert duplicate_pairs(neo4j_store) == 0


def test_analyze_command_with_gds_and_from_neo4j(neo4j_store, make_contact_graph, tmp_path, monkeypatch):
    """`analyze --engine gds` runs in the database with modularity (the engine's default objective);
    `analyze --source neo4j` pulls the graph and runs the default engine."""
    import json

    from typer.testing import CliRunner

    from bellwether.cli.app import app

    g = make_contact_graph(150, 500, seed=6)
    g.info = {"as_of": "2025-04-01", "window_days": 30}
    ws = write_workspace(tmp_path / "ws", g)
    push_graph(neo4j_store, g, progress=False)
    monkeypatch.setenv("BELLWETHER_NEO4J_URI", neo4j_store.uri)
    for extra, engine, objective in ((["--engine", "gds"], "gds", "modularity"), (["--source", "neo4j"], "numba", "auto")):
        result = CliRunner().invoke(app, ["analyze", "-w", str(ws.root), "--as-of", "2025-04-01", "--json", "--no-write-back",
                                          *extra])
        assert result.exit_code == 0, result.output
        run = json.loads(result.output[result.output.index("{"):])
        manifest = json.loads((Path(run["run_dir"]) / "manifest.json").read_text())
        assert (manifest["engine"], manifest["parameters"]["objective"]) == (engine, objective)


def test_push_workspace_reads_the_graph_tables(neo4j_store, make_contact_graph, tmp_path):
    g = make_contact_graph(80, 200, seed=9)
    ws = write_workspace(tmp_path / "ws", g)
    result = push_workspace(neo4j_store, ws, progress=False)
    assert result.counts["subscribers"] == 80 and result.counts["contacts"] == 200


# --- write-back ----------------------------------------------------------------------------------------
def run_tables(g, communities_of: np.ndarray, run_dir: Path, with_segments: bool = True) -> Path:
    run_dir.mkdir(parents=True)
    n = g.n_subscribers
    subs = pd.DataFrame({
        "vid": np.arange(n), "id": g.subscribers["id"], "on_net": g.subscribers["on_net"],
        "community": communities_of, "coarse_community": communities_of // 2,
        "degree": np.ones(n, dtype=np.int64), "strength": np.linspace(0, 1, n),
        "pagerank": np.full(n, 1 / n), "coreness": np.ones(n, dtype=np.int64), "initiative": np.full(n, 0.5),
        "reach": np.ones(n, dtype=np.int64), "community_rank": np.ones(n, dtype=np.int64),
        "bellwether_score": np.linspace(1, 0, n), "role": np.where(np.arange(n) % 10 == 0, "bellwether", "member"),
        "churned": np.zeros(n, dtype=bool), "churn_risk": np.full(n, 0.1), "churn_risk_baseline": np.full(n, 0.1),
        "spreading_activation": np.zeros(n), "contagion_score": np.zeros(n), "churned_contacts": np.zeros(n, dtype=np.int64),
        "influence_seed_rank": pd.array([1] + [None] * (n - 1), dtype="Int64"),
    })
    pq.write_table(pa.Table.from_pandas(subs, schema=schema.RUN_SUBSCRIBERS, preserve_index=False),
                   run_dir / "subscribers.parquet")
    ids = sorted(set(int(c) for c in communities_of))
    comm = pd.DataFrame({
        "community": ids, "size": [int((communities_of == c).sum()) for c in ids],
        "internal_density": 0.5, "internal_weight_share": 0.5, "churn_rate": 0.0, "recent_churners": 0,
        "mean_arpu": 20.0, "on_net_share": 1.0,
        "bellwether": [g.subscribers["id"][int(np.flatnonzero(communities_of == c)[0])] for c in ids],
        "coarse_community": [c // 2 for c in ids],
    })
    pq.write_table(pa.Table.from_pandas(comm, schema=schema.COMMUNITIES, preserve_index=False),
                   run_dir / "communities.parquet")
    coarse = comm.assign(community=comm["coarse_community"], fine_communities=1).drop(columns="coarse_community")
    coarse = coarse.groupby("community", as_index=False).agg(
        {**{c: "first" for c in coarse.columns if c != "community"}, "size": "sum", "fine_communities": "sum"})
    pq.write_table(pa.Table.from_pandas(coarse, schema=schema.COARSE_COMMUNITIES, preserve_index=False),
                   run_dir / "coarse_communities.parquet")
    if with_segments:
        seg = pd.DataFrame({"vid": np.arange(n), "id": g.subscribers["id"],
                            "value_tier": np.where(np.arange(n) % 2 == 0, "high", "low"), "cluster": np.arange(n) % 3})
        pq.write_table(pa.Table.from_pandas(seg, preserve_index=False), run_dir / "segments.parquet")
    (run_dir / "manifest.json").write_text("{}")
    return run_dir


def test_write_back_sets_properties_communities_and_segments(neo4j_store, make_contact_graph, tmp_path):
    g = make_contact_graph(100, 300, seed=10)
    push_graph(neo4j_store, g, progress=False)
    run = run_tables(g, np.arange(100) % 5, tmp_path / "runs" / "r1")
    result = write_back(neo4j_store, run, progress=False)
    assert result.counts["communities"] == 5 and result.counts["memberships"] == 100
    row = neo4j_store.run(
        "MATCH (s:Subscriber {id: $id})-[:MEMBER_OF]->(c:Community) "
        "RETURN s.community AS community, s.role AS role, s.value_tier AS tier, s.cluster AS cluster, "
        "s.vid AS vid, s.run_id AS run, c.id AS cid, c.size AS size, c.bellwether AS bellwether",
        id=g.subscribers["id"][0],
    ).iloc[0]
    assert (row["community"], row["cid"], row["size"]) == (0, 0, 20)
    assert (row["role"], row["tier"], row["cluster"], row["run"]) == ("bellwether", "high", 0, "r1")
    assert row["vid"] is None and row["bellwether"] == g.subscribers["id"][0]
    assert neo4j_store.scalar("MATCH (s:Subscriber) WHERE s.influence_seed_rank IS NOT NULL RETURN count(s)") == 1
    # the coarse level: communities 0..4 in wider groups 0, 0, 1, 1, 2
    groups = neo4j_store.run("MATCH (c:Community)-[:PART_OF]->(g:CoarseCommunity) "
                             "RETURN g.id AS g, collect(c.id) AS members, g.size AS size ORDER BY g")
    assert [sorted(m) for m in groups["members"]] == [[0, 1], [2, 3], [4]]
    assert groups["size"].tolist() == [40, 40, 20] and result.counts["coarse_communities"] == 3


def test_write_back_again_replaces_and_never_duplicates(neo4j_store, make_contact_graph, tmp_path):
    g = make_contact_graph(100, 300, seed=11)
    push_graph(neo4j_store, g, progress=False)
    write_back(neo4j_store, run_tables(g, np.arange(100) % 5, tmp_path / "runs" / "r1"), progress=False)
    write_back(neo4j_store, run_tables(g, np.arange(100) % 5, tmp_path / "runs" / "r1b"), progress=False)
    assert neo4j_store.counts()["memberships"] == 100
    result = write_back(neo4j_store, run_tables(g, np.arange(100) % 2, tmp_path / "runs" / "r2", False),
                        progress=False)
    assert result.counts["communities"] == 2 and result.counts["memberships"] == 100
    assert neo4j_store.scalar("MATCH (s:Subscriber)-[m:MEMBER_OF]->() WITH s, count(m) AS k WHERE k > 1 "
                              "RETURN count(s)") == 0
    assert neo4j_store.scalar("MATCH (c:Community) WHERE c.id >= 2 RETURN count(c)") == 0
    # communities 0 and 1 now both in wider group 0, each linked once; groups 1 and 2 are gone
    assert neo4j_store.scalar("MATCH (c:Community)-[p:PART_OF]->(:CoarseCommunity {id: 0}) RETURN count(p)") == 2
    assert neo4j_store.counts()["coarse_communities"] == 1


def test_write_back_without_pushed_graph_says_push_first(neo4j_store, make_contact_graph, tmp_path):
    g = make_contact_graph(30, 60, seed=12)
    with pytest.raises(Neo4jError, match="neo4j push"):
        write_back(neo4j_store, run_tables(g, np.arange(30) % 3, tmp_path / "runs" / "r1"), progress=False)


def test_gds_client_shares_the_store_connection(neo4j_store, make_contact_graph):
    push_graph(neo4j_store, make_contact_graph(40, 80, seed=13), progress=False)
    gds = neo4j_store.gds()
    assert gds.server_version().major == 2
    assert gds.run_cypher("MATCH (s:Subscriber) RETURN count(s) AS n")["n"].iloc[0] == 40


def test_push_merges_subscribers_that_exist_already(neo4j_store, make_contact_graph):
    g = make_contact_graph(100, 200, seed=14)
    neo4j_store.execute("UNWIND $ids AS id CREATE (:Subscriber {id: id, note: 'kept'})", ids=list(g.subscribers["id"][:10]))
    result = push_graph(neo4j_store, g, batch_size=30, progress=False)
    assert result.counts["subscribers"] == 100
    assert neo4j_store.scalar("MATCH (s:Subscriber {note: 'kept'}) WHERE s.kind IS NOT NULL RETURN count(s)") == 10


def test_fresh_push_creates_and_falls_back_to_merge_on_a_clash(neo4j_store, make_contact_graph):
    g = make_contact_graph(100, 200, seed=15)
    g.subscribers.loc[99, "id"] = g.subscribers.loc[0, "id"]  # the same id in two batches
    g.contacts = g.contacts[(g.contacts["a_vid"] != 99) & (g.contacts["b_vid"] != 99)].reset_index(drop=True)
    result = push_graph(neo4j_store, g, batch_size=30, progress=False)
    assert result.counts["subscribers"] == 99 and result.subscribers_loaded == 100

"""The analysts' Cypher library against a real Neo4j 5.26 + GDS server, with known answers.

One graph with planted structure is pushed once for the module, analysed by the
real pipeline (:func:`bellwether.algorithms.analysis.analyze`, modularity objective),
segmented (:func:`bellwether.algorithms.segments.segment_run`) and written back with the
store's write-back.  Four groups, each around a hub that its members call
(the planted bellwether):

- A = vids 0-9 (hub 0): members 1 and 2 churned recently, 3 churns after as_of;
- B = vids 10-19 (hub 10): member 12 churns after as_of;
- C = vids 20-29 (hub 20): member 21 churned long ago; member 29 is called by the
  hub more than it calls (not a follower);
- D = vids 30-49 (hub 30): members 40-49 churned in the month before as_of;
- off-net numbers 50 (tied to hubs 0 and 10), 51 (hub 0), 52 (member 3).

Inside a group members form a path of weight 1 and each is tied to the hub with
weight 5; single weak ties join A-B (5-15) and B-C (17-27).

Expected answers are either planted (the followers, the path length, the hubs)
or recomputed here from the run tables with pandas, independently of the Cypher.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from bellwether.cli.query import records
from bellwether.graph import schema
from bellwether.graph.contact_graph import ContactGraph
from bellwether.graph.cypher_library import analyst_queries, default_library
from bellwether.graph.neo4j_store import Neo4jStore, push_graph, write_back
from bellwether.graph.core.workspace import Workspace, write_json

pytestmark = pytest.mark.neo4j

AS_OF = date(2025, 3, 1)
GROUPS = {"A": (0, 10), "B": (10, 20), "C": (20, 30), "D": (30, 50)}  # [start, stop); hub = start
OFF_NET = (50, 51, 52)
N = 53
CHURN = {1: date(2025, 2, 20), 2: date(2025, 2, 20), 3: date(2025, 3, 10), 12: date(2025, 3, 20),
         21: date(2024, 12, 1), **{v: date(2025, 2, v - 30) for v in range(40, 50)}}


def vid_id(v: int) -> str:
    return f"{v:016x}"


def planted_graph() -> ContactGraph:
    rows: list[tuple[int, int, float, int, int]] = []  # (u < v, weight, calls u->v, calls v->u)
    for start, stop in GROUPS.values():
        for i in range(start + 1, stop):
            hub_calls, member_calls = (10, 1) if i == 29 else (1, 10)
            rows.append((start, i, 5.0, hub_calls, member_calls))
            if i + 1 < stop:
                rows.append((i, i + 1, 1.0, 2, 2))
    rows += [(5, 15, 0.5, 1, 1), (17, 27, 0.5, 1, 1)]
    rows += [(0, 50, 0.3, 1, 1), (10, 50, 0.3, 1, 1), (0, 51, 0.4, 1, 1), (3, 52, 0.3, 1, 1)]
    e = np.array([r[:2] for r in rows])
    c_uv = np.array([r[3] for r in rows], dtype=np.int32)
    c_vu = np.array([r[4] for r in rows], dtype=np.int32)
    on_net = np.ones(N, bool)
    on_net[list(OFF_NET)] = False
    churn = [CHURN.get(v) for v in range(N)]
    status = np.array([("churned" if c else "active") if o else None for c, o in zip(churn, on_net)], dtype=object)
    plan = np.array([None if not on_net[v] else "plus" if v < 10 else "basic" if v < 30 else "max" for v in range(N)],
                    dtype=object)
    subs = pd.DataFrame({
        "on_net": on_net, "kind": ["person"] * N, "plan": plan, "arpu": np.where(on_net, 20.0 + np.arange(N), np.nan),
        "tenure_months": np.full(N, 24, np.int32), "region": ["north"] * N, "status": status, "churn_date": churn,
    })
    m = len(rows)
    g = ContactGraph.from_edges(
        e, weights=[r[2] for r in rows], n=N, subscribers=subs,
        calls_ab=c_uv, calls_ba=c_vu, seconds_ab=c_uv.astype(np.int64) * 60, seconds_ba=c_vu.astype(np.int64) * 60,
        sms_ab=np.zeros(m, np.int32), sms_ba=np.zeros(m, np.int32),
        first_contact=np.full(m, np.datetime64("2025-01-05T10:00:00", "s")),
        last_contact=np.full(m, np.datetime64("2025-02-25T10:00:00", "s")),
        active_days=np.full(m, 10, np.int32), night_share=np.zeros(m),
        reciprocity=1 - np.abs(c_uv - c_vu) / (c_uv + c_vu),
    )
    g.info.update({"as_of": AS_OF.isoformat(), "window_days": 90})
    return g


def write_workspace(graph: ContactGraph, root: Path) -> Workspace:
    ws = Workspace(root).create()
    for df, sch, path in ((graph.subscribers, schema.SUBSCRIBERS, ws.subscribers_path),
                          (graph.contacts, schema.CONTACTS, ws.contacts_path)):
        pq.write_table(pa.Table.from_pandas(df[sch.names], schema=sch, preserve_index=False), path)
    write_json(ws.graph_info_path, {**graph.info, "subscribers": graph.n_subscribers, "contacts": graph.n_contacts})
    return ws


def clear_graph(store: Neo4jStore) -> None:
    """Remove every node and relationship (the conftest's function-scoped fixture does this per test)."""
    store.execute_auto("MATCH (n) CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS")


class Loaded:
    """The store, the graph and the run tables the module's tests compare against."""

    def __init__(self, store: Neo4jStore, graph: ContactGraph, run_dir: Path) -> None:
        self.store = store
        self.graph = graph
        self.run = pq.read_table(run_dir / "subscribers.parquet").to_pandas().set_index("vid")
        self.communities = pq.read_table(run_dir / "communities.parquet").to_pandas()
        self.segments = pq.read_table(run_dir / "segments.parquet").to_pandas().set_index("vid")
        self.nx = nx.Graph()
        self.nx.add_nodes_from(range(graph.n_subscribers))
        self.nx.add_weighted_edges_from(zip(graph.contacts["a_vid"], graph.contacts["b_vid"], graph.contacts["weight"]))

    def community(self, v: int) -> int:
        return int(self.run.loc[v, "community"])

    def query(self, name: str, **params: Any) -> pd.DataFrame:
        """Run a library query the way ``bellwether query`` does (parameters parsed from text)."""
        q = analyst_queries()[name]
        typed = q.parse_params([(k, str(v)) for k, v in params.items()])
        return self.store.read(name, **typed)


@pytest.fixture(scope="module")
def loaded(neo4j_server, tmp_path_factory) -> Loaded:
    from bellwether.algorithms.analysis import analyze
    from bellwether.algorithms.segments import load_run, segment_run, write_segments

    graph = planted_graph()
    root = tmp_path_factory.mktemp("queries") / "ws"
    # analyse the graph as given (no CDR records to rebuild a history graph from), then store its
    # tables in the workspace for the segment step
    run_dir = analyze(Workspace(root).create(), graph=graph, objective="modularity", seed=3, k=3, progress=False)
    ws = write_workspace(graph, root)
    run = load_run(ws)
    write_segments(run, segment_run(run))
    store = neo4j_server.store()
    store.connect()
    clear_graph(store)
    push_graph(store, graph, progress=False)
    write_back(store, run_dir, progress=False)
    yield Loaded(store, graph, run_dir)
    clear_graph(store)
    store.close()


# --- the planted structure came through the pipeline -----------------------------------------------
def test_pipeline_recovers_the_planted_groups_and_hubs(loaded):
    for start, stop in GROUPS.values():
        assert loaded.run.loc[range(start, stop), "community"].nunique() == 1
        assert loaded.run.loc[start, "role"] == "bellwether"
    assert loaded.run.loc[[s for s, _ in GROUPS.values()], "community"].nunique() == 4
    assert loaded.run["churn_risk"].notna().sum() > 0, "the churn model must be fitted for the risk queries"


# --- one test per query ------------------------------------------------------------------------------
def test_top_bellwethers_ranks_the_hub_first(loaded):
    for start, stop in GROUPS.values():
        c = loaded.community(start)
        df = loaded.query("community.top_bellwethers", community=c, limit=3)
        members = loaded.run[loaded.run["community"] == c]
        expected = members.sort_values(["bellwether_score", "pagerank", "id"], ascending=[False, False, True])
        assert list(df["subscriber"]) == list(expected["id"][:3])
        assert df["subscriber"][0] == vid_id(start)
        assert df["role"][0] == "bellwether" and df["community_rank"][0] == 1


def test_ego_network_lists_every_contact_with_tie_strength_and_direction(loaded):
    df = loaded.query("subscriber.ego_network", subscriber=vid_id(3), limit=50)
    # 3 is tied to its hub 0 (weight 5), to 2 and 4 on the path (1) and to off-net 52 (0.3)
    assert list(df["contact"]) == [vid_id(0), vid_id(2), vid_id(4), vid_id(52)]
    assert list(df["weight"]) == [5.0, 1.0, 1.0, 0.3]
    hub = df.iloc[0]
    assert (hub["calls_out"], hub["calls_in"]) == (10, 1)  # the member calls the hub
    # shared contacts: 0 knows 2 and 4; 2 and 4 each know 0; 52 knows nobody else of 3's
    assert list(df["shared_contacts"]) == [2, 1, 1, 0]
    assert list(df["same_community"][:3]) == [True, True, True]
    assert not df["on_net"][3]
    assert len(loaded.query("subscriber.ego_network", subscriber=vid_id(3), limit=2)) == 2


def test_contacts_of_recent_churners_are_active_close_contacts(loaded):
    df = loaded.query("churn.contacts_of_recent_churners", since="2025-02-01", min_weight=1.0, limit=100)
    subs = loaded.graph.subscribers
    churn = pd.to_datetime(subs["churn_date"])
    churner = (churn >= pd.Timestamp("2025-02-01")).to_numpy()
    active = (subs["on_net"] & churn.isna() & (subs["status"] != "churned")).to_numpy()
    c = loaded.graph.contacts
    counts: dict[int, int] = {}
    for a, b, w in zip(c["a_vid"], c["b_vid"], c["weight"]):
        for x, y in ((a, b), (b, a)):
            if w >= 1.0 and churner[y] and active[x]:
                counts[x] = counts.get(x, 0) + 1
    assert dict(zip(df["subscriber"], df["churned_contacts"])) == {vid_id(v): k for v, k in counts.items()}
    # planted: hub 30 lost ten members, hub 0 lost 1, 2 and 3 (3 churns after as_of but churn_date is set)
    assert df["subscriber"][0] == vid_id(30) and df["churned_contacts"][0] == 10
    assert int(df.set_index("subscriber").loc[vid_id(0), "churned_contacts"]) == 3
    assert vid_id(1) not in set(df["subscriber"])  # churners themselves are not "still active"
    assert list(df["churned_contacts"]) == sorted(df["churned_contacts"], reverse=True)


def test_bellwethers_at_risk_are_the_active_bellwethers_above_the_threshold(loaded):
    run = loaded.run
    bells = run[(run["role"] == "bellwether") & ~run["churned"] & run["churn_risk"].notna()]
    threshold = float(bells["churn_risk"].median())
    df = loaded.query("bellwether.at_risk", min_risk=threshold, limit=50)
    expected = bells[bells["churn_risk"] >= threshold].sort_values("churn_risk", ascending=False)
    assert list(df["bellwether"]) == list(expected["id"])
    assert len(df) >= 1
    # followers = contacts with role follower in the same community (hub 20: 8 of 9, 29 is not one)
    for row in records(df):
        v = int(row["bellwether"], 16)
        nbrs = [u for u in loaded.nx.neighbors(v) if run.loc[u, "role"] == "follower"
                and run.loc[u, "community"] == run.loc[v, "community"]]
        assert row["followers"] == len(nbrs)
    all_bells = loaded.query("bellwether.at_risk", min_risk=0.0, limit=50)
    assert set(all_bells["bellwether"]) == set(bells["id"])
    assert dict(zip(all_bells["bellwether"], all_bells["followers"]))[vid_id(20)] == 8


def test_community_profile_counts_members_roles_and_churn(loaded):
    c = loaded.community(0)
    df = loaded.query("community.profile", community=c)
    assert len(df) == 1
    row = records(df)[0]
    members = loaded.run[loaded.run["community"] == c]
    assert row["members"] == len(members)
    assert row["on_net"] == int(members["on_net"].sum())
    assert row["bellwethers"] == int((members["role"] == "bellwether").sum()) == 1
    assert row["followers"] == int((members["role"] == "follower").sum())
    assert row["churned"] == int(members["churned"].sum()) == 2  # 1 and 2; 3 churns after as_of
    assert row["top_plan"] == "plus"
    assert row["top_bellwether"] == vid_id(0)
    arpu = loaded.graph.subscribers.loc[members.index, "arpu"]
    assert row["mean_arpu"] == pytest.approx(float(arpu.mean()))
    assert row["recent_churners"] == 2


def test_bridges_are_the_ties_between_two_communities(loaded):
    a, b, c = loaded.community(0), loaded.community(10), loaded.community(20)
    df = loaded.query("community.bridges", community_a=a, community_b=b, limit=20)
    pairs = {(x, y) for x, y in zip(df["subscriber_a"], df["subscriber_b"])}
    run = loaded.run
    expected = {
        (vid_id(u if run.loc[u, "community"] == a else v), vid_id(v if run.loc[u, "community"] == a else u))
        for u, v in loaded.nx.edges()
        if {run.loc[u, "community"], run.loc[v, "community"]} == {a, b}
    }
    assert pairs == expected
    assert (vid_id(5), vid_id(15)) in pairs  # the planted weak tie
    assert list(df["weight"]) == sorted(df["weight"], reverse=True)
    assert len(loaded.query("community.bridges", community_a=a, community_b=c, limit=20)) == 0  # A-C: no tie


def test_shortest_path_has_the_planted_length(loaded):
    df = loaded.query("subscriber.shortest_path", source=vid_id(2), target=vid_id(28))
    assert len(df) == 1
    row = records(df)[0]
    # 2 -0- 50 -10- 17 -27- 28: six ties, through the off-net number both hubs call
    assert row["hops"] == 6 == nx.shortest_path_length(loaded.nx, 2, 28)
    assert row["path"] == [vid_id(v) for v in (2, 0, 50, 10, 17, 27, 28)]
    assert row["weights"] == [5.0, 0.3, 0.3, 5.0, 0.5, 1.0]
    assert row["communities"][0] == loaded.community(2) and row["communities"][-1] == loaded.community(28)
    # D is not connected to the others: no row
    assert len(loaded.query("subscriber.shortest_path", source=vid_id(2), target=vid_id(31))) == 0


def test_communities_ranked_by_contagion_put_the_churn_wave_first(loaded):
    df = loaded.query("community.ranked_by_contagion", min_size=5, limit=20)
    run = loaded.run
    alive = run[~run["churned"]]
    mean = alive.groupby("community")["contagion_score"].mean()
    sizes = run.groupby("community").size()
    expected = mean[sizes[mean.index] >= 5].sort_values(ascending=False)
    assert list(df["community"]) == [int(c) for c in expected.index]
    assert df["mean_contagion"].to_numpy() == pytest.approx(expected.to_numpy())
    assert df["community"][0] == loaded.community(30)  # D lost ten members last month
    assert df["recent_churners"][0] == 10
    assert len(loaded.query("community.ranked_by_contagion", min_size=5, limit=2)) == 2


@pytest.mark.parametrize("segment", ["value_tier", "cluster", "behaviour"])
def test_segment_breakdown_matches_the_segments_table(loaded, segment):
    df = loaded.query("segment.by_community", segment=segment, min_size=1)
    seg = loaded.segments.assign(community_run=loaded.run["community"])
    expected = seg.groupby(["community_run", segment]).size()
    got = df.set_index(["community", "segment_value"])["subscribers"]
    assert {(int(c), v): int(n) for (c, v), n in got.items()} == {(int(c), v): int(n) for (c, v), n in expected.items()}
    shares = df.groupby("community")["share"].sum()
    assert shares.to_numpy() == pytest.approx(np.ones(len(shares)))
    behaviour = loaded.query("segment.by_community", segment="behaviour", min_size=1)
    churned = behaviour[(behaviour["community"] == loaded.community(30)) & (behaviour["segment_value"] == "churned")]
    assert int(churned["subscribers"].iloc[0]) == 10


def test_followers_are_exactly_the_planted_followers(loaded):
    for start, stop in GROUPS.values():
        df = loaded.query("bellwether.followers", bellwether=vid_id(start))
        planted = {vid_id(v) for v in range(start + 1, stop) if v != 29}
        assert set(df["follower"]) == planted
        assert (df["calls_to_bellwether"] == 10).all() and (df["calls_from_bellwether"] == 1).all()
    # a follower is not a bellwether: asking for its followers gives none
    assert len(loaded.query("bellwether.followers", bellwether=vid_id(4))) == 0


def test_off_net_numbers_tied_to_our_bellwethers(loaded):
    df = loaded.query("bellwether.off_net_contacts", min_bellwethers=1, limit=100)
    assert list(df["number"]) == [vid_id(50), vid_id(51)]  # 52 is tied to a follower only
    assert list(df["bellwethers"]) == [2, 1]
    assert sorted(df["bellwether_ids"][0]) == [vid_id(0), vid_id(10)]
    assert df["weight_to_bellwethers"][0] == pytest.approx(0.6)
    assert list(loaded.query("bellwether.off_net_contacts", min_bellwethers=2, limit=100)["number"]) == [vid_id(50)]


def test_churn_by_churned_contacts_is_the_contagion_curve(loaded):
    df = loaded.query("churn.by_churned_contacts", as_of="2025-03-01", horizon_days=30, max_contacts=3)
    subs = loaded.graph.subscribers
    churn = pd.to_datetime(subs["churn_date"])
    cut, end = pd.Timestamp("2025-03-01"), pd.Timestamp("2025-03-31")
    before = (churn < cut).to_numpy()
    k = np.zeros(N, int)
    for a, b in loaded.nx.edges():
        k[a] += before[b]
        k[b] += before[a]
    eligible = (subs["on_net"] & (churn.isna() | (churn >= cut))).to_numpy()
    outcome = ((churn >= cut) & (churn < end)).to_numpy()
    expected = pd.DataFrame({"k": np.minimum(k, 3), "y": outcome})[eligible].groupby("k")["y"].agg(["size", "sum"])
    assert list(df["churned_contacts"]) == list(expected.index)
    assert list(df["subscribers"]) == list(expected["size"])
    assert list(df["churned"]) == list(expected["sum"])
    # planted: 3 (two churned contacts, churns 10 March) and 12 (none, 20 March) are the only outcomes
    assert int(df["churned"].sum()) == 2
    short = loaded.query("churn.by_churned_contacts", as_of="2025-03-01", horizon_days=15, max_contacts=3)
    assert int(short["churned"].sum()) == 1  # 12 churns after the 15-day horizon


# --- every statement of the repository compiles on the server -----------------------------------------
def test_every_cypher_file_passes_explain(loaded):
    lib = default_library()
    assert len(analyst_queries()) >= 12
    failures = []
    with loaded.store.session() as s:
        for q in lib:
            params = {p: None for p in q.params}
            params.update(q.example or {})
            try:
                s.run("EXPLAIN " + q.text, params).consume()
            except Exception as exc:  # collect them all, then fail once
                failures.append(f"{q.location} {q.name}: {exc}")
    assert not failures, "\n".join(failures)
    files = {q.path for q in lib}
    assert files == set(Path(lib.root).rglob("*.cypher"))

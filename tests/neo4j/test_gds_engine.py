"""The GDS engine against a real Neo4j 5.26 + OpenGDS 2.13 server: parity with igraph, projections, CELF, errors.

One planted-community graph (1,500 subscribers) is pushed once for the module.
Parity: modularity of GDS Leiden within 2 % of igraph Leiden's, Spearman rank
correlation of weighted PageRank at least 0.99, identical degree, strength,
coreness and triangles.  Every projection is dropped afterwards.
"""

from __future__ import annotations

import numpy as np
import pyarrow.parquet as pq
import pytest
from scipy.stats import spearmanr

from bellwether.algorithms.centrality import coreness, degree_strength, pagerank
from bellwether.algorithms.community import detect_communities
from bellwether.algorithms.community.quality import modularity
from bellwether.algorithms.engines import EngineError, get_engine
from bellwether.algorithms.engines.gds_engine import PROJECTION_PREFIX, GdsEngine
from bellwether.graph.synthetic.planted import planted_graph
from bellwether.graph.contact_graph import ContactGraph
from bellwether.graph.neo4j_store import Neo4jError, Neo4jStore, push_graph

pytestmark = pytest.mark.neo4j


def projections(store: Neo4jStore) -> list[str]:
    df = store.read("CALL gds.graph.list() YIELD graphName RETURN graphName")
    return [n for n in df.get("graphName", []) if n.startswith(PROJECTION_PREFIX)]


def clear_graph(store: Neo4jStore) -> None:
    store.execute_auto("MATCH (n) CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS")


@pytest.fixture(scope="module")
def module_graph(neo4j_server):
    graph, membership = planted_graph(1500, mean_degree=12, mixing=0.2, seed=11)
    store = neo4j_server.store()
    store.connect()
    clear_graph(store)
    engine = GdsEngine(store)
    yield store, engine, graph, membership
    engine.close()
    clear_graph(store)
    store.close()


@pytest.fixture
def pushed(module_graph):
    """The module's graph in Neo4j (pushed once; a later push skips every committed batch)."""
    store, _, graph, _ = module_graph
    push_graph(store, graph, progress=False)
    return module_graph


def test_leiden_modularity_within_two_percent_of_igraph(pushed):
    store, engine, graph, planted = pushed
    ig = detect_communities(graph, objective="modularity", seed=5, engine="igraph")
    gds = detect_communities(graph, objective="modularity", seed=5, engine=engine)
    q_ig, q_gds = ig.metrics["modularity"], gds.metrics["modularity"]
    assert q_gds == pytest.approx(q_ig, rel=0.02)
    assert q_gds == pytest.approx(modularity(graph, gds.labels), abs=1e-9)
    assert gds.metrics["engine"] == "gds"
    assert len(gds.membership) == graph.n_subscribers
    assert projections(store) == []


def test_louvain_runs_and_is_close_to_igraph(pushed):
    _, engine, graph, _ = pushed
    ig = detect_communities(graph, method="louvain", objective="modularity", seed=5, engine="igraph")
    gds = detect_communities(graph, method="louvain", objective="modularity", seed=5, engine=engine)
    assert gds.metrics["modularity"] == pytest.approx(ig.metrics["modularity"], rel=0.02)


def test_pagerank_rank_correlation_with_igraph(pushed):
    _, engine, graph, _ = pushed
    pr_ig = pagerank(graph, engine="igraph")["pagerank"].to_numpy()
    pr_gds = pagerank(graph, engine=engine)["pagerank"].to_numpy()
    rho = spearmanr(pr_ig, pr_gds).statistic
    assert rho >= 0.99, rho
    assert pr_gds.sum() == pytest.approx(1.0)
    assert np.argmax(pr_gds) == np.argmax(pr_ig)


def test_degree_strength_coreness_triangles_equal_igraph(pushed):
    _, engine, graph, _ = pushed
    a = degree_strength(graph, engine="igraph")
    b = degree_strength(graph, engine=engine)
    assert np.array_equal(a["degree"].to_numpy(), b["degree"].to_numpy())
    np.testing.assert_allclose(b["strength"].to_numpy(), a["strength"].to_numpy(), rtol=1e-9)
    assert np.array_equal(coreness(graph, engine="igraph")["coreness"].to_numpy(),
                          coreness(graph, engine=engine)["coreness"].to_numpy())
    ig = get_engine("igraph")
    assert np.array_equal(ig.triangles(graph), engine.triangles(graph))


def test_scaled_and_constant_weights_map_to_the_weight_property(pushed):
    _, engine, graph, _ = pushed
    w = graph.weights()
    np.testing.assert_allclose(engine.strength(graph, 3 * w), 3 * get_engine("igraph").strength(graph, w), rtol=1e-9)
    np.testing.assert_allclose(engine.strength(graph, np.full(len(w), 2.0)), 2.0 * engine.degree(graph))
    with pytest.raises(EngineError, match="weight column times a constant"):
        engine.pagerank(graph, w ** 2, damping=0.85)


def test_one_projection_shared_inside_projected_and_always_dropped(pushed):
    store, engine, graph, _ = pushed
    with engine.projected(graph) as p:
        assert projections(store) == [p.name]
        engine.degree(graph)
        engine.coreness(graph)
        assert projections(store) == [p.name]  # no extra projection per call
    assert projections(store) == []
    with pytest.raises(EngineError):
        with engine.projected(graph):
            engine.communities(graph, graph.weights(), method="leiden", objective="cpm", resolution=0.05,
                               seed=1, max_iterations=None)
    assert projections(store) == []  # dropped on failure too


def test_celf_picks_one_seed_per_planted_hub(neo4j_server):
    # three stars of different sizes plus a chain: with probability 1 the spread of a hub is its star
    edges = [(0, i) for i in range(1, 21)] + [(21, i) for i in range(22, 33)] + [(33, i) for i in range(34, 40)]
    edges += [(40, 41), (41, 42)]
    graph = ContactGraph.from_edges(edges, n=43)
    store = neo4j_server.store()
    clear_graph(store)
    push_graph(store, graph, progress=False)
    engine = GdsEngine(store)
    try:
        seeds = engine.influence_seeds(graph, k=3, propagation_probability=1.0, monte_carlo_simulations=10, seed=1)
    finally:
        engine.close()
        clear_graph(store)
        store.close()
    assert list(seeds.columns) == ["rank", "vid", "id", "marginal_gain", "cumulative_spread"]
    assert list(seeds["vid"]) == [0, 21, 33]
    assert list(seeds["marginal_gain"]) == pytest.approx([21.0, 12.0, 7.0])
    assert list(seeds["cumulative_spread"]) == pytest.approx([21.0, 33.0, 40.0])
    assert seeds["id"].tolist() == [graph.subscribers["id"][v] for v in (0, 21, 33)]


def test_analyze_with_gds_engine_and_write_back(pushed, tmp_path):
    from bellwether.algorithms.analysis import analyze

    store, engine, graph, _ = pushed
    run = analyze(tmp_path / "ws", graph=graph, as_of="2025-03-01", engine=engine, objective="modularity",
                  seed=5, progress=False, skip=("influence", "churn"))
    subs = pq.read_table(run / "subscribers.parquet").to_pandas()
    assert subs["community"].notna().all() and (subs["pagerank"] > 0).all()
    result = engine.write_back(run, progress=False)
    assert result.subscribers == graph.n_subscribers
    back = store.read("MATCH (s:Subscriber) RETURN s.id AS id, s.pagerank AS pagerank, s.community AS community")
    merged = subs.merge(back, on="id", suffixes=("", "_db"))
    assert len(merged) == graph.n_subscribers
    np.testing.assert_allclose(merged["pagerank_db"], merged["pagerank"])
    assert (merged["community_db"] == merged["community"]).all()
    assert projections(store) == []


def test_analyze_records_gds_celf_beside_the_imm_seeds(pushed, tmp_path):
    import json

    from bellwether.algorithms.analysis import analyze

    store, engine, graph, _ = pushed
    run = analyze(tmp_path / "ws", graph=graph, as_of="2025-03-01", engine=engine, objective="modularity",
                  seed=5, progress=False, skip=("churn",), k=5, influence_simulations=50, engine_celf=True)
    influence = json.loads((run / "manifest.json").read_text())["metrics"]["influence"]
    celf = influence["engine_celf"]
    assert celf["k"] == 5 and celf["expected_spread"] >= 5  # seeds count themselves
    assert celf["ci_low"] <= celf["expected_spread"] <= celf["ci_high"]
    assert projections(store) == []


def test_missing_graph_and_unreachable_server_give_clear_errors(neo4j_server):
    graph = ContactGraph.from_edges([(0, 1), (1, 2)])
    store = neo4j_server.store()
    clear_graph(store)
    engine = GdsEngine(store)
    try:
        with pytest.raises(EngineError, match="bellwether neo4j push"):
            engine.degree(graph)
        assert projections(store) == []
    finally:
        engine.close()
        store.close()
    down = GdsEngine(Neo4jStore("bolt://127.0.0.1:9"))
    try:
        with pytest.raises(Neo4jError, match="Cannot reach Neo4j at bolt://127.0.0.1:9"):
            down.degree(graph)
    finally:
        down.store.close()

"""The numba Leiden (bellwether.algorithms.engines.numba_leiden): known answers, quality against igraph's
Leiden, reproducibility, connectivity, both objectives, and its place in the igraph engine."""

from __future__ import annotations

import itertools
import random

import networkx as nx
import numba
import numpy as np
import pytest
from sklearn.metrics import normalized_mutual_info_score as nmi

from bellwether.algorithms.community import count_disconnected, cpm_quality, detect_communities, modularity
from bellwether.algorithms.engines.numba_leiden import (
    adaptive_leiden_csr,
    choose_resolution,
    csr_from_edges,
    csr_structure,
    leiden_csr,
    quality_csr,
    resolution_scale,
)
from bellwether.algorithms.engines import EngineError
from bellwether.algorithms.engines.igraph_engine import IgraphEngine
from bellwether.graph.synthetic.planted import planted_graph
from bellwether.graph.contact_graph import ContactGraph


def clique_edges(size: int, offset: int = 0) -> list[tuple[int, int]]:
    return [(offset + a, offset + b) for a, b in itertools.combinations(range(size), 2)]


def csr(g: ContactGraph, weights=None):
    w = g.weights() if weights is None else weights
    return csr_from_edges(g.n_subscribers, g.edge_array(), w)


def igraph_leiden(g: ContactGraph, w, objective: str, resolution: float, seed: int) -> np.ndarray:
    native = g.to_igraph(weight=None)
    import igraph as ig

    ig.set_random_number_generator(random.Random(seed))
    try:
        part = native.community_leiden(
            objective_function="CPM" if objective == "cpm" else "modularity", weights=list(w),
            resolution=resolution, beta=0.01, n_iterations=2,
        )
    finally:
        ig.set_random_number_generator(random)
    return np.asarray(part.membership)


@pytest.mark.parametrize("objective", ["cpm", "modularity"])
@pytest.mark.parametrize("order", ["vertex", "random"])
def test_two_cliques_joined_by_an_edge(objective, order):
    edges = np.array(clique_edges(5) + clique_edges(5, 5) + [(4, 5)])
    indptr, indices, data = csr_from_edges(10, edges, np.ones(len(edges)))
    labels = leiden_csr(indptr, indices, data, objective=objective, resolution=0.05 if objective == "cpm" else 1.0,
                        order=order)
    assert labels.tolist() == [0] * 5 + [1] * 5


def test_karate_club_factions_and_quality_of_igraph():
    k = nx.karate_club_graph()
    g = ContactGraph.from_edges(list(k.edges()), n=34)
    club = [k.nodes[i]["club"] for i in k]
    ones = np.ones(g.n_contacts)
    for seed in range(5):
        labels = leiden_csr(*csr(g, ones), objective="cpm", resolution=0.05, seed=seed)
        assert nmi(club, labels) >= 0.65
        assert cpm_quality(g, labels, ones, resolution=0.05) >= cpm_quality(
            g, igraph_leiden(g, ones, "cpm", 0.05, seed), ones, resolution=0.05) - 1e-9
        mod = leiden_csr(*csr(g, ones), objective="modularity", resolution=1.0, seed=seed)
        assert modularity(g, mod, ones) >= modularity(g, igraph_leiden(g, ones, "modularity", 1.0, seed), ones) - 1e-3


@pytest.fixture(scope="module")
def planted():
    g, truth = planted_graph(6000, 16.0, 0.25, seed=11)
    w = g.weights() / g.weights().mean()
    return g, truth, w


@pytest.mark.parametrize("objective,resolution", [("cpm", 0.05), ("modularity", 1.0)])
def test_quality_matches_igraph_on_a_planted_graph(planted, objective, resolution):
    g, truth, w = planted
    ours = leiden_csr(*csr(g, w), objective=objective, resolution=resolution, seed=3)
    ref = igraph_leiden(g, w, objective, resolution, seed=3)
    if objective == "cpm":
        q, q_ref = cpm_quality(g, ours, w, resolution=resolution), cpm_quality(g, ref, w, resolution=resolution)
        assert q >= q_ref * (1 - 1e-3)
        assert nmi(truth, ours) >= 0.9
    else:
        q, q_ref = modularity(g, ours, w, resolution=resolution), modularity(g, ref, w, resolution=resolution)
        assert q >= q_ref - 2e-3
    assert nmi(ref, ours) >= 0.9
    assert count_disconnected(g, ours) == 0


def test_quality_csr_is_the_optimised_objective(planted):
    g, _, w = planted
    indptr, indices, data = csr(g, w)
    labels = leiden_csr(indptr, indices, data, seed=1)
    n = g.n_subscribers
    # CPM: sum_c (W_c - gamma A_c^2 / 2) = H - gamma n / 2 with unit node weights
    assert quality_csr(indptr, indices, data, labels, node_weights=np.ones(n), gamma=0.05) == pytest.approx(
        cpm_quality(g, labels, w, resolution=0.05) - 0.05 * n / 2)
    strength = np.bincount(np.repeat(np.arange(n), np.diff(indptr)), weights=data, minlength=n)
    assert quality_csr(indptr, indices, data, labels, node_weights=strength, gamma=1 / strength.sum()) == pytest.approx(
        modularity(g, labels, w) * w.sum())


def test_vertex_order_on_a_breadth_first_numbering(planted):
    g, truth, w = planted
    indptr, indices, arc_edge, vertex = csr_structure(g.n_subscribers, g.edge_array())
    assert sorted(vertex.tolist()) == list(range(g.n_subscribers))
    rows = leiden_csr(indptr, indices, w[arc_edge], seed=5, order="vertex")
    labels = np.empty_like(rows)
    labels[vertex] = rows
    assert nmi(truth, labels) >= 0.9
    assert count_disconnected(g, labels) == 0
    ref = leiden_csr(*csr(g, w), seed=5, order="random")
    assert cpm_quality(g, labels, w) >= cpm_quality(g, ref, w) * (1 - 1e-3)


def test_same_seed_same_partition_on_any_number_of_threads(planted):
    g, _, w = planted
    arrays = csr(g, w)
    a = leiden_csr(*arrays, seed=7)
    b = leiden_csr(*arrays, seed=7)
    threads = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        c = leiden_csr(*arrays, seed=7)
    finally:
        numba.set_num_threads(threads)
    assert np.array_equal(a, b) and np.array_equal(a, c)
    d = leiden_csr(*arrays, seed=8)
    assert not np.array_equal(a, d) and nmi(a, d) > 0.9


def test_communities_are_connected_on_a_well_mixed_graph():
    g, _ = planted_graph(3000, 10.0, 0.45, seed=5)
    w = g.weights() / g.weights().mean()
    for objective, resolution in (("cpm", 0.05), ("modularity", 1.0), ("cpm", 0.01)):
        labels = leiden_csr(*csr(g, w), objective=objective, resolution=resolution, seed=1)
        assert count_disconnected(g, labels) == 0


def test_more_iterations_do_not_lower_quality(planted):
    g, _, w = planted
    arrays = csr(g, w)
    one = cpm_quality(g, leiden_csr(*arrays, seed=2, n_iterations=1), w)
    two = cpm_quality(g, leiden_csr(*arrays, seed=2, n_iterations=2), w)
    until_stable = cpm_quality(g, leiden_csr(*arrays, seed=2, n_iterations=None), w)
    assert until_stable >= two * (1 - 1e-4) and two >= one * (1 - 1e-4)


def test_isolated_vertices_self_loops_and_empty_graph():
    edges = np.array([(0, 1), (1, 2), (0, 2), (3, 3), (4, 5)])
    indptr, indices, data = csr_from_edges(7, edges, np.ones(len(edges)))
    assert np.diff(indptr).tolist() == [2, 2, 2, 0, 1, 1, 0]  # the self-loop is left out
    labels = leiden_csr(indptr, indices, data, resolution=0.1)
    assert labels[0] == labels[1] == labels[2] and labels[4] == labels[5]
    assert len({labels[0], labels[3], labels[4], labels[6]}) == 4
    empty = leiden_csr(np.zeros(1, np.int64), np.zeros(0, np.int32), np.zeros(0))
    assert len(empty) == 0
    with pytest.raises(ValueError):
        leiden_csr(indptr, indices, data, objective="surprise")
    with pytest.raises(ValueError):
        leiden_csr(indptr, indices, data, order="sorted")


def test_engine_runs_both_implementations():
    g, truth = planted_graph(3000, 12.0, 0.2, seed=9)
    fast = detect_communities(g, objective="cpm", seed=1, engine=IgraphEngine(leiden="numba"))
    classic = detect_communities(g, objective="cpm", seed=1, engine=IgraphEngine(leiden="igraph"))
    assert fast.metrics["disconnected_split"] == 0 and classic.metrics["disconnected_split"] == 0
    assert fast.metrics["quality"] >= classic.metrics["quality"] * (1 - 1e-3)
    # this small sparse graph is recovered up to NMI 0.89 by both implementations
    assert nmi(truth, fast.labels) >= nmi(truth, classic.labels) - 0.02 and nmi(fast.labels, classic.labels) >= 0.9
    mod = detect_communities(g, objective="modularity", seed=1, engine=IgraphEngine(leiden="numba"))
    assert mod.metrics["modularity"] >= detect_communities(
        g, objective="modularity", seed=1, engine=IgraphEngine(leiden="igraph")).metrics["modularity"] - 2e-3
    assert IgraphEngine(leiden="numba").versions()["leiden_implementation"] == "numba"
    with pytest.raises(EngineError):
        IgraphEngine(leiden="fastest")


def test_engine_names_say_which_leiden_ran():
    """``numba`` (the default) runs the compiled Leiden; ``igraph`` means igraph's own, and the run says so."""
    from bellwether.algorithms.engines import DEFAULT_ENGINE, get_engine
    from bellwether.graph.core.settings import Settings

    assert DEFAULT_ENGINE == "numba" == Settings().engine
    g, _ = planted_graph(2000, 10.0, 0.2, seed=3)
    for name in ("numba", "igraph"):
        engine = get_engine(name)
        assert engine.name == name and engine.versions()["leiden_implementation"] == name
        assert detect_communities(g, seed=1, engine=name).metrics["engine"] == name
    assert detect_communities(g, seed=1).metrics["engine"] == "numba"


@pytest.mark.slow
def test_quality_matches_igraph_at_200k_subscribers():
    g, truth = planted_graph(200_000, 24.0, 0.2, seed=4)
    w = g.weights() / g.weights().mean()
    fast = detect_communities(g, objective="cpm", seed=42, engine=IgraphEngine(leiden="numba"))
    classic = detect_communities(g, objective="cpm", seed=42, engine=IgraphEngine(leiden="igraph"))
    assert fast.metrics["quality"] >= classic.metrics["quality"] * (1 - 1e-4)
    assert nmi(truth, fast.labels) >= 0.9
    assert fast.metrics["disconnected_split"] == 0
    assert count_disconnected(g, fast.labels) == 0
    assert cpm_quality(g, fast.labels, w) == pytest.approx(fast.metrics["quality"])


def test_choose_resolution_takes_the_finest_on_the_plateau():
    scan = [(64.0, None, 0.30), (32.0, None, 0.70), (16.0, None, 0.76), (8.0, None, 0.79), (1.0, None, 0.80)]
    assert scan[choose_resolution(scan, 0.08)][0] == 16.0  # 0.76 >= 0.92 * 0.80; 0.70 is not
    assert scan[choose_resolution(scan, 0.0)][0] == 1.0
    assert scan[choose_resolution(scan, 0.7)][0] == 64.0


def test_resolution_scale_of_disjoint_cliques():
    # k disjoint cliques of s: every neighbourhood holds one clique, so the scale is k
    edges = []
    for c in range(8):
        edges += clique_edges(6, 6 * c)
    indptr, indices, data = csr_from_edges(48, np.array(edges), np.ones(len(edges)))
    assert resolution_scale(indptr, indices, data) == pytest.approx(8.0)


def test_adaptive_leiden_is_reproducible_and_resolves_small_groups():
    """On a planted graph with families of 3-6 and groups up to 150, the scan goes past modularity's
    resolution limit (more, smaller communities than modularity at 1) and stays connected."""
    g, truth = planted_graph(20_000, 12.0, 0.2, seed=12)
    indptr, indices, arc_edge, vertex = csr_structure(g.n_subscribers, g.edge_array())
    from bellwether.algorithms.engines.numba_leiden import arc_weights

    data = arc_weights(g.weights(), arc_edge)
    a, info = adaptive_leiden_csr(indptr, indices, data, seed=5)
    b, _ = adaptive_leiden_csr(indptr, indices, data, seed=5)
    assert np.array_equal(a, b)
    assert info["resolution"] > 1.0 and info["scan"][-1]["resolution"] == 1.0
    assert [s["resolution"] for s in info["scan"]] == sorted((s["resolution"] for s in info["scan"]), reverse=True)
    labels = np.empty(g.n_subscribers, np.int64)
    labels[vertex] = a
    mod1 = leiden_csr(indptr, indices, data, objective="modularity", resolution=1.0, seed=5)
    assert a.max() > mod1.max()
    assert modularity(g, labels) >= (1 - info["tolerance"]) * info["modularity_best"] - 0.02
    assert nmi(truth, labels) >= nmi(truth, mod1[np.argsort(vertex)]) + 0.03
    assert count_disconnected(g, labels) == 0

"""Centrality: known answers on tiny graphs, exact reach against breadth-first search."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest

from bellwether.algorithms.centrality import contact_flows, coreness, degree_strength, pagerank, reach
from bellwether.graph.synthetic.planted import planted_graph
from bellwether.graph.contact_graph import ContactGraph


def test_star_centre_has_top_pagerank_and_pageranks_sum_to_one():
    g = ContactGraph.from_edges([(0, i) for i in range(1, 6)])
    pr = pagerank(g)["pagerank"].to_numpy()
    assert pr.argmax() == 0 and pr.sum() == pytest.approx(1.0)
    assert np.allclose(pr[1:], pr[1])


def test_pagerank_follows_weights():
    g = ContactGraph.from_edges([(0, 1), (0, 2)], weights=[10.0, 1.0])
    pr = pagerank(g)["pagerank"].to_numpy()
    assert pr[1] > pr[2]


def test_degree_strength_and_coreness():
    # triangle 0-1-2 with a tail 2-3-4 and an isolate 5
    g = ContactGraph.from_edges([(0, 1), (1, 2), (0, 2), (2, 3), (3, 4)], weights=[1, 2, 3, 4, 5], n=6)
    ds = degree_strength(g)
    assert ds["degree"].tolist() == [2, 2, 3, 2, 1, 0]
    assert ds["strength"].tolist() == [4.0, 3.0, 9.0, 9.0, 5.0, 0.0]
    assert coreness(g)["coreness"].tolist() == [2, 2, 2, 1, 1, 0]


def test_initiative_counts_calls_and_sms_in_both_directions():
    g = ContactGraph.from_edges(
        [(0, 1), (1, 2)], n=4, calls_ab=[3, 0], calls_ba=[1, 2], sms_ab=[1, 0], sms_ba=[0, 2]
    )
    f = contact_flows(g)
    assert f["events_out"].tolist() == [4.0, 1.0, 4.0, 0.0]
    assert f["events_in"].tolist() == [1.0, 8.0, 0.0, 0.0]  # 1 receives 4 from 0 and 4 from 2
    assert f["initiative"].tolist()[:3] == pytest.approx([0.8, 1 / 9, 1.0])
    assert np.isnan(f["initiative"].iloc[3])


def test_initiative_is_missing_without_direction_columns():
    assert contact_flows(ContactGraph.from_edges([(0, 1)]))["initiative"].isna().all()


def test_reach_exact_equals_breadth_first_search():
    g, _ = planted_graph(1500, 10.0, 0.3, seed=1)
    r = reach(g, exact=True)["reach"].to_numpy()
    G = g.to_networkx()
    bfs = np.array([len(nx.single_source_shortest_path_length(G, v, cutoff=2)) - 1 for v in range(g.n_subscribers)])
    assert np.array_equal(r, bfs)


def test_reach_estimate_is_an_upper_bound_and_exact_on_trees_and_triangles():
    g, _ = planted_graph(1500, 10.0, 0.3, seed=1)
    exact = reach(g, exact=True)["reach"].to_numpy()
    approx = reach(g, exact=False)["reach"].to_numpy()
    assert (approx >= exact).all()
    assert np.corrcoef(exact, approx)[0, 1] > 0.95
    tree = ContactGraph.from_edges([(0, 1), (1, 2), (1, 3), (3, 4), (5, 6), (6, 7), (5, 7)])
    assert reach(tree, exact=False)["reach"].tolist() == reach(tree, exact=True)["reach"].tolist()

"""Bellwether score and roles on hand-made graphs with known answers."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from algorithms.centrality import contact_flows, degree_strength, pagerank
from algorithms.roles import assign_roles, bellwether_scores, participation_coefficient
from graph.contact_graph import ContactGraph


def scored(g: ContactGraph, community) -> pd.DataFrame:
    t = degree_strength(g)
    t["community"] = np.asarray(community, dtype=np.int64)
    t["pagerank"] = pagerank(g)["pagerank"].to_numpy()
    t["events_in"] = contact_flows(g)["events_in"].to_numpy()
    s = bellwether_scores(g, t)
    t["bellwether_score"] = s["bellwether_score"].to_numpy()
    t["community_rank"] = s["community_rank"].to_numpy()
    return t.join(assign_roles(g, t)[["role", "participation"]])


def family() -> ContactGraph:
    """Hub 0 called by 1..4 (each calls 0 far more than 0 calls back); 1-2 and 3-4 also talk; 5 is isolated."""
    edges = [(0, 1), (0, 2), (0, 3), (0, 4), (1, 2), (3, 4)]
    calls_ab = [1, 1, 1, 1, 2, 2]  # a -> b: the hub rarely calls
    calls_ba = [9, 8, 9, 7, 2, 2]  # b -> a: everyone calls the hub
    weights = [5, 5, 5, 5, 1, 1]
    return ContactGraph.from_edges(edges, weights, n=6, calls_ab=calls_ab, calls_ba=calls_ba,
                                   sms_ab=[0] * 6, sms_ba=[0] * 6)


def test_hub_everyone_calls_is_the_bellwether_and_callers_follow():
    t = scored(family(), [0, 0, 0, 0, 0, 1])
    assert t["role"].tolist() == ["bellwether", "follower", "follower", "follower", "follower", "isolate"]
    assert t.loc[0, "community_rank"] == 1 and t.loc[0, "bellwether_score"] == t["bellwether_score"].max()


def test_callers_who_are_called_more_than_they_call_are_not_followers():
    g = family()
    g.contacts["calls_ab"], g.contacts["calls_ba"] = g.contacts["calls_ba"].copy(), g.contacts["calls_ab"].copy()
    t = scored(g, [0, 0, 0, 0, 0, 1])
    assert t.loc[0, "role"] == "bellwether"
    assert (t.loc[1:4, "role"] != "follower").all()


def test_bridge_between_two_cliques():
    # two 5-cliques, and a connector 10 with two contacts into each
    edges = [(a, b) for a, b in itertools.combinations(range(5), 2)]
    edges += [(5 + a, 5 + b) for a, b in itertools.combinations(range(5), 2)]
    edges += [(10, 0), (10, 1), (10, 5), (10, 6)]
    g = ContactGraph.from_edges(edges)
    comm = [0] * 5 + [1] * 5 + [0]
    t = scored(g, comm)
    assert t.loc[10, "role"] == "bridge"
    assert t.loc[10, "participation"] == pytest.approx(0.5)
    assert (t.loc[:9, "participation"] < 0.5).all()
    assert (t["role"] == "bellwether").sum() == 2  # one per community of size >= 3


def test_two_cliques_joined_by_an_edge_bridge_ends_have_the_highest_participation():
    edges = [(a, b) for a, b in itertools.combinations(range(5), 2)]
    edges += [(5 + a, 5 + b) for a, b in itertools.combinations(range(5), 2)] + [(4, 5)]
    g = ContactGraph.from_edges(edges)
    p = participation_coefficient(g, [0] * 5 + [1] * 5)
    assert set(np.flatnonzero(p == p.max())) == {4, 5}
    assert p[4] == pytest.approx(1 - (4 / 5) ** 2 - (1 / 5) ** 2)


def test_small_communities_have_no_bellwether_and_ranks_are_a_permutation():
    g = ContactGraph.from_edges([(0, 1), (2, 3), (3, 4), (2, 4)])
    t = scored(g, [0, 0, 1, 1, 1])
    assert (t.loc[:1, "role"] != "bellwether").all()  # a pair is not a group
    assert (t.loc[2:, "role"] == "bellwether").sum() == 1
    for _, grp in t.groupby("community"):
        assert sorted(grp["community_rank"]) == list(range(1, len(grp) + 1))
    assert t["bellwether_score"].between(0, 1).all()


def test_large_community_can_have_several_bellwethers_but_few():
    # 60 members: two hubs connected to everyone, the rest in a sparse ring
    n = 60
    edges = [(i, (i + 1) % n) for i in range(2, n)] + [(h, i) for h in (0, 1) for i in range(2, n)] + [(0, 1)]
    g = ContactGraph.from_edges(edges)
    t = scored(g, [0] * n)
    assert set(np.flatnonzero(t["role"] == "bellwether")) == {0, 1}

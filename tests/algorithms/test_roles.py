"""Bellwether score and roles on hand-made graphs with known answers."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from bellwether.algorithms.centrality import contact_flows, degree_strength, pagerank
from bellwether.algorithms.roles import assign_roles, bellwether_scores, followed_after, participation_coefficient
from bellwether.graph.synthetic.planted import planted_graph
from bellwether.graph.contact_graph import ContactGraph


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
    # each clique has a leader, but only the top 10 % of the 11 subscribers may be bellwethers: 0 and 1
    # (who also know the connector) tie at the top, and the tie goes to the smaller vid
    assert t.loc[0, "bellwether_score"] == t.loc[1, "bellwether_score"] > 0.9
    assert t.index[t["role"] == "bellwether"].tolist() == [0]


def test_two_cliques_joined_by_an_edge_bridge_ends_have_the_highest_participation():
    edges = [(a, b) for a, b in itertools.combinations(range(5), 2)]
    edges += [(5 + a, 5 + b) for a, b in itertools.combinations(range(5), 2)] + [(4, 5)]
    g = ContactGraph.from_edges(edges)
    p = participation_coefficient(g, [0] * 5 + [1] * 5)
    assert set(np.flatnonzero(p == p.max())) == {4, 5}
    assert p[4] == pytest.approx(1 - (4 / 5) ** 2 - (1 / 5) ** 2)


def test_small_communities_have_no_bellwether_and_ranks_are_a_permutation():
    g = ContactGraph.from_edges([(0, 1), (2, 3), (3, 4), (2, 4), (5, 6), (5, 7), (5, 8), (6, 7)])
    t = scored(g, [0, 0, 1, 1, 1, 2, 2, 2, 2])
    assert (t.loc[:4, "role"] != "bellwether").all()  # a pair or a trio is not a group with a leader
    assert t.loc[5, "role"] == "bellwether"  # 5 leads the group of four, with three contacts
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


# --- one global scale (issue 10) ---------------------------------------------------------------------
def directed(g: ContactGraph, seed: int = 0) -> ContactGraph:
    """Give every contact random calls and SMS in each direction."""
    rng = np.random.default_rng(seed)
    m = g.n_contacts
    for col in ("calls_ab", "calls_ba", "sms_ab", "sms_ba"):
        g.contacts[col] = rng.poisson(3.0, m)
    return g


def many_small_groups(n: int = 3000, seed: int = 7) -> tuple[ContactGraph, np.ndarray]:
    g, membership = planted_graph(n, mean_degree=6, mixing=0.15, min_size=3, max_size=40, seed=seed)
    return directed(g, seed), membership


def test_no_saturation_with_many_small_communities():
    g, membership = many_small_groups()
    t = scored(g, membership)
    s = t["bellwether_score"].to_numpy()
    leaders = int((t["community_rank"] == 1).sum())
    assert leaders > 300  # hundreds of groups, each with a leader...
    assert (s == s.max()).sum() == 1  # ...but one best score
    top = np.sort(s)[::-1][: int(np.ceil(0.01 * len(s)))]
    assert len(np.unique(top)) == len(top)  # no ties among the top 1 %
    assert s.min() >= 0 and s.max() == 1.0
    # a global scale: group leaders spread over it instead of all scoring 1
    assert np.quantile(s[t["community_rank"] == 1], 0.25) < 0.9


def test_score_ties_only_between_equivalent_positions():
    # a ring: everyone is in the same position, so everyone has the same score
    n = 12
    g = ContactGraph.from_edges([(i, (i + 1) % n) for i in range(n)])
    t = scored(g, [0] * n)
    assert t["bellwether_score"].nunique() == 1


def test_leaves_and_isolates_are_never_bellwethers():
    # hub 0 with ten members; leaf 11 hangs on the hub with the strongest tie and most events; 12 is alone
    edges = [(0, i) for i in range(1, 11)] + [(i, i + 1) for i in range(1, 10)] + [(0, 11)]
    weights = [1.0] * 19 + [50.0]
    ab = [1] * 19 + [1]
    ba = [3] * 19 + [500]
    g = ContactGraph.from_edges(edges, weights, n=13, calls_ab=ab, calls_ba=ba, sms_ab=[0] * 20, sms_ba=[0] * 20)
    t = scored(g, [0] * 12 + [1])
    s = t["bellwether_score"]
    assert s[11] < s[t["degree"] >= 2].min()  # one contact ranks below everyone with two
    assert s[12] == 0.0 and t.loc[12, "role"] == "isolate"
    assert t.loc[11, "role"] != "bellwether" and t.loc[0, "role"] == "bellwether"
    # even alone at the top of its community, a subscriber with one contact is no bellwether
    t2 = t.copy()
    t2.loc[11, ["community_rank", "bellwether_score"]] = [1, 1.0]
    assert assign_roles(g, t2).loc[11, "role"] != "bellwether"


def test_medici_lead_the_florentine_families():
    import networkx as nx

    from bellwether.algorithms.roles import role_table
    from bellwether.graph.contact_graph import ContactGraph

    g, names = ContactGraph.from_networkx(nx.florentine_families_graph())
    t = role_table(g)
    order = np.argsort(-t["bellwether_score"].to_numpy(), kind="stable")
    assert names[order[0]] == "Medici"
    assert t["bellwether_score"].to_numpy()[order[0]] > t["bellwether_score"].to_numpy()[order[1]]
    assert t.loc[names.index("Medici"), "role"] == "bellwether"
    # karate club: the two faction leaders, instructor (0) and administrator (33), come first
    g, names = ContactGraph.from_networkx(nx.karate_club_graph())
    top2 = np.argsort(-role_table(g)["bellwether_score"].to_numpy(), kind="stable")[:2]
    assert {names[v] for v in top2} == {0, 33}


def test_role_shares_stay_within_the_stated_bounds():
    g, membership = many_small_groups()
    t = scored(g, membership)
    share = t["role"].value_counts(normalize=True)
    bell = t["role"] == "bellwether"
    assert 0.01 <= share["bellwether"] <= 0.10  # a few percent, never more than the top 10 % of the base
    assert t.loc[bell, "bellwether_score"].min() >= 0.9
    assert (t.loc[bell, "degree"] >= 3).all()
    size = np.bincount(t["community"])
    per_group = np.bincount(t.loc[bell, "community"], minlength=len(size))
    assert (per_group <= np.maximum(1, np.floor(0.05 * size))).all()
    assert 0 < share.get("follower", 0) < 0.5 and share["member"] > 0.3


def test_followed_after_joins_the_score():
    # 1 and 2 have the same structure; only 1 was followed (its contacts adopted after it)
    edges = [(1, 3), (1, 4), (1, 5), (2, 6), (2, 7), (2, 8), (0, 1), (0, 2)]
    g = ContactGraph.from_edges(edges)
    day = [None, "2025-01-01", "2025-01-01", "2025-01-05", "2025-01-09", "2025-02-20", None, None, None]
    f = followed_after(g, day, window_days=30)
    assert f.tolist() == [0, 2, 0, 0, 0, 0, 0, 0, 0]
    t = degree_strength(g)
    t["community"] = [0] * 9
    t["pagerank"] = pagerank(g)["pagerank"].to_numpy()
    plain = bellwether_scores(g, t)["bellwether_score"]
    assert plain[1] == plain[2]
    with_f = bellwether_scores(g, t, followed=f)["bellwether_score"]
    assert with_f[1] > with_f[2]


def test_report_showcase_picks_the_top_scores_ties_by_id():
    from bellwether.algorithms.report.data import showcase_bellwethers

    score = np.array([0.5, 0.99, 0.99, 0.97, 1.0, np.nan])
    ids = np.array(["f", "d", "b", "c", "a", "e"], dtype=object)
    eligible = np.array([True, True, True, True, False, True])
    assert showcase_bellwethers(np.nan_to_num(score, nan=-np.inf), ids, eligible, 3).tolist() == [2, 1, 3]
    # row order does not matter
    perm = np.array([5, 3, 1, 0, 4, 2])
    picked = showcase_bellwethers(np.nan_to_num(score[perm], nan=-np.inf), ids[perm], eligible[perm], 3)
    assert ids[perm][picked].tolist() == ["b", "d", "c"]

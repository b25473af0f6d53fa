"""Communities: known answers on canonical graphs, connectivity, reproducibility, stable ids, table."""

from __future__ import annotations

import itertools
import warnings

import networkx as nx
import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import normalized_mutual_info_score as nmi

from bellwether.algorithms.community import (
    coarse_communities,
    canonical_labels,
    community_table,
    count_disconnected,
    detect_communities,
    leiden,
    louvain,
    WeakStructureWarning,
    match_community_ids,
    merge_singletons,
    modularity,
    split_disconnected,
)
from bellwether.algorithms.engines import EngineError
from bellwether.graph.synthetic.planted import planted_graph
from bellwether.graph.contact_graph import ContactGraph


def clique_edges(size: int, offset: int = 0) -> list[tuple[int, int]]:
    return [(offset + a, offset + b) for a, b in itertools.combinations(range(size), 2)]


def two_cliques() -> ContactGraph:
    return ContactGraph.from_edges(clique_edges(5) + clique_edges(5, 5) + [(4, 5)])


def karate() -> tuple[ContactGraph, list[str]]:
    k = nx.karate_club_graph()
    return ContactGraph.from_edges(list(k.edges()), n=34), [k.nodes[i]["club"] for i in k]


@pytest.mark.parametrize("engine", ["igraph", "networkx"])
@pytest.mark.parametrize("objective", ["cpm", "modularity"])
def test_two_cliques_joined_by_an_edge_are_two_communities(engine, objective):
    labels = leiden(two_cliques(), objective=objective, engine=engine)["community"].tolist()
    assert labels == [0] * 5 + [1] * 5


@pytest.mark.parametrize("engine", ["igraph", "networkx"])
def test_karate_club_factions(engine):
    g, club = karate()
    # CPM 0.05 happens to give the two factions of the 1977 split (NMI 0.68 with both engines)
    labels = leiden(g, objective="cpm", engine=engine)["community"]
    assert nmi(club, labels) >= 0.65
    # the default finds modularity's optimum (4 groups, Q = 0.4198, Brandes et al. 2008) or next to it:
    # the two factions split in two each (NMI 0.49-0.60 depending on the seed, as networkx's Louvain)
    res = detect_communities(g, engine=engine, seed=1)
    assert res.metrics["resolution"] == 1.0 and 3 <= res.metrics["n_communities"] <= 5
    assert res.metrics["modularity"] >= 0.39 and nmi(club, res.labels) >= 0.45


def test_ring_of_cliques_resolution_limit():
    """Fortunato & Barthélemy 2007 (doi:10.1073/pnas.0605965104): a ring of 30 five-cliques.

    Modularity merges neighbouring cliques (its resolution limit); CPM keeps all 30.
    """
    edges = []
    for c in range(30):
        edges += clique_edges(5, 5 * c)
        edges.append((5 * c + 4, (5 * (c + 1)) % 150))
    g = ContactGraph.from_edges(edges)
    truth = np.repeat(np.arange(30), 5)
    cpm = leiden(g, objective="cpm")["community"].to_numpy()
    assert cpm.max() + 1 == 30 and nmi(truth, cpm) == pytest.approx(1.0)
    mod = leiden(g, objective="modularity")["community"].to_numpy()
    assert mod.max() + 1 < 30
    # the default's scan finds the finer partition on modularity's plateau: all 30 cliques
    auto = detect_communities(g)
    assert auto.metrics["n_communities"] == 30 and nmi(truth, auto.labels) == pytest.approx(1.0)
    assert auto.metrics["resolution"] > 1.0


def ring_of_cliques_with_noise(k: int = 10, size: int = 20, noise: int = 150, seed: int = 0):
    """``k`` cliques of ``size`` in a ring, one tie between neighbours, plus ``noise`` random ties."""
    rng = np.random.default_rng(seed)
    edges = []
    for c in range(k):
        edges += clique_edges(size, size * c)
        edges.append((size * c + size - 1, (size * (c + 1)) % (k * size)))
    n = k * size
    extra = rng.integers(0, n, size=(noise, 2))
    edges += [tuple(e) for e in extra[extra[:, 0] != extra[:, 1]].tolist()]
    lo_hi = {tuple(sorted(e)) for e in edges}
    return ContactGraph.from_edges(sorted(lo_hi), n=n), np.repeat(np.arange(k), size)


@pytest.mark.parametrize("engine", ["igraph", "networkx"])
def test_default_never_one_community_on_clear_structure(engine):
    g, truth = ring_of_cliques_with_noise()
    res = detect_communities(g, engine=engine)
    assert res.metrics["n_communities"] > 1 and res.metrics["modularity_best"] >= 0.3
    assert nmi(truth, res.labels) >= 0.95
    # a sparse planted partition: 40 groups of 25, 4 ties inside per person, 1 outside
    sparse = nx.planted_partition_graph(40, 25, 4 / 24, 1 / 975, seed=3)
    gs = ContactGraph.from_edges(list(sparse.edges()), n=1000)
    truth_s = np.repeat(np.arange(40), 25)
    res = detect_communities(gs, engine=engine, seed=2)
    assert res.metrics["n_communities"] > 1
    assert nmi(truth_s, res.labels) >= 0.8


def test_default_adapts_where_a_fixed_density_fails():
    """A dense graph (10 groups of 24, half of all pairs meet, with weight 10 in their group, 1 across):
    CPM 0.05 on mean-normalised weights sees one community; the default finds the groups."""
    n, k = 240, 10
    group = np.repeat(np.arange(k), n // k)
    pairs = np.array(list(itertools.combinations(range(n), 2)))
    rng = np.random.default_rng(1)
    pairs = pairs[rng.random(len(pairs)) < 0.5]
    w = np.where(group[pairs[:, 0]] == group[pairs[:, 1]], 10.0, 1.0)
    g = ContactGraph.from_edges(pairs, w, n=n)
    assert leiden(g, objective="cpm")["community"].nunique() == 1
    res = detect_communities(g)
    assert nmi(group, res.labels) == pytest.approx(1.0)


def test_default_leaves_singletons_only_with_at_most_one_contact():
    g, _ = planted_graph(3000, 6.0, 0.4, seed=8)
    res = detect_communities(g)
    sizes = np.bincount(res.labels)
    alone = sizes[res.labels] == 1
    degree = np.bincount(g.edge_array().ravel(), minlength=g.n_subscribers)
    assert (degree[alone] <= 1).all()
    assert res.metrics["singletons"] == int(alone.sum())
    assert count_disconnected(g, res.labels) == 0


def test_merge_singletons_moves_to_the_community_with_most_tie_strength():
    # 0-1-2 triangle (community 0), 3-4 pair (community 1), 5 alone with ties to 0 (w 1), 3 (w 2) and 4 (w 2);
    # 6 alone with one contact stays alone; 7 and 8 alone, tied to each other and to nobody else
    g = ContactGraph.from_edges([(0, 1), (1, 2), (0, 2), (3, 4), (0, 5), (3, 5), (4, 5), (2, 6), (7, 8), (8, 9), (7, 9)],
                                weights=[1, 1, 1, 1, 1, 2, 2, 1, 1, 1, 1])
    lab = np.array([0, 0, 0, 1, 1, 2, 3, 4, 5, 6])
    out, moved = merge_singletons(g, lab)
    assert out[5] == 1 and out[6] == 3
    assert out[7] == out[8] == out[9] and moved == 3  # 5; 7 joins 8, which is then no longer alone; 9 joins them


def test_weak_structure_warns():
    er = nx.gnp_random_graph(300, 0.2, seed=1)
    g = ContactGraph.from_edges(list(er.edges()), n=300)
    with pytest.warns(WeakStructureWarning, match="weak community structure"):
        res = detect_communities(g)
    assert res.metrics["modularity_best"] < 0.3 and "note" in res.metrics
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        clear = detect_communities(ring_of_cliques_with_noise()[0])
    assert "note" not in clear.metrics


def test_auto_chooses_its_resolution():
    with pytest.raises(EngineError, match="chooses the resolution"):
        detect_communities(two_cliques(), objective="auto", resolution=1.0)
    res = detect_communities(ring_of_cliques_with_noise()[0])
    scan = res.metrics["resolution_scan"]
    assert scan[-1]["resolution"] == 1.0 and scan[0]["resolution"] >= res.metrics["resolution"]
    assert res.metrics["objective"] == "auto"


def test_planted_partition_is_recovered_and_connected():
    g, truth = planted_graph(4000, 15.0, 0.2, seed=3)
    res = detect_communities(g, seed=1)
    # 0.886 (CPM 0.05: 0.913; the best modularity resolution on this graph: 0.893): groups of 3-6
    # with 15 contacts each are mostly ties outside, where modularity's degree-based null model
    # merges them before CPM does
    assert nmi(truth, res.labels) >= 0.85
    assert res.metrics["disconnected_split"] == 0
    assert count_disconnected(g, res.labels) == 0


@pytest.mark.parametrize("engine", ["igraph", "networkx"])
def test_louvain_output_is_connected(engine):
    g, _ = planted_graph(1500, 10.0, 0.35, seed=5)
    labels = louvain(g, engine=engine)["community"].to_numpy()
    assert count_disconnected(g, labels) == 0


def test_split_disconnected_splits_a_disconnected_community():
    g = ContactGraph.from_edges([(0, 1), (2, 3), (1, 2)])  # path 0-1-2-3
    bad = np.array([0, 0, 1, 0])  # community 0 = {0, 1, 3}: 3 is cut off
    assert count_disconnected(g, bad) == 1
    fixed = split_disconnected(g, bad)
    assert count_disconnected(g, fixed) == 0
    assert fixed[0] == fixed[1] and fixed[3] != fixed[0] and len(set(fixed)) == 3


def test_same_seed_same_partition_and_different_seed_still_good():
    g, truth = planted_graph(3000, 12.0, 0.3, seed=9)
    a = leiden(g, seed=7)
    b = leiden(g, seed=7)
    pd.testing.assert_frame_equal(a, b)
    c = leiden(g, seed=8)["community"]
    assert nmi(a["community"], c) > 0.9


def test_modularity_matches_igraph_and_networkx():
    g, _ = planted_graph(800, 8.0, 0.3, seed=2)
    labels = leiden(g, objective="modularity")["community"].to_numpy()
    ig_g = g.to_igraph()
    assert modularity(g, labels) == pytest.approx(ig_g.modularity(labels.tolist(), weights="weight"))
    parts = [set(np.flatnonzero(labels == c).tolist()) for c in range(labels.max() + 1)]
    assert modularity(g, labels) == pytest.approx(nx.community.modularity(g.to_networkx(), parts, weight="weight"))


def test_canonical_labels_order_by_size_then_smallest_vid():
    assert canonical_labels([5, 5, 9, 9, 9, 2]).tolist() == [1, 1, 0, 0, 0, 2]


def test_unknown_options_fail():
    with pytest.raises(EngineError):
        leiden(two_cliques(), objective="surprise")
    with pytest.raises(EngineError):
        louvain(two_cliques(), objective="cpm")  # igraph's Louvain optimises modularity only


def test_stable_ids_across_runs_on_a_perturbed_graph():
    g, _ = planted_graph(3000, 12.0, 0.2, seed=4)
    first = leiden(g, seed=1)
    ids = g.subscribers["id"]
    prev_ids, _ = match_community_ids(pd.DataFrame({"id": ids, "community": first["community"]}), None)
    prev = pd.DataFrame({"id": ids, "community": prev_ids + 100})  # previous run used other numbers
    rng = np.random.default_rng(0)
    keep = rng.random(g.n_contacts) > 0.05  # drop 5% of contacts
    g2 = ContactGraph(g.subscribers, g.contacts[keep].reset_index(drop=True))
    second = leiden(g2, seed=2)
    stable, info = match_community_ids(pd.DataFrame({"id": ids, "community": second["community"]}), prev)
    # most subscribers keep their community id, although the raw labels were renumbered
    assert (stable == prev["community"].to_numpy()).mean() > 0.85
    assert info["matched"] > 0.8 * (second["community"].max() + 1)
    new_ids = set(stable) - set(prev["community"])
    assert all(i > prev["community"].max() for i in new_ids)


def test_stable_ids_never_give_two_communities_one_id():
    cur = pd.DataFrame({"id": list("abcdef"), "community": [0, 0, 0, 1, 1, 1]})
    prev = pd.DataFrame({"id": list("abcdef"), "community": [4, 4, 4, 4, 4, 4]})
    stable, info = match_community_ids(cur, prev)
    assert stable.tolist() == [4, 4, 4, 5, 5, 5]
    assert info == {"matched": 1, "new": 1, "mean_jaccard": 0.5}


def test_community_table_known_values():
    g = ContactGraph.from_edges([(0, 1), (1, 2), (0, 2), (2, 3), (3, 4)], weights=[1, 1, 1, 2, 1])
    subs = pd.DataFrame(
        {
            "id": [f"s{i}" for i in range(5)],
            "community": [0, 0, 0, 1, 1],
            "coarse_community": [7, 7, 7, 7, 7],
            "arpu": [10.0, 20.0, np.nan, 5.0, 7.0],
            "on_net": [True, True, False, True, True],
            "churned": [False, True, False, False, False],
            "recent_churner": [False, True, False, False, False],
            "bellwether_score": [0.5, 0.9, 0.7, 0.2, 0.8],
        }
    )
    t = community_table(g, subs).set_index("community")
    assert t.loc[0, "size"] == 3 and t.loc[1, "size"] == 2
    assert t.loc[0, "internal_density"] == 1.0
    assert t.loc[0, "internal_weight_share"] == pytest.approx(6 / 8)  # 2*3 inside / strengths 2+2+4
    assert t.loc[1, "internal_weight_share"] == pytest.approx(2 / 4)
    assert t.loc[0, "churn_rate"] == pytest.approx(1 / 3) and t.loc[0, "recent_churners"] == 1
    assert t.loc[0, "mean_arpu"] == pytest.approx(15.0) and t.loc[0, "on_net_share"] == pytest.approx(2 / 3)
    assert t.loc[0, "bellwether"] == "s1" and t.loc[1, "bellwether"] == "s4"
    assert t["coarse_community"].tolist() == [7, 7]
    c = community_table(g, subs, level="coarse").set_index("community")
    assert c.loc[7, "size"] == 5 and c.loc[7, "fine_communities"] == 2
    assert c.loc[7, "internal_weight_share"] == pytest.approx(1.0) and c.loc[7, "bellwether"] == "s1"


def test_coarse_level_nests_the_fine_one_and_is_stable():
    """Every fine community lies in one coarse community; the coarse level is at least as coarse,
    and a second run on the same graph keeps both levels' ids."""
    g, _ = planted_graph(3000, 8.0, 0.3, seed=3)
    found = detect_communities(g, seed=1)
    fine, coarse = found.labels, found.coarse_labels
    pairs = pd.DataFrame({"f": fine, "c": coarse}).drop_duplicates()
    assert pairs["f"].is_unique  # nested
    assert coarse.max() <= fine.max()
    assert found.metrics["coarse"]["resolution"] == pytest.approx(np.sqrt(max(found.metrics["resolution"], 1.0)))
    assert found.metrics["coarse"]["n_communities"] == coarse.max() + 1


def test_coarse_level_merges_communities_joined_beyond_chance():
    """Two pairs of triangles, each pair joined by three contacts, the pairs by one: the coarse
    level joins each pair and keeps the pairs apart."""
    tri = [(0, 1), (1, 2), (0, 2), (3, 4), (4, 5), (3, 5), (6, 7), (7, 8), (6, 8), (9, 10), (10, 11), (9, 11)]
    g = ContactGraph.from_edges(tri + [(0, 3), (1, 4), (2, 5), (6, 9), (7, 10), (8, 11), (5, 6)])
    fine = np.repeat(np.arange(4), 3)
    coarse, info = coarse_communities(g, fine, np.ones(g.n_contacts))
    assert coarse.tolist() == [0, 0, 1, 1] and info["n_coarse"] == 2
    # with no tie between the communities nothing merges
    alone = ContactGraph.from_edges(tri)
    assert coarse_communities(alone, fine, np.ones(alone.n_contacts))[0].tolist() == [0, 1, 2, 3]

r"""The coarse community level: the fine communities grouped into wider ones, nested by construction.

Marketing needs two circles around a subscriber: the close one (household,
family plan, close friends: the fine communities of
:func:`bellwether.algorithms.community.detect_communities`) and the wider group
(workplace, class, village).  The coarse level is the next level of the
Louvain hierarchy (Blondel, Guillaume, Lambiotte & Lefebvre 2008,
doi:10.1088/1742-5468/2008/10/P10008) built on the fine partition: each fine
community becomes one node whose self-loop carries the tie strength inside it
and whose edges carry the tie strength between communities, and Leiden on
modularity at :math:`\\gamma` = ``resolution`` (1 by default) groups those nodes
(Traag, Waltman & van Eck 2019, doi:10.1038/s41598-019-41695-z).  On the
aggregate graph a node's strength and the weight inside a group equal the
members' on the full graph, so the coarse partition's modularity is the
ordinary modularity of the subscribers' wider groups; every fine community
lies inside exactly one coarse community, and Leiden keeps each coarse group
connected.

The resolution of the coarse level is the geometric midpoint between the fine
level's and 1, :math:`\gamma_c = \sqrt{\gamma_f}` (:func:`coarse_resolution`):
halfway down the resolution scan on its logarithmic scale.  Going all the way
to :math:`\gamma = 1` hits the resolution limit (Fortunato & Barthélemy 2007,
doi:10.1073/pnas.0605965104), which grows with the size of the graph: on a
generated operator of 100,000 subscribers three quarters of them end up in
"wider groups" above 400 people (the largest 9,451), where
:math:`\sqrt{\gamma_f}` leaves 2% there (bench/RESULTS.md, "Two community
levels").  When the fine level is already at :math:`\gamma = 1` (the karate
club) the coarse level equals it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from bellwether.algorithms.engines.numba_leiden import csr_from_edges, leiden_csr
from bellwether.graph.contact_graph import ContactGraph
from bellwether.graph.core.settings import DEFAULT_SEED

__all__ = ["aggregate_communities", "coarse_communities", "coarse_resolution"]


def coarse_resolution(fine_resolution: float, objective: str) -> float:
    """Modularity resolution of the coarse level: the square root of the fine one (modularity or
    ``auto``), at least 1; 1 under CPM, whose resolution is a density, not a modularity scale."""
    if objective == "cpm":
        return 1.0
    return float(max(np.sqrt(max(float(fine_resolution), 1.0)), 1.0))


def aggregate_communities(graph: ContactGraph, fine: np.ndarray, weights: np.ndarray):
    """The community graph of ``fine``: one node per community.

    Returns
    -------
    edges : (p, 2) int64
        Pairs of communities joined by at least one contact, each pair once (smaller label first).
    between : (p,) float64
        Summed tie strength between the two communities.
    strength : (k,) float64
        Summed strength of each community's members (inside weight counted twice).
    """
    lab = np.asarray(fine, dtype=np.int64)
    k = int(lab.max()) + 1 if len(lab) else 0
    e = graph.edge_array()
    w = np.asarray(weights, dtype=np.float64)
    ca, cb = lab[e[:, 0]], lab[e[:, 1]]
    strength = np.bincount(ca, weights=w, minlength=k) + np.bincount(cb, weights=w, minlength=k)
    cross = ca != cb
    lo, hi = np.minimum(ca[cross], cb[cross]), np.maximum(ca[cross], cb[cross])
    key, inverse = np.unique(lo * k + hi, return_inverse=True)
    between = np.bincount(inverse, weights=w[cross], minlength=len(key))
    edges = np.column_stack([key // k, key % k]) if len(key) else np.zeros((0, 2), dtype=np.int64)
    return edges.astype(np.int64), between, strength


def coarse_communities(
    graph: ContactGraph,
    fine: np.ndarray,
    weights: np.ndarray,
    *,
    resolution: float = 1.0,
    seed: int = DEFAULT_SEED,
    n_iterations: int | None = None,
) -> tuple[np.ndarray, dict[str, Any]]:
    """Group the fine communities ``fine`` (labels ``0..k-1`` per vertex) into coarse ones.

    Returns the coarse label of each fine community (``0..K-1``, in order of first appearance;
    index it with ``fine`` for the label per vertex) and ``{"resolution", "n_coarse"}``.
    Subscribers with no contacts stay alone at both levels.

    Two pairs of triangles, each pair joined by three contacts and the pairs by one:

    >>> tri = [(0, 1), (1, 2), (0, 2), (3, 4), (4, 5), (3, 5), (6, 7), (7, 8), (6, 8), (9, 10), (10, 11), (9, 11)]
    >>> g = ContactGraph.from_edges(tri + [(0, 3), (1, 4), (2, 5), (6, 9), (7, 10), (8, 11), (5, 6)])
    >>> fine = np.array([0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3])
    >>> coarse_communities(g, fine, np.ones(g.n_contacts))[0].tolist()
    [0, 0, 1, 1]
    """
    lab = np.asarray(fine, dtype=np.int64)
    k = int(lab.max()) + 1 if len(lab) else 0
    if k == 0:
        return np.zeros(0, dtype=np.int64), {"resolution": float(resolution), "n_coarse": 0}
    edges, between, strength = aggregate_communities(graph, lab, weights)
    indptr, indices, data = csr_from_edges(k, edges, between)
    if strength.sum() > 0:
        coarse = leiden_csr(indptr, indices, data, node_weights=strength, objective="modularity",
                            resolution=float(resolution), seed=int(seed), n_iterations=n_iterations)
    else:
        coarse = np.arange(k, dtype=np.int64)
    return coarse, {"resolution": float(resolution), "n_coarse": int(coarse.max()) + 1}

"""Baseline seed choices for influence maximisation: top-k by weighted PageRank and by degree.

They are what a marketer would pick without a diffusion model, and the yardstick
the IMM seeds are compared against.
"""

from __future__ import annotations

import numpy as np

from bellwether.graph.contact_graph import ContactGraph

__all__ = ["degrees", "pagerank_scores", "top_k", "top_k_degree", "top_k_pagerank"]


def pagerank_scores(graph: ContactGraph, *, damping: float = 0.85, weight: str | None = "weight") -> np.ndarray:
    """Weighted PageRank of every subscriber on the undirected contact graph (igraph, PRPACK)."""
    if graph.n_subscribers == 0:
        return np.zeros(0)
    if weight is not None and weight not in graph.contacts.columns:
        weight = None
    g = graph.to_igraph(weight=weight)
    return np.asarray(g.pagerank(weights="weight", damping=damping), dtype=np.float64)


def top_k(scores: np.ndarray, k: int, candidates: np.ndarray | None = None) -> np.ndarray:
    """Vertex numbers of the ``k`` highest ``scores`` among ``candidates`` (ties: lower vertex number first)."""
    scores = np.asarray(scores, dtype=np.float64)
    pool = np.arange(len(scores)) if candidates is None else np.unique(np.asarray(candidates, dtype=np.int64))
    order = np.lexsort((pool, -scores[pool]))
    return pool[order[:k]]


def top_k_pagerank(graph: ContactGraph, k: int, candidates: np.ndarray | None = None, **kw) -> np.ndarray:
    """The ``k`` candidates with the highest weighted PageRank."""
    return top_k(pagerank_scores(graph, **kw), k, candidates)


def degrees(graph: ContactGraph) -> np.ndarray:
    """Number of contacts of every subscriber (``int64``)."""
    return np.bincount(graph.edge_array().ravel(), minlength=graph.n_subscribers)


def top_k_degree(graph: ContactGraph, k: int, candidates: np.ndarray | None = None) -> np.ndarray:
    """The ``k`` candidates with the most contacts."""
    return top_k(degrees(graph), k, candidates)

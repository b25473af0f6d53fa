"""Contagion score: personalised PageRank seeded at recent churners.

A random walker starts at a recent churner (chosen in proportion to how
recently they churned), follows ties in proportion to tie strength, and with
probability ``1 - damping`` jumps back to a churner.  Its stationary
distribution ``x`` solves::

    x = damping * P.T @ x + (1 - damping) * v,     P[i, j] = w_ij / s_i

with ``v`` the restart distribution over recent churners (``v_j`` proportional
to ``exp(-days_since_churn_j / decay_days)``); walkers at a vertex without ties
restart.  Personalised PageRank: Haveliwala, "Topic-sensitive PageRank",
WWW 2002, doi:10.1145/511446.511513; its use for churn contagion follows the
diffusion view of Dasgupta et al. 2008 (doi:10.1145/1353343.1353424).
Solved by power iteration on the sparse adjacency.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from bellwether.algorithms.churn import timeline

__all__ = ["personalized_pagerank", "contagion_pagerank", "restart_weights"]


def personalized_pagerank(
    adjacency: Any,
    restart: np.ndarray,
    *,
    damping: float = 0.85,
    tol: float = 1e-10,
    max_iterations: int = 200,
) -> np.ndarray:
    """Personalised PageRank on a symmetric weighted adjacency.

    Parameters
    ----------
    adjacency : scipy.sparse array, shape (n, n)
        Symmetric tie-strength matrix ``W``.
    restart : ndarray, shape (n,)
        Non-negative restart weights (normalised here); all zero gives all-zero scores.
    damping : float, default 0.85
        Probability of following a tie; higher spreads further from the seeds.
    tol : float, default 1e-10
        Stop when the L1 change of ``x`` is below this.
    max_iterations : int, default 200
        Hard limit on iterations.

    Returns
    -------
    ndarray, shape (n,)
        Visit probabilities (sum 1, or all 0 without seeds).

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> W = sp.csr_array(([1.0, 1.0], ([0, 1], [1, 0])), shape=(2, 2))
    >>> personalized_pagerank(W, np.array([1.0, 0.0]), damping=0.5).round(4).tolist()
    [0.6667, 0.3333]
    """
    if not 0.0 <= damping < 1.0:
        raise ValueError(f"damping must be in [0, 1), got {damping}.")
    v = np.asarray(restart, dtype=np.float64)
    if (v < 0).any():
        raise ValueError("restart weights must be >= 0.")
    total = v.sum()
    if total == 0:
        return np.zeros_like(v)
    v = v / total
    strength = np.asarray(adjacency.sum(axis=1)).ravel()
    dangling = strength <= 0
    inv_strength = np.where(dangling, 0.0, 1.0 / np.where(dangling, 1.0, strength))
    x = v.copy()
    for _ in range(max_iterations):
        walk = adjacency @ (x * inv_strength)
        lost = x[dangling].sum()
        new = damping * walk + (damping * lost + 1.0 - damping) * v
        delta = np.abs(new - x).sum()
        x = new
        if delta < tol:
            break
    return x


def restart_weights(subscribers: pd.DataFrame, as_of: Any, *, recency_days: int = 30, decay_days: float = 30.0) -> np.ndarray:
    """Restart weights: ``exp(-days_since_churn / decay_days)`` for churners of the recency window, else 0."""
    recent = timeline.recent_churners(subscribers, as_of, recency_days)
    days = timeline.days_since_churn(subscribers, as_of)
    return np.where(recent, np.exp(-np.nan_to_num(days) / decay_days), 0.0)


def contagion_pagerank(
    graph: Any,
    as_of: Any,
    *,
    recency_days: int = 30,
    decay_days: float = 30.0,
    damping: float = 0.85,
    tol: float = 1e-10,
    max_iterations: int = 200,
    weight: str | None = "weight",
) -> pd.DataFrame:
    """Contagion score of every subscriber: personalised PageRank from the churners before ``as_of``.

    Parameters
    ----------
    graph : ContactGraph
        Built from records before ``as_of``.
    as_of : date-like
        Only churn strictly before it seeds the walk.
    recency_days : int, default 30
        Churners of ``[as_of - recency_days, as_of)`` are seeds.
    decay_days : float, default 30
        Recency decay of the restart weights; larger weighs older churners more.
    damping, tol, max_iterations
        See :func:`personalized_pagerank`.
    weight : str or None, default "weight"
        Contact column used as tie strength.

    Returns
    -------
    pandas.DataFrame
        Columns ``vid`` and ``contagion_score``.
    """
    v = restart_weights(graph.subscribers, as_of, recency_days=recency_days, decay_days=decay_days)
    x = personalized_pagerank(graph.to_csr(weight), v, damping=damping, tol=tol, max_iterations=max_iterations)
    return pd.DataFrame({"vid": np.arange(graph.n_subscribers, dtype=np.int64), "contagion_score": x})

"""Spreading activation from churners (Dasgupta et al. 2008).

Dasgupta, Singh, Viswanathan, Chakraborty, Mukherjea, Nanavati and Joshi,
"Social ties and their relevance to churn in mobile telecom networks",
EDBT 2008, doi:10.1145/1353343.1353424, propose to find the next churners by
letting *energy* flow from the current churners along the weighted social
ties: every churner starts with the same energy; a node that receives energy
keeps a share of it and passes the rest (the *spreading factor*) on to its
neighbours in proportion to tie strength; a node only passes energy on while
the amount is above a threshold, so the spread dies out.  The paper predicts as
churners the nodes whose final energy exceeds an activation threshold; we return
the energy itself, so any threshold or top-k cut (the lift curve) can be applied.

The iteration, vectorised over all nodes (``P`` is the row-stochastic transfer
matrix ``P[i, j] = w_ij / s_i`` with ``s_i = sum_j w_ij``)::

    pending = E0;  energy = 0
    repeat:
        fire    = (pending > threshold) & (s > 0)
        energy += pending * (1 - d * fire)      # firing nodes keep 1 - d, others keep all
        pending = P.T @ (d * pending * fire)    # what the firing nodes pass on
    until no node fires (or max_iterations); energy += pending

Energy is conserved (``energy.sum() == E0.sum()``).  The paper leaves the
parameter values to the application; the defaults here (``d = 0.6``,
``threshold = 0.01`` of a churner's initial energy 1) are ours, chosen on the
planted-contagion benchmark (``bench/eval_churn.py``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from bellwether.algorithms.churn import timeline

__all__ = ["spread_energy", "spreading_activation"]


def spread_energy(
    adjacency: Any,
    energy: np.ndarray,
    *,
    spreading_factor: float = 0.6,
    threshold: float = 0.01,
    max_iterations: int | None = 100,
) -> np.ndarray:
    """Spread ``energy`` over a symmetric weighted adjacency until it falls below ``threshold``.

    Parameters
    ----------
    adjacency : scipy.sparse array, shape (n, n)
        Symmetric tie-strength matrix ``W`` (as from ``ContactGraph.to_csr()``).
    energy : ndarray, shape (n,)
        Initial energy (1 on each seed churner, 0 elsewhere for the plain score).
    spreading_factor : float, default 0.6
        Share ``d`` of its received energy a firing node passes on; higher spreads further.
    threshold : float, default 0.01
        A node passes energy on only when the amount it received exceeds this; lower spreads further.
    max_iterations : int or None, default 100
        Stop after this many waves (None: until no node fires).

    Returns
    -------
    ndarray, shape (n,)
        Final energy of each node; sums to ``energy.sum()``.

    Examples
    --------
    Path 0-1-2, energy 1 at node 0, ``d = 0.5``, threshold 0.2:

    >>> import scipy.sparse as sp
    >>> W = sp.csr_array(([1.0, 1.0, 1.0, 1.0], ([0, 1, 1, 2], [1, 0, 2, 1])), shape=(3, 3))
    >>> spread_energy(W, np.array([1.0, 0.0, 0.0]), spreading_factor=0.5, threshold=0.2).tolist()
    [0.625, 0.25, 0.125]
    """
    if not 0.0 <= spreading_factor <= 1.0:
        raise ValueError(f"spreading_factor must be in [0, 1], got {spreading_factor}.")
    if threshold < 0:
        raise ValueError(f"threshold must be >= 0, got {threshold}.")
    pending = np.asarray(energy, dtype=np.float64).copy()
    strength = np.asarray(adjacency.sum(axis=1)).ravel()
    can_pass = strength > 0
    inv_strength = np.zeros_like(strength)
    inv_strength[can_pass] = 1.0 / strength[can_pass]
    total = np.zeros_like(pending)
    it = 0
    while True:
        fire = (pending > threshold) & can_pass
        if not fire.any() or (max_iterations is not None and it >= max_iterations):
            break
        total += np.where(fire, pending * (1.0 - spreading_factor), pending)
        out = np.where(fire, spreading_factor * pending, 0.0)
        pending = adjacency @ (out * inv_strength)  # W symmetric: P.T @ out == W @ (out / s)
        it += 1
    return total + pending


def spreading_activation(
    graph: Any,
    as_of: Any,
    *,
    recency_days: int = 30,
    spreading_factor: float = 0.6,
    threshold: float = 0.01,
    max_iterations: int | None = 100,
    weight: str | None = "weight",
) -> pd.DataFrame:
    """Plain spreading-activation score: energy 1 on each churner of ``[as_of - recency_days, as_of)``.

    Parameters
    ----------
    graph : ContactGraph
        Built from records before ``as_of``.
    as_of : date-like
        Only churn dates strictly before it are read (:mod:`bellwether.algorithms.churn.timeline`).
    recency_days : int, default 30
        Churners this recent seed the energy.
    spreading_factor, threshold, max_iterations
        See :func:`spread_energy`.
    weight : str or None, default "weight"
        Contact column used as tie strength (None: every tie 1).

    Returns
    -------
    pandas.DataFrame
        Columns ``vid`` and ``spreading_activation`` (final energy; seeds keep part of their own).
    """
    seeds = timeline.recent_churners(graph.subscribers, as_of, recency_days)
    energy = spread_energy(
        graph.to_csr(weight), seeds.astype(np.float64),
        spreading_factor=spreading_factor, threshold=threshold, max_iterations=max_iterations,
    )
    return pd.DataFrame({"vid": np.arange(graph.n_subscribers, dtype=np.int64), "spreading_activation": energy})

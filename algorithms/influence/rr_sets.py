"""Reverse-reachable (RR) set sampling for the Independent Cascade model.

An RR set is the set of vertices that reach a uniformly random root ``v`` in a
random live-edge graph (each arc ``u -> v`` kept with probability ``p_uv``).
It is sampled by a cascade from ``v`` along reversed arcs.  For any seed set
``S``, ``n * P(S meets an RR set) = sigma(S)`` (Borgs, Brautbar, Chayes &
Lucier 2014), so the fraction of RR sets covered by ``S`` estimates its spread
and choosing seeds becomes maximum coverage.

Sets are sampled on the reversed arcs by the compiled walk of :mod:`._kernels`
or, without numba, in vectorised numpy batches with
:func:`bellwether.algorithms.influence.cascade.reach`, and stored as CSR arrays (``ptr``, ``nodes``).

References
----------
.. [1] C. Borgs, M. Brautbar, J. Chayes, B. Lucier, "Maximizing social
   influence in nearly optimal time", SODA 2014, doi:10.1137/1.9781611973402.70.
.. [2] Y. Tang, Y. Shi, X. Xiao, "Influence maximization in near-linear time:
   a martingale approach", SIGMOD 2015, doi:10.1145/2723372.2723734.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bellwether.algorithms.influence.cascade import _TARGET_KEYS, ArcIndex, arc_index, reach
from bellwether.graph.contact_graph import index_dtype

__all__ = ["RRSets", "reverse_index", "sample_rr_sets"]


@dataclass
class RRSets:
    """A collection of RR sets in CSR form: set ``i`` is ``nodes[ptr[i]:ptr[i + 1]]``."""

    n: int
    ptr: np.ndarray  # int64 (count + 1,)
    nodes: np.ndarray  # int32 or int64 vertex numbers

    @property
    def count(self) -> int:
        return len(self.ptr) - 1

    @property
    def total_size(self) -> int:
        return int(self.ptr[-1])

    def extend(self, other: "RRSets") -> "RRSets":
        """Return the union of both collections (this one's sets first)."""
        return RRSets(self.n, np.concatenate([self.ptr, other.ptr[1:] + self.ptr[-1]]), np.concatenate([self.nodes, other.nodes]))

    @classmethod
    def empty(cls, n: int) -> "RRSets":
        return cls(n, np.zeros(1, dtype=np.int64), np.zeros(0, dtype=index_dtype(n)))


def reverse_index(source: np.ndarray, target: np.ndarray, prob: np.ndarray, n: int) -> ArcIndex:
    """The :class:`~bellwether.algorithms.influence.cascade.ArcIndex` of the reversed arcs (``target -> source``)."""
    return arc_index(target, source, prob, n)


def sample_rr_sets(index: ArcIndex, count: int, rng: np.random.Generator, *, mean_size_hint: float = 8.0) -> RRSets:
    """Sample ``count`` RR sets with uniformly random roots.

    Parameters
    ----------
    index : ArcIndex
        Reversed arcs, from :func:`reverse_index`.
    count : int
        Number of RR sets.
    rng : numpy.random.Generator
    mean_size_hint : float
        Expected RR-set size, used only to size the buffers (the compiled path) or the first batch.

    Returns
    -------
    RRSets
    """
    from bellwether.algorithms.influence import _kernels

    n = index.n
    out = RRSets.empty(n)
    if count <= 0:
        return out
    if _kernels.available() and index_dtype(n) is np.int32:  # the compiled sampler writes 32-bit nodes
        ptr, nodes = _kernels.rr_sets(index, rng.integers(0, n, size=count), rng, mean_size_hint)
        return RRSets(n, ptr, nodes)
    ptrs, nodes = [np.zeros(1, dtype=np.int64)], []
    done, offset = 0, 0
    batch = int(max(1000, min(count, _TARGET_KEYS / max(mean_size_hint, 1.0))))
    dtype = index_dtype(n)
    while done < count:
        b = min(batch, count - done)
        roots = rng.integers(0, n, size=b)
        keys = reach(index, np.arange(b), roots, rng)
        set_id = keys // n
        sizes = np.bincount(set_id, minlength=b)
        ptrs.append(np.cumsum(sizes) + offset)
        nodes.append((keys - set_id * n).astype(dtype))
        offset += len(keys)
        done += b
        batch = int(max(1000, min(count, _TARGET_KEYS * b / max(len(keys), 1))))
    return RRSets(n, np.concatenate(ptrs), np.concatenate(nodes))

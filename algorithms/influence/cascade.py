"""Vectorised Independent Cascade simulation and its Monte-Carlo spread estimate.

The Independent Cascade (IC) model (Kempe, Kleinberg & Tardos 2003): seeds are
active at step 0; a vertex ``u`` activated at step ``t`` gets one chance to
activate each inactive out-neighbour ``v`` at step ``t + 1``, succeeding with
probability ``p_uv``.  The spread ``sigma(S)`` is the expected number of active
vertices at the end, seeds included.

Many cascades run at once: the frontier is a flat array of keys
``cascade * n + vertex`` and every step is a handful of numpy operations over
all cascades.  The live out-arcs of a frontier vertex are drawn without testing
every arc: the arcs of each vertex are sorted by probability and cut into
classes ``(2^-(c+1), 2^-c]``; in a class with bound ``q`` candidates are found
by geometric jumps (a Bernoulli(``q``) process) and each candidate is kept with
probability ``p / q >= 1/2``.  This is exact and costs about
``#classes + 2 * sum(p)`` per vertex instead of its degree, which matters for
hubs.  When numba is installed the same walk runs compiled, one cascade at a
time (:mod:`._kernels`); the numpy path is the reference and the fallback
(``_kernels.COMPILED = False``).  The same routine run on the reversed arcs samples reverse-reachable sets
(:mod:`bellwether.algorithms.influence.rr_sets`).

References
----------
.. [1] D. Kempe, J. Kleinberg, E. Tardos, "Maximizing the spread of influence
   through a social network", KDD 2003, doi:10.1145/956750.956769.
.. [2] L. Devroye, "Non-Uniform Random Variate Generation", Springer 1986,
   ch. 10 (geometric skipping for Bernoulli sequences).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from bellwether.graph.contact_graph import ContactGraph
from bellwether.graph.core.settings import DEFAULT_SEED

__all__ = ["ArcIndex", "arc_index", "reach", "cascade_sizes", "estimate_spread", "spread_interval"]

_MAX_CLASS = 40  # probabilities below 2**-40 share one class (acceptance may be low there; they are rare)
_TARGET_KEYS = 3_000_000  # keys handled per vectorised batch
_DENSE_LIMIT = 1 << 26  # entries of the dense visited table (int32, 256 MiB)


@dataclass(frozen=True)
class ArcIndex:
    """Arcs grouped by the vertex they leave, cut into probability classes.

    The arrays are held packed row-wise, as the compiled walk reads them (one cache line per class, one
    per arc); the columns the numpy path reads are views of them, or integer copies made when first read.

    Attributes
    ----------
    n : int
        Number of vertices.
    seg_ptr : numpy.ndarray
        ``int64 (n + 1,)``: the classes of vertex ``v`` are ``seg_ptr[v]:seg_ptr[v + 1]``.
    segments : numpy.ndarray
        ``float64 (n_segments, 4)`` rows ``(start, end, q, none)``: the arc range of each class, its
        largest probability ``q`` (the skipping rate) and ``(1 - q)^length``, the chance that the
        geometric jumps find no candidate in the class.
    arcs : numpy.ndarray
        ``float64 (n_arcs, 2)`` rows ``(prob, target)``: activation probability and vertex reached of each
        arc (zero-probability arcs are dropped); the arcs of one vertex are contiguous, sorted by
        decreasing probability.
    """

    n: int
    seg_ptr: np.ndarray
    segments: np.ndarray
    arcs: np.ndarray

    @property
    def n_arcs(self) -> int:
        return len(self.arcs)

    @property
    def prob(self) -> np.ndarray:
        return self.arcs[:, 0]

    @cached_property
    def target(self) -> np.ndarray:
        return self.arcs[:, 1].astype(np.int64)

    @cached_property
    def seg_start(self) -> np.ndarray:
        return self.segments[:, 0].astype(np.int64)

    @cached_property
    def seg_end(self) -> np.ndarray:
        return self.segments[:, 1].astype(np.int64)

    @property
    def seg_q(self) -> np.ndarray:
        return self.segments[:, 2]

    @property
    def seg_none(self) -> np.ndarray:
        return self.segments[:, 3]


def arc_index(source: np.ndarray, target: np.ndarray, prob: np.ndarray, n: int) -> ArcIndex:
    """Build an :class:`ArcIndex` from arc arrays (``source -> target`` with probability ``prob``)."""
    source = np.asarray(source, dtype=np.int64)
    target = np.asarray(target, dtype=np.int64)
    prob = np.asarray(prob, dtype=np.float64)
    if not (len(source) == len(target) == len(prob)):
        raise ValueError("source, target and prob must have the same length")
    if len(prob) and (np.isnan(prob).any() or prob.min() < 0 or prob.max() > 1):
        raise ValueError("arc probabilities must be in [0, 1]")
    keep = np.flatnonzero(prob > 0)
    order = keep[np.lexsort((-prob[keep], source[keep]))]
    del keep
    source, prob = source[order], prob[order]
    arcs = np.empty((len(order), 2))
    arcs[:, 0] = prob
    arcs[:, 1] = target[order]
    del order
    cls = np.minimum(np.floor(-np.log2(prob)), _MAX_CLASS).astype(np.int8)
    first = np.ones(len(prob), dtype=bool)
    if len(prob):
        first[1:] = (source[1:] != source[:-1]) | (cls[1:] != cls[:-1])
    del cls
    seg_start = np.flatnonzero(first)
    del first
    seg_ptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(source[seg_start], minlength=n), out=seg_ptr[1:])
    del source
    segments = np.empty((len(seg_start), 4))
    segments[:, 0] = seg_start
    segments[:-1, 1] = seg_start[1:]
    segments[-1:, 1] = len(prob)
    segments[:, 2] = prob[seg_start]
    with np.errstate(divide="ignore"):
        segments[:, 3] = np.exp((segments[:, 1] - segments[:, 0]) * np.log1p(-segments[:, 2]))
    return ArcIndex(n, seg_ptr, segments, arcs)


def _expand(ptr: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For CSR ``ptr`` and row numbers ``rows``, return (position in ``rows``, entry index) of every entry."""
    lo = ptr[rows]
    cnt = ptr[rows + 1] - lo
    total = int(cnt.sum())
    owner = np.repeat(np.arange(len(rows)), cnt)
    entry = np.arange(total, dtype=np.int64) + np.repeat(lo - (np.cumsum(cnt) - cnt), cnt)
    return owner, entry


def _live_arcs(index: ArcIndex, verts: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Draw the live out-arcs of each vertex in ``verts``; return (position in ``verts``, arc index)."""
    owner, seg = _expand(index.seg_ptr, verts)
    if len(seg) == 0:
        return owner, seg
    # first candidate of each class: failures before the first success = floor(log U / log(1 - q)),
    # and there is one inside the class iff U > (1 - q)^length; only those classes get a logarithm
    u = 1.0 - rng.random(len(seg))
    hit = u > index.seg_none[seg]
    owner, seg, u = owner[hit], seg[hit], u[hit]
    q = index.seg_q[seg]
    with np.errstate(divide="ignore", invalid="ignore"):
        first = np.floor(np.log(u) / np.log1p(-q))
    first = np.nan_to_num(first, nan=0.0).astype(np.int64)
    pos = index.seg_start[seg] + first
    end = index.seg_end[seg]
    found_owner, found_arc, found_q = [], [], []
    while len(pos):
        ok = pos < end
        if not ok.all():
            owner, pos, end, q = owner[ok], pos[ok], end[ok], q[ok]
        if not len(pos):
            break
        found_owner.append(owner)
        found_arc.append(pos)
        found_q.append(q)
        pos = pos + rng.geometric(q)
    if not found_arc:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    owner, arc, q = np.concatenate(found_owner), np.concatenate(found_arc), np.concatenate(found_q)
    keep = rng.random(len(arc)) * q < index.prob[arc]
    return owner[keep], arc[keep]


def _not_in(keys: np.ndarray, sorted_levels: list[np.ndarray]) -> np.ndarray:
    """Mask of ``keys`` absent from every sorted array of ``sorted_levels``."""
    mask = np.ones(len(keys), dtype=bool)
    for lv in sorted_levels:
        if not len(lv):
            continue
        i = np.searchsorted(lv, keys)
        np.minimum(i, len(lv) - 1, out=i)
        mask &= lv[i] != keys
    return mask


def reach(
    index: ArcIndex, owner: np.ndarray, start: np.ndarray, rng: np.random.Generator, *, n_owners: int | None = None
) -> np.ndarray:
    """Run one cascade per distinct ``owner`` from the vertices ``start``; return the activated keys.

    Parameters
    ----------
    index : ArcIndex
        The arcs to follow (forward arcs for a cascade, reversed arcs for an RR set).
    owner, start : numpy.ndarray
        Cascade number and start vertex of each seed (several seeds may share a cascade).
    rng : numpy.random.Generator
    n_owners : int, optional
        ``max(owner) + 1``; when ``n_owners * n`` is small enough a dense visited
        table replaces sorted look-ups (same result, faster for large cascades).

    Returns
    -------
    numpy.ndarray
        Sorted unique ``int64`` keys ``owner * n + vertex`` of every vertex activated in each cascade.
    """
    owner = np.asarray(owner, np.int64)
    if n_owners is None:
        n_owners = int(owner.max()) + 1 if len(owner) else 0
    if n_owners * index.n <= _DENSE_LIMIT:
        return np.sort(_reach_dense(index, owner, np.asarray(start, np.int64), rng, n_owners))
    return _reach_sorted(index, owner, np.asarray(start, np.int64), rng)


def _reach_sorted(index: ArcIndex, owner: np.ndarray, start: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """:func:`reach` with visited keys kept in sorted arrays (any number of cascades)."""
    n = index.n
    frontier = np.unique(owner * n + start)
    levels = [frontier]
    while len(frontier):
        cascade = frontier // n
        who, arc = _live_arcs(index, frontier - cascade * n, rng)
        if not len(arc):
            break
        new = np.unique(cascade[who] * n + index.target[arc])
        new = new[_not_in(new, levels)]
        if len(levels) >= 6:  # keep the membership test cheap on deep cascades
            levels = [np.sort(np.concatenate(levels))]
        levels.append(new)
        frontier = new
    return np.sort(np.concatenate(levels))


def _reach_dense(
    index: ArcIndex, owner: np.ndarray, start: np.ndarray, rng: np.random.Generator, n_owners: int
) -> np.ndarray:
    """:func:`reach` with a dense ``n_owners x n`` stamp table; returns the keys unsorted.

    ``stamp[key] >= 0`` marks a visited key.  New keys of a step are made unique by
    writing their positions into the table and keeping the position that stuck
    (exactly one per key, whatever the write order).
    """
    n = index.n
    stamp = np.full(n_owners * n, -1, dtype=np.int32)

    def admit(keys: np.ndarray) -> np.ndarray:
        keys = keys[stamp[keys] < 0]
        pos = np.arange(len(keys), dtype=np.int32)
        stamp[keys] = pos
        return keys[stamp[keys] == pos]

    frontier = admit(owner * n + start)
    levels = [frontier]
    while len(frontier):
        cascade = frontier // n
        who, arc = _live_arcs(index, frontier - cascade * n, rng)
        if not len(arc):
            break
        frontier = admit(cascade[who] * n + index.target[arc])
        levels.append(frontier)
    return np.concatenate(levels)


def cascade_sizes(
    index: ArcIndex, seeds: np.ndarray, n_cascades: int, rng: np.random.Generator
) -> np.ndarray:
    """Return the number of activated vertices in each of ``n_cascades`` independent cascades from ``seeds``."""
    from bellwether.algorithms.influence import _kernels

    seeds = np.unique(np.asarray(seeds, dtype=np.int64))
    sizes = np.zeros(n_cascades, dtype=np.int64)
    if not len(seeds) or n_cascades == 0:
        return sizes
    if _kernels.available():
        return _kernels.cascade_sizes(index, seeds, n_cascades, rng)
    n = max(index.n, 1)
    done, batch = 0, max(1, min(n_cascades, _DENSE_LIMIT // n))
    while done < n_cascades:
        b = min(batch, n_cascades - done)
        owner, start = np.repeat(np.arange(b), len(seeds)), np.tile(seeds, b)
        if b * n <= _DENSE_LIMIT:
            keys = _reach_dense(index, owner, start, rng, b)
        else:
            keys = _reach_sorted(index, owner, start, rng)
        sizes[done : done + b] = np.bincount(keys // n, minlength=b)
        done += b
    return sizes


def spread_interval(sizes: np.ndarray) -> tuple[float, float, float]:
    """Mean and 95% normal-approximation confidence interval ``(mean, lo, hi)`` of cascade sizes."""
    sizes = np.asarray(sizes, dtype=np.float64)
    if not len(sizes):
        return float("nan"), float("nan"), float("nan")
    mean = float(sizes.mean())
    half = 1.959963984540054 * float(sizes.std(ddof=1)) / np.sqrt(len(sizes)) if len(sizes) > 1 else 0.0
    return mean, float(mean - half), float(mean + half)


def forward_index(graph: ContactGraph, probabilities: np.ndarray) -> ArcIndex:
    """The :class:`ArcIndex` of the forward arcs of ``graph`` with per-arc ``probabilities``."""
    from bellwether.algorithms.influence.probabilities import arcs

    source, target = arcs(graph)
    if len(probabilities) != len(source):
        raise ValueError(f"expected {len(source)} arc probabilities (2 per contact), got {len(probabilities)}")
    return arc_index(source, target, probabilities, graph.n_subscribers)


def estimate_spread(
    graph: ContactGraph,
    seed_vids,
    *,
    n_simulations: int = 1000,
    seed: int = DEFAULT_SEED,
    probabilities: np.ndarray | str | float | None = None,
) -> tuple[float, float, float]:
    """Monte-Carlo estimate of the Independent Cascade spread of ``seed_vids`` with a 95% interval.

    Parameters
    ----------
    graph : ContactGraph
    seed_vids : array-like of int
        Seed vertex numbers (duplicates count once).
    n_simulations : int, default 1000
        Number of independent cascades.
    seed : int, default 42
        Random seed; the same seed gives the same estimate.
    probabilities : numpy.ndarray, str or float, optional
        Per-arc probabilities in the order of
        :func:`bellwether.algorithms.influence.probabilities.arcs`, or a model name / number
        passed to :func:`~bellwether.algorithms.influence.probabilities.edge_probabilities`;
        default ``"tie_strength"``.

    Returns
    -------
    (mean, lo, hi) : tuple of float
        Mean number of activated subscribers (seeds included) and the 95%
        normal-approximation confidence interval ``mean -+ 1.96 sd / sqrt(N)``.
    """
    from bellwether.algorithms.influence.probabilities import edge_probabilities

    if n_simulations < 1:
        raise ValueError(f"n_simulations must be at least 1, got {n_simulations}")
    seeds = np.asarray(seed_vids, dtype=np.int64).ravel()
    if len(seeds) and (seeds.min() < 0 or seeds.max() >= graph.n_subscribers):
        raise ValueError("seed_vids must be vertex numbers 0..n-1")
    if probabilities is None or isinstance(probabilities, (str, int, float)):
        probabilities = edge_probabilities(graph, "tie_strength" if probabilities is None else probabilities)
    index = forward_index(graph, np.asarray(probabilities, dtype=np.float64))
    sizes = cascade_sizes(index, seeds, n_simulations, np.random.default_rng(seed))
    return spread_interval(sizes)

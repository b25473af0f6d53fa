"""Compiled (numba) cascades and RR sets: the fast path of :mod:`.cascade` and :mod:`.rr_sets`.

They walk the same :class:`~bellwether.algorithms.influence.cascade.ArcIndex` with the same
geometric skipping as the vectorised numpy reference, one cascade at a time,
with a visited stamp per vertex instead of sorted key look-ups, so their cost is
proportional to the vertices activated.  The walk is bound by memory latency
(every activated vertex is a few cache misses), so the random numbers come from
SplitMix64, whose short dependency chain lets the processor overlap those
misses.  Measured on the 100k synthetic graph: RR sets about 3x faster than the
numpy batches; forward cascades about as fast as numpy's (large frontiers
amortise numpy's overhead there), with O(n) instead of O(batch x n) memory.  The two paths draw different random
numbers, so they agree in distribution, not draw for draw (tested).

Work is cut into a fixed number of pieces, each with its own random stream, and
run on up to four threads (the kernels release the GIL); the pieces, not the
threads, fix the random numbers, so results are the same on any machine.

``available()`` is False when numba is not installed, or when :data:`COMPILED` is set to False
(tests do, to run the numpy reference path).
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from bellwether.algorithms.splitmix import uniform as _uniform  # SplitMix64

_CHUNKS = 8  # pieces of work per call; fixed so results do not depend on the core count
_MAX_WORKERS = 4

try:
    from numba import njit

    HAVE_NUMBA = True
except ImportError:  # pragma: no cover - numba is a declared dependency
    HAVE_NUMBA = False

    def njit(*args, **kwargs):
        return lambda f: f


#: use the compiled walk when numba is there; False selects the numpy reference path
COMPILED = True


def available() -> bool:
    """Whether the compiled path is usable (numba importable and :data:`COMPILED`)."""
    return HAVE_NUMBA and COMPILED


@njit(cache=True, nogil=True)
def _expand(u, stamp, mark, queue, tail, seg_ptr, seg, arc, state):
    """Push the live out-neighbours of ``u`` not yet stamped ``mark``; return the new tail and RNG state.

    ``seg[j] = (start, end, q, none)`` and ``arc[i] = (prob, target)`` are packed
    row-wise so one vertex costs few cache misses.
    """
    for j in range(seg_ptr[u], seg_ptr[u + 1]):
        state, r = _uniform(state)
        r = 1.0 - r
        if r <= seg[j, 3]:
            continue
        q = seg[j, 2]
        end = int(seg[j, 1])
        if q >= 1.0:
            lq = 0.0
            pos = int(seg[j, 0])
        else:
            lq = np.log1p(-q)
            pos = int(seg[j, 0]) + int(np.floor(np.log(r) / lq))
        while pos < end:
            state, r = _uniform(state)
            if r * q < arc[pos, 0]:
                v = int(arc[pos, 1])
                if stamp[v] != mark:
                    stamp[v] = mark
                    queue[tail] = v
                    tail += 1
            if q >= 1.0:
                pos += 1
            else:
                state, r = _uniform(state)
                pos += 1 + int(np.floor(np.log(1.0 - r) / lq))
    return tail, state


@njit(cache=True, nogil=True)
def _cascade_sizes(seeds, n_cascades, rng_seed, seg_ptr, seg, arc):
    state = np.uint64(rng_seed)
    n = len(seg_ptr) - 1
    stamp = np.full(n, -1, np.int64)
    queue = np.empty(n, np.int64)
    sizes = np.zeros(n_cascades, np.int64)
    for c in range(n_cascades):
        tail = 0
        for s in seeds:
            if stamp[s] != c:
                stamp[s] = c
                queue[tail] = s
                tail += 1
        head = 0
        while head < tail:
            u = queue[head]
            head += 1
            tail, state = _expand(u, stamp, c, queue, tail, seg_ptr, seg, arc, state)
        sizes[c] = tail
    return sizes

@njit(cache=True, nogil=True)
def _rr_sets(roots, rng_seed, seg_ptr, seg, arc, cap):
    """RR sets from ``roots``; ``nodes`` starts at ``cap`` entries (the expected total) and doubles when short.

    Returns a view of the filled prefix: the caller copies it out, so no second copy is made here.
    Vertex numbers and stamps are 32-bit (the caller checks that ``n`` fits).
    """
    state = np.uint64(rng_seed)
    n = len(seg_ptr) - 1
    count = len(roots)
    stamp = np.full(n, -1, np.int32)
    queue = np.empty(n, np.int32)
    ptr = np.zeros(count + 1, np.int64)
    nodes = np.empty(max(cap, 1024), np.int32)
    total = 0
    for c in range(count):
        root = roots[c]
        stamp[root] = c
        queue[0] = root
        tail = 1
        head = 0
        while head < tail:
            u = queue[head]
            head += 1
            tail, state = _expand(u, stamp, c, queue, tail, seg_ptr, seg, arc, state)
        if total + tail > len(nodes):
            grown = np.empty(max(2 * len(nodes), total + tail), np.int32)
            grown[:total] = nodes[:total]
            nodes = grown
        nodes[total : total + tail] = queue[:tail]
        total += tail
        ptr[c + 1] = total
    return ptr, nodes[:total]


@njit(cache=True, nogil=True)
def _transpose(ptr, nodes, n):
    """The inverted index of CSR sets ``(ptr, nodes)``: ``sets_of[node_ptr[v]:node_ptr[v + 1]]`` are the
    sets holding ``v``, in increasing order (a counting sort; 32-bit set numbers)."""
    node_ptr = np.zeros(n + 1, np.int64)
    for j in range(len(nodes)):
        node_ptr[nodes[j] + 1] += 1
    for v in range(n):
        node_ptr[v + 1] += node_ptr[v]
    fill = node_ptr[:-1].copy()
    sets_of = np.empty(len(nodes), np.int32)
    for i in range(len(ptr) - 1):
        for j in range(ptr[i], ptr[i + 1]):
            v = nodes[j]
            sets_of[fill[v]] = i
            fill[v] += 1
    return node_ptr, sets_of


def _arrays(index):
    return index.seg_ptr, index.segments, index.arcs


def _workers() -> int:
    return max(1, min(_MAX_WORKERS, os.cpu_count() or 1))


def _chunks(count: int, min_chunk: int) -> list[slice]:
    """Split ``range(count)`` into a fixed number of pieces (independent of the machine, for reproducibility),
    as slices: the first ``count % pieces`` one longer, as :func:`numpy.array_split` cuts."""
    pieces = max(1, min(_CHUNKS, count // min_chunk))
    size, extra = divmod(count, pieces)
    bounds = np.cumsum([0] + [size + (i < extra) for i in range(pieces)])
    return [slice(int(lo), int(hi)) for lo, hi in zip(bounds[:-1], bounds[1:]) if hi > lo]


def _run(fn, jobs):
    """Run the compiled ``fn`` over ``jobs`` on a few threads (the kernels release the GIL)."""
    if len(jobs) == 1 or _workers() == 1:
        return [fn(*job) for job in jobs]
    with ThreadPoolExecutor(max_workers=_workers()) as pool:
        return list(pool.map(lambda job: fn(*job), jobs))


def transpose(ptr: np.ndarray, nodes: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """``(node_ptr, sets_of)``: for each vertex, the numbers of the sets holding it (see :func:`_transpose`)."""
    return _transpose(np.asarray(ptr, np.int64), nodes, n)


def cascade_sizes(index, seeds: np.ndarray, n_cascades: int, rng: np.random.Generator) -> np.ndarray:
    """Sizes of ``n_cascades`` independent cascades from ``seeds`` (compiled, a few threads)."""
    seeds = np.asarray(seeds, np.int64)
    chunks = _chunks(n_cascades, 64)
    states = rng.integers(0, 2**63 - 1, size=len(chunks))
    arrays = _arrays(index)
    jobs = [(seeds, c.stop - c.start, np.uint64(st), *arrays) for c, st in zip(chunks, states)]
    return np.concatenate(_run(_cascade_sizes, jobs))


def rr_sets(index, roots: np.ndarray, rng: np.random.Generator, mean_size_hint: float = 8.0
            ) -> tuple[np.ndarray, np.ndarray]:
    """CSR ``(ptr, nodes)`` of the RR sets rooted at ``roots`` (compiled, a few threads; nodes are int32).

    ``mean_size_hint`` (the expected set size) sizes each piece's buffer: a quarter above the expected
    total, so the buffers do not hold several times the sets while they are sampled.
    """
    roots = np.asarray(roots, np.int64)
    chunks = _chunks(len(roots), 4096)
    states = rng.integers(0, 2**63 - 1, size=len(chunks))
    arrays = _arrays(index)
    caps = [int(1.25 * max(mean_size_hint, 1.0) * (c.stop - c.start)) for c in chunks]
    parts = _run(_rr_sets, [(roots[c], np.uint64(st), *arrays, cap) for c, st, cap in zip(chunks, states, caps)])  # views
    if len(parts) == 1:
        return parts[0][0], parts[0][1].copy()  # the filled prefix only, not the whole buffer
    # joined into arrays made once, each piece let go as soon as it is copied: the sets are held
    # about once while they are joined, not twice as a concatenation of all the pieces would hold them
    ptr = np.zeros(len(roots) + 1, np.int64)
    nodes = np.empty(sum(len(part_nodes) for _, part_nodes in parts), np.int32)
    sets = filled = 0
    parts.reverse()
    while parts:
        part_ptr, part_nodes = parts.pop()
        ptr[sets + 1 : sets + len(part_ptr)] = part_ptr[1:] + filled
        nodes[filled : filled + len(part_nodes)] = part_nodes
        sets += len(part_ptr) - 1
        filled += len(part_nodes)
        del part_ptr, part_nodes
    return ptr, nodes

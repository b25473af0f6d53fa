r"""Leiden community detection compiled with numba on CSR arrays.

Implements the Leiden algorithm of Traag, Waltman & van Eck (2019), "From
Louvain to Leiden: guaranteeing well-connected communities", Scientific
Reports 9, 5233, doi:10.1038/s41598-019-41695-z, for the two objectives
Bellwether uses, written in one form

.. math:: H = \sum_c \left(W_c - \gamma' \frac{A_c^2}{2}\right)

where :math:`W_c` is the weight inside community :math:`c` and :math:`A_c` the
sum of its node weights :math:`a_v`:

- Constant Potts Model (Traag, Van Dooren & Nesterov 2011,
  doi:10.1103/PhysRevE.84.016114): :math:`a_v = 1` (aggregate nodes: the number
  of subscribers they hold), :math:`\gamma' = \gamma`;  :math:`A_c^2/2` and
  :math:`\binom{n_c}{2}` differ by the constant :math:`n/2`.
- Modularity with resolution :math:`\gamma` (Reichardt & Bornholdt 2006):
  :math:`a_v` = strength, :math:`\gamma' = \gamma / 2m`; :math:`H = m\,Q`.

Moving node :math:`v` from community :math:`A` to :math:`B` changes :math:`H` by
:math:`[w_{vB} - \gamma' a_v A_B] - [w_{v,A-v} - \gamma' a_v (A_A - a_v)]`.

Each iteration (Algorithm A.1 of the paper) repeats, level by level:

1. **Fast local moving** (``MoveNodesFast``): nodes are taken from a queue
   (initially all nodes in a seeded random order); a node moves to the
   neighbouring or empty community with the largest gain, and its neighbours
   outside the new community are queued again.
2. **Refinement** (``RefinePartition`` / ``MergeNodesSubset``): inside each
   community, starting from singletons, a node that is still a singleton and
   well connected to its community (:math:`w_{v,S-v} \ge \gamma' a_v (A_S - a_v)`)
   joins a well-connected refined community :math:`T` of the same community
   with non-negative gain, chosen with probability
   :math:`\propto \exp(\Delta H / \theta)`.  Refined communities are
   therefore connected.  Communities are refined independently, in parallel,
   each with its own random stream derived from the seed and the community.
3. **Aggregation**: refined communities become nodes (in parallel); the
   partition from step 1 is the starting partition of the aggregate graph.

The iteration ends when local moving leaves every community a single
aggregate node; once local moving above the first level moves (almost) no
node, we aggregate on the communities at once instead of refining again (see
``_iteration``).  Further iterations start from the previous partition.  A
final pass splits any community that is not connected (union-find on the
internal edges; it never lowers the quality), so every community returned
is connected.

Local moving, the largest cost, runs on one core: a batched parallel version
(neighbour weights gathered in parallel, moves applied in queue order) was
measured no faster on two cores, the gathering being memory-bound.  Vertex
order matters more: on a graph numbered breadth-first (:func:`csr_structure`)
local moving visits nodes in vertex order from 100k nodes up, 1.25x faster
than a random order on a million nodes.

Randomness comes from SplitMix64 streams fixed by ``seed`` (and the community
for refinement), not from the threads, so the same seed gives the same
membership on any number of cores.
"""

from __future__ import annotations

import os
import time

import numba
import numpy as np
from numba import njit, prange

from bellwether.algorithms.splitmix import GOLDEN, MIX1, uniform
from bellwether.graph.core.settings import DEFAULT_SEED

# numba's OpenMP layer costs far more per parallel region on a busy machine than
# its own work queue; the parallel regions here are
# entered from one Python thread at a time, which is all the work queue needs.
if "NUMBA_THREADING_LAYER" not in os.environ and numba.config.THREADING_LAYER == "default":
    numba.config.THREADING_LAYER = "workqueue"


@njit(cache=True)
def _root(parent, x):
    """Union-find root of ``x``, halving the path on the way."""
    while parent[x] != x:
        parent[x] = parent[parent[x]]
        x = parent[x]
    return x


__all__ = [
    "DEFAULT_TOLERANCE", "VERTEX_ORDER_MIN", "adaptive_leiden_csr", "arc_weights", "choose_resolution", "csr_from_edges",
    "csr_structure", "leiden_csr", "quality_csr", "resolution_scale",
]

#: from this many nodes up, local moving first visits nodes in vertex order (see ``leiden_csr``)
VERTEX_ORDER_MIN = 100_000
#: above the first level, local moving that moves at most one node in this many counts as stable
_STABLE = 1000


@njit(cache=True, inline="always")
def _stream(seed, key):
    """Initial state of the random stream ``key`` under ``seed``."""
    state = np.uint64(seed) * MIX1 + np.uint64(key) * GOLDEN
    state, _ = uniform(state)
    return state


@njit(cache=True)
def _shuffle(arr, state):
    """Fisher-Yates shuffle in place; return the new state."""
    for i in range(len(arr) - 1, 0, -1):
        state, r = uniform(state)
        j = int(r * (i + 1))
        t = arr[i]
        arr[i] = arr[j]
        arr[j] = t
    return state


# --- graph ------------------------------------------------------------------


@njit(cache=True)
def _csr_structure(n, a, b):
    deg = np.zeros(n + 1, np.int64)
    for i in range(len(a)):
        if a[i] != b[i]:
            deg[a[i] + 1] += 1
            deg[b[i] + 1] += 1
    for v in range(n):
        deg[v + 1] += deg[v]
    indptr = deg.copy()
    fill = deg[:-1].copy()
    indices = np.empty(indptr[n], np.int32)
    arc_edge = np.empty(indptr[n], np.int64)
    for i in range(len(a)):
        u = a[i]
        v = b[i]
        if u == v:
            continue
        indices[fill[u]] = v
        arc_edge[fill[u]] = i
        fill[u] += 1
        indices[fill[v]] = u
        arc_edge[fill[v]] = i
        fill[v] += 1
    return indptr, indices, arc_edge


@njit(cache=True, parallel=True)
def _take(w, arc_edge):
    out = np.empty(len(arc_edge), np.float64)
    for j in prange(len(arc_edge)):
        out[j] = w[arc_edge[j]]
    return out


def csr_structure(n: int, edges: np.ndarray, *, renumber: bool = True):
    """Symmetric CSR structure of an undirected edge list, rows in breadth-first order.

    With ``renumber`` the rows are numbered breadth-first (from vertex 0, then
    from each vertex not reached yet): a vertex's neighbours get consecutive
    numbers, so the members of a small dense community sit close together in
    memory, which makes every pass of :func:`leiden_csr` faster (local moving
    about 1.4x on a million subscribers).  Built once per graph, like an
    igraph graph object; weights are laid out separately (:func:`arc_weights`).

    Parameters
    ----------
    n : int
        Number of vertices.
    edges : (m, 2) integer array
        Each unordered pair once.
    renumber : bool, default True
        False keeps row ``i`` for vertex ``i``.

    Returns
    -------
    indptr : (n + 1,) int64
    indices : (2 m',) int32
        Neighbours (row numbers), each edge stored in both directions; self-loops left out.
    arc_edge : (2 m',) int64
        Row of ``edges`` each arc comes from.
    vertex : (n,) int32
        Vertex of each row (``membership[vertex] = row_membership`` maps back).
    """
    e = np.asarray(edges, dtype=np.int64).reshape(-1, 2)
    indptr, indices, arc_edge = _csr_structure(int(n), np.ascontiguousarray(e[:, 0]), np.ascontiguousarray(e[:, 1]))
    if not renumber or n == 0:
        return indptr, indices, arc_edge, np.arange(n, dtype=np.int32)
    new, old = _bfs_order(indptr, indices, 0)
    indptr, indices, arc_edge = _permute(indptr, indices, arc_edge, new, old)
    return indptr, indices, arc_edge, old


def arc_weights(weights: np.ndarray, arc_edge: np.ndarray) -> np.ndarray:
    """Edge weights laid out along the arcs of :func:`csr_structure`."""
    return _take(np.ascontiguousarray(weights, dtype=np.float64), arc_edge)


def csr_from_edges(n: int, edges: np.ndarray, weights: np.ndarray):
    """Symmetric weighted CSR adjacency ``(indptr, indices, data)``, row ``i`` for vertex ``i``, no self-loops."""
    indptr, indices, arc_edge, _ = csr_structure(n, edges, renumber=False)
    return indptr, indices, arc_weights(weights, arc_edge)


@njit(cache=True)
def _compact(labels):
    """Relabel to ``0..k-1`` in order of first appearance; return (labels, k)."""
    n = len(labels)
    m = 0
    for i in range(n):
        if labels[i] > m:
            m = labels[i]
    new = np.full(m + 1, -1, np.int32)
    out = np.empty(n, np.int32)
    k = 0
    for i in range(n):
        c = labels[i]
        if new[c] < 0:
            new[c] = k
            k += 1
        out[i] = new[c]
    return out, k


@njit(cache=True)
def _rank(labels):
    """Relabel to ``0..k-1`` keeping the order of the label values; return (labels, k)."""
    n = len(labels)
    m = 0
    for i in range(n):
        if labels[i] > m:
            m = labels[i]
    new = np.zeros(m + 2, np.int32)
    for i in range(n):
        new[labels[i] + 1] = 1
    for c in range(m + 1):
        new[c + 1] += new[c]
    out = np.empty(n, np.int32)
    for i in range(n):
        out[i] = new[labels[i]]
    return out, new[m + 1]


@njit(cache=True)
def _group(labels, k):
    """Counting sort of nodes by label: (start (k + 1), nodes in label order)."""
    start = np.zeros(k + 1, np.int64)
    for v in range(len(labels)):
        start[labels[v] + 1] += 1
    for c in range(k):
        start[c + 1] += start[c]
    fill = start[:-1].copy()
    order = np.empty(len(labels), np.int32)
    for v in range(len(labels)):
        c = labels[v]
        order[fill[c]] = v
        fill[c] += 1
    return start, order


@njit(cache=True)
def _bfs_order(indptr, indices, root):
    """Breadth-first numbering from ``root``, then from each vertex not reached yet, in id order.

    Returns (new id of each vertex, vertex of each new id).  Neighbours get
    consecutive numbers, so a community's members end up close together.
    """
    n = len(indptr) - 1
    new = np.full(n, -1, np.int32)
    order = np.empty(n, np.int32)
    k = 0
    head = 0
    for i in range(n):
        s = root + i
        if s >= n:
            s -= n
        if new[s] >= 0:
            continue
        new[s] = k
        order[k] = s
        k += 1
        while head < k:
            v = order[head]
            head += 1
            for j in range(indptr[v], indptr[v + 1]):
                u = indices[j]
                if new[u] < 0:
                    new[u] = k
                    order[k] = u
                    k += 1
    return new, order


@njit(cache=True, parallel=True)
def _permute(indptr, indices, arc_edge, new, old):
    """The CSR structure with vertex ``old[i]`` renumbered ``i`` (``new`` is the inverse)."""
    n = len(indptr) - 1
    ptr = np.zeros(n + 1, np.int64)
    for i in range(n):
        v = old[i]
        ptr[i + 1] = ptr[i] + indptr[v + 1] - indptr[v]
    idx = np.empty(len(indices), np.int32)
    arc = np.empty(len(arc_edge), np.int64)
    for i in prange(n):
        v = old[i]
        o = ptr[i]
        for j in range(indptr[v], indptr[v + 1]):
            idx[o] = new[indices[j]]
            arc[o] = arc_edge[j]
            o += 1
    return ptr, idx, arc


# --- 1. fast local moving ------------------------------------------------------


@njit(cache=True)
def _move_nodes(indptr, indices, data, a, memb, gamma, seed, key, shuffle):
    """Fast local moving (``MoveNodesFast``) on ``memb`` in place; return the number of moves.

    The queue starts with every node, in vertex order (``shuffle=False``; the
    caller numbers vertices breadth-first so that neighbours are near in
    memory) or in a seeded random order.  Ties go to the current community,
    then to the community met first.
    """
    state = _stream(seed, np.uint64(key))
    n = len(a)
    comm_a = np.zeros(n, np.float64)
    comm_n = np.zeros(n, np.int32)
    for v in range(n):
        comm_a[memb[v]] += a[v]
        comm_n[memb[v]] += 1
    empty = np.empty(n, np.int32)
    n_empty = 0
    for c in range(n - 1, -1, -1):
        if comm_n[c] == 0:
            empty[n_empty] = c
            n_empty += 1
    queue = np.arange(n).astype(np.int32)
    if shuffle:
        state = _shuffle(queue, state)
    in_queue = np.ones(n, np.bool_)
    head = 0
    count = n
    acc = np.zeros(n, np.float64)
    seen = np.zeros(n, np.bool_)
    touched = np.empty(n, np.int32)
    moves = 0
    while count > 0:
        v = queue[head]
        head += 1
        if head == n:
            head = 0
        count -= 1
        in_queue[v] = False
        own = memb[v]
        av = a[v]
        nt = 0
        for j in range(indptr[v], indptr[v + 1]):
            c = memb[indices[j]]
            if not seen[c]:
                seen[c] = True
                touched[nt] = c
                nt += 1
            acc[c] += data[j]
        comm_a[own] -= av
        comm_n[own] -= 1
        best = own
        best_gain = acc[own] - gamma * av * comm_a[own]
        for t in range(nt):
            c = touched[t]
            g = acc[c] - gamma * av * comm_a[c]
            if g > best_gain:
                best_gain = g
                best = c
        for t in range(nt):
            c = touched[t]
            acc[c] = 0.0
            seen[c] = False
        if best_gain < 0.0 and comm_n[own] > 0:  # an empty community of its own is better
            n_empty -= 1
            best = empty[n_empty]
        comm_a[best] += av
        comm_n[best] += 1
        if best != own:
            if comm_n[own] == 0:
                empty[n_empty] = own
                n_empty += 1
            memb[v] = best
            moves += 1
            for j in range(indptr[v], indptr[v + 1]):
                u = indices[j]
                if not in_queue[u] and memb[u] != best:
                    in_queue[u] = True
                    tail = head + count
                    if tail >= n:
                        tail -= n
                    queue[tail] = u
                    count += 1
    return moves


# --- 2. refinement ---------------------------------------------------------------


@njit(cache=True, parallel=True)
def _refine(indptr, indices, data, a, memb, k, gamma, theta, seed, level):
    """Refined partition (labels ``0..n-1``, not compact) of the communities ``memb``.

    The refined communities of community ``c`` take the labels
    ``start[c] .. start[c + 1] - 1`` of its nodes in label order, so every
    array below is written by one community only and communities run in parallel.
    """
    n = len(a)
    start, order = _group(memb, k)
    ref = np.empty(n, np.int32)
    w_in = np.zeros(n, np.float64)  # weight from node v to the rest of its community
    r_a = np.zeros(n, np.float64)  # refined community: node weight
    r_ext = np.zeros(n, np.float64)  # refined community: weight to the rest of its community
    r_n = np.zeros(n, np.int32)  # refined community: number of nodes
    acc = np.zeros(n, np.float64)
    seen = np.zeros(n, np.bool_)
    touched = np.empty(n, np.int32)
    gains = np.empty(n, np.float64)
    for c in prange(k):
        s0 = start[c]
        s1 = start[c + 1]
        if s1 - s0 == 1:
            ref[order[s0]] = s0
            continue
        total = 0.0
        for i in range(s0, s1):
            v = order[i]
            ref[v] = i
            total += a[v]
            win = 0.0
            for j in range(indptr[v], indptr[v + 1]):
                if memb[indices[j]] == c:
                    win += data[j]
            w_in[v] = win
            r_a[i] = a[v]
            r_ext[i] = win
            r_n[i] = 1
        perm = order[s0:s1].copy()
        state = _stream(seed, np.uint64(level) * np.uint64(1 << 40) + np.uint64(c))
        state = _shuffle(perm, state)
        for p in range(len(perm)):
            v = perm[p]
            rv = ref[v]
            av = a[v]
            if r_n[rv] != 1:
                continue
            if w_in[v] < gamma * av * (total - av):
                continue
            nt = 0
            for j in range(indptr[v], indptr[v + 1]):
                u = indices[j]
                if memb[u] != c:
                    continue
                r = ref[u]
                if not seen[r]:
                    seen[r] = True
                    touched[s0 + nt] = r
                    nt += 1
                acc[r] += data[j]
            # candidates: stay (gain 0) or a well-connected refined community with gain >= 0
            best_gain = 0.0
            nc = 0
            for t in range(nt):
                r = touched[s0 + t]
                g = -1.0
                if r != rv and r_ext[r] >= gamma * r_a[r] * (total - r_a[r]):
                    g = acc[r] - gamma * av * r_a[r]
                gains[s0 + t] = g
                if g >= 0.0:
                    nc += 1
                    if g > best_gain:
                        best_gain = g
            chosen = rv
            if nc > 0:
                stay = np.exp(-best_gain / theta)  # staying a singleton: gain 0
                norm = stay
                for t in range(nt):
                    g = gains[s0 + t]
                    if g >= 0.0:
                        norm += np.exp((g - best_gain) / theta)
                state, rnd = uniform(state)
                x = rnd * norm - stay
                if x >= 0.0:
                    for t in range(nt):
                        g = gains[s0 + t]
                        if g >= 0.0:
                            chosen = touched[s0 + t]
                            x -= np.exp((g - best_gain) / theta)
                            if x < 0.0:
                                break
            if chosen != rv:
                ref[v] = chosen
                r_a[chosen] += av
                r_ext[chosen] += r_ext[rv] - 2.0 * acc[chosen]
                r_n[chosen] += 1
                r_n[rv] = 0
            for t in range(nt):
                r = touched[s0 + t]
                acc[r] = 0.0
                seen[r] = False
    return ref


# --- 3. aggregation --------------------------------------------------------------


@njit(cache=True, parallel=True)
def _aggregate(indptr, indices, data, a, ref, k, n_chunks):
    """Graph of the refined communities ``ref`` (``0..k-1``): CSR without self-loops, node weights."""
    start, order = _group(ref, k)
    new_a = np.zeros(k, np.float64)
    bound = np.zeros(k + 1, np.int64)
    for r in range(k):
        s = 0
        x = 0.0
        for i in range(start[r], start[r + 1]):
            v = order[i]
            s += indptr[v + 1] - indptr[v]
            x += a[v]
        bound[r + 1] = bound[r] + s
        new_a[r] = x
    tmp_idx = np.empty(bound[k], np.int32)
    tmp_w = np.empty(bound[k], np.float64)
    cnt = np.zeros(k, np.int64)
    # contiguous ranges of aggregate nodes with about the same number of arcs
    cuts = np.searchsorted(bound, np.linspace(0, bound[k], n_chunks + 1)).astype(np.int64)
    cuts[0] = 0
    cuts[n_chunks] = k
    for ch in prange(n_chunks):
        pos = np.zeros(k, np.int32)  # 1 + position of a neighbour in the current row, 0 = not seen
        for r in range(cuts[ch], cuts[ch + 1]):
            b0 = bound[r]
            m = 0
            for i in range(start[r], start[r + 1]):
                v = order[i]
                for j in range(indptr[v], indptr[v + 1]):
                    t = ref[indices[j]]
                    if t == r:
                        continue
                    p = pos[t]
                    if p == 0:
                        tmp_idx[b0 + m] = t
                        tmp_w[b0 + m] = data[j]
                        m += 1
                        pos[t] = m
                    else:
                        tmp_w[b0 + p - 1] += data[j]
            for q in range(m):
                pos[tmp_idx[b0 + q]] = 0
            cnt[r] = m
    new_ptr = np.zeros(k + 1, np.int64)
    for r in range(k):
        new_ptr[r + 1] = new_ptr[r] + cnt[r]
    new_idx = np.empty(new_ptr[k], np.int32)
    new_w = np.empty(new_ptr[k], np.float64)
    for r in prange(k):
        b0 = bound[r]
        o = new_ptr[r]
        for q in range(cnt[r]):
            new_idx[o + q] = tmp_idx[b0 + q]
            new_w[o + q] = tmp_w[b0 + q]
    return new_ptr, new_idx, new_w, new_a


# --- the iteration -------------------------------------------------------------------


@njit(cache=True)
def _first_member(ref, k):
    rep = np.empty(k, np.int32)
    done = np.zeros(k, np.bool_)
    for v in range(len(ref)):
        r = ref[v]
        if not done[r]:
            done[r] = True
            rep[r] = v
    return rep


def _iteration(indptr, indices, data, a, memb, gamma, theta, seed, it, n_threads, shuffle, stats):
    """One Leiden iteration from ``memb`` (compact labels); return the membership.

    Levels follow each other until local moving leaves every community a
    single aggregate node.  Once local moving at a level above the first
    moves (almost) no node (at most one in ``_STABLE``), the paper's loop
    would go on refining and aggregating, several more full-size aggregations
    on graphs with many small communities, until each community is one node,
    to then try moving whole communities.  We aggregate on the communities
    straight away and try those moves.  Communities that end up disconnected
    (refinement no longer vouches for them) are split by the caller.
    """
    n0 = len(a)
    node_of = np.arange(n0, dtype=np.int32)  # original node -> node of the current level
    part = memb.copy()
    level = 0
    while True:
        t0 = time.perf_counter()
        moves = _move_nodes(indptr, indices, data, a, part, gamma, seed, (1 << 50) + it * 1000 + level, shuffle)
        part, k = _compact(part)
        n = len(a)
        rec = {"iteration": it, "level": level, "nodes": n, "arcs": len(indices), "moves": moves,
               "communities": k, "move_s": time.perf_counter() - t0}
        if stats is not None:
            stats.append(rec)
        if k == n:
            break
        t0 = time.perf_counter()
        if level > 0 and moves * _STABLE <= n:  # (nearly) stable: aggregate on the communities themselves
            ref, kr = part, k
        else:
            ref = _refine(indptr, indices, data, a, part, k, gamma, theta, seed, it * 1000 + level)
            ref, kr = _rank(ref)
            if kr == n:  # refinement merged nothing: aggregate on the partition itself
                ref, kr = part, k
        t1 = time.perf_counter()
        rep = _first_member(ref, kr)
        indptr, indices, data, a = _aggregate(indptr, indices, data, a, ref, kr, 4 * n_threads)
        node_of = ref[node_of]
        part = part[rep]
        level += 1
        rec.update(refined=kr, refine_s=t1 - t0, aggregate_s=time.perf_counter() - t1)
    return part[node_of]


@njit(cache=True)
def _split_disconnected(indptr, indices, memb):
    """Connected components of each community (union-find on internal edges); compact labels."""
    n = len(memb)
    parent = np.arange(n).astype(np.int32)
    for v in range(n):
        for j in range(indptr[v], indptr[v + 1]):
            u = indices[j]
            if u > v and memb[u] == memb[v]:
                ru = _root(parent, u)
                rv = _root(parent, v)
                if ru != rv:
                    if ru < rv:
                        parent[rv] = ru
                    else:
                        parent[ru] = rv
    out = np.empty(n, np.int32)
    for v in range(n):
        out[v] = _root(parent, v)
    return _compact(out)


def leiden_csr(
    indptr: np.ndarray,
    indices: np.ndarray,
    weights: np.ndarray,
    *,
    node_weights: np.ndarray | None = None,
    objective: str = "cpm",
    resolution: float = 0.05,
    seed: int = DEFAULT_SEED,
    n_iterations: int | None = 2,
    theta: float = 0.01,
    initial: np.ndarray | None = None,
    order: str = "auto",
    stats: list | None = None,
) -> np.ndarray:
    r"""Leiden partition of a graph given as symmetric CSR arrays.

    Parameters
    ----------
    indptr, indices, weights : numpy arrays
        Symmetric adjacency without self-loops (:func:`csr_from_edges`).
    node_weights : array, optional
        Modularity: vertex strengths including self-loops (default: row sums
        of the CSR).  CPM: vertex sizes (default: ones).
    objective : {"cpm", "modularity"}
    resolution : float
        :math:`\gamma` of the objective (see the module docstring).
    seed : int
        Fixes every random choice; the result does not depend on the number of threads.
    n_iterations : int or None, default 2
        Leiden iterations; None repeats until an iteration changes nothing.
    theta : float, default 0.01
        Randomness of the refinement (the paper's :math:`\theta`).
    initial : array, optional
        Starting partition (default: singletons).
    order : {"auto", "vertex", "random"}, default "auto"
        Order in which local moving first visits the nodes: vertex order
        (fast on graphs numbered breadth-first by :func:`csr_structure`, as
        neighbours follow each other in memory), or a seeded random
        permutation at every level as in the paper.  ``"auto"``: vertex order
        from :data:`VERTEX_ORDER_MIN` nodes up, random below, where it costs
        nothing and finds slightly better partitions of small graphs.
    stats : list, optional
        When given, one dict per level is appended (sizes, moves, seconds per phase).

    Returns
    -------
    numpy.ndarray
        int64 community label per vertex, ``0..k-1`` in order of first appearance.
    """
    indptr = np.ascontiguousarray(indptr, dtype=np.int64)
    indices = np.ascontiguousarray(indices, dtype=np.int32)
    data = np.ascontiguousarray(weights, dtype=np.float64)
    n = len(indptr) - 1
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    if objective == "cpm":
        a = np.ones(n) if node_weights is None else np.asarray(node_weights, dtype=np.float64)
        gamma = float(resolution)
    elif objective == "modularity":
        if node_weights is None:
            a = np.bincount(np.repeat(np.arange(n), np.diff(indptr)), weights=data, minlength=n)
        else:
            a = np.asarray(node_weights, dtype=np.float64)
        total = float(a.sum())
        gamma = float(resolution) / total if total > 0 else 0.0
    else:
        raise ValueError(f"unknown objective {objective!r}")
    memb = np.arange(n, dtype=np.int32) if initial is None else _compact(np.asarray(initial, np.int32))[0]
    if order not in ("auto", "vertex", "random"):
        raise ValueError(f"unknown order {order!r}")
    shuffle = order == "random" or (order == "auto" and n < VERTEX_ORDER_MIN)
    n_threads = numba.get_num_threads()
    # renumber vertices breadth-first from a seeded root, for memory locality
    it = 0
    while n_iterations is None or it < n_iterations:
        nxt = _compact(_iteration(indptr, indices, data, a, memb, gamma, float(theta), int(seed), it, n_threads,
                                  shuffle, stats))[0]
        it += 1
        if np.array_equal(nxt, memb):
            break
        memb = nxt
    # a community that local moving left in pieces is split into its connected
    # components (never lowers the quality); usually there is none
    t0 = time.perf_counter()
    memb = _split_disconnected(indptr, indices, memb)[0]
    if stats is not None:
        stats.append({"split_s": time.perf_counter() - t0})
    return memb.astype(np.int64)


@njit(cache=True)
def _quality(indptr, indices, data, a, memb, gamma):
    k = 0
    for v in range(len(memb)):
        if memb[v] + 1 > k:
            k = memb[v] + 1
    ca = np.zeros(k)
    inside = 0.0
    for v in range(len(memb)):
        ca[memb[v]] += a[v]
        for j in range(indptr[v], indptr[v + 1]):
            if memb[indices[j]] == memb[v]:
                inside += data[j]
    return inside / 2.0 - gamma * (ca * ca).sum() / 2.0


def quality_csr(indptr, indices, weights, memb, *, node_weights, gamma) -> float:
    r""":math:`\sum_c (W_c - \gamma' A_c^2 / 2)` of ``memb`` (self-loops left out)."""
    return float(_quality(np.asarray(indptr, np.int64), np.asarray(indices, np.int32),
                          np.asarray(weights, np.float64), np.asarray(node_weights, np.float64),
                          np.asarray(memb, np.int64), float(gamma)))


# --- the adaptive default: modularity at a resolution chosen from the data ---------------------------
#
# ``adaptive_leiden_csr`` (the default of :func:`bellwether.algorithms.community.detect_communities`,
# ``objective="auto"``) scans the resolution :math:`\gamma` of modularity (Reichardt & Bornholdt
# 2006) from fine to coarse and keeps the finest partition whose modularity (at
# :math:`\gamma = 1`) stays within ``tolerance`` of the best one found.  Modularity's landscape has
# a wide plateau of near-optimal partitions (Good, de Montjoye & Clauset 2010,
# doi:10.1103/PhysRevE.81.046106); at :math:`\gamma = 1` its optimum merges small groups for a
# microscopic gain (the resolution limit, Fortunato & Barthélemy 2007), and past the plateau the
# modularity falls off a cliff as real groups break up.  The finest partition on the plateau
# resolves households on a million subscribers and still finds the big groups of small dense
# graphs, where a fixed CPM density either merges everything or shatters the graph.
#
# Cost: one Leiden run at the finest resolution on the full graph, the coarser resolutions on the
# aggregate graph of the previous one (a cascade; each level is much smaller than the graph),
# then a polish at the chosen resolution on the full graph started from the cascade's partition
# (the cascade cannot move single subscribers; the polish can): Leiden below 100k vertices, one
# pass of local moving above.


@njit(cache=True)
def _inside_weight(indptr, indices, data, memb, k):
    """Weight of the edges inside each of the ``k`` communities (each edge once)."""
    w = np.zeros(k)
    for v in range(len(indptr) - 1):
        c = memb[v]
        for j in range(indptr[v], indptr[v + 1]):
            if memb[indices[j]] == c:
                w[c] += data[j]
    return w / 2.0


@njit(cache=True)
def _ego_strength_mean(indptr, indices, data):
    """Strength-weighted mean, over vertices, of the strength of the vertex and its neighbours."""
    n = len(indptr) - 1
    s = np.zeros(n)
    for v in range(n):
        for j in range(indptr[v], indptr[v + 1]):
            s[v] += data[j]
    num = 0.0
    for v in range(n):
        ego = s[v]
        for j in range(indptr[v], indptr[v + 1]):
            ego += s[indices[j]]
        num += s[v] * ego
    total = s.sum()
    return num / total if total > 0 else 0.0


def resolution_scale(indptr, indices, weights) -> float:
    r"""The modularity resolution at which a typical neighbourhood stops being one community.

    :math:`2m / \bar E`, with :math:`\bar E` the strength-weighted mean over subscribers of the
    total strength of a subscriber and its contacts.  Modularity at resolution :math:`\gamma`
    keeps a group of total strength :math:`K` together only while :math:`\gamma K / 2m` stays
    below the share of its members' ties that stay inside, so the scan must start near
    :math:`2m / K` for the smallest groups; a neighbourhood's strength stands in for :math:`K`.
    On the graphs tried in development (school, karate, LFR, planted, a generated operator) the
    modularity cliff lay at 0.07-1.6 times this scale; a scan that starts too coarse restarts finer
    (:func:`adaptive_leiden_csr`).
    """
    indptr = np.ascontiguousarray(indptr, dtype=np.int64)
    indices = np.ascontiguousarray(indices, dtype=np.int32)
    data = np.ascontiguousarray(weights, dtype=np.float64)
    ego = _ego_strength_mean(indptr, indices, data)
    total = float(data.sum())
    return total / ego if ego > 0 else 1.0


class _Level:
    """One level of the cascade: an aggregate graph (CSR without self-loops), its nodes' strength,
    the weight inside each node, and the node of every row of the full graph."""

    __slots__ = ("indptr", "indices", "data", "strength", "inside", "node_of")

    def __init__(self, indptr, indices, data, strength, inside, node_of):
        self.indptr, self.indices, self.data = indptr, indices, data
        self.strength, self.inside, self.node_of = strength, inside, node_of

    def modularity(self, memb, two_m):
        memb, k = _compact(np.ascontiguousarray(memb, dtype=np.int32))
        w_in = _inside_weight(self.indptr, self.indices, self.data, memb, k).sum() + self.inside.sum()
        s = np.bincount(memb, weights=self.strength, minlength=k)
        return float(2.0 * w_in / two_m - ((s / two_m) ** 2).sum())

    def aggregate(self, memb, n_chunks):
        memb, k = _compact(np.ascontiguousarray(memb, dtype=np.int32))
        inside = np.bincount(memb, weights=self.inside, minlength=k) + _inside_weight(
            self.indptr, self.indices, self.data, memb, k)
        ptr, idx, w, strength = _aggregate(self.indptr, self.indices, self.data, self.strength, memb, k, n_chunks)
        return _Level(ptr, idx, w, strength, inside, memb[self.node_of])

    def leiden(self, gamma, seed, n_iterations):  # on the full graph: the first partition of the scan
        return leiden_csr(self.indptr, self.indices, self.data, node_weights=self.strength, objective="modularity",
                          resolution=gamma, seed=seed, n_iterations=n_iterations)

    def move(self, gamma, seed, two_m, key):
        """Fast local moving alone (one Louvain level) at resolution ``gamma``, from singletons."""
        n = len(self.strength)
        memb = np.arange(n, dtype=np.int32)
        _move_nodes(self.indptr, self.indices, self.data, self.strength, memb, gamma / two_m, seed, key,
                    n < VERTEX_ORDER_MIN)
        return memb


def _cascade(base, two_m, gamma_top, factor, seed, n_iterations, n_threads, stats):
    """Leiden at ``gamma_top`` on the full graph, then every coarser resolution of the grid as one
    level of local moving on the aggregate graph of the previous partition (a Louvain level); return
    ``[(gamma, row membership, modularity)]``, finest first."""
    t0 = time.perf_counter()
    fine = base.leiden(gamma_top, seed, n_iterations)
    scan = [(gamma_top, fine.astype(np.int64), base.modularity(fine, two_m))]
    if stats is not None:
        stats.append({"resolution": gamma_top, "nodes": len(base.strength), "seconds": time.perf_counter() - t0})
    level = base.aggregate(fine, n_threads)
    gamma = gamma_top
    while gamma > 1.0:
        gamma = max(gamma / factor, 1.0)
        t0 = time.perf_counter()
        memb = level.move(gamma, seed, two_m, len(scan))
        q = level.modularity(memb, two_m)
        level = level.aggregate(memb, n_threads)
        scan.append((gamma, level.node_of.astype(np.int64), q))
        if stats is not None:
            stats.append({"resolution": gamma, "nodes": len(memb), "seconds": time.perf_counter() - t0})
    return scan


def choose_resolution(scan, tolerance):
    """Index in ``scan`` (``[(gamma, ..., modularity)]``) of the finest resolution whose modularity
    is within ``tolerance`` (a share) of the best modularity in the scan."""
    best = max(q for _, _, q in scan)
    ok = [i for i, (_, _, q) in enumerate(scan) if q >= (1.0 - tolerance) * best]
    return max(ok, key=lambda i: scan[i][0])


#: share of the best modularity the chosen partition may give up (see ``adaptive_leiden_csr``)
DEFAULT_TOLERANCE = 0.08
#: ratio of successive resolutions in the scan
SCAN_FACTOR = 2.0
#: below this many vertices the polish is a Leiden iteration (refinement and aggregation too), above
#: it local moving alone (faster at a million subscribers for nearly the same NMI: bench/RESULTS.md)
POLISH_LEIDEN_BELOW = VERTEX_ORDER_MIN
#: the scan never starts above this resolution
_GAMMA_CAP = float(2 ** 24)


def adaptive_leiden_csr(
    indptr: np.ndarray,
    indices: np.ndarray,
    weights: np.ndarray,
    *,
    node_weights: np.ndarray | None = None,
    seed: int = DEFAULT_SEED,
    n_iterations: int | None = 2,
    tolerance: float = DEFAULT_TOLERANCE,
    factor: float = SCAN_FACTOR,
    gamma_top: float | None = None,
    stats: list | None = None,
):
    r"""Leiden on modularity at a resolution chosen from the graph (the default community method).

    1. Scan: resolutions :math:`\gamma_{top}, \gamma_{top}/2, \dots, 1`.  :math:`\gamma_{top}` is
       the power of two at or above half of :func:`resolution_scale`.  Leiden at
       :math:`\gamma_{top}` on the full graph (``n_iterations - 1`` iterations, at least one),
       then each coarser :math:`\gamma` as one level of fast local moving on the aggregate graph
       of the previous partition.  Each partition's modularity (at :math:`\gamma = 1`) is
       recorded.  If the finest one is still within ``tolerance`` of the best, the scan did not
       reach the cliff and restarts 8 times finer (at most twice).
    2. Choice: the finest :math:`\gamma` whose modularity is at least ``(1 - tolerance)`` times the
       best modularity of the scan.
    3. Polish at the chosen :math:`\gamma` on the full graph, from the scan's partition (the
       cascade moves whole pieces only): Leiden (``n_iterations`` iterations)
       below :data:`POLISH_LEIDEN_BELOW` vertices; above, fast local moving of single vertices,
       then disconnected communities are split.  A Leiden polish found the same resolutions and
       NMI within 0.005 on planted graphs of 100k and 1M subscribers, for 1.14x the time at 1M;
       on small graphs it reaches the modularity optimum where local moving alone may stop short
       (karate club: 0.4198 against 0.39-0.42).

    Parameters
    ----------
    indptr, indices, weights : numpy arrays
        Symmetric CSR adjacency without self-loops (:func:`csr_structure`, :func:`arc_weights`).
    node_weights : array, optional
        Vertex strengths including self-loops (default: row sums).
    seed : int
    n_iterations : int or None, default 2
    tolerance : float, default 0.08
        Share of the best modularity the chosen partition may give up (measured: 0.05-0.10 give
        the same or nearly the same partitions on the graphs of bench/RESULTS.md).
    factor : float, default 2
    gamma_top : float, optional
        First resolution of the scan (default from :func:`resolution_scale`).
    stats : list, optional
        Receives one dict per scan step (resolution, nodes, seconds).

    Returns
    -------
    membership : numpy.ndarray
        int64 community per row, ``0..k-1``.
    info : dict
        ``resolution`` (chosen), ``modularity_best`` (best modularity of the scan),
        ``scan`` (list of ``{"resolution", "modularity"}``), ``resolution_top``, ``restarts``.
    """
    indptr = np.ascontiguousarray(indptr, dtype=np.int64)
    indices = np.ascontiguousarray(indices, dtype=np.int32)
    data = np.ascontiguousarray(weights, dtype=np.float64)
    n = len(indptr) - 1
    if n == 0:
        return np.zeros(0, dtype=np.int64), {"resolution": 1.0, "modularity_best": 0.0, "scan": [],
                                             "resolution_top": 1.0, "restarts": 0}
    row_strength = np.bincount(np.repeat(np.arange(n), np.diff(indptr)), weights=data, minlength=n)
    strength = row_strength if node_weights is None else np.asarray(node_weights, dtype=np.float64)
    two_m = float(strength.sum())
    if two_m <= 0:
        return np.arange(n, dtype=np.int64), {"resolution": 1.0, "modularity_best": 0.0, "scan": [],
                                              "resolution_top": 1.0, "restarts": 0}
    inside = (strength - row_strength) / 2.0  # self-loops
    base = _Level(indptr, indices, data, strength, inside, np.arange(n, dtype=np.int32))
    n_threads = numba.get_num_threads()
    if gamma_top is None:
        gamma_top = 2.0 ** np.ceil(np.log2(max(resolution_scale(indptr, indices, data) / 2.0, 2.0)))
    gamma_top = float(min(gamma_top, _GAMMA_CAP))
    fine_iterations = 1 if n_iterations is None else max(int(n_iterations) - 1, 1)
    restarts = 0
    while True:
        scan = _cascade(base, two_m, gamma_top, factor, seed, fine_iterations, 4 * n_threads, stats)
        pick = choose_resolution(scan, tolerance)
        if pick != 0 or gamma_top >= _GAMMA_CAP or restarts >= 2:
            break
        gamma_top = min(gamma_top * 8.0, _GAMMA_CAP)  # the cliff is finer than the scan started
        restarts += 1
    best = max(q for _, _, q in scan)
    gamma, initial, _ = scan[pick]
    if n < POLISH_LEIDEN_BELOW:
        memb = leiden_csr(indptr, indices, data, node_weights=strength, objective="modularity", resolution=gamma,
                          seed=seed, n_iterations=n_iterations, initial=initial)
    else:
        memb = _compact(np.ascontiguousarray(initial, dtype=np.int32))[0]
        _move_nodes(indptr, indices, data, strength, memb, gamma / two_m, seed, 1 << 40, False)
        memb = _split_disconnected(indptr, indices, memb)[0].astype(np.int64)
    info = {
        "resolution": float(gamma),
        "modularity_best": float(best),
        "scan": [{"resolution": float(g), "modularity": float(q)} for g, _, q in scan],
        "resolution_top": float(gamma_top),
        "restarts": restarts,
        "tolerance": float(tolerance),
    }
    return memb, info

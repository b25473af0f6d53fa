"""Quality of a partition: modularity, CPM quality, and connectivity of each community.

All functions take the membership as an integer array indexed by ``vid`` and
work from the contacts table alone (NumPy, and a compiled union-find for
connectivity), so they judge every engine the same way.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from bellwether.algorithms.engines.numba_leiden import _root  # union-find root with path halving
from bellwether.graph.contact_graph import ContactGraph

__all__ = ["modularity", "cpm_quality", "split_disconnected", "count_disconnected", "merge_singletons"]


def _relabel(membership: np.ndarray) -> np.ndarray:
    """Labels usable as bincount indices: kept when already in ``0..2n``, else made dense."""
    lab = np.asarray(membership)
    if len(lab) and lab.dtype.kind in "iu" and lab.min() >= 0 and lab.max() <= 2 * len(lab):
        return lab.astype(np.int64, copy=False)
    _, dense = np.unique(lab, return_inverse=True)
    return dense.astype(np.int64)


def _ends(graph: ContactGraph) -> tuple[np.ndarray, np.ndarray]:
    return graph.contacts["a_vid"].to_numpy(np.int64), graph.contacts["b_vid"].to_numpy(np.int64)


@njit(cache=True)
def _inside_and_strength(a, b, w, lab, k):
    """Total weight of the edges inside communities, and the strength of each of the ``k`` communities."""
    inside = 0.0
    s_c = np.zeros(k)
    for i in range(len(a)):
        la = lab[a[i]]
        lb = lab[b[i]]
        if la == lb:
            inside += w[i]
        if k:
            s_c[la] += w[i]
            s_c[lb] += w[i]
    return inside, s_c


def modularity(graph: ContactGraph, membership, weights=None, *, resolution: float = 1.0) -> float:
    r"""Weighted modularity (Newman & Girvan 2004, doi:10.1103/PhysRevE.69.026113).

    .. math:: Q = \sum_c \left[\frac{W_c}{m} - \gamma \left(\frac{S_c}{2m}\right)^2\right]

    where :math:`W_c` is the weight of contacts inside community :math:`c`,
    :math:`S_c` the summed strength of its members, :math:`m` the total weight
    and :math:`\gamma` = ``resolution`` (Reichardt & Bornholdt 2006,
    doi:10.1103/PhysRevE.74.016110).  ``weights`` defaults to the ``weight``
    column; pass ones for unweighted modularity.

    >>> g = ContactGraph.from_edges([(0, 1), (1, 2), (0, 2), (3, 4), (4, 5), (3, 5), (2, 3)])
    >>> round(modularity(g, [0, 0, 0, 1, 1, 1]), 4)
    0.3571
    """
    m_arr = np.asarray(membership)
    w = graph.weights() if weights is None else np.asarray(weights, dtype=np.float64)
    a, b = _ends(graph)
    m = w.sum()
    if m == 0:
        return 0.0
    lab = _relabel(m_arr)
    k = lab.max() + 1 if len(lab) else 0
    w_in, s_c = _inside_and_strength(a, b, np.ascontiguousarray(w), lab, k)
    return float(w_in / m - resolution * ((s_c / (2 * m)) ** 2).sum())


def cpm_quality(graph: ContactGraph, membership, weights=None, *, resolution: float = 0.05) -> float:
    r"""Constant Potts Model quality (Traag, Van Dooren & Nesterov 2011, doi:10.1103/PhysRevE.84.016114).

    .. math:: H = \sum_c \left(W_c - \gamma \binom{n_c}{2}\right)

    with :math:`n_c` the number of members of community :math:`c`.
    """
    lab = _relabel(np.asarray(membership))
    w = graph.weights() if weights is None else np.asarray(weights, dtype=np.float64)
    a, b = _ends(graph)
    w_in, _ = _inside_and_strength(a, b, np.ascontiguousarray(w), lab, 0)
    n_c = np.bincount(lab).astype(np.float64)
    return float(w_in - resolution * (n_c * (n_c - 1) / 2).sum())


@njit(cache=True)
def _components_within(n, a, b, lab):
    """Union-find over the edges whose ends share a label; components numbered in order of first vertex."""
    parent = np.arange(n)
    for i in range(len(a)):
        u = a[i]
        v = b[i]
        if lab[u] == lab[v]:
            ru = _root(parent, u)
            rv = _root(parent, v)
            if ru < rv:
                parent[rv] = ru
            elif rv < ru:
                parent[ru] = rv
    out = np.empty(n, np.int64)
    number = np.full(n, -1, np.int64)
    k = 0
    for v in range(n):
        r = _root(parent, v)
        if number[r] < 0:
            number[r] = k
            k += 1
        out[v] = number[r]
    return out


def split_disconnected(graph: ContactGraph, membership) -> np.ndarray:
    """Split every community whose members are not connected by internal contacts.

    Returns a refined membership (dense labels ``0..k-1``, numbered in order of
    their smallest ``vid``): the connected components of the graph restricted
    to contacts inside a community.  A partition that is already connected
    keeps its communities (relabelled).
    """
    lab = np.ascontiguousarray(np.asarray(membership), dtype=np.int64)
    a, b = _ends(graph)
    return _components_within(graph.n_subscribers, a, b, lab)


@njit(cache=True)
def _count_split(comp, lab):
    """Communities holding more than one component (``lab`` in ``0..k-1``)."""
    k = 0
    for v in range(len(lab)):
        if lab[v] + 1 > k:
            k = lab[v] + 1
    first = np.full(k, -1, np.int64)  # first component seen per community
    split = np.zeros(k, np.bool_)
    for v in range(len(lab)):
        c = lab[v]
        if first[c] < 0:
            first[c] = comp[v]
        elif first[c] != comp[v]:
            split[c] = True
    return int(split.sum())


def count_disconnected(graph: ContactGraph, membership) -> int:
    """Number of communities whose members are not all connected through internal contacts."""
    lab = _relabel(np.asarray(membership))
    if len(lab) == 0:
        return 0
    comp = split_disconnected(graph, lab)
    return _count_split(comp, np.ascontiguousarray(lab))


@njit(cache=True)
def _merge_singletons(lab, sizes, single, ptr, nbr, wt):
    """Move each vertex of ``single`` (in order) that is still alone to the neighbouring community
    with the most tie weight to it (ties: the community of its strongest contact, then the smaller
    label); return the number moved."""
    acc = np.zeros(len(sizes))
    moved = 0
    for i in range(len(single)):
        v = single[i]
        if sizes[lab[v]] != 1:
            continue  # another singleton joined it already
        best = -1
        best_w = 0.0
        best_edge = 0.0
        for j in range(ptr[i], ptr[i + 1]):
            acc[lab[nbr[j]]] += wt[j]
        for j in range(ptr[i], ptr[i + 1]):
            c = lab[nbr[j]]
            if c == lab[v]:
                continue
            x = acc[c]
            if x > best_w or (x == best_w and (wt[j] > best_edge or (wt[j] == best_edge and c < best))):
                best, best_w, best_edge = c, x, wt[j]
        for j in range(ptr[i], ptr[i + 1]):
            acc[lab[nbr[j]]] = 0.0
        if best >= 0 and best_w > 0.0:
            sizes[lab[v]] -= 1
            lab[v] = best
            sizes[best] += 1
            moved += 1
    return moved


def merge_singletons(graph: ContactGraph, membership, weights=None, *, min_contacts: int = 2) -> tuple[np.ndarray, int]:
    """Put every subscriber alone in its community with at least ``min_contacts`` contacts into the
    neighbouring community holding most of its tie weight.

    A subscriber with one contact (or none) may stay alone: nothing says which group it belongs
    to beyond that contact.  Singletons are taken in ``vid`` order; one that joins another
    singleton makes a pair.  The result stays connected (a subscriber joins a community it has a
    contact in).  Returns the new membership (labels not compacted) and the number moved.
    """
    lab = np.array(_relabel(np.asarray(membership)), dtype=np.int64, copy=True)
    n = graph.n_subscribers
    if n == 0 or graph.n_contacts == 0:
        return lab, 0
    a, b = _ends(graph)
    w = graph.weights() if weights is None else np.asarray(weights, dtype=np.float64)
    loop = a == b
    deg = np.bincount(a[~loop], minlength=n) + np.bincount(b[~loop], minlength=n)
    sizes = np.bincount(lab, minlength=int(lab.max()) + 1).astype(np.int64)
    alone = (sizes[lab] == 1) & (deg >= min_contacts)
    if not alone.any():
        return lab, 0
    keep = ~loop & (alone[a] | alone[b])
    a, b, w = a[keep], b[keep], w[keep]
    src = np.concatenate([a[alone[a]], b[alone[b]]])
    dst = np.concatenate([b[alone[a]], a[alone[b]]])
    wt = np.concatenate([w[alone[a]], w[alone[b]]])
    order = np.argsort(src, kind="stable")
    src, dst, wt = src[order], dst[order], wt[order]
    single = np.flatnonzero(alone)
    ptr = np.searchsorted(src, np.append(single, n)).astype(np.int64)
    moved = _merge_singletons(lab, sizes, single.astype(np.int64), ptr, dst.astype(np.int64), wt.astype(np.float64))
    return lab, int(moved)

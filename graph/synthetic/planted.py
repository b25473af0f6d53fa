"""Synthetic contact graphs with planted communities, for quality and speed benchmarks.

The generator mimics a telecom contact graph: community sizes follow a
truncated power law from family size (2-6) to circles of a few hundred,
degrees are heavy-tailed, a share ``mixing`` of each subscriber's contacts
leaves the community, and ties inside a community are stronger than ties
across (tie strength is what the loader's ``weight`` measures).  It is a
vectorised configuration model per community, in the spirit of the LFR
benchmark (Lancichinetti, Fortunato & Radicchi 2008,
doi:10.1103/PhysRevE.78.046110), without LFR's exact degree matching, so a
1M-subscriber graph is made in seconds.
"""

from __future__ import annotations

import numpy as np

from bellwether.graph.contact_graph import ContactGraph
from bellwether.graph.core.settings import DEFAULT_SEED

__all__ = ["planted_edges", "planted_graph"]


def _community_sizes(n: int, rng: np.random.Generator, min_size: int, max_size: int, exponent: float) -> np.ndarray:
    sizes: list[np.ndarray] = []
    total = 0
    while total < n:
        u = rng.random(max(1024, n // 8))
        a = 1.0 - exponent
        s = ((max_size ** a - min_size ** a) * u + min_size ** a) ** (1.0 / a)
        s = np.floor(s).astype(np.int64)
        sizes.append(s)
        total += int(s.sum())
    s = np.concatenate(sizes)
    cut = int(np.searchsorted(np.cumsum(s), n))
    s = s[: cut + 1].copy()
    s[-1] -= int(s.sum()) - n
    return s[s > 0]


def _pair_stubs(owner: np.ndarray, group: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Pair stubs at random inside each group (configuration model); return (m, 2) endpoints."""
    order = np.lexsort((rng.random(len(owner)), group))
    owner, group = owner[order], group[order]
    # pair consecutive stubs of the same group
    first = np.ones(len(group), dtype=bool)
    first[1:] = group[1:] != group[:-1]
    pos = np.arange(len(group)) - np.maximum.accumulate(np.where(first, np.arange(len(group)), 0))
    left = np.flatnonzero((pos % 2 == 0))
    left = left[left + 1 < len(group)]
    left = left[group[left] == group[left + 1]]
    return np.column_stack([owner[left], owner[left + 1]])


def planted_edges(
    n: int,
    mean_degree: float = 20.0,
    mixing: float = 0.2,
    *,
    min_size: int = 3,
    max_size: int = 300,
    size_exponent: float = 2.0,
    seed: int = DEFAULT_SEED,
):
    """Return ``(edges, weights, membership)`` of a planted-partition contact graph.

    Parameters
    ----------
    n : int
        Number of subscribers.
    mean_degree : float, default 20
        Target mean number of contacts (duplicates are removed, so the result is a bit lower).
    mixing : float, default 0.2
        Share ``mu`` of each subscriber's contacts that leave its community.
    min_size, max_size, size_exponent
        Community sizes follow ``p(s) ~ s**-size_exponent`` on ``[min_size, max_size]``.
    seed : int
        Random seed; the same seed gives the same graph.
    """
    rng = np.random.default_rng(seed)
    sizes = _community_sizes(n, rng, min_size, max_size, size_exponent)
    membership = np.repeat(np.arange(len(sizes)), sizes)
    rng.shuffle(membership)
    size_of = sizes[membership]
    # heavy-tailed degrees, capped by what the community can hold
    deg = rng.lognormal(mean=np.log(mean_degree) - 0.5, sigma=1.0, size=n)
    internal = np.minimum(np.round(deg * (1 - mixing)), size_of - 1).astype(np.int64)
    internal = np.maximum(internal, np.minimum(1, size_of - 1))
    external = np.round(deg * mixing).astype(np.int64)
    owner_in = np.repeat(np.arange(n), internal)
    e_in = _pair_stubs(owner_in, membership[owner_in], rng)
    owner_out = np.repeat(np.arange(n), external)
    e_out = _pair_stubs(owner_out, np.zeros(len(owner_out), dtype=np.int64), rng)
    edges = np.concatenate([e_in, e_out])
    lo, hi = np.minimum(edges[:, 0], edges[:, 1]), np.maximum(edges[:, 0], edges[:, 1])
    keep = lo != hi
    key = np.unique(lo[keep] * n + hi[keep])
    edges = np.column_stack([key // n, key % n])
    same = membership[edges[:, 0]] == membership[edges[:, 1]]
    # tie strength: inside a community ties are stronger on average, with wide overlap
    weights = rng.lognormal(mean=np.where(same, 1.0, 0.3), sigma=0.8)
    return edges, weights, membership


def planted_graph(n: int, mean_degree: float = 20.0, mixing: float = 0.2, *, seed: int = DEFAULT_SEED, **kw):
    """Return ``(ContactGraph, membership)`` built from :func:`planted_edges`."""
    edges, weights, membership = planted_edges(n, mean_degree, mixing, seed=seed, **kw)
    return ContactGraph.from_edges(edges, weights, n=n), membership

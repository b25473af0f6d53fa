"""The reference engine: networkx, readable and slow; for small graphs and cross-checks.

Communities
-----------
``objective="modularity"`` runs networkx's own Louvain
(:func:`networkx.community.louvain_communities`, Blondel et al. 2008,
doi:10.1088/1742-5468/2008/10/P10008).  ``objective="cpm"`` runs
:func:`cpm_louvain` below, a plain Louvain local-moving-and-aggregation loop on
the Constant Potts Model (Traag, Van Dooren & Nesterov 2011,
doi:10.1103/PhysRevE.84.016114).  With ``method="leiden"`` the caller
(:func:`bellwether.algorithms.community.leiden.leiden`) splits any disconnected community
into its connected components, which gives Leiden's connectivity guarantee
(Traag, Waltman & van Eck 2019, doi:10.1038/s41598-019-41695-z) but not its
refinement phase; partitions therefore agree with igraph's up to a high NMI,
not label for label.  The reference always runs to convergence
(``max_iterations`` is not used).
"""

from __future__ import annotations

import random
from collections import defaultdict

import numpy as np

from bellwether.algorithms.engines import check_community_options
from bellwether.algorithms.engines._cache import NativeCache
from bellwether.graph.contact_graph import ContactGraph
from bellwether.graph.core.settings import DEFAULT_SEED

__all__ = ["NetworkxEngine", "cpm_louvain"]


def cpm_louvain(
    adjacency: dict[int, dict[int, float]],
    resolution: float,
    *,
    seed: int = DEFAULT_SEED,
    max_levels: int | None = None,
) -> dict[int, int]:
    r"""Louvain optimisation of the Constant Potts Model; return ``{node: community}``.

    The quality is

    .. math:: H = \sum_c \left(w_c - \gamma \binom{n_c}{2}\right)

    with :math:`w_c` the weight inside community :math:`c`, :math:`n_c` its
    number of (original) nodes and :math:`\gamma` = ``resolution``.  Moving node
    :math:`i` (size :math:`n_i`) into community :math:`c` changes :math:`H` by
    :math:`w_{i,c} - \gamma\, n_i n_c`, where :math:`w_{i,c}` is the weight
    between :math:`i` and :math:`c`.  Nodes are visited in a seeded random
    order until no move improves :math:`H`; communities are then aggregated
    into nodes and the loop repeats until nothing moves.
    """
    rng = random.Random(seed)
    # level graph: node -> {neighbour: weight}; node sizes count original nodes
    adj = {u: dict(nbrs) for u, nbrs in adjacency.items()}
    size = {u: 1 for u in adj}
    members = {u: [u] for u in adj}
    level = 0
    while True:
        comm = {u: u for u in adj}
        comm_size = dict(size)
        moved_any = False
        improved = True
        while improved:
            improved = False
            order = list(adj)
            rng.shuffle(order)
            for u in order:
                own = comm[u]
                to_comm: dict[int, float] = defaultdict(float)
                for v, w in adj[u].items():
                    if v != u:
                        to_comm[comm[v]] += w
                comm_size[own] -= size[u]
                stay = to_comm.get(own, 0.0) - resolution * size[u] * comm_size[own]
                best, best_gain = own, stay
                for c, w in sorted(to_comm.items()):
                    gain = w - resolution * size[u] * comm_size[c]
                    if gain > best_gain + 1e-12:
                        best, best_gain = c, gain
                comm_size[best] += size[u]
                if best != own:
                    comm[u] = best
                    improved = moved_any = True
        if not moved_any or (max_levels is not None and level + 1 >= max_levels):
            break
        # aggregate: one node per community, weights summed (self-loops keep internal weight)
        new_adj: dict[int, dict[int, float]] = defaultdict(lambda: defaultdict(float))
        for u, nbrs in adj.items():
            for v, w in nbrs.items():
                new_adj[comm[u]][comm[v]] += w
        new_members: dict[int, list[int]] = defaultdict(list)
        new_size: dict[int, int] = defaultdict(int)
        for u in adj:
            new_members[comm[u]].extend(members[u])
            new_size[comm[u]] += size[u]
        adj = {c: dict(nbrs) for c, nbrs in new_adj.items()}
        for c in new_members:
            adj.setdefault(c, {})
        members, size = dict(new_members), dict(new_size)
        level += 1
    result = {}
    for u in adj:
        for original in members[u]:
            result[original] = comm[u]
    return result


class NetworkxEngine:
    """Engine on networkx; see :class:`bellwether.algorithms.engines.Engine` for the interface."""

    name = "networkx"

    def __init__(self) -> None:
        self._graphs = NativeCache()

    def native(self, graph: ContactGraph):
        """The cached :class:`networkx.Graph` of ``graph`` (nodes are vertex numbers, edge attribute ``i`` = row)."""
        import networkx as nx

        def build(g: ContactGraph):
            G = nx.Graph()
            G.add_nodes_from(range(g.n_subscribers))
            e = g.edge_array()
            G.add_edges_from((int(a), int(b), {"i": i}) for i, (a, b) in enumerate(e))
            return G

        return self._graphs.get(graph, build)

    def _weighted(self, graph: ContactGraph, weights: np.ndarray):
        G = self.native(graph).copy()
        w = np.asarray(weights, dtype=np.float64)
        for _, _, d in G.edges(data=True):
            d["weight"] = float(w[d["i"]])
        return G

    def communities(self, graph, weights, *, method, objective, resolution, seed, max_iterations):
        import networkx as nx

        check_community_options(self.name, method, objective)
        G = self._weighted(graph, weights)
        membership = np.zeros(graph.n_subscribers, dtype=np.int64)
        if objective == "modularity":
            parts = nx.community.louvain_communities(G, weight="weight", resolution=resolution, seed=seed)
            for label, part in enumerate(parts):
                membership[list(part)] = label
        else:
            adjacency = {u: {v: d["weight"] for v, d in G[u].items()} for u in G}
            for node, label in cpm_louvain(adjacency, resolution, seed=seed).items():
                membership[node] = label
        return membership

    def pagerank(self, graph, weights, *, damping):
        import networkx as nx

        pr = nx.pagerank(self._weighted(graph, weights), alpha=damping, weight="weight", tol=1e-10, max_iter=1000)
        return np.array([pr[i] for i in range(graph.n_subscribers)], dtype=np.float64)

    def strength(self, graph, weights):
        G = self._weighted(graph, weights)
        return np.array([d for _, d in sorted(G.degree(weight="weight"))], dtype=np.float64)

    def degree(self, graph):
        return np.array([d for _, d in sorted(self.native(graph).degree())], dtype=np.int64)

    def coreness(self, graph):
        import networkx as nx

        core = nx.core_number(self.native(graph))
        return np.array([core[i] for i in range(graph.n_subscribers)], dtype=np.int64)

    def triangles(self, graph):
        import networkx as nx

        t = nx.triangles(self.native(graph))
        return np.array([t[i] for i in range(graph.n_subscribers)], dtype=np.int64)

    def versions(self):
        import networkx

        return {"networkx": networkx.__version__}

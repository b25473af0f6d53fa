"""Engines on python-igraph's C core (Csárdi & Nepusz 2006): ``igraph`` and the default ``numba``.

Both run PageRank, k-core, triangles and Louvain in igraph.  They differ in Leiden (Traag, Waltman &
van Eck 2019, doi:10.1038/s41598-019-41695-z): engine ``igraph`` runs igraph's own C implementation
(single-threaded); engine ``numba`` (the default, :func:`numba_engine`) runs
:mod:`bellwether.algorithms.engines.numba_leiden` (compiled, refinement and aggregation on both
cores) and with it the adaptive default objective in one compiled pass.  ``IgraphEngine(leiden=...)``
builds either; the engine's ``name`` and ``versions()["leiden_implementation"]`` say which ran.
Louvain is igraph's multilevel algorithm (Blondel et al. 2008,
doi:10.1088/1742-5468/2008/10/P10008).  igraph draws random numbers from a
Python ``random``-like object; each call installs a private
``random.Random(seed)`` and restores the previous generator, so runs are
reproducible and the caller's global random state is untouched.
"""

from __future__ import annotations

import random
from contextlib import contextmanager
from typing import Iterator

import numpy as np

from bellwether.algorithms.engines import EngineError, check_community_options
from bellwether.algorithms.engines._cache import NativeCache
from bellwether.graph.contact_graph import ContactGraph

__all__ = ["LEIDEN_IMPLEMENTATIONS", "IgraphEngine", "numba_engine"]

LEIDEN_IMPLEMENTATIONS = ("igraph", "numba")


@contextmanager
def _seeded(seed: int) -> Iterator[None]:
    import igraph as ig

    ig.set_random_number_generator(random.Random(seed))
    try:
        yield
    finally:
        ig.set_random_number_generator(random)


class IgraphEngine:
    """Engine on python-igraph; see :class:`bellwether.algorithms.engines.Engine` for the interface."""

    def __init__(self, leiden: str = "igraph") -> None:
        if leiden not in LEIDEN_IMPLEMENTATIONS:
            raise EngineError(f"Unknown Leiden implementation {leiden!r}; choose one of: {', '.join(LEIDEN_IMPLEMENTATIONS)}.")
        self.leiden = leiden
        self.name = leiden  # "igraph" or "numba": the registered engine this instance is
        self._graphs = NativeCache()
        self._csr = NativeCache()

    def csr(self, graph: ContactGraph):
        """The cached CSR structure ``(indptr, indices, arc_edge, vertex)`` of ``graph`` for the numba Leiden.

        Rows are numbered breadth-first (:func:`bellwether.algorithms.engines.numba_leiden.csr_structure`).
        """
        from bellwether.algorithms.engines.numba_leiden import csr_structure

        return self._csr.get(graph, lambda g: csr_structure(g.n_subscribers, g.edge_array()))

    def native(self, graph: ContactGraph):
        """The cached unweighted :class:`igraph.Graph` of ``graph`` (vertex ``i`` is ``vid == i``)."""
        import igraph as ig

        def build(g: ContactGraph):
            # add_edges from an ndarray is faster than Graph(n, edges=ndarray)
            native = ig.Graph(n=g.n_subscribers, directed=False)
            native.add_edges(g.edge_array())
            return native

        return self._graphs.get(graph, build)

    def communities(self, graph, weights, *, method, objective, resolution, seed, max_iterations):
        check_community_options(self.name, method, objective)
        w = np.asarray(weights, dtype=np.float64)
        if graph.n_subscribers == 0:
            return np.zeros(0, dtype=np.int64)
        if method == "leiden" and self.leiden == "numba":
            return self._numba_leiden(graph, w, objective, resolution, seed, max_iterations)
        g = self.native(graph)
        with _seeded(seed):
            if method == "leiden":
                part = g.community_leiden(
                    objective_function="CPM" if objective == "cpm" else "modularity",
                    weights=w,
                    resolution=resolution,
                    beta=0.01,
                    n_iterations=-1 if max_iterations is None else max_iterations,
                )
            else:
                if objective != "modularity":
                    raise EngineError(f"Engine {self.name!r} runs Louvain with objective 'modularity' only; use method 'leiden' for 'cpm'.")
                part = g.community_multilevel(weights=w, resolution=resolution)
        return np.asarray(part.membership, dtype=np.int64)

    def _numba_leiden(self, graph, w, objective, resolution, seed, max_iterations):
        from bellwether.algorithms.engines.numba_leiden import arc_weights, leiden_csr

        indptr, indices, arc_edge, vertex = self.csr(graph)
        n = graph.n_subscribers
        strength = None
        if objective == "modularity":  # self-loops count twice, as in igraph
            e = graph.edge_array()
            strength = np.bincount(e[:, 0], weights=w, minlength=n) + np.bincount(e[:, 1], weights=w, minlength=n)
            strength = strength[vertex]
        rows = leiden_csr(
            indptr, indices, arc_weights(w, arc_edge), node_weights=strength, objective=objective,
            resolution=resolution, seed=seed, n_iterations=max_iterations,
        )
        membership = np.empty(n, dtype=np.int64)
        membership[vertex] = rows
        return membership

    def communities_auto(self, graph, weights, *, seed, max_iterations, tolerance, stats=None):
        """The adaptive default (``objective="auto"``) in numba: membership per vid and the scan's
        record (:func:`bellwether.algorithms.engines.numba_leiden.adaptive_leiden_csr`); None when this engine
        runs igraph's own Leiden, which leaves the scan to the caller."""
        if self.leiden != "numba":
            return None
        from bellwether.algorithms.engines.numba_leiden import adaptive_leiden_csr, arc_weights

        w = np.asarray(weights, dtype=np.float64)
        n = graph.n_subscribers
        if n == 0:
            return np.zeros(0, dtype=np.int64), {"resolution": 1.0, "modularity_best": 0.0, "scan": []}
        indptr, indices, arc_edge, vertex = self.csr(graph)
        e = graph.edge_array()  # self-loops count twice in the strength, as in igraph
        strength = np.bincount(e[:, 0], weights=w, minlength=n) + np.bincount(e[:, 1], weights=w, minlength=n)
        rows, info = adaptive_leiden_csr(
            indptr, indices, arc_weights(w, arc_edge), node_weights=strength[vertex], seed=seed,
            n_iterations=max_iterations, tolerance=tolerance, stats=stats,
        )
        membership = np.empty(n, dtype=np.int64)
        membership[vertex] = rows
        return membership, info

    def pagerank(self, graph, weights, *, damping):
        g = self.native(graph)
        if g.vcount() == 0:
            return np.zeros(0)
        w = np.asarray(weights, dtype=np.float64).tolist()  # igraph reads an ndarray here as an attribute name
        return np.asarray(g.pagerank(weights=w, damping=damping), dtype=np.float64)

    def strength(self, graph, weights):
        g = self.native(graph)
        return np.asarray(g.strength(weights=np.asarray(weights, dtype=np.float64)), dtype=np.float64)

    def degree(self, graph):
        return np.asarray(self.native(graph).degree(), dtype=np.int64)

    def coreness(self, graph):
        return np.asarray(self.native(graph).coreness(), dtype=np.int64)

    def triangles(self, graph):
        g = self.native(graph)
        deg = np.asarray(g.degree(), dtype=np.float64)
        cc = np.asarray(g.transitivity_local_undirected(mode="zero"), dtype=np.float64)
        return np.rint(cc * deg * (deg - 1) / 2).astype(np.int64)

    def versions(self):
        import igraph
        import leidenalg
        import numba

        return {"igraph": igraph.__version__, "leidenalg": leidenalg.version, "numba": numba.__version__,
                "leiden_implementation": self.leiden}


def numba_engine() -> IgraphEngine:
    """The default engine ``numba``: igraph for everything but Leiden, which runs in numba."""
    return IgraphEngine(leiden="numba")

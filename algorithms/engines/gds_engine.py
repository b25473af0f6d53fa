"""The in-database engine: Neo4j Graph Data Science, driven through the ``graphdatascience`` client.

Every algorithm runs on a projection of the ``(:Subscriber)-[:CONTACT]->(:Subscriber)``
graph into the GDS catalog, undirected (each contact is stored once, from ``a``
to ``b``) with the ``weight`` property.  A projection gets a unique name and is
always dropped afterwards (``try``/``finally``), whether the algorithm succeeded
or not.  Each public call projects, runs and drops; callers that run several
algorithms on one graph share one projection with :meth:`GdsEngine.projected`::

    engine = GdsEngine(store)
    with engine.projected(graph):
        labels = engine.communities(graph, graph.weights(), method="leiden", objective="modularity",
                                    resolution=1.0, seed=1, max_iterations=None)
        pr = engine.pagerank(graph, graph.weights(), damping=0.85)

GDS streams results keyed by Neo4j node ids; they are mapped back to vertex
numbers (``vid``) through the subscribers' ``id`` property, so the arrays are
the same as the igraph engine's.  The graph in Neo4j must be the analysed
graph (``bellwether neo4j push``): counts and ids are checked at projection.

Algorithms (GDS 2.13 procedures):

- communities: ``gds.leiden`` (Traag, Waltman & van Eck 2019,
  doi:10.1038/s41598-019-41695-z), ``gds.louvain`` (Blondel et al. 2008,
  doi:10.1088/1742-5468/2008/10/P10008); modularity only (GDS has no CPM),
  ``resolution`` is Leiden's ``gamma``; run with concurrency 1 so ``seed`` makes
  runs repeatable;
- ``gds.pageRank`` (weighted; scores normalised to sum 1 like igraph's);
- ``gds.degree`` with and without weights (strength, degree);
- ``gds.kcore`` (coreness), ``gds.triangleCount``;
- ``gds.influenceMaximization.celf`` (Leskovec et al. 2007, doi:10.1145/1281192.1281239)
  for influence seeds under the Independent Cascade model.

Weights: engines receive the weights the public function chose.  GDS reads
the ``weight`` property in the database, so the engine accepts weights that
are the ``weight`` column times a constant (what modularity, CPM normalisation
and PageRank use; strength is scaled back) or constant weights (unweighted);
anything else raises :class:`~bellwether.algorithms.engines.EngineError`.

Write-back of a run's results goes through the store's
:func:`bellwether.graph.neo4j_store.write_back`, as for every other engine.
"""

from __future__ import annotations

import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Iterator

import numpy as np
import pandas as pd

from bellwether.algorithms.engines import EngineError, check_community_options
from bellwether.graph.contact_graph import ContactGraph
from bellwether.graph.core.settings import DEFAULT_SEED

if TYPE_CHECKING:
    from graphdatascience import GraphDataScience

    from bellwether.graph.neo4j_store import Neo4jStore
    from bellwether.graph.core.settings import Settings

__all__ = ["GdsEngine", "Projection"]

PROJECTION_PREFIX = "bellwether-"


@dataclass
class Projection:
    """A projected graph in the GDS catalog and the map from its node ids to vertex numbers."""

    graph: Any  # graphdatascience Graph
    name: str
    nodes: np.ndarray  # Neo4j node ids, sorted
    vids: np.ndarray  # vid of each entry of ``nodes``
    n: int
    seconds: float
    owner: ContactGraph = field(repr=False)

    def to_vid(self, node_ids: Any) -> np.ndarray:
        ids = np.asarray(node_ids, dtype=np.int64)
        pos = np.searchsorted(self.nodes, ids)
        return self.vids[pos]

    def scatter(self, df: pd.DataFrame, column: str, dtype: Any) -> np.ndarray:
        """A per-vid array from a streamed ``nodeId, column`` frame."""
        out = np.zeros(self.n, dtype=dtype)
        if len(df):
            out[self.to_vid(df["nodeId"].to_numpy())] = df[column].to_numpy(dtype)
        return out


class GdsEngine:
    """Engine on Neo4j GDS; see :class:`bellwether.algorithms.engines.Engine` for the interface.

    Parameters
    ----------
    store : Neo4jStore, optional
        Where the graph lives.  Without one (the engine registry creates engines
        without arguments) the ``neo4j_*`` settings are used (``bellwether.toml``
        ``[neo4j]`` or ``BELLWETHER_NEO4J_*``).
    concurrency : int, optional
        Threads per algorithm (GDS default when None).  Leiden and Louvain always
        use 1 so that ``seed`` makes them repeatable.
    max_iterations_pagerank : int, default 100
    tolerance_pagerank : float, default 1e-10
        PageRank stops after this many iterations or when no score moves more
        than the tolerance (GDS defaults are 20 and 1e-7; these match igraph's
        exact solution to about 1e-9).
    """

    name = "gds"
    #: GDS has no adaptive resolution scan; its Leiden runs on modularity unless told otherwise
    default_objective = "modularity"

    def __init__(
        self,
        store: "Neo4jStore | None" = None,
        *,
        concurrency: int | None = None,
        max_iterations_pagerank: int = 100,
        tolerance_pagerank: float = 1e-10,
    ) -> None:
        self._store = store
        self.concurrency = concurrency
        self.max_iterations_pagerank = max_iterations_pagerank
        self.tolerance_pagerank = tolerance_pagerank
        self._gds: GraphDataScience | None = None
        self._held: Projection | None = None
        self.timings: dict[str, float] = {}

    @classmethod
    def from_settings(cls, settings: "Settings", **kwargs: Any) -> "GdsEngine":
        from bellwether.graph.neo4j_store import Neo4jStore

        return cls(Neo4jStore.from_settings(settings), **kwargs)

    # --- connection --------------------------------------------------------------------------------
    @property
    def store(self) -> "Neo4jStore":
        if self._store is None:
            from bellwether.graph.neo4j_store import Neo4jStore
            from bellwether.graph.core.settings import load_settings

            self._store = Neo4jStore.from_settings(load_settings())
        return self._store

    @property
    def gds(self) -> "GraphDataScience":
        """The GDS client over Bolt (OpenGDS has no Arrow server), created on first use.

        Raises
        ------
        graph.neo4j_store.Neo4jError
            The server is unreachable or has no GDS plugin (the store's one-line errors).
        """
        if self._gds is None:
            from graphdatascience import GraphDataScience

            store = self.store
            store.connect()
            store.gds_version()  # Neo4jError naming the install step when GDS is missing
            auth = (store.user or "neo4j", store.password) if store.password else None
            with store.translate_errors():
                self._gds = GraphDataScience(store.uri, auth=auth, database=store.database, arrow=False,
                                             show_progress=False)
        return self._gds

    def close(self) -> None:
        if self._gds is not None:
            self._gds.close()
            self._gds = None

    # --- projection --------------------------------------------------------------------------------
    @contextmanager
    def projected(self, graph: ContactGraph) -> Iterator[Projection]:
        """Project ``graph``'s Neo4j copy once for every call inside the block; dropped on exit.

        Raises
        ------
        EngineError
            The subscribers or contacts in Neo4j are not those of ``graph``.
        """
        if self._held is not None and self._held.owner is graph:
            yield self._held
            return
        with self._projection(graph) as p:
            outer, self._held = self._held, p
            try:
                yield p
            finally:
                self._held = outer

    @contextmanager
    def _projection(self, graph: ContactGraph) -> Iterator[Projection]:
        if self._held is not None and self._held.owner is graph:
            yield self._held
            return
        gds = self.gds
        store = self.store
        name = f"{PROJECTION_PREFIX}{uuid.uuid4().hex[:12]}"
        t0 = time.perf_counter()
        with store.translate_errors():
            G, result = gds.graph.project.native(
                name, "Subscriber",
                {"CONTACT": {"orientation": "UNDIRECTED", "properties": {"weight": {"property": "weight", "defaultValue": 0.0}}}},
                log_progress=False,
            )
        try:
            if result.node_count != graph.n_subscribers or result.relationship_count != 2 * graph.n_contacts:
                raise EngineError(
                    f"Engine 'gds': Neo4j at {store.uri} holds {result.node_count:,} subscribers and "
                    f"{result.relationship_count // 2:,} contacts, the analysed graph {graph.n_subscribers:,} and "
                    f"{graph.n_contacts:,}: push this graph first with `bellwether neo4j push`."
                )
            ids = store.read("server.node_ids")
            vid_of = pd.Index(graph.subscribers["id"].astype(str).to_numpy())
            vids = vid_of.get_indexer(ids["id"].astype(str).to_numpy()) if len(ids) else np.zeros(0, np.int64)
            if (vids < 0).any():
                missing = int((vids < 0).sum())
                raise EngineError(
                    f"Engine 'gds': {missing:,} subscribers in Neo4j at {store.uri} are not in the analysed graph: "
                    f"push this graph first with `bellwether neo4j push`."
                )
            nodes = ids["node"].to_numpy(np.int64)
            order = np.argsort(nodes)
            proj = Projection(G, name, nodes[order], vids[order].astype(np.int64), graph.n_subscribers,
                              time.perf_counter() - t0, graph)
            self.timings["projection"] = self.timings.get("projection", 0.0) + proj.seconds
            yield proj
        finally:
            G.drop(fail_if_missing=False)

    def _run(self, graph: ContactGraph, label: str, call) -> Any:
        with self._projection(graph) as p:
            t0 = time.perf_counter()
            with self.store.translate_errors():
                out = call(p)
            self.timings[label] = self.timings.get(label, 0.0) + time.perf_counter() - t0
            return out

    def _threads(self) -> dict[str, Any]:
        return {} if self.concurrency is None else {"concurrency": self.concurrency}

    @staticmethod
    def _weight_spec(graph: ContactGraph, weights: np.ndarray) -> tuple[str | None, float]:
        """``(relationship weight property or None, factor)`` with ``weights == factor * property``."""
        w = np.asarray(weights, dtype=np.float64)
        if len(w) == 0:
            return None, 1.0
        if np.allclose(w, w[0], rtol=1e-12, atol=0.0):
            return None, float(w[0])
        stored = graph.contacts["weight"].to_numpy(np.float64)
        ok = stored > 0
        if ok.any():
            factor = float(np.median(w[ok] / stored[ok]))
            if np.allclose(w, factor * stored, rtol=1e-9, atol=1e-12):
                return "weight", factor
        raise EngineError(
            "Engine 'gds' reads tie strength from the `weight` property in Neo4j: it accepts weights that are the "
            "weight column times a constant, or constant weights; run this algorithm with engine 'numba' (the default) or 'igraph'."
        )

    # --- Engine protocol ---------------------------------------------------------------------------
    def communities(self, graph, weights, *, method, objective, resolution, seed, max_iterations):
        check_community_options(self.name, method, objective)
        if objective != "modularity":
            raise EngineError(
                "Engine 'gds' optimises modularity only (GDS Leiden and Louvain have no CPM objective): "
                "use --objective modularity, or engine 'numba' (the default) for CPM."
            )
        if method == "louvain" and resolution != 1.0:
            raise EngineError("Engine 'gds' runs Louvain at resolution 1.0 only; use method 'leiden' for other resolutions.")
        if graph.n_subscribers == 0:
            return np.zeros(0, dtype=np.int64)
        prop, _ = self._weight_spec(graph, weights)
        extra = {"relationship_weight_property": prop} if prop else {}
        levels = {"max_levels": int(max_iterations)} if max_iterations is not None else {}

        def call(p: Projection) -> np.ndarray:
            if method == "leiden":
                df = self.gds.leiden.stream(p.graph, gamma=float(resolution), random_seed=int(seed), concurrency=1,
                                            log_progress=False, **levels, **extra)
            else:
                df = self.gds.louvain.stream(p.graph, concurrency=1, log_progress=False, **levels, **extra)
            return p.scatter(df, "communityId", np.int64)

        return self._run(graph, "communities", call)

    def pagerank(self, graph, weights, *, damping):
        if graph.n_subscribers == 0:
            return np.zeros(0)
        prop, _ = self._weight_spec(graph, weights)
        extra = {"relationship_weight_property": prop} if prop else {}

        def call(p: Projection) -> np.ndarray:
            df = self.gds.page_rank.stream(p.graph, damping_factor=float(damping), max_iterations=self.max_iterations_pagerank,
                                           tolerance=self.tolerance_pagerank, log_progress=False, **self._threads(), **extra)
            pr = p.scatter(df, "score", np.float64)
            total = pr.sum()
            return pr / total if total > 0 else pr

        return self._run(graph, "pagerank", call)

    def strength(self, graph, weights):
        prop, factor = self._weight_spec(graph, weights)
        if graph.n_subscribers == 0:
            return np.zeros(0)
        extra = {"relationship_weight_property": prop} if prop else {}

        def call(p: Projection) -> np.ndarray:
            df = self.gds.degree.stream(p.graph, log_progress=False, **self._threads(), **extra)
            return p.scatter(df, "score", np.float64) * factor

        return self._run(graph, "strength", call)

    def degree(self, graph):
        if graph.n_subscribers == 0:
            return np.zeros(0, dtype=np.int64)

        def call(p: Projection) -> np.ndarray:
            df = self.gds.degree.stream(p.graph, log_progress=False, **self._threads())
            return np.rint(p.scatter(df, "score", np.float64)).astype(np.int64)

        return self._run(graph, "degree", call)

    def coreness(self, graph):
        if graph.n_subscribers == 0:
            return np.zeros(0, dtype=np.int64)

        def call(p: Projection) -> np.ndarray:
            df = self.gds.kcore.stream(p.graph, log_progress=False, **self._threads())
            return p.scatter(df, "coreValue", np.int64)

        return self._run(graph, "coreness", call)

    def triangles(self, graph):
        if graph.n_subscribers == 0:
            return np.zeros(0, dtype=np.int64)

        def call(p: Projection) -> np.ndarray:
            df = self.gds.triangle_count.stream(p.graph, log_progress=False, **self._threads())
            return p.scatter(df, "triangleCount", np.int64)

        return self._run(graph, "triangles", call)

    def versions(self):
        from importlib.metadata import version

        out = {"graphdatascience": version("graphdatascience")}
        try:
            out["gds"] = str(self.gds.server_version())
        except Exception as exc:  # versions are informative; never fail a finished run over them
            out["gds"] = f"unknown ({type(exc).__name__})"
        return out

    # --- beyond the protocol -----------------------------------------------------------------------
    def influence_seeds(
        self,
        graph: ContactGraph,
        k: int = 50,
        *,
        propagation_probability: float = 0.1,
        monte_carlo_simulations: int = 100,
        seed: int = DEFAULT_SEED,
    ) -> pd.DataFrame:
        """Choose ``k`` seeds with GDS CELF (lazy greedy on Monte-Carlo Independent Cascade spread).

        Every arc fires with the same ``propagation_probability`` (GDS CELF has no
        per-tie probabilities); ``monte_carlo_simulations`` cascades estimate each
        spread.  More simulations give steadier gains and take proportionally longer.

        Returns
        -------
        pandas.DataFrame
            :data:`bellwether.graph.schema.INFLUENCE_SEEDS` columns: ``rank`` (1 = picked
            first, i.e. largest marginal gain), ``vid``, ``id``, ``marginal_gain``
            (GDS's ``spread`` of the node) and ``cumulative_spread``.
        """
        if k < 1:
            raise ValueError(f"k must be at least 1, got {k}")
        k = min(int(k), graph.n_subscribers)

        def call(p: Projection) -> pd.DataFrame:
            df = self.gds.influence_maximization_celf.stream(
                p.graph, seed_set_size=k, propagation_probability=float(propagation_probability),
                monte_carlo_simulations=int(monte_carlo_simulations), random_seed=int(seed),
                log_progress=False, **self._threads(),
            )
            vids = p.to_vid(df["nodeId"].to_numpy()) if len(df) else np.zeros(0, np.int64)
            out = pd.DataFrame({"vid": vids, "marginal_gain": df["spread"].to_numpy(np.float64)})
            out = out.sort_values(["marginal_gain", "vid"], ascending=[False, True], kind="stable").reset_index(drop=True)
            out.insert(0, "rank", np.arange(1, len(out) + 1, dtype=np.int64))
            out.insert(2, "id", graph.subscribers["id"].to_numpy()[out["vid"].to_numpy()])
            out["cumulative_spread"] = out["marginal_gain"].cumsum()
            return out

        return self._run(graph, "influence", call)

    def write_back(self, run_dir, **kwargs: Any):
        """Write a run's tables into Neo4j with the store's :func:`bellwether.graph.neo4j_store.write_back`."""
        from bellwether.graph.neo4j_store import write_back

        t0 = time.perf_counter()
        result = write_back(self.store, run_dir, **kwargs)
        self.timings["write"] = self.timings.get("write", 0.0) + time.perf_counter() - t0
        return result

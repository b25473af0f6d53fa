"""The one dispatch point between Bellwether's algorithms and the graph libraries that run them.

Every public algorithm (:mod:`bellwether.algorithms.community`, :mod:`bellwether.algorithms.centrality`)
takes ``engine=DEFAULT_ENGINE`` and asks :func:`get_engine` for an object that
implements :class:`Engine`.  Engines receive a :class:`~bellwether.graph.contact_graph.ContactGraph`
and plain NumPy arrays, and return plain NumPy arrays indexed by vertex number
``vid``; the public functions turn those into the same tables whatever the engine.

Engines
-------
``numba`` (default)
    python-igraph's C code for PageRank, k-core and the graph object, and for
    Leiden the project's numba implementation on CSR arrays
    (:mod:`bellwether.algorithms.engines.numba_leiden`): fast, used for production runs.
``igraph``
    python-igraph for everything, Leiden included (igraph's own C Leiden, single-threaded).
``networkx``
    Pure-Python reference, readable, for small graphs and cross-checks in tests.
``gds``
    Neo4j Graph Data Science, in the database.  It plugs in by name: a module
    ``bellwether.algorithms.engines.gds_engine`` defining ``GdsEngine`` (or a call to
    :func:`register_engine`) is all it takes.

An engine that lacks an algorithm raises :class:`EngineError` naming the engine
and the algorithm, never a silent fallback.
"""

from __future__ import annotations

import importlib
from typing import Callable, Protocol, runtime_checkable

import numpy as np

from bellwether.graph.contact_graph import ContactGraph
from bellwether.graph.core.errors import BellwetherError

__all__ = [
    "Engine",
    "EngineError",
    "available_engines",
    "get_engine",
    "register_engine",
    "COMMUNITY_METHODS",
    "DEFAULT_ENGINE",
    "OBJECTIVES",
]

#: the engine every public algorithm uses unless told otherwise (setting ``engine``)
DEFAULT_ENGINE = "numba"

COMMUNITY_METHODS = ("leiden", "louvain")
OBJECTIVES = ("modularity", "cpm")


class EngineError(BellwetherError):
    """An engine is unknown, not installed, or does not implement an algorithm."""


@runtime_checkable
class Engine(Protocol):
    """What an engine provides.  Arrays are indexed by ``vid`` (``0..n-1``).

    ``weights`` are edge weights aligned with ``graph.contacts`` rows; engines
    never read weight columns themselves, so the public function decides what
    "weight" means (tie strength, normalised tie strength, ones).
    """

    name: str

    def communities(
        self,
        graph: ContactGraph,
        weights: np.ndarray,
        *,
        method: str,
        objective: str,
        resolution: float,
        seed: int,
        max_iterations: int | None,
    ) -> np.ndarray:
        """Membership array: community label per vertex (labels arbitrary)."""
        ...

    def pagerank(self, graph: ContactGraph, weights: np.ndarray, *, damping: float) -> np.ndarray: ...

    def strength(self, graph: ContactGraph, weights: np.ndarray) -> np.ndarray: ...

    def degree(self, graph: ContactGraph) -> np.ndarray: ...

    def coreness(self, graph: ContactGraph) -> np.ndarray: ...

    def triangles(self, graph: ContactGraph) -> np.ndarray: ...

    def versions(self) -> dict[str, str]: ...


# name -> "module:attribute" (imported on first use) or a factory
_REGISTRY: dict[str, str | Callable[[], Engine]] = {
    "numba": "bellwether.algorithms.engines.igraph_engine:numba_engine",
    "igraph": "bellwether.algorithms.engines.igraph_engine:IgraphEngine",
    "networkx": "bellwether.algorithms.engines.networkx_engine:NetworkxEngine",
    "gds": "bellwether.algorithms.engines.gds_engine:GdsEngine",
}
_INSTANCES: dict[str, Engine] = {}


def register_engine(name: str, target: str | Callable[[], Engine]) -> None:
    """Register an engine under ``name``: a ``"module:Class"`` path or a zero-argument factory."""
    _REGISTRY[name] = target
    _INSTANCES.pop(name, None)


def available_engines() -> list[str]:
    """Names of the registered engines whose module can be imported."""
    names = []
    for name in _REGISTRY:
        try:
            get_engine(name)
        except EngineError:
            continue
        names.append(name)
    return names


def get_engine(name: str | Engine, **options) -> Engine:
    """Return the engine registered as ``name`` (an :class:`Engine` instance passes through).

    Without ``options`` the engine is built once and shared; with them a new one is built with
    them (e.g. ``get_engine("gds", store=store)`` for a store other than the settings' one).

    Raises
    ------
    EngineError
        ``name`` is not registered, or its module is not installed.
    """
    if not isinstance(name, str):
        return name
    if name in _INSTANCES and not options:
        return _INSTANCES[name]
    target = _REGISTRY.get(name)
    if target is None:
        raise EngineError(f"Unknown engine {name!r}; choose one of: {', '.join(_REGISTRY)}.")
    if callable(target):
        engine = target(**options)
    else:
        module_name, _, attr = target.partition(":")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name and module_name.startswith(exc.name) or exc.name == module_name:
                raise EngineError(
                    f"Engine {name!r} is not available in this installation (module {module_name} is missing)."
                ) from exc
            raise EngineError(f"Engine {name!r} needs the package {exc.name!r}; install it first.") from exc
        engine = getattr(module, attr)(**options)
    if not options:
        _INSTANCES[name] = engine
    return engine


def check_community_options(engine: str, method: str, objective: str) -> None:
    """Raise :class:`EngineError` for a method or objective no engine knows."""
    if method not in COMMUNITY_METHODS:
        raise EngineError(f"Unknown community method {method!r}; choose one of: {', '.join(COMMUNITY_METHODS)}.")
    if objective not in OBJECTIVES:
        raise EngineError(f"Unknown objective {objective!r}; choose one of: {', '.join(OBJECTIVES)}.")

"""Per-graph cache of engine-native graphs, so a pipeline builds each engine graph once."""

from __future__ import annotations

import weakref
from typing import Any, Callable

from bellwether.graph.contact_graph import ContactGraph


class NativeCache:
    """Map a :class:`ContactGraph` (by identity, while it lives) to an engine-native graph.

    The entry is rebuilt when the number of subscribers or contacts changed; a graph
    whose tables are edited in place with the same sizes must be copied first.
    """

    def __init__(self) -> None:
        self._items: dict[int, tuple[weakref.ref, tuple[int, int], Any]] = {}

    def get(self, graph: ContactGraph, build: Callable[[ContactGraph], Any]) -> Any:
        key = id(graph)
        shape = (graph.n_subscribers, graph.n_contacts)
        hit = self._items.get(key)
        if hit is not None and hit[0]() is graph and hit[1] == shape:
            return hit[2]
        native = build(graph)
        self._items[key] = (weakref.ref(graph, lambda _ref, k=key: self._items.pop(k, None)), shape, native)
        return native

"""The contact graph: its tables, its stores and its conversions to graph engines.

A :class:`~bellwether.graph.contact_graph.ContactGraph` is the subscribers table plus the
contacts table and nothing else.  The local workspace (:mod:`bellwether.graph.core.workspace`)
holds it as Parquet; Neo4j holds it under the same names.
"""

from bellwether.graph.contact_graph import ContactGraph
from bellwether.graph.core.workspace import Workspace

__all__ = ["ContactGraph", "Workspace"]

"""The contact graph: its tables, its stores and its conversions to graph engines.

A :class:`~graph.contact_graph.ContactGraph` is the subscribers table plus the
contacts table and nothing else.  The local workspace (:mod:`graph.workspace`)
holds it as Parquet; Neo4j holds it under the same names.
"""

from graph.contact_graph import ContactGraph
from graph.workspace import Workspace

__all__ = ["ContactGraph", "Workspace"]

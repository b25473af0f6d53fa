"""The Neo4j store: connection and runner, schema, push, pull and write-back.

>>> from bellwether.graph.neo4j_store import Neo4jStore, push_graph, pull_graph, write_back
>>> with Neo4jStore.from_settings(load_settings()) as store:      # doctest: +SKIP
...     push_graph(store, ContactGraph.load("bellwether-workspace"))
...     df = store.run("load.count_contacts")                      # a named statement of cypher/
...     df = store.run("MATCH (s:Subscriber) RETURN s.id LIMIT $n", n=5)   # or Cypher text
"""

from bellwether.graph.neo4j_store.pull import pull_graph
from bellwether.graph.neo4j_store.push import PushResult, push_graph, push_workspace
from bellwether.graph.neo4j_store.schema import ensure_schema, schema_objects
from bellwether.graph.neo4j_store.store import Neo4jError, Neo4jStore
from bellwether.graph.neo4j_store.writeback import WriteBackResult, write_back

__all__ = [
    "Neo4jError",
    "Neo4jStore",
    "PushResult",
    "WriteBackResult",
    "ensure_schema",
    "pull_graph",
    "push_graph",
    "push_workspace",
    "schema_objects",
    "write_back",
]

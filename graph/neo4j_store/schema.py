"""Constraints and indexes of the Bellwether graph (``cypher/schema.cypher``)."""

from __future__ import annotations

from bellwether.graph.neo4j_store.store import Neo4jStore


def ensure_schema(store: Neo4jStore) -> list[str]:
    """Run every ``schema.*`` statement in file order (all ``IF NOT EXISTS``, so idempotent).

    Returns the names of the statements run.  The last one waits until every index is online.
    """
    names = [q.name for q in store.library if q.name.startswith("schema.")]
    for name in names:
        store.execute_auto(name)
    return names


def schema_objects(store: Neo4jStore) -> dict[str, list[str]]:
    """Names of the database's constraints and indexes."""
    constraints = store.read("server.constraints")
    indexes = store.read("server.indexes")
    return {"constraints": list(constraints["name"]), "indexes": list(indexes["name"])}

"""What the ``neo4j-admin database import`` input holds, for every writer of it.

The single-machine writer (:mod:`bellwether.graph.neo4j_store.bulk`, DuckDB) and the Spark
writer (:mod:`bellwether.graph.neo4j_store.spark_files`) produce the same import: the same
node and relationship groups, header fields, id spaces and property types.  This module is
the one place that says what they are:

* :data:`SUBSCRIBER_GROUP`: ``(:Subscriber)`` nodes from the subscribers table, the columns
  the push sends (:data:`bellwether.graph.neo4j_store.push.SUBSCRIBER_COLUMNS`), ``id`` as the
  node id in the ``Subscriber`` id space;
* :data:`CONTACT_GROUP`: ``(:Subscriber)-[:CONTACT]->(:Subscriber)`` from ``a`` to ``b``;
* :data:`LOAD_BATCH_GROUP`: the ``(:LoadBatch)`` bookkeeping nodes of the single-machine writer;
* :data:`GRAPH_INFO_GROUP`: the ``(:GraphInfo)`` node holding the graph's ``graph.json`` (the Spark
  writer's; after the single-machine import, the push records it).

A column's header field is ``name:type`` in the importer's type names (Neo4j Operations
Manual, "Import: CSV header format"), its type taken from :mod:`bellwether.graph.schema`, so
the header does not depend on how a writer happened to read the table.  Values are written as
the push sends them: timestamps as UTC ``datetime`` (``2025-03-01T08:15:00Z``), dates as
``date``, integers as ``long``; a missing value is an empty field (no property).
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from typing import Iterable, Sequence

import pyarrow as pa

from bellwether.graph import schema
from bellwether.graph.neo4j_store.push import CONTACT_COLUMNS, SUBSCRIBER_COLUMNS

__all__ = [
    "ARGS_FILE", "CONTACT_GROUP", "DATETIME_FORMAT", "DATE_FORMAT", "GRAPH_INFO_GROUP", "Group", "LOAD_BATCH_GROUP", "SUBSCRIBER_GROUP",
    "admin_arguments", "type_suffix",
]

#: the importer's arguments, one per line (picocli reads them with ``neo4j-admin @FILE``)
ARGS_FILE = "neo4j-admin-import.args"

#: how a timestamp (naive UTC in the workspace) is written: ISO 8601 with ``Z``, whole seconds
DATETIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
DATE_FORMAT = "%Y-%m-%d"


def type_suffix(dtype: pa.DataType) -> str:
    """The importer's type for a column of ``dtype`` (``""`` for a string)."""
    if pa.types.is_boolean(dtype):
        return "boolean"
    if pa.types.is_integer(dtype):
        return "long"
    if pa.types.is_floating(dtype):
        return "double"
    if pa.types.is_timestamp(dtype):
        return "datetime"
    if pa.types.is_date(dtype):
        return "date"
    return ""


@dataclass(frozen=True)
class Group:
    """One node or relationship group of the import: its table, columns and header fields.

    ``kind`` is ``"nodes"`` or ``"relationships"``; ``name`` the label or relationship type;
    ``table`` the file stem (``subscribers.csv``, ``subscribers/part-*.csv``...);
    ``schema`` the types of its columns; ``header`` the header field of the columns that are
    ids rather than typed properties.
    """

    kind: str
    name: str
    table: str
    schema: pa.Schema
    columns: tuple[str, ...]
    header: dict[str, str] = field(default_factory=dict)

    def present(self, available: Iterable[str]) -> list[str]:
        """The group's columns a table holds, in the group's order (an absent column sets no property)."""
        have = set(available)
        return [c for c in self.columns if c in have]

    def field_name(self, column: str) -> str:
        """The header field of ``column``: its id role, or ``name:type``."""
        if column in self.header:
            return self.header[column]
        suffix = type_suffix(self.schema.field(column).type)
        return f"{column}:{suffix}" if suffix else column

    def header_fields(self, columns: Sequence[str]) -> list[str]:
        return [self.field_name(c) for c in columns]

    def dtype(self, column: str) -> pa.DataType:
        return self.schema.field(column).type

    def option(self, files: str) -> str:
        """The importer's option for this group's ``files`` (``--nodes=Subscriber=...``)."""
        return f"--{self.kind}={self.name}={files}"


SUBSCRIBER_GROUP = Group("nodes", "Subscriber", "subscribers", schema.SUBSCRIBERS, SUBSCRIBER_COLUMNS,
                         {"id": "id:ID(Subscriber)"})
CONTACT_GROUP = Group("relationships", "CONTACT", "contacts", schema.CONTACTS, CONTACT_COLUMNS,
                      {"a": ":START_ID(Subscriber)", "b": ":END_ID(Subscriber)"})
LOAD_BATCH_GROUP = Group(
    "nodes", "LoadBatch", "load_batches",
    pa.schema([("key", pa.string()), ("load", pa.string()), ("kind", pa.string()), ("rows", pa.int64())]),
    ("key", "load", "kind", "rows"), {"key": "key:ID(LoadBatch)"})
#: the ``(:GraphInfo {key: 'graph'})`` node the push records the graph's ``graph.json`` in (``load.graph_info``)
GRAPH_INFO_GROUP = Group("nodes", "GraphInfo", "graph_info", pa.schema([("key", pa.string()), ("info", pa.string())]),
                         ("key", "info"), {"key": "key:ID(GraphInfo)"})


def admin_arguments(database: str, groups: Sequence[tuple[Group, str]]) -> list[str]:
    """``neo4j-admin`` arguments of a full import that replaces ``database``: one option per ``(group, files)``.

    Node groups come first (the importer reads them before the relationships that refer to them).
    """
    ordered = [g for g in groups if g[0].kind == "nodes"] + [g for g in groups if g[0].kind != "nodes"]
    return ["database", "import", "full", database, "--overwrite-destination=true",
            *[group.option(files) for group, files in ordered]]


def command(arguments: Sequence[str]) -> str:
    """The shell command for ``arguments``."""
    return shlex.join(["neo4j-admin", *arguments])

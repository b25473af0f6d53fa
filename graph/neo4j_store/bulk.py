"""Files for ``neo4j-admin database import``: the offline bulk path into an empty database.

The transactional push (:mod:`bellwether.graph.neo4j_store.push`) is bound by the server's
per-relationship write cost (about 12-20k contacts/s on two cores,
``bench/bench_neo4j_load.py``).  For a first load into a new database,
Neo4j's offline importer writes the store files directly and is many times
faster.  :func:`write_import_files` writes its input: CSV files with typed
headers (Neo4j Operations Manual, "Import: CSV header format"):

* ``subscribers.csv``: ``(:Subscriber)`` nodes, the SUBSCRIBERS columns
  except ``vid``; ``id`` is the node id (``id:ID(Subscriber)``);
* ``contacts.csv``: ``(:Subscriber)-[:CONTACT]->(:Subscriber)`` from ``a`` to
  ``b``, the CONTACTS columns except the vertex numbers;
* ``load_batches.csv``: the ``(:LoadBatch)`` nodes a complete push of the same
  graph would leave, so that a ``bellwether neo4j push`` after the import finds
  every batch done, sends nothing, and only adds the schema and the graph info;
* ``neo4j-admin-import.args``: the importer's arguments, one per line (picocli
  reads them with ``neo4j-admin @FILE``).

Values are written as the push sends them: timestamps as UTC ``datetime``,
dates as ``date``, integers as ``long``; a missing value is an empty field, so
the node or relationship gets no property, as with the push.  The groups, header
fields and formats are those of :mod:`bellwether.graph.neo4j_store.import_layout`,
which the Spark writer (:mod:`bellwether.graph.neo4j_store.spark_files`) shares.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa

from bellwether.graph import schema
from bellwether.graph.contact_graph import ContactGraph
from bellwether.graph.cypher_library import CypherLibrary, default_library
from bellwether.graph.neo4j_store.import_layout import (
    ARGS_FILE,
    CONTACT_GROUP,
    DATE_FORMAT,
    DATETIME_FORMAT,
    LOAD_BATCH_GROUP,
    SUBSCRIBER_GROUP,
    Group,
    admin_arguments,
    command,
)
from bellwether.graph.neo4j_store.push import (
    CONTACT_COLUMNS,
    DEFAULT_BATCH_SIZE,
    DEFAULT_WRITERS,
    SUBSCRIBER_COLUMNS,
    batch_key,
    load_batches,
)

__all__ = ["ARGS_FILE", "ImportFiles", "write_import_files"]


@dataclass
class ImportFiles:
    """The files written for one import and the command that loads them."""

    directory: Path
    subscribers: Path
    contacts: Path
    load_batches: Path
    args_file: Path
    database: str = "neo4j"
    counts: dict[str, int] = field(default_factory=dict)

    def arguments(self) -> list[str]:
        """``neo4j-admin`` arguments: a full import that replaces the database."""
        return admin_arguments(self.database, [(SUBSCRIBER_GROUP, str(self.subscribers)),
                                               (LOAD_BATCH_GROUP, str(self.load_batches)),
                                               (CONTACT_GROUP, str(self.contacts))])

    def command(self) -> str:
        """The shell command to run on the server's machine, with the server stopped."""
        return command(self.arguments())


def _select_list(group: Group, columns: list[str]) -> str:
    """SQL select items that format each column for the importer and name it with its header field."""
    items = []
    for name in columns:
        dtype = group.dtype(name)
        expr = f'"{name}"'
        if pa.types.is_timestamp(dtype):  # naive UTC in the workspace -> ISO 8601 with Z
            expr = f"strftime({expr}, '{DATETIME_FORMAT}')"
        elif pa.types.is_date(dtype):
            expr = f"strftime({expr}, '{DATE_FORMAT}')"
        items.append(f'{expr} AS "{group.field_name(name)}"')
    return ", ".join(items)


def _write_csv(con: duckdb.DuckDBPyConnection, table: pa.Table, group: Group, path: Path) -> None:
    con.register("t", table)
    try:
        con.execute(
            f"COPY (SELECT {_select_list(group, group.present(table.column_names))} FROM t) "
            f"TO '{path}' (FORMAT csv, HEADER, DELIMITER ',', QUOTE '\"')"
        )
    finally:
        con.unregister("t")


def _arrow(df: pd.DataFrame, table_schema: pa.Schema) -> pa.Table:
    """The frame as Arrow with the schema's types (NaN and None become null)."""
    fields = [f for f in table_schema if f.name in df.columns]
    return pa.Table.from_pandas(df[[f.name for f in fields]], schema=pa.schema(fields), preserve_index=False)


def write_import_files(
    graph: ContactGraph,
    directory: str | Path,
    batch_size: int = DEFAULT_BATCH_SIZE,
    database: str = "neo4j",
    library: CypherLibrary | None = None,
    writers: int = DEFAULT_WRITERS,
) -> ImportFiles:
    """Write the ``neo4j-admin database import`` input for ``graph`` into ``directory``.

    Parameters
    ----------
    graph : ContactGraph
    directory : path
        Created if missing; files of an earlier call are replaced.
    batch_size, writers : int
        The batch size and writers of the push whose ``LoadBatch`` nodes are written: a
        later ``bellwether neo4j push`` with the same values finds the graph complete.
    database : str
        The database the printed command imports into.
    library : CypherLibrary, optional
        The load statements whose text keys the batches (default: the project's ``cypher/``).

    Returns
    -------
    ImportFiles
    """
    library = library or default_library()
    out = Path(directory).resolve()  # the arguments file names absolute paths
    out.mkdir(parents=True, exist_ok=True)
    files = ImportFiles(out, out / "subscribers.csv", out / "contacts.csv", out / "load_batches.csv",
                        out / ARGS_FILE, database)

    batches = []
    for kind, df, cols in (("subscribers", graph.subscribers, SUBSCRIBER_COLUMNS),
                           ("contacts", graph.contacts, CONTACT_COLUMNS)):
        load, _, plan = load_batches(library, kind, df, cols, batch_size, writers=writers)
        batches += [(batch_key(kind, load, i), load, kind, stop - start) for i, (start, stop) in enumerate(plan.bounds)]
    load_table = pa.table({
        "key": [b[0] for b in batches], "load": [b[1] for b in batches],
        "kind": [b[2] for b in batches], "rows": pa.array([b[3] for b in batches], pa.int64()),
    })

    subscribers = _arrow(graph.subscribers, schema.SUBSCRIBERS)
    contacts = _arrow(graph.contacts, schema.CONTACTS)
    con = duckdb.connect()
    try:
        _write_csv(con, subscribers, SUBSCRIBER_GROUP, files.subscribers)
        _write_csv(con, contacts, CONTACT_GROUP, files.contacts)
        _write_csv(con, load_table, LOAD_BATCH_GROUP, files.load_batches)
    finally:
        con.close()
    files.args_file.write_text("\n".join(files.arguments()) + "\n", encoding="utf-8")
    files.counts = {"subscribers": graph.n_subscribers, "contacts": graph.n_contacts, "load_batches": len(batches)}
    return files

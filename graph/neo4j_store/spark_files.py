"""``neo4j-admin database import`` input written by Spark: a header file and many part files per group.

The single-machine writer (:mod:`bellwether.graph.neo4j_store.bulk`) holds the whole graph in
one process.  For a graph built on Spark, :func:`write_spark_import_files` reads the graph
tables (``subscribers.parquet``, ``contacts.parquet`` and ``graph.json`` of a graph folder: a
local path or any URI the Spark installation reads) and writes, in parallel, one CSV part per
partition without a header, beside one header file per group::

    OUT/subscribers.header.csv      id:ID(Subscriber),on_net:boolean,kind,...
    OUT/subscribers/part-00000-...csv
    OUT/contacts.header.csv         :START_ID(Subscriber),:END_ID(Subscriber),calls_ab:long,...
    OUT/contacts/part-00000-...csv
    OUT/graph_info.csv              the graph's graph.json, as the push records it
    OUT/neo4j-admin-import.args     --nodes=Subscriber=OUT/subscribers.header.csv,OUT/subscribers/part-.*

``neo4j-admin`` reads a group's files as one (the first line of the first file is the header)
and takes a regular expression for the parts.  The groups, header fields, id spaces and value
formats are those of :mod:`bellwether.graph.neo4j_store.import_layout`, shared with the
single-machine writer, so both imports give the same nodes, relationships and properties.

What this writer leaves out: the ``(:LoadBatch)`` nodes of the single-machine writer.  Their
keys hash the whole table in the push's sending order in one process, which is what a graph
beyond one machine cannot afford; after the import, ``bellwether neo4j schema`` adds the
constraints and indexes (a later ``bellwether neo4j push`` would replace the contacts whole).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa

from bellwether.graph.core.spark import (
    hadoop_path, is_local, join_location, local_path, read_text, spark_location, sql_settings, write_text,
)
from bellwether.graph.neo4j_store.import_layout import (
    ARGS_FILE,
    CONTACT_GROUP,
    GRAPH_INFO_GROUP,
    SUBSCRIBER_GROUP,
    Group,
    admin_arguments,
    command,
)

if TYPE_CHECKING:  # pyspark is an optional extra
    from pyspark.sql import Column, DataFrame, SparkSession

__all__ = ["SparkImportFiles", "write_spark_import_files"]

#: Spark's patterns for :data:`~bellwether.graph.neo4j_store.import_layout.DATETIME_FORMAT` and ``DATE_FORMAT``
SPARK_DATETIME_FORMAT = "yyyy-MM-dd'T'HH:mm:ss'Z'"
SPARK_DATE_FORMAT = "yyyy-MM-dd"

#: the parts of a group, as a regular expression on the file names in its folder (Spark names them part-NNNNN-...)
PART_PATTERN = "part-.*"

#: CSV as DuckDB writes it for the single-machine files: quote ", a quote inside doubled, null as an empty
#: field, an empty string as "", values never trimmed
_CSV_OPTIONS = {
    "header": "false", "sep": ",", "quote": '"', "escape": '"', "nullValue": "",
    "ignoreLeadingWhiteSpace": "false", "ignoreTrailingWhiteSpace": "false", "lineSep": "\n", "encoding": "UTF-8",
}


@dataclass
class SparkImportFiles:
    """The files of one Spark-written import and the command that loads them.

    Locations are as Spark wrote them (absolute local paths, or URIs).  The arguments file
    names absolute paths for a local output; for an output elsewhere (HDFS, S3) it names them
    relative to the folder, to be run from inside the folder once copied to the server's machine.
    """

    directory: str
    groups: dict[str, tuple[str, str]]  # group table -> (header file, parts folder)
    args_file: str
    database: str = "neo4j"
    counts: dict[str, int] = field(default_factory=dict)
    partitions: dict[str, int] = field(default_factory=dict)

    @property
    def local(self) -> bool:
        return is_local(self.directory)

    def _name(self, location: str) -> str:
        if self.local:
            return local_path(location)
        return location[len(self.directory.rstrip("/")) + 1:]

    def files(self, table: str) -> str:
        """The importer's file list of one group: the header file, then its parts."""
        header, parts = self.groups[table]
        return f"{self._name(header)},{self._name(join_location(parts, PART_PATTERN))}"

    def arguments(self) -> list[str]:
        groups = [(SUBSCRIBER_GROUP, self.files(SUBSCRIBER_GROUP.table))]
        if GRAPH_INFO_GROUP.table in self.groups:
            groups.append((GRAPH_INFO_GROUP, self._name(self.groups[GRAPH_INFO_GROUP.table][0])))
        groups.append((CONTACT_GROUP, self.files(CONTACT_GROUP.table)))
        return admin_arguments(self.database, groups)

    def command(self) -> str:
        return command(self.arguments())


def _formatted(df: "DataFrame", group: Group) -> "DataFrame":
    """The group's columns of ``df`` as the importer reads them, in header order."""
    from pyspark.sql import functions as F

    items: list[Column] = []
    for name in group.present(df.columns):
        dtype = group.dtype(name)
        col = F.col(name)
        if pa.types.is_timestamp(dtype):
            col = F.date_format(col, SPARK_DATETIME_FORMAT)
        elif pa.types.is_date(dtype):
            col = F.date_format(col.cast("date"), SPARK_DATE_FORMAT)
        elif pa.types.is_floating(dtype):
            col = col.cast("double")
            col = F.when(F.isnan(col), F.lit(None).cast("double")).otherwise(col)  # NaN is a missing value
        elif pa.types.is_integer(dtype):
            col = col.cast("long")
        items.append(col.alias(name))
    return df.select(*items)


def _csv_line(values: list[str]) -> str:
    import csv
    import io

    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerow(values)
    return buf.getvalue()


def _graph_info(spark: "SparkSession", graph: str) -> str | None:
    """The graph folder's ``graph.json`` as the push records it (sorted keys), or None when there is none."""
    text = read_text(spark, join_location(graph, "graph.json"))
    return None if text is None else json.dumps(json.loads(text), sort_keys=True, default=str)


def write_spark_import_files(
    spark: "SparkSession",
    graph: str | Path,
    directory: str | Path,
    *,
    partitions: int | None = None,
    database: str = "neo4j",
) -> SparkImportFiles:
    """Write the ``neo4j-admin database import`` input for the graph tables in ``graph``, with Spark.

    Parameters
    ----------
    spark : SparkSession
        From :func:`bellwether.graph.core.spark.spark_session` (any master).
    graph : path or URI
        A graph folder: ``subscribers.parquet``, ``contacts.parquet`` and optionally
        ``graph.json`` (a workspace's ``graph/``, or the same tables elsewhere).
    directory : path or URI
        Where the files go; groups written by an earlier call are replaced.
    partitions : int, optional
        Part files per group; default Spark's default parallelism when the tables are read in
        fewer partitions (so every core writes), else as read.
    database : str
        The database the printed command imports into.

    Returns
    -------
    SparkImportFiles
    """
    graph = spark_location(str(graph))
    out = spark_location(str(directory))
    path, fs = hadoop_path(spark, out)
    fs.mkdirs(path)
    groups: dict[str, tuple[str, str]] = {}
    counts: dict[str, int] = {}
    parts: dict[str, int] = {}
    target = partitions or spark.sparkContext.defaultParallelism
    # a timestamp read as one with a time zone is shown in UTC, the workspace's convention
    with sql_settings(spark, {"spark.sql.session.timeZone": "UTC"}):
        for group in (SUBSCRIBER_GROUP, CONTACT_GROUP):
            df = spark.read.parquet(join_location(graph, f"{group.table}.parquet"))
            counts[group.table] = df.count()
            if partitions is not None or df.rdd.getNumPartitions() < target:
                df = df.repartition(target)
            parts[group.table] = df.rdd.getNumPartitions()
            formatted = _formatted(df, group)
            header = join_location(out, f"{group.table}.header.csv")
            folder = join_location(out, group.table)
            formatted.write.mode("overwrite").options(**_CSV_OPTIONS).csv(folder)
            write_text(spark, header, _csv_line(group.header_fields(formatted.columns)))
            groups[group.table] = (header, folder)
    info = _graph_info(spark, graph)
    if info is not None:
        location = join_location(out, f"{GRAPH_INFO_GROUP.table}.csv")
        write_text(spark, location, _csv_line(GRAPH_INFO_GROUP.header_fields(list(GRAPH_INFO_GROUP.columns)))
                    + _csv_line(["graph", info]))
        groups[GRAPH_INFO_GROUP.table] = (location, "")
        counts[GRAPH_INFO_GROUP.table] = 1
    files = SparkImportFiles(out, groups, join_location(out, ARGS_FILE), database, counts, parts)
    write_text(spark, files.args_file, "\n".join(files.arguments()) + "\n")
    return files

"""Graph tables into Spark and results back, and the directed view of the contacts every measure reads.

A contact is stored once per unordered pair (``a_vid``, ``b_vid``) with ``_ab`` columns for
what ``a`` initiated and ``_ba`` for what ``b`` did (:data:`bellwether.graph.schema.CONTACTS`).
:func:`arcs` turns each contact into two arcs, one from each end, whose ``*_out`` columns are
what the arc's ``src`` initiated towards ``dst`` and ``*_in`` what it received: a sum of an
arc column grouped by ``src`` is exactly the ``per_vertex(x_ab, x_ba)`` bincount pair of
:func:`bellwether.algorithms.churn.features.churn_features`.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from bellwether.graph.core.spark import join_location, read_text, spark_location

if TYPE_CHECKING:
    from bellwether.graph.contact_graph import ContactGraph

__all__ = ["COUNT_COLUMNS", "graph_frames", "read_graph", "arcs", "vertex_strength", "weight_column", "to_pandas"]

#: directed count columns of the contacts table read by the measures (missing ones count as 0)
COUNT_COLUMNS = ("calls_ab", "calls_ba", "seconds_ab", "seconds_ba", "sms_ab", "sms_ba")


def graph_frames(spark: SparkSession, graph: "ContactGraph") -> tuple[DataFrame, DataFrame]:
    """The ``(subscribers, contacts)`` DataFrames of an in-memory :class:`ContactGraph`.

    Only the columns the measures read travel (through Arrow): ``vid`` and ``churn_date``
    (as a date) of the subscribers; ``a_vid``, ``b_vid``, ``weight`` and the directed counts
    of the contacts.
    """
    n = graph.n_subscribers
    if "churn_date" in graph.subscribers.columns:
        days = pd.to_datetime(graph.subscribers["churn_date"], errors="raise").to_numpy("datetime64[ns]")
        churn = pa.array(days.astype("datetime64[D]"), type=pa.date32(), from_pandas=True)  # NaT -> null
    else:
        churn = pa.nulls(n, type=pa.date32())
    sub_table = pa.table({"vid": pa.array(graph.subscribers["vid"].to_numpy(np.int64)), "churn_date": churn})
    cols = [c for c in ("a_vid", "b_vid", "weight", *COUNT_COLUMNS) if c in graph.contacts.columns]
    con_table = pa.Table.from_pandas(graph.contacts[cols], preserve_index=False)
    return spark.createDataFrame(sub_table), spark.createDataFrame(con_table)


def read_graph(spark: SparkSession, graph: str) -> tuple[DataFrame, DataFrame, dict[str, Any]]:
    """``(subscribers, contacts, info)`` of a graph folder: its Parquet tables and ``graph.json`` ({} without one).

    ``graph`` is a workspace's published graph directory or the same files anywhere Spark reads
    (a local path, ``hdfs://...``, ``s3a://...``).
    """
    graph = spark_location(graph)
    info = read_text(spark, join_location(graph, "graph.json"))
    return (spark.read.parquet(join_location(graph, "subscribers.parquet")),
            spark.read.parquet(join_location(graph, "contacts.parquet")), json.loads(info) if info else {})


def weight_column(weight: str | None) -> Column:
    """The tie strength as a double: column ``weight``, or 1 for every tie when ``weight`` is None."""
    return F.lit(1.0) if weight is None else F.col(weight).cast("double")


def _count(contacts: DataFrame, name: str) -> Column:
    if name in contacts.columns:
        return F.coalesce(F.col(name).cast("double"), F.lit(0.0))
    return F.lit(0.0)


def arcs(contacts: DataFrame, weight: str | None = "weight") -> DataFrame:
    """Both directions of every contact: ``src``, ``dst``, ``w`` and ``calls/seconds/sms`` ``_out``/``_in`` of ``src``.

    Counts are doubles with nulls as 0 (as the single-machine features read them).
    """
    w = weight_column(weight)

    def side(src: str, dst: str, out: str, inn: str) -> DataFrame:
        return contacts.select(
            F.col(src).cast("long").alias("src"), F.col(dst).cast("long").alias("dst"), w.alias("w"),
            *[_count(contacts, f"{kind}_{d}").alias(f"{kind}_{io}")
              for kind in ("calls", "seconds", "sms") for d, io in ((out, "out"), (inn, "in"))],
        )

    return side("a_vid", "b_vid", "ab", "ba").unionByName(side("b_vid", "a_vid", "ba", "ab"))


def vertex_strength(subscribers: DataFrame, arc_frame: DataFrame) -> DataFrame:
    """``vid`` and ``strength`` (sum of tie strengths, 0 without contacts) of every subscriber."""
    s = arc_frame.groupBy("src").agg(F.sum("w").alias("strength"))
    return (subscribers.select(F.col("vid").cast("long").alias("vid"))
            .join(s, F.col("vid") == F.col("src"), "left")
            .select("vid", F.coalesce(F.col("strength"), F.lit(0.0)).alias("strength")))


def to_pandas(df: DataFrame, sort_by: str | Sequence[str] | None = "vid") -> pd.DataFrame:
    """Collect ``df`` to the driver as pandas (through Arrow), rows sorted by ``sort_by``, index 0..n-1.

    Only for results that fit the driver (one row per subscriber of a test or bench graph);
    at scale write the DataFrame out instead (``df.write.parquet(...)``).
    """
    out: Any = df.toArrow().to_pandas()
    if sort_by is not None:
        out = out.sort_values(sort_by, kind="stable")
    return out.reset_index(drop=True)

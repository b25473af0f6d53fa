"""The heavy half of the graph build on Spark: stored records -> one row of counts per pair of subscribers.

:func:`spark_pair_counts` gives :func:`bellwether.graph.build.build_graph` a replacement for its
DuckDB aggregation (``pair_counts=``): Spark reads the records files in the window, removes exact
duplicates when files overlap in time, keeps ``as_of - window <= start_time < as_of`` and aggregates
every record into its unordered pair, writing the columns of
:func:`bellwether.graph.build.pair_counts_sql` as Parquet.  The rest of the build (ratios,
service numbers, the subscriber extract, vertex numbers, tie strength) then reads those counts
exactly as it reads its own, so both engines give the same tables.

Pseudonyms are unsigned 64-bit numbers (Spark reads them as ``decimal(20,0)``); pairs are ordered
by them, so they travel as ``long`` shifted by ``2**63`` (:data:`KEY_SHIFT`), which keeps their order,
and are shifted back when read (:func:`bellwether.graph.build.shifted_key_sql`).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Callable, Sequence

#: pseudonym (uint64) - KEY_SHIFT is a signed 64-bit number in the same order
KEY_SHIFT = 2**63


def pair_counts_frame(records, start: datetime, end: datetime, dedupe: bool):
    """Spark DataFrame of the pair counts of ``records`` (a DataFrame of :data:`bellwether.graph.schema.RECORDS`).

    Columns: ``a < b`` (shifted keys), calls, seconds and SMS per direction, first and last
    contact, ``active_days`` (distinct calendar days), ``night`` (events starting 22:00-06:00)
    and whether each end is a service number (short code) as the records say.
    """
    from pyspark.sql import functions as F

    shift = F.lit(str(KEY_SHIFT)).cast("decimal(20,0)")
    r = records.select(
        (F.col("caller") - shift).cast("long").alias("x"), (F.col("callee") - shift).cast("long").alias("y"),
        F.col("start_time").cast("timestamp_ntz").alias("start_time"), "duration", "type", "caller_service", "callee_service")
    r = r.filter((F.col("start_time") >= F.lit(start).cast("timestamp_ntz")) & (F.col("start_time") < F.lit(end).cast("timestamp_ntz")))
    if dedupe:
        r = r.distinct()
    fwd = F.col("x") < F.col("y")
    voice, sms = F.col("type") == "voice", F.col("type") == "sms"
    hour = F.hour("start_time")

    def count(cond):
        return F.sum(F.when(cond, 1).otherwise(0)).cast("int")

    return (r.withColumn("a", F.least("x", "y")).withColumn("b", F.greatest("x", "y"))
            .groupBy("a", "b").agg(
                count(voice & fwd).alias("calls_ab"), count(voice & ~fwd).alias("calls_ba"),
                F.coalesce(F.sum(F.when(fwd, F.col("duration"))), F.lit(0)).cast("long").alias("seconds_ab"),
                F.coalesce(F.sum(F.when(~fwd, F.col("duration"))), F.lit(0)).cast("long").alias("seconds_ba"),
                count(sms & fwd).alias("sms_ab"), count(sms & ~fwd).alias("sms_ba"),
                F.min("start_time").alias("first_contact"), F.max("start_time").alias("last_contact"),
                F.countDistinct(F.to_date("start_time")).cast("int").alias("active_days"),
                count((hour >= 22) | (hour < 6)).cast("double").alias("night"),
                F.bool_or(F.when(fwd, F.col("caller_service")).otherwise(F.col("callee_service"))).alias("a_service"),
                F.bool_or(F.when(fwd, F.col("callee_service")).otherwise(F.col("caller_service"))).alias("b_service")))


def spark_pair_counts(spark) -> Callable[[Sequence[Path], datetime, datetime, bool, Path], None]:
    """The ``pair_counts`` of :func:`bellwether.graph.build.build_graph` on ``spark``: (files, start, end, dedupe, out)."""

    def run(files: Sequence[Path], start: datetime, end: datetime, dedupe: bool, out: Path) -> None:
        records = spark.read.parquet(*[str(f) for f in files])
        pair_counts_frame(records, start, end, dedupe).write.mode("overwrite").parquet(str(out))

    return run

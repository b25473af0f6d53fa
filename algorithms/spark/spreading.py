"""Spreading activation from recent churners (Dasgupta et al. 2008, doi:10.1145/1353343.1353424) in Spark.

The same waves as :func:`bellwether.algorithms.churn.spreading_activation.spread_energy`, the
``spreading_activation`` column of :func:`bellwether.algorithms.churn.features.churn_features`:
every churner of ``[as_of - recency_days, as_of)`` starts with energy 1; in each wave a vertex
*fires* when its pending energy is above ``threshold`` and it has ties; everyone banks its
pending energy except the share ``d`` (``spreading_factor``) a firing vertex passes on, split
over its ties in proportion to tie strength::

    pending = E0;  energy = 0
    repeat:
        fire    = (pending > threshold) & (s > 0)
        energy += pending * (1 - d * fire)
        pending = W @ (d * pending * fire / s)
    until no vertex fires (or max_iterations waves); energy += pending

A wave joins only the firing vertices with the arcs, so its cost follows the spread; the state
is checkpointed locally each wave, and one aggregate per wave counts the vertices that fire next.
"""

from __future__ import annotations

from typing import Any

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from bellwether.algorithms.spark.churn_state import churn_state
from bellwether.algorithms.spark.frames import arcs, vertex_strength
from bellwether.graph.core.spark import sql_settings

__all__ = ["spreading_activation"]


def spreading_activation(
    subscribers: DataFrame,
    contacts: DataFrame,
    as_of: Any,
    *,
    recency_days: int = 30,
    spreading_factor: float = 0.6,
    threshold: float = 0.01,
    max_iterations: int | None = 100,
    weight: str | None = "weight",
    stats: dict[str, Any] | None = None,
) -> DataFrame:
    """``vid``, ``spreading_activation``: final energy of every subscriber (sums to the number of seeds).

    Parameters as :func:`bellwether.algorithms.churn.spreading_activation.spreading_activation`;
    ``stats`` (a dict) gets the number of ``waves``.
    """
    if not 0.0 <= spreading_factor <= 1.0:
        raise ValueError(f"spreading_factor must be in [0, 1], got {spreading_factor}.")
    if threshold < 0:
        raise ValueError(f"threshold must be >= 0, got {threshold}.")
    spark = contacts.sparkSession
    with sql_settings(spark):
        parts = int(spark.conf.get("spark.sql.shuffle.partitions"))
        d = float(spreading_factor)
        arc = arcs(contacts, weight).select("src", "dst", "w").repartition(parts, "src").cache()
        seeds = churn_state(subscribers, as_of, recency_days=recency_days).select("vid", "recent")
        state = (vertex_strength(subscribers, arc).join(seeds, "vid", "left")
                 .select("vid", F.col("strength").alias("s"), F.lit(0.0).alias("energy"),
                         F.coalesce(F.col("recent"), F.lit(0.0)).alias("pending"))
                 .repartition(parts, "vid").localCheckpoint(eager=False))
        fire = (F.col("pending") > F.lit(float(threshold))) & (F.col("s") > 0)
        firing = state.agg(F.sum(fire.cast("long")).alias("n")).first()["n"] or 0  # also computes the checkpoint
        waves = 0
        while firing and (max_iterations is None or waves < max_iterations):
            send = state.where(fire).select(F.col("vid").alias("src"),
                                            ((F.lit(d) * F.col("pending")) * (1.0 / F.col("s"))).alias("y"))
            incoming = arc.join(send, "src").groupBy("dst").agg(F.sum(F.col("w") * F.col("y")).alias("incoming"))
            banked = F.col("energy") + F.when(fire, F.col("pending") * F.lit(1.0 - d)).otherwise(F.col("pending"))
            state = (state.join(incoming, F.col("vid") == F.col("dst"), "left")
                     .select("vid", "s", banked.alias("energy"),
                             F.coalesce(F.col("incoming"), F.lit(0.0)).alias("pending"))
                     .localCheckpoint(eager=False))
            firing = state.agg(F.sum(fire.cast("long")).alias("n")).first()["n"] or 0
            waves += 1
        arc.unpersist()
    if stats is not None:
        stats["waves"] = waves
    return state.select("vid", (F.col("energy") + F.col("pending")).alias("spreading_activation"))

"""Degree, strength and reciprocity of every subscriber, as Spark aggregations over the arcs.

- ``degree``: number of contacts, :math:`k_v = |\\{u : u \\sim v\\}|`;
- ``strength``: total tie strength, :math:`s_v = \\sum_{u \\sim v} w_{uv}` (Barrat et al. 2004,
  doi:10.1073/pnas.0400087101), as :func:`bellwether.algorithms.centrality.strength.degree_strength`;
- ``reciprocity``: share of the subscriber's contacts that are mutual, with at least one call or
  SMS in each direction (the dyadic reciprocity of directed networks, Wasserman & Faust 1994,
  ch. 13, taken per subscriber; the directed graph is "v contacted u" from the ``_ab``/``_ba``
  counts); 0 without contacts.  Not the ``reciprocity`` column of a contact, which is the
  balance ``1 - |n_ab - n_ba| / (n_ab + n_ba)`` of one tie.
"""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from bellwether.algorithms.spark.frames import arcs

__all__ = ["degree_strength_reciprocity"]


def degree_strength_reciprocity(subscribers: DataFrame, contacts: DataFrame, *,
                                weight: str | None = "weight") -> DataFrame:
    """``vid``, ``degree`` (long), ``strength`` (double), ``reciprocity`` (double) of every subscriber.

    Parameters
    ----------
    subscribers, contacts : DataFrame
        Graph tables (``vid``; ``a_vid``, ``b_vid``, the weight and the ``calls``/``sms`` counts).
    weight : str or None, default "weight"
        Contact column used as tie strength (None: every tie 1, so strength is degree).
    """
    a = arcs(contacts, weight)
    mutual = ((F.col("calls_out") + F.col("sms_out")) > 0) & ((F.col("calls_in") + F.col("sms_in")) > 0)
    per = a.groupBy("src").agg(
        F.count(F.lit(1)).alias("k"), F.sum("w").alias("s"), F.sum(mutual.cast("double")).alias("mutual"))
    k = F.coalesce(F.col("k"), F.lit(0)).cast("long")
    return (subscribers.select(F.col("vid").cast("long").alias("vid"))
            .join(per, F.col("vid") == F.col("src"), "left")
            .select("vid", k.alias("degree"), F.coalesce(F.col("s"), F.lit(0.0)).alias("strength"),
                    F.when(k > 0, F.col("mutual") / k).otherwise(F.lit(0.0)).alias("reciprocity")))

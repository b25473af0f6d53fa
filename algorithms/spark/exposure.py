"""The churn model's churned-neighbour features in Spark: exposure of each subscriber to churners among its contacts.

The same columns, names and definitions as the network part of
:func:`bellwether.algorithms.churn.features.churn_features` (Dasgupta et al. 2008,
doi:10.1145/1353343.1353424; Richter, Yom-Tov and Slonim 2010, doi:10.1137/1.9781611972801.64;
Verbeke, Martens and Baesens 2014, doi:10.1016/j.dss.2014.08.009), except the two iterative
scores, which have their own modules (``spreading_activation`` in
:mod:`~bellwether.algorithms.spark.spreading`, ``contagion_score`` in
:mod:`~bellwether.algorithms.spark.power`).  With ``c_u`` churned before ``as_of``, ``rec_u``
churned in the recency window, ``r_u = exp(-days_since_churn_u / decay_days)`` and, for a contact
of ``v`` with ``u``, ``w`` its tie strength and ``calls_out``/``seconds_out``/``sms`` what ``v``
made towards ``u``, summed over ``v``'s contacts:

========================  ==========================================================
churned_contacts          sum rec_u
churned_contacts_all      sum c_u
churned_share             churned_contacts_all / degree
exposure_decay            sum r_u
exposure_weight           sum w r_u
churn_weight_share        sum w c_u / strength
churn_max_weight          max(0, max w c_u)
strong_churned_decay      sum [w >= q] r_u, q the ``strong_quantile`` of all ties' w
out_calls_churn_decay     sum calls_out r_u
out_calls_churn_share     sum calls_out c_u / sum calls_out
out_seconds_churn_share   sum seconds_out c_u / sum seconds_out
in_calls_churn_decay      sum calls_in r_u
sms_churn_decay           sum (sms_out + sms_in) r_u
========================  ==========================================================

A share with a zero denominator is 0.  The quantile ``q`` is numpy's (linear interpolation);
``w >= q`` holds exactly when ``w`` is at least the ``ceil((m - 1) * strong_quantile)``-th
smallest tie strength (0-based, ``m`` ties), since no tie lies strictly between the two order
statistics that ``q`` interpolates; :func:`order_statistic` finds that value exactly with one
approximate-quantile pass and one bounded collect, so no single task sorts all ties.
"""

from __future__ import annotations

import math
from typing import Any

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from bellwether.algorithms.spark.churn_state import churn_state
from bellwether.algorithms.spark.frames import arcs, weight_column

__all__ = ["EXPOSURE_FEATURES", "churn_exposure", "strong_tie_threshold", "order_statistic"]

EXPOSURE_FEATURES = (
    "churned_contacts", "churned_contacts_all", "churned_share",
    "exposure_decay", "exposure_weight", "churn_weight_share", "churn_max_weight", "strong_churned_decay",
    "out_calls_churn_decay", "out_calls_churn_share", "out_seconds_churn_share",
    "in_calls_churn_decay", "sms_churn_decay",
)


def order_statistic(values: DataFrame, column: str, k: int, *, count: int | None = None,
                    relative_error: float = 1e-4, max_collect: int = 5_000_000) -> float:
    """The ``k``-th smallest (0-based) non-null value of ``column``, exactly.

    ``approxQuantile`` brackets it (its rank guarantee is ``floor((p - e) N) <= rank <= ceil((p + e) N)``);
    the values inside the bracket are collected and the one at the right rank picked.  When the
    bracket does not hold it, or holds more than ``max_collect`` values, all values are collected.
    """
    col = F.col(column)
    vals = values.select(col.cast("double").alias("x")).where(F.col("x").isNotNull())
    m = vals.count() if count is None else count
    if not 0 <= k < m:
        raise ValueError(f"order statistic {k} of {m} values")
    target = (k + 1) / m
    lo_p, hi_p = max(0.0, target - 2 * relative_error), min(1.0, target + 2 * relative_error)
    lo, hi = vals.approxQuantile("x", [lo_p, hi_p], relative_error)
    row = vals.agg(F.sum((F.col("x") < lo).cast("long")).alias("below"),
                   F.sum(((F.col("x") >= lo) & (F.col("x") <= hi)).cast("long")).alias("inside")).first()
    below, inside = int(row["below"] or 0), int(row["inside"] or 0)
    if below <= k < below + inside and inside <= max_collect:
        picked = sorted(r["x"] for r in vals.where((F.col("x") >= lo) & (F.col("x") <= hi)).collect())
        return float(picked[k - below])
    return float(sorted(r["x"] for r in vals.collect())[k])


def strong_tie_threshold(contacts: DataFrame, strong_quantile: float = 0.75, *,
                         weight: str | None = "weight") -> float | None:
    """The smallest tie strength counted as strong (``w >= np.quantile(w, strong_quantile)``); None without ties."""
    w = contacts.select(weight_column(weight).alias("w"))
    m = w.where(F.col("w").isNotNull()).count()
    if m == 0:
        return None
    return order_statistic(w, "w", math.ceil((m - 1) * strong_quantile), count=m)


def _share(num: str, den: str):
    return F.when(F.col(den) > 0, F.col(num) / F.col(den)).otherwise(F.lit(0.0))


def churn_exposure(
    subscribers: DataFrame,
    contacts: DataFrame,
    as_of: Any,
    *,
    recency_days: int = 30,
    decay_days: float = 30.0,
    strong_quantile: float = 0.75,
    weight: str | None = "weight",
) -> DataFrame:
    """``vid`` and :data:`EXPOSURE_FEATURES` (doubles) of every subscriber at ``as_of`` (see the module).

    Parameters as :func:`bellwether.algorithms.churn.features.churn_features`.
    """
    state = churn_state(subscribers, as_of, recency_days=recency_days, decay_days=decay_days)
    threshold = strong_tie_threshold(contacts, strong_quantile, weight=weight)
    strong = (F.col("w") >= F.lit(threshold)).cast("double") if threshold is not None else F.lit(0.0)
    nb = state.select(F.col("vid").alias("dst"), F.col("churned").alias("c"), F.col("recent").alias("rec"),
                      F.col("decay").alias("r"))
    w, c, r = F.col("w"), F.col("c"), F.col("r")
    per = (arcs(contacts, weight).join(nb, "dst", "left").na.fill(0.0, ["c", "rec", "r"])
           .groupBy("src").agg(
               F.count(F.lit(1)).cast("double").alias("degree"),
               F.sum(w).alias("strength"),
               F.sum("calls_out").alias("calls_out"),
               F.sum("seconds_out").alias("seconds_out"),
               F.sum("rec").alias("churned_contacts"),
               F.sum(c).alias("churned_contacts_all"),
               F.sum(r).alias("exposure_decay"),
               F.sum(w * r).alias("exposure_weight"),
               F.sum(w * c).alias("churn_weight"),
               F.max(w * c).alias("max_wc"),
               F.sum(strong * r).alias("strong_churned_decay"),
               F.sum(F.col("calls_out") * r).alias("out_calls_churn_decay"),
               F.sum(F.col("calls_out") * c).alias("out_calls_churned"),
               F.sum(F.col("seconds_out") * c).alias("out_seconds_churned"),
               F.sum(F.col("calls_in") * r).alias("in_calls_churn_decay"),
               F.sum((F.col("sms_out") + F.col("sms_in")) * r).alias("sms_churn_decay"),
           ))
    joined = (subscribers.select(F.col("vid").cast("long").alias("vid"))
              .join(per, F.col("vid") == F.col("src"), "left").drop("src").na.fill(0.0))
    return joined.select(
        "vid", "churned_contacts", "churned_contacts_all",
        _share("churned_contacts_all", "degree").alias("churned_share"),
        "exposure_decay", "exposure_weight",
        _share("churn_weight", "strength").alias("churn_weight_share"),
        F.greatest(F.col("max_wc"), F.lit(0.0)).alias("churn_max_weight"),
        "strong_churned_decay", "out_calls_churn_decay",
        _share("out_calls_churned", "calls_out").alias("out_calls_churn_share"),
        _share("out_seconds_churned", "seconds_out").alias("out_seconds_churn_share"),
        "in_calls_churn_decay", "sms_churn_decay",
    )

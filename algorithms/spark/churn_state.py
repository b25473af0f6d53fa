"""What is known about each subscriber's churn at ``as_of``: the Spark form of :mod:`bellwether.algorithms.churn.timeline`.

Only churn dates strictly before ``as_of`` are read (the CRM ``status`` never is), so nothing
after ``as_of`` enters a measure.  Per ``vid``:

- ``churned``: 1.0 if ``churn_date < as_of`` else 0.0 (``timeline.churned_before``);
- ``recent``: 1.0 if ``as_of - recency_days <= churn_date < as_of`` (``timeline.recent_churners``);
- ``decay``: ``exp(-days_since_churn / decay_days)`` for churners before ``as_of``, else 0
  (the recency weight ``r_j`` of :func:`bellwether.algorithms.churn.features.churn_features`);
- ``restart``: ``decay`` of the recent churners, else 0
  (:func:`bellwether.algorithms.churn.contagion_ppr.restart_weights`).

``churn_date`` may be a date or a timestamp (its UTC day is taken) and may be missing.
"""

from __future__ import annotations

from typing import Any

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from bellwether.algorithms.churn.timeline import to_day

__all__ = ["churn_state"]


def churn_state(subscribers: DataFrame, as_of: Any, *, recency_days: int = 30, decay_days: float = 30.0) -> DataFrame:
    """``vid``, ``churned``, ``recent``, ``decay``, ``restart`` of every subscriber at ``as_of`` (see the module)."""
    cut_day = to_day(as_of).astype(object)  # datetime.date
    cut = F.lit(cut_day).cast("date")
    if "churn_date" in subscribers.columns:
        day = F.to_date(F.col("churn_date"))
    else:
        day = F.lit(None).cast("date")
    churned = day.isNotNull() & (day < cut)
    recent = churned & (day >= F.date_sub(cut, int(recency_days)))
    decay = F.when(churned, F.exp(-F.datediff(cut, day).cast("double") / F.lit(float(decay_days)))).otherwise(F.lit(0.0))
    return subscribers.select(
        F.col("vid").cast("long").alias("vid"),
        churned.cast("double").alias("churned"),
        recent.cast("double").alias("recent"),
        decay.alias("decay"),
        F.when(recent, decay).otherwise(F.lit(0.0)).alias("restart"),
    )

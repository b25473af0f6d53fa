"""All the Spark graph measures as one table per subscriber.

:func:`churn_network_features` gives the network columns of
:func:`bellwether.algorithms.churn.features.churn_features` (:data:`~bellwether.algorithms.churn.features.NETWORK_FEATURES`,
same names, order and definitions); :func:`graph_measures` adds degree, strength, reciprocity
and PageRank, iterating PageRank and the contagion score together over the same arcs.
"""

from __future__ import annotations

import time
from typing import Any

from pyspark.sql import DataFrame, SparkSession

from bellwether.algorithms.churn.features import NETWORK_FEATURES
from bellwether.graph.core.dates import DateError, parse_day
from bellwether.graph.core.spark import spark_location
from bellwether.algorithms.churn.options import NetworkOptions
from bellwether.algorithms.spark.degree import degree_strength_reciprocity
from bellwether.algorithms.spark.frames import read_graph
from bellwether.algorithms.spark.exposure import churn_exposure
from bellwether.algorithms.spark.power import contagion_pagerank, pagerank_and_contagion
from bellwether.algorithms.spark.spreading import spreading_activation

__all__ = ["MEASURES", "churn_network_features", "graph_measures", "write_graph_measures"]

#: columns of :func:`graph_measures` after ``vid``
MEASURES = ("degree", "strength", "reciprocity", *NETWORK_FEATURES, "pagerank")


def churn_network_features(
    subscribers: DataFrame,
    contacts: DataFrame,
    as_of: Any,
    options: NetworkOptions = NetworkOptions(),
    *,
    stats: dict[str, Any] | None = None,
) -> DataFrame:
    """``vid`` and the churn model's network features at ``as_of``; ``options`` as for ``churn_features``."""
    stats = {} if stats is None else stats
    o = options
    local = _exposure_and_spreading(subscribers, contacts, as_of, o, stats)
    ppr = contagion_pagerank(subscribers, contacts, as_of, recency_days=o.recency_days, decay_days=o.decay_days,
                             damping=o.damping, weight=o.weight, stats=stats.setdefault("contagion_score", {}))
    return local.join(ppr, "vid").select("vid", *NETWORK_FEATURES)


def _exposure_and_spreading(subscribers, contacts, as_of, o: NetworkOptions, stats) -> DataFrame:
    """The exposure columns and spreading activation, joined on ``vid`` (what both tables share)."""
    exposure = churn_exposure(subscribers, contacts, as_of, recency_days=o.recency_days, decay_days=o.decay_days,
                              strong_quantile=o.strong_quantile, weight=o.weight)
    sa = spreading_activation(subscribers, contacts, as_of, recency_days=o.recency_days,
                              spreading_factor=o.spreading_factor, threshold=o.sa_threshold, weight=o.weight,
                              stats=stats.setdefault("spreading_activation", {}))
    return exposure.join(sa, "vid")


def graph_measures(
    subscribers: DataFrame,
    contacts: DataFrame,
    as_of: Any,
    options: NetworkOptions = NetworkOptions(),
    *,
    tol: float = 1e-10,
    max_iterations: int = 200,
    stats: dict[str, Any] | None = None,
) -> DataFrame:
    """``vid`` and :data:`MEASURES` of every subscriber: the local measures, the churn network features, PageRank.

    ``options.damping`` is shared by PageRank and the contagion score (0.85 for both in the pipeline);
    ``stats`` (a dict) gets the waves of spreading activation and the iterations of each score.
    """
    stats = {} if stats is None else stats
    o = options
    local = degree_strength_reciprocity(subscribers, contacts, weight=o.weight)
    churn = _exposure_and_spreading(subscribers, contacts, as_of, o, stats)
    walks = pagerank_and_contagion(subscribers, contacts, as_of, recency_days=o.recency_days, decay_days=o.decay_days,
                                   damping=o.damping, weight=o.weight, tol=tol, max_iterations=max_iterations,
                                   stats=stats.setdefault("power_iteration", {}))
    return local.join(churn, "vid").join(walks, "vid").select("vid", *MEASURES)


def write_graph_measures(spark: SparkSession, graph: str, out: str, as_of: Any = None,
                         options: NetworkOptions = NetworkOptions(), *, partitions: int | None = None) -> dict[str, Any]:
    """Compute :func:`graph_measures` of the graph folder ``graph`` and write them as Parquet to ``out``.

    ``graph`` and ``out`` are local paths or URIs Spark reads and writes; ``as_of`` defaults to the
    graph's own (``graph.json``).  ``out`` is replaced; ``partitions`` sets its number of files
    (default: Spark's).  Returns what was done: ``as_of``, ``rows``, ``columns``, ``seconds``, ``stats``.

    Raises
    ------
    DateError
        No ``as_of`` given and the graph does not record one (a ValueError, and the CLI's one-line error).
    """
    started = time.perf_counter()
    subscribers, contacts, info = read_graph(spark, graph)
    day = parse_day(as_of) or parse_day(info.get("as_of"))
    if day is None:
        raise DateError(f"The graph at {graph} records no as_of date; pass one (--as-of YYYY-MM-DD).")
    stats: dict[str, Any] = {}
    table = graph_measures(subscribers, contacts, day, options, stats=stats)
    if partitions:
        table = table.repartition(partitions)
    target = spark_location(out)
    table.write.mode("overwrite").parquet(target)
    rows = spark.read.parquet(target).count()
    return {"graph": graph, "out": target, "as_of": day.isoformat(), "rows": rows, "columns": ["vid", *MEASURES],
            "seconds": round(time.perf_counter() - started, 1), "stats": stats}

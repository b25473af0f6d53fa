r"""PageRank and the personalised-PageRank contagion score by power iteration over DataFrame joins.

Both solve, on the undirected weighted contact graph with transition ``P[u, v] = w_uv / s_u``::

    x = d * P^T x + (d * lost(x) + 1 - d) * v,     lost(x) = sum of x over vertices with s_u = 0

by power iteration from ``x = v`` until the L1 change is below ``tol`` (or ``max_iterations``):

- ``pagerank``: ``v`` uniform, ``1/n``: the weighted PageRank of Brin & Page 1998
  (doi:10.1016/S0169-7552(98)00110-X) as :func:`bellwether.algorithms.centrality.pagerank.pagerank`
  and the igraph engine compute it (weights followed both ways, damping 0.85, a subscriber
  without ties spreads its rank uniformly, scores sum to 1);
- ``contagion_score``: ``v`` proportional to ``exp(-days_since_churn / decay_days)`` over the
  churners of ``[as_of - recency_days, as_of)`` (Haveliwala 2002, doi:10.1145/511446.511513), the
  walk restarting there, also from a vertex without ties: exactly
  :func:`bellwether.algorithms.churn.contagion_ppr.personalized_pagerank` (all zero without seeds).

One iteration is one join of the current scores with the arcs, a sum per destination and a join
back onto the vertices; the scores are checkpointed locally each iteration (``localCheckpoint``)
so the plan stays one iteration deep, and one small aggregate per iteration returns the L1
change and the mass on vertices without ties.  Several restart vectors iterate together over
the same arcs (:func:`power_iteration`), each stopping at its own convergence.
"""

from __future__ import annotations

from typing import Any, Mapping

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from bellwether.algorithms.spark.churn_state import churn_state
from bellwether.algorithms.spark.frames import arcs, vertex_strength
from bellwether.graph.core.spark import sql_settings

__all__ = ["power_iteration", "pagerank", "contagion_pagerank", "pagerank_and_contagion"]


def power_iteration(
    subscribers: DataFrame,
    contacts: DataFrame,
    restarts: Mapping[str, DataFrame],
    *,
    damping: float = 0.85,
    tol: float = 1e-10,
    max_iterations: int = 200,
    weight: str | None = "weight",
    stats: dict[str, Any] | None = None,
) -> DataFrame:
    """Solve the module's equation for each named restart vector; ``vid`` and one score column per name.

    Parameters
    ----------
    subscribers, contacts : DataFrame
        Graph tables.
    restarts : mapping of str to DataFrame
        Output column -> DataFrame of ``vid`` and ``restart`` (non-negative weights, normalised
        here; vertices missing from it get 0).  A vector summing to 0 gives all-zero scores.
    damping : float, default 0.85
        Probability of following a tie.
    tol : float, default 1e-10
        A vector stops when the L1 change of its scores is below this.
    max_iterations : int, default 200
    weight : str or None, default "weight"
    stats : dict, optional
        Filled with ``iterations`` per name.
    """
    if not 0.0 <= damping < 1.0:
        raise ValueError(f"damping must be in [0, 1), got {damping}.")
    spark = contacts.sparkSession
    with sql_settings(spark):
        return _iterate(subscribers, contacts, restarts, damping=damping, tol=tol, max_iterations=max_iterations,
                        weight=weight, stats=stats, partitions=int(spark.conf.get("spark.sql.shuffle.partitions")))


def _iterate(subscribers: DataFrame, contacts: DataFrame, restarts: Mapping[str, DataFrame], *, damping: float,
             tol: float, max_iterations: int, weight: str | None, stats: dict[str, Any] | None,
             partitions: int) -> DataFrame:
    names = list(restarts)
    # arcs laid out by source and scores by vertex in the same partitions: an iteration shuffles only the walk
    arc = arcs(contacts, weight).select("src", "dst", "w").repartition(partitions, "src").cache()
    state = vertex_strength(subscribers, arc)
    for name in names:
        r = restarts[name].select(F.col("vid").cast("long").alias("vid"), F.col("restart").cast("double").alias(f"v_{name}"))
        state = state.join(r, "vid", "left")
    state = state.select(
        "vid", (F.col("strength") <= 0).alias("dangling"),
        F.when(F.col("strength") > 0, 1.0 / F.col("strength")).otherwise(F.lit(0.0)).alias("inv_s"),
        *[F.coalesce(F.col(f"v_{name}"), F.lit(0.0)).alias(f"v_{name}") for name in names],
    )
    totals = state.agg(*[F.sum(f"v_{name}").alias(name) for name in names]).first() if names else {}
    active = [name for name in names if totals[name] and totals[name] > 0]
    norm = [(F.col(f"v_{n}") / F.lit(float(totals[n])) if n in active else F.lit(0.0)).alias(f"v_{n}") for n in names]
    state = state.select("vid", "dangling", "inv_s", *norm)
    state = (state.select("*", *[F.col(f"v_{n}").alias(f"x_{n}") for n in names])  # x = v
             .repartition(partitions, "vid").localCheckpoint())
    lost = _lost(state, active)
    done = {name: 0 for name in names if name not in active}
    it = 0
    while active and it < max_iterations:
        it += 1
        state, deltas, lost = _step(state, arc, names, active, lost, damping)
        for name in list(active):
            if deltas[name] < tol:
                active.remove(name)
                done[name] = it
    done.update({name: it for name in active})
    arc.unpersist()
    if stats is not None:
        stats["iterations"] = done
    return state.select("vid", *[F.col(f"x_{n}").alias(n) for n in names])


def _lost(state: DataFrame, names: list[str]) -> dict[str, float]:
    if not names:
        return {}
    row = state.agg(*[F.sum(F.when(F.col("dangling"), F.col(f"x_{n}")).otherwise(0.0)).alias(n) for n in names]).first()
    return {n: float(row[n] or 0.0) for n in names}


def _step(state: DataFrame, arc: DataFrame, names: list[str], active: list[str], lost: dict[str, float],
          damping: float) -> tuple[DataFrame, dict[str, float], dict[str, float]]:
    """One power iteration of the ``active`` vectors (the others carried over); returns the checkpointed state."""
    send = state.select(F.col("vid").alias("src"), *[(F.col(f"x_{n}") * F.col("inv_s")).alias(f"y_{n}") for n in active])
    walk = (arc.join(send, "src")
            .groupBy("dst").agg(*[F.sum(F.col("w") * F.col(f"y_{n}")).alias(f"c_{n}") for n in active]))
    joined = state.join(walk, F.col("vid") == F.col("dst"), "left")
    cols: list[Column] = [F.col("vid"), F.col("dangling"), F.col("inv_s"), *[F.col(f"v_{n}") for n in names]]
    for n in names:
        if n in active:
            new = (F.lit(damping) * F.coalesce(F.col(f"c_{n}"), F.lit(0.0))
                   + F.lit(damping * lost[n] + 1.0 - damping) * F.col(f"v_{n}"))
            cols += [new.alias(f"x_{n}"), F.abs(new - F.col(f"x_{n}")).alias(f"d_{n}")]
        else:
            cols.append(F.col(f"x_{n}"))
    nxt = joined.select(*cols).localCheckpoint(eager=False)  # computed and kept by the aggregate below
    row = nxt.agg(*[F.sum(f"d_{n}").alias(f"d_{n}") for n in active],
                  *[F.sum(F.when(F.col("dangling"), F.col(f"x_{n}")).otherwise(0.0)).alias(f"l_{n}") for n in active]).first()
    deltas = {n: float(row[f"d_{n}"] or 0.0) for n in active}
    new_lost = {n: float(row[f"l_{n}"] or 0.0) for n in active}
    return nxt.drop(*[f"d_{n}" for n in active]), deltas, new_lost


def _uniform(subscribers: DataFrame) -> DataFrame:
    return subscribers.select(F.col("vid"), F.lit(1.0).alias("restart"))


def _seeds(subscribers: DataFrame, as_of: Any, recency_days: int, decay_days: float) -> DataFrame:
    return churn_state(subscribers, as_of, recency_days=recency_days, decay_days=decay_days).select("vid", "restart")


def pagerank(subscribers: DataFrame, contacts: DataFrame, *, damping: float = 0.85, weight: str | None = "weight",
             tol: float = 1e-10, max_iterations: int = 200, stats: dict[str, Any] | None = None) -> DataFrame:
    """``vid``, ``pagerank``: weighted PageRank, uniform teleport and dangling redistribution (see the module)."""
    return power_iteration(subscribers, contacts, {"pagerank": _uniform(subscribers)}, damping=damping, tol=tol,
                           max_iterations=max_iterations, weight=weight, stats=stats)


def contagion_pagerank(subscribers: DataFrame, contacts: DataFrame, as_of: Any, *, recency_days: int = 30,
                       decay_days: float = 30.0, damping: float = 0.85, weight: str | None = "weight",
                       tol: float = 1e-10, max_iterations: int = 200,
                       stats: dict[str, Any] | None = None) -> DataFrame:
    """``vid``, ``contagion_score``: personalised PageRank from the recent churners before ``as_of`` (see the module)."""
    seeds = _seeds(subscribers, as_of, recency_days, decay_days)
    return power_iteration(subscribers, contacts, {"contagion_score": seeds}, damping=damping, tol=tol,
                           max_iterations=max_iterations, weight=weight, stats=stats)


def pagerank_and_contagion(subscribers: DataFrame, contacts: DataFrame, as_of: Any, *, recency_days: int = 30,
                           decay_days: float = 30.0, damping: float = 0.85, weight: str | None = "weight",
                           tol: float = 1e-10, max_iterations: int = 200,
                           stats: dict[str, Any] | None = None) -> DataFrame:
    """``vid``, ``pagerank``, ``contagion_score`` in one iteration over the arcs (the two share the walk)."""
    restarts = {"pagerank": _uniform(subscribers), "contagion_score": _seeds(subscribers, as_of, recency_days, decay_days)}
    return power_iteration(subscribers, contacts, restarts, damping=damping, tol=tol,
                           max_iterations=max_iterations, weight=weight, stats=stats)

"""Seconds of the graph measures on Spark (local mode) beside the single-machine igraph/pandas path.

Run: ``flock /tmp/bellwether-heavy.lock python -m bench.bench_spark_measures --subscribers 100000 [--master local[2]]``

On the planted-contagion operator of :func:`bellwether.graph.synthetic.planted_churn.planted_churn` (CRM churn dates,
contacts with directed counts), each step runs on both paths and the table prints seconds and the
ratio Spark / single machine:

- degree, strength, reciprocity: igraph engine + numpy | :mod:`bellwether.algorithms.spark.degree`;
- churn network features: :func:`~bellwether.algorithms.churn.features.churn_features` (which also
  computes the own features) | :func:`~bellwether.algorithms.spark.measures.churn_network_features`;
- PageRank: the igraph engine | :func:`~bellwether.algorithms.spark.power.pagerank`;
- all of them in one call (Spark iterates PageRank and the contagion score together).

Spark results are collected to pandas (as the single-machine ones are in memory), and a parity
line checks them against the single-machine ones.  The session start is reported, not counted.
"""

from __future__ import annotations

import argparse
import time
from typing import Any, Callable

import numpy as np
from scipy.stats import spearmanr

from bellwether.algorithms.centrality.pagerank import pagerank
from bellwether.algorithms.centrality.strength import degree_strength
from bellwether.algorithms.churn.features import NETWORK_FEATURES, churn_features
from bellwether.graph.contact_graph import ContactGraph
from bellwether.graph.core.settings import load_settings
from bellwether.graph.synthetic.planted_churn import planted_churn


def mutual_share(graph: ContactGraph) -> np.ndarray:
    """Single-machine reciprocity: share of each subscriber's contacts with a call or SMS each way."""
    con, n = graph.contacts, graph.n_subscribers
    m = (((con["calls_ab"] + con["sms_ab"]) > 0) & ((con["calls_ba"] + con["sms_ba"]) > 0)).to_numpy(np.float64)
    a, b = con["a_vid"].to_numpy(), con["b_vid"].to_numpy()
    k = np.bincount(a, minlength=n) + np.bincount(b, minlength=n)
    return np.divide(np.bincount(a, m, minlength=n) + np.bincount(b, m, minlength=n), k, out=np.zeros(n), where=k > 0)


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--subscribers", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--master", default=None, help="Spark master (default: the spark_master setting, local[2])")
    args = ap.parse_args(argv)
    master = args.master or load_settings().spark_master

    from bellwether.algorithms.spark.degree import degree_strength_reciprocity
    from bellwether.algorithms.spark.frames import graph_frames, to_pandas
    from bellwether.algorithms.spark.measures import churn_network_features, graph_measures
    from bellwether.algorithms.spark.power import pagerank as spark_pagerank
    from bellwether.graph.core.spark import spark_session

    t_gen, planted = timed(lambda: planted_churn(args.subscribers, seed=args.seed))
    g, as_of = planted.graph, planted.as_of
    print(f"graph: {g.n_subscribers} subscribers, {g.n_contacts} contacts, as_of {as_of} (generated in {t_gen:.1f} s)")

    single: dict[str, float] = {}
    single["degree, strength, reciprocity"], _ = timed(lambda: (degree_strength(g), mutual_share(g)))
    single["churn network features"], feats = timed(lambda: churn_features(g, as_of))
    single["pagerank"], pr = timed(lambda: pagerank(g)["pagerank"].to_numpy())
    single["all measures"] = sum(single.values())

    t_start, spark = timed(lambda: spark_session(master, app_name="bench-spark-measures"))
    master, version = spark.sparkContext.master, spark.version
    t_load, (subs, con) = timed(lambda: graph_frames(spark, g))
    subs, con = subs.cache(), con.cache()
    t_cache, _ = timed(lambda: (subs.count(), con.count()))
    on_spark: dict[str, float] = {}
    on_spark["degree, strength, reciprocity"], _ = timed(lambda: to_pandas(degree_strength_reciprocity(subs, con)))
    on_spark["churn network features"], _ = timed(lambda: to_pandas(churn_network_features(subs, con, as_of)))
    on_spark["pagerank"], _ = timed(lambda: to_pandas(spark_pagerank(subs, con)))
    stats: dict = {}
    on_spark["all measures"], table = timed(lambda: to_pandas(graph_measures(subs, con, as_of, stats=stats)))
    spark.stop()

    print(f"spark {version} master {master}: session start {t_start:.1f} s, "
          f"tables into Spark {t_load + t_cache:.1f} s (not counted below)")
    print(f"spreading activation waves {stats['spreading_activation']['waves']}, "
          f"power iterations {stats['power_iteration']['iterations']}")
    print(f"{'step':<32}{'single s':>10}{'spark s':>10}{'spark/single':>14}")
    for step in single:
        print(f"{step:<32}{single[step]:>10.2f}{on_spark[step]:>10.2f}{on_spark[step] / single[step]:>14.1f}")
    net = feats.network
    worst = max(float(np.max(np.abs(table[c].to_numpy() - net[c].to_numpy()))) for c in NETWORK_FEATURES)
    rho = spearmanr(table["pagerank"].to_numpy(), pr).statistic
    print(f"parity: degree equal {bool((table['degree'].to_numpy() == feats.own['degree'].to_numpy()).all())}, "
          f"max |network feature diff| {worst:.1e}, pagerank Spearman {rho:.6f}, "
          f"max |pagerank diff| {np.abs(table['pagerank'].to_numpy() - pr).max():.1e}")


if __name__ == "__main__":
    main()

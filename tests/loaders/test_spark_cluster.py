"""The Spark build on a real standalone cluster: a master and two workers on 127.0.0.1, started from the pyspark installation.

The driver talks to the executors over the network, so the tasks' code (the loader's checks, the
pseudonyms, the aggregation) is serialised and shipped to executor processes as on a cluster;
the tables must equal the DuckDB build's.  The cluster is stopped at the end.

Under ``CI=true`` a missing pyspark or a cluster that does not start fails the run; elsewhere the
test is skipped with the reason.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from support.spark import SPARK_MARKS, require_pyspark, stop_active_spark

require_pyspark()

from bellwether.graph.build import build_graph
from bellwether.graph.core.spark import SparkUnavailable, spark_session
from bellwether.graph.core.spark_cluster import session_conf, standalone_cluster
from bellwether.graph.spark_pairs import spark_pair_counts
from bellwether.loaders.load import LoadOptions, load
from bellwether.loaders.spark.load import spark_cdr_loader
from test_load_csv import KEY
from test_spark_build import assert_same_graph, assert_same_load, corrupted_text_files

pytestmark = SPARK_MARKS


def _unavailable(reason: str):
    if os.environ.get("CI") == "true":
        pytest.fail(f"the Spark standalone cluster must start under CI=true: {reason}")
    pytest.skip(f"no Spark standalone cluster here: {reason}")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """``spark://127.0.0.1:PORT`` with two one-core workers; the processes are stopped afterwards."""
    try:
        with standalone_cluster(workers=2, cores=1, memory="1g", logs=tmp_path_factory.mktemp("spark-cluster")) as url:
            yield url
    except SparkUnavailable as exc:
        _unavailable(str(exc))


@pytest.fixture(scope="module")
def spark(cluster):
    stop_active_spark()  # the run's local session: getOrCreate would hand it back instead of the cluster's
    try:
        session = spark_session(cluster, app_name="bellwether-tests-cluster", shuffle_partitions=4,
                                conf=session_conf(executor_memory="512m"))
    except SparkUnavailable as exc:
        _unavailable(str(exc))
    yield session
    session.stop()


def test_build_through_a_standalone_cluster_equals_duckdb(tmp_path, spark):
    executors = spark.sparkContext._jsc.sc().getExecutorMemoryStatus().size() - 1  # the driver is listed too
    deadline = time.monotonic() + 60
    while executors < 2 and time.monotonic() < deadline:
        time.sleep(0.5)
        executors = spark.sparkContext._jsc.sc().getExecutorMemoryStatus().size() - 1
    assert executors == 2
    gen = tmp_path / "gen"
    subprocess.run([sys.executable, "-m", "bellwether.cli", "generate", str(gen), "--subscribers", "400", "--months", "1",
                    "--seed", "9"], check=True, capture_output=True)
    files = sorted((gen / "cdr").glob("*.csv")) + corrupted_text_files(tmp_path)[-2:]
    opts = LoadOptions(key=KEY, max_reject_ratio=1.0)
    duck, on_spark = tmp_path / "ws_duckdb", tmp_path / "ws_spark"
    load(duck, files, options=opts, subscribers=gen / "subscribers.csv")
    s = load(on_spark, files, options=opts, subscribers=gen / "subscribers.csv", load_cdr=spark_cdr_loader(spark))
    assert all(r.status == "loaded" for r in s.inputs), [r.message for r in s.inputs]
    assert_same_load(duck, on_spark)
    build_graph(duck, progress=False, load=False)
    build_graph(on_spark, progress=False, load=False, pair_counts=spark_pair_counts(spark))
    assert_same_graph(duck, on_spark)

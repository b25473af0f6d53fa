"""Shared pytest configuration. Markers are declared in pyproject.toml:

- ``slow``: more than a few seconds; run by ``make test``, skipped by ``make test-fast``;
- ``neo4j``: needs the Neo4j + GDS test server (``tests/neo4j/conftest.py`` starts it);
- ``spark``: needs pyspark and Java; the ``spark`` fixture below gives the run's local SparkSession
  (started on first use and kept for the next module; a module that needs another master stops it
  first with :func:`support.spark.stop_active_spark`).
"""

from __future__ import annotations

import pytest

from support.spark import spark_unavailable, stop_active_spark


@pytest.fixture(scope="session")
def _spark_run():
    yield
    stop_active_spark()


@pytest.fixture(scope="module")
def spark(_spark_run):
    """The run's ``local[2]`` SparkSession (``getOrCreate``: one JVM and one session for every module that uses it)."""
    from bellwether.graph.core.spark import SparkUnavailable, spark_session

    try:
        return spark_session("local[2]", app_name="bellwether-tests")
    except SparkUnavailable as exc:
        spark_unavailable(str(exc))

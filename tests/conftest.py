"""Shared pytest configuration. Markers are declared in pyproject.toml:

- ``slow``: more than a few seconds; run by ``make test``, skipped by ``make test-fast``;
- ``neo4j``: needs the Neo4j + GDS test server (``tests/neo4j/conftest.py`` starts it);
- ``spark``: needs pyspark and Java; the ``spark`` fixture below is the one local SparkSession
  of the test run (started once, on first use).
"""

from __future__ import annotations

import os

import pytest


@pytest.fixture(scope="session")
def spark():
    """A ``local[2]`` SparkSession for every Spark test; under ``CI=true`` a Spark that cannot start fails the run."""
    from bellwether.graph.core.spark import SparkUnavailable, spark_session

    try:
        session = spark_session("local[2]", app_name="bellwether-tests")
    except SparkUnavailable as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"Spark must start under CI=true: {exc}")
        pytest.skip(f"Spark is not available here: {exc}")
    yield session
    session.stop()

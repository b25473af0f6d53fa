"""The Spark test rules: a Spark that cannot start fails CI and skips elsewhere; one active session at a time."""

from __future__ import annotations

import os

import pytest


#: marks of every Spark test module (pyspark warns about pandas 3 when it loads its pandas helpers; the
#: tests move data through Arrow only)
SPARK_MARKS = [
    pytest.mark.spark,
    pytest.mark.filterwarnings("ignore:PySpark does not yet fully support pandas:FutureWarning"),
]


def require_pyspark() -> None:
    """Import pyspark, or skip the calling module; under ``CI=true`` (which installs the dev extra) fail instead."""
    if os.environ.get("CI") == "true":
        import pyspark  # noqa: F401
    else:
        pytest.importorskip("pyspark", reason="pyspark (the 'spark' extra) is not installed")


def spark_unavailable(reason: str) -> None:
    """Fail under ``CI=true`` (CI must run the Spark tests), skip elsewhere."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"Spark must start under CI=true: {reason}")
    pytest.skip(f"Spark is not available here: {reason}")


def stop_active_spark() -> None:
    """Stop the process's active SparkSession, if any (the next ``getOrCreate`` starts a fresh one)."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        return
    active = SparkSession.getActiveSession()
    if active is not None:
        active.stop()

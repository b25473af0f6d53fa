"""The one place a SparkSession is made: a local one for a small box by default, any master on request.

``pyspark`` (the ``spark`` extra) starts a JVM; it needs a Java runtime the Spark release
supports (Spark 4.x: Java 17 or 21, 4.2+ also 25).  :func:`find_java_home` finds one:
``JAVA_HOME`` when it holds ``bin/java``, else the ``java`` on ``PATH``, else a JDK
under ``/usr/lib/jvm`` (17 first).  :func:`spark_session` sets it for the JVM launch and
builds the session with settings for a 2-core machine: few shuffle partitions, no UI,
a modest driver heap, UTC session time, and the driver bound to loopback for ``local``
masters.  A cluster master (``spark://host:7077``, ``yarn``...) gets the same settings
except the loopback binding; anything in ``conf`` overrides them.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
from contextlib import contextmanager
from urllib.parse import urlparse
from pathlib import Path
from typing import TYPE_CHECKING, Iterator, Mapping

from bellwether.graph.core.errors import BellwetherError
from bellwether.graph.core.settings import DEFAULT_SPARK_MASTER

if TYPE_CHECKING:  # pyspark is an optional extra, imported when a session is made
    from pyspark.sql import SparkSession

__all__ = [
    "DEFAULT_MASTER", "ITERATION_SETTINGS", "SparkUnavailable", "find_java_home", "spark_session", "session_settings",
    "sql_settings", "command_session", "join_location", "is_local", "local_path", "spark_location", "hadoop_path", "read_text", "write_text",
]

#: master used when the caller names none (the ``spark_master`` setting, ``BELLWETHER_SPARK_MASTER``)
DEFAULT_MASTER = DEFAULT_SPARK_MASTER
_JVM_ROOT = Path("/usr/lib/jvm")
_PREFERRED_JAVA = ("17", "21", "25")


class SparkUnavailable(BellwetherError):
    """pyspark is not installed, no Java runtime was found, or the SparkSession did not start."""


def _is_java_home(path: Path) -> bool:
    return (path / "bin" / "java").is_file()


def find_java_home() -> str | None:
    """Return a Java home for Spark's JVM, or None when there is none.

    Order: ``JAVA_HOME`` if it holds ``bin/java``; the ``java`` on ``PATH`` (symlinks
    resolved, ``.../bin/java`` -> ``...``); a JDK under ``/usr/lib/jvm``, Java 17 first,
    then 21 and 25.
    """
    env = os.environ.get("JAVA_HOME")
    if env and _is_java_home(Path(env)):
        return env
    java = shutil.which("java")
    if java:
        home = Path(java).resolve().parent.parent
        if _is_java_home(home):
            return str(home)
    if _JVM_ROOT.is_dir():
        homes = sorted(p for p in _JVM_ROOT.iterdir() if p.is_dir() and not p.is_symlink() and _is_java_home(p))
        for version in _PREFERRED_JAVA:
            for home in homes:
                if re.search(rf"(?<!\d){version}(?!\d)", home.name):
                    return str(home)
    return None


def session_settings(master: str, *, shuffle_partitions: int | None = None,
                     driver_memory: str = "2g") -> dict[str, str]:
    """The Spark configuration :func:`spark_session` applies (before any ``conf`` override)."""
    local = master.startswith("local")
    cores = re.fullmatch(r"local\[(\d+)\]", master)
    parts = shuffle_partitions or (max(2, int(cores.group(1))) if cores else 8 if local else 200)
    settings = {
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.sql.shuffle.partitions": str(parts),
        "spark.default.parallelism": str(parts),
        "spark.driver.memory": driver_memory,
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.execution.arrow.pyspark.enabled": "true",
        "spark.sql.adaptive.enabled": "true",
        "spark.cleaner.periodicGC.interval": "2min",  # frees the checkpoints of past iterations sooner
    }
    if local:
        settings.update({"spark.driver.host": "127.0.0.1", "spark.driver.bindAddress": "127.0.0.1"})
    return settings


def spark_session(
    master: str | None = None,
    *,
    app_name: str = "bellwether",
    shuffle_partitions: int | None = None,
    driver_memory: str = "2g",
    conf: Mapping[str, str] | None = None,
    log_level: str = "WARN",
) -> "SparkSession":
    """Start (or return the running) SparkSession.

    Parameters
    ----------
    master : str, optional
        Spark master URL (``local[N]``, ``spark://host:7077``, ``yarn``...); default
        :data:`DEFAULT_MASTER`.  Commands pass the ``spark_master`` setting.
    app_name : str, default "bellwether"
    shuffle_partitions : int, optional
        ``spark.sql.shuffle.partitions``; default the cores of ``local[N]`` (at least 2: the
        iterative measures run one small job per iteration, where fewer tasks are faster), 8 for
        other local masters, 200 (Spark's own default) for a cluster.
    driver_memory : str, default "2g"
        Driver heap; takes effect only when this call launches the JVM.
    conf : mapping, optional
        Further Spark settings; they override the defaults above.
    log_level : str, default "WARN"

    Raises
    ------
    SparkUnavailable
        pyspark is missing, no Java runtime is found, or the JVM fails to start.
    """
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:
        raise SparkUnavailable(
            "pyspark is not installed: install the 'spark' extra (pip install 'bellwether[spark]')."
        ) from exc
    java_home = find_java_home()
    if java_home is None:
        raise SparkUnavailable("No Java runtime found for Spark: install Java 17 or set JAVA_HOME.")
    os.environ["JAVA_HOME"] = java_home
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)  # workers run this interpreter
    master = master or DEFAULT_MASTER
    if master.startswith("local"):
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    builder = SparkSession.builder.master(master).appName(app_name)
    settings = session_settings(master, shuffle_partitions=shuffle_partitions, driver_memory=driver_memory)
    settings.update(conf or {})
    for key, value in settings.items():
        builder = builder.config(key, value)
    try:
        spark = builder.getOrCreate()
    except Exception as exc:  # py4j / JVM launch failures have no common base class
        raise SparkUnavailable(f"Spark did not start (master {master}, JAVA_HOME {java_home}): {exc}") from exc
    spark.sparkContext.setLogLevel(log_level)
    return spark


@contextmanager
def command_session(master: str | None, app_name: str) -> Iterator["SparkSession"]:
    """The SparkSession a command works in: started for the block and stopped after it, unless one
    was running already (a notebook's, a test's), which is used and left running."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        running = None
    else:
        running = SparkSession.getActiveSession()
    spark = spark_session(master, app_name=app_name)
    try:
        yield spark
    finally:
        if running is None:
            spark.stop()


#: SQL settings for the iterative measures: a plan per iteration stays small and partitioned as laid out;
#: adaptive execution would re-plan (and run broadcasts) while each iteration's checkpoint is prepared
ITERATION_SETTINGS = {"spark.sql.adaptive.enabled": "false", "spark.sql.autoBroadcastJoinThreshold": "-1"}


@contextmanager
def sql_settings(spark: "SparkSession", settings: Mapping[str, str] = ITERATION_SETTINGS) -> Iterator[None]:
    """Set runtime SQL ``settings`` on ``spark`` for the block, then put the previous values back."""
    before = {key: spark.conf.get(key, None) for key in settings}
    for key, value in settings.items():
        spark.conf.set(key, value)
    try:
        yield
    finally:
        for key, value in before.items():
            if value is None:
                spark.conf.unset(key)
            else:
                spark.conf.set(key, value)


# --- locations: local paths or any URI Spark's Hadoop file system reads (HDFS, S3...) ----------------------------
def join_location(base: str, name: str) -> str:
    """``base/name`` for a path or a URI."""
    return base.rstrip("/") + "/" + name


def is_local(location: str) -> bool:
    """True for a plain path or a ``file:`` URI."""
    return urlparse(location).scheme in ("", "file")


def local_path(location: str) -> str:
    """A local location as an absolute path (``file:///x`` -> ``/x``)."""
    parsed = urlparse(location)
    return str(Path(parsed.path if parsed.scheme == "file" else location).resolve())


def spark_location(location: str) -> str:
    """What Spark is given: an absolute path for a local path without a scheme, the URI otherwise."""
    return local_path(location) if urlparse(location).scheme == "" else location


def hadoop_path(spark: "SparkSession", location: str):
    """``(Path, FileSystem)`` of ``location`` in Spark's JVM (local, HDFS, S3...)."""
    jvm = spark.sparkContext._jvm
    path = jvm.org.apache.hadoop.fs.Path(location)
    return path, path.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration())


def read_text(spark: "SparkSession", location: str) -> str | None:
    """The whole of a small text file at ``location``, or None when there is none."""
    path, fs = hadoop_path(spark, location)
    if not fs.exists(path):
        return None
    return spark.read.text(location, wholetext=True).first()[0]


def write_text(spark: "SparkSession", location: str, text: str) -> None:
    """Write one small text file at ``location`` (replacing it) through Spark's Hadoop file system."""
    path, fs = hadoop_path(spark, location)
    out = fs.create(path, True)
    try:
        out.write(bytearray(text.encode("utf-8")))
    finally:
        out.close()

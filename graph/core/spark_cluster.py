"""A throwaway Spark standalone cluster on this machine, started from the pyspark installation.

:func:`standalone_cluster` starts a master and a few workers on 127.0.0.1 with the
installation's own ``bin/spark-class`` (Spark's "standalone mode", the cluster manager that ships
with Spark) and stops them when the block ends.  A session on it
(``spark_session(url, conf=session_conf())``) runs its tasks in executor processes that the
workers launch, so the tasks' code is serialised and shipped as on a real cluster: what the tests
of the cluster path and the benchmark of its overhead over ``local[N]`` need, without a cluster.
It is not a way to run production work: the workers share this machine's cores.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from bellwether.graph.core.spark import SparkUnavailable, find_java_home

__all__ = ["standalone_cluster", "session_conf"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def session_conf(executor_memory: str = "1g", executor_cores: int = 1, max_cores: int = 2) -> dict[str, str]:
    """Spark settings of a session on a :func:`standalone_cluster`: the driver on loopback, where the
    workers can reach it, and executors of ``executor_cores`` cores each, ``max_cores`` in all."""
    return {"spark.driver.host": "127.0.0.1", "spark.driver.bindAddress": "127.0.0.1",
            "spark.executor.memory": executor_memory, "spark.executor.cores": str(executor_cores),
            "spark.cores.max": str(max_cores)}


@contextmanager
def standalone_cluster(workers: int = 2, cores: int = 1, memory: str = "1g", logs: Path | None = None,
                       timeout: float = 90.0) -> Iterator[str]:
    """A master and ``workers`` workers (``cores`` cores and ``memory`` each) on 127.0.0.1 for the block.

    Yields the master's ``spark://127.0.0.1:PORT`` URL once every worker has registered.  The
    processes' logs go to ``logs`` (default a temporary folder); they are stopped at the end.

    Raises
    ------
    SparkUnavailable
        pyspark or a Java runtime is missing, or the master and workers did not come up within
        ``timeout`` seconds (the message holds the end of the master's log).
    """
    try:
        import pyspark
    except ImportError as exc:
        raise SparkUnavailable("pyspark is not installed: install the 'spark' extra.") from exc
    home = Path(pyspark.__file__).parent
    java = find_java_home()
    if java is None or not (home / "bin" / "spark-class").exists():
        raise SparkUnavailable("No Java runtime, or no bin/spark-class in the pyspark installation.")
    with tempfile.TemporaryDirectory(prefix="bellwether-spark-cluster-") as scratch:
        logs = Path(logs or scratch)
        logs.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "JAVA_HOME": java, "SPARK_HOME": str(home), "SPARK_LOCAL_IP": "127.0.0.1",
               "PYSPARK_PYTHON": sys.executable, "SPARK_LOG_DIR": str(logs),
               "SPARK_MASTER_OPTS": "-Dspark.master.rest.enabled=false"}  # no fixed REST port
        port = _free_port()
        url = f"spark://127.0.0.1:{port}"
        spark_class = str(home / "bin" / "spark-class")
        procs: list[subprocess.Popen] = []

        def start(name: str, *args: str) -> None:
            with open(logs / f"{name}.log", "wb") as out:
                procs.append(subprocess.Popen([spark_class, *args], env=env, stdout=out, stderr=subprocess.STDOUT,
                                              start_new_session=True))

        try:
            start("master", "org.apache.spark.deploy.master.Master", "--host", "127.0.0.1", "--port", str(port),
                  "--webui-port", str(_free_port()))
            for i in range(workers):
                work = logs / f"work{i}"
                work.mkdir(exist_ok=True)
                start(f"worker{i}", "org.apache.spark.deploy.worker.Worker", url, "--host", "127.0.0.1",
                      "--cores", str(cores), "--memory", memory, "--webui-port", str(_free_port()),
                      "--work-dir", str(work))
            master_log = logs / "master.log"
            deadline = time.monotonic() + timeout
            while master_log.read_text(errors="replace").count("Registering worker") < workers:
                if time.monotonic() > deadline or any(p.poll() is not None for p in procs):
                    raise SparkUnavailable("The standalone master and workers did not come up: "
                                           + master_log.read_text(errors="replace")[-2000:])
                time.sleep(0.5)
            yield url
        finally:
            for p in procs:
                p.terminate()
            for p in procs:
                try:
                    p.wait(20)
                except subprocess.TimeoutExpired:
                    p.kill()

"""The Neo4j + GDS test server for ``@pytest.mark.neo4j`` tests.

Fixtures
--------
neo4j_server (session)
    A running server: ``scripts/neo4j-server start`` in a fresh instance directory
    under the session's tmp dir (stopped at the end), or the server named by
    ``BELLWETHER_TEST_NEO4J_URI`` (with ``BELLWETHER_TEST_NEO4J_USER`` /
    ``_PASSWORD`` / ``_DATABASE``), which is then used as is.
neo4j_store (function)
    A :class:`bellwether.graph.neo4j_store.Neo4jStore` on that server, with an empty database:
    every node, relationship, projected GDS graph and Bellwether constraint/index
    is removed before the test.
server_script (session)
    ``scripts/neo4j-server`` once its jars are fetched, for tests that need an
    instance of their own (e.g. a stopped one for the offline import).
neo4j_driver (function)
    The store's :class:`neo4j.Driver` (same clean database), for tests that talk Bolt directly.

Without Java 17 or Maven the tests skip with a message saying how to enable
them, except under ``CI=true``, where they fail: CI must run them.  When the
server does not start, the error shows ``console.log`` and the ERROR/WARN lines
of ``debug.log``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pytest

from bellwether.graph.neo4j_store import Neo4jError, Neo4jStore

ROOT = Path(__file__).resolve().parents[2]
SERVER_SCRIPT = ROOT / "scripts" / "neo4j-server"
JARS = Path(os.environ.get("NEO4J_SERVER_JARS", ROOT / ".cache" / "neo4j-home"))
ENABLE_HINT = (
    "run `make neo4j-fetch` (needs Java 17 and Maven 3.8+, e.g. `apt-get install openjdk-17-jdk-headless maven`), "
    "or point BELLWETHER_TEST_NEO4J_URI at a Neo4j 5.26 server with GDS 2.13"
)


@dataclass(frozen=True)
class Neo4jServer:
    """Where the test server listens and how it was provided."""

    uri: str
    user: str | None = None
    password: str | None = None
    database: str = "neo4j"
    instance_dir: Path | None = None  # None for an external server
    start_seconds: float = 0.0

    def store(self) -> Neo4jStore:
        return Neo4jStore(self.uri, self.user, self.password, self.database)


def _unavailable(reason: str) -> None:
    msg = f"Neo4j test server unavailable: {reason}"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{msg} (CI=true: Neo4j tests must run in CI)", pytrace=False)
    pytest.skip(f"{msg}. To enable: {ENABLE_HINT}.")


def _fetched() -> bool:
    return (JARS / ".fetched").exists() and (JARS / "lib").is_dir() and (JARS / "plugins").is_dir()


@pytest.fixture(scope="session")
def neo4j_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Neo4jServer]:
    uri = os.environ.get("BELLWETHER_TEST_NEO4J_URI")
    if uri:
        yield Neo4jServer(
            uri,
            os.environ.get("BELLWETHER_TEST_NEO4J_USER", "neo4j"),
            os.environ.get("BELLWETHER_TEST_NEO4J_PASSWORD") or None,
            os.environ.get("BELLWETHER_TEST_NEO4J_DATABASE", "neo4j"),
        )
        return
    if shutil.which("java") is None:
        _unavailable("`java` is not on PATH")
    if not _fetched() and shutil.which("mvn") is None:
        _unavailable("the Neo4j jars are not fetched and `mvn` is not on PATH")

    instance = tmp_path_factory.mktemp("neo4j-server")
    env = {**os.environ, "NEO4J_SERVER_DIR": str(instance)}
    t0 = time.monotonic()
    proc = subprocess.run(
        [str(SERVER_SCRIPT), "start", "--heap", os.environ.get("NEO4J_SERVER_HEAP", "1g")],
        env=env, capture_output=True, text=True, timeout=900,
    )
    if proc.returncode != 0:
        # The script printed console.log and the ERROR/WARN lines of debug.log on stderr.
        pytest.fail(f"scripts/neo4j-server start failed (exit {proc.returncode}):\n{proc.stderr}", pytrace=False)
    server = Neo4jServer(proc.stdout.strip().splitlines()[-1], instance_dir=instance,
                         start_seconds=time.monotonic() - t0)
    try:
        yield server
    finally:
        subprocess.run([str(SERVER_SCRIPT), "stop"], env=env, capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="session")
def server_script() -> Path:
    """``scripts/neo4j-server`` with its jars fetched, for tests that run an instance of their own."""
    if shutil.which("java") is None:
        _unavailable("`java` is not on PATH")
    if not _fetched():
        _unavailable("the Neo4j jars are not fetched (`scripts/neo4j-server fetch`)")
    return SERVER_SCRIPT


def clear_database(store: Neo4jStore) -> None:
    """Remove everything a test may have left: GDS graphs, nodes, relationships, constraints, indexes."""
    try:
        store.execute_auto("CALL gds.graph.list() YIELD graphName CALL gds.graph.drop(graphName, false) YIELD graphName AS dropped RETURN count(*)")
    except Neo4jError:  # a server without GDS still gets cleared
        pass
    store.execute_auto("MATCH (n) CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS")
    for name in store.read("SHOW CONSTRAINTS YIELD name RETURN name")["name"]:
        store.execute_auto(f"DROP CONSTRAINT `{name}` IF EXISTS")
    for name in store.read("SHOW INDEXES YIELD name, type WHERE type <> 'LOOKUP' RETURN name")["name"]:
        store.execute_auto(f"DROP INDEX `{name}` IF EXISTS")


@pytest.fixture
def neo4j_store(neo4j_server: Neo4jServer) -> Iterator[Neo4jStore]:
    store = neo4j_server.store()
    try:
        store.connect()
        clear_database(store)
        yield store
    finally:
        store.close()


@pytest.fixture
def neo4j_driver(neo4j_store: Neo4jStore):
    return neo4j_store.driver


@pytest.fixture
def make_contact_graph():
    """``make_contact_graph(n, m, seed=0)``: a random graph with every table column filled."""
    from bellwether.graph.synthetic.random_graph import random_contact_graph

    return random_contact_graph

"""Connection failures become one Neo4jError line naming the URI and the fix (no server needed)."""

from __future__ import annotations

import socket
import subprocess
import sys

import pytest

from bellwether.graph.core.errors import BellwetherError
from bellwether.graph.neo4j_store import Neo4jError, Neo4jStore
from bellwether.graph.core.settings import load_settings


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_bad_uri_names_the_setting():
    with pytest.raises(Neo4jError, match=r"Neo4j URI 'htp://nowhere' is not valid.*BELLWETHER_NEO4J_URI") as err:
        with Neo4jStore("htp://nowhere") as store:
            store.connect()
    assert isinstance(err.value, BellwetherError) and "\n" not in str(err.value)


def test_server_down_says_how_to_start_one():
    uri = f"bolt://127.0.0.1:{closed_port()}"
    with pytest.raises(Neo4jError, match=rf"Cannot reach Neo4j at {uri}.*scripts/neo4j-server start") as err:
        with Neo4jStore(uri) as store:
            store.connect()
    assert "\n" not in str(err.value)


def test_store_takes_its_connection_from_settings(tmp_path):
    cfg = tmp_path / "bellwether.toml"
    cfg.write_text('[neo4j]\nuri = "bolt://db.example:7687"\nuser = "analyst"\ndatabase = "telco"\n')
    store = Neo4jStore.from_settings(load_settings(cfg, environ={"BELLWETHER_NEO4J_PASSWORD": "secret-pw"}))
    assert (store.uri, store.user, store.password, store.database) == ("bolt://db.example:7687", "analyst", "secret-pw", "telco")


def test_cli_prints_one_error_line_when_the_server_is_down(tmp_path):
    uri = f"bolt://127.0.0.1:{closed_port()}"
    proc = subprocess.run([sys.executable, "-m", "bellwether.cli", "neo4j", "status", "--uri", uri],
                          capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert proc.returncode == 1
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: Cannot reach Neo4j at " + uri), proc.stderr

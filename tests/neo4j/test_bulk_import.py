"""The offline bulk path (`bellwether neo4j import-files`, `neo4j-admin database import`, `neo4j push`) and auth.

Runs its own server instance (the import needs a stopped server), with the jars of
``scripts/neo4j-server fetch``: an import, a start with a password, a push that must
find every batch loaded, and a pull that must give back the workspace's tables.
The same server (auth on, unlike the session's) shows the wrong-credentials message.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pandas as pd
import pyarrow as pa
import pytest
from typer.testing import CliRunner

from bellwether.cli.app import app
from bellwether.graph import schema
from bellwether.graph.contact_graph import ContactGraph
from bellwether.graph.neo4j_store import Neo4jStore, pull_graph
from bellwether.graph.core.workspace import Workspace

pytestmark = [pytest.mark.neo4j, pytest.mark.slow]

PASSWORD = "bulk-test-pw"


def as_table(df: pd.DataFrame, sch: pa.Schema) -> pd.DataFrame:
    return pa.Table.from_pandas(df[sch.names], schema=sch, preserve_index=False).to_pandas()


def test_import_then_push_on_a_server_with_auth(server_script, tmp_path, make_contact_graph, monkeypatch):
    def server(cmd: str, instance, *args: str) -> subprocess.CompletedProcess:
        env = {**os.environ, "NEO4J_SERVER_DIR": str(instance)}
        return subprocess.run([str(server_script), cmd, *args], env=env, capture_output=True, text=True, timeout=600)

    g = make_contact_graph(400, 1500, seed=11)
    g.info = {"as_of": "2025-04-01", "window_days": 30}
    ws = Workspace(tmp_path / "ws").create()
    g.save(ws)

    runner = CliRunner()
    files = tmp_path / "import"
    res = runner.invoke(app, ["neo4j", "import-files", str(files), "--workspace", str(ws.root), "--batch-size", "500", "--json"])
    assert res.exit_code == 0, res.output
    args_file = json.loads(res.output)["args_file"]

    instance = tmp_path / "server"
    imported = server("import", instance, args_file)
    assert imported.returncode == 0, imported.stderr
    assert "IMPORT DONE" in imported.stderr
    started = server("start", instance, "--password", PASSWORD)
    assert started.returncode == 0, started.stderr
    try:
        uri = started.stdout.strip().splitlines()[-1]
        again = server("import", instance, args_file)
        assert again.returncode != 0 and "stop it first" in again.stderr

        wrong = subprocess.run([sys.executable, "-m", "bellwether.cli", "neo4j", "status", "--uri", uri], cwd=tmp_path,
                               env={**os.environ, "BELLWETHER_NEO4J_PASSWORD": "not-the-password"},
                               capture_output=True, text=True, timeout=120)
        lines = [ln for ln in wrong.stderr.splitlines() if ln.strip()]
        assert wrong.returncode == 1 and len(lines) == 1, wrong.stderr
        assert "refused the credentials of user 'neo4j'" in lines[0] and "BELLWETHER_NEO4J_PASSWORD" in lines[0]

        monkeypatch.setenv("BELLWETHER_NEO4J_URI", uri)
        monkeypatch.setenv("BELLWETHER_NEO4J_PASSWORD", PASSWORD)
        res = runner.invoke(app, ["neo4j", "push", "--workspace", str(ws.root), "--batch-size", "500", "--json"])
        assert res.exit_code == 0, res.output
        pushed = json.loads(res.output)
        assert pushed["subscribers_loaded"] == 0 and pushed["contacts_loaded"] == 0
        assert pushed["contacts_skipped"] == 1500 and pushed["counts"]["contacts"] == 1500

        with Neo4jStore(uri, password=PASSWORD) as store:
            back = pull_graph(store)
            constraints = set(store.read("SHOW CONSTRAINTS YIELD labelsOrTypes RETURN labelsOrTypes[0] AS label")["label"])
        assert "Subscriber" in constraints  # the push added the schema
        pd.testing.assert_frame_equal(back.subscribers, as_table(ContactGraph.load(ws).subscribers, schema.SUBSCRIBERS))
        want = as_table(g.contacts.sort_values(["a_vid", "b_vid"]).reset_index(drop=True), schema.CONTACTS)
        pd.testing.assert_frame_equal(back.contacts, want)
        assert back.as_of == "2025-04-01"
    finally:
        server("stop", instance)

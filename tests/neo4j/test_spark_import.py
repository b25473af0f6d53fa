"""Import files written by Spark load into Neo4j as the same graph the push loads.

`bellwether neo4j import-files --engine spark` writes the files of a graph (every column filled,
missing values, strings that need quoting); `neo4j-admin database import` loads them into a
fresh instance of the test server (the import needs a stopped server); the same graph goes
into the session's server through `bellwether neo4j push`.  Both databases must hold the same
Subscriber nodes and CONTACT relationships with the same properties, and the graph's info.
"""

from __future__ import annotations

import json
import os
import subprocess
from typing import Any

import pytest
from typer.testing import CliRunner

from support.spark import SPARK_MARKS, require_pyspark

require_pyspark()

from bellwether.cli.app import app
from bellwether.graph.core.spark import SparkUnavailable, find_java_home
from bellwether.graph.core.workspace import Workspace
from bellwether.graph.neo4j_store import Neo4jStore, pull_graph, push_workspace
from bellwether.graph.neo4j_store.rows import from_neo4j_value

pytestmark = [pytest.mark.neo4j, *SPARK_MARKS]


def _native(props: dict[str, Any]) -> dict[str, Any]:
    return {k: from_neo4j_value(v) for k, v in props.items()}


def graph_in(store: Neo4jStore) -> dict[str, Any]:
    """Everything the comparison looks at: labels and types with counts, every property, the graph info."""
    subscribers = {r["id"]: _native(r["p"]) for r in store.read(
        "MATCH (s:Subscriber) RETURN s.id AS id, properties(s) AS p").to_dict("records")}
    contacts = {(r["a"], r["b"]): _native(r["p"]) for r in store.read(
        "MATCH (a:Subscriber)-[r:CONTACT]->(b:Subscriber) RETURN a.id AS a, b.id AS b, properties(r) AS p"
    ).to_dict("records")}
    return {
        "labels": dict(store.read("MATCH (n) WHERE NOT n:LoadBatch RETURN labels(n) AS l, count(*) AS n")
                       .apply(lambda r: (tuple(r["l"]), r["n"]), axis=1).tolist()),
        "types": store.read("MATCH ()-[r]->() RETURN DISTINCT type(r) AS t")["t"].tolist(),
        "contact_rows": int(store.scalar("load.count_contacts")),
        "subscribers": subscribers,
        "contacts": contacts,
        "info": pull_graph(store).info,
    }


def test_spark_files_import_as_the_pushed_graph(server_script, neo4j_store, make_contact_graph, tmp_path):
    if find_java_home() is None:  # the Neo4j fixtures found Java; Spark looks for it the same way
        raise SparkUnavailable("no Java runtime for Spark")
    g = make_contact_graph(400, 1500, seed=11)
    for i, region in enumerate(["north, upper", 'the "old" town', "  west", "", "caf\u00e9 \u5317"]):
        g.subscribers.loc[i * 7, "region"] = region  # quoting, a leading space, an empty string, UTF-8
    g.info = {"as_of": "2025-04-01", "window_days": 30, "note": 'a "quoted", text'}
    ws = Workspace(tmp_path / "ws").create()
    g.save(ws)

    res = CliRunner().invoke(app, ["neo4j", "import-files", str(tmp_path / "import"), "--engine", "spark",
                                   "--master", "local[2]", "--partitions", "3", "--workspace", str(ws.root), "--json"])
    assert res.exit_code == 0, res.output
    written = json.loads(res.output[res.output.index("{"):])
    assert written["counts"] == {"subscribers": 400, "contacts": 1500, "graph_info": 1}
    assert written["partitions"] == {"subscribers": 3, "contacts": 3}

    env = {**os.environ, "NEO4J_SERVER_DIR": str(tmp_path / "server")}

    def server(cmd: str, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([str(server_script), cmd, *args], env=env, capture_output=True, text=True, timeout=600)

    imported = server("import", written["args_file"])
    assert imported.returncode == 0, imported.stderr
    assert "IMPORT DONE" in imported.stderr
    started = server("start", "--heap", "512m")
    assert started.returncode == 0, started.stderr
    try:
        with Neo4jStore(started.stdout.strip().splitlines()[-1]) as store:
            from_files = graph_in(store)
    finally:
        server("stop")

    push_workspace(neo4j_store, ws, progress=False)
    pushed = graph_in(neo4j_store)

    assert from_files["labels"] == pushed["labels"] == {("Subscriber",): 400, ("GraphInfo",): 1}
    assert from_files["types"] == pushed["types"] == ["CONTACT"]
    assert from_files["contact_rows"] == pushed["contact_rows"] == 1500
    assert from_files["subscribers"].keys() == pushed["subscribers"].keys()
    diff = [(k, v, pushed["subscribers"][k]) for k, v in from_files["subscribers"].items() if v != pushed["subscribers"][k]]
    assert not diff, diff[:3]
    assert from_files["contacts"].keys() == pushed["contacts"].keys()
    diff = [(k, v, pushed["contacts"][k]) for k, v in from_files["contacts"].items() if v != pushed["contacts"][k]]
    assert not diff, diff[:3]
    # missing values are missing properties on both sides, and every column became a property somewhere
    assert sum("arpu" not in p for p in pushed["subscribers"].values()) == int(g.subscribers["arpu"].isna().sum()) > 0
    assert {"region", "churn_date", "tenure_months"} <= set().union(*pushed["subscribers"].values())
    assert {k.pop("source") for k in (from_files["info"], pushed["info"])} and from_files["info"] == pushed["info"]
    assert from_files["info"]["as_of"] == "2025-04-01"

"""`bellwether serve`: the exported target lists over real HTTP (a server thread on a free port)."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

import pytest
from typer.testing import CliRunner

from cli.app import app
from cli.serve import make_server
from graph.exports import read_table
from graph.list_service import ListService
from marketing_run import make_marketing_run


@pytest.fixture(scope="module")
def mrun(tmp_path_factory):
    run = make_marketing_run(tmp_path_factory.mktemp("serve") / "ws")
    res = CliRunner().invoke(app, ["targets", "--workspace", str(run.workspace.root), "--top", "15", "--quiet"])
    assert res.exit_code == 0, res.output
    return run


def start(service: ListService, token: str | None = None):
    server = make_server(service, port=0, token=token, quiet=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


@pytest.fixture(scope="module")
def base(mrun):
    server, url = start(ListService(mrun.workspace))
    yield url
    server.shutdown()
    server.server_close()


def get(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read()


def test_runs_and_their_lists(base, mrun):
    status, _, body = get(f"{base}/runs")
    runs = json.loads(body)["runs"]
    assert status == 200 and runs[0]["run"] == mrun.run_dir.name
    assert set(runs[0]["lists"]) == {"retention", "viral", "community", "acquisition"}
    status, _, body = get(f"{base}/runs/latest/lists")
    lists = {m["name"]: m for m in json.loads(body)["lists"]}
    assert lists["retention"]["rows"] == len(read_table(mrun.run_dir / "lists" / "retention.csv"))


def test_a_list_as_json_pages_and_csv_is_what_was_exported(base, mrun):
    exported = read_table(mrun.run_dir / "lists" / "retention.csv")
    status, headers, body = get(f"{base}/runs/{mrun.run_dir.name}/lists/retention?limit=5&offset=2")
    data = json.loads(body)
    assert status == 200 and data["total"] == len(exported) == int(headers["X-Total-Count"])
    assert [r["id"] for r in data["items"]] == exported["id"].iloc[2:7].tolist()
    assert data["items"][0]["reasons"] == exported["reasons"].iloc[2]
    status, headers, body = get(f"{base}/runs/latest/lists/retention.csv")
    rows = list(csv.DictReader(io.StringIO(body.decode())))
    assert status == 200 and headers["Content-Type"].startswith("text/csv")
    assert [r["id"] for r in rows] == exported["id"].tolist()
    assert body == (mrun.run_dir / "lists" / "retention.csv").read_bytes()  # byte for byte


def test_etag_is_the_list_version(base):
    _, headers, _ = get(f"{base}/runs/latest/lists/viral")
    status, _, body = get(f"{base}/runs/latest/lists/viral", {"If-None-Match": headers["ETag"]})
    assert status == 304 and body == b""


@pytest.mark.parametrize("path, status, words", [
    ("/runs/latest/lists/nope", 404, "lists of this run: acquisition, community, retention, viral"),
    ("/runs/19990101T000000/lists", 404, "No run '19990101T000000'"),
    ("/runs/latest/lists/viral?limit=ten", 400, "limit must be a whole number"),
    ("/elsewhere", 404, "no endpoint /elsewhere"),
])
def test_errors_are_json_and_say_what_is_wrong(base, path, status, words):
    got, headers, body = get(base + path)
    assert got == status and headers["Content-Type"].startswith("application/json")
    assert words in json.loads(body)["error"]


def test_token_is_required_when_set(mrun):
    server, url = start(ListService(mrun.workspace), token="s3cret-token")
    try:
        assert get(f"{url}/health")[0] == 200
        assert get(f"{url}/runs")[0] == 401
        assert get(f"{url}/runs", {"Authorization": "Bearer wrong"})[0] == 401
        assert get(f"{url}/runs", {"Authorization": "Bearer s3cret-token"})[0] == 200
    finally:
        server.shutdown()
        server.server_close()


def test_command_serves_until_stopped(mrun, tmp_path):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "cli", "serve", "--workspace", str(mrun.workspace.root),
                             "--port", str(port), "--quiet"], cwd=tmp_path, stderr=subprocess.PIPE, text=True)
    try:
        for _ in range(100):
            try:
                status, _, body = get(f"http://127.0.0.1:{port}/health")
                break
            except urllib.error.URLError:
                time.sleep(0.1)
        assert status == 200 and json.loads(body) == {"status": "ok"}
    finally:
        proc.terminate()
        proc.wait(timeout=10)

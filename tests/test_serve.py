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


@pytest.fixture()
def own_ws(mrun, tmp_path):
    """A copy of the exported workspace that a test may change (the module's run stays as it is)."""
    import shutil

    from graph.workspace import Workspace

    root = tmp_path / "ws"
    shutil.copytree(mrun.workspace.root, root, symlinks=True)
    return Workspace(root)


def test_a_do_not_contact_entry_added_after_export_is_not_served(own_ws):
    from loaders.do_not_contact import read_stored, write_do_not_contact

    exported = (own_ws.run_dirs()[-1] / "lists" / "retention.csv").read_bytes()
    lines = exported.decode().splitlines(keepends=True)
    gone = lines[3].split(",")[2]  # the third person on the list: columns list, rank, id, ...
    server, url = start(ListService(own_ws))
    try:
        _, before, _ = get(f"{url}/runs/latest/lists/retention")
        write_do_not_contact(read_stored(own_ws.do_not_contact_path) | {gone}, own_ws.do_not_contact_path)
        status, headers, body = get(f"{url}/runs/latest/lists/retention")
        data = json.loads(body)
        assert status == 200 and gone not in {r["id"] for r in data["items"]}
        assert data["total"] == len(lines) - 2 and data["held_back"] == 1 and headers["X-Held-Back"] == "1"
        assert headers["ETag"] != before["ETag"]  # the served content changed, so does its version
        status, _, body = get(f"{url}/runs/latest/lists/retention.csv")
        assert status == 200 and body.decode() == "".join(lines[:3] + lines[4:])  # the exported file minus that line
        _, _, page = get(f"{url}/runs/latest/lists/retention.csv?offset=2&limit=2")
        assert page.decode() == "".join(lines[:1] + lines[4:6])
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("damage", ["corrupt", "missing"])
def test_no_list_is_served_when_the_do_not_contact_list_cannot_be_read(own_ws, damage):
    from graph.workspace import write_json

    if damage == "corrupt":
        own_ws.do_not_contact_path.write_bytes(b"PAR1 this is no parquet file")
    else:  # the manifest says a list was loaded, its file is gone
        own_ws.do_not_contact_path.unlink()
        write_json(own_ws.manifest_path, {"do_not_contact": {"ids": 3, "files": []}})
    server, url = start(ListService(own_ws))
    try:
        for path in ("/runs/latest/lists/retention", "/runs/latest/lists/retention.csv", "/runs/latest/lists/viral?limit=2"):
            status, headers, body = get(url + path)
            assert status == 503 and headers["Content-Type"].startswith("application/json"), path
            assert "do-not-contact" in json.loads(body)["error"] and b"items" not in body
        assert get(f"{url}/runs")[0] == 200  # what runs and lists exist is still answered
    finally:
        server.shutdown()
        server.server_close()


def test_no_do_not_contact_list_ever_loaded_serves_lists_as_exported(own_ws):
    own_ws.do_not_contact_path.unlink()
    server, url = start(ListService(own_ws))
    try:
        status, _, body = get(f"{url}/runs/latest/lists/retention.csv")
        assert status == 200 and body == (own_ws.run_dirs()[-1] / "lists" / "retention.csv").read_bytes()
    finally:
        server.shutdown()
        server.server_close()

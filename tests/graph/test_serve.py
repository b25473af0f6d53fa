"""`bellwether serve`: the exported target lists over HTTP (FastAPI app through its TestClient, and the real server)."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from bellwether.cli.app import app
from bellwether.graph import list_service as ls
from bellwether.graph.exports import read_table
from bellwether.graph.list_service import ListPage, ListService, RunLists, RunsPage, create_app
from bellwether.graph.core.workspace import Workspace, write_json
from support.marketing_run import make_marketing_run

TOKEN = "s3cret-token-for-tests"


@pytest.fixture(scope="module")
def mrun(tmp_path_factory):
    run = make_marketing_run(tmp_path_factory.mktemp("serve") / "ws")
    res = CliRunner().invoke(app, ["targets", "--workspace", str(run.workspace.root), "--top", "15", "--quiet"])
    assert res.exit_code == 0, res.output
    return run


@pytest.fixture(scope="module")
def client(mrun):
    return TestClient(create_app(mrun.workspace))


@pytest.fixture()
def own_ws(mrun, tmp_path):
    """A copy of the exported workspace that a test may change (the module's run stays as it is)."""
    root = tmp_path / "ws"
    shutil.copytree(mrun.workspace.root, root, symlinks=True)
    return Workspace(root)


def lists_dir(ws: Workspace):
    return ws.run_dirs()[-1] / "lists"


def no_paths(ws: Workspace, body: bytes) -> None:
    """No filesystem path of the workspace (or of the machine's temp area) in a response."""
    text = body.decode("utf-8", "replace")
    for fragment in {str(ws.root), str(ws.root.resolve()), str(ws.root.parent), "/tmp/", "pytest-"}:
        assert fragment not in text, f"{fragment!r} in {text[:300]!r}"


# -- the endpoints ---------------------------------------------------------------------------

def test_runs_and_their_lists(client, mrun):
    r = client.get("/runs")
    runs = RunsPage.model_validate(r.json()).runs
    assert r.status_code == 200 and runs[0].run == mrun.run_dir.name and runs[0].unreadable == []
    assert set(runs[0].lists) == {"retention", "viral", "community", "acquisition"}
    r = client.get("/runs/latest/lists")
    lists = {m.name: m for m in RunLists.model_validate(r.json()).lists}
    assert lists["retention"].rows == len(read_table(mrun.run_dir / "lists" / "retention.csv"))
    assert lists["retention"].exported_rows == lists["retention"].rows and lists["retention"].held_back == 0
    assert lists["retention"].list_version and lists["retention"].suppressed_total is not None
    assert client.get(f"/runs/{mrun.run_dir.name}/lists").json() == r.json()


def test_a_list_as_json_pages_and_csv_is_what_was_exported(client, mrun):
    exported = read_table(mrun.run_dir / "lists" / "retention.csv")
    r = client.get(f"/runs/{mrun.run_dir.name}/lists/retention", params={"limit": 5, "offset": 2})
    page = ListPage.model_validate(r.json())
    assert r.status_code == 200 and page.total == len(exported) == int(r.headers["X-Total-Count"])
    assert (page.offset, page.limit, page.held_back, page.list) == (2, 5, 0, "retention")
    assert [row.id for row in page.items] == exported["id"].iloc[2:7].tolist()
    assert page.items[0].reasons == exported["reasons"].iloc[2]
    assert list(r.json()["items"][0]) == list(exported.columns)  # every column, in the exported order
    assert r.json()["items"][0]["churn_risk"] == exported["churn_risk"].iloc[2]  # full precision
    r = client.get("/runs/latest/lists/retention.csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/csv")
    assert [row["id"] for row in rows] == exported["id"].tolist()
    assert r.content == (mrun.run_dir / "lists" / "retention.csv").read_bytes()  # byte for byte
    assert client.get("/runs/latest/lists/retention?format=csv").content == r.content
    assert client.get("/runs/latest/lists/retention.json?limit=1").json()["items"][0]["id"] == exported["id"].iloc[0]
    lines = r.content.decode().splitlines(keepends=True)
    assert client.get("/runs/latest/lists/retention.csv?offset=1&limit=2").text == "".join(lines[:1] + lines[2:4])


def test_head_answers_like_get_without_a_body(client):
    got, head = client.get("/runs/latest/lists/viral.csv"), client.head("/runs/latest/lists/viral.csv")
    assert head.status_code == 200 and head.content == b""
    assert head.headers["ETag"] == got.headers["ETag"] and head.headers["Content-Length"] == str(len(got.content))


def test_etag_is_the_list_version(client, mrun):
    r = client.get("/runs/latest/lists/viral")
    version = json.loads((mrun.run_dir / "lists" / "viral.csv.manifest.json").read_text())["list_version"]
    assert r.headers["ETag"] == f'"{version}"' == client.get("/runs/latest/lists/viral.csv").headers["ETag"]
    for header in (r.headers["ETag"], f'W/{r.headers["ETag"]}', f'"other", {r.headers["ETag"]}', "*"):
        again = client.get("/runs/latest/lists/viral", headers={"If-None-Match": header})
        assert again.status_code == 304 and again.content == b"" and again.headers["ETag"] == r.headers["ETag"], header
    assert client.get("/runs/latest/lists/viral", headers={"If-None-Match": '"other"'}).status_code == 200


@pytest.mark.parametrize("path, status, words", [
    ("/runs/latest/lists/nope", 404, "lists of this run: acquisition, community, retention, viral"),
    ("/runs/latest/lists/nope.csv", 404, "No list 'nope'"),
    ("/runs/19990101T000000/lists", 404, "No run '19990101T000000'"),
    ("/runs/19990101T000000/lists/viral", 404, "No run '19990101T000000'"),
    ("/runs/latest/lists/viral?limit=ten", 400, "limit must be a whole number"),
    ("/runs/latest/lists/viral?offset=-3", 400, "offset must be a whole number >= 0"),
    ("/runs/latest/lists/viral?format=xml", 400, "format"),
    ("/elsewhere", 404, "no endpoint /elsewhere"),
])
def test_errors_are_json_and_say_what_is_wrong(client, mrun, path, status, words):
    r = client.get(path)
    assert r.status_code == status and r.headers["Content-Type"].startswith("application/json")
    assert words in r.json()["error"] and r.json()["status"] == status
    no_paths(mrun.workspace, r.content)


def test_no_run_yet_is_a_404_without_the_workspace_path(tmp_path):
    ws = Workspace(tmp_path / "empty").create()
    c = TestClient(create_app(ws))
    assert c.get("/runs").json() == {"runs": []}
    r = c.get("/runs/latest/lists/retention")
    assert r.status_code == 404 and "No analysis run" in r.json()["error"]
    no_paths(ws, r.content)


def test_openapi_schema_describes_the_typed_responses(mrun):
    schema = TestClient(create_app(mrun.workspace, token=TOKEN)).get("/openapi.json").json()  # needs no token
    paths = schema["paths"]
    assert {"/runs", "/runs/{run}/lists", "/runs/{run}/lists/{name}", "/runs/{run}/lists/{name}.csv"} <= set(paths)
    ok = paths["/runs/{run}/lists/{name}"]["get"]["responses"]
    assert ok["200"]["content"]["application/json"]["schema"]["$ref"].endswith("/ListPage")
    assert {"304", "400", "401", "404", "500", "503"} <= set(ok) and "422" not in ok
    assert "text/csv" in paths["/runs/{run}/lists/{name}.csv"]["get"]["responses"]["200"]["content"]
    assert paths["/runs"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith("/RunsPage")
    page = schema["components"]["schemas"]["ListPage"]
    assert {"total", "held_back", "items", "list_version"} <= set(page["properties"])
    assert {"id", "rank", "reasons"} <= set(schema["components"]["schemas"]["ListRow"]["properties"])
    assert schema["components"]["securitySchemes"]["HTTPBearer"] == {
        "type": "http", "scheme": "bearer", "description": "The server's BELLWETHER_API_TOKEN."}
    assert {"name": "limit", "in": "query"}.items() <= next(
        p for p in paths["/runs/{run}/lists/{name}"]["get"]["parameters"] if p["name"] == "limit").items()


# -- the token -------------------------------------------------------------------------------

def test_token_is_required_when_set_and_compared_in_constant_time(mrun, monkeypatch):
    compared = []
    real = ls.hmac.compare_digest
    monkeypatch.setattr(ls.hmac, "compare_digest", lambda a, b: compared.append((a, b)) or real(a, b))
    c = TestClient(create_app(mrun.workspace, token=TOKEN))
    assert c.get("/health").status_code == 200 and c.get("/openapi.json").status_code == 200
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {TOKEN}"},
                    {"Authorization": f"Bearer {TOKEN}x"}, {"Authorization": TOKEN}):
        for path in ("/runs", "/runs/latest/lists", "/runs/latest/lists/viral", "/runs/latest/lists/viral.csv", "/"):
            r = c.get(path, headers=headers)
            assert r.status_code == 401 and r.headers["WWW-Authenticate"] == "Bearer", (path, headers)
            assert "Authorization: Bearer" in r.json()["error"] and b"items" not in r.content
    good = {"Authorization": f"Bearer {TOKEN}"}
    assert c.get("/runs", headers=good).status_code == 200
    assert c.get("/runs/latest/lists/viral.csv", headers=good).content == (mrun.run_dir / "lists" / "viral.csv").read_bytes()
    assert (b"wrong", TOKEN.encode()) in compared and (TOKEN.encode(), TOKEN.encode()) in compared


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "::1", "localhost"])
def test_loopback_needs_no_token(host):
    ls.check_exposure(host, None)


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.0.2.10"])
def test_beyond_loopback_without_a_token_is_refused(host):
    with pytest.raises(ls.ServeRefused) as err:
        ls.check_exposure(host, None)
    message = str(err.value)
    assert "\n" not in message and "BELLWETHER_API_TOKEN" in message and "127.0.0.1" in message
    ls.check_exposure(host, TOKEN)  # with a token it may listen


def test_command_refuses_every_interface_without_a_token(mrun, tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "BELLWETHER_API_TOKEN"}
    done = subprocess.run([sys.executable, "-m", "bellwether.cli", "serve", "--workspace", str(mrun.workspace.root),
                           "--host", "0.0.0.0", "--port", "0"], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 1
    line, = [ln for ln in done.stderr.splitlines() if ln.strip()]
    assert "set BELLWETHER_API_TOKEN" in line and "bind 127.0.0.1" in line


# -- what is served: do-not-contact, broken sidecars, files outside the run ----------------------

def test_a_do_not_contact_entry_added_after_export_is_not_served(own_ws):
    from bellwether.loaders.do_not_contact import read_stored, write_do_not_contact

    exported = (lists_dir(own_ws) / "retention.csv").read_bytes()
    lines = exported.decode().splitlines(keepends=True)
    gone = lines[3].split(",")[2]  # the third person on the list: columns list, rank, id, ...
    c = TestClient(create_app(own_ws))
    before = c.get("/runs/latest/lists/retention")
    assert c.get("/runs/latest/lists/retention.csv").content == exported
    write_do_not_contact(read_stored(own_ws.do_not_contact_path) | {gone}, own_ws.do_not_contact_path)
    r = c.get("/runs/latest/lists/retention")
    data = r.json()
    assert r.status_code == 200 and gone not in {row["id"] for row in data["items"]}
    assert data["total"] == len(lines) - 2 and data["held_back"] == 1 and r.headers["X-Held-Back"] == "1"
    assert r.headers["ETag"] != before.headers["ETag"]  # the served content changed, so does its version
    r = c.get("/runs/latest/lists/retention.csv")
    assert r.status_code == 200 and r.text == "".join(lines[:3] + lines[4:])  # the exported file minus that line
    assert c.get("/runs/latest/lists/retention.csv?offset=2&limit=2").text == "".join(lines[:1] + lines[4:6])
    assert c.get("/runs/latest/lists/retention", headers={"If-None-Match": before.headers["ETag"]}).status_code == 200


def test_the_row_count_of_a_list_is_what_would_be_served_now(own_ws):
    """`GET /runs/{run}/lists` counts the rows after the do-not-contact list as it is now, not the export's."""
    from bellwether.loaders.do_not_contact import read_stored, write_do_not_contact

    exported = read_table(lists_dir(own_ws) / "retention.csv")
    c = TestClient(create_app(own_ws))
    before = {m["name"]: m for m in c.get("/runs/latest/lists").json()["lists"]}
    assert before["retention"]["rows"] == before["retention"]["exported_rows"] == len(exported)
    assert before["retention"]["held_back"] == 0
    write_do_not_contact(read_stored(own_ws.do_not_contact_path) | {str(exported["id"].iloc[2])},
                         own_ws.do_not_contact_path)
    r = c.get("/runs/latest/lists")
    after = {m.name: m for m in RunLists.model_validate(r.json()).lists}
    assert r.status_code == 200
    assert after["retention"].rows == len(exported) - 1 == c.get("/runs/latest/lists/retention").json()["total"]
    assert after["retention"].held_back == 1 and after["retention"].exported_rows == len(exported)
    assert after["retention"].suppressed_total == before["retention"]["suppressed_total"]  # held back at export
    for name in ("viral", "community", "acquisition"):  # not on those lists: unchanged
        assert after[name].rows == before[name]["rows"] and after[name].held_back == 0


@pytest.mark.parametrize("damage", ["corrupt", "missing"])
def test_no_list_is_served_when_the_do_not_contact_list_cannot_be_read(own_ws, damage):
    if damage == "corrupt":
        own_ws.do_not_contact_path.write_bytes(b"PAR1 this is no parquet file")
    else:  # the manifest says a list was loaded, its file is gone
        own_ws.do_not_contact_path.unlink()
        write_json(own_ws.manifest_path, {"do_not_contact": {"ids": 3, "files": []}})
    c = TestClient(create_app(own_ws))
    for path in ("/runs/latest/lists/retention", "/runs/latest/lists/retention.csv", "/runs/latest/lists/viral?limit=2"):
        r = c.get(path)
        assert r.status_code == 503 and r.headers["Content-Type"].startswith("application/json"), path
        assert "do-not-contact" in r.json()["error"] and b"items" not in r.content
        no_paths(own_ws, r.content)
    assert c.get("/runs").status_code == 200  # what runs and lists exist is still answered
    r = c.get("/runs/latest/lists")  # how many rows would be served cannot be told
    assert r.status_code == 503 and "do-not-contact" in r.json()["error"]
    no_paths(own_ws, r.content)


def test_no_do_not_contact_list_ever_loaded_serves_lists_as_exported(own_ws):
    own_ws.do_not_contact_path.unlink()
    r = TestClient(create_app(own_ws)).get("/runs/latest/lists/retention.csv")
    assert r.status_code == 200 and r.content == (lists_dir(own_ws) / "retention.csv").read_bytes()


@pytest.mark.parametrize("sidecar, fault", [
    (b"{not json", "not valid JSON"),
    (b"[1, 2]", "not a JSON object"),
    (b'{"name": "viral", "path": "viral.csv", "rows": "many"}', "malformed 'rows'"),
    (b'{"name": "viral", "path": 7}', "malformed 'path'"),
    (b'{"name": "viral", "path": "gone.csv"}', "its file is missing"),
    (b'{"name": "viral", "path": "../subscribers.parquet"}', "outside the run's lists directory"),
    (b'{"name": "viral", "path": "/etc/passwd"}', "outside the run's lists directory"),
    (b'{"name": "viral", "path": "viral.csv.manifest.json"}', "not a list export"),
    (b'{"name": "viral", "path": "viral.csv", "list_version": "v\\"\\r\\nX-Evil: 1"}', "malformed 'list_version'"),
])
def test_a_malformed_sidecar_breaks_that_list_only(own_ws, sidecar, fault):
    (lists_dir(own_ws) / "viral.csv.manifest.json").write_bytes(sidecar)
    c = TestClient(create_app(own_ws))
    for path in ("/runs/latest/lists/viral", "/runs/latest/lists/viral.csv"):
        r = c.get(path)
        assert r.status_code == 500 and "viral" in r.json()["error"] and fault in r.json()["error"], r.text
        assert b"root:" not in r.content and b"items" not in r.content
        no_paths(own_ws, r.content)
    assert c.get("/runs/latest/lists/retention").status_code == 200  # the other lists are served
    assert c.get("/runs/latest/lists/retention.csv").content == (lists_dir(own_ws) / "retention.csv").read_bytes()
    run = c.get("/runs").json()["runs"][0]
    assert set(run["lists"]) == {"retention", "community", "acquisition"}
    assert [u["name"] for u in run["unreadable"]] == ["viral"] and fault in run["unreadable"][0]["error"]
    r = c.get("/runs/latest/lists")
    assert r.status_code == 200 and {m["name"] for m in r.json()["lists"]} == {"retention", "community", "acquisition"}
    assert [u["name"] for u in r.json()["unreadable"]] == ["viral"]
    no_paths(own_ws, c.get("/runs").content + r.content)


def test_a_corrupt_list_file_breaks_that_list_only(own_ws):
    (lists_dir(own_ws) / "viral.csv").write_bytes(b'list,rank,id\n"unterminated\n')
    c = TestClient(create_app(own_ws))
    r = c.get("/runs/latest/lists/viral")
    assert r.status_code == 500 and "cannot be read" in r.json()["error"]
    no_paths(own_ws, r.content)
    assert c.get("/runs/latest/lists/community").status_code == 200
    r = c.get("/runs/latest/lists")  # its rows cannot be counted: named unreadable, the others counted
    assert r.status_code == 200 and {m["name"] for m in r.json()["lists"]} == {"retention", "community", "acquisition"}
    [broken] = r.json()["unreadable"]
    assert broken["name"] == "viral" and broken["error"].startswith("its file cannot be read (")
    no_paths(own_ws, r.content)


def test_a_broken_run_manifest_is_marked_and_its_lists_still_served(own_ws):
    (own_ws.run_dirs()[-1] / "manifest.json").write_text("{oops")
    c = TestClient(create_app(own_ws))
    run = c.get("/runs").json()["runs"][0]
    assert "run manifest cannot be read" in run["error"] and "viral" in run["lists"]
    assert c.get("/runs/latest/lists/viral").status_code == 200


def test_a_symlink_leading_out_of_the_run_is_refused(own_ws, tmp_path):
    secret = tmp_path / "secret.csv"
    secret.write_text("list,rank,id\nsecret,1,do-not-leak\n")
    lists = lists_dir(own_ws)
    (lists / "viral.csv").unlink()
    (lists / "viral.csv").symlink_to(secret)  # same sidecar, its file now leads outside
    (lists / "leak.csv").symlink_to(own_ws.run_dirs()[-1] / "subscribers.parquet")  # in the run, not in lists/
    write_json(lists / "leak.csv.manifest.json", {"name": "leak", "path": "leak.csv"})
    outside_sidecar = tmp_path / "community.csv.manifest.json"  # a sidecar that is a symlink out of lists/
    shutil.move(lists / "community.csv.manifest.json", outside_sidecar)
    (lists / "community.csv.manifest.json").symlink_to(outside_sidecar)
    c = TestClient(create_app(own_ws))
    for name in ("viral", "leak", "community"):
        for path in (f"/runs/latest/lists/{name}", f"/runs/latest/lists/{name}.csv"):
            r = c.get(path)
            assert r.status_code == 500 and "outside the run's lists directory" in r.json()["error"], path
            assert b"do-not-leak" not in r.content
            no_paths(own_ws, r.content)
    assert {u["name"] for u in c.get("/runs").json()["runs"][0]["unreadable"]} == {"viral", "leak", "community"}


def test_a_run_directory_symlinked_from_elsewhere_is_not_served(own_ws, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    real = own_ws.run_dirs()[-1]
    shutil.move(real, elsewhere)
    real.symlink_to(elsewhere, target_is_directory=True)
    r = TestClient(create_app(own_ws)).get("/runs/latest/lists/retention.csv")
    assert r.status_code == 500 and "outside the run's lists directory" in r.json()["error"]


def test_a_symlink_inside_the_lists_directory_is_served(own_ws):
    lists = lists_dir(own_ws)
    (lists / "viral-copy.csv").symlink_to(lists / "viral.csv")
    side = json.loads((lists / "viral.csv.manifest.json").read_text())
    write_json(lists / "viral-copy.csv.manifest.json", {**side, "name": "viral-copy", "path": "viral-copy.csv"})
    r = TestClient(create_app(own_ws)).get("/runs/latest/lists/viral-copy.csv")
    assert r.status_code == 200 and r.content == (lists / "viral.csv").read_bytes()


def test_a_changed_list_file_is_read_again(own_ws):
    c = TestClient(create_app(own_ws))
    first = c.get("/runs/latest/lists/viral.csv").content
    path = lists_dir(own_ws) / "viral.csv"
    lines = first.decode().splitlines(keepends=True)
    path.write_text("".join(lines[:2]))
    os.utime(path, ns=(time.time_ns(), time.time_ns() + 10**9))
    assert c.get("/runs/latest/lists/viral.csv").text == "".join(lines[:2])


# -- time limits -----------------------------------------------------------------------------

def test_a_request_over_its_time_limit_gets_503(mrun):
    class Slow(ListService):
        def served(self, run, name):
            time.sleep(1.5)
            return super().served(run, name)

    c = TestClient(create_app(mrun.workspace, request_timeout=0.2, service=Slow(mrun.workspace)))
    started = time.monotonic()
    r = c.get("/runs/latest/lists/viral")
    assert r.status_code == 503 and "longer than 0.2 s" in r.json()["error"] and time.monotonic() - started < 1.2
    assert c.get("/runs").status_code == 200


def test_server_settings():
    server = ls.make_server(create_app("nowhere"), quiet=True)
    cfg = server.config
    assert cfg.backlog == ls.BACKLOG >= 1024 and cfg.timeout_keep_alive == ls.KEEP_ALIVE_SECONDS
    assert cfg.limit_concurrency == ls.MAX_CONNECTIONS and cfg.timeout_graceful_shutdown


@pytest.fixture()
def live(mrun):
    """The uvicorn server with 1 s timeouts in a thread (the command's is 5 s / 10 s)."""
    sock = ls.bind("127.0.0.1", 0)
    server = ls.make_server(create_app(mrun.workspace), quiet=True, keep_alive=1, head_timeout=1)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    for _ in range(100):
        if server.started:
            break
        time.sleep(0.05)
    yield sock.getsockname()[1]
    server.should_exit = True
    thread.join(10)


def closed_within(port: int, send: bytes = b"") -> tuple[bytes, float]:
    """What the server sends on a connection after ``send``, and when it closed it (seconds)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        started, data = time.monotonic(), b""
        conn.sendall(send)
        while chunk := conn.recv(65536):
            data += chunk
        return data, time.monotonic() - started


@pytest.mark.parametrize("send", [b"", b"GET /runs HTTP/1.1\r\nHost: x\r\n", b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n"],
                         ids=["silent", "partial-head", "idle-after-response"])
def test_idle_connections_are_closed(live, send):
    data, seconds = closed_within(live, send)
    assert seconds < 4
    assert data.startswith(b"HTTP/1.1 200") == send.endswith(b"\r\n\r\n")


# -- the command, as a real process -------------------------------------------------------------

def http(url: str, headers: dict[str, str] | None = None) -> tuple[int, Any, bytes]:
    """Status, headers (case-insensitive) and body of a GET with urllib."""
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, resp.headers, resp.read()
    except urllib.error.HTTPError as err:
        return err.code, err.headers, err.read()


def test_command_serves_real_http_until_stopped(mrun, tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "BELLWETHER_API_TOKEN": TOKEN}
    proc = subprocess.Popen([sys.executable, "-m", "bellwether.cli", "serve", "--workspace", str(mrun.workspace.root),
                             "--port", str(port), "--quiet"], cwd=tmp_path, env=env, stderr=subprocess.PIPE, text=True)
    base, auth = f"http://127.0.0.1:{port}", {"Authorization": f"Bearer {TOKEN}"}
    try:
        for _ in range(200):
            try:
                status, _, body = http(f"{base}/health")
                break
            except urllib.error.URLError:
                assert proc.poll() is None, proc.stderr.read()
                time.sleep(0.1)
        assert status == 200 and json.loads(body) == {"status": "ok"}
        status, headers, body = http(f"{base}/runs/latest/lists/retention?limit=3&offset=1", auth)
        exported = read_table(mrun.run_dir / "lists" / "retention.csv")
        assert status == 200 and [r["id"] for r in json.loads(body)["items"]] == exported["id"].iloc[1:4].tolist()
        status, headers, body = http(f"{base}/runs/latest/lists/retention.csv", auth)
        assert status == 200 and body == (mrun.run_dir / "lists" / "retention.csv").read_bytes()
        assert http(f"{base}/runs/latest/lists/retention.csv", {**auth, "If-None-Match": headers["ETag"]})[0] == 304
        status, _, body = http(f"{base}/runs/latest/lists/retention.csv")
        assert status == 401 and b"Bearer" in body and b"retention," not in body
        assert http(f"{base}/runs", {"Authorization": "Bearer nope"})[0] == 401
        assert http(f"{base}/openapi.json")[0] == 200
    finally:
        proc.terminate()
        proc.wait(timeout=15)
    assert proc.returncode == 0 and f"127.0.0.1:{port}" in proc.stderr.read()

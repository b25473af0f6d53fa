"""Latency and throughput of `bellwether serve` (FastAPI + uvicorn) against the old http.server service, 50 clients.

Run: ``flock /tmp/bellwether-heavy.lock python -m bench.bench_serve``
(options: ``--requests 2000 --clients 50 --subscribers 5000 --workspace WS``)

Builds a small workspace with ``bellwether demo --subscribers 5000`` (in a temporary
folder, unless ``--workspace`` names one with lists), then for each service, the new
one (``bellwether serve`` as a subprocess) and the baseline (the ``http.server``
implementation this project had before, kept *only here* for the comparison, also
as a subprocess), sends ``--requests`` GETs from ``--clients`` concurrent clients
(httpx2, one pooled connection per client) to 127.0.0.1, for a JSON page
(``/runs/latest/lists/retention?limit=100``) and for the whole CSV list
(``/runs/latest/lists/retention.csv``), and prints: service, endpoint, requests,
failed, throughput, p50 and p99 latency.  A request fails on any status but 200, on
a connection error, on its 30 s timeout, or when the scenario's 240 s deadline
passes before it is sent.  Targets: no failed request on the new service, and its
p99 at most a tenth of the baseline's.  Everything stops by itself.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import numpy as np

ENDPOINTS = {
    "JSON page": "/runs/latest/lists/retention?limit=100&offset=0",
    "CSV list": "/runs/latest/lists/retention.csv",
}
REQUEST_TIMEOUT = 30.0
SCENARIO_DEADLINE = 240.0


# =============================================================================================
# BASELINE ONLY: the old `bellwether serve`, as at the commit before the FastAPI service
# (graph/list_service.py and cli/serve.py of that commit, trimmed to what serving needs).
# Python's ThreadingHTTPServer: listen backlog 5, HTTP/1.0 (a connection per request), no
# timeouts.  Never used by the project; kept here so the comparison is measured in one run.
# =============================================================================================

def _baseline_server(workspace: str, port: int):  # noqa: C901 (a verbatim copy, kept whole)
    import csv
    import hashlib
    import hmac
    import io
    import json
    from dataclasses import dataclass, field
    from http import HTTPStatus
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    from typing import Any
    from urllib.parse import parse_qs, unquote, urlsplit

    import pandas as pd

    from bellwether.graph.core.errors import BellwetherError
    from bellwether.graph.exports import read_table
    from bellwether.graph.core.workspace import Workspace, read_json

    manifest_suffix = ".manifest.json"

    class ListNotFound(BellwetherError):
        pass

    class ListsUnavailable(BellwetherError):
        pass

    @dataclass(frozen=True)
    class ServedList:
        rows: pd.DataFrame
        manifest: dict[str, Any]
        path: Path
        held_back: frozenset[str]
        version: str

    def _csv_records(text: str) -> tuple[str, list[str]]:
        lines: list[str] = []

        def feed():
            for line in io.StringIO(text, newline=""):
                lines.append(line)
                yield line

        reader = csv.reader(feed())
        ends = [len(lines) for _ in reader]
        header = "".join(lines[: ends[0]]) if ends else ""
        records = ["".join(lines[a:b]) for a, b in zip(ends, ends[1:])]
        return header, records

    def _field(record: str, idx: int) -> str | None:
        row = next(csv.reader([record]), [])
        return row[idx] if idx < len(row) else None

    @dataclass(frozen=True)
    class ListService:
        workspace: Workspace
        _dnc_cache: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

        def runs(self) -> list[dict[str, Any]]:
            out = []
            for run_dir in reversed(self.workspace.run_dirs()):
                manifest = read_json(run_dir / "manifest.json")
                out.append({"run": run_dir.name, "as_of": manifest.get("as_of"), "created": manifest.get("created"),
                            "lists": [m["name"] for m in self._manifests(run_dir)]})
            return out

        def run_dir(self, run: str) -> Path:
            runs = self.workspace.run_dirs()
            if run == "latest":
                if not runs:
                    raise ListNotFound(f"No analysis run in workspace {self.workspace.root} yet.")
                return runs[-1]
            for r in runs:
                if r.name == run:
                    return r
            raise ListNotFound(f"No run {run!r} in workspace {self.workspace.root}.")

        def lists(self, run: str) -> list[dict[str, Any]]:
            keep = ("name", "list", "list_version", "rows", "format", "created", "as_of", "suppressed_total", "score")
            return [{k: m.get(k) for k in keep if k in m} for m in self._manifests(self.run_dir(run))]

        def do_not_contact(self) -> frozenset[str]:
            from bellwether.loaders.do_not_contact import DoNotContactUnavailable, current_do_not_contact

            path = self.workspace.do_not_contact_path
            try:
                st = path.stat()
                stamp = (st.st_ino, st.st_mtime_ns, st.st_size)
            except FileNotFoundError:
                stamp = None
            cached = self._dnc_cache.get("entry")
            if stamp is not None and cached is not None and cached[0] == stamp:
                return cached[1]
            try:
                ids = current_do_not_contact(self.workspace)
            except DoNotContactUnavailable as exc:
                raise ListsUnavailable(str(exc)) from None
            if stamp is not None:
                self._dnc_cache["entry"] = (stamp, ids)
            return ids

        def served(self, run: str, name: str) -> ServedList:
            path, manifest = self._find(run, name)
            dnc = self.do_not_contact()
            df = read_table(path)
            held: frozenset[str] = frozenset()
            if dnc and "id" in df.columns:
                hit = df["id"].astype(str).isin(dnc).to_numpy(bool)
                if hit.any():
                    held = frozenset(df.loc[hit, "id"].astype(str))
                    df = df.loc[~hit].reset_index(drop=True)
            version = str(manifest.get("list_version", ""))
            if held:
                version += "-" + hashlib.sha256("\n".join(sorted(held)).encode()).hexdigest()[:8]
            return ServedList(df, manifest, path, held, version)

        def csv_bytes(self, served: ServedList, offset: int = 0, limit: int | None = None) -> bytes:
            if served.path.suffix.lower() != ".csv":
                return served.rows.iloc[offset: None if limit is None else offset + limit].to_csv(index=False).encode()
            raw = served.path.read_bytes()
            if not served.held_back and offset == 0 and limit is None:
                return raw
            header, records = _csv_records(raw.decode("utf-8"))
            if served.held_back:
                idx = next(csv.reader([header])).index("id")
                records = [r for r in records if _field(r, idx) not in served.held_back]
            part = records[offset: None if limit is None else offset + limit]
            return (header + "".join(part)).encode("utf-8")

        def _find(self, run: str, name: str) -> tuple[Path, dict[str, Any]]:
            run_dir = self.run_dir(run)
            for manifest in self._manifests(run_dir):
                if manifest["name"] == name:
                    return run_dir / "lists" / manifest["path"], manifest
            raise ListNotFound(f"No list {name!r} in run {run_dir.name}.")

        @staticmethod
        def _manifests(run_dir: Path) -> list[dict[str, Any]]:
            lists = run_dir / "lists"
            if not lists.is_dir():
                return []
            out = []
            for side in sorted(lists.glob(f"*{manifest_suffix}")):
                manifest = read_json(side)
                manifest.setdefault("path", side.name[: -len(manifest_suffix)])
                manifest.setdefault("name", manifest.get("list", Path(manifest["path"]).stem))
                out.append(manifest)
            return out

    class _BadRequest(Exception):
        pass

    def _int_param(query: dict[str, list[str]], name: str, default: int | None) -> int | None:
        raw = query.get(name, [None])[-1]
        if raw is None or raw == "":
            return default
        try:
            value = int(raw)
        except ValueError:
            raise _BadRequest(f"{name} must be a whole number, got {raw!r}") from None
        if value < 0:
            raise _BadRequest(f"{name} must be >= 0, got {value}")
        return value

    service, token = ListService(Workspace(Path(workspace))), None

    class ListHandler(BaseHTTPRequestHandler):
        server_version = "bellwether"

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass  # --quiet

        def _send(self, status: int, body: bytes, content_type: str, headers: dict[str, str] | None = None) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def _json(self, status: int, data: Any, headers: dict[str, str] | None = None) -> None:
            body = json.dumps(data, ensure_ascii=False, default=str).encode("utf-8")
            self._send(status, body, "application/json; charset=utf-8", headers)

        def _error(self, status: HTTPStatus, message: str) -> None:
            self._json(status, {"error": message, "status": int(status)})

        def _authorised(self) -> bool:
            if not token:
                return True
            given = self.headers.get("Authorization", "")
            return given.startswith("Bearer ") and hmac.compare_digest(given[7:].encode(), token.encode())

        def do_GET(self) -> None:  # noqa: N802
            url = urlsplit(self.path)
            parts = [unquote(p) for p in url.path.split("/") if p]
            query = parse_qs(url.query)
            if parts == ["health"]:
                return self._json(HTTPStatus.OK, {"status": "ok"})
            if not self._authorised():
                return self._error(HTTPStatus.UNAUTHORIZED, "send the API token as `Authorization: Bearer <token>`")
            try:
                if parts == ["runs"]:
                    return self._json(HTTPStatus.OK, {"runs": service.runs()})
                if len(parts) == 3 and parts[0] == "runs" and parts[2] == "lists":
                    return self._json(HTTPStatus.OK, {"run": service.run_dir(parts[1]).name,
                                                      "lists": service.lists(parts[1])})
                if len(parts) == 4 and parts[0] == "runs" and parts[2] == "lists":
                    return self._list(parts[1], parts[3], query)
                return self._error(HTTPStatus.NOT_FOUND, f"no endpoint {url.path}; see /")
            except ListNotFound as exc:
                return self._error(HTTPStatus.NOT_FOUND, str(exc))
            except ListsUnavailable as exc:
                return self._error(HTTPStatus.SERVICE_UNAVAILABLE, str(exc))
            except _BadRequest as exc:
                return self._error(HTTPStatus.BAD_REQUEST, str(exc))

        def _list(self, run: str, name: str, query: dict[str, list[str]]) -> None:
            as_csv = name.endswith(".csv") or query.get("format", [""])[-1] == "csv"
            name = name.removesuffix(".csv").removesuffix(".json")
            offset = _int_param(query, "offset", 0)
            limit = _int_param(query, "limit", None)
            served = service.served(run, name)
            df, manifest = served.rows, served.manifest
            etag = f'"{served.version}"'
            if self.headers.get("If-None-Match") == etag:
                self.send_response(HTTPStatus.NOT_MODIFIED)
                self.send_header("ETag", etag)
                self.end_headers()
                return
            part = df.iloc[offset: None if limit is None else offset + limit]
            headers = {"ETag": etag, "X-Total-Count": str(len(df))}
            if served.held_back:
                headers["X-Held-Back"] = str(len(served.held_back))
            if as_csv:
                return self._send(HTTPStatus.OK, service.csv_bytes(served, offset, limit), "text/csv; charset=utf-8",
                                  {**headers, "Content-Disposition": f'attachment; filename="{name}.csv"'})
            items = json.loads(part.to_json(orient="records", force_ascii=False))
            self._json(HTTPStatus.OK, {
                "run": manifest.get("run_id"), "list": name, "list_version": manifest.get("list_version"),
                "as_of": manifest.get("as_of"), "total": len(df), "held_back": len(served.held_back),
                "offset": offset, "limit": limit, "items": items,
            }, headers)

    server = ThreadingHTTPServer(("127.0.0.1", port), ListHandler)
    server.daemon_threads = True
    return server


def _run_baseline(workspace: str, port: int) -> None:
    """Child process: the baseline server until SIGTERM."""
    server = _baseline_server(workspace, port)
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


# =============================================================================================
# The measurement
# =============================================================================================

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(kind: str, workspace: Path) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k != "BELLWETHER_API_TOKEN"}
    if kind == "new":
        cmd = [sys.executable, "-m", "bellwether.cli", "serve", "--workspace", str(workspace), "--port", str(port), "--quiet"]
    else:
        cmd = [sys.executable, "-m", "bench.bench_serve", "--baseline-server", str(workspace), "--port", str(port)]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the {kind} service did not start: {proc.stderr.read()}")
        try:
            with urllib.request.urlopen(f"{base}/health", timeout=2) as resp:
                if resp.status == 200:
                    return proc, base
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit(f"the {kind} service did not answer within 60 s")


def _stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)


async def _load(url: str, requests: int, clients: int) -> dict[str, float]:
    """``requests`` GETs of ``url`` from ``clients`` concurrent clients; latency of each, failures counted."""
    import httpx2

    latencies: list[float] = []
    failed = 0
    sent = 0
    limits = httpx2.Limits(max_connections=clients, max_keepalive_connections=clients)
    deadline = time.monotonic() + SCENARIO_DEADLINE
    async with httpx2.AsyncClient(limits=limits, timeout=REQUEST_TIMEOUT) as http:
        for _ in range(10):  # warm-up, not counted
            await http.get(url)

        async def client() -> None:
            nonlocal failed, sent
            while sent < requests and time.monotonic() < deadline:
                sent += 1
                t0 = time.perf_counter()
                try:
                    resp = await http.get(url)
                    ok = resp.status_code == 200 and len(resp.content) > 0
                except httpx2.HTTPError:
                    ok = False
                if ok:
                    latencies.append(time.perf_counter() - t0)
                else:
                    failed += 1

        started = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(clients)))
        wall = time.perf_counter() - started
    failed += requests - sent  # never sent before the deadline
    lat = np.array(latencies) * 1000 if latencies else np.array([np.nan])
    return {"requests": requests, "failed": failed, "throughput": len(latencies) / wall,
            "p50": float(np.percentile(lat, 50)), "p99": float(np.percentile(lat, 99))}


def _workspace(args: argparse.Namespace, scratch: Path) -> Path:
    if args.workspace is not None:
        return args.workspace
    out = scratch / "demo"
    done = subprocess.run([sys.executable, "-m", "bellwether.cli", "demo", "--subscribers", str(args.subscribers),
                           "--out", str(out), "--quiet"], capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        raise SystemExit(f"bellwether demo failed:\n{done.stderr[-2000:]}")
    return out / "workspace"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000, help="Requests per service and endpoint.")
    parser.add_argument("--clients", type=int, default=50, help="Concurrent clients.")
    parser.add_argument("--subscribers", type=int, default=5000, help="Size of the demo operator.")
    parser.add_argument("--workspace", type=Path, help="Use this workspace (with lists) instead of a fresh demo.")
    parser.add_argument("--baseline-server", metavar="WS", help=argparse.SUPPRESS)  # child process: the old service
    parser.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.baseline_server:
        return _run_baseline(args.baseline_server, args.port)
    if not 1 <= args.clients <= 200 or not 1 <= args.requests <= 20000:
        raise SystemExit("--clients must be 1..200 and --requests 1..20000 (the load stays bounded)")

    load_before = os.getloadavg()[0]
    scratch = Path(tempfile.mkdtemp(prefix="bench_serve-"))
    try:
        ws = _workspace(args, scratch)
        rows = []
        for kind, label in (("old", "old http.server"), ("new", "FastAPI + uvicorn")):
            proc, base = _start(kind, ws)
            try:
                for endpoint, path in ENDPOINTS.items():
                    rows.append((label, endpoint, asyncio.run(_load(base + path, args.requests, args.clients))))
            finally:
                _stop(proc)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)

    print(f"\nbench_serve: {args.requests:,} GETs per row from {args.clients} concurrent clients on 127.0.0.1 "
          f"(httpx2, pooled); JSON page = {ENDPOINTS['JSON page']}; load average {load_before:.1f} before, "
          f"{os.getloadavg()[0]:.1f} after, on {os.cpu_count()} cores")
    print(f"{'service':<20}{'endpoint':<11}{'requests':>9}{'failed':>8}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}")
    for label, endpoint, r in rows:
        print(f"{label:<20}{endpoint:<11}{r['requests']:>9,}{r['failed']:>8,}{r['throughput']:>9.0f}"
              f"{r['p50']:>9.1f}{r['p99']:>9.1f}")
    old = {e: r for lab, e, r in rows if lab.startswith("old")}
    new = {e: r for lab, e, r in rows if not lab.startswith("old")}
    for endpoint in ENDPOINTS:
        ratio = new[endpoint]["p99"] / old[endpoint]["p99"]
        ok = new[endpoint]["failed"] == 0 and ratio <= 0.1
        print(f"{endpoint}: new p99 = {ratio:.3f} x old, {new[endpoint]['failed']} failed -> "
              f"{'target met' if ok else 'TARGET MISSED'} (no failure, p99 <= 0.1 x old)")


if __name__ == "__main__":
    main()

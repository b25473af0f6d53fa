"""`bellwether serve`: the target lists of a workspace over HTTP, read-only, for marketing tools.

Endpoints (JSON unless the path ends in ``.csv`` or ``?format=csv``)::

    GET /health                                  {"status": "ok"}
    GET /runs                                    runs, newest first, with the names of their lists
    GET /runs/{run}/lists                        a run's lists: name, version, rows, rows held back
    GET /runs/{run}/lists/{name}?limit=&offset=  rows of one list as exported (``latest`` = newest run)
    GET /runs/{run}/lists/{name}.csv             the same rows as CSV

Every list is checked against the workspace's do-not-contact list at each request:
anyone on it now is left out (a CSV is the exported file without their lines), and
when that list cannot be read no list is served (503).  A list's ``ETag`` is its
``list_version`` (with a suffix when rows were left out); ``If-None-Match`` answers 304.  With
``BELLWETHER_API_TOKEN`` (or ``api_token`` in bellwether.toml) set, every request
but ``/health`` needs ``Authorization: Bearer <token>``.  Python's standard
``ThreadingHTTPServer``: put a TLS proxy in front for anything beyond a trusted network.
"""

from __future__ import annotations

import hmac
import json
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Annotated, Any
from urllib.parse import parse_qs, unquote, urlsplit

import typer

from cli.common import ConfigOpt, QuietOpt, WorkspaceOpt, settings, workspace
from graph.list_service import ListNotFound, ListService, ListsUnavailable

__all__ = ["make_server", "register"]


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


def make_handler(service: ListService, token: str | None, quiet: bool = False) -> type[BaseHTTPRequestHandler]:
    """A request handler class bound to ``service`` (and to ``token`` when given)."""

    class ListHandler(BaseHTTPRequestHandler):
        server_version = "bellwether"

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (the base class's name)
            if not quiet:
                super().log_message(format, *args)

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

        def do_HEAD(self) -> None:  # noqa: N802 (http.server's naming)
            self.do_GET()

        def do_GET(self) -> None:  # noqa: N802
            url = urlsplit(self.path)
            parts = [unquote(p) for p in url.path.split("/") if p]
            query = parse_qs(url.query)
            if parts == ["health"]:
                return self._json(HTTPStatus.OK, {"status": "ok"})
            if not self._authorised():
                return self._error(HTTPStatus.UNAUTHORIZED, "send the API token as `Authorization: Bearer <token>`")
            try:
                if not parts:
                    return self._json(HTTPStatus.OK, {"endpoints": ["/health", "/runs", "/runs/{run}/lists",
                                                                    "/runs/{run}/lists/{name}[.csv]"]})
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
            except ListsUnavailable as exc:  # fail-closed: never an unchecked list
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

    return ListHandler


def make_server(service: ListService, host: str = "127.0.0.1", port: int = 8000, token: str | None = None,
                quiet: bool = False) -> ThreadingHTTPServer:
    """An HTTP server answering the endpoints of this module (``port=0`` picks a free port)."""
    server = ThreadingHTTPServer((host, port), make_handler(service, token, quiet))
    server.daemon_threads = True
    return server


def serve(
    workspace_path: WorkspaceOpt = None,
    config: ConfigOpt = None,
    host: Annotated[str, typer.Option("--host", help="Address to listen on (0.0.0.0 for every interface).")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", "-p", min=0, max=65535, help="Port to listen on.")] = 8000,
    quiet: QuietOpt = False,
) -> None:
    """Serve the workspace's target lists over HTTP (read-only JSON and CSV) until Ctrl-C.

    GET /runs, /runs/{run}/lists and /runs/{run}/lists/{name}[.csv]?limit=&offset=
    (`latest` names the newest run). Set BELLWETHER_API_TOKEN to require
    `Authorization: Bearer <token>`.
    Example: `bellwether serve --workspace ws --port 8000`, then `curl localhost:8000/runs/latest/lists/viral.csv`.
    """
    cfg = settings(config)
    ws = workspace(workspace_path, cfg)
    server = make_server(ListService(ws), host, port, cfg.api_token, quiet)
    bound_host, bound_port = server.server_address[:2]
    typer.echo(f"serving the lists of {ws.root} on http://{bound_host}:{bound_port}/runs "
               f"({'token required' if cfg.api_token else 'no token'}); Ctrl-C stops", err=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)

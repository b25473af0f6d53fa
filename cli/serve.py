"""`bellwether serve`: the target lists of a workspace over HTTP, read-only, for marketing tools.

The service itself is :func:`bellwether.graph.list_service.create_app` (FastAPI, OpenAPI schema at
``/openapi.json``) run by uvicorn (:func:`bellwether.graph.list_service.serve`); this command only
parses its options, builds the app and runs it.  Endpoints::

    GET /health                                  {"status": "ok"} (no token needed)
    GET /runs                                    runs, newest first, with the names of their lists
    GET /runs/{run}/lists                        a run's lists: name, version, rows, rows held back
    GET /runs/{run}/lists/{name}?limit=&offset=  rows of one list as exported (``latest`` = newest run)
    GET /runs/{run}/lists/{name}.csv             the same rows as CSV, byte for byte as exported

Every list is checked against the workspace's do-not-contact list at each request:
anyone on it now is left out (a CSV is the exported file without their lines), and
when that list cannot be read no list is served (503).  A list's ``ETag`` is its
``list_version`` (with a suffix when rows were left out); ``If-None-Match`` answers 304.
With ``BELLWETHER_API_TOKEN`` (or ``api_token`` in bellwether.toml) set, every request
but ``/health`` and ``/openapi.json`` needs ``Authorization: Bearer <token>``; without
one the command refuses any address beyond loopback.
"""

from __future__ import annotations

from typing import Annotated

import typer

from bellwether.cli.common import ConfigOpt, QuietOpt, WorkspaceOpt, settings, workspace

__all__ = ["register", "serve"]


def serve(
    workspace_path: WorkspaceOpt = None,
    config: ConfigOpt = None,
    host: Annotated[str, typer.Option("--host", help="Address to listen on; beyond loopback (e.g. 0.0.0.0) "
                                                      "only with BELLWETHER_API_TOKEN set.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", "-p", min=0, max=65535, help="Port to listen on (0: a free one).")] = 8000,
    quiet: QuietOpt = False,
) -> None:
    """Serve the workspace's target lists over HTTP (read-only JSON and CSV) until Ctrl-C.

    GET /runs, /runs/{run}/lists and /runs/{run}/lists/{name}[.csv]?limit=&offset=
    (`latest` names the newest run); the OpenAPI schema is at /openapi.json. Set
    BELLWETHER_API_TOKEN to require `Authorization: Bearer <token>` (required to listen
    beyond 127.0.0.1). Idle connections close after 5 s, a request gets 30 s.
    Example: `bellwether serve --workspace ws --port 8000`, then `curl localhost:8000/runs/latest/lists/viral.csv`.
    """
    from bellwether.graph import list_service as ls

    cfg = settings(config)
    ls.check_exposure(host, cfg.api_token)
    ws = workspace(workspace_path, cfg)
    app = ls.create_app(ws, token=cfg.api_token)
    sock = ls.bind(host, port)
    bound_host, bound_port = sock.getsockname()[:2]
    shown = f"[{bound_host}]" if ":" in bound_host else bound_host
    typer.echo(f"serving the lists of {ws.root} on http://{shown}:{bound_port}/runs "
               f"({'token required' if cfg.api_token else 'no token'}); Ctrl-C stops", err=True)
    ls.serve(app, sock, quiet=quiet)


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)

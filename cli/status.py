"""`bellwether status`: what the workspace holds (loads, rejects, graph) and the last reveals of phone numbers."""

from __future__ import annotations

import json
from typing import Any

import typer
from rich.console import Console

from bellwether.algorithms.crm import CRM_ABSENT_NOTE
from bellwether.cli.common import ConfigOpt, JsonOpt, WorkspaceOpt, settings, workspace
from bellwether.graph.core.workspace import Workspace, WorkspaceError, read_json


def require_workspace(ws: Workspace) -> None:
    """Raise :class:`WorkspaceError` saying what to run when ``ws`` holds no load manifest and no graph."""
    if ws.manifest_path.exists() or ws.has_graph():
        return
    what = "does not exist" if not ws.root.exists() else "holds no load manifest and no graph"
    raise WorkspaceError(f"Workspace {ws.root} {what}: run `bellwether build CDR_FILES --workspace {ws.root}` first.")


#: Reveal audit records shown by `bellwether status`.
SHOWN_REVEALS = 5


def workspace_status(ws: Workspace) -> dict[str, Any]:
    """Counts of a workspace: records loaded and rejected per reason, duplicates, subscribers, graph, inputs,
    and the last :data:`SHOWN_REVEALS` reveal audit records (``reveals``, with ``reveals_total``)."""
    from bellwether.algorithms.targets.reveal import read_audit
    from bellwether.loaders.manifest import read_manifest

    m = read_manifest(ws)
    inputs = list(m["inputs"].values())
    loaded = [e for e in inputs if e.get("status") == "loaded"]
    rejects: dict[str, int] = {}
    for e in inputs:
        for k, v in e.get("rejects", {}).items():
            rejects[k] = rejects.get(k, 0) + v
    info = read_json(ws.graph_info_path) if ws.graph_info_path.exists() else None
    reveals = read_audit(ws)
    return {
        "workspace": str(ws.root),
        "pseudonymized": m.get("pseudonymized"),
        "country_code": m.get("country_code"),
        "records": sum(e.get("records", 0) for e in loaded),
        "rows": sum(e.get("rows", 0) for e in inputs),
        "rejected_rows": sum(e.get("rejected_rows", 0) for e in inputs),
        "rejects": rejects,
        "duplicates": sum(e.get("duplicates", 0) for e in loaded),
        "inputs": [{k: e.get(k) for k in ("name", "path", "sha256", "status", "rows", "records", "rejected_rows", "rejects",
                                          "duplicates", "first_record", "last_record", "loaded_at", "message")} for e in inputs],
        "subscriber_extracts": [{k: e.get(k) for k in ("name", "sha256", "status", "rows", "records", "rejected_rows", "seq")}
                                for e in m["subscribers"].values()],
        "do_not_contact": m.get("do_not_contact", {}).get("ids"),
        "graph": None if info is None else {k: info.get(k) for k in (
            "as_of", "window_days", "subscribers", "on_net", "off_net", "service_in_graph", "service_numbers", "contacts", "built_at")},
        "reveals_total": len(reveals),
        "reveals": reveals[-SHOWN_REVEALS:],
    }


def status(workspace_dir: WorkspaceOpt = None, as_json: JsonOpt = False, config: ConfigOpt = None) -> None:
    """Show what the workspace holds: inputs loaded, rows rejected per reason, duplicates, the graph's counts.

    Example: bellwether status --workspace ws --json
    """
    ws = workspace(workspace_dir, settings(config))
    require_workspace(ws)
    s = workspace_status(ws)
    if as_json:
        typer.echo(json.dumps(s, indent=2, default=str))
        return
    out = Console()
    pseudo = {True: "yes", False: "no"}.get(s["pseudonymized"], "unknown")
    out.print(f"workspace {s['workspace']} (pseudonymized: {pseudo})", highlight=False)
    out.print(f"records {s['records']:,}; rejected rows {s['rejected_rows']:,} "
              f"({', '.join(f'{k} {v}' for k, v in sorted(s['rejects'].items())) or 'none'}); duplicates {s['duplicates']:,}", highlight=False)
    for e in s["inputs"]:
        out.print(f"  {e['status']:7} {e['name']}: {e['rows']:,} rows, {e['records']:,} records", highlight=False)
    crm = [e for e in s["subscriber_extracts"] if e.get("status") == "loaded"]
    if not crm:
        out.print(CRM_ABSENT_NOTE, highlight=False)
    g = s["graph"]
    if g:
        who = (f"{g['on_net']:,} on-net, {g['off_net']:,} off-net" if crm else "on-net unknown")
        out.print(f"graph as_of {g['as_of']} window {g['window_days']} days: {g['subscribers']:,} subscribers "
                  f"({who}, {g['service_in_graph']:,} service), "
                  f"{g['contacts']:,} contacts, {g['service_numbers']:,} service numbers", highlight=False)
    else:
        out.print("no graph yet: run `bellwether build`", highlight=False)
    if s["reveals"]:
        out.print(f"phone numbers revealed (last {len(s['reveals'])} of {s['reveals_total']}, audit/reveals.jsonl):", highlight=False)
        for r in s["reveals"]:
            if r.get("unreadable"):
                out.print("  (an unreadable line in the audit log)", highlight=False)
                continue
            out.print(f"  {r.get('at')} {r.get('user')}@{r.get('host')}: {r.get('list')} list (version "
                      f"{r.get('list_version')}, run {r.get('run')}), {r.get('rows_written', 0):,} numbers to {r.get('output')}; "
                      f"held back do-not-contact {r.get('held_back_do_not_contact', 0):,}, churned "
                      f"{r.get('held_back_churned', 0):,}; no number {r.get('no_crm_number', 0):,}", highlight=False, soft_wrap=True)


def register(app: typer.Typer) -> None:
    app.command("status")(status)

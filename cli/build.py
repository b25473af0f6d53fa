"""`bellwether build`: load CDR files (and a subscriber extract) into a workspace and build the contact graph."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console

from cli.common import AsOfOpt, ConfigOpt, JsonOpt, QuietOpt, WorkspaceOpt, settings, workspace
from graph.errors import BellwetherError


def _mapping(items: list[str]) -> dict[str, str]:
    out = {}
    for item in items:
        if "=" not in item:
            raise typer.BadParameter(f"--map expects column=NAME, got {item!r}")
        k, v = item.split("=", 1)
        out[k.strip()] = v.strip()
    return out


def build(
    cdr: Annotated[list[Path], typer.Argument(help="CDR files or directories (searched for *.csv, *.csv.gz, *.parquet).")],
    subscribers: Annotated[Optional[Path], typer.Option("--subscribers", help="Subscriber extract (CRM) CSV/Parquet.")] = None,
    do_not_contact: Annotated[Optional[Path], typer.Option("--do-not-contact", help="Do-not-contact file (column msisdn).")] = None,
    workspace_dir: WorkspaceOpt = None,
    fmt: Annotated[str, typer.Option("--format", help="Input layout: generic or bandicoot.")] = "generic",
    map_: Annotated[Optional[list[str]], typer.Option("--map", help="Map a column to the file's name, e.g. caller=A_NUMBER (repeatable).")] = None,
    delimiter: Annotated[Optional[str], typer.Option("--delimiter", help="CSV delimiter [default: sniffed].")] = None,
    country_code: Annotated[Optional[str], typer.Option("--country-code", help="Country code of national numbers [default: setting, 86].")] = None,
    key_file: Annotated[Optional[Path], typer.Option("--key-file", help="File holding the pseudonymisation key [default: $BELLWETHER_PSEUDONYM_KEY].")] = None,
    no_pseudonymize: Annotated[bool, typer.Option("--no-pseudonymize", help="Keep E.164 numbers as ids (recorded in the manifest).")] = False,
    max_reject_ratio: Annotated[Optional[float], typer.Option("--max-reject-ratio", help="A file fails above this share of bad rows [default: 0.01].")] = None,
    as_of: AsOfOpt = None,
    window: Annotated[Optional[int], typer.Option("--window", help="Days of records before as_of in the graph [default: 30].")] = None,
    keep_service_numbers: Annotated[bool, typer.Option("--keep-service-numbers", help="Keep service numbers and their contacts in the graph.")] = False,
    quiet: QuietOpt = False,
    as_json: JsonOpt = False,
    config: ConfigOpt = None,
) -> None:
    """Validate, normalise and pseudonymise CDR files into the workspace, then build the contact graph.

    Bad rows go to the quarantine with file, line, column and reason; a file fails only
    above --max-reject-ratio. Re-loading a file already loaded changes nothing.

    Example: bellwether build data/cdr --subscribers data/subscribers.csv --workspace ws
    """
    from graph.build import build_graph
    from loaders.load import LoadOptions, load
    from loaders.pseudonym import resolve_key

    cfg = settings(config, country_code=country_code, max_reject_ratio=max_reject_ratio, window_days=window,
                   pseudonym_key_file=str(key_file) if key_file else None)
    if key_file:  # an explicit key file wins over the environment
        from dataclasses import replace
        cfg = replace(cfg, pseudonym_key=None)
    ws = workspace(workspace_dir, cfg)
    key = None if no_pseudonymize else resolve_key(cfg)
    err = Console(stderr=True)
    progress = None if (quiet or as_json) else (lambda msg: err.print(msg, highlight=False, soft_wrap=True))
    opts = LoadOptions(key=key, pseudonymize=not no_pseudonymize, fmt=fmt, mapping=_mapping(map_ or []),
                       delimiter=delimiter, country_code=cfg.country_code, max_reject_ratio=cfg.max_reject_ratio,
                       progress=progress)
    summary = load(ws, cdr, subscribers=subscribers, do_not_contact=do_not_contact, options=opts)
    from loaders.manifest import loaded_inputs, read_manifest

    have_records = bool(loaded_inputs(read_manifest(ws)))
    wanted = any(r.status == "loaded" for r in summary.inputs) or not ws.has_graph() or as_of or window or keep_service_numbers
    if have_records and wanted:
        build_graph(ws, as_of=as_of, window_days=cfg.window_days, keep_service_numbers=keep_service_numbers,
                    progress=progress is not None, load=False)
    from graph.workspace import read_json
    graph_info = read_json(ws.graph_info_path) if ws.graph_info_path.exists() else None
    if as_json:
        typer.echo(json.dumps({"workspace": str(ws.root), "load": summary.to_dict(), "graph": graph_info}, indent=2, default=str))
    else:
        out = Console()
        for r in summary.inputs:
            reasons = ", ".join(f"{k} {v}" for k, v in sorted(r.rejects.items())) or "none"
            out.print(f"{r.status:8} {r.kind:14} {r.path}: {r.rows:,} rows, {r.records:,} kept, "
                      f"{r.rejected_rows:,} rejected ({reasons}), {r.duplicates:,} duplicates", highlight=False, soft_wrap=True)
        if graph_info:
            out.print(f"graph as_of {graph_info['as_of']} (window {graph_info['window_days']} days): "
                      f"{graph_info['subscribers']:,} subscribers ({graph_info['on_net']:,} on-net), "
                      f"{graph_info['contacts']:,} contacts, {graph_info['service_numbers']:,} service numbers", highlight=False)
    if summary.failed:
        raise BellwetherError("; ".join(r.message for r in summary.failed))


def register(app: typer.Typer) -> None:
    app.command("build")(build)

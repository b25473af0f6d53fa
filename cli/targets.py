"""`bellwether targets`: retention, viral, community and acquisition lists with reasons, for marketing."""

from __future__ import annotations

import json
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table

from cli.common import ConfigOpt, JsonOpt, QuietOpt, RunOpt, WorkspaceOpt, settings, workspace


class ListChoice(str, Enum):
    retention = "retention"
    viral = "viral"
    community = "community"
    acquisition = "acquisition"
    all = "all"


class FormatChoice(str, Enum):
    csv = "csv"
    parquet = "parquet"
    jsonl = "jsonl"


DEFAULT_TOP = 1000


def targets(
    workspace_path: WorkspaceOpt = None,
    config: ConfigOpt = None,
    run: RunOpt = None,
    which: Annotated[ListChoice, typer.Option("--list", "-l", help="Which list to build; `all` de-duplicates across them.")] = ListChoice.all,
    top: Annotated[Optional[int], typer.Option("--top", "-n", help=f"Rows per list [default: {DEFAULT_TOP} unless --budget is given].")] = None,
    budget: Annotated[Optional[float], typer.Option("--budget", help="Budget per list; with --cost-per-contact caps the rows (a community offer costs members × cost).")] = None,
    cost: Annotated[Optional[float], typer.Option("--cost-per-contact", help="Cost of contacting one person.")] = None,
    segment: Annotated[Optional[list[str]], typer.Option("--segment", "-s", help="Only subscribers with COLUMN=VALUE in segments.parquet (repeatable), e.g. value_tier=high.")] = None,
    fmt: Annotated[FormatChoice, typer.Option("--format", "-f", help="File format of the lists.")] = FormatChoice.csv,
    out: Annotated[Optional[Path], typer.Option("--out", "-o", help="Output folder [default: runs/<id>/lists].")] = None,
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Build target lists for a run and write each with a sidecar manifest (list version, rows held back and why).

    Lists are built in priority order retention > viral > community > acquisition, and a
    person on an earlier list is left off later ones.  Do-not-contact and churned
    subscribers are removed before scoring and checked again at export.
    Example: `bellwether targets --workspace ws --list all --top 500 --segment value_tier=high`.
    """
    from algorithms.segments import load_run
    from algorithms.targets import LIST_NAMES, TargetOptions, build_lists, parse_segment_filter, write_lists

    cfg = settings(config)
    ws = workspace(workspace_path, cfg)
    filters = parse_segment_filter(segment)
    if top is None and budget is None:
        top = DEFAULT_TOP
    tables = load_run(ws, run)
    lists = LIST_NAMES if which is ListChoice.all else (which.value,)
    built = build_lists(tables, lists=lists, options=TargetOptions(top=top, budget=budget, cost_per_contact=cost),
                        segment_filter=filters)
    exports = write_lists(tables, built, fmt.value, out)
    if json_out:
        typer.echo(json.dumps({name: {**e.manifest, "file": str(e.path)} for name, e in exports.items()}, indent=2, default=str))
        return
    if quiet:
        for e in exports.values():
            typer.echo(str(e.path))
        return
    table = Table(title=f"target lists, run {tables.run_id}")
    for col in ("list", "rows", "version", "held back", "why", "file"):
        table.add_column(col, justify="right" if col in ("rows", "held back") else "left")
    for name, e in exports.items():
        m = e.manifest
        why = ", ".join(f"{k.replace('_', ' ')} {v:,}" for k, v in m["suppressed"].items())
        table.add_row(name, f"{m['rows']:,}", m["list_version"], f"{m['suppressed_total']:,}", why, str(e.path))
    console = Console(width=max(Console().width, 130))  # wide enough for the table when piped
    console.print(table)
    for name, e in exports.items():  # a list that could not be made says why, in one line
        if e.manifest.get("empty_because"):
            console.print(f"{name} list is empty: {e.manifest['empty_because']}", highlight=False, soft_wrap=True)
    if "viral" in built:
        sp = built["viral"].info.get("expected_spread") or {}
        if sp.get("mean") is not None and "ci_low" in sp:
            console.print(f"viral list: expected reach {sp['mean']:,.0f} subscribers (95% CI {sp['ci_low']:,.0f}–{sp['ci_high']:,.0f})")


def register(app: typer.Typer) -> None:
    app.command("targets")(targets)

"""`bellwether demo`: the whole flow on a synthetic operator, from CDR files to the marketing report."""

from __future__ import annotations

import json
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Iterator

import typer
from rich.console import Console
from rich.table import Table

from bellwether.cli.common import QuietOpt, SeedOpt
from bellwether.graph.core.settings import DEFAULT_SEED


@contextmanager
def _spinner(console: Console, name: str, quiet: bool) -> Iterator[None]:
    """A spinner while a step runs and a line with its seconds when it ends."""
    start = time.perf_counter()
    if quiet:
        yield
        return
    with console.status(f"{name} …"):
        yield
    console.print(f"[green]✓[/] {name:<10} {time.perf_counter() - start:6.1f} s", highlight=False)


def demo(
    out: Annotated[Path, typer.Option("--out", "-o", help="Directory for the synthetic data and the workspace.")] = Path(
        "demo-output"
    ),
    subscribers: Annotated[int, typer.Option("--subscribers", "-n", help="On-net customers of the synthetic operator.")] = 100000,
    months: Annotated[int, typer.Option("--months", "-m", help="Months of records.")] = 3,
    seed: SeedOpt = None,
    quiet: QuietOpt = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Run the main job end to end on a synthetic operator, with no server.

    generate → build (validate, pseudonymise, aggregate) → analyze (communities, bellwethers,
    influence seeds, churn contagion) → evaluate against the planted truth → segments →
    target lists → HTML report; then prints where everything is.  Each demo starts afresh:
    the data and workspace folders under --out are replaced (the demo key is kept).

    Example: `bellwether demo --out demo-output --subscribers 20000` (a smaller, faster operator).
    """
    from bellwether.algorithms.demo import run_demo

    console = Console(stderr=True)
    summary = run_demo(out, subscribers=subscribers, months=months, seed=DEFAULT_SEED if seed is None else seed,
                       on_step=lambda name: _spinner(console, name, quiet))
    timings = summary["seconds"]
    if as_json:
        typer.echo(json.dumps(summary, indent=2, default=str))
        return
    table = Table(title=f"Bellwether demo: synthetic operator of {subscribers:,} subscribers", show_header=False)
    table.add_row("records loaded / rows quarantined", f"{summary['records_loaded']:,} / {summary['rows_rejected']:,}")
    table.add_row("graph (as_of " + str(summary["as_of"]) + ")", f"{summary['subscribers']:,} subscribers, {summary['contacts']:,} contacts")
    if summary["community_nmi"] is not None:
        table.add_row("communities vs planted (NMI)", f"{summary['community_nmi']:.3f}")
    lifts = summary["churn_lift_10"]
    if lifts:
        table.add_row("churn lift at top 10%", ", ".join(f"{m} {v:.2f}" for m, v in lifts.items() if v is not None))
    if summary["churn_contagion"]:
        table.add_row("does churn spread?", summary["churn_contagion"].get("verdict", ""))
    table.add_row("target lists", ", ".join(f"{name} {e['rows']:,} rows" for name, e in summary["lists"].items()))
    table.add_row("total seconds", f"{sum(timings.values()):.1f}")
    stdout = Console()
    stdout.print(table)
    stdout.print(f"report      {summary['report']}", highlight=False, soft_wrap=True)
    for name, e in summary["lists"].items():
        stdout.print(f"{name:<11} {e['path']}", highlight=False, soft_wrap=True)
    stdout.print(f"workspace   {summary['workspace']}", highlight=False, soft_wrap=True)
    Console().print(f"Next: `bellwether status -w {summary['workspace']}`, `bellwether query --list`, or open the report. "
                    f"The demo's pseudonymisation key is {summary['key_file']} "
                    f"(BELLWETHER_PSEUDONYM_KEY_FILE for further loads into this workspace).", highlight=False, soft_wrap=True)


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)

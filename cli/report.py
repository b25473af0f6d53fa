"""`bellwether report`: one self-contained HTML report of a run, for people who act on it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from bellwether.cli.common import ConfigOpt, QuietOpt, RunOpt, WorkspaceOpt, settings, workspace


def report(
    workspace_path: WorkspaceOpt = None,
    config: ConfigOpt = None,
    run: RunOpt = None,
    out: Annotated[Optional[Path], typer.Option("--out", "-o", help="Where to write the HTML [default: runs/<id>/report.html].")] = None,
    quiet: QuietOpt = False,
) -> None:
    """Write the run's HTML report and print its path.

    One file with inline CSS and SVG charts (no network needed to open it).  It opens with
    what to do: each exported target list with its size, expected impact, rows held back
    and why, and its file; whether churn spreads in this network; headline figures.  Then
    the evidence: degree and tie-strength distributions, both community levels (close
    circles and wider groups), the churn contagion test and curve, churn model lift,
    influence spread, bellwether ego networks and segment profiles; parameters, versions,
    inputs, rejected rows and timings are in the appendix at the end.
    Example: `bellwether report --workspace ws && open ws/runs/*/report.html`.
    """
    from bellwether.algorithms.report import write_report
    from bellwether.algorithms.segments import load_run

    cfg = settings(config)
    path = write_report(load_run(workspace(workspace_path, cfg), run), out)
    typer.echo(str(path))


def register(app: typer.Typer) -> None:
    app.command("report")(report)

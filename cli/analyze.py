"""`bellwether analyze`: communities, bellwethers and roles, influence seeds, churn scores -> one run."""

from __future__ import annotations

import json
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table

from cli import common


def register(app: typer.Typer) -> None:
    @app.command("analyze")
    def analyze_command(
        workspace: common.WorkspaceOpt = None,
        config: common.ConfigOpt = None,
        as_of: common.AsOfOpt = None,
        engine: Annotated[Optional[str], typer.Option("--engine", help="igraph (default), networkx (reference, small graphs) or gds (in Neo4j on the pushed graph; --objective modularity).")] = None,
        seed: common.SeedOpt = None,
        resolution: Annotated[Optional[float], typer.Option("--resolution", help="Community resolution Default 0.05 for cpm, 1.0 for modularity; higher gives smaller communities.")] = None,
        objective: Annotated[str, typer.Option("--objective", help="Community objective: cpm (default, keeps households) or modularity.")] = "cpm",
        k: Annotated[int, typer.Option("--k", help="Number of influence seeds.")] = 50,
        quiet: common.QuietOpt = False,
        as_json: common.JsonOpt = False,
    ) -> None:
        """Find communities, score bellwethers and roles, pick influence seeds and score churn; write a run.

        The run lands in WORKSPACE/runs/<run_id>/ (subscribers.parquet, communities.parquet,
        influence_seeds.parquet, manifest.json).

        Example: bellwether analyze --workspace ./ws --as-of 2024-03-01 --seed 7
        """
        from algorithms.analysis import analyze, run_summary

        cfg = common.settings(config, engine=engine, seed=seed)
        ws = common.workspace(workspace, cfg)
        run_dir = analyze(
            ws, as_of=as_of, engine=cfg.engine, seed=cfg.seed, objective=objective,
            resolution=resolution, k=k, progress=not (quiet or as_json),
        )
        summary = run_summary(run_dir)
        if as_json:
            typer.echo(json.dumps(summary, indent=2, sort_keys=True))
            return
        table = Table(title=f"run {summary['run_id']} (as_of {summary['as_of']}, engine {summary['engine']}, seed {summary['seed']})",
                      show_header=False)
        table.add_row("subscribers / contacts", f"{summary['subscribers']:,} / {summary['contacts']:,}")
        table.add_row("communities", f"{summary['communities']:,} (modularity {summary['modularity']:.3f})")
        table.add_row("roles", ", ".join(f"{r} {c:,}" for r, c in summary["roles"].items()))
        table.add_row("influence / churn", f"{summary['influence']} / {summary['churn']}")
        table.add_row("seconds", f"{summary['seconds']:.1f}")
        table.add_row("run directory", summary["run_dir"])
        Console().print(table)

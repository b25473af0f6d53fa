"""`bellwether analyze`: communities, bellwethers and roles, influence seeds, churn scores -> one run."""

from __future__ import annotations

import json
from contextlib import ExitStack
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table

from bellwether.cli import common


def register(app: typer.Typer) -> None:
    @app.command("analyze")
    def analyze_command(
        workspace: common.WorkspaceOpt = None,
        config: common.ConfigOpt = None,
        as_of: common.AsOfOpt = None,
        engine: Annotated[Optional[str], typer.Option("--engine", help="numba (default: igraph with the project's compiled Leiden), igraph (igraph throughout, its own Leiden), networkx (reference, small graphs) or gds (in Neo4j on the pushed graph; --objective modularity).")] = None,
        seed: common.SeedOpt = None,
        resolution: Annotated[Optional[float], typer.Option("--resolution", help="Community resolution for --objective cpm (default 0.05) or modularity (default 1.0); higher gives smaller communities. The default objective chooses it from the graph.")] = None,
        objective: Annotated[Optional[str], typer.Option("--objective", help="Community objective: auto (the default: modularity at a resolution chosen from the graph, finest within 8% of the best modularity), modularity (the default with --engine gds) or cpm (fixed density).")] = None,
        source: Annotated[str, typer.Option("--source", help="Where the contact graph is read: workspace (the graph tables) or neo4j (pulled from the configured server).")] = "workspace",
        write_back: Annotated[Optional[bool], typer.Option("--write-back/--no-write-back", help="Write the run into Neo4j (scores, Community nodes, MEMBER_OF) [default: on with --engine gds or --source neo4j].")] = None,
        k: Annotated[int, typer.Option("--k", help="Number of influence seeds.")] = 50,
        celf: Annotated[bool, typer.Option("--celf", help="With --engine gds: also pick seeds with GDS CELF in the database and compare their spread (slow: minutes at 30k subscribers).")] = False,
        quiet: common.QuietOpt = False,
        as_json: common.JsonOpt = False,
    ) -> None:
        """Find communities, score bellwethers and roles, pick influence seeds and score churn; write a run.

        The run lands in WORKSPACE/runs/<run_id>/ (subscribers.parquet, communities.parquet,
        influence_seeds.parquet, manifest.json).

        With --source neo4j the graph is pulled from Neo4j (for operators whose graph lives
        only there); with --engine gds communities and centrality run in the database.

        Example: bellwether analyze --workspace ./ws --as-of 2024-03-01 --seed 7
        """
        from bellwether.algorithms.analysis import AnalysisOptions, analyze, run_summary
        from bellwether.algorithms.engines import get_engine

        if source not in ("workspace", "neo4j"):
            raise typer.BadParameter(f"--source must be workspace or neo4j, not {source!r}")
        cfg = common.settings(config, engine=engine, seed=seed)
        ws = common.workspace(workspace, cfg)
        uses_neo4j = cfg.engine == "gds" or source == "neo4j"
        wants_write = write_back if write_back is not None else uses_neo4j
        with ExitStack() as open_:
            store = None
            if uses_neo4j or wants_write:
                from bellwether.graph.neo4j_store import Neo4jStore

                store = open_.enter_context(Neo4jStore.from_settings(cfg))
            graph = None
            if source == "neo4j":
                from bellwether.graph.neo4j_store import pull_graph

                graph = pull_graph(store)
            if cfg.engine == "gds":  # the store of --config, closed with it
                eng = get_engine("gds", store=store)
                open_.callback(eng.close)
            else:
                eng = get_engine(cfg.engine)
            options = AnalysisOptions(as_of=as_of, engine=eng, seed=cfg.seed, objective=objective,
                                      resolution=resolution, k=k, engine_celf=celf)
            run_dir = analyze(ws, options, graph=graph, progress=not (quiet or as_json))
            if wants_write:
                from bellwether.graph.neo4j_store import write_back as write_run

                write_run(store, run_dir, progress=not (quiet or as_json))
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
        if summary.get("contagion"):
            table.add_row("does churn spread?", summary["contagion"])
        table.add_row("seconds", f"{summary['seconds']:.1f}")
        table.add_row("run directory", summary["run_dir"])
        for note in summary["notes"]:  # e.g. no subscriber extract: value and churn unknown
            table.add_row("note", note)
        Console().print(table)

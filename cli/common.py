"""Options shared by several commands, defined once so names and help never drift apart."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from bellwether.graph.core.settings import Settings, load_settings
from bellwether.graph.core.workspace import Workspace

WorkspaceOpt = Annotated[
    Optional[Path],
    typer.Option("--workspace", "-w", help="Workspace directory [default: setting `workspace`, ./bellwether-workspace]."),
]
ConfigOpt = Annotated[
    Optional[Path],
    typer.Option("--config", help="Config file [default: $BELLWETHER_CONFIG or ./bellwether.toml]."),
]
RunOpt = Annotated[Optional[str], typer.Option("--run", help="Analysis run id [default: the latest run].")]
AsOfOpt = Annotated[
    Optional[str],
    typer.Option("--as-of", help="Analysis date YYYY-MM-DD: only records before it are used [default: the graph's as_of]."),
]
SeedOpt = Annotated[Optional[int], typer.Option("--seed", help="Random seed for reproducible runs [default: 42].")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON instead of a table.")]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars.")]
MasterOpt = Annotated[
    Optional[str],
    typer.Option("--master", help="Spark master: local[N], spark://host:7077, yarn... [default: setting `spark_master`, local[2]]."),
]


def settings(config: Path | None = None, **overrides) -> Settings:
    """Load settings from the config file and environment, then apply command-line overrides."""
    return load_settings(config).with_overrides(**overrides)


def graph_location(graph: str | None, path: Path | None, cfg: Settings) -> str:
    """The graph folder named with ``--graph``, else the workspace's published graph (resolved now: one
    graph, even if a build publishes another meanwhile)."""
    if graph is not None:
        return graph
    ws = workspace(path, cfg)
    ws.require_graph()
    return str(ws.graph_files().dir)


def workspace(path: Path | None, cfg: Settings) -> Workspace:
    """The workspace named on the command line, else the configured one."""
    return Workspace(path if path is not None else Path(cfg.workspace))

"""`bellwether measures`: the graph measures on Apache Spark, for contact graphs beyond one machine."""

from __future__ import annotations

import json
from typing import Annotated, Optional

import typer

from bellwether.cli import common


def measures(
    out: Annotated[str, typer.Argument(help="Where the measures are written as Parquet: a folder or any URI Spark writes (replaced).")],
    graph: Annotated[Optional[str], typer.Option(
        "--graph", help="The graph folder (subscribers.parquet, contacts.parquet, graph.json): a path or any URI Spark "
                        "reads [default: the workspace's graph].")] = None,
    workspace_path: common.WorkspaceOpt = None,
    config: common.ConfigOpt = None,
    as_of: common.AsOfOpt = None,
    master: common.MasterOpt = None,
    partitions: Annotated[Optional[int], typer.Option("--partitions", min=1, help="Parquet files written [default: Spark's].")] = None,
    as_json: common.JsonOpt = False,
) -> None:
    """Compute degree, strength, reciprocity, the churn network features and PageRank on Spark.

    One row per subscriber (vid and the measures) as Parquet at OUT, from graph tables that
    may live in a data lake (HDFS, S3) and need not fit one machine: plain DataFrame joins,
    the same definitions as the single-machine analysis (tested for parity).  Churn dates on
    or after the analysis date are never read.
    Example: `bellwether measures hdfs:///lake/measures --graph hdfs:///lake/graph --master yarn`.
    """
    from bellwether.algorithms.spark.measures import write_graph_measures
    from bellwether.graph.core.spark import command_session

    cfg = common.settings(config, spark_master=master)
    graph = common.graph_location(graph, workspace_path, cfg)
    with command_session(cfg.spark_master, "bellwether-measures") as spark:
        summary = write_graph_measures(spark, graph, out, as_of, partitions=partitions)
    if as_json:
        typer.echo(json.dumps(summary, indent=2, sort_keys=True, default=str))
        return
    typer.echo(f"{summary['rows']:,} subscribers' measures as of {summary['as_of']} written to {summary['out']} "
               f"({summary['seconds']:.1f} s)")


def register(app: typer.Typer) -> None:
    app.command("measures")(measures)

"""`bellwether neo4j`: the Neo4j store: status, schema, push, pull and write-back."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table

from bellwether.cli.common import (
    ConfigOpt, JsonOpt, MasterOpt, QuietOpt, RunOpt, WorkspaceOpt, graph_location, settings, workspace,
)

UriOpt = Annotated[
    Optional[str],
    typer.Option("--uri", help="Bolt URI [default: setting `neo4j_uri`, $BELLWETHER_NEO4J_URI, bolt://127.0.0.1:7687]."),
]
DatabaseOpt = Annotated[Optional[str], typer.Option("--database", help="Database name [default: setting `neo4j_database`, neo4j].")]
BatchOpt = Annotated[int, typer.Option("--batch-size", min=1, help="Rows per transaction (resume with the same size).")]
WritersOpt = Annotated[int, typer.Option(
    "--writers", min=1, max=32,
    help="Concurrent write transactions, scheduled never to lock the same subscriber (resume with the same number).")]

group = typer.Typer(
    name="neo4j",
    help="Neo4j store: push the contact graph, pull it back, write analysis runs back, check the server.",
    no_args_is_help=True,
)


def _store(config: Path | None, uri: str | None, database: str | None):
    from bellwether.graph.neo4j_store import Neo4jStore

    cfg = settings(config, neo4j_uri=uri, neo4j_database=database)
    return cfg, Neo4jStore.from_settings(cfg)


def _echo_json(data: object) -> None:
    typer.echo(json.dumps(data, indent=2, sort_keys=True, default=str))


@group.command("status")
def status(config: ConfigOpt = None, uri: UriOpt = None, database: DatabaseOpt = None, json_out: JsonOpt = False) -> None:
    """Show the server's Neo4j and GDS versions and the graph's counts.

    Example: `bellwether neo4j status --uri bolt://127.0.0.1:7687`.
    """
    _, store = _store(config, uri, database)
    with store:
        info = store.connect().server_info()
    if json_out:
        _echo_json(info)
        return
    table = Table(title=f"Neo4j at {info['uri']} (database {info['database']})", show_header=False)
    table.add_row("Neo4j", f"{info['neo4j_version']} {info['edition']}")
    table.add_row("GDS", info["gds_version"] or "[red]not installed[/]")
    for key in ("subscribers", "contacts", "communities", "memberships"):
        table.add_row(key, f"{info[key]:,}")
    Console().print(table)


@group.command("schema")
def schema_cmd(config: ConfigOpt = None, uri: UriOpt = None, database: DatabaseOpt = None, json_out: JsonOpt = False) -> None:
    """Create the constraints and indexes of cypher/schema.cypher (idempotent).

    Example: `bellwether neo4j schema`.
    """
    from bellwether.graph.neo4j_store import ensure_schema, schema_objects

    _, store = _store(config, uri, database)
    with store:
        store.connect()
        ensure_schema(store)
        objects = schema_objects(store)
    if json_out:
        _echo_json(objects)
        return
    typer.echo(f"constraints: {', '.join(objects['constraints'])}")
    typer.echo(f"indexes:     {', '.join(objects['indexes'])}")


@group.command("push")
def push(
    workspace_path: WorkspaceOpt = None,
    config: ConfigOpt = None,
    uri: UriOpt = None,
    database: DatabaseOpt = None,
    batch_size: BatchOpt = 20_000,
    writers: WritersOpt = 2,
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Load the workspace's contact graph into Neo4j (resumable: re-run after an interruption).

    Subscribers are merged on their pseudonymous id; contacts become
    (:Subscriber)-[:CONTACT]->(:Subscriber) relationships from a to b.
    Example: `bellwether neo4j push --workspace ws`.
    """
    from bellwether.graph.neo4j_store import push_workspace

    cfg, store = _store(config, uri, database)
    ws = workspace(workspace_path, cfg)
    ws.require_graph()
    with store:
        result = push_workspace(store, ws, batch_size=batch_size, writers=writers, progress=not (quiet or json_out))
    data = dataclasses.asdict(result)
    data["contacts_per_second"] = round(result.contacts_per_second, 1) if result.contacts_loaded else None
    if json_out:
        _echo_json(data)
        return
    if quiet:
        return
    Console().print(
        f"pushed to {store.uri}: {result.subscribers_loaded:,} subscribers and {result.contacts_loaded:,} contacts loaded "
        f"({result.subscribers_skipped + result.contacts_skipped:,} rows already there); "
        f"Neo4j holds {result.counts['subscribers']:,} subscribers, {result.counts['contacts']:,} contacts",
        highlight=False,
    )


@group.command("import-files")
def import_files(
    out: Annotated[str, typer.Argument(
        help="Directory for the CSV files and the neo4j-admin arguments file (with --engine spark: a path or any URI "
             "Spark writes, e.g. hdfs://...).")],
    workspace_path: WorkspaceOpt = None,
    config: ConfigOpt = None,
    database: DatabaseOpt = None,
    batch_size: BatchOpt = 20_000,
    writers: WritersOpt = 2,
    engine: Annotated[str, typer.Option(
        "--engine", help="duckdb (one machine, the default) or spark (parallel: a header file and one part file per "
                         "partition; no LoadBatch nodes, so add the schema with `bellwether neo4j schema`).")] = "duckdb",
    master: MasterOpt = None,
    graph: Annotated[Optional[str], typer.Option(
        "--graph", help="With --engine spark: the folder of the graph tables (subscribers.parquet, contacts.parquet, "
                        "graph.json), a path or any URI Spark reads [default: the workspace's graph].")] = None,
    partitions: Annotated[Optional[int], typer.Option(
        "--partitions", min=1, help="With --engine spark: part files per table [default: the Spark parallelism].")] = None,
    json_out: JsonOpt = False,
) -> None:
    """Write the workspace's contact graph as input for `neo4j-admin database import` (offline bulk load).

    For a first load into an empty database, many times faster than `push`. Stop the
    server, run the printed neo4j-admin command on its machine (it replaces the
    database), start the server, then run `bellwether neo4j push` with the same
    --batch-size: it creates the schema, finds every batch loaded and sends nothing.
    With --engine spark, Spark writes the same files in parallel as a header file and
    part files per table, from graph tables anywhere Spark reads; then add the schema
    with `bellwether neo4j schema`.
    Example: `bellwether neo4j import-files /var/lib/neo4j/import/bellwether --workspace ws`,
    or `bellwether neo4j import-files hdfs:///exports/neo4j --engine spark --master yarn --graph hdfs:///lake/graph`.
    """
    if engine not in ("duckdb", "spark"):
        raise typer.BadParameter(f"unknown engine {engine!r}: duckdb or spark", param_hint="--engine")
    if engine == "spark":
        _spark_import_files(out, workspace_path, config, database, master, graph, partitions, json_out)
        return
    if master is not None or graph is not None or partitions is not None:
        raise typer.BadParameter("--master, --graph and --partitions go with --engine spark", param_hint="--engine")
    from bellwether.graph.contact_graph import ContactGraph
    from bellwether.graph.neo4j_store.bulk import write_import_files

    cfg = settings(config, neo4j_database=database)
    ws = workspace(workspace_path, cfg)
    ws.require_graph()
    files = write_import_files(ContactGraph.load(ws), Path(out), batch_size=batch_size, database=cfg.neo4j_database,
                               writers=writers)
    if json_out:
        _echo_json({"directory": files.directory, "args_file": files.args_file, "command": files.command(),
                    "counts": files.counts})
        return
    typer.echo(
        f"wrote {files.counts['subscribers']:,} subscribers and {files.counts['contacts']:,} contacts to {files.directory}\n"
        f"with the server stopped, run on its machine (replaces database {files.database!r}):\n"
        f"  {files.command()}\n"
        f"  (or: neo4j-admin @{files.args_file}; for this project's server: scripts/neo4j-server import {files.args_file})\n"
        f"then start the server and run `bellwether neo4j push --batch-size {batch_size} --writers {writers}` "
        f"to add the schema."
    )


def _spark_import_files(out: str, workspace_path: Path | None, config: Path | None, database: str | None,
                        master: str | None, graph: str | None, partitions: int | None, json_out: bool) -> None:
    from bellwether.graph.core.spark import command_session
    from bellwether.graph.neo4j_store.import_layout import ARGS_FILE
    from bellwether.graph.neo4j_store.spark_files import write_spark_import_files

    cfg = settings(config, neo4j_database=database, spark_master=master)
    graph = graph_location(graph, workspace_path, cfg)
    with command_session(cfg.spark_master, "bellwether-import-files") as spark:
        files = write_spark_import_files(spark, graph, out, partitions=partitions, database=cfg.neo4j_database)
    if json_out:
        _echo_json({"directory": files.directory, "args_file": files.args_file, "command": files.command(),
                    "counts": files.counts, "partitions": files.partitions})
        return
    where = (f"run on its machine (replaces database {files.database!r}):\n  {files.command()}\n"
             f"  (or: neo4j-admin @{files.args_file}; for this project's server: "
             f"scripts/neo4j-server import {files.args_file})\n"
             if files.local else
             f"copy {files.directory} to its machine and run there, from inside the copied folder "
             f"(replaces database {files.database!r}):\n  neo4j-admin @{ARGS_FILE}\n")
    typer.echo(
        f"Spark ({cfg.spark_master}) wrote {files.counts['subscribers']:,} subscribers and "
        f"{files.counts['contacts']:,} contacts to {files.directory} "
        f"({files.partitions['subscribers']} + {files.partitions['contacts']} part files)\n"
        f"with the server stopped, {where}"
        f"then start the server and run `bellwether neo4j schema` to add the constraints and indexes."
    )


@group.command("pull")
def pull(
    out: Annotated[Path, typer.Option("--out", help="Workspace directory to write the pulled graph tables into.")],
    config: ConfigOpt = None,
    uri: UriOpt = None,
    database: DatabaseOpt = None,
    force: Annotated[bool, typer.Option("--force", help="Replace graph tables already in --out.")] = False,
) -> None:
    """Read the graph from Neo4j into a workspace's graph tables (subscribers, contacts, graph.json).

    Example: `bellwether neo4j pull --out ws-from-neo4j`, then `bellwether analyze --workspace ws-from-neo4j`.
    """
    from bellwether.graph.neo4j_store import pull_graph
    from bellwether.graph.core.workspace import Workspace, WorkspaceError

    ws = Workspace(out)
    if ws.has_graph() and not force:
        raise WorkspaceError(f"{ws.graph_dir} already holds graph tables: pass --force to replace them.")
    _, store = _store(config, uri, database)
    with store:
        g = pull_graph(store)
    g.save(ws)
    typer.echo(f"pulled {g.n_subscribers:,} subscribers and {g.n_contacts:,} contacts into {ws.graph_dir}")


@group.command("write-back")
def write_back_cmd(
    workspace_path: WorkspaceOpt = None,
    config: ConfigOpt = None,
    run: RunOpt = None,
    uri: UriOpt = None,
    database: DatabaseOpt = None,
    batch_size: BatchOpt = 20_000,
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Write an analysis run into Neo4j: subscriber scores and roles, Community nodes, MEMBER_OF, segments.

    Re-running replaces what an earlier write-back wrote.
    Example: `bellwether neo4j write-back --workspace ws --run 20250401T120000`.
    """
    from bellwether.graph.neo4j_store import write_back

    cfg, store = _store(config, uri, database)
    ws = workspace(workspace_path, cfg)
    run_dir = ws.run_dir(run)
    with store:
        result = write_back(store, run_dir, batch_size=batch_size, progress=not (quiet or json_out))
    if json_out:
        _echo_json(dataclasses.asdict(result))
        return
    if not quiet:
        typer.echo(
            f"run {result.run_id} written to {store.uri}: {result.subscribers:,} subscribers, "
            f"{result.communities:,} communities, {result.memberships:,} memberships, {result.segments:,} segment rows"
        )


def register(app: typer.Typer) -> None:
    app.add_typer(group)

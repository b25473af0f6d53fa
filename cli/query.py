"""`bellwether query`: run one of the analysts' named Cypher queries (``cypher/queries/``) against Neo4j.

Values given with ``--param key=value`` are sent as Cypher parameters, never spliced into the
text, typed by the query's header (``// params: community: int, limit: int = 25``); the typing
and its errors are the Cypher library's (:meth:`CypherQuery.parse_params`).  This module parses
the command line, calls the library and the store, and prints.
"""

from __future__ import annotations

import csv
import json
import math
import sys
from datetime import date, datetime
from typing import Annotated, Any, Optional

import pandas as pd
import typer
from typer.core import TyperCommand

from bellwether.cli import common
from bellwether.graph.cypher_library import QueryParameterError, analyst_queries

FORMATS = ("table", "csv", "json")


def split_pairs(pairs: list[str]) -> list[tuple[str, str]]:
    """``["key=value", ...]`` as ``(key, value)`` pairs, for :meth:`CypherQuery.parse_params`."""
    out = []
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip().lstrip("$"):
            raise QueryParameterError(f"--param {pair!r} is not key=value (e.g. --param limit=10).")
        out.append((key, value))
    return out


# --- output --------------------------------------------------------------------------------------
def plain(value: Any) -> Any:
    """A JSON-ready version of a value returned by the driver (temporal values as ISO text)."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return None if math.isnan(value) else value
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if hasattr(value, "iso_format"):  # neo4j.time.Date / DateTime / Time / Duration
        return value.iso_format()
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if hasattr(value, "item"):  # numpy scalars
        return plain(value.item())
    if pd.isna(value):
        return None
    return str(value)


def records(df: pd.DataFrame) -> list[dict[str, Any]]:
    """The rows of a result as plain dicts (column order kept)."""
    cols = list(df.columns)
    return [{c: plain(v) for c, v in zip(cols, row)} for row in df.itertuples(index=False, name=None)]


def _cell(value: Any) -> str:
    v = plain(value)
    if v is None:
        return ""
    if isinstance(v, float):
        return f"{v:.6g}"
    if isinstance(v, (list, dict)):
        return json.dumps(v, ensure_ascii=False)
    return str(v)


def render(df: pd.DataFrame, fmt: str, title: str | None = None) -> None:
    """Print a result as a rich table, CSV or a JSON array on stdout."""
    if fmt == "json":
        typer.echo(json.dumps(records(df), ensure_ascii=False, indent=2))
    elif fmt == "csv":
        w = csv.writer(sys.stdout, lineterminator="\n")
        w.writerow(list(df.columns))
        for row in df.itertuples(index=False, name=None):
            w.writerow([_cell(v) for v in row])
    else:
        from rich.console import Console
        from rich.table import Table

        table = Table(title=title, caption=f"{len(df):,} row{'s' if len(df) != 1 else ''}")
        for c in df.columns:
            table.add_column(str(c), overflow="fold")
        for row in df.itertuples(index=False, name=None):
            table.add_row(*(_cell(v) for v in row))
        Console().print(table)


def list_queries(fmt: str) -> None:
    """Print the analysts' queries with their typed parameters and descriptions."""
    queries = analyst_queries()
    if fmt == "json":
        typer.echo(json.dumps([{"name": q.name, "params": list(q.params), "types": q.types, "signature": q.signature,
                                "description": q.description, "example": q.example, "file": str(q.path)}
                               for q in queries], indent=2))
        return
    df = pd.DataFrame({"name": [q.name for q in queries], "params": [q.signature for q in queries],
                       "description": [q.description for q in queries]})
    render(df, fmt, title=f"Analyst queries in {queries.root}")


class _QueryHelp(TyperCommand):
    """`bellwether query --help` ends with the queries and their typed parameters (read when shown)."""

    def format_epilog(self, ctx: Any, formatter: Any) -> None:
        with formatter.section("Queries (parameter: type = default)"):
            for q in analyst_queries():
                formatter.write_text(f"{q.name}({q.signature})")


# --- command -------------------------------------------------------------------------------------
def register(app: typer.Typer) -> None:
    @app.command("query", cls=_QueryHelp)
    def query_command(
        name: Annotated[Optional[str], typer.Argument(help="Query name, e.g. community.top_bellwethers (see --list).")] = None,
        param: Annotated[Optional[list[str]], typer.Option("--param", "-p", help="A parameter as key=value; repeat for each one.")] = None,
        fmt: Annotated[str, typer.Option("--format", "-f", help="Output: table, csv or json.")] = "table",
        list_: Annotated[bool, typer.Option("--list", help="List the queries with their typed parameters and descriptions.")] = False,
        config: common.ConfigOpt = None,
    ) -> None:
        """Run a named query of the analysts' Cypher library against Neo4j and print the rows.

        The queries live in cypher/queries/*.cypher and run unchanged in Neo4j Browser (set
        their parameters there with `:param`). Values are sent as parameters, typed as the
        query's header declares them (int, float, bool true/false, str, date YYYY-MM-DD, JSON
        list or map); a quoted value ("007") is text.

        Example: bellwether query community.top_bellwethers --param community=3 --param limit=5 --format csv
        """
        if fmt not in FORMATS:
            raise typer.BadParameter(f"choose one of: {', '.join(FORMATS)}", param_hint="--format")
        if list_:
            return list_queries(fmt)
        if not name:
            raise typer.BadParameter("give a query name, or --list to see them", param_hint="NAME")
        query = analyst_queries().find(name)
        params = query.parse_params(split_pairs(list(param or [])))

        from bellwether.graph.neo4j_store import Neo4jStore

        with Neo4jStore.from_settings(common.settings(config)) as store:
            store.connect()  # fail at once with the store's one-line error when the server is down
            df = store.read(query.name, **params)
        render(df, fmt, title=query.name)

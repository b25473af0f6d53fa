"""`bellwether query`: run one of the analysts' named Cypher queries (``cypher/queries/``) against Neo4j.

Values given with ``--param key=value`` are sent as Cypher parameters, never
spliced into the text.  Each value is typed by the query's header: the
``// example:`` JSON of the query says which parameters are integers, floats,
booleans, lists or dates (an ISO date string in the example), and a value that
does not fit is an error naming the parameter.  A parameter absent from the
example is read "sensibly": ``true``/``false``, ``null``, integers, floats,
ISO dates, JSON lists or objects, otherwise text; quote it (``key='"007"'``)
to force text.
"""

from __future__ import annotations

import csv
import difflib
import json
import math
import re
import sys
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any, Optional

import pandas as pd
import typer

from bellwether.cli import common
from bellwether.graph.cypher_library import CYPHER_DIR, CypherLibrary, CypherLibraryError, CypherQuery, default_library

QUERIES_DIR = CYPHER_DIR / "queries"
FORMATS = ("table", "csv", "json")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_INT = re.compile(r"^[+-]?\d+$")
_FLOAT = re.compile(r"^[+-]?(\d+\.\d*|\.\d+|\d+)([eE][+-]?\d+)?$")


class QueryParameterError(CypherLibraryError):
    """A ``--param`` is malformed or its value does not fit the declared type."""


# --- the library's analyst queries ---------------------------------------------------------------
def analyst_queries(library: CypherLibrary | None = None) -> dict[str, CypherQuery]:
    """The named queries whose file lies under ``cypher/queries/``, by name (sorted)."""
    lib = library or default_library()
    root = (lib.root / "queries").resolve()
    out = {q.name: q for q in lib if q.path is not None and root in Path(q.path).resolve().parents}
    return dict(sorted(out.items()))


def find_query(name: str, library: CypherLibrary | None = None) -> CypherQuery:
    """The analyst query called ``name``, or the only one whose name ends with ``.name``.

    Raises
    ------
    CypherLibraryError
        No such query; the message lists the closest names.
    """
    queries = analyst_queries(library)
    if name in queries:
        return queries[name]
    suffix = [q for n, q in queries.items() if n.split(".", 1)[-1] == name]
    if len(suffix) == 1:
        return suffix[0]
    close = difflib.get_close_matches(name, list(queries), n=3, cutoff=0.5)
    close += [n for n in queries if name and name in n and n not in close][: 3 - len(close)]
    hint = f" Did you mean {', '.join(close)}?" if close else " See `bellwether query --list`."
    raise CypherLibraryError(f"No query named {name!r} in {QUERIES_DIR}.{hint}")


# --- parameters ----------------------------------------------------------------------------------
def _kind(example_value: Any) -> str | None:
    if isinstance(example_value, bool):
        return "bool"
    if isinstance(example_value, int):
        return "int"
    if isinstance(example_value, float):
        return "float"
    if isinstance(example_value, str):
        return "date" if _ISO_DATE.match(example_value) else "str"
    if isinstance(example_value, (list, dict)):
        return "json"
    return None


def declared_types(query: CypherQuery) -> dict[str, str]:
    """``{parameter: "int"|"float"|"bool"|"date"|"str"|"json"}`` from the query's ``// example:`` header."""
    example = query.example or {}
    return {p: k for p in query.params if (k := _kind(example.get(p))) is not None}


def parse_value(text: str, kind: str | None = None, name: str = "value") -> Any:
    """Turn one ``--param`` value into a Python value of ``kind`` (or a sensible type when None).

    >>> parse_value("5", "int"), parse_value("5", "str"), parse_value("0.5"), parse_value("2025-03-01")
    (5, '5', 0.5, datetime.date(2025, 3, 1))
    """
    t = text.strip()
    if len(t) >= 2 and t[0] == t[-1] == '"':
        try:
            quoted = json.loads(t)
        except json.JSONDecodeError:
            quoted = t[1:-1]
        if kind in (None, "str", "date"):
            return _typed(quoted, kind, name) if kind == "date" else quoted
        raise QueryParameterError(f"Parameter ${name} must be {_article(kind)}, got the text {t}.")
    if kind is None:
        return _sensible(t)
    if kind == "str":
        return text
    return _typed(t, kind, name)


def _article(kind: str) -> str:
    return {"int": "an integer", "float": "a number", "bool": "true or false", "date": "a date YYYY-MM-DD",
            "json": "a JSON list or object", "str": "text"}[kind]


def _typed(t: str, kind: str, name: str) -> Any:
    fail = QueryParameterError(f"Parameter ${name} must be {_article(kind)}, got {t!r}.")
    if t.lower() == "null":
        return None
    if kind == "int":
        if not _INT.match(t):
            raise fail
        return int(t)
    if kind == "float":
        if not _FLOAT.match(t) and t.lower() not in ("inf", "-inf", "+inf"):
            raise fail
        return float(t)
    if kind == "bool":
        if t.lower() not in ("true", "false"):
            raise fail
        return t.lower() == "true"
    if kind == "date":
        try:
            return date.fromisoformat(t)
        except ValueError:
            raise fail from None
    if kind == "json":
        try:
            return json.loads(t)
        except json.JSONDecodeError:
            raise fail from None
    raise fail


def _sensible(t: str) -> Any:
    low = t.lower()
    if low in ("true", "false"):
        return low == "true"
    if low == "null":
        return None
    digits = t.lstrip("+-")
    if len(digits) > 1 and digits[0] == "0" and digits[1].isdigit():
        return t  # "007" stays text: it is an identifier, not a number
    if _INT.match(t):
        return int(t)
    if _FLOAT.match(t):
        return float(t)
    if _ISO_DATE.match(t):
        try:
            return date.fromisoformat(t)
        except ValueError:
            return t
    if t[:1] in "[{":
        try:
            return json.loads(t)
        except json.JSONDecodeError:
            return t
    return t


def parse_params(pairs: list[str], query: CypherQuery) -> dict[str, Any]:
    """Read ``["key=value", ...]`` into typed parameters and check them against the query's header.

    Raises
    ------
    QueryParameterError
        A pair without ``=``, a key given twice, or a value of the wrong type.
    CypherLibraryError
        Missing or unexpected parameters (one line naming them).
    """
    kinds = declared_types(query)
    params: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        key = key.strip().lstrip("$")
        if not sep or not key:
            raise QueryParameterError(f"--param {pair!r} is not key=value (e.g. --param limit=10).")
        if key in params:
            raise QueryParameterError(f"Parameter ${key} is given twice.")
        params[key] = parse_value(value, kinds.get(key), key) if key in query.params else value
    return query.bind(params)


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
    queries = analyst_queries()
    if fmt == "json":
        typer.echo(json.dumps([{"name": q.name, "params": list(q.params), "description": q.description,
                                "example": q.example, "file": str(q.path)} for q in queries.values()], indent=2))
        return
    df = pd.DataFrame({
        "name": list(queries),
        "params": [", ".join(q.params) for q in queries.values()],
        "description": [q.description for q in queries.values()],
    })
    render(df, fmt, title=f"Analyst queries in {QUERIES_DIR}")


# --- command -------------------------------------------------------------------------------------
def register(app: typer.Typer) -> None:
    @app.command("query")
    def query_command(
        name: Annotated[Optional[str], typer.Argument(help="Query name, e.g. community.top_bellwethers (see --list).")] = None,
        param: Annotated[Optional[list[str]], typer.Option("--param", "-p", help="A parameter as key=value; repeat for each one.")] = None,
        fmt: Annotated[str, typer.Option("--format", "-f", help="Output: table, csv or json.")] = "table",
        list_: Annotated[bool, typer.Option("--list", help="List the queries with their parameters and descriptions.")] = False,
        config: common.ConfigOpt = None,
    ) -> None:
        """Run a named query of the analysts' Cypher library against Neo4j and print the rows.

        The queries live in cypher/queries/*.cypher and run unchanged in Neo4j Browser (set
        their parameters there with `:param`). Values are sent as parameters, typed by the
        query's example header (integers, numbers, true/false, dates YYYY-MM-DD, JSON lists).

        Example: bellwether query community.top_bellwethers --param community=3 --param limit=5 --format csv
        """
        if fmt not in FORMATS:
            raise typer.BadParameter(f"choose one of: {', '.join(FORMATS)}", param_hint="--format")
        if list_:
            list_queries(fmt)
            return
        if not name:
            raise typer.BadParameter("give a query name, or --list to see them", param_hint="NAME")
        query = find_query(name)
        params = parse_params(list(param or []), query)

        from bellwether.graph.neo4j_store import Neo4jStore

        with Neo4jStore.from_settings(common.settings(config)) as store:
            store.connect()  # fail at once with the store's one-line error when the server is down
            df = store.read(query.name, **params)
        render(df, fmt, title=query.name)

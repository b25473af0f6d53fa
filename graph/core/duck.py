"""DuckDB connections for loads and builds: bounded memory, spill files under the workspace."""

from __future__ import annotations

from pathlib import Path

import duckdb

DEFAULT_MEMORY_LIMIT = "1GB"
DEFAULT_THREADS = 2


def connect(scratch: Path, memory_limit: str = DEFAULT_MEMORY_LIMIT, threads: int = DEFAULT_THREADS) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection that spills to ``scratch`` beyond ``memory_limit`` (out of core)."""
    scratch.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(config={"threads": threads, "memory_limit": memory_limit,
                                 "temp_directory": str(scratch), "preserve_insertion_order": True})
    con.execute("SET enable_progress_bar = false")  # nothing on stdout: --json output stays clean
    con.execute("SET TimeZone = 'UTC'")  # instants (epoch, %z) are converted to wall clocks explicitly
    return con


def sql_str(value: str) -> str:
    """Quote ``value`` as a SQL string literal."""
    return "'" + str(value).replace("'", "''") + "'"


def sql_ident(name: str) -> str:
    """Quote ``name`` as a SQL identifier."""
    return '"' + str(name).replace('"', '""') + '"'

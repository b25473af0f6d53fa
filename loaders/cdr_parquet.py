"""Generic CDR files in Parquet: the same columns as the CSV layout, any column types.

Every column is cast to text and validated like CSV fields, so a typed file and
a text file with the same calls give the same records.  Two typed cases read as
their writers meant them: a floating-point ``duration`` holding whole seconds
(what pandas writes when SMS rows leave it empty) reads as those seconds, and a
``start_time`` with a time zone (TIMESTAMP WITH TIME ZONE) is turned into the wall
clock of the load's time zone (:class:`bellwether.loaders.times.TimeRules`).  ``line`` is the
1-based row number in the file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Mapping

import duckdb
import pyarrow.parquet as pq

from bellwether.loaders.cdr_csv import RawSource, resolve_columns
from bellwether.graph.core.duck import sql_ident, sql_str
from bellwether.loaders.errors import LoadError, mask_text
from bellwether.loaders.times import TimeRules
from bellwether.loaders.validate import CDR_COLUMNS, OPTIONAL_CDR_COLUMNS


def _text(ident: str, column_type: str, column: str, time: TimeRules) -> str:
    """SQL text of a typed Parquet column, as a CSV field would hold it."""
    t = column_type.upper()
    if column == "duration" and (t in ("FLOAT", "DOUBLE", "REAL") or t.startswith("DECIMAL")):
        return (f"CASE WHEN isnan({ident}::DOUBLE) THEN NULL WHEN {ident} = trunc({ident}) "
                f"THEN CAST(CAST({ident} AS BIGINT) AS VARCHAR) ELSE CAST({ident} AS VARCHAR) END")
    if t.startswith("TIMESTAMP WITH TIME ZONE") or t == "TIMESTAMPTZ":
        return f"strftime(timezone({sql_str(time.timezone)}, {ident}), '%Y-%m-%d %H:%M:%S')"
    return f"CAST({ident} AS VARCHAR)"


def read_cdr_parquet(con: duckdb.DuckDBPyConnection, path: Path, mapping: Mapping[str, str],
                     file_label: str | None = None, *, constants: Mapping[str, str] | None = None,
                     time: TimeRules | None = None) -> RawSource:
    """Raw relation of a Parquet CDR file (see :class:`bellwether.loaders.cdr_csv.RawSource`)."""
    constants = dict(constants or {})
    time = time or TimeRules()
    try:
        described = con.execute(f"DESCRIBE SELECT * FROM read_parquet({sql_str(str(path))})").fetchall()
    except duckdb.Error as exc:
        raise LoadError(f"{path}: not a readable Parquet file ({mask_text(str(exc))}).") from None
    types = {r[0]: r[1] for r in described}
    header = list(types)
    wanted = [c for c in CDR_COLUMNS if c not in constants]
    cols = resolve_columns(path, header, mapping, wanted, OPTIONAL_CDR_COLUMNS + tuple(constants))
    label = file_label or str(path)
    select = []
    for c in CDR_COLUMNS:
        if c in constants:
            select.append(f"{sql_str(str(constants[c]))} AS {c}")
        elif cols.get(c):
            select.append(f"{_text(sql_ident(cols[c]), types[cols[c]], c, time)} AS {c}")
        else:
            select.append(f"NULL::VARCHAR AS {c}")
    sql = (f"SELECT {sql_str(label)} AS file, file_row_number + 1 AS line, {', '.join(select)} "
           f"FROM read_parquet({sql_str(str(path))}, file_row_number=true)")
    rows = pq.ParquetFile(path).metadata.num_rows  # what the line accounting must add up to
    return RawSource(sql=sql, label=label, lines=rows)

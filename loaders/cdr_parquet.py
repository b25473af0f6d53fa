"""Generic CDR files in Parquet: the same columns as the CSV layout, any column types.

Every column is cast to text and validated like CSV fields, so a typed file and
a text file with the same calls give the same records.  ``line`` is the 1-based
row number in the file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Mapping

import duckdb

from loaders.cdr_csv import RawSource, resolve_columns
from loaders.duck import sql_ident, sql_str
from loaders.errors import LoadError
from loaders.validate import CDR_COLUMNS


def read_cdr_parquet(con: duckdb.DuckDBPyConnection, path: Path, mapping: Mapping[str, str],
                     file_label: str | None = None) -> RawSource:
    """Raw relation of a Parquet CDR file (see :class:`loaders.cdr_csv.RawSource`)."""
    try:
        header = [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM read_parquet({sql_str(str(path))})").fetchall()]
    except duckdb.Error as exc:
        raise LoadError(f"{path}: not a readable Parquet file ({exc}).") from exc
    cols = resolve_columns(path, header, mapping, CDR_COLUMNS)
    label = file_label or str(path)
    select = ", ".join(f"CAST({sql_ident(cols[c])} AS VARCHAR) AS {c}" for c in CDR_COLUMNS)
    sql = (f"SELECT {sql_str(label)} AS file, file_row_number + 1 AS line, {select} "
           f"FROM read_parquet({sql_str(str(path))}, file_row_number=true)")
    return RawSource(sql=sql, label=label)

"""Tables to Bolt parameters and back: batches of row maps, content keys, Neo4j temporal values.

Pure functions between pandas/Arrow tables and the plain Python values the
driver sends.  Timestamps become timezone-aware UTC datetimes (Neo4j
``DATETIME``), dates stay dates (``DATE``), missing values become null (Neo4j
stores no property for them).
"""

from __future__ import annotations

import hashlib
from datetime import timezone
from typing import Any, Sequence

import pandas as pd
import pyarrow as pa

_UTC = timezone.utc


def to_arrow(df: pd.DataFrame) -> pa.Table:
    """The frame as an Arrow table with timestamps cast to UTC (so they go to Neo4j as DATETIME)."""
    table = pa.Table.from_pandas(df, preserve_index=False)
    for i, f in enumerate(table.schema):
        if pa.types.is_timestamp(f.type) and f.type.tz is None:
            table = table.set_column(i, f.name, table.column(i).cast(pa.timestamp(f.type.unit, tz="UTC")))
    return table


def to_load_arrow(df: pd.DataFrame) -> pa.Table:
    """The frame as an Arrow table ready for the load statements of ``cypher/load/``.

    Timestamps become whole seconds since the epoch (int64; the statement turns
    them into DATETIME with ``datetime({epochSeconds: ...})``) and dates become
    ISO strings (``date(...)``): the driver packs plain ints and strings many
    times faster than temporal values.
    """
    table = pa.Table.from_pandas(df, preserve_index=False)
    for i, f in enumerate(table.schema):
        col = table.column(i)
        if pa.types.is_timestamp(f.type):
            col = col.cast(pa.timestamp("s", tz=f.type.tz)).cast(pa.int64())
        elif pa.types.is_date(f.type):
            col = col.cast(pa.string())
        else:
            continue
        table = table.set_column(i, f.name, col)
    return table


def flat_rows(table: pa.Table) -> list[dict[str, Any]]:
    """One ``{column: value}`` map per row of ``table`` (nulls as None)."""
    return table.to_pylist()


def content_key(df: pd.DataFrame, *salt: str) -> str:
    """A 16-hex-digit key of a table's column names, values and ``salt`` (e.g. statement text, batch size).

    Two tables with the same columns and values in the same order have the same key
    (sqlite-utils' ``hash_id`` idea, applied to a whole table).
    """
    h = hashlib.sha256()
    for s in salt:
        h.update(s.encode())
        h.update(b"\0")
    h.update("\0".join(map(str, df.columns)).encode())
    if len(df):
        h.update(pd.util.hash_pandas_object(df, index=False).to_numpy().tobytes())
    return h.hexdigest()[:16]


def batch_bounds(n: int, batch_size: int) -> list[tuple[int, int]]:
    """``[(start, stop), ...]`` covering ``0..n`` in steps of ``batch_size``."""
    if batch_size < 1:
        raise ValueError("batch_size must be >= 1")
    return [(s, min(s + batch_size, n)) for s in range(0, n, batch_size)]


def row_maps(table: pa.Table, keys: Sequence[str], props: Sequence[str]) -> list[dict[str, Any]]:
    """One ``{key: value, ..., "props": {column: value, ...}}`` map per row of ``table``."""
    cols = table.select(list(keys) + list(props)).to_pydict()
    key_cols = [cols[k] for k in keys]
    prop_cols = [cols[p] for p in props]
    names = list(props)
    out = []
    for i in range(table.num_rows):
        row = {k: c[i] for k, c in zip(keys, key_cols)}
        row["props"] = {n: c[i] for n, c in zip(names, prop_cols)}
        out.append(row)
    return out


def from_neo4j_value(v: Any) -> Any:
    """A driver value as a plain Python value (Neo4j temporal types to ``datetime``/``date``)."""
    if v is None:
        return None
    to_native = getattr(v, "to_native", None)
    return to_native() if to_native is not None else v


def frame_to_schema(df: pd.DataFrame, schema: pa.Schema) -> pd.DataFrame:
    """Cast a frame pulled from Neo4j to ``schema`` (missing columns become null), as pandas.

    Neo4j temporal values become Python ones; timezone-aware datetimes come back
    naive UTC, the workspace's convention.
    """
    arrays = []
    n = len(df)
    for f in schema:
        if f.name not in df.columns:
            arrays.append(pa.nulls(n, f.type))
        elif pa.types.is_timestamp(f.type) or pa.types.is_date(f.type):
            values = [from_neo4j_value(v) for v in df[f.name].tolist()]
            if pa.types.is_timestamp(f.type):
                values = [v.astimezone(_UTC).replace(tzinfo=None) if v is not None and v.tzinfo else v for v in values]
            arrays.append(pa.array(values, type=f.type))
        else:
            arrays.append(pa.array(df[f.name], type=f.type, from_pandas=True))
    return pa.Table.from_arrays(arrays, schema=schema).to_pandas()

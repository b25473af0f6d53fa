"""Write a table for people outside the project: CSV, Parquet or JSON Lines, plus a sidecar manifest.

Every exported file ``NAME.EXT`` gets a sidecar ``NAME.EXT.manifest.json`` that records
what a recipient needs to trust the file::

    {
      "name": "retention",               what the table is
      "path": "retention.csv",           the file next to this manifest
      "format": "csv",
      "rows": 1000,                      rows written
      "columns": ["id", "rank", ...],
      "list_version": "3f1c9a...",       content hash of the rows (same for every format)
      "suppressed": {"do_not_contact": 12, "churned": 40},   rows held back, per reason
      "suppressed_total": 52,
      "created": "2024-05-01T10:00:00+00:00",
      ...                                anything the caller adds (run id, priority, parameters)
    }

The list version depends only on the column names and the values, never on the
format or the time of export, so the same list written as CSV and as Parquet has
one version, and a re-export of unchanged content keeps its version.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from bellwether.graph.core.errors import BellwetherError
from bellwether.graph.core.workspace import read_json, write_json

__all__ = ["FORMATS", "ExportError", "Export", "content_version", "export_table", "read_table", "read_sidecar"]

FORMATS = {"csv": ".csv", "parquet": ".parquet", "jsonl": ".jsonl"}


class ExportError(BellwetherError):
    """An export was asked for in an unknown format or cannot be read back."""


@dataclass(frozen=True)
class Export:
    """Where an exported table went and what its sidecar says."""

    path: Path
    sidecar: Path
    manifest: dict[str, Any]

    @property
    def rows(self) -> int:
        return int(self.manifest["rows"])

    @property
    def list_version(self) -> str:
        return str(self.manifest["list_version"])


def content_version(df: pd.DataFrame) -> str:
    """Return a 16-hex-digit content hash of ``df`` (column names, order of rows and values).

    Values are hashed through their text form so that a table read back from CSV,
    Parquet or JSON Lines hashes the same as the table that was written.
    """
    h = hashlib.sha256()
    h.update("\x1f".join(map(str, df.columns)).encode())
    for col in df.columns:
        s = df[col]
        if pd.api.types.is_float_dtype(s.dtype):
            text = np.char.mod("%.10g", s.to_numpy(np.float64, na_value=np.nan))
            values = pd.Series(text).where(s.notna().to_numpy(), "")
        else:
            values = s.astype("string").fillna("")
        h.update(b"\x1e")
        h.update(pd.util.hash_pandas_object(pd.Series(values.to_numpy(str)), index=False).to_numpy().tobytes())
    return h.hexdigest()[:16]


def export_table(
    df: pd.DataFrame,
    directory: str | Path,
    name: str,
    fmt: str = "csv",
    *,
    suppressed: Mapping[str, int] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> Export:
    """Write ``df`` to ``directory/name.<ext>`` in format ``fmt`` and its sidecar manifest.

    Parameters
    ----------
    df : pandas.DataFrame
        The rows to write, in order.
    directory, name : path, str
        Output folder (created) and file stem.
    fmt : {"csv", "parquet", "jsonl"}
        File format; default ``"csv"``.
    suppressed : mapping, optional
        Rows held back before this call, per reason (e.g. ``{"do_not_contact": 3}``).
    extra : mapping, optional
        More fields for the sidecar (run id, parameters, priority...).

    Returns
    -------
    Export
        Paths of the file and the sidecar, and the sidecar content.

    Raises
    ------
    ExportError
        ``fmt`` is not one of :data:`FORMATS`.
    """
    if fmt not in FORMATS:
        raise ExportError(f"Unknown export format {fmt!r}; choose one of {', '.join(FORMATS)}.")
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}{FORMATS[fmt]}"
    df = df.reset_index(drop=True)
    tmp = path.with_name(path.name + ".tmp")
    if fmt == "csv":
        df.to_csv(tmp, index=False)
    elif fmt == "parquet":
        pq.write_table(pa.Table.from_pandas(df, preserve_index=False), tmp)
    else:
        df.to_json(tmp, orient="records", lines=True, force_ascii=False, date_format="iso", double_precision=15)
    tmp.replace(path)
    counts = {str(k): int(v) for k, v in (suppressed or {}).items() if int(v)}
    manifest: dict[str, Any] = {
        "name": name,
        "path": path.name,
        "format": fmt,
        "rows": int(len(df)),
        "columns": [str(c) for c in df.columns],
        "column_types": {str(c): _kind(df[c]) for c in df.columns},
        "list_version": content_version(df),
        "suppressed": counts,
        "suppressed_total": int(sum(counts.values())),
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    manifest.update(dict(extra or {}))
    sidecar = path.with_name(path.name + ".manifest.json")
    write_json(sidecar, manifest)
    return Export(path, sidecar, manifest)


def _kind(s: pd.Series) -> str:
    if pd.api.types.is_bool_dtype(s.dtype):
        return "bool"
    if pd.api.types.is_integer_dtype(s.dtype):
        return "int64"
    if pd.api.types.is_float_dtype(s.dtype):
        return "float64"
    return "string"


_PANDAS_TYPES = {"bool": "boolean", "int64": "Int64", "float64": "float64", "string": "string"}


def read_table(path: str | Path) -> pd.DataFrame:
    """Read a table written by :func:`export_table`, choosing the reader by file extension.

    Column types come from the sidecar when it exists, so pseudonyms that look like
    numbers stay text and integer columns with gaps stay integers (nullable).
    """
    path = Path(path)
    suffix = path.suffix.lower()
    sidecar = path.with_name(path.name + ".manifest.json")
    meta = read_json(sidecar) if sidecar.exists() else {}
    types: dict[str, str] = meta.get("column_types", {})
    columns: list[str] = meta.get("columns", [])
    if suffix == ".csv":
        df = pd.read_csv(path, dtype={c: str for c, t in types.items() if t == "string"})
    elif suffix == ".parquet":
        df = pq.read_table(path).to_pandas()
    elif suffix == ".jsonl":
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        df = pd.DataFrame.from_records(rows, columns=columns or None)
    else:
        raise ExportError(f"Cannot read {path}: unknown extension {suffix!r} (expected .csv, .parquet or .jsonl).")
    for col, kind in types.items():
        if col in df.columns:
            df[col] = df[col].astype(_PANDAS_TYPES[kind])
    return df[columns] if columns and set(columns) == set(df.columns) else df


def read_sidecar(path: str | Path) -> dict[str, Any]:
    """Return the sidecar manifest of an exported file."""
    path = Path(path)
    return read_json(path.with_name(path.name + ".manifest.json"))

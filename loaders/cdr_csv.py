"""Generic CDR files in CSV (any delimiter, optionally gzip-compressed).

The header is read and the delimiter sniffed in Python; DuckDB then reads every
field as text (``all_varchar``), so a bad value never makes a neighbouring row
disappear.  Structurally broken lines (wrong number of fields, bad quoting,
invalid UTF-8) are collected with DuckDB's ``store_rejects`` and carry their
physical line number.  Rows are numbered in file order (by their position in the
loader's stage table, not by ``row_number()``, which would read on one thread); the
physical line of a row with bad values is recovered by skipping the header, blank
lines and rejected lines (:func:`physical_lines`).  Quoted fields that span several lines
are read correctly but shift the reported line numbers after them.
"""

from __future__ import annotations

import bisect
import gzip
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Mapping, Sequence

import duckdb

from loaders.duck import sql_ident, sql_str
from loaders.errors import LoadError, mask_text
from loaders.validate import CDR_COLUMNS

DELIMITERS = (",", ";", "\t", "|")


@dataclass
class RawSource:
    """What a reader hands to the loader.

    Attributes
    ----------
    sql : str
        Raw relation with VARCHAR columns ``file, line, caller, callee, start_time, duration, type``.
    structural : list of dict
        Quarantine rows (without ``source``) for lines that could not be split into fields.
    line_mapper : callable or None
        Maps the ``line`` values of rows with bad values to physical line numbers (CSV only).
    """

    sql: str
    structural: list[dict] = field(default_factory=list)
    line_mapper: Callable[[Sequence[int]], list[int]] | None = None
    finish: Callable[[], None] | None = None  # collects ``structural`` once the relation was read
    label: str | None = None  # the ``file`` of every row, when all come from one file


def open_text(path: Path):
    """Open a possibly gzip-compressed text file."""
    if path.name.endswith(".gz"):
        return gzip.open(path, "rt", encoding="utf-8", errors="replace", newline="")
    return open(path, encoding="utf-8", errors="replace", newline="")


def read_header(path: Path, delimiter: str | None = None) -> tuple[list[str], str]:
    """Return the header fields and the delimiter of a CSV file.

    The delimiter, unless given, is the candidate among ``, ; TAB |`` that splits
    the header into the most fields.
    """
    with open_text(path) as fh:
        first = fh.readline().lstrip("\ufeff").rstrip("\r\n")
    if not first.strip():
        raise LoadError(f"{path}: empty file or empty header line; the first line must name the columns.")
    if delimiter is None:
        delimiter = max(DELIMITERS, key=lambda d: first.count(d))
        if first.count(delimiter) == 0:
            raise LoadError(f"{path}: cannot tell the delimiter from the header {first[:80]!r}; pass --delimiter.")
    names = [h.strip().strip('"').strip() for h in first.split(delimiter)]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise LoadError(f"{path}: the header names column(s) {', '.join(dupes)} more than once.")
    return names, delimiter


def resolve_columns(path: Path, header: Sequence[str], mapping: Mapping[str, str], wanted: Sequence[str],
                    optional: Sequence[str] = ()) -> dict[str, str | None]:
    """Map each wanted column to a header name (``--map column=NAME``, else same name, case-insensitive)."""
    lower = {h.lower(): h for h in header}
    out: dict[str, str | None] = {}
    missing = []
    for col in wanted:
        name = mapping.get(col, col)
        hit = name if name in header else lower.get(name.lower())
        if hit is None and col not in optional:
            missing.append(f"{col} (looked for {name!r})")
        out[col] = hit
    if missing:
        raise LoadError(
            f"{path}: missing column(s) {', '.join(missing)}; the header has {', '.join(header)}. "
            f"Map operator column names with --map column=NAME, e.g. --map caller=A_NUMBER."
        )
    return out


def csv_relation(path: Path, header: Sequence[str], delimiter: str, rejects: str) -> str:
    """``read_csv`` call reading every field of ``path`` as text, rejected lines stored under ``rejects``."""
    cols = "{" + ", ".join(f"{sql_str(h)}: 'VARCHAR'" for h in header) + "}"
    comp = ", compression='gzip'" if path.name.endswith(".gz") else ""
    return (f"read_csv({sql_str(str(path))}, columns={cols}, header=true, auto_detect=false, delim={sql_str(delimiter)}, "
            f"quote='\"', escape='\"', strict_mode=true, null_padding=false, store_rejects=true, "
            f"rejects_table={sql_str(rejects + '_errors')}, rejects_scan={sql_str(rejects + '_scans')}{comp})")


def structural_rejects(con: duckdb.DuckDBPyConnection, rejects: str, file_label: str, expected: int) -> list[dict]:
    """Quarantine rows for the lines DuckDB could not split, one per line."""
    try:
        rows = con.execute(
            f"SELECT line, min(error_type), min(csv_line), min(error_message) FROM {sql_ident(rejects + '_errors')} "
            f"GROUP BY line ORDER BY line").fetchall()
    except duckdb.CatalogException:
        return []
    out = []
    for line, etype, csv_line, message in rows:
        if etype in ("MISSING COLUMNS", "TOO MANY COLUMNS"):
            reason, note = "field_count", f"expected {expected} fields, found {(message or '').split(':')[-1].strip()}"
        else:
            reason, note = "bad_row", (etype or "unreadable").lower()
        out.append({"file": file_label, "line": int(line), "column": "", "value": mask_text((csv_line or "").strip("\r\n"))[:200],
                    "reason": reason, "note": note})
    return out


def blank_lines(con: duckdb.DuckDBPyConnection, path: Path) -> list[int]:
    """Physical numbers of empty lines (DuckDB skips them when reading rows).

    Uncompressed files are scanned with numpy (:func:`_blank_lines_scan`); gzip files by DuckDB.
    """
    if not path.name.endswith(".gz"):
        return _blank_lines_scan(path)
    comp = ", compression='gzip'" if path.name.endswith(".gz") else ""
    rel = (f"read_csv({sql_str(str(path))}, columns={{'l': 'VARCHAR'}}, delim='\\x1f', quote='', escape='', "
           f"header=false, auto_detect=false{comp})")
    return [r[0] for r in con.execute(
        f"SELECT ln FROM (SELECT row_number() OVER () AS ln, l FROM {rel}) WHERE l IS NULL OR l = '' ORDER BY ln").fetchall()]


def _blank_lines_scan(path: Path, chunk: int = 1 << 24) -> list[int]:
    """Blank lines (``\\n\\n`` or ``\\n\\r\\n``) of an uncompressed file, found with numpy in ``chunk``-byte reads.

    One vectorised pass over the bytes: the positions of the newlines, a blank line
    being a newline one byte after the previous one (or two, with a ``\\r`` between).
    The file is read into one reused buffer (faster than a memory map, whose page
    faults cost more than the copy).  The first line (the header) is never reported.
    """
    import numpy as np

    out: list[int] = []
    buf = np.zeros(chunk + 1, np.uint8)  # buf[0]: the last byte of the previous read
    prev, seen, at = -8, 0, 0  # position of the last newline so far, newlines so far, bytes so far
    with open(path, "rb", buffering=0) as fh:
        while n := fh.readinto(memoryview(buf)[1:]):
            data = buf[1:1 + n]
            nl = np.flatnonzero(data == 10)
            if nl.size:
                gap = np.diff(nl + at, prepend=prev)
                blank = (gap == 1) | ((gap == 2) & (buf[nl] == 13))  # buf[nl]: the byte before each newline
                out.extend((np.flatnonzero(blank) + seen + 1).tolist())  # the line ended by the j-th newline is line j + 1
                prev, seen = int(nl[-1]) + at, seen + int(nl.size)
            buf[0] = data[-1]
            at += n
    return out


def physical_lines(rows: Sequence[int], skipped: Sequence[int], header_lines: int = 1) -> list[int]:
    """Physical line of each 1-based data row number, skipping the header and the ``skipped`` lines.

    >>> physical_lines([1, 2, 3], skipped=[3, 4])
    [2, 5, 6]
    """
    skip = sorted(s for s in skipped if s > header_lines)
    out = []
    for k in rows:
        line, seen = header_lines + k, 0
        while True:
            c = bisect.bisect_right(skip, line)
            if c == seen:
                break
            line, seen = header_lines + k + c, c
        out.append(line)
    return out


def read_cdr_csv(con: duckdb.DuckDBPyConnection, path: Path, mapping: Mapping[str, str], delimiter: str | None,
                 tag: str, file_label: str | None = None) -> RawSource:
    """Raw relation of a CSV CDR file (see :class:`RawSource`)."""
    header, delim = read_header(path, delimiter)
    cols = resolve_columns(path, header, mapping, CDR_COLUMNS)
    label = file_label or str(path)
    rel = csv_relation(path, header, delim, tag)
    select = ", ".join(f"{sql_ident(cols[c])} AS {c}" for c in CDR_COLUMNS)
    sql = f"SELECT {sql_str(label)} AS file, NULL::BIGINT AS line, {select} FROM {rel}"  # line: the stage's rowid + 1
    src = RawSource(sql=sql, label=label)

    def mapper(rows: Sequence[int]) -> list[int]:
        skipped = [s["line"] for s in src.structural] + blank_lines(con, path)
        return physical_lines(rows, skipped)

    src.line_mapper = mapper
    src.finish = lambda: src.structural.extend(structural_rejects(con, tag, label, len(header)))
    return src

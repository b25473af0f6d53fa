"""Generic CDR files in CSV (any delimiter, optionally gzip-compressed, with or without a header).

The header is read and the delimiter sniffed in Python; DuckDB then reads every
field as text (``all_varchar``), so a bad value never makes a neighbouring row
disappear.  Lines that cannot be one record (an unbalanced quote, a stray carriage
return) are found before parsing by :mod:`bellwether.loaders.lines` and blanked in a copy the
reader gets instead; lines DuckDB still cannot split into fields (wrong number of
fields, bad quoting, invalid UTF-8) are collected with ``store_rejects`` and carry
their physical line number.  Rows are numbered in file order (by their position in the
loader's stage table, not by ``row_number()``, which would read on one thread); the
physical line of a row with bad values is recovered by skipping the header, blank
and broken lines and rejected lines (:func:`physical_lines`).

A layout may declare columns the file lacks: a constant (``type = "sms"`` for a file
of text messages) or nothing at all for ``duration`` (SMS need none).
"""

from __future__ import annotations

import bisect
import gzip
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Mapping, Sequence

import duckdb

from bellwether.graph.core.duck import sql_ident, sql_str
from bellwether.loaders.errors import LoadError, mask_text
from bellwether.loaders.lines import STRAY_CR, LineScan, clean_copy, is_gzip
from bellwether.loaders.validate import CDR_COLUMNS, OPTIONAL_CDR_COLUMNS

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
    lines: int | None = None  # physical lines of a text input, for the line accounting
    header_lines: int = 0
    blank_lines: list[int] = field(default_factory=list)  # blank lines after the header (skipped, counted)

    def attach_scan(self, scan: LineScan) -> None:
        """Take the physical line count and blank lines from the input's :class:`bellwether.loaders.lines.LineScan`."""
        self.lines = scan.lines
        self.blank_lines = [b for b in scan.blank if b > self.header_lines]


def open_text(path: Path):
    """Open a possibly gzip-compressed text file (compression told by content, not by name)."""
    if is_gzip(path):
        return gzip.open(path, "rt", encoding="utf-8", errors="replace", newline="")
    return open(path, encoding="utf-8", errors="replace", newline="")


def read_header(path: Path, delimiter: str | None = None, names: Sequence[str] | None = None) -> tuple[list[str], str]:
    """Return the column names and the delimiter of a CSV file.

    The names are the first line's fields, or ``names`` for a file without a header.
    The delimiter, unless given, is the candidate among ``, ; TAB |`` that splits
    the first line into the most fields (for a header-less file: into ``len(names)``
    fields); a one-column file needs none.
    """
    with open_text(path) as fh:
        first = fh.readline().lstrip("\ufeff").rstrip("\r\n")
    if not first.strip():
        raise LoadError(f"{path}: empty file or empty first line; the first line must name the columns "
                        "(or declare them with --columns for a file without a header).")
    if delimiter is None:
        if names:
            fits = [d for d in DELIMITERS if len(first.split(d)) == len(names)]
            if not fits:
                raise LoadError(f"{path}: the first line does not split into the {len(names)} declared columns with any "
                                f"of the delimiters , ; TAB |; pass --delimiter.")
            delimiter = fits[0]
        else:
            delimiter = max(DELIMITERS, key=lambda d: first.count(d))
            if first.count(delimiter) == 0:
                delimiter = ","  # one column
    if names:
        return list(names), delimiter
    names = [h.strip().strip('"').strip() for h in first.split(delimiter)]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise LoadError(f"{path}: the header names column(s) {', '.join(dupes)} more than once.")
    return names, delimiter


def resolve_columns(path: Path, header: Sequence[str], mapping: Mapping[str, str], wanted: Sequence[str],
                    optional: Sequence[str] = ()) -> dict[str, str | None]:
    """Map each wanted column to a header name (``--map column=NAME``, else same name, case-insensitive).

    An ``optional`` column the file lacks maps to None; a missing required one fails the file.
    """
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
            f"Map operator column names with --map column=NAME, e.g. --map caller=A_NUMBER, or give a constant "
            f"with --set column=VALUE (e.g. --set type=sms)."
        )
    return out


def select_columns(cols: Mapping[str, str | None], wanted: Sequence[str], constants: Mapping[str, str],
                   cast: bool = False) -> str:
    """SELECT list giving each wanted column: a constant, the file's column (as text), or NULL."""
    out = []
    for c in wanted:
        if c in constants:
            out.append(f"{sql_str(str(constants[c]))} AS {c}")
        elif cols.get(c):
            ref = sql_ident(cols[c])
            out.append(f"CAST({ref} AS VARCHAR) AS {c}" if cast else f"{ref} AS {c}")
        else:
            out.append(f"NULL::VARCHAR AS {c}")
    return ", ".join(out)


def csv_relation(path: Path, header: Sequence[str], delimiter: str, rejects: str, has_header: bool = True) -> str:
    """``read_csv`` call reading every field of ``path`` as text, rejected lines stored under ``rejects``."""
    cols = "{" + ", ".join(f"{sql_str(h)}: 'VARCHAR'" for h in header) + "}"
    comp = "gzip" if is_gzip(path) else "none"
    return (f"read_csv({sql_str(str(path))}, columns={cols}, header={str(has_header).lower()}, auto_detect=false, "
            f"delim={sql_str(delimiter)}, quote='\"', escape='\"', strict_mode=true, null_padding=false, store_rejects=true, "
            f"rejects_table={sql_str(rejects + '_errors')}, rejects_scan={sql_str(rejects + '_scans')}, compression='{comp}')")


def structural_rejects(con: duckdb.DuckDBPyConnection, rejects: str, file_label: str, expected: int) -> list[dict]:
    """Quarantine rows for the lines DuckDB could not split, one per line."""
    try:
        rows = con.execute(
            f"SELECT line, min(error_type), min(csv_line), min(error_message) FROM {sql_ident(rejects + '_errors')} "
            f"GROUP BY line ORDER BY line").fetchall()
    except duckdb.CatalogException:
        return []
    return [structural_reject(file_label, int(line), etype, csv_line, message, expected)
            for line, etype, csv_line, message in rows]


def structural_reject(file_label: str, line: int, error_type: str | None, csv_line: str | None, message: str | None,
                      expected: int) -> dict:
    """The quarantine row of one line a CSV reader could not split into fields.

    ``error_type`` and ``message`` are DuckDB's (``MISSING COLUMNS`` / ``TOO MANY COLUMNS`` with
    ``... Found: N``: a wrong field count; anything else, e.g. ``INVALID ENCODING``: an unreadable row);
    ``csv_line`` is the line's text, stored masked and cut short.
    """
    if error_type in ("MISSING COLUMNS", "TOO MANY COLUMNS"):
        reason, note = "field_count", f"expected {expected} fields, found {(message or '').split(':')[-1].strip()}"
    else:
        reason, note = "bad_row", (error_type or "unreadable").lower()
    return {"file": file_label, "line": int(line), "column": "", "value": mask_text((csv_line or "").strip("\r\n"))[:200],
            "reason": reason, "note": note}


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


def broken_rejects(broken: Mapping[int, str], text: Mapping[int, bytes], file_label: str) -> list[dict]:
    """Quarantine rows for the lines :mod:`bellwether.loaders.lines` found broken (masked text of each)."""
    out = []
    for line, reason in sorted(broken.items()):
        raw = text.get(line, b"").decode("utf-8", "replace").strip("\r\n")
        note = "" if reason == "unbalanced_quote" else STRAY_CR
        out.append({"file": file_label, "line": int(line), "column": "", "value": mask_text(raw)[:200],
                    "reason": reason, "note": note})
    return out


def read_cdr_csv(con: duckdb.DuckDBPyConnection, path: Path, mapping: Mapping[str, str], delimiter: str | None,
                 tag: str, file_label: str | None = None, *, names: Sequence[str] | None = None,
                 constants: Mapping[str, str] | None = None, scan: LineScan | None = None,
                 scratch: Path | None = None) -> RawSource:
    """Raw relation of a CSV CDR file (see :class:`RawSource`).

    ``names`` declares the columns of a file without a header; ``constants`` gives
    columns the file lacks; ``scan`` (:func:`bellwether.loaders.lines.scan_file`) lets broken lines
    be quarantined and the rest read from a clean copy under ``scratch``.
    """
    constants = dict(constants or {})
    header, delim = read_header(path, delimiter, names)
    has_header = not names
    optional = OPTIONAL_CDR_COLUMNS + tuple(constants)
    cols = resolve_columns(path, header, mapping, [c for c in CDR_COLUMNS if c not in constants], optional)
    label = file_label or str(path)
    header_lines = 1 if has_header else 0
    broken = {n: r for n, r in (scan.broken.items() if scan else ()) if n > header_lines}
    read_path, structural = path, []
    if broken or (scan is not None and scan.mixed_endings):
        if scratch is None:
            raise LoadError(f"{path}: has broken lines but no scratch directory to read around them.")
        copy = scratch / f"{tag}-clean.csv"
        text = clean_copy(path, set(broken), copy)
        structural = broken_rejects(broken, text, label)
        read_path = copy
    rel = csv_relation(read_path, header, delim, tag, has_header)
    select = select_columns(cols, CDR_COLUMNS, constants)
    sql = f"SELECT {sql_str(label)} AS file, NULL::BIGINT AS line, {select} FROM {rel}"  # line: the stage's rowid + 1
    src = RawSource(sql=sql, label=label, structural=structural, header_lines=header_lines)
    if scan is not None:
        src.attach_scan(scan)

    def mapper(rows: Sequence[int]) -> list[int]:
        return physical_lines(rows, [s["line"] for s in src.structural] + src.blank_lines, header_lines)

    src.line_mapper = mapper
    src.finish = lambda: src.structural.extend(structural_rejects(con, tag, label, len(header)))
    return src

"""Write the synthetic operator's files: monthly CDR CSVs, subscriber extract, do-not-contact list, truth.

CSV lines are assembled column-wise with Arrow compute kernels
(``binary_join_element_wise``) and the resulting string buffer is written in
one call, so tens of millions of rows need no Python loop.  Only the handful of
deliberately bad rows is built one by one.

Duplicates are exact copies of a record (same written form) placed a little
later in the same file, as a re-delivered mediation batch would be.  Bad rows
are *extra* rows derived from a real record with one defect each, so the good
records are exactly the planted traffic.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .numbers import FORMAT_PREFIXES
from .traffic import Records

__all__ = ["CDR_HEADER", "BAD_ROW_KINDS", "write_lines", "write_table_csv", "write_month"]

CDR_HEADER = "caller,callee,start_time,duration,type"
BAD_ROW_KINDS = ("bad_time", "negative_duration", "unknown_type", "bad_number", "self_call", "column_count")
CHUNK = 1_000_000


def _buffer_of(lines: pa.Array) -> memoryview:
    """The concatenated bytes of a string array without nulls (its data buffer between first and last offset)."""
    lines = lines.cast(pa.large_string()) if lines.type != pa.large_string() else lines
    _, offsets_buf, data_buf = lines.buffers()
    offsets = np.frombuffer(offsets_buf, dtype=np.int64)[lines.offset : lines.offset + len(lines) + 1]
    if len(lines) == 0:
        return memoryview(b"")
    return memoryview(data_buf)[int(offsets[0]) : int(offsets[-1])]


def write_lines(fh, columns: list[pa.Array]) -> None:
    """Write rows (one string array per column, no separators inside values) as CSV lines to ``fh``."""
    cols = list(columns[:-1]) + [pc.binary_join_element_wise(columns[-1], pa.scalar("\n"), "")]
    if len(cols) == 1:
        lines = cols[0]
    else:
        lines = pc.binary_join_element_wise(*cols, ",")
    fh.write(_buffer_of(lines))


def write_table_csv(path: Path, header: list[str], columns: list[pa.Array]) -> None:
    """A small CSV file: header line plus rows, unquoted (values hold no commas or quotes)."""
    with open(path, "wb") as fh:
        fh.write((",".join(header) + "\n").encode())
        if columns and len(columns[0]):
            write_lines(fh, columns)


def number_strings(numbers: np.ndarray, fmt: np.ndarray) -> pa.Array:
    """Written numbers: format prefix (``+86``, ``0086``, ``86`` or none) then the national number."""
    num = pc.cast(pa.array(numbers, type=pa.int64()), pa.string())
    prefix = pc.take(pa.array(FORMAT_PREFIXES), pa.array(fmt.astype(np.int32)))
    return pc.binary_join_element_wise(prefix, num, "")


def _bad_line(rng: np.random.Generator, kind: str, caller: str, callee: str, ts: datetime, dur: int, typ: str) -> str:
    t = ts.strftime("%Y-%m-%d %H:%M:%S")
    if kind == "bad_time":
        t = [
            "",
            "N/A",
            f"{ts:%Y-%m}-32 {ts:%H:%M:%S}",
            f"{ts:%Y-%m-%d} 25:{ts:%M:%S}",
            f"{ts:%d/%m/%Y}x{ts:%H%M}",
        ][rng.integers(5)]
    elif kind == "negative_duration":
        dur = -int(rng.integers(1, 900))
    elif kind == "unknown_type":
        typ = ["mms", "data", "ussd", "fax"][rng.integers(4)]
    elif kind == "bad_number":
        broken = ["", "N/A", caller[:5] + "x" + caller[6:] if len(caller) > 6 else caller + "x"][rng.integers(3)]
        if rng.random() < 0.5:
            caller = broken
        else:
            callee = broken
    elif kind == "self_call":
        callee = caller
    fields = [caller, callee, t, str(dur), typ]
    if kind == "column_count":
        fields = fields[:-1] if rng.random() < 0.5 else fields + ["1"]
    return ",".join(fields)


def write_month(
    path: Path,
    rng: np.random.Generator,
    rec: Records,
    caller_fmt: np.ndarray,
    callee_fmt: np.ndarray,
    number: np.ndarray,
    period_start: datetime,
    order_key: np.ndarray,
    bad_kinds: np.ndarray,
    rows: np.ndarray | None = None,
) -> None:
    """Write one month of records in ``order_key`` order, with bad rows inserted.

    ``rows`` (default: every record once) lists the records to write, an index repeated
    for each duplicate; ``order_key`` has one value per row.  ``bad_kinds`` holds one
    index into :data:`BAD_ROW_KINDS` per bad row to add.
    """
    order = np.argsort(order_key, kind="stable")
    if rows is not None:
        order = rows[order]
    n = order.size
    # bad rows: derived from random records of this month, inserted at random positions
    n_bad = bad_kinds.size
    bad_pos = np.sort(rng.integers(0, n + 1, size=n_bad))
    src = rng.integers(0, max(n, 1), size=n_bad)
    bad_lines = []
    for kind, s in zip(bad_kinds, src):
        i = int(order[s]) if n else 0
        caller = FORMAT_PREFIXES[caller_fmt[i]] + str(int(number[rec.caller[i]]))
        callee = FORMAT_PREFIXES[callee_fmt[i]] + str(int(number[rec.callee[i]]))
        ts = period_start + timedelta(seconds=int(rec.ts[i]))
        typ = "sms" if rec.sms[i] else "voice"
        bad_lines.append(_bad_line(rng, BAD_ROW_KINDS[kind], caller, callee, ts, int(rec.duration[i]), typ))
    base = np.datetime64(period_start, "s").astype(np.int64)
    types = pa.array(["voice", "sms"])
    with open(path, "wb") as fh:
        fh.write((CDR_HEADER + "\n").encode())
        b = 0
        for lo in range(0, max(n, 1), CHUNK):
            hi = min(lo + CHUNK, n)
            idx = order[lo:hi]
            cols = [
                number_strings(number[rec.caller[idx]], caller_fmt[idx]),
                number_strings(number[rec.callee[idx]], callee_fmt[idx]),
                pc.cast(pa.array((base + rec.ts[idx].astype(np.int64)).astype("datetime64[s]")), pa.string()),
                pc.cast(pa.array(rec.duration[idx]), pa.string()),
                pc.take(types, pa.array(rec.sms[idx].astype(np.int8))),
            ]
            cols[-1] = pc.binary_join_element_wise(cols[-1], pa.scalar("\n"), "")
            good = pc.binary_join_element_wise(*cols, ",")
            # bad rows whose position falls in [lo, hi) (the last chunk also takes position n)
            b_hi = np.searchsorted(bad_pos, hi, side="left") if hi < n else n_bad
            if b_hi > b:
                extra = pa.array([line + "\n" for line in bad_lines[b:b_hi]], type=pa.string())
                at = bad_pos[b:b_hi] - lo
                take = np.insert(np.arange(hi - lo), at, (hi - lo) + np.arange(b_hi - b))
                good = pc.take(pa.concat_arrays([good, extra]), pa.array(take))
                b = b_hi
            fh.write(_buffer_of(good))


def date_strings(day: np.ndarray, start: date) -> pa.Array:
    """``YYYY-MM-DD`` of ``start + day`` days, empty where ``day < 0``."""
    d = np.datetime64(start, "D") + np.maximum(day, 0).astype("timedelta64[D]")
    s = pc.cast(pa.array(d), pa.string())
    return pc.if_else(pa.array(day >= 0), s, pa.scalar(""))

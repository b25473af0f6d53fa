"""Row validation shared by every CDR reader: raw text columns in, typed columns and problem flags out.

A reader yields a *raw relation* (SQL text) with VARCHAR columns
``file, line, caller, callee, start_time, duration, type``; :func:`stage_rows`
streams it in file order, parses ``start_time`` and ``type`` in DuckDB
(:func:`typed_sql`) and the numbers and the duration in one compiled pass
(:mod:`loaders.kernels`), so every field of every row is checked (one quarantine
row per problem bit, :data:`FLAGS`); valid rows go to a stage table, rows with
problems come back with their raw fields.

``line`` may be NULL for every row (CSV readers): numbering rows with
``row_number() OVER ()`` makes DuckDB read the file on one thread, so a row's
number is instead its position in the ordered stream (DuckDB still reads the
file on every thread; ``preserve_insertion_order`` keeps the order).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Mapping

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from loaders.duck import sql_str

#: Default accepted values of the ``type`` column (compared lower-cased) and their record type.
DEFAULT_TYPE_VALUES: Mapping[str, str] = {"voice": "voice", "call": "voice", "sms": "sms", "text": "sms"}
DEFAULT_TIME_FORMATS: tuple[str, ...] = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S")
CDR_COLUMNS: tuple[str, ...] = ("caller", "callee", "start_time", "duration", "type")

# problem bits of the stage ``flags`` column: (bit, reason slug, column)
FLAGS: tuple[tuple[int, str, str], ...] = (
    (1, "missing_number", "caller"),
    (2, "bad_number", "caller"),
    (4, "missing_number", "callee"),
    (8, "bad_number", "callee"),
    (16, "bad_time", "start_time"),
    (32, "bad_duration", "duration"),
    (64, "bad_type", "type"),
    (128, "self_contact", ""),
)


@dataclass(frozen=True)
class CdrRules:
    """How raw CDR text is read.

    Attributes
    ----------
    country_code : str
        Country code for national numbers (``--country-code``).
    time_formats : tuple of str
        strptime formats tried in order for ``start_time``.
    type_values : mapping
        Lower-cased ``type`` values accepted, each mapped to ``"voice"`` or ``"sms"``.
    """

    country_code: str = "86"
    time_formats: tuple[str, ...] = DEFAULT_TIME_FORMATS
    type_values: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_TYPE_VALUES))

    def type_note(self) -> str:
        return ", ".join(sorted(self.type_values))


def typed_sql(raw: str, rules: CdrRules, with_file: bool = True) -> str:
    """SQL selecting from raw relation ``raw`` its text columns plus ``ts`` and ``ty``.

    ``ts`` is ``start_time`` as a TIMESTAMP to the second (NULL when it does not
    parse with ``rules.time_formats``), ``ty`` the record type (0 voice, 1 sms,
    NULL for a value not in ``rules.type_values``).  ``file`` is left out with
    ``with_file=False`` (a reader whose rows all come from one file).
    """
    if tuple(rules.time_formats) == DEFAULT_TIME_FORMATS:  # fast path: ISO 8601 to the second, ' ' or 'T'
        ts = "CASE WHEN length(start_time) = 19 THEN TRY_CAST(start_time AS TIMESTAMP) END"
    else:
        parse = " , ".join(f"try_strptime(start_time, {sql_str(f)})" for f in rules.time_formats)
        ts = f"date_trunc('second', coalesce({parse}))" if len(rules.time_formats) > 1 else f"date_trunc('second', {parse})"
    types = " ".join(
        f"WHEN {sql_str(k.lower())} THEN {0 if v == 'voice' else 1}" for k, v in sorted(rules.type_values.items())
    )
    file = "file, " if with_file else ""
    return (f"SELECT {file}line, caller, callee, start_time, duration, type, CAST({ts} AS TIMESTAMP) AS ts, "
            f"(CASE type {types} ELSE CASE lower(trim(type)) {types} END END)::UTINYINT AS ty FROM ({raw})")


STAGE_COLUMNS = "c BIGINT, e BIGINT, ts TIMESTAMP, d INTEGER, ty UTINYINT"


@dataclass
class Staged:
    """What :func:`stage_rows` found: row counts, the time range of valid rows and the rows with problems."""

    rows: int = 0
    valid: int = 0
    first: datetime | None = None
    last: datetime | None = None
    histogram: np.ndarray = field(default_factory=lambda: np.zeros(256, np.int64))  # rows per value of ``flags``
    bad: list[pa.Table] = field(default_factory=list)

    def rows_with(self, mask: int) -> int:
        """Rows with any of the problem bits of ``mask``."""
        return int(self.histogram[(np.arange(256) & mask) != 0].sum())

    def bad_table(self) -> pa.Table:
        """Rows with problems: ``flags``, ``line`` and the raw fields (:data:`BAD_FIELDS`)."""
        if self.bad:
            return pa.concat_tables(self.bad)
        return pa.table({f: pa.array([], pa.int64() if f in ("flags", "line") else pa.string()) for f in ("flags",) + BAD_FIELDS})


def stage_rows(con: duckdb.DuckDBPyConnection, raw: str, rules: CdrRules, stage: str, file_label: str | None = None,
               batch_rows: int = 1 << 20) -> Staged:
    """Validate every row of raw relation ``raw``; store the valid ones in table ``stage``.

    ``stage`` (columns :data:`STAGE_COLUMNS`: number codes ``c, e``, ``ts``, ``d``
    seconds (0 for SMS), ``ty`` 0 voice / 1 sms) is a table of the connection's
    database, filled from a second connection while the first streams ``raw`` in
    file order as Arrow batches; each batch is checked in one compiled pass
    (:func:`loaders.kernels.row_problems`), so memory stays at one batch plus
    what DuckDB keeps (it spills beyond its memory limit).  Rows with problems are
    returned with their problem bits (:data:`FLAGS`) and raw fields; a NULL
    ``line`` becomes the row's 1-based position in ``raw``.  ``file_label``, when
    given, is the ``file`` of every row (``raw`` then needs no ``file`` column).
    """
    from loaders.kernels import row_problems

    out = Staged()
    writer = con.cursor()
    try:
        writer.execute(f"CREATE OR REPLACE TABLE {stage} ({STAGE_COLUMNS})")
        reader = con.sql(typed_sql(raw, rules, with_file=file_label is None)).to_arrow_reader(batch_rows)
        for batch in reader:
            n = batch.num_rows
            ts = batch.column("ts")
            ty = batch.column("ty").fill_null(255).to_numpy(zero_copy_only=False)
            c, e, d, flags = row_problems(batch.column("caller"), batch.column("callee"), batch.column("duration"),
                                          ts.is_null().to_numpy(zero_copy_only=False), ty, rules.country_code)
            out.histogram += np.bincount(flags, minlength=256)
            ok = flags == 0
            good = pa.table({"c": c, "e": e, "ts": ts, "d": d, "ty": ty}).filter(pa.array(ok))
            if good.num_rows:
                lo, hi = pc.min_max(good.column("ts")).values()
                lo, hi = lo.as_py(), hi.as_py()
                out.first = lo if out.first is None else min(out.first, lo)
                out.last = hi if out.last is None else max(out.last, hi)
                writer.register("stage_batch", good)
                writer.execute(f"INSERT INTO {stage} SELECT * FROM stage_batch")
                writer.unregister("stage_batch")
            if not ok.all():
                idx = np.flatnonzero(~ok)
                take = pa.array(idx)
                line = batch.column("line").take(take).cast(pa.int64())
                line = pc.coalesce(line, pa.array(idx + out.rows + 1, pa.int64()))
                file = (pa.array([file_label] * len(idx), pa.string()) if file_label is not None
                        else batch.column("file").take(take).cast(pa.string()))
                out.bad.append(pa.table({
                    "flags": pa.array(flags[idx].astype(np.int64)), "line": line, "bad_file": file,
                    **{f"raw_{col}": batch.column(col).take(take).cast(pa.string()) for col in CDR_COLUMNS}}))
            out.rows += n
        out.valid = int(out.histogram[0])
    finally:
        writer.close()
    return out


BAD_FIELDS: tuple[str, ...] = ("line", "bad_file", "raw_caller", "raw_callee", "raw_start_time", "raw_duration", "raw_type")


def bad_rows_sql(stage: str, fields: tuple[str, ...] = BAD_FIELDS) -> str:
    """The rows of ``stage`` with problems, ``bad`` split back into ``line``, ``bad_file`` and raw columns.

    A NULL ``line`` becomes the row's position in ``stage`` (``rowid + 1``): ``stage``
    must then be a table created from the raw relation with insertion order preserved.
    """
    cols = ", ".join(
        (f"coalesce(TRY_CAST(split_part(bad, chr(31), {i + 1}) AS BIGINT), rowid + 1) AS line" if f == "line"
         else f"split_part(bad, chr(31), {i + 1}) AS {f}")
        for i, f in enumerate(fields))
    return f"(SELECT flags, {cols} FROM {stage} WHERE flags <> 0)"

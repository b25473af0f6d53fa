"""Row validation shared by every CDR reader: raw text columns in, typed columns and problem flags out.

A reader yields a *raw relation* (SQL text) with VARCHAR columns
``file, line, caller, callee, start_time, duration, type``; :func:`stage_rows`
streams it in file order, parses ``type`` (and a strftime ``start_time``) in DuckDB
(:func:`typed_sql`), the numbers and the duration in one compiled pass
(:mod:`bellwether.loaders.kernels`) and the times in another (:mod:`bellwether.loaders.times`), so every field of every row is checked (one quarantine
row per problem bit, :data:`FLAGS`); valid rows go to a stage table, rows with
problems come back with their raw fields.

``line`` may be NULL for every row (CSV readers): numbering rows with
``row_number() OVER ()`` makes DuckDB read the file on one thread, so a row's
number is instead its position in the ordered stream (DuckDB still reads the
file on every thread; ``preserve_insertion_order`` keeps the order).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Mapping

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from bellwether.graph.core.duck import sql_str
from bellwether.loaders.times import TimeRules, in_range, parse_times

#: Default accepted values of the ``type`` column (compared lower-cased) and their record type.
DEFAULT_TYPE_VALUES: Mapping[str, str] = {"voice": "voice", "call": "voice", "sms": "sms", "text": "sms"}
CDR_COLUMNS: tuple[str, ...] = ("caller", "callee", "start_time", "duration", "type")
#: Columns a file may leave out when the layout says so: ``duration`` (SMS-only files), ``type`` (given per file).
OPTIONAL_CDR_COLUMNS: tuple[str, ...] = ("duration", "type")
ID_KINDS: tuple[str, ...] = ("phone", "opaque")
FAILED_CALL_POLICIES: tuple[str, ...] = ("keep", "drop")
#: Duration text marking a call attempt that was not answered (``-1`` in research and many operator exports).
FAILED_CALL_DURATION = "-1"

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
    (256, "time_out_of_range", "start_time"),
)
N_FLAG_VALUES = 512
_EPOCH = datetime(1970, 1, 1)


@dataclass(frozen=True)
class CdrRules:
    """How raw CDR text is read.

    Attributes
    ----------
    country_code : str
        Country code for national numbers (``--country-code``).
    time : TimeRules
        How ``start_time`` is read and which times are plausible (:mod:`bellwether.loaders.times`).
    type_values : mapping
        Lower-cased ``type`` values accepted, each mapped to ``"voice"`` or ``"sms"``.
    id_kind : str
        ``"phone"``: caller and callee are phone numbers (E.164 rules, short codes are
        service numbers); ``"opaque"``: any non-empty token is an id (research exports,
        hashed ids), service numbers are found by behaviour only.
    failed_calls : str
        A voice record with duration ``-1`` is a call attempt that was not answered:
        ``"keep"`` it as a call with 0 seconds, or ``"drop"`` it (counted, not quarantined).
    """

    country_code: str = "86"
    time: TimeRules = field(default_factory=TimeRules)
    type_values: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_TYPE_VALUES))
    id_kind: str = "phone"
    failed_calls: str = "keep"

    def __post_init__(self) -> None:
        from bellwether.loaders.errors import LoadError

        if self.id_kind not in ID_KINDS:
            raise LoadError(f"id kind {self.id_kind!r} is not one of {', '.join(ID_KINDS)} (--id-kind).")
        if self.failed_calls not in FAILED_CALL_POLICIES:
            raise LoadError(f"failed-call policy {self.failed_calls!r} is not one of {', '.join(FAILED_CALL_POLICIES)} "
                            "(--failed-calls).")
        bad = sorted(v for v in self.type_values.values() if v not in ("voice", "sms"))
        if bad:
            raise LoadError(f"type values must map to voice or sms, got {', '.join(map(repr, bad))}.")

    def type_note(self) -> str:
        return ", ".join(sorted(self.type_values))


#: Fixed key deriving the 64-bit codes of opaque ids when nothing is pseudonymised (the ids are then the tokens).
OPAQUE_CODE_KEY = b"bellwether opaque id codes (not a secret)"


def _trimmed(col: str) -> str:
    return f"nullif(trim({col}, ' ' || chr(9) || chr(10) || chr(11) || chr(12) || chr(13)), '')"


def opaque_code_sql(col: str, key: bytes | None) -> str:
    """DuckDB expression: the 64-bit code (BIGINT) of an opaque id, HMAC-SHA256 of the trimmed token; NULL when empty.

    With a key the code is the pseudonym itself (:func:`bellwether.loaders.pseudonym.hmac_id` read as a
    64-bit number); without one it is keyed with :data:`OPAQUE_CODE_KEY` and the token is kept.
    """
    from bellwether.loaders.pseudonym import hmac_key_sql

    u = hmac_key_sql(_trimmed(col), key or OPAQUE_CODE_KEY)
    return f"CAST(CAST({u} AS HUGEINT) - CASE WHEN {u} >= 9223372036854775808 THEN 18446744073709551616 ELSE 0 END AS BIGINT)"


def typed_sql(raw: str, rules: CdrRules, with_file: bool = True, opaque_key: bytes | None = None) -> str:
    """SQL selecting from raw relation ``raw`` its text columns plus ``ts``, ``ty`` and, for opaque ids, ``oc, oe``.

    ``ts`` is ``start_time`` parsed with a strftime format (a TIMESTAMP to the second,
    NULL when the value does not match); for the ``iso``, ``epoch`` and ``offset`` formats
    it is NULL here and the compiled parser reads the text (:func:`bellwether.loaders.times.parse_times`).
    ``ty`` is the record type (0 voice, 1 sms, NULL for a value not in ``rules.type_values``).
    ``oc, oe``: the codes of opaque caller and callee ids (:func:`opaque_code_sql`).
    ``file`` is left out with ``with_file=False`` (a reader whose rows all come from one file).
    """
    t = rules.time
    if t.strftime:
        ts = f"try_strptime(start_time, {sql_str(t.format)})"
        if "%z" in t.format or "%Z" in t.format:  # an instant: to the operator's wall clock
            ts = f"timezone({sql_str(t.timezone)}, {ts})"
        ts = f"date_trunc('second', CAST({ts} AS TIMESTAMP))"
    else:
        ts = "NULL"
    types = " ".join(
        f"WHEN {sql_str(k.lower())} THEN {0 if v == 'voice' else 1}" for k, v in sorted(rules.type_values.items())
    )
    file = "file, " if with_file else ""
    opaque = ""
    if rules.id_kind == "opaque":
        opaque = f", {opaque_code_sql('caller', opaque_key)} AS oc, {opaque_code_sql('callee', opaque_key)} AS oe"
    return (f"SELECT {file}line, caller, callee, start_time, duration, type, CAST({ts} AS TIMESTAMP) AS ts, "
            f"(CASE type {types} ELSE CASE lower(trim(type)) {types} END END)::UTINYINT AS ty{opaque} FROM ({raw})")


STAGE_COLUMNS = "c BIGINT, e BIGINT, ts TIMESTAMP, d INTEGER, ty UTINYINT"


@dataclass
class Staged:
    """What :func:`stage_rows` found: row counts, the time range and days of valid rows and the rows with problems."""

    rows: int = 0
    valid: int = 0
    first: datetime | None = None
    last: datetime | None = None
    histogram: np.ndarray = field(default_factory=lambda: np.zeros(N_FLAG_VALUES, np.int64))  # rows per value of ``flags``
    bad: list[pa.Table] = field(default_factory=list)
    attempts: int = 0  # valid voice rows that were unanswered attempts (duration -1)
    dropped: int = 0  # of those, dropped by the failed-call policy
    days: dict[str, int] = field(default_factory=dict)  # valid rows per calendar day

    def rows_with(self, mask: int) -> int:
        """Rows with any of the problem bits of ``mask``."""
        return int(self.histogram[(np.arange(N_FLAG_VALUES) & mask) != 0].sum())

    def bad_table(self) -> pa.Table:
        """Rows with problems: ``flags``, ``line`` and the raw fields (:data:`BAD_FIELDS`)."""
        if self.bad:
            return pa.concat_tables(self.bad)
        return pa.table({f: pa.array([], pa.int64() if f in ("flags", "line") else pa.string()) for f in ("flags",) + BAD_FIELDS})


def _times(batch: pa.RecordBatch, rules: CdrRules) -> tuple[np.ndarray, np.ndarray]:
    """Wall-clock seconds and 'did not parse' of each row's ``start_time``."""
    if rules.time.strftime:
        ts = batch.column("ts")
        bad = ts.is_null().to_numpy(zero_copy_only=False)
        secs = ts.cast(pa.timestamp("s")).cast(pa.int64()).fill_null(0).to_numpy(zero_copy_only=False)
        return secs, bad
    secs, status = parse_times(batch.column("start_time"), rules.time)
    return secs, status != 0


def _record_days(secs: np.ndarray, out: dict[str, int]) -> None:
    """Add the rows per calendar day of wall-clock ``secs`` to ``out`` (times are in the plausible range: few days)."""
    days = secs // 86400
    first = int(days.min())
    counts = np.bincount(days - first)
    for d in np.flatnonzero(counts).tolist():
        key = str(np.datetime64(first + d, "D"))
        out[key] = out.get(key, 0) + int(counts[d])


@dataclass
class BatchCheck:
    """The checks of one batch of typed raw rows (:func:`check_batch`); arrays are row-aligned."""

    secs: np.ndarray  # wall-clock seconds of ``start_time`` (0 where it did not parse)
    c: np.ndarray  # caller code (int64)
    e: np.ndarray  # callee code (int64)
    d: np.ndarray  # seconds (int32; 0 for SMS and unanswered attempts)
    ty: np.ndarray  # record type (uint8: 0 voice, 1 sms, 255 not accepted)
    flags: np.ndarray  # problem bits of :data:`FLAGS` (uint16; 0: a valid row)
    ok: np.ndarray  # flags == 0
    attempt: np.ndarray  # valid voice rows that were unanswered attempts (duration -1)
    keep: np.ndarray  # valid rows kept by the failed-call policy


def check_batch(batch: pa.RecordBatch, rules: CdrRules) -> BatchCheck:
    """Every row rule of the loader on one batch of :func:`typed_sql` output (pure: no I/O, no state).

    Numbers and durations in one compiled pass (:func:`bellwether.loaders.kernels.row_problems`), times
    by :func:`bellwether.loaders.times.parse_times` (or ``ts`` for a strftime format), the plausible time
    range, and the failed-call policy.  The DuckDB loader (:func:`stage_rows`) and the Spark loader's
    tasks (:mod:`bellwether.loaders.spark`) both call it, so the rules exist once.
    """
    from bellwether.loaders.kernels import row_problems

    secs, ts_bad = _times(batch, rules)
    ty = batch.column("ty").fill_null(255).to_numpy(zero_copy_only=False)
    codes = (batch.column("oc"), batch.column("oe")) if rules.id_kind == "opaque" else None
    c, e, d, flags8, attempt = row_problems(batch.column("caller"), batch.column("callee"), batch.column("duration"),
                                            ts_bad, ty, rules.country_code, codes)
    flags = flags8.astype(np.uint16)
    flags[~ts_bad & ~in_range(secs, rules.time)] |= 256
    ok = flags == 0
    attempt &= ok
    keep = ok & ~attempt if rules.failed_calls == "drop" else ok
    return BatchCheck(secs, c, e, d, ty, flags, ok, attempt, keep)


def stage_rows(con: duckdb.DuckDBPyConnection, raw: str, rules: CdrRules, stage: str, file_label: str | None = None,
               batch_rows: int = 1 << 20, opaque_key: bytes | None = None, keep_tokens: str | None = None) -> Staged:
    """Validate every row of raw relation ``raw``; store the valid ones in table ``stage``.

    ``stage`` (columns :data:`STAGE_COLUMNS`: number codes ``c, e``, ``ts``, ``d``
    seconds (0 for SMS and unanswered calls), ``ty`` 0 voice / 1 sms) is a table of the connection's
    database, filled from a second connection while the first streams ``raw`` in
    file order as Arrow batches; each batch is checked in one compiled pass
    (:func:`bellwether.loaders.kernels.row_problems`, :func:`bellwether.loaders.times.parse_times`), so memory stays at one batch plus
    what DuckDB keeps (it spills beyond its memory limit).  Rows with problems are
    returned with their problem bits (:data:`FLAGS`) and raw fields; a NULL
    ``line`` becomes the row's 1-based position in ``raw``.  ``file_label``, when
    given, is the ``file`` of every row (``raw`` then needs no ``file`` column).
    Opaque ids (``rules.id_kind``) get their codes from :func:`opaque_code_sql` with ``opaque_key``;
    ``keep_tokens`` names a table ``(code, token)`` that receives the trimmed ids of valid rows
    (for loads that keep opaque ids in the clear).
    """
    out = Staged()
    writer = con.cursor()
    try:
        writer.execute(f"CREATE OR REPLACE TABLE {stage} ({STAGE_COLUMNS})")
        sql = typed_sql(raw, rules, with_file=file_label is None, opaque_key=opaque_key)
        reader = con.sql(sql).to_arrow_reader(batch_rows)
        for batch in reader:
            n = batch.num_rows
            chk = check_batch(batch, rules)
            secs, c, e, d, ty, flags, ok, keep = chk.secs, chk.c, chk.e, chk.d, chk.ty, chk.flags, chk.ok, chk.keep
            out.histogram += np.bincount(flags, minlength=N_FLAG_VALUES)
            out.attempts += int(chk.attempt.sum())
            if rules.failed_calls == "drop":
                out.dropped += int(chk.attempt.sum())
            ts = pa.array(secs, pa.int64()).cast(pa.timestamp("s"))
            good = pa.table({"c": c, "e": e, "ts": ts, "d": d, "ty": ty}).filter(pa.array(keep))
            if good.num_rows:
                kept_secs = secs[keep]
                lo, hi = _EPOCH + timedelta(seconds=int(kept_secs.min())), _EPOCH + timedelta(seconds=int(kept_secs.max()))
                out.first = lo if out.first is None else min(out.first, lo)
                out.last = hi if out.last is None else max(out.last, hi)
                _record_days(kept_secs, out.days)
                writer.register("stage_batch", good)
                writer.execute(f"INSERT INTO {stage} SELECT * FROM stage_batch")
                writer.unregister("stage_batch")
                if keep_tokens:
                    _keep_tokens(writer, keep_tokens, batch, pa.array(keep), c, e)
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


_WHITESPACE = " \t\n\v\f\r"


def _keep_tokens(con, table: str, batch: pa.RecordBatch, keep: pa.Array, c: np.ndarray, e: np.ndarray) -> None:
    """Add the distinct (code, trimmed id) pairs of the kept rows to ``table``."""
    parts = [pa.table({"code": pa.array(codes).filter(keep),
                       "token": pc.utf8_trim(batch.column(col).filter(keep), _WHITESPACE)})
             for col, codes in (("caller", c), ("callee", e))]
    con.register("token_batch", pa.concat_tables(parts))
    con.execute(f"INSERT INTO {table} SELECT DISTINCT code, token FROM token_batch t "
                f"WHERE NOT EXISTS (SELECT 1 FROM {table} k WHERE k.code = t.code AND k.token = t.token)")
    con.unregister("token_batch")


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

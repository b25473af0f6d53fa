"""Row validation shared by every CDR reader: raw text columns in, typed columns and problem flags out.

A reader yields a *raw relation* (SQL text) with VARCHAR columns
``file, line, caller, callee, start_time, duration, type``; :func:`stage_sql`
turns it, in one pass, into typed columns plus a bit mask of problems, so every
field of every row is checked (one quarantine row per problem).

``line`` may be NULL for every row (CSV readers): numbering rows with
``row_number() OVER ()`` makes DuckDB read the file on one thread, so the stage is
instead created as a table with insertion order preserved (a parallel, order-keeping
insert) and a row's number is its ``rowid + 1`` (:func:`bad_rows_sql`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

from loaders.duck import sql_str
from loaders.msisdn import code_sql, trim_sql

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


def stage_sql(raw: str, rules: CdrRules) -> str:
    """SQL selecting, from raw relation ``raw``, the typed stage columns.

    Columns: ``file, line`` (as in ``raw``), ``c, e`` (BIGINT number codes of caller
    and callee, see :func:`loaders.msisdn.code_sql`), ``ts`` (TIMESTAMP, whole
    seconds), ``d`` (INTEGER seconds, 0 for SMS), ``ty`` (0 voice, 1 sms),
    ``flags`` (problem bits, :data:`FLAGS`) and ``bad``: NULL for a valid row, else
    ``line, file`` and the raw values joined by the unit separator (chr 31), so the
    stage holds one nearly empty column for them (see :func:`bad_rows_sql`).
    """
    if tuple(rules.time_formats) == DEFAULT_TIME_FORMATS:  # fast path: ISO 8601 to the second, ' ' or 'T'
        ts = "CASE WHEN length(start_time) = 19 THEN TRY_CAST(start_time AS TIMESTAMP) END"
    else:
        parse = " , ".join(f"try_strptime(start_time, {sql_str(f)})" for f in rules.time_formats)
        ts = f"date_trunc('second', coalesce({parse}))" if len(rules.time_formats) > 1 else f"date_trunc('second', {parse})"
    types = " ".join(
        f"WHEN {sql_str(k.lower())} THEN {0 if v == 'voice' else 1}" for k, v in sorted(rules.type_values.items())
    )
    cc = rules.country_code
    return f"""
SELECT c, e, ts, d, ty, flags,
  CASE WHEN flags <> 0 THEN concat_ws(chr(31), coalesce(CAST(line AS VARCHAR), ''), file, coalesce(raw_caller, ''), coalesce(raw_callee, ''),
    coalesce(raw_start_time, ''), coalesce(raw_duration, ''), coalesce(raw_type, '')) END AS bad
FROM (
SELECT file, line, c, e, ts,
  CASE WHEN ty = 1 THEN 0 ELSE d END::INTEGER AS d, ty,
  ( (CASE WHEN c IS NULL THEN (CASE WHEN caller_empty THEN 1 ELSE 2 END) ELSE 0 END)
  + (CASE WHEN e IS NULL THEN (CASE WHEN callee_empty THEN 4 ELSE 8 END) ELSE 0 END)
  + (CASE WHEN ts IS NULL THEN 16 ELSE 0 END)
  + (CASE WHEN (d IS NULL AND NOT dur_empty) OR (dur_empty AND ty = 0) THEN 32 ELSE 0 END)
  + (CASE WHEN ty IS NULL THEN 64 ELSE 0 END)
  + (CASE WHEN c = e THEN 128 ELSE 0 END) )::INTEGER AS flags,
  raw_caller, raw_callee, raw_start_time, raw_duration, raw_type
FROM (
  SELECT file, line,
    {code_sql('caller', cc, 'caller_v')} AS c,
    {code_sql('callee', cc, 'callee_v')} AS e,
    caller IS NULL OR caller = '' AS caller_empty,
    callee IS NULL OR callee = '' AS callee_empty,
    {ts} AS ts,
    CASE WHEN regexp_full_match(duration, '[0-9]+') THEN TRY_CAST(duration AS INTEGER) END AS d,
    duration IS NULL OR duration = '' AS dur_empty,
    (CASE type {types} ELSE CASE lower(trim(type)) {types} END END)::UTINYINT AS ty,
    caller AS raw_caller, callee AS raw_callee, start_time AS raw_start_time, duration AS raw_duration, type AS raw_type
  FROM (SELECT *, TRY_CAST(caller AS BIGINT) AS caller_v, TRY_CAST(callee AS BIGINT) AS callee_v FROM (
    SELECT file, line, {trim_sql('caller')} AS caller, {trim_sql('callee')} AS callee, start_time, duration, type FROM ({raw})))
))"""


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


def flag_counts_sql(stage: str) -> str:
    """SQL counting rows per problem bit, total rows, valid rows and the time range of valid rows."""
    parts = ", ".join(f"count(*) FILTER (flags & {bit} <> 0) AS f{bit}" for bit, _, _ in FLAGS)
    return (f"SELECT count(*) AS n, count(*) FILTER (flags = 0) AS ok, count(*) FILTER (flags <> 0) AS bad, "
            f"min(ts) FILTER (flags = 0) AS t0, max(ts) FILTER (flags = 0) AS t1, {parts} FROM {stage}")

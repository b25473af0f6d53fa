"""The Spark task of the load: numbered lines of one CSV input in, checked rows out (pure per batch).

A task gets Arrow batches of ``(line, value)``: the physical line number and the line's bytes.
:func:`check_lines` does for each batch what the DuckDB loader does for the same lines:

1. the header, blank lines and the lines :mod:`bellwether.loaders.lines` found broken are set aside
   (broken ones become quarantine rows through :func:`bellwether.loaders.cdr_csv.broken_rejects`);
2. the other lines are split into fields (:mod:`.fields`); lines that cannot be split become
   quarantine rows through :func:`bellwether.loaders.cdr_csv.structural_reject`;
3. the fields go through the loader's own typing SQL (:func:`bellwether.loaders.validate.typed_sql`,
   in an in-process DuckDB) and compiled checks (:func:`bellwether.loaders.validate.check_batch`).

Every output row is one of: ``kind`` 0 a valid row (codes, pseudonyms (:mod:`.records`), time, duration,
type, attempt/keep),
1 a row with problems (``flags`` and its raw fields), 2 a line set aside (``reason``, ``note``,
``value``, masked).  :data:`CHECKED_SCHEMA` is the output's Spark schema.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterator, Mapping, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from bellwether.loaders.cdr_csv import broken_rejects, structural_reject
from bellwether.loaders.spark.fields import split_lines
from bellwether.loaders.spark.records import pseudonyms
from bellwether.loaders.validate import CDR_COLUMNS, CdrRules, check_batch, typed_sql

VALID, BAD, SET_ASIDE = 0, 1, 2

CHECKED_SCHEMA = ("line long, kind byte, flags int, attempt boolean, keep boolean, c long, e long, caller long, callee long, "
                  "ts long, d int, ty byte, "
                  "raw_caller string, raw_callee string, raw_start_time string, raw_duration string, raw_type string, "
                  "reason string, note string, value string")

_ARROW = pa.schema([
    ("line", pa.int64()), ("kind", pa.int8()), ("flags", pa.int32()), ("attempt", pa.bool_()), ("keep", pa.bool_()),
    ("c", pa.int64()), ("e", pa.int64()), ("caller", pa.int64()), ("callee", pa.int64()), ("ts", pa.int64()), ("d", pa.int32()), ("ty", pa.int8()),
    *[(f"raw_{c}", pa.string()) for c in CDR_COLUMNS], ("reason", pa.string()), ("note", pa.string()), ("value", pa.string()),
])


@dataclass(frozen=True)
class LineSpec:
    """How the lines of one CSV input are read (shipped to the tasks).

    ``columns`` maps each CDR column to its field index in a line (None: not in the file);
    ``constants`` gives columns the file lacks; ``key`` the pseudonymisation key; ``broken`` the lines set aside before parsing
    (line -> reason, :attr:`bellwether.loaders.lines.LineScan.broken`); ``offsets`` the line number
    before the first line of each Spark partition.
    """

    label: str
    delimiter: str
    n_fields: int
    columns: Mapping[str, int | None]
    constants: Mapping[str, str]
    header_lines: int
    rules: CdrRules
    key: bytes = b""
    opaque_key: bytes | None = None
    broken: Mapping[int, str] = field(default_factory=dict)
    offsets: Mapping[int, int] = field(default_factory=dict)


def _strip_cr(raw: pa.Array) -> pa.Array:
    """The lines without one trailing carriage return (CR LF line ends)."""
    ends = pc.equal(pc.binary_slice(raw, -1), b"\r").fill_null(False)
    return pc.if_else(ends, pc.binary_slice(raw, 0, -1), raw)


def _empty(n: int, **columns) -> pa.RecordBatch:
    """An output batch of ``n`` rows: the given columns, NULL elsewhere."""
    arrays = [columns.get(f.name, pa.nulls(n, f.type)) for f in _ARROW]
    return pa.RecordBatch.from_arrays([a if a.type == f.type else a.cast(f.type) for a, f in zip(arrays, _ARROW)],
                                      schema=_ARROW)


def _set_aside(rows: Sequence[dict]) -> pa.RecordBatch:
    n = len(rows)
    return _empty(n, line=pa.array([r["line"] for r in rows], pa.int64()), kind=pa.array([SET_ASIDE] * n, pa.int8()),
                  reason=pa.array([r["reason"] for r in rows], pa.string()),
                  note=pa.array([r.get("note", "") for r in rows], pa.string()),
                  value=pa.array([r.get("value", "") for r in rows], pa.string()))


def _raw_table(line: pa.Array, fields: list[pa.Array], spec: LineSpec) -> pa.Table:
    """The raw relation of the loader (text columns ``line, caller, callee, start_time, duration, type``)."""
    n = len(line)
    cols = {"line": line}
    for c in CDR_COLUMNS:
        if c in spec.constants:
            cols[c] = pa.array([str(spec.constants[c])] * n, pa.string())
        elif spec.columns.get(c) is not None:
            cols[c] = fields[spec.columns[c]]
        else:
            cols[c] = pa.nulls(n, pa.string())
    return pa.table(cols)


def check_table(raw: pa.Table, spec: LineSpec, con) -> pa.RecordBatch:
    """Valid and bad rows of a raw relation, checked by the loader's rules (``con``: an in-process DuckDB)."""
    con.register("raw_batch", raw)
    try:
        typed = con.sql(typed_sql("SELECT * FROM raw_batch", spec.rules, with_file=False,
                                  opaque_key=spec.opaque_key)).fetch_arrow_table()
    finally:
        con.unregister("raw_batch")
    batch = typed.combine_chunks().to_batches()[0] if typed.num_rows else None
    if batch is None:
        return _empty(0)
    chk = check_batch(batch, spec.rules)
    n = batch.num_rows
    ok = chk.ok
    caller, callee = pseudonyms(chk.c, chk.e, chk.keep, spec.key, spec.rules.id_kind)
    raw_cols = {f"raw_{c}": pc.if_else(pa.array(ok), pa.scalar(None, pa.string()), batch.column(c).cast(pa.string()))
                for c in CDR_COLUMNS}
    return _empty(n, line=batch.column("line").cast(pa.int64()),
                  kind=pa.array(np.where(ok, VALID, BAD).astype(np.int8)),
                  flags=pa.array(chk.flags.astype(np.int32)), attempt=pa.array(chk.attempt), keep=pa.array(chk.keep),
                  c=pa.array(chk.c), e=pa.array(chk.e), caller=pa.array(caller), callee=pa.array(callee), ts=pa.array(chk.secs.astype(np.int64)),
                  d=pa.array(chk.d.astype(np.int32)), ty=pa.array(chk.ty.astype(np.int8)), **raw_cols)


def check_batch_lines(line: pa.Array, raw: pa.Array, spec: LineSpec, con) -> list[pa.RecordBatch]:
    """Output batches for one batch of numbered lines (see the module docstring)."""
    raw = _strip_cr(raw)
    line_np = line.to_numpy(zero_copy_only=False)
    lengths = pc.binary_length(raw).to_numpy(zero_copy_only=False)
    broken = np.isin(line_np, np.fromiter(spec.broken, np.int64, len(spec.broken))) & (line_np > spec.header_lines)
    out = []
    if broken.any():
        idx = np.flatnonzero(broken)
        text = {int(line_np[i]): raw[int(i)].as_py() for i in idx}
        out.append(_set_aside(broken_rejects({k: spec.broken[k] for k in text}, text, spec.label)))
    keep = (line_np > spec.header_lines) & (lengths > 0) & ~broken
    if not keep.any():
        return out
    mask = pa.array(keep)
    lines, raws = line.filter(mask), raw.filter(mask)
    ok, fields, errors = split_lines(lines, raws, spec.delimiter, spec.n_fields)
    if errors:
        out.append(_set_aside([structural_reject(spec.label, ln, etype, text, msg, spec.n_fields)
                               for ln, etype, text, msg in errors]))
    if len(ok):
        out.append(check_table(_raw_table(lines.take(pa.array(ok)), fields, spec), spec, con))
    return out


def check_lines(spec: LineSpec):
    """The ``mapInArrow`` function of the load: batches of ``value`` (binary lines) -> :data:`CHECKED_SCHEMA` batches.

    A line's number is its partition's offset (``spec.offsets``) plus its position in the partition.
    """

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        import duckdb
        from pyspark import TaskContext

        con = duckdb.connect(config={"threads": 1})
        seen = spec.offsets.get(TaskContext.get().partitionId(), 0)
        try:
            for b in batches:
                n = b.num_rows
                line = pa.array(np.arange(seen + 1, seen + n + 1, dtype=np.int64))
                seen += n
                yield from check_batch_lines(line, b.column(0), spec, con)
        finally:
            con.close()

    return run

"""Load orchestration: CDR files, a subscriber extract and a do-not-contact file into a workspace.

For each CDR input (one file, or one bandicoot directory):

1. content hash (SHA-256); an input already loaded with this hash is skipped;
2. one streamed pass reads every field as text and computes typed values and a
   problem bit mask per row (:mod:`bellwether.loaders.validate`);
3. problems go to ``quarantine/<hash16>.parquet`` (one row per problem, numbers
   masked), counts per reason to the manifest;
4. the input fails, with a message naming it, its reject ratio and top reasons,
   when rejected rows / rows > ``max_reject_ratio``; other inputs still load;
5. exact duplicate records are removed (counted as ``duplicate``), the distinct
   numbers are pseudonymised once (compiled HMAC, :mod:`bellwether.loaders.kernels`) and joined back, and the
   records are written to ``records/<hash16>.parquet`` (:data:`bellwether.graph.schema.RECORDS`:
   pseudonyms as 64-bit integers; Parquet stores ``start_time`` in microseconds,
   values are whole seconds).

Raw numbers live only inside the DuckDB process (spill files under
``WORKSPACE/.tmp``, removed at the end); they reach no table, message or log.
"""

from __future__ import annotations

import shutil
import threading
import time
import zlib
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Mapping, Sequence

import duckdb
import numpy as np
import pyarrow as pa

from bellwether.graph.core.faults import crash_point
from bellwether.graph.core.progress import say
from bellwether.graph.core.workspace import Workspace
from bellwether.loaders import bandicoot, cdr_csv, cdr_parquet, subscribers as crm
from bellwether.loaders.do_not_contact import load_do_not_contact
from bellwether.graph.core.duck import connect, sql_str
from bellwether.loaders.errors import CATALOGUE, REASONS, LoadError, PseudonymKeyError, mask_text, mask_value, mask_value_sql
from bellwether.loaders.layout import FileRule, file_layout
from bellwether.loaders.lines import LineScan, clean_copy, scan_file
from bellwether.loaders.manifest import file_sha256, files_sha256, read_manifest, write_manifest
from bellwether.loaders.msisdn import _check_cc, code_text_sql
from bellwether.loaders.kernels import hmac64, phone_codes
from bellwether.loaders.pseudonym import key_fingerprint, key_to_id_sql
from bellwether.loaders.times import TimeRules
from bellwether.loaders.validate import DEFAULT_TYPE_VALUES, FLAGS, CdrRules, bad_rows_sql, opaque_code_sql, stage_rows

FORMATS = ("generic", "bandicoot")
CDR_SUFFIXES = (".csv", ".csv.gz", ".parquet")


@dataclass
class LoadOptions:
    """Options of a load (the CLI fills them from settings and flags).

    ``key`` is the pseudonymisation key; ``key=None`` stores E.164 numbers as ids and
    is only accepted with ``pseudonymize=False`` (``--no-pseudonymize``).
    """

    key: bytes | None = None
    pseudonymize: bool = True
    fmt: str = "generic"
    mapping: Mapping[str, str] = field(default_factory=dict)
    delimiter: str | None = None
    country_code: str = "86"
    max_reject_ratio: float = 0.01
    type_values: Mapping[str, str] | None = None
    memory_limit: str = "1GB"
    threads: int = 2
    progress: bool = False  # one line per input on stderr (graph.core.progress.say)
    id_kind: str = "phone"  # or "opaque" (:class:`bellwether.loaders.validate.CdrRules`)
    time: TimeRules = field(default_factory=TimeRules)
    failed_calls: str = "keep"  # or "drop"
    constants: Mapping[str, str] = field(default_factory=dict)  # columns the files lack, e.g. {"type": "sms"}
    names: Sequence[str] | None = None  # columns of files without a header
    files: Sequence[FileRule] = ()  # per-file settings of a layout file (:mod:`bellwether.loaders.layout`)
    replace_do_not_contact: bool = False  # a do-not-contact file replaces the stored list (default: merged into it)

    def rules(self, type_values: Mapping[str, str] | None = None) -> CdrRules:
        """The row rules of this load (extra ``type_values`` added, e.g. bandicoot's)."""
        tv = dict(self.type_values if self.type_values is not None else DEFAULT_TYPE_VALUES)
        tv.update(type_values or {})
        return CdrRules(country_code=self.country_code, time=self.time, type_values=tv, id_kind=self.id_kind,
                        failed_calls=self.failed_calls)


@dataclass
class InputResult:
    """What happened to one input."""

    path: str
    kind: str  # "cdr" | "subscribers" | "do_not_contact"
    status: str  # "loaded" | "skipped" | "failed"
    sha256: str = ""
    rows: int = 0
    records: int = 0
    rejected_rows: int = 0
    rejects: dict[str, int] = field(default_factory=dict)
    duplicates: int = 0
    seconds: float = 0.0
    message: str = ""


@dataclass
class LoadSummary:
    inputs: list[InputResult] = field(default_factory=list)

    @property
    def failed(self) -> list[InputResult]:
        return [r for r in self.inputs if r.status == "failed"]

    def to_dict(self) -> dict[str, Any]:
        return {"inputs": [asdict(r) for r in self.inputs], "failed": len(self.failed)}


# --- inputs -------------------------------------------------------------------------

def expand_inputs(paths: Sequence[Path | str], fmt: str = "generic") -> list[Path]:
    """CDR inputs named by ``paths``: files as given, directories searched recursively.

    For ``fmt="bandicoot"`` each directory is one input (a data set of user files).
    """
    out: list[Path] = []
    for p in map(Path, paths):
        if not p.exists():
            raise LoadError(f"CDR input {p} does not exist.")
        if fmt == "bandicoot" or p.is_file():
            out.append(p)
            continue
        found = sorted(f for f in p.rglob("*") if f.is_file() and f.name.endswith(CDR_SUFFIXES))
        if not found:
            raise LoadError(f"Directory {p} holds no CDR files (*.csv, *.csv.gz, *.parquet).")
        out.extend(found)
    return list(dict.fromkeys(out))


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _hash_input(path: Path, fmt: str) -> str:
    if fmt == "bandicoot" and path.is_dir():
        return files_sha256(bandicoot.bandicoot_files(path), path)
    return file_sha256(path)


class _Scanner(threading.Thread):
    """Hash an input in the background while DuckDB reads it; for a text file, scan its lines in the same read.

    hashlib and the compiled line scan release the GIL (:func:`bellwether.loaders.lines.scan_file`).
    """

    def __init__(self, path: Path, fmt: str, text: bool):
        super().__init__(daemon=True)
        self.path, self.fmt, self.text = path, fmt, text
        self.value, self.scan, self.error = "", None, None

    def run(self) -> None:
        try:
            if self.text:
                self.scan, self.value = scan_file(self.path)
            else:
                self.value = _hash_input(self.path, self.fmt)
        except (OSError, EOFError, zlib.error) as exc:
            self.error = exc


# --- quarantine -------------------------------------------------------------------------

_QUARANTINE_COLS = ("file", "line", "column", "value", "reason", "message", "source")


def _mask_sql(col: str, is_number: bool) -> str:
    """SQL giving the stored form of a raw value: masked and cut short (:func:`bellwether.loaders.errors.mask_value`).

    A number column keeps only its last two digits; any other column masks the
    phone-like runs in it (a number in the wrong column) and keeps dates and times.
    """
    return mask_value_sql(col, number=is_number)


def _quarantine_sql(stage: str, specs: Sequence[tuple[int, str, str, str, bool, str]], source: str, line_expr: str) -> str:
    """One SELECT per problem bit: (bit, reason, column, raw column, value is a number, note)."""
    parts = []
    for bit, reason, column, raw_col, is_number, note in specs:
        value = "q.masked_value"  # masked once per row, in the subquery below
        template = CATALOGUE[reason].template
        # str.format-like substitution in SQL: {column!r} {value} {value!r} {note}
        msg = sql_str(template.replace("{column!r}", repr(column)).replace("{note}", note))
        msg = f"replace(replace({msg}, '{{value!r}}', '''' || {value} || ''''), '{{value}}', {value})"
        col = "" if CATALOGUE[reason].row_level else column
        parts.append(
            f"SELECT bad_file AS file, {line_expr} AS line, {sql_str(col)} AS \"column\", {value} AS value, "
            f"{sql_str(reason)} AS reason, {msg} AS message, {sql_str(source)} AS source "
            f"FROM (SELECT *, {_mask_sql(raw_col, is_number)} AS masked_value FROM {stage} WHERE flags & {bit} <> 0) q")
    return " UNION ALL ".join(parts)


def _structural_table(rows: Sequence[dict], source: str) -> pa.Table:
    """Quarantine rows of lines a reader could not split; values masked and cut short again (:func:`bellwether.loaders.errors.mask_value`)."""
    cols: dict[str, list] = {k: [] for k in _QUARANTINE_COLS}
    for r in rows:
        value = mask_value(r.get("value", ""))
        cols["file"].append(r["file"])
        cols["line"].append(int(r["line"]))
        cols["column"].append(r.get("column", ""))
        cols["value"].append(value)
        cols["reason"].append(r["reason"])
        cols["message"].append(CATALOGUE[r["reason"]].message(column=r.get("column", ""), value=value,
                                                              note=r.get("note", "")))
        cols["source"].append(source)
    return pa.table({k: pa.array(v, pa.int64() if k == "line" else pa.string()) for k, v in cols.items()})


def _write_quarantine(con: duckdb.DuckDBPyConnection, sql_parts: list[str], structural: pa.Table, path: Path) -> int:
    con.register("structural_q", structural)
    parts = sql_parts + ["SELECT * FROM structural_q"]
    union = " UNION ALL ".join(f"({p})" for p in parts if p)
    tmp = path.with_suffix(".parquet.tmp")  # one evaluation of the union: COPY returns the row count
    n = con.execute(f"COPY (SELECT * FROM ({union}) ORDER BY file, line, \"column\", reason) TO {sql_str(str(tmp))} (FORMAT parquet)").fetchall()[0][0]
    if n:
        tmp.replace(path)
    else:
        tmp.unlink()
        path.unlink(missing_ok=True)
    con.unregister("structural_q")
    return int(n)


def _line_map(con: duckdb.DuckDBPyConnection, src: cdr_csv.RawSource, stage: str) -> str:
    """Register a table mapping row numbers of bad rows to physical lines; return the line expression.

    ``stage`` is the relation of bad rows (:func:`bellwether.loaders.validate.bad_rows_sql`) aliased ``q``.
    """
    if src.line_mapper is None:
        return "line"
    rows = [r[0] for r in con.execute(f"SELECT DISTINCT line FROM {stage} ORDER BY line").fetchall()]
    if not rows:
        return "line"
    con.register("line_map_arrow", pa.table({"row_no": pa.array(rows, pa.int64()),
                                              "phys": pa.array(src.line_mapper(rows), pa.int64())}))
    con.execute("CREATE OR REPLACE TEMP TABLE line_map AS SELECT * FROM line_map_arrow")
    con.unregister("line_map_arrow")
    return "(SELECT phys FROM line_map WHERE row_no = q.line)"


def _fail_message(label: str, ratio: float, limit: float, rejects: Mapping[str, int]) -> str:
    top = sorted(((n, r) for r, n in rejects.items() if n), reverse=True)[:3]
    reasons = ", ".join(f"{r} ({n})" for n, r in top)
    return (f"{label}: {ratio:.2%} of rows rejected, over the limit of {limit:.2%} (--max-reject-ratio); "
            f"top reasons: {reasons}. Fix the file or the column mapping (see the quarantine), or raise the limit.")


# --- pseudonyms ------------------------------------------------------------------------------

def _ensure_idmap(con: duckdb.DuckDBPyConnection, key: bytes | None) -> None:
    """Table ``idmap (code, id)``: ``id`` is the pseudonym as UBIGINT, or the E.164 text without a key."""
    con.execute(f"CREATE TEMP TABLE IF NOT EXISTS idmap (code BIGINT, id {'VARCHAR' if key is None else 'UBIGINT'})")
    con.execute("CREATE TABLE IF NOT EXISTS opaque_tokens (code BIGINT, token VARCHAR)")  # filled from a cursor: not TEMP


def _id_text_sql(col: str, key: bytes | None) -> str:
    """Text id of an ``idmap.id`` column (16 hex characters, or the E.164 text as it is)."""
    return col if key is None else key_to_id_sql(col)


def _add_ids(con: duckdb.DuckDBPyConnection, codes_sql: str, key: bytes | None) -> None:
    """Pseudonymise the codes of ``codes_sql`` not yet in ``idmap`` (each distinct number once).

    With a key the HMAC runs compiled on the new codes (:func:`bellwether.loaders.kernels.hmac64`);
    without one the id is the normalised text.
    """
    new = (f"SELECT DISTINCT code FROM ({codes_sql}) n WHERE code IS NOT NULL "
           f"AND NOT EXISTS (SELECT 1 FROM idmap m WHERE m.code = n.code)")
    if key is None:
        con.execute(f"INSERT INTO idmap SELECT code, {code_text_sql('code')} FROM ({new})")
        return
    codes = con.execute(new).fetchnumpy()["code"]
    codes = np.asarray(codes.filled(0) if np.ma.isMaskedArray(codes) else codes, np.int64)
    con.register("new_ids", pa.table({"code": codes, "id": hmac64(codes, key)}))
    con.execute("INSERT INTO idmap SELECT code, id FROM new_ids")
    con.unregister("new_ids")


def _add_opaque_ids(con: duckdb.DuckDBPyConnection, codes_sql: str, key: bytes | None) -> None:
    """Ids of opaque codes not yet in ``idmap``: the code is the pseudonym (with a key), else the token itself.

    Without a key the tokens were collected while staging (table ``opaque_tokens``); two
    tokens with one 64-bit code would merge two subscribers, so that fails the load.
    """
    new = (f"SELECT DISTINCT code FROM ({codes_sql}) n WHERE code IS NOT NULL "
           f"AND NOT EXISTS (SELECT 1 FROM idmap m WHERE m.code = n.code)")
    if key is None:
        clash = con.execute("SELECT count(*) FROM (SELECT code FROM opaque_tokens GROUP BY code "
                            "HAVING count(DISTINCT token) > 1)").fetchall()[0][0]
        if clash:
            raise LoadError(f"{clash} pairs of distinct ids share a 64-bit code; load with pseudonymisation (a key) instead.")
        con.execute(f"INSERT INTO idmap SELECT n.code, any_value(t.token) FROM ({new}) n "
                    "JOIN opaque_tokens t ON t.code = n.code GROUP BY n.code")
        return
    codes = con.execute(new).fetchnumpy()["code"]
    codes = np.asarray(codes.filled(0) if np.ma.isMaskedArray(codes) else codes, np.int64)
    con.register("new_ids", pa.table({"code": codes, "id": codes.view(np.uint64)}))
    con.execute("INSERT INTO idmap SELECT code, id FROM new_ids")
    con.unregister("new_ids")


# --- one CDR input ---------------------------------------------------------------------

def _source(con, path: Path, opts: LoadOptions, tag: str, label: str, scratch: Path,
            scan: LineScan | None) -> tuple[cdr_csv.RawSource, CdrRules]:
    """The raw relation of one CDR input and the rules its rows are checked with."""
    if opts.fmt == "bandicoot":
        files = bandicoot.bandicoot_files(path)
        if not files:
            raise LoadError(f"{path}: no bandicoot user files (<user>.csv) found.")
        return bandicoot.read_bandicoot(con, files, tag), opts.rules(bandicoot.TYPE_VALUES)
    lay = file_layout(path, opts.mapping, opts.constants, opts.names, opts.delimiter, opts.files)
    if path.name.endswith(".parquet"):
        return cdr_parquet.read_cdr_parquet(con, path, lay.mapping, label, constants=lay.constants, time=opts.time), opts.rules()
    src = cdr_csv.read_cdr_csv(con, path, lay.mapping, lay.delimiter, tag, label, names=lay.names,
                               constants=lay.constants, scan=scan, scratch=scratch)
    return src, opts.rules()


def _stage(con, src: cdr_csv.RawSource, rules: CdrRules, stage: str, key: bytes | None):
    """Stage the rows of ``src`` (:func:`bellwether.loaders.validate.stage_rows`); return (staged, None) or (None, error text)."""
    try:
        staged = stage_rows(con, src.sql, rules, stage, src.label, opaque_key=key,
                            keep_tokens="opaque_tokens" if rules.id_kind == "opaque" and key is None else None)
    except (duckdb.Error, pa.ArrowException, OSError) as exc:  # OSError: DuckDB's error through the Arrow reader
        con.execute(f"DROP TABLE IF EXISTS {stage}")
        return None, mask_text(str(exc).splitlines()[0])
    if src.finish:
        src.finish()
    return staged, None


def _accounting(src: cdr_csv.RawSource, staged, structural_lines: int) -> dict[str, int] | None:
    """Physical lines of a text input by what became of them, or None when the input is not a text file."""
    if src.lines is None:
        return None
    return {"lines": src.lines, "header": src.header_lines, "blank": len(src.blank_lines),
            "unreadable": structural_lines, "rows": staged.rows}


def skipped_result(label: str, sha: str, prior: dict, t0: float) -> InputResult:
    """What a CDR input whose content was loaded already (manifest entry ``prior``) reports."""
    return InputResult(label, "cdr", "skipped", sha, prior.get("rows", 0), prior.get("records", 0),
                       prior.get("rejected_rows", 0), dict(prior.get("rejects", {})), prior.get("duplicates", 0),
                       time.perf_counter() - t0, f"{label}: already loaded (same content as {prior.get('path')}); nothing changed.")


def _load_cdr(con, ws: Workspace, path: Path, opts: LoadOptions, manifest: dict, tag: str, scratch: Path) -> InputResult:
    t0 = time.perf_counter()
    label = str(path)
    text = opts.fmt != "bandicoot" and not path.name.endswith(".parquet")
    scanner = _Scanner(path, opts.fmt, text)
    scanner.start()
    key = opts.key if opts.pseudonymize else None
    stage = f"stage_{tag}"
    size = _size(path)
    if any(e.get("status") == "loaded" and e.get("name") == path.name and e.get("size") == size
           for e in manifest["inputs"].values()):
        scanner.join()  # probably loaded already: hash first, and stage only if it is new after all
    src = staged = read_error = None
    try:
        prior = manifest["inputs"].get(scanner.value) if scanner.value else None
        if not (prior and prior.get("status") == "loaded"):
            src, rules = _source(con, path, opts, tag, label, scratch, None)
            staged, read_error = _stage(con, src, rules, stage, key)
    finally:
        scanner.join()
    if scanner.error is not None:
        con.execute(f"DROP TABLE IF EXISTS {stage}")
        raise LoadError(f"Cannot read {path}: {scanner.error}")
    sha = scanner.value
    prior = manifest["inputs"].get(sha)
    if prior and prior.get("status") == "loaded":
        con.execute(f"DROP TABLE IF EXISTS {stage}")
        return skipped_result(label, sha, prior, t0)
    if text:
        scan = scanner.scan
        if scan.mixed_endings or any(n > src.header_lines for n in scan.broken):  # read again from a clean copy
            con.execute(f"DROP TABLE IF EXISTS {stage}")
            src, rules = _source(con, path, opts, tag + "r", label, scratch, scan)
            staged, read_error = _stage(con, src, rules, stage, key)
        src.attach_scan(scan)
    if read_error is not None:
        raise LoadError(f"{path}: cannot be read ({read_error}).")

    def write_records(out: Path) -> int:
        """Pseudonymise the distinct staged rows and write them to ``out`` (:data:`bellwether.graph.schema.RECORDS`)."""
        if rules.id_kind == "opaque":
            _add_opaque_ids(con, f"SELECT c AS code FROM {stage} UNION ALL SELECT e FROM {stage}", key)
        else:
            _add_ids(con, f"SELECT c AS code FROM {stage} UNION ALL SELECT e FROM {stage}", key)
        service = ("s.c < 0", "s.e < 0") if rules.id_kind == "phone" else ("false", "false")
        con.execute("SET preserve_insertion_order = false")  # row order of the records file does not matter
        n = con.execute(f"""COPY (
            SELECT m1.id AS caller, m2.id AS callee, s.ts AS start_time, s.d AS duration,
                   CASE s.ty WHEN 0 THEN 'voice' ELSE 'sms' END AS type, {service[0]} AS caller_service, {service[1]} AS callee_service,
                   {sql_str(sha)} AS source
            FROM (SELECT DISTINCT c, e, ts, d, ty FROM {stage}) s
            JOIN idmap m1 ON s.c = m1.code JOIN idmap m2 ON s.e = m2.code
        ) TO {sql_str(str(out))} (FORMAT parquet, COMPRESSION snappy, DICTIONARY_SIZE_LIMIT 1000)""").fetchall()[0][0]
        con.execute("SET preserve_insertion_order = true")  # the next file's rows are numbered in file order
        return int(n)

    try:
        return finish_cdr(con, ws, path, opts, manifest, tag, sha, size, src, staged, rules, t0, write_records)
    finally:
        con.execute(f"DROP TABLE IF EXISTS {stage}")


def finish_cdr(con, ws: Workspace, path: Path, opts: LoadOptions, manifest: dict, tag: str, sha: str, size: int,
               src: cdr_csv.RawSource, staged, rules: CdrRules, t0: float,
               write_records: Callable[[Path], int]) -> InputResult:
    """Account for a staged CDR input, quarantine its bad rows, and (unless it fails) write its records.

    Shared by every engine: ``staged`` (:class:`bellwether.loaders.validate.Staged`) holds the counts and
    the rows with problems, ``src`` the lines set aside before parsing and the physical line count;
    ``write_records(tmp)`` writes the distinct pseudonymised records to ``tmp`` and returns how many.
    The quarantine is written by ``con`` (DuckDB) from ``staged.bad_table()``; the manifest entry is
    put into ``manifest``.
    """
    label = str(path)
    rejects = {r: 0 for r in REASONS}
    by_reason: dict[str, int] = {}
    for bit, reason, _ in FLAGS:
        by_reason[reason] = by_reason.get(reason, 0) | bit
    for reason, m in by_reason.items():
        rejects[reason] += staged.rows_with(m)
    structural_lines = {(s["file"], s["line"]) for s in src.structural}
    for s in src.structural:
        rejects[s["reason"]] += 1
    rejects = {k: v for k, v in rejects.items() if v}
    rejected = staged.rows - staged.valid + len(structural_lines)
    rows = staged.rows + len(structural_lines)
    ratio = rejected / rows if rows else 0.0
    accounting = _accounting(src, staged, len(structural_lines))

    short = sha[:16]
    say(opts.progress, f"{label}: {rows:,} rows, {rejected:,} rejected")
    bad_rows = f"bad_{tag}"
    con.register("bad_arrow", staged.bad_table())
    con.execute(f"CREATE OR REPLACE TEMP TABLE {bad_rows} AS SELECT * FROM bad_arrow")
    con.unregister("bad_arrow")
    line_expr = _line_map(con, src, bad_rows)
    lo, hi = rules.time.bounds()
    notes = {"bad_type": rules.type_note(), "bad_time": rules.time.describe(),
             "time_out_of_range": f"a time from {_day_text(lo)} to {_day_text(hi)}"}
    specs = [(bit, reason, column, f"raw_{column}" if column else "raw_caller",
              reason in ("missing_number", "bad_number", "self_contact"), notes.get(reason, ""))
             for bit, reason, column in FLAGS]
    q_path = ws.quarantine_dir / f"{short}.parquet"
    _write_quarantine(con, [_quarantine_sql(bad_rows, specs, sha, line_expr)], _structural_table(src.structural, sha), q_path)
    con.execute(f"DROP TABLE {bad_rows}")

    entry: dict[str, Any] = {
        "path": label, "name": path.name, "format": opts.fmt, "size": size, "sha256": sha,
        "rows": rows, "rejected_rows": rejected, "reject_ratio": round(ratio, 6), "rejects": rejects,
        "quarantine_file": q_path.name if q_path.exists() else None, "loaded_at": _now(),
        "failed_attempts": staged.attempts, "failed_calls": rules.failed_calls,
    }
    balanced = accounting is None or accounting["lines"] == (
        accounting["header"] + accounting["blank"] + accounting["unreadable"] + accounting["rows"])
    if not balanced:
        a = accounting
        msg = (f"{label}: line accounting does not balance: {a['lines']:,} physical lines, but header {a['header']} + "
               f"blank {a['blank']:,} + unreadable {a['unreadable']:,} + rows {a['rows']:,} = "
               f"{a['header'] + a['blank'] + a['unreadable'] + a['rows']:,}; the file was not loaded. "
               f"Check it for embedded line breaks or encoding problems.")
    elif rows == 0 or ratio > opts.max_reject_ratio:
        msg = _fail_message(label, ratio, opts.max_reject_ratio, rejects) if rows else f"{label}: no data rows."
    else:
        msg = ""
    if msg:
        entry.update(status="failed", records=0, duplicates=0, message=msg, lines=accounting)
        manifest["inputs"][sha] = entry
        return InputResult(label, "cdr", "failed", sha, rows, 0, rejected, rejects, 0, time.perf_counter() - t0, msg)

    out = ws.records_dir / f"{short}.parquet"
    tmp = out.with_suffix(".parquet.tmp")
    n_records = write_records(tmp)
    tmp.replace(out)
    crash_point("load.records_written")
    dups = staged.valid - staged.dropped - int(n_records)
    if accounting is not None:
        accounting.update(records=int(n_records), duplicates=dups, dropped=staged.dropped, quarantined=rejected)
    entry.update(status="loaded", records=int(n_records), duplicates=dups, records_file=out.name,
                 first_record=str(staged.first), last_record=str(staged.last), message="", lines=accounting,
                 dropped_attempts=staged.dropped, days=dict(sorted(staged.days.items())))
    manifest["inputs"][sha] = entry
    return InputResult(label, "cdr", "loaded", sha, rows, int(n_records), rejected, rejects, dups, time.perf_counter() - t0)


def _day_text(wall_seconds: int) -> str:
    return str(np.datetime64(int(wall_seconds) // 86400, "D"))


def _size(path: Path) -> int:
    if path.is_dir():
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    return path.stat().st_size


# --- subscriber extract -----------------------------------------------------------------

def _subscriber_csv(con, path: Path, opts: LoadOptions, tag: str, label: str, scratch: Path) -> cdr_csv.RawSource:
    """Raw relation of a CSV subscriber extract, broken lines quarantined as in CDR files (:mod:`bellwether.loaders.lines`)."""
    try:
        scan, _ = scan_file(path, with_hash=False)
    except (OSError, EOFError, zlib.error) as exc:
        raise LoadError(f"Cannot read {path}: {exc}") from None
    header, delim = cdr_csv.read_header(path, opts.delimiter)
    cols = cdr_csv.resolve_columns(path, header, opts.mapping, crm.COLUMNS, crm.OPTIONAL)
    broken = {n: r for n, r in scan.broken.items() if n > 1}
    read_path, structural = path, []
    if broken or scan.mixed_endings:
        read_path = scratch / f"{tag}-clean.csv"
        structural = cdr_csv.broken_rejects(broken, clean_copy(path, set(broken), read_path), label)
    sel = cdr_csv.select_columns(cols, crm.COLUMNS, {})
    raw = f"SELECT {sql_str(label)} AS file, row_number() OVER () AS line, {sel} FROM {cdr_csv.csv_relation(read_path, header, delim, tag)}"
    src = cdr_csv.RawSource(sql=raw, structural=structural, header_lines=1)
    src.attach_scan(scan)
    src.line_mapper = lambda rows: cdr_csv.physical_lines(rows, [s["line"] for s in src.structural] + src.blank_lines)
    src.finish = lambda: src.structural.extend(cdr_csv.structural_rejects(con, tag, label, len(header)))
    return src


def _phone_code_function(con: duckdb.DuckDBPyConnection, country_code: str) -> str:
    """Register :func:`bellwether.loaders.kernels.phone_codes` (the records' compiled number rule) on ``con``
    as a vectorised SQL function for ``country_code``; return its name."""
    name = f"phone_code_{_check_cc(country_code)}"
    if not con.execute("SELECT count(*) FROM duckdb_functions() WHERE function_name = ?", [name]).fetchall()[0][0]:
        con.create_function(name, lambda numbers: phone_codes(numbers, country_code), ["VARCHAR"],
                            "BIGINT", type="arrow", null_handling="special")
    return name


def _load_subscribers(con, ws: Workspace, path: Path, opts: LoadOptions, manifest: dict) -> InputResult:
    t0 = time.perf_counter()
    label = str(path)
    sha = file_sha256(path)
    prior = manifest["subscribers"].get(sha)
    if prior and prior.get("status") == "loaded":
        return InputResult(label, "subscribers", "skipped", sha, prior.get("rows", 0), prior.get("records", 0),
                           prior.get("rejected_rows", 0), dict(prior.get("rejects", {})), prior.get("duplicates", 0),
                           time.perf_counter() - t0, f"{label}: already loaded; nothing changed.")
    tag = "crm"
    if path.name.endswith(".parquet"):
        header = [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM read_parquet({sql_str(str(path))})").fetchall()]
        cols = cdr_csv.resolve_columns(path, header, opts.mapping, crm.COLUMNS, crm.OPTIONAL)
        sel = cdr_csv.select_columns(cols, crm.COLUMNS, {}, cast=True)
        raw = f"SELECT {sql_str(label)} AS file, file_row_number + 1 AS line, {sel} FROM read_parquet({sql_str(str(path))}, file_row_number=true)"
        src = cdr_csv.RawSource(sql=raw)
    else:
        src = _subscriber_csv(con, path, opts, tag, label, ws.root / ".tmp")
    stage = "stage_crm"
    if opts.id_kind == "opaque":
        code = opaque_code_sql("msisdn", opts.key if opts.pseudonymize else None)
    else:
        code = _phone_code_function(con, opts.country_code) + "(msisdn)"
    con.execute(f"CREATE OR REPLACE TEMP TABLE {stage} AS {crm.stage_sql(src.sql, code)}")
    if src.finish:
        src.finish()
    if code is not None and not opts.pseudonymize:
        con.execute(f"INSERT INTO opaque_tokens SELECT DISTINCT c, token FROM {stage} s WHERE flags = 0 AND NOT EXISTS "
                    "(SELECT 1 FROM opaque_tokens k WHERE k.code = s.c AND k.token = s.token)")
    n, bad = con.execute(f"SELECT count(*), count(*) FILTER (flags <> 0) FROM {stage}").fetchall()[0]
    rejects: dict[str, int] = {}
    masks: dict[str, int] = {}
    for bit, reason, _, _ in crm.FLAGS:
        masks[reason] = masks.get(reason, 0) | bit
    for reason, m in masks.items():
        k = con.execute(f"SELECT count(*) FROM {stage} WHERE flags & {m} <> 0").fetchall()[0][0]
        if k:
            rejects[reason] = int(k)
    for s in src.structural:
        rejects[s["reason"]] = rejects.get(s["reason"], 0) + 1
    rows = int(n) + len(src.structural)
    rejected = int(bad) + len(src.structural)
    con.execute(f"CREATE OR REPLACE TEMP TABLE bad_crm AS SELECT * FROM {bad_rows_sql(stage, crm.BAD_FIELDS)}")
    line_expr = _line_map(con, src, "bad_crm")
    specs = [(bit, reason, column, f"raw_{column}", column == "msisdn", note) for bit, reason, column, note in crm.FLAGS]
    short = sha[:16]
    q_path = ws.quarantine_dir / f"subscribers-{short}.parquet"
    _write_quarantine(con, [_quarantine_sql("bad_crm", specs, sha, line_expr)], _structural_table(src.structural, sha), q_path)
    ratio = rejected / rows if rows else 0.0
    entry: dict[str, Any] = {"path": label, "name": path.name, "size": path.stat().st_size, "sha256": sha, "rows": rows,
                             "rejected_rows": rejected, "reject_ratio": round(ratio, 6), "rejects": rejects,
                             "quarantine_file": q_path.name if q_path.exists() else None, "loaded_at": _now()}
    if rows == 0 or ratio > opts.max_reject_ratio:
        msg = _fail_message(label, ratio, opts.max_reject_ratio, rejects) if rows else f"{label}: no data rows."
        entry.update(status="failed", records=0, duplicates=0, message=msg)
        manifest["subscribers"][sha] = entry
        return InputResult(label, "subscribers", "failed", sha, rows, 0, rejected, rejects, 0, time.perf_counter() - t0, msg)
    add = _add_opaque_ids if opts.id_kind == "opaque" else _add_ids
    add(con, f"SELECT c AS code FROM {stage} WHERE flags = 0", opts.key if opts.pseudonymize else None)
    seq = 1 + max((e.get("seq", 0) for e in manifest["subscribers"].values()), default=0)
    out = ws.subscriber_extracts_dir / f"{short}.parquet"
    tmp = out.with_suffix(".parquet.tmp")
    n_out = con.execute(f"""COPY (
        SELECT {_id_text_sql('m.id', opts.key if opts.pseudonymize else None)} AS id, arg_max(s.plan, s.line) AS plan, arg_max(s.arpu, s.line) AS arpu,
               arg_max(s.tenure_months, s.line) AS tenure_months, arg_max(s.region, s.line) AS region,
               arg_max(s.status, s.line) AS status, arg_max(s.churn_date, s.line) AS churn_date, {seq} AS seq
        FROM {stage} s JOIN idmap m ON s.c = m.code WHERE s.flags = 0 GROUP BY m.id ORDER BY m.id
    ) TO {sql_str(str(tmp))} (FORMAT parquet)""").fetchall()[0][0]
    tmp.replace(out)
    dups = int(n) - int(bad) - int(n_out)
    entry.update(status="loaded", records=int(n_out), duplicates=dups, seq=seq, file=out.name, message="")
    manifest["subscribers"][sha] = entry
    return InputResult(label, "subscribers", "loaded", sha, rows, int(n_out), rejected, rejects, dups, time.perf_counter() - t0)


# --- entry point ---------------------------------------------------------------------------

def load(
    workspace: Workspace | Path | str,
    cdr: Sequence[Path | str] = (),
    *,
    subscribers: Path | str | None = None,
    do_not_contact: Path | str | None = None,
    options: LoadOptions | None = None,
    load_cdr: Callable[..., InputResult] | None = None,
) -> LoadSummary:
    """Validate, normalise and pseudonymise inputs into ``workspace`` (see module docstring).

    ``load_cdr`` replaces the DuckDB reader of one CDR input with the same signature as
    :func:`_load_cdr` (the Spark engine, :mod:`bellwether.loaders.spark`); everything else
    (manifest, key checks, subscriber extract, do-not-contact list) is the same for every engine.

    Raises
    ------
    PseudonymKeyError
        No key while pseudonymising, or a key (or mode) different from the one the workspace was loaded with.
    LoadError
        An input does not exist or has no usable header; bad rows never raise, they are quarantined.
    """
    opts = options or LoadOptions()
    if opts.fmt not in FORMATS:
        raise LoadError(f"Unknown format {opts.fmt!r}; use one of {', '.join(FORMATS)}.")
    if opts.pseudonymize and opts.key is None:
        from bellwether.loaders.pseudonym import KEY_HELP
        raise PseudonymKeyError(f"No pseudonymisation key configured. {KEY_HELP}")
    ws = workspace if isinstance(workspace, Workspace) else Workspace(Path(workspace))
    inputs = expand_inputs(cdr, opts.fmt)
    with ws.lock("load"):  # one writer at a time (re-entrant: `bellwether build` holds it already)
        return _load(ws, inputs, subscribers, do_not_contact, opts, load_cdr)


def _load(ws: Workspace, inputs: list[Path], subscribers, do_not_contact, opts: LoadOptions,
          load_cdr: Callable[..., InputResult] | None = None) -> LoadSummary:
    key = opts.key if opts.pseudonymize else None
    ws.create()
    manifest = read_manifest(ws)
    fp = key_fingerprint(key)
    if manifest["inputs"] or manifest["subscribers"] or manifest.get("do_not_contact"):
        if manifest.get("pseudonymized", True) != opts.pseudonymize:
            raise PseudonymKeyError(
                f"Workspace {ws.root} was loaded {'with' if manifest.get('pseudonymized', True) else 'without'} pseudonymisation; "
                f"a load {'with' if opts.pseudonymize else 'without'} it would mix two kinds of ids. Use a new workspace.")
        if opts.pseudonymize and manifest.get("key_fingerprint") not in (None, fp):
            raise PseudonymKeyError(
                f"The pseudonymisation key differs from the one workspace {ws.root} was loaded with "
                f"(fingerprint {manifest.get('key_fingerprint')}); ids would not match. Use the same key or a new workspace.")
        if manifest.get("id_kind", "phone") != opts.id_kind:
            raise LoadError(f"Workspace {ws.root} was loaded with {manifest.get('id_kind', 'phone')} ids; got "
                            f"--id-kind {opts.id_kind}: the ids would not match. Use the same id kind or a new workspace.")
        if str(manifest.get("country_code", opts.country_code)) != str(opts.country_code):
            raise LoadError(f"Workspace {ws.root} was loaded with country code {manifest['country_code']}; "
                            f"got --country-code {opts.country_code}. Use the same code or a new workspace.")
    opts.rules()  # checks the id kind, failed-call policy and type values before anything is read
    manifest.update(pseudonymized=opts.pseudonymize, key_fingerprint=fp, country_code=str(opts.country_code),
                    id_kind=opts.id_kind)
    if not opts.pseudonymize:
        manifest["no_pseudonymize_requested_at"] = manifest.get("no_pseudonymize_requested_at") or _now()

    scratch = ws.root / ".tmp"
    summary = LoadSummary()
    con = connect(scratch, opts.memory_limit, opts.threads)
    try:
        _ensure_idmap(con, key)
        for i, path in enumerate(inputs):
            try:
                res = (load_cdr or _load_cdr)(con, ws, path, opts, manifest, f"in{i}", scratch)
            except LoadError as exc:  # an unusable file (header, format) fails alone; the others still load
                res = InputResult(str(path), "cdr", "failed", message=str(exc))
            summary.inputs.append(res)
            write_manifest(ws, manifest)
            crash_point("load.manifest_written")
            # a failure's message is printed once, by the caller, with the others
            say(opts.progress, f"{res.path}: {res.status}" if res.status == "failed" else
                res.message or f"{res.path}: {res.status}, {res.records:,} records")
        if subscribers is not None:
            p = Path(subscribers)
            if not p.exists():
                raise LoadError(f"Subscriber extract {p} does not exist.")
            summary.inputs.append(_load_subscribers(con, ws, p, opts, manifest))
            write_manifest(ws, manifest)
            crash_point("load.manifest_written")
        if do_not_contact is not None:  # fail-closed: a file with any unusable entry changes nothing
            p = Path(do_not_contact)
            res = load_do_not_contact(ws.do_not_contact_path, p, manifest, key=key, country_code=opts.country_code,
                                      id_kind=getattr(opts, "id_kind", "phone"), delimiter=opts.delimiter,
                                      column=opts.mapping.get("msisdn", "msisdn"),
                                      replace=getattr(opts, "replace_do_not_contact", False))
            summary.inputs.append(InputResult(str(p), "do_not_contact", **res))
            write_manifest(ws, manifest)
            crash_point("load.manifest_written")
    finally:
        con.close()
        shutil.rmtree(scratch, ignore_errors=True)
    return summary

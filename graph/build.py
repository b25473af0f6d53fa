"""Build the contact graph from the workspace's records (DuckDB, out of core).

Records with ``as_of - window_days <= start_time < as_of`` are aggregated into
one undirected contact per pair of numbers (``a < b``; ``_ab`` counts what ``a``
initiated).  Exact duplicate records stored by two inputs count once.  Service
numbers (:mod:`bellwether.graph.service_numbers`) are listed in ``service_numbers.parquet``
and their contacts dropped unless ``keep_service_numbers``.  Subscribers are the
numbers of the remaining contacts plus every subscriber of the latest CRM
extract (isolates included), sorted by id, ``vid`` = row number.

Contact columns (:data:`bellwether.graph.schema.CONTACTS`): calls, seconds and SMS per
direction, first and last contact, active days (distinct calendar days with an
event), night share (events with a start hour in 22:00-06:00 / events),
reciprocity ``1 - |n_ab - n_ba| / (n_ab + n_ba)`` over events of both kinds,
and the tie-strength ``weight`` (:mod:`bellwether.graph.tie_strength`).

``graph.json`` also says what the window and the CRM did: stored records in the
window, before it and on or after ``as_of``; CRM subscribers, and how many of
them have no contact in the graph.  Its ``source_digest`` (:func:`source_digest`)
names what the graph was built from, so :func:`graph_is_current` can tell a
graph to keep from one to rebuild (after a crash, a new input or new parameters).

The tables are published all or nothing (:meth:`bellwether.graph.core.workspace.Workspace.writing_graph`)
under the workspace lock; a build that finds no contact raises and keeps the
previous graph.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import statistics
import time
from collections import Counter
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Callable, Sequence

import pyarrow as pa
import pyarrow.parquet as pq

from bellwether.graph import schema
from bellwether.graph.contact_graph import ContactGraph
from bellwether.graph.core.faults import crash_point
from bellwether.graph.core.progress import say
from bellwether.graph.service_numbers import ServiceRules, service_sql
from bellwether.graph.tie_strength import DEFAULT as DEFAULT_TIE, TieStrength
from bellwether.graph.core.workspace import GraphFiles, Workspace, WorkspaceError, write_json
from bellwether.graph.core.duck import connect, sql_str
from bellwether.graph.core.dates import parse_day
from bellwether.loaders.manifest import loaded_inputs, read_manifest
from bellwether.loaders.pseudonym import key_to_id_sql


#: aggregation of record files into pair counts on another engine: (files, start, end, dedupe, out directory)
PairCounts = Callable[[Sequence[Path], datetime, datetime, bool, Path], None]

MIN_DAY_SHARE = 0.05  # a day counts for the default as_of with at least this share of the median daily records


def default_as_of(ws: Workspace) -> date:
    """The day after the last day with a real share of the loaded records.

    Daily record counts are summed over the loaded CDR inputs (their ``days``
    histograms in the manifest); the last day counted is the last one whose count
    is at least 5% (:data:`MIN_DAY_SHARE`) of the median daily count over the days
    with records, so a handful of stray records (a clock years ahead) cannot move
    ``as_of``.  Inputs loaded without a histogram count by their ``last_record``.
    """
    days: Counter[str] = Counter()
    ends = []
    for e in loaded_inputs(read_manifest(ws)):
        if e.get("days"):
            days.update(e["days"])
        elif e.get("last_record") not in (None, "None"):
            ends.append(date.fromisoformat(e["last_record"][:10]))
    if days:
        ends.append(_last_busy_day(days))
    if not ends:
        raise WorkspaceError(f"No records in workspace {ws.root}. Run `bellwether build CDR_FILES --workspace {ws.root}`.")
    return max(ends) + timedelta(days=1)


def _last_busy_day(days: Counter[str]) -> date:
    """The last day whose count is at least :data:`MIN_DAY_SHARE` of the median count of the days with records."""
    counts = {d: n for d, n in days.items() if n > 0}
    floor = MIN_DAY_SHARE * statistics.median(counts.values())
    return max(date.fromisoformat(d[:10]) for d, n in counts.items() if n >= floor)


def source_digest(ws: Workspace, as_of: date, window_days: int, keep_service_numbers: bool,
                  tie: TieStrength = DEFAULT_TIE, service_rules: ServiceRules = ServiceRules()) -> str:
    """SHA-256 naming what a graph is built from: the loaded CDR inputs and CRM extracts, and the build parameters.

    Inputs count by content hash (CRM extracts with their order, the later winning per id);
    parameters are ``as_of`` (resolved), ``window_days``, ``keep_service_numbers``,
    the tie-strength factors and the service-number rules.
    """
    m = read_manifest(ws)
    source = {
        "cdr": sorted(e["sha256"] for e in loaded_inputs(m)),
        "subscribers": sorted((e.get("seq", 0), sha) for sha, e in m["subscribers"].items() if e.get("status") == "loaded"),
        "as_of": as_of.isoformat(), "window_days": int(window_days), "keep_service_numbers": bool(keep_service_numbers),
        "tie_strength": tie.__dict__, "service_rules": service_rules.__dict__,
    }
    return hashlib.sha256(json.dumps(source, sort_keys=True).encode()).hexdigest()


def graph_is_current(workspace: Workspace | Path | str, as_of: date | str | None = None, window_days: int = 30,
                     keep_service_numbers: bool = False, tie: TieStrength = DEFAULT_TIE,
                     service_rules: ServiceRules = ServiceRules()) -> bool:
    """Whether the published graph was built from the workspace's current inputs with these parameters.

    False when there is no graph, or its ``graph.json`` has no or another ``source_digest``
    (a crashed build, a new input, other parameters, a graph from before the digest).
    """
    ws = workspace if isinstance(workspace, Workspace) else Workspace(Path(workspace))
    info = ws.graph_info() if ws.has_graph() else None
    if not info or "source_digest" not in info:
        return False
    as_of_d = parse_day(as_of) or default_as_of(ws)
    return info["source_digest"] == source_digest(ws, as_of_d, window_days, keep_service_numbers, tie, service_rules)


def ensure_graph(workspace: Workspace | Path | str, as_of: date | str | None = None, window_days: int = 30,
                 keep_service_numbers: bool = False, progress: bool = True, tie: TieStrength = DEFAULT_TIE,
                 service_rules: ServiceRules = ServiceRules(), memory_limit: str = "1GB", threads: int = 2,
                 pair_counts: PairCounts | None = None) -> bool:
    """Build the graph unless :func:`graph_is_current`; return whether it was built (``pair_counts``: see :func:`build_graph`).

    Under the workspace lock; leftovers of a killed build are removed either way.
    """
    ws = workspace if isinstance(workspace, Workspace) else Workspace(Path(workspace))
    with ws.lock("graph build"):
        ws.create()
        ws.prune_graph_dirs()
        if graph_is_current(ws, as_of, window_days, keep_service_numbers, tie, service_rules):
            return False
        build_graph(ws, as_of=as_of, window_days=window_days, keep_service_numbers=keep_service_numbers, progress=progress,
                    tie=tie, service_rules=service_rules, memory_limit=memory_limit, threads=threads, load=False,
                    pair_counts=pair_counts)
        return True


def _record_files(ws: Workspace, start: datetime, end: datetime) -> tuple[list[Path], bool]:
    """Record files overlapping [start, end) and whether their time ranges overlap each other."""
    spans = []
    for e in loaded_inputs(read_manifest(ws)):
        f = ws.records_dir / e["records_file"]
        if not f.exists() or e.get("first_record") in (None, "None"):
            continue
        t0, t1 = datetime.fromisoformat(e["first_record"]), datetime.fromisoformat(e["last_record"])
        if t1 >= start and t0 < end:
            spans.append((t0, t1, f))
    spans.sort()
    overlap = any(spans[i + 1][0] <= spans[i][1] for i in range(len(spans) - 1))
    return [s[2] for s in spans], overlap


def _pairs_sql(records: str, start: datetime, window_days: int) -> str:
    """Aggregate ``records`` (columns ``x, y`` = caller, callee keys, then the record columns) into pairs ``a < b``."""
    return pairs_from_counts_sql(pair_counts_sql(records, start, window_days))


def pairs_from_counts_sql(counts: str) -> str:
    """The pair table from pair counts (:func:`pair_counts_sql`): night share, reciprocity and events per direction added."""
    return f"""
SELECT a, b, calls_ab, calls_ba, seconds_ab, seconds_ba, sms_ab, sms_ba, first_contact, last_contact, active_days,
       night / (calls_ab + calls_ba + sms_ab + sms_ba) AS night_share,
       1.0 - abs((calls_ab + sms_ab) - (calls_ba + sms_ba)) / (calls_ab + calls_ba + sms_ab + sms_ba) AS reciprocity,
       calls_ab + sms_ab AS n_ab, calls_ba + sms_ba AS n_ba, a_service, b_service
FROM {counts}"""


def shifted_key_sql(col: str) -> str:
    """DuckDB expression: the UBIGINT pseudonym of a key shifted into a signed 64-bit number (:mod:`bellwether.graph.spark_pairs`)."""
    return f"CAST(CAST({col} AS HUGEINT) + 9223372036854775808 AS UBIGINT)"


def pair_counts_sql(records: str, start: datetime, window_days: int) -> str:
    """One row of counts per pair ``a < b`` of ``records``: calls, seconds and SMS per direction, first and last
    contact, active days, events at night (``night``) and whether each end is a service number."""
    day = f"(date_diff('day', DATE '{start.date().isoformat()}', CAST(start_time AS DATE)))"
    if window_days <= 64:
        days = f"bit_count(bit_or(CAST(1 AS UBIGINT) << CAST({day} AS UBIGINT)))"
    elif window_days <= 128:
        days = f"bit_count(bit_or(CAST(1 AS UHUGEINT) << CAST({day} AS UHUGEINT)))"
    else:
        days = "count(DISTINCT CAST(start_time AS DATE))"
    fwd = "fwd"
    return f"""(
  SELECT least(x, y) AS a, greatest(x, y) AS b,
    count(*) FILTER (type = 'voice' AND {fwd})::INTEGER AS calls_ab,
    count(*) FILTER (type = 'voice' AND NOT {fwd})::INTEGER AS calls_ba,
    coalesce(sum(duration) FILTER ({fwd}), 0)::BIGINT AS seconds_ab,
    coalesce(sum(duration) FILTER (NOT {fwd}), 0)::BIGINT AS seconds_ba,
    count(*) FILTER (type = 'sms' AND {fwd})::INTEGER AS sms_ab,
    count(*) FILTER (type = 'sms' AND NOT {fwd})::INTEGER AS sms_ba,
    min(start_time) AS first_contact, max(start_time) AS last_contact,
    {days}::INTEGER AS active_days,
    count(*) FILTER (hour(start_time) >= 22 OR hour(start_time) < 6)::DOUBLE AS night,
    bool_or(CASE WHEN {fwd} THEN caller_service ELSE callee_service END) AS a_service,
    bool_or(CASE WHEN {fwd} THEN callee_service ELSE caller_service END) AS b_service
  FROM (SELECT *, x < y AS fwd FROM {records})
  GROUP BY 1, 2
)"""


def _write(con, sql: str, target: pa.Schema, path: Path, batch: int = 1_000_000) -> int:
    """Stream a query into a Parquet file with exactly the ``target`` schema; return the row count."""
    tmp = path.with_suffix(path.suffix + ".tmp")
    reader = con.sql(sql).to_arrow_reader(batch)
    n = 0
    with pq.ParquetWriter(tmp, target, compression="zstd") as w:
        for b in reader:
            t = pa.Table.from_batches([b]).select(target.names).cast(target)
            w.write_table(t)
            n += t.num_rows
    tmp.replace(path)
    return n


def _copy(con, sql: str, target: pa.Schema, path: Path) -> int:
    """Write a big query with DuckDB's parallel Parquet writer, column types cast to ``target``.

    Parquet has no seconds unit: timestamps are stored in microseconds (values are whole seconds).
    Snappy, and dictionaries only for columns with few distinct values (ids are all distinct):
    3.6 -> 2.4 CPU seconds for the 2.5M contacts of a gen1m month, against zstd with DuckDB's
    default dictionary limit.
    """
    types = {pa.int64(): "BIGINT", pa.int32(): "INTEGER", pa.string(): "VARCHAR", pa.float64(): "DOUBLE",
             pa.bool_(): "BOOLEAN", pa.timestamp("s"): "TIMESTAMP", pa.date32(): "DATE"}
    cols = ", ".join(f'CAST("{f.name}" AS {types[f.type]}) AS "{f.name}"' for f in target)
    tmp = path.with_suffix(path.suffix + ".tmp")
    n = con.execute(f"COPY (SELECT {cols} FROM ({sql})) TO {sql_str(str(tmp))} "
                    f"(FORMAT parquet, COMPRESSION snappy, DICTIONARY_SIZE_LIMIT 1000)").fetchall()[0][0]
    tmp.replace(path)
    return int(n)


def _window_counts(con, ws: Workspace, start: datetime, end: datetime) -> dict[str, int]:
    """Stored records in the window ``[start, end)``, before it, and on or after ``end`` (as_of).

    A record stored by two inputs counts twice.  Inputs wholly on one side count from
    the manifest; the others are counted in their records files (one column read).
    """
    n = {"records_in_window": 0, "records_before_window": 0, "records_after_as_of": 0}
    scan = []
    for e in loaded_inputs(read_manifest(ws)):
        f = ws.records_dir / e["records_file"]
        if not f.exists() or e.get("first_record") in (None, "None"):
            continue
        if datetime.fromisoformat(e["last_record"]) < start:
            n["records_before_window"] += int(e.get("records", 0))
        elif datetime.fromisoformat(e["first_record"]) >= end:
            n["records_after_as_of"] += int(e.get("records", 0))
        else:
            scan.append(f)
    t0, t1 = (f"TIMESTAMP '{t.isoformat(sep=' ')}'" for t in (start, end))
    for group in _by_id_type(scan).values():
        flist = "[" + ", ".join(sql_str(str(f)) for f in group) + "]"
        before, inside, after = con.execute(
            f"SELECT count(*) FILTER (start_time < {t0}), count(*) FILTER (start_time >= {t0} AND start_time < {t1}), "
            f"count(*) FILTER (start_time >= {t1}) FROM read_parquet({flist})").fetchall()[0]
        n["records_before_window"] += int(before)
        n["records_in_window"] += int(inside)
        n["records_after_as_of"] += int(after)
    return n


def _by_id_type(files: list[Path]) -> dict[bool, list[Path]]:
    """Record files grouped by whether ``caller`` is text (True) or a UBIGINT pseudonym (False)."""
    out: dict[bool, list[Path]] = {}
    for f in files:
        t = pq.read_schema(f).field("caller").type
        out.setdefault(pa.types.is_string(t) or pa.types.is_large_string(t), []).append(f)
    return out


def _assemble(ws: Workspace, as_of: date | str | None, window_days: int, keep_service_numbers: bool,
              tie: TieStrength, service_rules: ServiceRules, memory_limit: str, threads: int, progress: bool = False,
              pair_counts: PairCounts | None = None):
    """Create the temp tables ``subs``, ``contacts``, ``services`` in a fresh connection; return (con, info).

    ``pair_counts`` aggregates the records into pair counts elsewhere (Spark, :mod:`bellwether.graph.spark_pairs`)
    instead of in DuckDB (:func:`pair_counts_sql`).
    """
    ws = ws if isinstance(ws, Workspace) else Workspace(Path(ws))
    if window_days < 1:
        raise WorkspaceError(f"window_days must be at least 1, got {window_days}.")
    as_of_d = parse_day(as_of) or default_as_of(ws)
    end = datetime.combine(as_of_d, datetime.min.time())
    start = end - timedelta(days=window_days)
    files, overlap = _record_files(ws, start, end)
    scratch = ws.root / ".tmp" / f"build-{os.getpid()}"
    con = connect(scratch, memory_limit, threads)
    con.execute("SET preserve_insertion_order = false")
    t = time.perf_counter()
    hexed = read_manifest(ws).get("pseudonymized", True)
    if hexed:  # 16-hex-char pseudonyms are 64-bit numbers: group and join on UBIGINT, print as hex at the end
        key = lambda c: f"CAST('0x' || {c} AS UBIGINT)"  # noqa: E731
        text = key_to_id_sql
    else:
        key = text = lambda c: c  # noqa: E731
    rec_cols = "start_time, duration, type, caller_service, callee_service"
    where = f"start_time >= TIMESTAMP '{start.isoformat(sep=' ')}' AND start_time < TIMESTAMP '{end.isoformat(sep=' ')}'"
    parts = []
    for as_text, group in _by_id_type(files).items():  # UBIGINT pseudonyms, or text (E.164, or hex of older loads)
        flist = "[" + ", ".join(sql_str(str(f)) for f in group) + "]"
        x, y = (key("caller"), key("callee")) if as_text else ("caller", "callee")
        parts.append(f"SELECT {x} AS x, {y} AS y, {rec_cols} FROM read_parquet({flist}) WHERE {where}")
    if parts:
        base = "(" + " UNION ALL ".join(parts) + ")"
        records = f"(SELECT DISTINCT * FROM {base})" if overlap else base
    else:
        records = (f"(SELECT {key('NULL::VARCHAR')} AS x, {key('NULL::VARCHAR')} AS y, NULL::TIMESTAMP AS start_time, "
                   "NULL::INTEGER AS duration, NULL::VARCHAR AS type, NULL::BOOLEAN AS caller_service, NULL::BOOLEAN AS callee_service LIMIT 0)")
    say(progress, f"graph: aggregating {len(files)} record file(s) from {start.date()} to {as_of_d} (exclusive)")
    if pair_counts is not None and files:
        if not hexed or True in _by_id_type(files):
            raise WorkspaceError("The Spark engine builds from pseudonymised records stored as 64-bit numbers only; "
                                 "build this workspace with the default engine (without --engine spark).")
        out = scratch / "pair_counts"
        pair_counts(files, start, end, overlap, out)
        counts = (f"(SELECT {shifted_key_sql('a')} AS a, {shifted_key_sql('b')} AS b, * EXCLUDE (a, b) "
                  f"FROM read_parquet({sql_str(str(out / '*.parquet'))}))")
        con.execute(f"CREATE TEMP TABLE pairs AS {pairs_from_counts_sql(counts)}")
    else:
        con.execute(f"CREATE TEMP TABLE pairs AS {_pairs_sql(records, start, window_days)}")
    say(progress, "graph: finding service numbers, joining subscribers")
    con.execute("CREATE TEMP TABLE short_codes AS SELECT a AS id FROM pairs WHERE a_service UNION SELECT b FROM pairs WHERE b_service")
    con.execute(f"CREATE TEMP TABLE services_k AS {service_sql('pairs', 'short_codes', service_rules)}")
    con.execute(f"CREATE TEMP TABLE services AS SELECT {text('id')} AS id, reason, in_degree, out_degree, reciprocity, services_k.id AS k FROM services_k")
    con.execute("CREATE TEMP TABLE service_keys AS SELECT k AS sk FROM services")
    drop = "" if keep_service_numbers else (
        "WHERE a NOT IN (SELECT sk FROM service_keys) AND b NOT IN (SELECT sk FROM service_keys)")
    crm_files = sorted(ws.subscriber_extracts_dir.glob("*.parquet")) if ws.subscriber_extracts_dir.exists() else []
    if crm_files:
        flist = "[" + ", ".join(sql_str(str(f)) for f in crm_files) + "]"
        crm = (f"(SELECT {key('id')} AS id, arg_max(plan, seq) AS plan, arg_max(arpu, seq) AS arpu, arg_max(tenure_months, seq) AS tenure_months, "
               f"arg_max(region, seq) AS region, arg_max(status, seq) AS status, arg_max(churn_date, seq) AS churn_date "
               f"FROM read_parquet({flist}) GROUP BY id)")
    else:
        crm = (f"(SELECT {key('NULL::VARCHAR')} AS id, NULL::VARCHAR AS plan, NULL::DOUBLE AS arpu, NULL::INTEGER AS tenure_months, "
               "NULL::VARCHAR AS region, NULL::VARCHAR AS status, NULL::DATE AS churn_date LIMIT 0)")
    con.execute(f"CREATE TEMP TABLE kept AS SELECT * FROM pairs {drop}")
    con.execute(f"""CREATE TEMP TABLE subs AS
        SELECT vid, k, {text('k')} AS id, on_net, kind, plan, arpu, tenure_months, region, status, churn_date FROM (
          SELECT (row_number() OVER (ORDER BY v.vk) - 1)::BIGINT AS vid, v.vk AS k, c.cid IS NOT NULL AS on_net,
                 CASE WHEN v.vk IN (SELECT sk FROM service_keys) THEN 'service' ELSE 'person' END AS kind,
                 c.plan, c.arpu, c.tenure_months::INTEGER AS tenure_months, c.region, c.status, c.churn_date
          FROM (SELECT a AS vk FROM kept UNION SELECT b FROM kept UNION SELECT id FROM {crm}) v
          LEFT JOIN (SELECT id AS cid, * EXCLUDE (id) FROM {crm}) c ON c.cid = v.vk)""")
    # ids as keys through the joins and the sort; their text is made as the rows are written (view ``contacts``)
    con.execute(f"""CREATE TEMP TABLE contacts_k AS
        SELECT sa.vid AS a_vid, sb.vid AS b_vid, k.a AS ka, k.b AS kb, calls_ab, calls_ba, seconds_ab, seconds_ba, sms_ab, sms_ba,
               first_contact, last_contact, active_days, night_share, reciprocity, {tie.sql()} AS weight
        FROM kept k JOIN (SELECT vid, k FROM subs) sa ON sa.k = k.a JOIN (SELECT vid, k FROM subs) sb ON sb.k = k.b""")
    con.execute(f"""CREATE TEMP VIEW contacts AS
        SELECT a_vid, b_vid, {text('ka')} AS a, {text('kb')} AS b, * EXCLUDE (a_vid, b_vid, ka, kb) FROM contacts_k""")
    con.execute("DROP TABLE pairs; DROP TABLE kept")
    n_subs, on_net, service, crm_alone = con.execute(
        "SELECT count(*), count(*) FILTER (on_net), count(*) FILTER (kind = 'service'), count(*) FILTER (on_net AND vid NOT IN "
        "(SELECT a_vid FROM contacts_k UNION SELECT b_vid FROM contacts_k)) FROM subs").fetchall()[0]
    n_contacts = con.execute("SELECT count(*) FROM contacts_k").fetchall()[0][0]
    n_services = con.execute("SELECT count(*) FROM services").fetchall()[0][0]
    info = {
        "as_of": as_of_d.isoformat(), "window_days": int(window_days), "window_start": start.date().isoformat(),
        "keep_service_numbers": bool(keep_service_numbers), "record_files": [f.name for f in files],
        "deduplicated_across_files": bool(overlap), "subscribers": int(n_subs), "on_net": int(on_net),
        "off_net": int(n_subs - on_net), "service_in_graph": int(service), "service_numbers": int(n_services),
        "contacts": int(n_contacts), "tie_strength": tie.__dict__ | {"formula": tie.sql()},
        "service_rules": service_rules.__dict__, "built_at": datetime.now().astimezone().isoformat(timespec="seconds"),
        "crm_subscribers": int(on_net), "crm_without_contacts": int(crm_alone),
        **_window_counts(con, ws, start, end),
        "source_digest": source_digest(ws, as_of_d, window_days, keep_service_numbers, tie, service_rules),
        "seconds": round(time.perf_counter() - t, 3),
    }
    return con, info, scratch


def _empty_message(info: dict) -> str:
    """One line saying why a build found no contact."""
    window = f"[{info['window_start']}, {info['as_of']})"
    if info["records_in_window"]:
        why = (f"all {info['records_in_window']:,} records in it involve service numbers "
               f"(--keep-service-numbers keeps them)")
    else:
        why = (f"no record in it ({info['records_before_window']:,} before it, {info['records_after_as_of']:,} on or after "
               f"as_of); choose --as-of and --window to cover the records")
    return f"No contact in the window {window}: {why}. The previous graph was kept."


def _contacts_schema(contact_columns: Sequence[str] | None) -> pa.Schema:
    """The contacts schema limited to ``contact_columns`` (``a_vid`` and ``b_vid`` always); all columns for None."""
    if contact_columns is None:
        return schema.CONTACTS
    return pa.schema([schema.CONTACTS.field(c) for c in dict.fromkeys(["a_vid", "b_vid", *contact_columns])])


def build_contacts(workspace: Workspace | Path | str, as_of: date | str | None = None, window_days: int = 30,
                   keep_service_numbers: bool = False, tie: TieStrength = DEFAULT_TIE,
                   service_rules: ServiceRules = ServiceRules(), memory_limit: str = "1GB", threads: int = 2,
                   contact_columns: Sequence[str] | None = None) -> ContactGraph:
    """The contact graph at ``as_of`` in memory (nothing written); see the module docstring.

    ``as_of`` defaults to the day after the last record; only records in
    ``[as_of - window_days, as_of)`` are used, so an earlier ``as_of`` gives the
    graph as it was then (no later record leaks in).  ``contact_columns`` limits the contact
    columns returned (``a_vid`` and ``b_vid`` always), as :meth:`ContactGraph.load` does.
    """
    ws = workspace if isinstance(workspace, Workspace) else Workspace(Path(workspace))
    contacts_schema = _contacts_schema(contact_columns)
    selected = ", ".join(contacts_schema.names)
    con, info, scratch = _assemble(ws, as_of, window_days, keep_service_numbers, tie, service_rules, memory_limit, threads)
    try:  # each Arrow table gives its buffers up column by column as pandas takes them (one copy alive, not two)
        subs = con.sql("SELECT * EXCLUDE (k) FROM subs ORDER BY vid").to_arrow_table().cast(schema.SUBSCRIBERS) \
            .to_pandas(split_blocks=True, self_destruct=True)
        con.execute("DROP TABLE subs")
        contacts = con.sql(f"SELECT {selected} FROM contacts ORDER BY a_vid, b_vid").to_arrow_table() \
            .cast(contacts_schema).to_pandas(split_blocks=True, self_destruct=True)
    finally:
        con.close()
        shutil.rmtree(scratch, ignore_errors=True)
    return ContactGraph(subs, contacts, info)


def write_contacts(workspace: Workspace | Path | str, out: GraphFiles, as_of: date | str | None = None,
                   window_days: int = 30, keep_service_numbers: bool = False, tie: TieStrength = DEFAULT_TIE,
                   service_rules: ServiceRules = ServiceRules(), memory_limit: str = "1GB", threads: int = 2,
                   contact_columns: Sequence[str] | None = None) -> dict[str, Any]:
    """Write the contact graph at ``as_of`` (the tables of :func:`build_contacts`) into the directory of ``out``.

    Subscribers, contacts and ``graph.json`` go straight from DuckDB to Parquet, so nothing is held in
    this process: read them back with :meth:`ContactGraph.read` when they are needed.  Nothing is
    published; the caller owns ``out.dir``.  Returns the graph's info.
    """
    ws = workspace if isinstance(workspace, Workspace) else Workspace(Path(workspace))
    contacts_schema = _contacts_schema(contact_columns)
    con, info, scratch = _assemble(ws, as_of, window_days, keep_service_numbers, tie, service_rules, memory_limit, threads)
    try:
        out.dir.mkdir(parents=True, exist_ok=True)
        _write(con, "SELECT * EXCLUDE (k) FROM subs ORDER BY vid", schema.SUBSCRIBERS, out.subscribers_path)
        _copy(con, f"SELECT {', '.join(contacts_schema.names)} FROM contacts ORDER BY a_vid, b_vid", contacts_schema,
              out.contacts_path)
        write_json(out.info_path, info)
    finally:
        con.close()
        shutil.rmtree(scratch, ignore_errors=True)
    return info


def build_graph(workspace: Workspace | Path | str, as_of: date | str | None = None, window_days: int = 30,
                keep_service_numbers: bool = False, progress: bool = True, tie: TieStrength = DEFAULT_TIE,
                service_rules: ServiceRules = ServiceRules(), memory_limit: str = "1GB", threads: int = 2,
                load: bool = True, pair_counts: PairCounts | None = None) -> ContactGraph | None:
    """Build the graph tables and publish them as ``workspace/graph/`` (Parquet) with ``graph.json``.

    Writes ``subscribers.parquet``, ``contacts.parquet`` (sorted by ``a_vid, b_vid``),
    ``service_numbers.parquet`` (:mod:`bellwether.graph.schema` schemas; Parquet keeps timestamps in
    milli- or microseconds, whole-second values) and ``graph.json``
    (as_of, window, counts, parameters, ``source_digest``) into a new directory, then
    publishes it all or nothing, under the workspace lock.  Returns the graph read back,
    or None with ``load=False``.  ``pair_counts`` aggregates the records on another engine
    (:func:`bellwether.graph.spark_pairs.spark_pair_counts`); the tables are the same.

    Raises
    ------
    WorkspaceError
        No contact in the window (the previous graph is kept), or another process holds the workspace.
    """
    ws = workspace if isinstance(workspace, Workspace) else Workspace(Path(workspace))
    with ws.lock("graph build"):
        ws.create()
        con, info, scratch = _assemble(ws, as_of, window_days, keep_service_numbers, tie, service_rules, memory_limit,
                                       threads, progress, pair_counts)
        try:
            if info["contacts"] == 0:
                raise WorkspaceError(_empty_message(info))
            say(progress, f"graph: writing {info['subscribers']:,} subscribers and {info['contacts']:,} contacts")
            with ws.writing_graph("graph build") as new:
                _write(con, "SELECT * EXCLUDE (k) FROM subs ORDER BY vid", schema.SUBSCRIBERS, new.subscribers_path)
                crash_point("graph.subscribers_written")
                _copy(con, "SELECT * FROM contacts ORDER BY a_vid, b_vid", schema.CONTACTS, new.contacts_path)
                crash_point("graph.contacts_written")
                _write(con, "SELECT * EXCLUDE (k) FROM services ORDER BY id", schema.SERVICE_NUMBERS, new.service_numbers_path)
                crash_point("graph.service_numbers_written")
                write_json(new.info_path, info)
        finally:
            con.close()
            shutil.rmtree(scratch, ignore_errors=True)
    return ContactGraph.load(ws) if load else None

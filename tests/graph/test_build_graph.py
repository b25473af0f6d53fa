"""Graph build: aggregation against a plain-Python fold, formats giving one graph, dedupe, service numbers, schemas."""

import csv
import math
from collections import defaultdict
from datetime import datetime, timedelta

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from bellwether.graph import schema
from bellwether.graph.build import build_contacts, build_graph
from bellwether.graph.tie_strength import DEFAULT as TIE
from bellwether.graph.core.workspace import Workspace
from bellwether.loaders.load import LoadOptions, load
from bellwether.loaders.pseudonym import hmac_id

KEY = b"build-test-key-0123456789"
HEADER = ["caller", "callee", "start_time", "duration", "type"]


def calls(n=300, users=25, seed=3):
    import random
    rnd = random.Random(seed)
    out = []
    t0 = datetime(2024, 1, 1)
    for _ in range(n):
        a, b = rnd.sample(range(users), 2)
        kind = rnd.choice(["voice", "voice", "sms"])
        t = t0 + timedelta(seconds=rnd.randrange(31 * 86400))
        out.append((f"+86138{a:08d}", f"+86138{b:08d}", t.strftime("%Y-%m-%d %H:%M:%S"), rnd.randrange(1, 900) if kind == "voice" else 0, kind))
    out.append(("+8613800000001", "10086", "2024-01-05 10:00:00", 30, "voice"))  # short code
    return out


def write_csv(path, rows, fmt=lambda s: s):
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(HEADER)
        for r in rows:
            w.writerow([fmt(r[0]), fmt(r[1]), *r[2:]])


def fold(rows, as_of=datetime(2024, 2, 1), window=30):
    """Independent computation of the contacts table (plain Python)."""
    start = as_of - timedelta(days=window)
    acc = defaultdict(lambda: defaultdict(int))
    days, first, last = defaultdict(set), {}, {}
    for caller, callee, ts, dur, kind in set(rows):
        t = datetime.strptime(ts, "%Y-%m-%d %H:%M:%S")
        if not start <= t < as_of or "10086" in (caller, callee):
            continue
        x, y = hmac_id(caller, KEY), hmac_id(callee, KEY)
        a, b = min(x, y), max(x, y)
        d = "ab" if x == a else "ba"
        acc[a, b]["calls_" + d] += kind == "voice"
        acc[a, b]["sms_" + d] += kind == "sms"
        acc[a, b]["seconds_" + d] += dur
        acc[a, b]["night"] += t.hour >= 22 or t.hour < 6
        days[a, b].add(t.date())
        first[a, b] = min(first.get((a, b), t), t)
        last[a, b] = max(last.get((a, b), t), t)
    out = {}
    for k, v in acc.items():
        nab, nba = v["calls_ab"] + v["sms_ab"], v["calls_ba"] + v["sms_ba"]
        rec = 1 - abs(nab - nba) / (nab + nba)
        out[k] = dict(calls_ab=v["calls_ab"], calls_ba=v["calls_ba"], seconds_ab=v["seconds_ab"], seconds_ba=v["seconds_ba"],
                      sms_ab=v["sms_ab"], sms_ba=v["sms_ba"], first_contact=first[k], last_contact=last[k], active_days=len(days[k]),
                      night_share=v["night"] / (nab + nba), reciprocity=rec,
                      weight=float(TIE.compute(v["seconds_ab"] + v["seconds_ba"], v["sms_ab"] + v["sms_ba"], v["calls_ab"] + v["calls_ba"], rec)))
    return out


def test_aggregation_matches_python_fold(tmp_path):
    rows = calls()
    rows.append(rows[0])  # exact duplicate in the file
    f = tmp_path / "cdr.csv"
    write_csv(f, rows, fmt=lambda s: s[3:] if s.startswith("+86") and hash(s) % 2 else s)
    ws = Workspace(tmp_path / "ws")
    s = load(ws, [f], options=LoadOptions(key=KEY))
    assert s.inputs[0].duplicates == 1
    g = build_graph(ws, as_of="2024-02-01", window_days=30, progress=False)
    want = fold(rows)
    got = {(r["a"], r["b"]): r for r in g.contacts.to_dict("records")}
    assert set(got) == set(want)
    for k, w in want.items():
        for col, val in w.items():
            v = got[k][col]
            if isinstance(val, float):
                assert math.isclose(v, val, rel_tol=1e-9, abs_tol=1e-12), (col, v, val)
            else:
                assert pd.Timestamp(v) == pd.Timestamp(val) if isinstance(val, datetime) else v == val, (col, v, val)
    subs = g.subscribers
    assert list(subs.vid) == list(range(len(subs))) and list(subs.id) == sorted(subs.id)
    ids = subs.id.to_numpy()
    assert (ids[g.contacts.a_vid] == g.contacts.a).all() and (ids[g.contacts.b_vid] == g.contacts.b).all()
    assert (g.contacts.a < g.contacts.b).all()
    sn = pq.read_table(ws.service_numbers_path).to_pandas()
    assert list(sn.reason) == ["short_code"] and sn.id[0] == hmac_id("10086", KEY)
    for path, sch in [(ws.subscribers_path, schema.SUBSCRIBERS), (ws.contacts_path, schema.CONTACTS), (ws.service_numbers_path, schema.SERVICE_NUMBERS)]:
        got_schema = pq.read_table(path).schema
        assert got_schema.names == sch.names
        for a, b in zip(got_schema, sch):  # Parquet has no seconds unit: timestamps come back as [ms]
            assert a.type == b.type or (pa.types.is_timestamp(a.type) and pa.types.is_timestamp(b.type)), (a, b)


def test_window_and_earlier_as_of(tmp_path):
    rows = calls()
    f = tmp_path / "cdr.csv"
    write_csv(f, rows)
    ws = Workspace(tmp_path / "ws")
    load(ws, [f], options=LoadOptions(key=KEY))
    g = build_contacts(ws, as_of="2024-01-16", window_days=10)
    want = fold(rows, as_of=datetime(2024, 1, 16), window=10)
    assert {(r["a"], r["b"]) for r in g.contacts.to_dict("records")} == set(want)
    assert pd.Timestamp(g.contacts.last_contact.max()) < pd.Timestamp("2024-01-16")
    assert not ws.contacts_path.exists()
    assert build_graph(ws, progress=False).info["as_of"] == "2024-02-01"  # day after the last record


def test_csv_parquet_bandicoot_give_identical_graph(tmp_path):
    rows = calls(n=150, users=12)
    rows = [r for r in rows if "10086" not in r[1]]
    graphs = []
    # generic CSV (mixed formats, semicolon)
    f = tmp_path / "csv" / "cdr.csv"
    f.parent.mkdir()
    with open(f, "w") as fh:
        fh.write(";".join(HEADER) + "\n")
        for i, r in enumerate(rows):
            fh.write(";".join([r[0] if i % 2 else "00" + r[0][1:], r[1] if i % 3 else r[1][3:], r[2], str(r[3]), r[4].upper()]) + "\n")
    # Parquet with operator column names and typed columns
    p = tmp_path / "pq" / "cdr.parquet"
    p.parent.mkdir()
    pq.write_table(pa.table({"A_NUMBER": [r[0] for r in rows], "B_NUMBER": [r[1] for r in rows],
                             "start_time": pa.array([datetime.strptime(r[2], "%Y-%m-%d %H:%M:%S") for r in rows], pa.timestamp("s")),
                             "duration": pa.array([r[3] for r in rows], pa.int64()), "type": [r[4] for r in rows]}), p)
    # bandicoot: one file per user, each call in both parties' files
    b = tmp_path / "bc"
    b.mkdir()
    per_user = defaultdict(list)
    for caller, callee, ts, dur, kind in rows:
        inter = "call" if kind == "voice" else "text"
        d = "" if kind == "sms" else str(dur)
        per_user[caller].append([inter, "out", callee, ts, d, "a1"])
        per_user[callee].append([inter, "in", caller, ts, d, "a2"])
    for user, recs in per_user.items():
        with open(b / f"{user}.csv", "w", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(["interaction", "direction", "correspondent_id", "datetime", "call_duration", "antenna_id"])
            w.writerows(recs)
    for name, src, opts in [("csv", f, {}), ("pq", p, {"mapping": {"caller": "A_NUMBER", "callee": "B_NUMBER"}}),
                            ("bc", b, {"fmt": "bandicoot"})]:
        ws = Workspace(tmp_path / f"ws_{name}")
        s = load(ws, [src], options=LoadOptions(key=KEY, **opts))
        assert s.inputs[0].status == "loaded" and s.inputs[0].rejected_rows == 0, s.inputs[0]
        graphs.append(build_contacts(ws, as_of="2024-02-01"))
    for g in graphs[1:]:
        pd.testing.assert_frame_equal(g.subscribers, graphs[0].subscribers)
        pd.testing.assert_frame_equal(g.contacts, graphs[0].contacts)
    assert graphs[0].n_contacts > 10


def test_duplicate_across_files_counted_once_and_crm_isolates(tmp_path):
    rows = calls(n=80, users=10)
    f1, f2 = tmp_path / "a.csv", tmp_path / "b.csv"
    write_csv(f1, rows[:50])
    write_csv(f2, rows[40:])  # 10 records in both files
    crm = tmp_path / "subs.csv"
    crm.write_text("msisdn,plan,arpu,tenure_months,region,status,churn_date\n"
                   "+8613800000001,gold,10.5,12,north,active,\n+8613899999999,basic,3,1,south,churned,2024-01-20\n")
    ws = Workspace(tmp_path / "ws")
    load(ws, [f1, f2], subscribers=crm, options=LoadOptions(key=KEY))
    g = build_graph(ws, as_of="2024-02-01", progress=False)
    want = fold(rows)
    got = {(r["a"], r["b"]): (r["calls_ab"], r["calls_ba"], r["sms_ab"], r["sms_ba"], r["seconds_ab"]) for r in g.contacts.to_dict("records")}
    assert got == {k: (v["calls_ab"], v["calls_ba"], v["sms_ab"], v["sms_ba"], v["seconds_ab"]) for k, v in want.items()}
    subs = g.subscribers.set_index("id")
    iso = subs.loc[hmac_id("+8613899999999", KEY)]
    assert iso.on_net and iso.status == "churned" and str(iso.churn_date)[:10] == "2024-01-20"
    assert subs.loc[hmac_id("+8613800000001", KEY)].plan == "gold"
    assert subs.on_net.sum() == 2 and (~subs.on_net).sum() == len(subs) - 2
    # a later extract wins per id
    crm2 = tmp_path / "subs2.csv"
    crm2.write_text("msisdn,plan\n+8613800000001,platinum\n")
    load(ws, [], subscribers=crm2, options=LoadOptions(key=KEY))
    g = build_contacts(ws, as_of="2024-02-01")
    assert g.subscribers.set_index("id").loc[hmac_id("+8613800000001", KEY)].plan == "platinum"


def test_high_in_degree_service_number(tmp_path):
    hub = "+8640012345678"
    rows = [(f"+86138{i:08d}", hub, f"2024-01-{1 + i % 28:02d} 10:00:00", 60, "voice") for i in range(120)]
    rows += [("+8613800000001", "+8613800000002", "2024-01-03 10:00:00", 60, "voice")]
    f = tmp_path / "cdr.csv"
    write_csv(f, rows)
    ws = Workspace(tmp_path / "ws")
    load(ws, [f], options=LoadOptions(key=KEY))
    g = build_graph(ws, progress=False)
    sn = pq.read_table(ws.service_numbers_path).to_pandas()
    assert list(sn.reason) == ["high_in_degree"] and sn.in_degree[0] == 120
    assert g.n_contacts == 1
    g = build_graph(ws, progress=False, keep_service_numbers=True)
    assert g.n_contacts == 121 and (g.subscribers.kind == "service").sum() == 1


def test_outbound_telemarketing_number_is_a_service_number(tmp_path):
    # one number calls 150 people, three of them call it back once: a telemarketing line, not a person
    tm = "+8617012345678"
    rows = [(tm, f"+86139{i:08d}", f"2024-01-{1 + i % 28:02d} 11:00:00", 20, "voice") for i in range(150)]
    rows += [(f"+86139{i:08d}", tm, "2024-01-20 12:00:00", 5, "voice") for i in range(3)]
    rows += [("+8613900000001", "+8613900000002", "2024-01-03 10:00:00", 60, "voice")]
    f = tmp_path / "cdr.csv"
    write_csv(f, rows)
    ws = Workspace(tmp_path / "ws")
    load(ws, [f], options=LoadOptions(key=KEY))
    g = build_graph(ws, progress=False)
    sn = pq.read_table(ws.service_numbers_path).to_pandas()
    assert list(sn.reason) == ["high_out_degree"] and sn.out_degree[0] == 150
    assert sn.reciprocity[0] == pytest.approx(3 / 150)
    assert g.n_contacts == 1


def test_records_store_integer_pseudonyms_and_text_id_files_still_build(tmp_path):
    rows = calls(n=120, users=12)
    f1, f2 = tmp_path / "a.csv", tmp_path / "b.csv"
    write_csv(f1, rows[:70])
    write_csv(f2, rows[60:])  # overlapping files: deduplicated across the two layouts too
    ws = Workspace(tmp_path / "ws")
    load(ws, [f1, f2], options=LoadOptions(key=KEY))
    files = sorted(ws.records_dir.glob("*.parquet"))
    assert [pq.read_schema(f).field("caller").type for f in files] == [schema.RECORDS.field("caller").type] * 2 == [pa.uint64()] * 2
    want = build_contacts(ws, as_of="2024-02-01")
    t = pq.read_table(files[0])  # rewrite one file as 16-hex text ids, the layout of earlier loads
    hexed = [pa.array([f"{k:016x}" for k in t[c].to_pylist()]) for c in ("caller", "callee")]
    pq.write_table(t.set_column(0, "caller", hexed[0]).set_column(1, "callee", hexed[1]), files[0])
    got = build_contacts(ws, as_of="2024-02-01")
    pd.testing.assert_frame_equal(got.subscribers, want.subscribers)
    pd.testing.assert_frame_equal(got.contacts, want.contacts)
    assert set(want.subscribers.id) >= {hmac_id(r[0], KEY) for r in rows if r[1] != "10086"}


def test_written_contacts_read_back_as_the_in_memory_graph(tmp_path):
    """write_contacts (the analysis's training snapshot, spilled to Parquet) holds build_contacts' tables."""
    from bellwether.graph.build import write_contacts
    from bellwether.graph.contact_graph import ContactGraph
    from bellwether.graph.core.workspace import GraphFiles

    f = tmp_path / "calls.csv"
    write_csv(f, calls(n=400, users=30))
    ws = Workspace(tmp_path / "ws")
    load(ws, [f], options=LoadOptions(key=KEY))
    want = build_contacts(ws, as_of="2024-01-20", window_days=10)
    info = write_contacts(ws, GraphFiles(tmp_path / "snap"), as_of="2024-01-20", window_days=10)
    got = ContactGraph.read(GraphFiles(tmp_path / "snap"))
    assert info["as_of"] == want.info["as_of"] and got.info == info
    pd.testing.assert_frame_equal(got.subscribers, want.subscribers)
    # Parquet keeps timestamps in microseconds; the values are the same seconds
    pd.testing.assert_frame_equal(got.contacts, want.contacts, check_dtype=False)
    assert len(got.contacts) > 0

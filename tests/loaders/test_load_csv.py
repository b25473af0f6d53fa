"""Loading CDR CSV files: fuzzed rows, quarantine lines, reject ratio, idempotent reloads, no raw numbers anywhere."""

import json
import os
import random
import re

import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from typer.testing import CliRunner

from bellwether.cli.app import app
from bellwether.graph.core.workspace import Workspace
from bellwether.loaders.errors import PseudonymKeyError
from bellwether.loaders.load import LoadOptions, load
from bellwether.loaders.pseudonym import hmac_id, key_to_id

KEY = b"load-test-key-0123456789"
HEADER = "caller,callee,start_time,duration,type\n"


def number(i: int, fmt: int = 0) -> str:
    return ["", "+86", "0086", "86"][fmt % 4] + str(13800000000 + i)


def valid_row(i: int) -> tuple[str, tuple]:
    a, b = i % 37, 100 + (i * 7) % 41
    t = f"2024-01-{1 + i % 28:02d} {i % 24:02d}:{i % 60:02d}:{(i * 13) % 60:02d}"
    kind, dur = ("sms", 0) if i % 3 == 0 else ("voice", (i * 11) % 900)
    row = f"{number(a, i)},{number(b, i // 4)},{t},{dur},{kind}"
    return row, (hmac_id(f"+86{13800000000 + a}", KEY), hmac_id(f"+86{13800000000 + b}", KEY), t, dur, kind)


GARBLES = {
    "bad_time": lambda r: r.replace("2024-01-", "2024/13/"),
    "bad_duration": lambda r: ",".join(p if i != 3 else "-7" for i, p in enumerate(r.split(","))),
    "bad_type": lambda r: r.rsplit(",", 1)[0] + ",fax",
    "missing_number": lambda r: "," + r.split(",", 1)[1],
    "bad_number": lambda r: "13x8," + r.split(",", 1)[1],
    "field_count": lambda r: r.rsplit(",", 1)[0],
    "self_contact": None,  # see garble()
}


def garble(row: str, reason: str) -> str:
    if reason == "self_contact":
        p = row.split(",")
        return ",".join([p[0], p[0], *p[2:]])
    return GARBLES[reason](row)


def records(ws: Workspace):
    t = pq.read_table(ws.records_dir).to_pandas()
    if t.caller.dtype.kind == "u":  # pseudonyms stored as 64-bit integers (graph.schema.RECORDS)
        t["caller"], t["callee"] = t.caller.map(key_to_id), t.callee.map(key_to_id)
    return sorted(zip(t.caller, t.callee, t.start_time.dt.strftime("%Y-%m-%d %H:%M:%S"), t.duration, t.type))


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(n=st.integers(5, 60), bad=st.dictionaries(st.integers(0, 59), st.sampled_from(sorted(GARBLES)), max_size=8),
       blanks=st.sets(st.integers(0, 59), max_size=3))
def test_fuzzed_rows_quarantined_valid_rows_kept(tmp_path_factory, n, bad, blanks):
    tmp = tmp_path_factory.mktemp("fuzz")
    lines, expected, bad_lines = [HEADER.strip()], set(), {}
    for i in range(n):
        if i in blanks:
            lines.append("")
        row, rec = valid_row(i)
        if i in bad:
            lines.append(garble(row, bad[i]))
            bad_lines[len(lines)] = bad[i]
        else:
            lines.append(row)
            expected.add(rec)
    f = tmp / "cdr.csv"
    f.write_text("\n".join(lines) + "\n")
    ws = Workspace(tmp / "ws")
    s = load(ws, [f], options=LoadOptions(key=KEY, max_reject_ratio=1.0))
    assert s.inputs[0].status == "loaded"
    assert set(records(ws)) == expected
    q = pq.read_table(ws.quarantine_dir).to_pandas() if bad_lines else None
    for line, reason in bad_lines.items():
        assert reason in set(q[q.line == line].reason), (line, reason, q.to_dict("records"))
    if bad_lines:
        assert set(q.line) == set(bad_lines)
        assert s.inputs[0].rejected_rows == len(bad_lines)


def test_every_field_checked_one_row_per_problem(tmp_path):
    f = tmp_path / "a.csv"
    f.write_text(HEADER + "abc,,2024-13-01 10:00:00,-5,fax\n" + valid_row(1)[0] + "\n")
    ws = Workspace(tmp_path / "ws")
    s = load(ws, [f], options=LoadOptions(key=KEY, max_reject_ratio=1.0))
    q = pq.read_table(ws.quarantine_dir).to_pandas()
    assert sorted(q.reason) == ["bad_duration", "bad_number", "bad_time", "bad_type", "missing_number"]
    assert set(q.line) == {2} and s.inputs[0].rejected_rows == 1 and s.inputs[0].records == 1


def test_reject_ratio_fails_that_file_only(tmp_path):
    good, bad = tmp_path / "good.csv", tmp_path / "bad.csv"
    good.write_text(HEADER + "".join(valid_row(i)[0] + "\n" for i in range(50)))
    bad.write_text(HEADER + "".join((garble(valid_row(i)[0], "bad_time") if i % 5 == 0 else valid_row(i)[0]) + "\n" for i in range(50)))
    ws = Workspace(tmp_path / "ws")
    s = load(ws, [bad, good], options=LoadOptions(key=KEY))
    by = {os.path.basename(r.path): r for r in s.inputs}
    assert by["good.csv"].status == "loaded" and by["good.csv"].records == 50
    assert by["bad.csv"].status == "failed"
    assert "bad.csv" in by["bad.csv"].message and "20.00%" in by["bad.csv"].message and "bad_time" in by["bad.csv"].message
    assert len(list(ws.records_dir.glob("*.parquet"))) == 1


def test_file_with_unusable_header_fails_alone(tmp_path):
    odd, good = tmp_path / "odd.csv", tmp_path / "good.csv"
    odd.write_text("foo,bar\n1,2\n")
    good.write_text(HEADER + "".join(valid_row(i)[0] + "\n" for i in range(20)))
    ws = Workspace(tmp_path / "ws")
    s = load(ws, [odd, good], options=LoadOptions(key=KEY))
    by = {os.path.basename(r.path): r for r in s.inputs}
    assert by["good.csv"].status == "loaded" and by["good.csv"].records == 20
    assert by["odd.csv"].status == "failed"
    assert "odd.csv" in by["odd.csv"].message and "--map" in by["odd.csv"].message
    assert [r.path for r in s.failed] == [str(odd)]


def test_reload_is_idempotent_and_next_month_adds(tmp_path):
    jan, feb = tmp_path / "cdr_2024-01.csv", tmp_path / "cdr_2024-02.csv"
    jan.write_text(HEADER + "".join(valid_row(i)[0] + "\n" for i in range(30)))
    feb.write_text(HEADER + "".join(valid_row(i)[0].replace("2024-01-", "2024-02-") + "\n" for i in range(20)))
    ws = Workspace(tmp_path / "ws")
    load(ws, [jan], options=LoadOptions(key=KEY))
    before = {p.name: p.read_bytes() for p in ws.records_dir.iterdir()}
    manifest = json.loads(ws.manifest_path.read_text())
    s = load(ws, [jan], options=LoadOptions(key=KEY))
    assert s.inputs[0].status == "skipped" and "already loaded" in s.inputs[0].message
    assert {p.name: p.read_bytes() for p in ws.records_dir.iterdir()} == before
    assert json.loads(ws.manifest_path.read_text())["inputs"] == manifest["inputs"]
    s = load(ws, [jan, feb], options=LoadOptions(key=KEY))
    assert [r.status for r in s.inputs] == ["skipped", "loaded"]
    assert len(records(ws)) == 50


def test_no_key_refuses(tmp_path):
    f = tmp_path / "a.csv"
    f.write_text(HEADER + valid_row(1)[0] + "\n")
    with pytest.raises(PseudonymKeyError, match="--no-pseudonymize"):
        load(tmp_path / "ws", [f], options=LoadOptions(key=None))
    r = CliRunner().invoke(app, ["build", str(f), "--workspace", str(tmp_path / "ws")], env={"BELLWETHER_PSEUDONYM_KEY": ""})
    assert r.exit_code != 0 and "BELLWETHER_PSEUDONYM_KEY" in str(r.exception)


def test_no_pseudonymize_is_recorded(tmp_path):
    f = tmp_path / "a.csv"
    f.write_text(HEADER + valid_row(1)[0] + "\n")
    ws = Workspace(tmp_path / "ws")
    load(ws, [f], options=LoadOptions(key=None, pseudonymize=False))
    assert json.loads(ws.manifest_path.read_text())["pseudonymized"] is False
    assert records(ws)[0][0].startswith("+86")
    with pytest.raises(PseudonymKeyError, match="mix"):
        load(ws, [f], options=LoadOptions(key=KEY))


def test_no_raw_number_survives_anywhere(tmp_path):
    rows = [valid_row(i)[0] for i in range(40)] + [garble(valid_row(41)[0], "bad_time"), garble(valid_row(42)[0], "field_count"),
                                                   garble(valid_row(43)[0], "self_contact"), "13812345678,1381234,2024-01-01 00:00:00,5,voice",
                                                   "13800000044,13800000045,13800000046,5,voice"]
    f = tmp_path / "in" / "cdr.csv"
    f.parent.mkdir()
    f.write_text(HEADER + "\n".join(rows) + "\n")
    crm = tmp_path / "in" / "subs.csv"
    crm.write_text("msisdn,plan,arpu,tenure_months,region,status,churn_date\n" + "".join(
        f"{number(i)},gold,{i}.5,{i},north,active,\n" for i in range(37)) + "138000000x1,gold,abc,1,n,active,\n")
    dnc = tmp_path / "in" / "dnc.csv"
    dnc.write_text("msisdn\n" + number(3) + "\n")
    ws = tmp_path / "ws"
    r = CliRunner().invoke(app, ["build", str(f), "--subscribers", str(crm), "--do-not-contact", str(dnc), "--workspace", str(ws),
                                 "--max-reject-ratio", "0.5", "--keep-service-numbers"],
                           env={"BELLWETHER_PSEUDONYM_KEY": KEY.decode()})
    assert r.exit_code == 0, r.output
    r2 = CliRunner().invoke(app, ["status", "--workspace", str(ws), "--json"])
    digits = re.compile(rb"\d{7,}")
    raw = {str(13800000000 + i)[-9:].encode() for i in range(200)} | {b"1381234"}
    blobs = [p.read_bytes() for p in ws.rglob("*") if p.is_file()] + [r.output.encode(), r2.output.encode()]
    assert len(blobs) > 8
    for blob in blobs:
        for tail in raw:
            assert tail not in blob
    assert not digits.search(r.output.encode()) or all(t not in r.output.encode() for t in raw)


def test_gzip_tab_delimited_with_column_map(tmp_path):
    import gzip
    f = tmp_path / "op.csv.gz"
    with gzip.open(f, "wt") as fh:
        fh.write("A_NUMBER\tB_NUMBER\tSTART\tDUR\tKIND\n")
        for i in range(10):
            fh.write("\t".join(valid_row(i)[0].split(",")) + "\n")
    ws = Workspace(tmp_path / "ws")
    m = {"caller": "A_NUMBER", "callee": "B_NUMBER", "start_time": "START", "duration": "DUR", "type": "KIND"}
    s = load(ws, [tmp_path], options=LoadOptions(key=KEY, mapping=m))
    assert s.inputs[0].status == "loaded" and set(records(ws)) == {valid_row(i)[1] for i in range(10)}
    unmapped = load(tmp_path / "ws2", [f], options=LoadOptions(key=KEY))
    assert unmapped.inputs[0].status == "failed" and "--map" in unmapped.inputs[0].message


@pytest.mark.slow
def test_quarantine_lines_exact_when_duckdb_reads_in_parallel(tmp_path):
    """A file of many CSV buffers is read by both threads; rows are numbered by the stage's insertion order."""
    n = 1_200_000  # about 60 MB: several read buffers
    rnd = random.Random(7)
    bad = {rnd.randrange(n): rnd.choice(["bad_time", "bad_duration", "bad_type", "bad_number"]) for _ in range(40)}
    blanks = {rnd.randrange(n) for _ in range(5)}
    base = [valid_row(i)[0] for i in range(1000)]
    lines, want = [HEADER.strip()], {}
    for i in range(n):
        if i in blanks:
            lines.append("")
        if i in bad:
            lines.append(garble(base[i % 1000], bad[i]))
            want[len(lines)] = bad[i]
        else:
            lines.append(base[i % 1000])
    f = tmp_path / "big.csv"
    f.write_text("\n".join(lines) + "\n")
    ws = Workspace(tmp_path / "ws")
    s = load(ws, [f], options=LoadOptions(key=KEY, threads=2))
    q = pq.read_table(ws.quarantine_dir).to_pandas()
    assert dict(zip(q.line, q.reason)) == want
    assert s.inputs[0].rejected_rows == len(want) and s.inputs[0].records == 1000


def test_duration_rules(tmp_path):
    """Digits only, at most 2**31 - 1 seconds; empty only for SMS (stored as 0)."""
    a, b = number(1), number(2)
    rows = {2: ("2147483647", "voice", None), 3: ("2147483648", "voice", "bad_duration"), 4: ("007", "voice", None),
            5: (" 5", "voice", "bad_duration"), 6: ("", "voice", "bad_duration"), 7: ("", "sms", None), 8: ("+5", "voice", "bad_duration")}
    f = tmp_path / "d.csv"
    f.write_text(HEADER + "".join(f"{a},{b},2024-01-0{line - 1} 10:00:00,{d},{t}\n" for line, (d, t, _) in rows.items()))
    ws = Workspace(tmp_path / "ws")
    s = load(ws, [f], options=LoadOptions(key=KEY, max_reject_ratio=1.0))
    q = pq.read_table(ws.quarantine_dir).to_pandas()
    assert dict(zip(q.line, q.reason)) == {line: r for line, (_, _, r) in rows.items() if r}
    assert sorted(r[3] for r in records(ws)) == [0, 7, 2147483647] and s.inputs[0].records == 3

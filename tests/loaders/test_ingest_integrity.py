"""Nothing lost: every physical line of a text input is accounted for, broken lines fail alone, odd times are quarantined."""

from __future__ import annotations

import gzip
import json
import random

import pyarrow.parquet as pq
import pytest

from bellwether.graph.core.workspace import Workspace
from bellwether.loaders.load import LoadOptions, load
from bellwether.loaders.manifest import read_manifest
from test_load_csv import HEADER, KEY, records, valid_row


def rows(n: int) -> list[str]:
    return [valid_row(i)[0] for i in range(n)]


def quarantine(ws: Workspace) -> dict[int, str]:
    if not any(ws.quarantine_dir.glob("*.parquet")):
        return {}
    q = pq.read_table(ws.quarantine_dir).to_pandas()
    return dict(zip(q.line, q.reason))


def balanced(entry: dict) -> bool:
    a = entry["lines"]
    return a["lines"] == a["header"] + a["blank"] + a["unreadable"] + a["rows"]


def test_unbalanced_quote_quarantines_its_line_and_loses_nothing_after_it(tmp_path):
    body = rows(13_298)
    body[399] = body[399].replace(",", ',"', 1)  # line 401: an unclosed quote
    f = tmp_path / "cdr.csv"
    f.write_text(HEADER + "\n".join(body) + "\n")
    ws = Workspace(tmp_path / "ws")
    s = load(ws, [f], options=LoadOptions(key=KEY))
    res = s.inputs[0]
    assert res.status == "loaded" and quarantine(ws) == {401: "unbalanced_quote"}
    assert res.rows == 13_298 and res.rejected_rows == 1 and res.records + res.duplicates == 13_297
    entry = next(iter(read_manifest(ws)["inputs"].values()))
    assert balanced(entry) and entry["lines"]["lines"] == 13_299


def test_quoted_fields_still_read_and_a_field_spanning_lines_is_set_aside(tmp_path):
    body = rows(50)
    body[4] = ",".join(f'"{p}"' for p in body[4].split(","))  # quoted fields are fine
    body[9] = body[9].rsplit(",", 1)[0] + ',"voi\nce"'  # a field across lines 11 and 12
    f = tmp_path / "cdr.csv"
    f.write_text(HEADER + "\n".join(body) + "\n")
    ws = Workspace(tmp_path / "ws")
    res = load(ws, [f], options=LoadOptions(key=KEY, max_reject_ratio=1.0)).inputs[0]
    assert quarantine(ws) == {11: "unbalanced_quote", 12: "unbalanced_quote"}
    assert res.records + res.duplicates == 49
    assert balanced(next(iter(read_manifest(ws)["inputs"].values())))


def test_bad_files_fail_alone_and_later_files_still_load(tmp_path):
    good = rows(200)
    cr = list(good)
    cr[10] = cr[10].replace(",", ",\r", 1)  # a stray carriage return inside line 12
    bc = list(good)
    bc[20] = bc[20].replace("2024-01-", "-0044-03-")  # a BC date
    far = list(good)
    far[30] = far[30].replace("2024-01-", "9999-12-")
    far[31] = far[31].replace("2024-01-", "2099-01-")
    files = []
    for name, body in (("a_cr.csv", cr), ("b_bc.csv", bc), ("c_far.csv", far)):
        files.append(tmp_path / name)
        files[-1].write_text(HEADER + "\n".join(body) + "\n")
    fake_gz = tmp_path / "d_plain.csv.gz"  # plain text under a .gz name
    fake_gz.write_text(HEADER + "\n".join(good) + "\n")
    real_gz = tmp_path / "e_real.csv.gz"
    real_gz.write_bytes(gzip.compress((HEADER + "\n".join(good) + "\n").encode()))
    broken_gz = tmp_path / "f_truncated.csv.gz"
    broken_gz.write_bytes(real_gz.read_bytes()[:-30])
    last = tmp_path / "g_last.csv"
    last.write_text(HEADER + "\n".join(good) + "\n")
    ws = Workspace(tmp_path / "ws")
    s = load(ws, [*files, fake_gz, real_gz, broken_gz, last], options=LoadOptions(key=KEY, max_reject_ratio=0.05))
    status = {r.path.rsplit("/", 1)[-1]: (r.status, r.rejects) for r in s.inputs}
    assert status["a_cr.csv"] == ("loaded", {"bad_row": 1})
    assert status["b_bc.csv"] == ("loaded", {"bad_time": 1})
    assert status["c_far.csv"] == ("loaded", {"time_out_of_range": 2})
    assert status["d_plain.csv.gz"][0] == "loaded"
    assert status["e_real.csv.gz"][0] == "loaded"  # inputs are keyed by their bytes; the duplicate records count once
    assert status["f_truncated.csv.gz"][0] == "failed"
    assert status["g_last.csv"][0] == "skipped"  # the same bytes as d_plain.csv.gz
    m = read_manifest(ws)
    assert all(balanced(e) for e in m["inputs"].values() if e.get("lines"))
    assert max(e["last_record"] for e in m["inputs"].values() if e["status"] == "loaded") < "2025"


@pytest.mark.parametrize("value, reason", [
    ("2026/01/05 10:00:00", "bad_time"), ("2026-01-05 24:00:00", "bad_time"), ("2026-01-05T10:00:00Z", "bad_time"),
    ("2026-02-30 10:00:00", "bad_time"), ("2026-01-05", "bad_time"), ("1970-01-01 00:00:00", "time_out_of_range"),
])
def test_off_spec_times_are_quarantined_not_reinterpreted(tmp_path, value, reason):
    body = rows(20)
    p = body[3].split(",")
    p[2] = value
    body[3] = ",".join(p)
    f = tmp_path / "cdr.csv"
    f.write_text(HEADER + "\n".join(body) + "\n")
    ws = Workspace(tmp_path / "ws")
    load(ws, [f], options=LoadOptions(key=KEY, max_reject_ratio=1.0))
    assert quarantine(ws) == {5: reason}


def test_iso_with_fraction_and_t_separator_read(tmp_path):
    f = tmp_path / "cdr.csv"
    f.write_text(HEADER + "13800000001,13800000002,2024-01-05T10:00:00.750,5,voice\n"
                 "13800000001,13800000002, 2024-01-05 11:00:00 ,5,voice\n")
    ws = Workspace(tmp_path / "ws")
    load(ws, [f], options=LoadOptions(key=KEY))
    assert [r[2] for r in records(ws)] == ["2024-01-05 10:00:00", "2024-01-05 11:00:00"]


def test_random_corruption_never_loses_a_line(tmp_path):
    """Blank lines, stray quotes and CRs, short rows and binary junk anywhere: the accounting always balances."""
    rng = random.Random(7)
    for k in range(6):
        body = rows(300)
        for _ in range(25):
            i = rng.randrange(len(body))
            body[i] = rng.choice([
                "", '"', body[i] + '"', body[i].replace(",", "\r", 1), body[i].rsplit(",", 1)[0], "\x00\xff junk",
                body[i] + ",extra", '"' + body[i] + '"',
            ])
        f = tmp_path / f"c{k}.csv"
        f.write_bytes((HEADER + "\n".join(body) + rng.choice(["", "\n", "\r\n"])).encode("utf-8", "surrogateescape"))
    ws = Workspace(tmp_path / "ws")
    s = load(ws, sorted(tmp_path.glob("c*.csv")), options=LoadOptions(key=KEY, max_reject_ratio=1.0))
    assert all(r.status == "loaded" for r in s.inputs), [r.message for r in s.inputs]
    for e in read_manifest(ws)["inputs"].values():
        assert balanced(e), json.dumps(e["lines"])


def test_parquet_float_durations_and_zoned_times_read_as_meant(tmp_path):
    import pandas as pd

    df = pd.DataFrame({
        "caller": ["13800000001", "13800000001", "13800000003"],
        "callee": ["13800000002", "13800000004", "13800000001"],
        "start_time": pd.to_datetime(["2024-01-05 10:00:00", "2024-01-05 11:00:00", "2024-01-05 12:00:00"]).tz_localize("UTC"),
        "duration": [30.0, float("nan"), -1.0],
        "type": ["voice", "sms", "voice"],
    })
    f = tmp_path / "cdr.parquet"
    df.to_parquet(f)
    from bellwether.loaders.times import TimeRules

    ws = Workspace(tmp_path / "ws")
    res = load(ws, [f], options=LoadOptions(key=KEY, time=TimeRules(timezone="Asia/Shanghai"))).inputs[0]
    assert res.status == "loaded" and res.rejected_rows == 0
    got = sorted((r[2], r[3], r[4]) for r in records(ws))
    assert got == [("2024-01-05 18:00:00", 30, "voice"), ("2024-01-05 19:00:00", 0, "sms"), ("2024-01-05 20:00:00", 0, "voice")]
    entry = next(iter(read_manifest(ws)["inputs"].values()))
    assert entry["failed_attempts"] == 1 and balanced(entry)

"""Real layouts with options alone: opaque ids, per-file constants, header-less files, declared times, failed calls."""

from __future__ import annotations

import os
import subprocess
import sys

import pyarrow.parquet as pq
import pytest

from bellwether.graph.core.workspace import Workspace
from bellwether.loaders.errors import LoadError
from bellwether.loaders.layout import FileRule, read_layout
from bellwether.loaders.load import LoadOptions, load
from bellwether.loaders.manifest import read_manifest
from bellwether.loaders.pseudonym import hmac_id, key_to_id
from bellwether.loaders.times import TimeRules, TimeRuleError
from test_load_csv import KEY


def stored(ws: Workspace) -> list[tuple]:
    t = pq.read_table(ws.records_dir).to_pandas()
    if t.caller.dtype.kind == "u":
        t["caller"], t["callee"] = t.caller.map(key_to_id), t.callee.map(key_to_id)
    return sorted(zip(t.caller, t.callee, t.start_time.dt.strftime("%Y-%m-%d %H:%M:%S"), t.duration, t.type,
                      t.caller_service, t.callee_service))


def write(path, text: str):
    path.write_text(text)
    return path


def test_opaque_ids_are_any_token_hashed_with_the_key(tmp_path):
    f = write(tmp_path / "calls.csv", "timestamp,from,to,duration\n"
              "100,47,0,30\n200,10086,ego,-1\n300, A ,47,0\n400,,47,5\n")
    ws = Workspace(tmp_path / "ws")
    opts = LoadOptions(key=KEY, id_kind="opaque", mapping={"caller": "from", "callee": "to", "start_time": "timestamp"},
                       constants={"type": "voice"}, time=TimeRules(format="offset", origin="2024-01-01"),
                       max_reject_ratio=1.0)
    res = load(ws, [f], options=opts).inputs[0]
    assert res.rejects == {"missing_number": 1}
    h = lambda t: hmac_id(t, KEY)  # noqa: E731
    assert stored(ws) == sorted([
        (h("47"), h("0"), "2024-01-01 00:01:40", 30, "voice", False, False),
        (h("10086"), h("ego"), "2024-01-01 00:03:20", 0, "voice", False, False),  # a 5-digit id is no service number here
        (h("A"), h("47"), "2024-01-01 00:05:00", 0, "voice", False, False),
    ])
    assert read_manifest(ws)["id_kind"] == "opaque"
    with pytest.raises(LoadError, match="opaque ids"):
        load(ws, [write(tmp_path / "more.csv", "caller,callee,start_time,duration,type\n")], options=LoadOptions(key=KEY))


def test_opaque_ids_in_the_clear_keep_the_tokens(tmp_path):
    f = write(tmp_path / "sms.csv", "a;b;t\nx1;y2;2024-01-01 10:00:00\ny2;x1;2024-01-01 10:05:00\n")
    ws = Workspace(tmp_path / "ws")
    opts = LoadOptions(pseudonymize=False, id_kind="opaque", mapping={"caller": "a", "callee": "b", "start_time": "t"},
                       constants={"type": "sms"})
    load(ws, [f], options=opts)
    assert [r[:2] for r in stored(ws)] == [("x1", "y2"), ("y2", "x1")]


def test_header_less_file_with_declared_columns_epoch_ms_and_time_zone(tmp_path):
    f = write(tmp_path / "cdr.txt.csv", "1704103200000|13800000001|13800000002|60|voice\n"
                                          "1704103260500|13800000002|13800000001||sms\n")
    ws = Workspace(tmp_path / "ws")
    opts = LoadOptions(key=KEY, names=["ts", "caller", "callee", "duration", "type"], mapping={"start_time": "ts"},
                       time=TimeRules(format="epoch", unit="ms", timezone="Asia/Shanghai"))
    res = load(ws, [f], options=opts).inputs[0]
    assert res.status == "loaded" and res.records == 2
    assert sorted(r[2] for r in stored(ws)) == ["2024-01-01 18:00:00", "2024-01-01 18:01:00"]
    assert read_manifest(ws)["inputs"][res.sha256]["lines"]["header"] == 0


def test_strftime_format_is_strict(tmp_path):
    f = write(tmp_path / "cdr.csv", "caller,callee,start_time,duration,type\n"
              "13800000001,13800000002,05/01/2024 10:00,60,voice\n13800000001,13800000002,2024-01-05 10:00:00,60,voice\n")
    ws = Workspace(tmp_path / "ws")
    res = load(ws, [f], options=LoadOptions(key=KEY, time=TimeRules(format="%d/%m/%Y %H:%M"), max_reject_ratio=1.0)).inputs[0]
    assert res.records == 1 and res.rejects == {"bad_time": 1}
    assert stored(ws)[0][2] == "2024-01-05 10:00:00"


@pytest.mark.parametrize("policy, records, dropped", [("keep", 3, 0), ("drop", 2, 1)])
def test_failed_call_attempts_follow_the_policy_and_are_counted(tmp_path, policy, records, dropped):
    f = write(tmp_path / "cdr.csv", "caller,callee,start_time,duration,type\n"
              "13800000001,13800000002,2024-01-05 10:00:00,60,voice\n13800000001,13800000002,2024-01-05 11:00:00,-1,voice\n"
              "13800000001,13800000002,2024-01-05 12:00:00,-1,sms\n13800000001,13800000002,2024-01-05 13:00:00,-5,voice\n")
    ws = Workspace(tmp_path / "ws")
    res = load(ws, [f], options=LoadOptions(key=KEY, failed_calls=policy, max_reject_ratio=1.0)).inputs[0]
    entry = read_manifest(ws)["inputs"][res.sha256]
    assert res.records == records and res.rejects == {"bad_duration": 1}  # only -1 marks an attempt
    assert entry["failed_attempts"] == 1 and entry["dropped_attempts"] == dropped
    assert entry["lines"]["records"] + entry["lines"]["duplicates"] + entry["lines"]["dropped"] + entry["lines"]["quarantined"] == 4


def test_time_rules_refuse_what_they_cannot_mean():
    for bad in (dict(format="unix"), dict(format="offset"), dict(unit="us"), dict(timezone="Mars/Olympus"),
                dict(valid_from="2024-02-01", valid_until="2024-01-01")):
        with pytest.raises(TimeRuleError):
            TimeRules(**bad)


LAYOUT = """
id_kind = "opaque"
[columns]
caller = "from"
callee = "to"
start_time = "timestamp"
[time]
format = "offset"
origin = "2013-09-01 00:00:00"
timezone = "Europe/Copenhagen"
[[files]]
match = "calls*.csv"
constants = { type = "voice" }
[[files]]
match = "sms*.csv"
constants = { type = "sms" }
"""


def test_layout_file_reads_a_research_export_without_a_conversion_script(tmp_path):
    data = tmp_path / "export"
    data.mkdir()
    write(data / "calls.csv", "timestamp,from,to,duration\n184,0,1,-1\n3600,1,0,120\n")
    write(data / "sms.csv", "timestamp,from,to\n7200,0,2\n7260,2,0\n")
    layout = write(tmp_path / "cph.toml", LAYOUT)
    opts = read_layout(layout)
    assert opts["id_kind"] == "opaque" and isinstance(opts["files"][0], FileRule)
    ws = Workspace(tmp_path / "ws")
    s = load(ws, [data], options=LoadOptions(key=KEY, **opts))
    assert [(r.status, r.records) for r in s.inputs] == [("loaded", 2), ("loaded", 2)]
    assert [(r[2], r[4]) for r in sorted(stored(ws), key=lambda r: r[2])] == [
        ("2013-09-01 00:03:04", "voice"), ("2013-09-01 01:00:00", "voice"), ("2013-09-01 02:00:00", "sms"),
        ("2013-09-01 02:01:00", "sms")]  # offsets from local midnight, read on the local wall clock


def test_layout_file_errors_name_the_file_and_key(tmp_path):
    with pytest.raises(LoadError, match="unknown key.*colums"):
        read_layout(write(tmp_path / "a.toml", "[colums]\ncaller='x'\n"))
    with pytest.raises(LoadError, match=r"\[\[files\]\] #1.*match"):
        read_layout(write(tmp_path / "b.toml", "[[files]]\nconstants={type='sms'}\n"))
    with pytest.raises(LoadError, match="time"):
        read_layout(write(tmp_path / "c.toml", "[time]\nformat='offset'\n"))


def test_bandicoot_sample_layout_with_letter_ids_and_antenna_table(tmp_path):
    d = tmp_path / "bc"
    d.mkdir()
    header = "interaction,direction,correspondent_id,datetime,call_duration,antenna_id\n"
    write(d / "ego.csv", header + "call,out,A,2014-03-02 07:13:30,12,1\ntext,in,B,2014-03-02 08:00:00,,1\n")
    write(d / "A.csv", header + "call,in,ego,2014-03-02 07:13:30,12,2\n")
    write(d / "antennas.csv", "antenna_id,latitude,longitude\n1,42.36,-71.09\n2,42.37,-71.10\n")
    ws = Workspace(tmp_path / "ws")
    res = load(ws, [d], options=LoadOptions(key=KEY, fmt="bandicoot", id_kind="opaque")).inputs[0]
    assert res.status == "loaded" and res.rejected_rows == 0 and (res.records, res.duplicates) == (2, 1)


def test_cli_layout_and_options_build_a_graph(tmp_path):
    data = tmp_path / "export"
    data.mkdir()
    write(data / "calls.csv", "timestamp,from,to,duration\n" + "".join(f"{100 * i},{i % 5},{(i + 1) % 5},{i}\n" for i in range(40)))
    write(data / "sms.csv", "timestamp,from,to\n" + "".join(f"{100 * i + 7},{(i + 2) % 5},{i % 5}\n" for i in range(40)))
    layout = write(tmp_path / "cph.toml", LAYOUT)
    env = {**os.environ, "BELLWETHER_PSEUDONYM_KEY": KEY.decode()}
    out = subprocess.run([sys.executable, "-m", "bellwether.cli", "build", str(data), "--layout", str(layout), "--time-origin", "2013-09-02",
                          "-w", str(tmp_path / "ws")], capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr
    assert "5 subscribers" in out.stdout and "0 service numbers" in out.stdout
    ws = Workspace(tmp_path / "ws")
    assert min(r[2] for r in stored(ws)) == "2013-09-02 00:00:00"  # --time-origin won over the layout's origin

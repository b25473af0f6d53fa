"""Parquet and bandicoot readers: fuzzed rows are quarantined with the right row/line, valid rows all loaded."""

import csv

import pyarrow as pa
import pyarrow.parquet as pq
from hypothesis import HealthCheck, given, settings, strategies as st

from bellwether.graph.core.workspace import Workspace
from bellwether.loaders.load import LoadOptions, load
from test_load_csv import GARBLES, KEY, garble, records, valid_row


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(n=st.integers(3, 40), bad=st.dictionaries(st.integers(0, 39), st.sampled_from(sorted(set(GARBLES) - {"field_count"})), max_size=6))
def test_parquet_fuzz(tmp_path_factory, n, bad):
    tmp = tmp_path_factory.mktemp("pq")
    cols = {k: [] for k in ("caller", "callee", "start_time", "duration", "type")}
    expected, bad_rows = set(), {}
    for i in range(n):
        row, rec = valid_row(i)
        if i in bad:
            row = garble(row, bad[i])
            bad_rows[i + 1] = bad[i]
        else:
            expected.add(rec)
        for k, v in zip(cols, row.split(",")):
            cols[k].append(v)
    f = tmp / "cdr.parquet"
    pq.write_table(pa.table(cols), f)
    ws = Workspace(tmp / "ws")
    s = load(ws, [f], options=LoadOptions(key=KEY, max_reject_ratio=1.0))
    assert set(records(ws)) == expected
    if bad_rows:
        q = pq.read_table(ws.quarantine_dir).to_pandas()
        assert set(q.line) == set(bad_rows)
        for line, reason in bad_rows.items():
            assert reason in set(q[q.line == line].reason)
    assert s.inputs[0].rejected_rows == len(bad_rows)


def test_bandicoot_bad_rows_quarantined_with_file_and_line(tmp_path):
    d = tmp_path / "bc"
    d.mkdir()
    with open(d / "+8613800000001.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["interaction", "direction", "correspondent_id", "datetime", "call_duration", "antenna_id"])
        w.writerow(["call", "out", "13800000002", "2024-01-01 10:00:00", "60", "a"])
        w.writerow(["call", "sideways", "13800000003", "2024-01-01 11:00:00", "60", "a"])
        w.writerow(["text", "in", "13800000004", "2024-01-01 12:00:00", "", "a"])
        w.writerow(["fax", "in", "13800000005", "2024-01-01 13:00:00", "", "a"])
        w.writerow(["call", "in"])
    ws = Workspace(tmp_path / "ws")
    s = load(ws, [d], options=LoadOptions(key=KEY, fmt="bandicoot", max_reject_ratio=1.0))
    assert s.inputs[0].records == 2 and s.inputs[0].rejected_rows == 3
    q = pq.read_table(ws.quarantine_dir).to_pandas().sort_values("line")
    assert list(q.line) == [3, 5, 6] and list(q.reason) == ["bad_value", "bad_type", "field_count"]
    assert all(f.endswith("+8613800000001.csv") for f in q.file)

"""`bellwether build --engine spark` against the DuckDB build: the same inputs give the same tables, row by row.

Records, quarantine, manifest entries (every field but the load time) and the graph tables
(subscribers, contacts, service numbers, ``graph.json`` but its timings) are compared after sorting,
on a generated operator and on the corrupted files of the ingest tests (``test_ingest_integrity``,
``test_ingest_layouts``, ``test_load_csv``).  Re-running a Spark load changes nothing.

One local SparkSession serves the module.  Under ``CI=true`` a missing pyspark or a Spark that does
not start fails the run; elsewhere the tests are skipped with the reason.
"""

from __future__ import annotations

import gzip
import json
import random
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from support.spark import SPARK_MARKS, require_pyspark

require_pyspark()

from bellwether.graph.build import build_graph, ensure_graph
from bellwether.graph.spark_pairs import spark_pair_counts
from bellwether.loaders.load import LoadOptions, load
from bellwether.loaders.spark.load import spark_cdr_loader
from bellwether.loaders.times import TimeRules
from test_load_csv import GARBLES, HEADER, KEY, garble, valid_row

pytestmark = SPARK_MARKS

GRAPH_TABLES = ("graph/subscribers.parquet", "graph/contacts.parquet", "graph/service_numbers.parquet")


# --- comparing two workspaces ----------------------------------------------------------------

def table_rows(path: Path) -> list[tuple]:
    """Every row of a Parquet file or directory, sorted (values as Python objects)."""
    if path.is_dir() and not any(path.glob("*.parquet")):
        return []
    t = pq.read_table(path)
    t = t.select(sorted(t.column_names))
    return sorted((tuple(r.values()) for r in t.to_pylist()), key=repr)


def manifest_entries(ws: Path) -> dict:
    m = json.loads((ws / "manifest.json").read_text())
    for section in ("inputs", "subscribers"):
        for e in m.get(section, {}).values():
            e.pop("loaded_at", None)
    m.get("do_not_contact", {}).pop("loaded_at", None)
    for f in m.get("do_not_contact", {}).get("files", []):
        f.pop("loaded_at", None)
    return m


def summary(s) -> list[tuple]:
    return [(r.path, r.kind, r.status, r.sha256, r.rows, r.records, r.rejected_rows, r.rejects, r.duplicates, r.message)
            for r in s.inputs]


def assert_same_load(duck: Path, spark_ws: Path) -> None:
    for table in ("records", "quarantine"):
        assert table_rows(duck / table) == table_rows(spark_ws / table), table
    assert manifest_entries(duck) == manifest_entries(spark_ws)


def assert_same_graph(duck: Path, spark_ws: Path) -> None:
    for table in GRAPH_TABLES:
        assert table_rows(duck / table) == table_rows(spark_ws / table), table
    info = [json.loads((w / "graph" / "graph.json").read_text()) for w in (duck, spark_ws)]
    for i in info:
        i.pop("built_at"), i.pop("seconds")
    assert info[0] == info[1]


def both(tmp: Path, spark, files, options: LoadOptions, **kw):
    """Load ``files`` with each engine into its own workspace; return the two workspaces after checking the summaries agree."""
    duck, on_spark = tmp / "ws_duckdb", tmp / "ws_spark"
    s1 = load(duck, files, options=options, **kw)
    s2 = load(on_spark, files, options=options, load_cdr=spark_cdr_loader(spark), **kw)
    assert summary(s1) == summary(s2)
    assert_same_load(duck, on_spark)
    return duck, on_spark, s2


# --- a generated operator --------------------------------------------------------------------

def test_generated_operator_same_records_quarantine_and_graph(tmp_path, spark):
    gen = tmp_path / "gen"
    subprocess.run([sys.executable, "-m", "bellwether.cli", "generate", str(gen), "--subscribers", "800", "--months", "2",
                    "--seed", "5"], check=True, capture_output=True)
    files = sorted((gen / "cdr").glob("*.csv"))
    opts = LoadOptions(key=KEY)
    duck, on_spark, s = both(tmp_path, spark, files, opts, subscribers=gen / "subscribers.csv",
                             do_not_contact=gen / "do_not_contact.csv")
    assert all(r.status == "loaded" for r in s.inputs) and sum(r.rejected_rows for r in s.inputs) > 0
    build_graph(duck, progress=False, load=False)
    build_graph(on_spark, progress=False, load=False, pair_counts=spark_pair_counts(spark))
    assert_same_graph(duck, on_spark)

    # re-running the same load and build changes nothing
    before = {p: p.stat().st_mtime_ns for p in on_spark.rglob("*.parquet")}
    again = load(on_spark, files, options=opts, subscribers=gen / "subscribers.csv", load_cdr=spark_cdr_loader(spark))
    assert [r.status for r in again.inputs] == ["skipped"] * 3
    assert not ensure_graph(on_spark, progress=False, pair_counts=spark_pair_counts(spark))
    assert {p: p.stat().st_mtime_ns for p in on_spark.rglob("*.parquet")} == before
    assert_same_load(duck, on_spark)


# --- the corrupted files of the ingest tests ---------------------------------------------------

def rows(n: int) -> list[str]:
    return [valid_row(i)[0] for i in range(n)]


def corrupted_text_files(tmp: Path) -> list[Path]:
    """Random corruption, unbalanced quotes, a field across lines, every garbled field, off-spec times, durations."""
    rng = random.Random(7)
    out = []
    for k in range(4):  # test_random_corruption_never_loses_a_line
        body = rows(300)
        for _ in range(25):
            i = rng.randrange(len(body))
            body[i] = rng.choice([
                "", '"', body[i] + '"', body[i].replace(",", "\r", 1), body[i].rsplit(",", 1)[0], "\x00\xff junk",
                body[i] + ",extra", '"' + body[i] + '"', '"' + body[i].replace(",", '","') + '"',
                body[i].replace(",", ', "', 1) + '"', body[i].replace(",", ',"x"y', 1),
            ])
        out.append(tmp / f"c{k}.csv")
        out[-1].write_bytes((HEADER + "\n".join(body) + rng.choice(["", "\n", "\r\n"])).encode("utf-8", "surrogateescape"))
    body = rows(500)
    body[399] = body[399].replace(",", ',"', 1)  # an unclosed quote
    body[9] = body[9].rsplit(",", 1)[0] + ',"voi\nce"'  # a field across two lines
    for j, reason in enumerate(sorted(GARBLES)):  # every garble of test_load_csv
        body[20 + j] = garble(body[20 + j], reason)
    for j, value in enumerate(["2026/01/05 10:00:00", "2026-01-05 24:00:00", "2026-01-05T10:00:00Z", "2026-02-30 10:00:00",
                               "2026-01-05", "1970-01-01 00:00:00", "2024-01-05T10:00:00.750", " 2024-01-05 11:00:00 "]):
        p = body[40 + j].split(",")
        p[2] = value
        body[40 + j] = ",".join(p)
    for j, d in enumerate(["2147483647", "2147483648", "007", " 5", "", "+5", "-1"]):
        p = body[60 + j].split(",")
        p[3], p[4] = d, "voice"
        body[60 + j] = ",".join(p)
    out.append(tmp / "mixed.csv")
    out[-1].write_text(HEADER + "\n".join(body) + "\n")
    crlf = tmp / "crlf.csv"  # CR LF throughout, and lines joined from a LF file
    crlf.write_bytes((HEADER.replace("\n", "\r\n") + "\r\n".join(rows(40)) + "\r\n" + "\n".join(rows(60)[40:]) + "\n").encode())
    out.append(crlf)
    return out


def test_corrupted_text_files_same_tables(tmp_path, spark):
    files = corrupted_text_files(tmp_path)
    _, _, s = both(tmp_path, spark, files, LoadOptions(key=KEY, max_reject_ratio=1.0))
    assert all(r.status == "loaded" for r in s.inputs), [r.message for r in s.inputs]
    assert {"bad_row", "unbalanced_quote", "field_count"} <= set().union(*(r.rejects for r in s.inputs))


def test_bad_files_fail_alone_the_same_way(tmp_path, spark):
    """test_bad_files_fail_alone_and_later_files_still_load, through both engines."""
    good = rows(200)
    cr, bc, far = list(good), list(good), list(good)
    cr[10] = cr[10].replace(",", ",\r", 1)
    bc[20] = bc[20].replace("2024-01-", "-0044-03-")
    far[30] = far[30].replace("2024-01-", "9999-12-")
    far[31] = far[31].replace("2024-01-", "2099-01-")
    files = []
    for name, body in (("a_cr.csv", cr), ("b_bc.csv", bc), ("c_far.csv", far), ("g_last.csv", good)):
        files.append(tmp_path / name)
        files[-1].write_text(HEADER + "\n".join(body) + "\n")
    fake_gz = tmp_path / "d_plain.csv.gz"
    fake_gz.write_text(HEADER + "\n".join(good) + "\n")
    real_gz = tmp_path / "e_real.csv"  # gzip without a .gz name
    real_gz.write_bytes(gzip.compress((HEADER + "\n".join(good[:150]) + "\n").encode()))
    broken_gz = tmp_path / "f_truncated.csv.gz"
    broken_gz.write_bytes(real_gz.read_bytes()[:-30])
    many_bad = tmp_path / "h_many_bad.csv"
    many_bad.write_text(HEADER + "\n".join(garble(r, "bad_type") if i % 3 else r for i, r in enumerate(good)) + "\n")
    order = [*files[:3], fake_gz, real_gz, broken_gz, files[3], many_bad]
    _, _, s = both(tmp_path, spark, order, LoadOptions(key=KEY, max_reject_ratio=0.05))
    status = {Path(r.path).name: r.status for r in s.inputs}
    assert status == {"a_cr.csv": "loaded", "b_bc.csv": "loaded", "c_far.csv": "loaded", "d_plain.csv.gz": "loaded",
                      "e_real.csv": "loaded", "f_truncated.csv.gz": "failed", "g_last.csv": "skipped",
                      "h_many_bad.csv": "failed"}


def test_layouts_same_tables(tmp_path, spark):
    """Header-less epoch-ms files in a time zone, opaque ids with offsets, strftime times, a tab-separated gzip
    with a column map, and dropped call attempts."""
    (tmp_path / "a").mkdir()
    epoch = tmp_path / "a" / "cdr.txt.csv"
    epoch.write_text("1704103200000|13800000001|13800000002|60|voice\n1704103260500|13800000002|13800000001||sms\n"
                     "17041x3260500|13800000002|13800000001|5|voice\n\n1704103260500|13800000002\n")
    both(tmp_path / "a", spark, [epoch], LoadOptions(key=KEY, names=["ts", "caller", "callee", "duration", "type"],
                                                     mapping={"start_time": "ts"}, max_reject_ratio=1.0,
                                                     time=TimeRules(format="epoch", unit="ms", timezone="Asia/Shanghai")))
    (tmp_path / "b").mkdir()
    opaque = tmp_path / "b" / "calls.csv"
    opaque.write_text("timestamp,from,to,duration\n100,47,0,30\n200,10086,ego,-1\n300, A ,47,0\n400,,47,5\n500,ego,ego,1\n")
    both(tmp_path / "b", spark, [opaque], LoadOptions(
        key=KEY, id_kind="opaque", mapping={"caller": "from", "callee": "to", "start_time": "timestamp"},
        constants={"type": "voice"}, time=TimeRules(format="offset", origin="2024-01-01"), max_reject_ratio=1.0))
    (tmp_path / "c").mkdir()
    strf = tmp_path / "c" / "cdr.csv"
    strf.write_text(HEADER + "13800000001,13800000002,05/01/2024 10:00,60,voice\n13800000001,13800000002,2024-01-05 10:00:00,60,voice\n"
                    "13800000001,13800000002,05/01/2024 11:00,-1,voice\n13800000001,13800000002,06/01/2024 11:00,-1,sms\n")
    both(tmp_path / "c", spark, [strf], LoadOptions(key=KEY, time=TimeRules(format="%d/%m/%Y %H:%M"), failed_calls="drop",
                                                    max_reject_ratio=1.0))
    (tmp_path / "d").mkdir()
    tab = tmp_path / "d" / "op.csv.gz"
    with gzip.open(tab, "wt") as fh:
        fh.write("A_NUMBER\tB_NUMBER\tSTART\tDUR\tKIND\n")
        for i in range(30):
            fh.write("\t".join(valid_row(i)[0].split(",")) + "\n")
    m = {"caller": "A_NUMBER", "callee": "B_NUMBER", "start_time": "START", "duration": "DUR", "type": "KIND"}
    both(tmp_path / "d", spark, [tab], LoadOptions(key=KEY, mapping=m))


def test_what_spark_does_not_read_is_refused_with_what_to_do(tmp_path, spark):
    csv = tmp_path / "cdr.csv"
    csv.write_text(HEADER + "\n".join(rows(5)) + "\n")
    pq_file = tmp_path / "cdr.parquet"
    pq.write_table(pq.read_csv(csv) if hasattr(pq, "read_csv") else __import__("pyarrow.csv").csv.read_csv(csv), pq_file)
    s = load(tmp_path / "ws", [pq_file], options=LoadOptions(key=KEY), load_cdr=spark_cdr_loader(spark))
    assert s.inputs[0].status == "failed" and "default engine" in s.inputs[0].message
    s = load(tmp_path / "ws2", [csv], options=LoadOptions(pseudonymize=False), load_cdr=spark_cdr_loader(spark))
    assert s.inputs[0].status == "failed" and "default engine" in s.inputs[0].message
    (tmp_path / "bc").mkdir()
    s = load(tmp_path / "ws3", [tmp_path / "bc"], options=LoadOptions(key=KEY, fmt="bandicoot", id_kind="opaque"),
             load_cdr=spark_cdr_loader(spark))
    assert s.inputs[0].status == "failed" and "bandicoot" in s.inputs[0].message and "default engine" in s.inputs[0].message


def test_cli_build_engine_spark_equals_the_default_engine(tmp_path, spark, monkeypatch):
    """`bellwether build --engine spark --master local[2]`, then the default engine on the same files: the same graph."""
    from typer.testing import CliRunner

    from bellwether.cli.app import app

    monkeypatch.setenv("BELLWETHER_PSEUDONYM_KEY", KEY.decode())
    f = tmp_path / "cdr.csv"
    f.write_text(HEADER + "\n".join(rows(400) + [garble(valid_row(401)[0], "bad_type")]) + "\n")
    out = {}
    for engine in ("spark", "duckdb"):
        ws = tmp_path / f"ws_{engine}"
        r = CliRunner().invoke(app, ["build", str(f), "--workspace", str(ws), "--engine", engine, "--master", "local[2]",
                                     "--as-of", "2024-02-01", "--quiet"])
        assert r.exit_code == 0, r.output
        out[engine] = ws
    assert_same_load(out["duckdb"], out["spark"])
    assert_same_graph(out["duckdb"], out["spark"])
    r = CliRunner().invoke(app, ["build", str(f), "--workspace", str(tmp_path / "ws_x"), "--engine", "flink"])
    assert r.exit_code != 0 and "--engine" in r.output

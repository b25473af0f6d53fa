"""Seconds to write the neo4j-admin import files: the single-machine writer (DuckDB) beside Spark.

Run: ``flock /tmp/bellwether-heavy.lock python -m bench.bench_import_files --subscribers 100000 [--master local[2]] [--import]``

A random contact graph with every column filled (``--contacts``, default 3.6 per subscriber,
as ``bench_neo4j_load``) is saved as a workspace graph (not counted).  Then, ``--repeat`` times
each, the best run counted:

- ``duckdb``: what ``bellwether neo4j import-files`` does: read the graph tables, work out the
  push's ``LoadBatch`` keys, write one CSV per group (:mod:`bellwether.graph.neo4j_store.bulk`);
- ``spark``: what ``import-files --engine spark`` does on a running session: read the Parquet
  tables, write a header file and one part per partition per group
  (:mod:`bellwether.graph.neo4j_store.spark_files`); the session start is reported, not counted.

A parity line compares the rows of both (read with the importer's types, sorted).  With
``--import`` each set of files also goes through ``neo4j-admin database import`` (``scripts/neo4j-server
import``, into instances under ``.cache/bench-import-files``) and the imported counts are printed.
"""

from __future__ import annotations

import argparse
import csv
import os
import re
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any, Callable

import pyarrow as pa
import pyarrow.csv as pacsv

from bellwether.graph.contact_graph import ContactGraph
from bellwether.graph.core.settings import load_settings
from bellwether.graph.core.workspace import Workspace
from bellwether.graph.neo4j_store.bulk import write_import_files
from bellwether.graph.synthetic.random_graph import random_contact_graph

ROOT = Path(__file__).resolve().parents[1]


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


def best(repeat: int, fn: Callable[[], Any]) -> tuple[float, list[float], Any]:
    runs = [timed(fn) for _ in range(repeat)]
    seconds = [s for s, _ in runs]
    return min(seconds), seconds, runs[-1][1]


def _header(path: Path) -> list[str]:
    with open(path, newline="", encoding="utf-8") as fh:
        return next(csv.reader(fh))


def _typed(names: list[str], paths: list[Path], skip: int) -> pa.Table:
    def kind(name: str) -> pa.DataType:
        suffix = name.rsplit(":", 1)[-1] if ":" in name and "(" not in name else ""
        return {"double": pa.float64(), "long": pa.int64(), "boolean": pa.bool_()}.get(suffix, pa.string())

    opts = pacsv.ConvertOptions(column_types={n: kind(n) for n in names}, strings_can_be_null=True,
                                quoted_strings_can_be_null=False)
    read = pacsv.ReadOptions(column_names=names, skip_rows=skip)
    table = pa.concat_tables([pacsv.read_csv(p, read_options=read, convert_options=opts) for p in paths])
    return table.sort_by([(names[0], "ascending"), (names[1], "ascending")])


def same_rows(single, spark_files) -> dict[str, bool]:
    out = {}
    for table in ("subscribers", "contacts"):
        path = getattr(single, table)
        header, folder = spark_files.groups[table]
        names = _header(path)
        out[table] = _header(Path(header)) == names and _typed(names, [path], 1).equals(
            _typed(names, sorted(Path(folder).glob("part-*")), 0))
    return out


def neo4j_import(args_file: str, instance: Path) -> tuple[float, str]:
    shutil.rmtree(instance, ignore_errors=True)
    env = {**os.environ, "NEO4J_SERVER_DIR": str(instance)}
    seconds, done = timed(lambda: subprocess.run([str(ROOT / "scripts" / "neo4j-server"), "import", args_file],
                                                 env=env, capture_output=True, text=True))
    if done.returncode != 0:
        raise SystemExit(f"neo4j-admin import of {args_file} failed:\n{done.stderr[-2000:]}")
    counts = " ".join(re.findall(r"^\s+(\d+ (?:nodes|relationships))$", done.stderr, re.M)[:2])
    return seconds, counts


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--subscribers", type=int, default=100_000)
    ap.add_argument("--contacts", type=int, default=None, help="default 3.6 per subscriber")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--master", default=None, help="Spark master (default: the spark_master setting, local[2])")
    ap.add_argument("--partitions", type=int, default=None, help="Spark part files per table (default: parallelism)")
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--import", dest="do_import", action="store_true", help="also run neo4j-admin on both")
    args = ap.parse_args(argv)
    master = args.master or load_settings().spark_master
    contacts = args.contacts or int(args.subscribers * 3.6)
    work = ROOT / ".cache" / "bench-import-files"
    shutil.rmtree(work, ignore_errors=True)

    t_gen, g = timed(lambda: random_contact_graph(args.subscribers, contacts, seed=args.seed))
    ws = Workspace(work / "ws").create()
    g.save(ws)
    print(f"graph: {g.n_subscribers:,} subscribers, {g.n_contacts:,} contacts (generated in {t_gen:.1f} s)")
    del g

    single_s, single_runs, single = best(args.repeat, lambda: write_import_files(ContactGraph.load(ws), work / "duckdb"))

    from bellwether.graph.core.spark import spark_session
    from bellwether.graph.neo4j_store.spark_files import write_spark_import_files

    t_start, spark = timed(lambda: spark_session(master, app_name="bench-import-files"))
    master, version = spark.sparkContext.master, spark.version
    spark_s, spark_runs, parallel = best(args.repeat, lambda: write_spark_import_files(
        spark, str(ws.graph_files().dir), str(work / "spark"), partitions=args.partitions))
    spark.stop()

    size = {name: sum(p.stat().st_size for p in (work / name).rglob("*.csv")) for name in ("duckdb", "spark")}
    print(f"spark {version} master {master}: session start {t_start:.1f} s (not counted); "
          f"part files {parallel.partitions}")
    print(f"{'writer':<10}{'best s':>9}{'MB':>8}{'contacts/s':>14}   runs s (first run: a cold JVM for Spark)")
    for name, s, runs in (("duckdb", single_s, single_runs), ("spark", spark_s, spark_runs)):
        print(f"{name:<10}{s:>9.2f}{size[name] / 1e6:>8.1f}{parallel.counts['contacts'] / s:>14,.0f}   "
              f"{', '.join(f'{r:.2f}' for r in runs)}")
    print(f"spark / duckdb: {spark_s / single_s:.2f}")
    print(f"parity (same header and rows after sorting): {same_rows(single, parallel)}")
    if args.do_import:
        for name, args_file in (("duckdb", str(single.args_file)), ("spark", parallel.args_file)):
            seconds, counts = neo4j_import(args_file, work / f"server-{name}")
            print(f"neo4j-admin import of the {name} files: {seconds:.1f} s, {counts}")


if __name__ == "__main__":
    main()

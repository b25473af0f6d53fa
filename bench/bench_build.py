"""Benchmark of the graph build: CSV CDRs -> validated, pseudonymised records -> contact graph.

Compares, on the same CSV file and in the same run:

* ``bare``: a bare DuckDB ``GROUP BY`` of the CSV by unordered pair (count, seconds);
* ``build``: the whole Bellwether load + build (read, validate, normalise, pseudonymise,
  deduplicate, write records, aggregate, write graph tables);
* ``pandas``: the bare aggregation in pandas (pyarrow CSV engine), for comparison;
* with ``--engine spark``: the same load + build on Spark (``bellwether build --engine spark``)
  beside the DuckDB one, once per ``--master`` (default ``local[2]``; ``standalone`` starts a
  standalone master and two one-core workers on this machine,
  :func:`bellwether.graph.core.spark_cluster.standalone_cluster`, so the cluster path's overhead over
  ``local[2]`` is measured on the same cores), with rows per second per core and the ratios
  (the tables are the same; ``tests/loaders/test_spark_build.py`` checks that).

Each runs in its own process; peak memory is that process's max RSS (children included).
Run: ``flock /tmp/bellwether-heavy.lock python -m bench.bench_build --cdr DIR`` (e.g. the ``cdr/`` folder of
``bellwether generate OUT -n 1000000 -m 3``, about 20M records), or without ``--cdr`` on
``.cache/bench/cdr_<rows>.csv`` (generated once by DuckDB in the generator's layout, ``--rows``).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from contextlib import nullcontext
from pathlib import Path

from bellwether.graph.core.spark_cluster import session_conf, standalone_cluster

ROOT = Path(__file__).resolve().parents[1]

GEN = """
import duckdb, sys
out, n, subs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
con = duckdb.connect(config={'threads': 2, 'memory_limit': '2GB'})
con.execute(f'''COPY (
  WITH r AS (SELECT i, hash(i*7+1) % {subs} AS a, ((hash(i*7+1) % {subs}) + 1 + (hash(i*13+5) % 10)*(hash(i*13+5) % 10)*7) % {subs} AS b,
                    hash(i*3+2) AS h FROM range({n}) t(i))
  SELECT CASE h % 4 WHEN 0 THEN '' WHEN 1 THEN '+86' WHEN 2 THEN '0086' ELSE '86' END || (13800000000 + a)::VARCHAR AS caller,
         CASE (h // 4) % 4 WHEN 0 THEN '' WHEN 1 THEN '+86' WHEN 2 THEN '0086' ELSE '86' END || (13800000000 + b)::VARCHAR AS callee,
         strftime(TIMESTAMP '2024-01-01' + to_seconds((h // 16) % (31*86400)), '%Y-%m-%d %H:%M:%S') AS start_time,
         CASE WHEN (h // 1000) % 3 = 0 THEN 0 ELSE (h // 7) % 600 END AS duration,
         CASE WHEN (h // 1000) % 3 = 0 THEN 'sms' ELSE 'voice' END AS type
  FROM r) TO '{out}' (HEADER, DELIMITER ',')''')
"""

BARE = """
import duckdb, sys, time
con = duckdb.connect(config={'threads': 2, 'memory_limit': '2GB', 'temp_directory': sys.argv[2]})
con.execute('SET enable_progress_bar = false')
files = sys.argv[3:]
t = time.perf_counter()
n = con.execute(f\"\"\"SELECT count(*) FROM (SELECT least(caller, callee) a, greatest(caller, callee) b, count(*) n, sum(duration) s
                    FROM read_csv({files!r}, ignore_errors=true) GROUP BY 1, 2)\"\"\").fetchall()[0][0]
print(time.perf_counter() - t, n)
"""

BUILD = """
import sys, time
from bellwether.loaders.load import LoadOptions, load
from bellwether.graph.build import build_graph
t = time.perf_counter()
s = load(sys.argv[2], sys.argv[3:], options=LoadOptions(key=b'bench-key-0123456789abcdef'))
t1 = time.perf_counter()
build_graph(sys.argv[2], progress=False, load=False)
t2 = time.perf_counter()
import json; info = json.load(open(sys.argv[2] + '/graph/graph.json'))
print(t2 - t, info['contacts'], t1 - t, t2 - t1)
"""

SPARK_BUILD = """
import json, sys, time
from bellwether.graph.core.spark import spark_session
from bellwether.graph.spark_pairs import spark_pair_counts
from bellwether.loaders.load import LoadOptions, load
from bellwether.loaders.spark.load import spark_cdr_loader
from bellwether.graph.build import build_graph
t0 = time.perf_counter()
spark = spark_session(sys.argv[1], app_name='bellwether-bench', driver_memory='2g', conf=json.loads(sys.argv[2]))
t = time.perf_counter()
s = load(sys.argv[3], sys.argv[4:], options=LoadOptions(key=b'bench-key-0123456789abcdef'), load_cdr=spark_cdr_loader(spark))
t1 = time.perf_counter()
build_graph(sys.argv[3], progress=False, load=False, pair_counts=spark_pair_counts(spark))
t2 = time.perf_counter()
spark.stop()
info = json.load(open(sys.argv[3] + '/graph/graph.json'))
print(t2 - t, info['contacts'], t1 - t, t2 - t1, t - t0)
"""

PANDAS = """
import sys, time
import numpy as np, pandas as pd
t = time.perf_counter()
df = pd.concat([pd.read_csv(f, engine='pyarrow', usecols=['caller', 'callee', 'duration'], dtype={'caller': 'string', 'callee': 'string'},
                             on_bad_lines='skip') for f in sys.argv[1:]])
df = df.dropna(subset=['caller', 'callee'])
df['duration'] = pd.to_numeric(df.duration, errors='coerce')
a = np.where(df.caller < df.callee, df.caller, df.callee); b = np.where(df.caller < df.callee, df.callee, df.caller)
g = pd.DataFrame({'a': a, 'b': b, 'd': df.duration}).groupby(['a', 'b'], sort=False)['d'].agg(['count', 'sum'])
print(time.perf_counter() - t, len(g))
"""


def run(code: str, *args: str) -> tuple[list[str], float, float, float]:
    """Run ``code`` in a child process; return its printed fields, wall seconds, peak RSS (MiB) and CPU seconds (user + system).

    CPU seconds include the child's start-up (imports); they vary less than wall seconds on a shared machine.
    """
    t = time.perf_counter()
    p = subprocess.Popen([sys.executable, "-c", code, *args], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    out = p.stdout.read()
    _, status, usage = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode:
        raise SystemExit(f"benchmark step failed with status {p.returncode}")
    last = out.strip().splitlines()[-1].split() if out.strip() else []  # the generator prints nothing
    return last, time.perf_counter() - t, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=20_000_000)
    ap.add_argument("--subscribers", type=int, default=1_000_000)
    ap.add_argument("--cdr", type=Path, default=None,
                    help="CDR CSV file or directory of them (e.g. `bellwether generate` output's cdr/) instead of the generated file.")
    ap.add_argument("--no-pandas", action="store_true")
    ap.add_argument("--engine", choices=("duckdb", "spark"), default="duckdb",
                    help="spark: also run the Spark build (beside the DuckDB one) and compare them.")
    ap.add_argument("--master", nargs="+", default=["local[2]"],
                    help="Spark masters for --engine spark, each measured in turn (default local[2]); `standalone`: a "
                         "master and two one-core workers started on this machine for the run.")
    a = ap.parse_args(argv)
    cache = ROOT / ".cache" / "bench"
    cache.mkdir(parents=True, exist_ok=True)
    csv = a.cdr or cache / f"cdr_{a.rows}.csv"
    if a.cdr is None and not csv.exists():
        run(GEN, str(csv), str(a.rows), str(a.subscribers))
    files = [str(csv)] if csv.is_file() else sorted(str(p) for p in csv.glob("*.csv"))
    ws = cache / "ws"
    shutil.rmtree(ws, ignore_errors=True)
    tmp = cache / "tmp"
    bare, _, bare_rss, bare_cpu = run(BARE, "-", str(tmp), *files)
    build, _, build_rss, build_cpu = run(BUILD, "-", str(ws), *files)
    rows = sum(int(subprocess.run(["wc", "-l", f], capture_output=True, text=True).stdout.split()[0]) - 1 for f in files)
    table = [("step", "seconds", "CPU s (process)", "peak RSS MiB", "rows/s", "groups")]
    table.append(("bare DuckDB GROUP BY", f"{float(bare[0]):.2f}", f"{bare_cpu:.1f}", f"{bare_rss:.0f}", f"{rows / float(bare[0]):,.0f}", bare[1]))
    table.append(("bellwether load+build", f"{float(build[0]):.2f}", f"{build_cpu:.1f}", f"{build_rss:.0f}", f"{rows / float(build[0]):,.0f}", build[1]))
    table.append(("  of which load", f"{float(build[2]):.2f}", "", "", "", ""))
    table.append(("  of which graph build", f"{float(build[3]):.2f}", "", "", "", ""))
    if not a.no_pandas:
        pd_out, _, pd_rss, pd_cpu = run(PANDAS, *files)
        table.append(("pandas groupby", f"{float(pd_out[0]):.2f}", f"{pd_cpu:.1f}", f"{pd_rss:.0f}", f"{rows / float(pd_out[0]):,.0f}", pd_out[1]))
    sparks: dict[str, list[str]] = {}
    if a.engine == "spark":
        for master in a.master:
            sparks[master] = _spark_build(master, cache / "ws_spark", files, table, rows)
    widths = [max(len(r[i]) for r in table) for i in range(6)]
    size = sum(Path(f).stat().st_size for f in files)
    print(f"input {csv} ({len(files)} file(s), {rows:,} rows, {size / 2**20:,.0f} MiB)")
    for r in table:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths)))
    print(f"ratio build / bare = {float(build[0]) / float(bare[0]):.2f} (target <= 1.5); CPU ratio {build_cpu / bare_cpu:.2f}; "
          f"build peak RSS {build_rss:.0f} MiB (target <= 2048)")
    for master, spark in sparks.items():
        cores = _cores(master)
        duck_rate, spark_rate = rows / float(build[0]) / 2, rows / float(spark[0]) / cores
        print(f"rows/s per core: DuckDB build {duck_rate:,.0f} (2 threads), Spark build {spark_rate:,.0f} ({master}, "
              f"{cores} cores); Spark / DuckDB time ratio {float(spark[0]) / float(build[0]):.2f}; "
              f"Spark session start {float(spark[4]):.1f} s (not in the build time); contacts equal: {spark[1] == build[1]}")
    if "local[2]" in sparks and "standalone" in sparks:
        print(f"standalone cluster / local[2] time ratio {float(sparks['standalone'][0]) / float(sparks['local[2]'][0]):.2f}")
    if sparks:
        print("the Spark rows' CPU and RSS are the Python driver's only (the JVMs and their Python workers are not counted)")
    shutil.rmtree(ws, ignore_errors=True)


def _spark_build(master: str, ws: Path, files: list[str], table: list[tuple], rows: int) -> list[str]:
    """Run the Spark load + build on ``master`` (``standalone``: a cluster started for it); add its rows to ``table``."""
    shutil.rmtree(ws, ignore_errors=True)
    cluster = standalone_cluster(workers=2, cores=1, memory="2g") if master == "standalone" else nullcontext(master)
    with cluster as url:
        conf = session_conf(executor_memory="1536m") if master == "standalone" else {}
        spark, _, spark_rss, spark_cpu = run(SPARK_BUILD, url, json.dumps(conf), str(ws), *files)
    table.append((f"bellwether load+build, Spark {master}", f"{float(spark[0]):.2f}", f"{spark_cpu:.1f}",
                  f"{spark_rss:.0f}", f"{rows / float(spark[0]):,.0f}", spark[1]))
    table.append(("  of which load", f"{float(spark[2]):.2f}", "", "", "", ""))
    table.append(("  of which graph build", f"{float(spark[3]):.2f}", "", "", "", ""))
    shutil.rmtree(ws, ignore_errors=True)
    return spark


def _cores(master: str) -> int:
    """Cores of a ``local[N]`` master (2 for anything else: this benchmark's machine)."""
    import re

    m = re.fullmatch(r"local\[(\d+)\]", master)
    return int(m.group(1)) if m else 2


if __name__ == "__main__":
    main()

"""Sizing: seconds and peak memory of generate, build and analyze as the operator grows, fitted and extrapolated.

For each size the real commands run in child processes, as a user runs them:
``bellwether generate`` (three months of the calibrated synthetic operator), ``bellwether build``
(load + graph, embedded DuckDB) and ``bellwether analyze``.  Each child's wall time and peak
resident memory are read from the kernel (``wait4``), so one step's memory is not hidden by
another's.  Per step the table gives seconds, peak memory, and bytes per subscriber and per
contact; a power law ``y = c * n^b`` (least squares on logarithms) and a straight line (a fixed
part plus a part per subscriber) are fitted to the sizes, and the larger of the two predicts 10M
and 100M subscribers.  A prediction far beyond the measured sizes is a guide, not a
measurement: the exponent says how the step grows, the sizing section of the README says which
machine that means.

Run: ``flock /tmp/bellwether-heavy.lock python -m bench.bench_scaling --sizes 250000 500000 1000000 2000000``
(generated data cached under ``.cache/scaling/``, reused across runs; ``--keep`` keeps the workspaces).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bellwether.graph.core.workspace import Workspace, read_json

CACHE = Path(".cache")
STEPS = ("generate", "build", "analyze")
#: the single-machine target: analyze of a 10M-subscriber operator in this many bytes
ANALYZE_10M_TARGET = 20 * 10**9  # the "fits in 20 GB": decimal gigabytes, 18.6 GiB
PREDICT = (10_000_000, 100_000_000)


@dataclass
class Step:
    seconds: float
    peak_bytes: int
    cpu_seconds: float


def run_child(argv: list[str], log: Path) -> Step:
    """Run ``argv`` to completion; its wall seconds, peak RSS (``wait4``'s ``ru_maxrss``) and CPU seconds."""
    start = time.perf_counter()
    with log.open("wb") as out:
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv[:3])} failed (exit {proc.returncode}); see {log}")
    return Step(seconds, usage.ru_maxrss * 1024, usage.ru_utime + usage.ru_stime)


def _data_dir(n: int, months: int, seed: int) -> Path | None:
    """Generated data of this size already on disk (this bench's cache or ``bench.eval_operator``'s)."""
    for d in (CACHE / "scaling" / f"{n}-m{months}-s{seed}" / "data", CACHE / f"eval-operator-{n}" / "data"):
        op = d / "operator.json"
        if op.exists():
            meta = json.loads(op.read_text())
            if meta.get("seed") == seed and meta.get("parameters", {}).get("months") == months:
                return d
    return None


def measure(n: int, months: int, seed: int, keep: bool) -> dict:
    """Generate (unless cached), build and analyze one operator of ``n`` subscribers."""
    exe = [sys.executable, "-m", "bellwether.cli"]
    root = CACHE / "scaling" / f"{n}-m{months}-s{seed}"
    root.mkdir(parents=True, exist_ok=True)
    steps: dict[str, Step | None] = {}
    data = _data_dir(n, months, seed)
    if data is None:
        data = root / "data"
        steps["generate"] = run_child(exe + ["generate", str(data), "-n", str(n), "-m", str(months), "--seed", str(seed),
                                             "-q"], root / "generate.log")
    else:
        steps["generate"] = None  # cached: not re-measured
    ws = root / "workspace"
    shutil.rmtree(ws, ignore_errors=True)
    key = root / "pseudonym.key"
    if not key.exists():
        key.write_bytes(os.urandom(32).hex().encode())
    as_of = json.loads((data / "operator.json").read_text())["suggested_as_of"]
    steps["build"] = run_child(exe + ["build", str(data / "cdr"), "--subscribers", str(data / "subscribers.csv"),
                                      "--do-not-contact", str(data / "do_not_contact.csv"), "--workspace", str(ws),
                                      "--key-file", str(key), "--as-of", as_of, "--json", "-q"], root / "build.log")
    steps["analyze"] = run_child(exe + ["analyze", "--workspace", str(ws), "--seed", str(seed), "--json"],
                                 root / "analyze.log")
    info = read_json(Workspace(ws).graph_info_path)
    meta = json.loads((data / "operator.json").read_text())
    records = sum(f.get("records", 0) for f in meta.get("files", []))
    run = Workspace(ws).run_dirs()[-1]
    out = {"subscribers": n, "graph_subscribers": info.get("subscribers"), "contacts": info.get("contacts"),
           "records": records, "steps": {k: (None if v is None else vars(v)) for k, v in steps.items()},
           "analyze_steps": read_json(run / "manifest.json").get("peak_memory_mib", {})}
    if not keep:
        shutil.rmtree(ws, ignore_errors=True)
    return out


def power_fit(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """``(c, b)`` of ``y = c * x^b`` by least squares on ``log y = log c + b log x``."""
    b, log_c = np.polyfit(np.log(x), np.log(y), 1)
    return float(math.exp(log_c)), float(b)


def _gib(b: float) -> str:
    return f"{b / 1024**3:,.2f} GiB"


def report(rows: list[dict]) -> str:
    lines = ["| subscribers | records | contacts | step | seconds | CPU s | peak RSS | bytes / subscriber | bytes / contact |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        for name in STEPS:
            s = r["steps"].get(name)
            if s is None:
                lines.append(f"| {r['subscribers']:,} | {r['records']:,} | {r['contacts']:,} | {name} | cached | | | | |")
                continue
            lines.append(f"| {r['subscribers']:,} | {r['records']:,} | {r['contacts']:,} | {name} | {s['seconds']:,.1f} | "
                         f"{s['cpu_seconds']:,.1f} | {_gib(s['peak_bytes'])} | {s['peak_bytes'] / r['subscribers']:,.0f} | "
                         f"{s['peak_bytes'] / max(r['contacts'], 1):,.0f} |")
    inner = [r for r in rows if r.get("analyze_steps")]
    if inner:
        names = list(inner[0]["analyze_steps"])
        lines += ["", "Peak memory (MiB) of each analyze step, from the run manifest:", "",
                  "| subscribers | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
        lines += [f"| {r['subscribers']:,} | " + " | ".join(f"{r['analyze_steps'].get(k, 0):,}" for k in names) + " |"
                  for r in inner]
    lines += ["", "| step | time ~ n^b | memory ~ n^b | " + " | ".join(
        f"{p // 1_000_000}M seconds | {p // 1_000_000}M peak" for p in PREDICT) + " |", "|---|---|---|" + "---|---|" * len(PREDICT)]
    for name in STEPS:
        pts = [(r["subscribers"], r["steps"][name]) for r in rows if r["steps"].get(name)]
        if len(pts) < 2:
            continue
        n = np.array([p[0] for p in pts], float)
        secs = np.array([p[1]["seconds"] for p in pts])
        peak = np.array([p[1]["peak_bytes"] for p in pts], float)
        (ct, bt), (cm, bm) = power_fit(n, secs), power_fit(n, peak)
        cells = []
        for p in PREDICT:  # the larger of the power law and the straight line (fixed part + per subscriber)
            t = max(ct * p ** bt, float(np.polyval(np.polyfit(n, secs, 1), p)))
            m = max(cm * p ** bm, float(np.polyval(np.polyfit(n, peak, 1), p)))
            cells += [f"{t:,.0f}", _gib(m)]
            if name == "analyze" and p == 10_000_000:
                at10 = m
        lines.append(f"| {name} | {bt:.2f} | {bm:.2f} | " + " | ".join(cells) + " |")
        if name == "analyze":
            verdict = "met" if at10 <= ANALYZE_10M_TARGET else "missed"
            lines += ["", f"analyze at 10M: predicted peak {_gib(at10)} against the 20 GB ({_gib(ANALYZE_10M_TARGET)}) target ({verdict})"]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[250_000, 500_000, 1_000_000, 2_000_000])
    ap.add_argument("--months", type=int, default=3)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--keep", action="store_true", help="keep the workspaces under .cache/scaling/")
    ap.add_argument("--json", type=Path, help="also write the measurements to this file")
    ap.add_argument("--from-json", type=Path, help="print the tables of measurements written by --json, measuring nothing")
    args = ap.parse_args(argv)
    if args.from_json:
        print(report(json.loads(args.from_json.read_text())))
        return
    rows = []
    for n in sorted(args.sizes):
        rows.append(measure(n, args.months, args.seed, args.keep))
        print(f"{n:,} subscribers measured", file=sys.stderr, flush=True)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))
    print(report(rows))


if __name__ == "__main__":
    main()

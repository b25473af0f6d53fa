"""Real data end to end: the Copenhagen call + SMS export through build, analyze, segments, targets and report.

Runs the CLI as a user would, with a layout file and options only (no conversion script),
on ``REALDATA/copenhagen_calls_sms`` (``--realdata DIR``, or ``BELLWETHER_REALDATA``,
default ``../shared/realdata`` beside the repository), and prints, per input, what was
kept, what was quarantined and why, then what each later step made of the graph.
With the analytics evaluations present (``bench.eval_communities_real``,
``bench.eval_bellwether_real``) their tables on the labelled real graphs follow.

Run: ``python -m bench.eval_realdata [--realdata DIR] [--workspace DIR] [--json]``.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LAYOUT = ROOT / "bench" / "layouts" / "copenhagen.toml"


def realdata_dir(value: str | None) -> Path:
    """The real-data folder: the option, else ``BELLWETHER_REALDATA``, else ``../shared/realdata``."""
    return Path(value or os.environ.get("BELLWETHER_REALDATA") or ROOT.parent / "shared" / "realdata").resolve()


def _cli(*args: str, env: dict[str, str]) -> tuple[float, dict | str]:
    """Run ``bellwether ARGS``; return seconds and the parsed ``--json`` output (or stdout)."""
    t = time.perf_counter()
    out = subprocess.run([sys.executable, "-m", "bellwether.cli", *args], capture_output=True, text=True, env=env, cwd=ROOT)
    if out.returncode != 0:
        raise SystemExit(f"bellwether {' '.join(args)} failed:\n{out.stderr.strip()}")
    try:
        return time.perf_counter() - t, json.loads(out.stdout)
    except json.JSONDecodeError:
        return time.perf_counter() - t, out.stdout


def ingest_table(load: dict) -> list[dict]:
    """One row per input: lines, kept, duplicates, unanswered attempts, quarantined by reason."""
    rows = []
    for r in load["inputs"]:
        rows.append({"input": Path(r["path"]).name, "kind": r["kind"], "status": r["status"], "rows": r["rows"],
                     "kept": r["records"], "duplicates": r["duplicates"], "quarantined": r["rejected_rows"],
                     "reasons": ", ".join(f"{k} {v}" for k, v in sorted(r["rejects"].items())) or "none"})
    return rows


def print_table(rows: list[dict]) -> None:
    if not rows:
        return
    cols = list(rows[0])
    width = {c: max(len(c), *(len(str(r[c])) for r in rows)) for c in cols}
    print("  ".join(c.ljust(width[c]) for c in cols))
    for r in rows:
        print("  ".join(str(r[c]).ljust(width[c]) for c in cols))


def run(realdata: Path, workspace: Path) -> dict:
    """build -> analyze -> segments -> targets -> report on the Copenhagen export; returns what each step said."""
    data = realdata / "copenhagen_calls_sms"
    if not data.exists():
        raise SystemExit(f"{data} not found: pass --realdata DIR or set BELLWETHER_REALDATA.")
    shutil.rmtree(workspace, ignore_errors=True)
    env = {**os.environ, "BELLWETHER_PSEUDONYM_KEY": secrets.token_hex(16), "PYTHONPATH": str(ROOT)}
    ws = ["--workspace", str(workspace)]
    steps: dict = {}
    steps["build_s"], built = _cli("build", str(data), "--layout", str(LAYOUT), *ws, "--json", env=env)
    steps["analyze_s"], analyzed = _cli("analyze", *ws, "--json", env=env)
    steps["segments_s"], _ = _cli("segments", *ws, env=env)
    steps["targets_s"], _ = _cli("targets", *ws, "--list", "all", "--format", "csv", env=env)
    steps["report_s"], _ = _cli("report", *ws, env=env)
    manifest = json.loads((workspace / "manifest.json").read_text())
    lines = {Path(e["path"]).name: e.get("lines") for e in manifest["inputs"].values()}
    attempts = {Path(e["path"]).name: e.get("failed_attempts", 0) for e in manifest["inputs"].values()}
    runs = sorted(p for p in (workspace / "runs").iterdir() if (p / "manifest.json").exists())
    lists = {p.stem: sum(1 for _ in open(p, encoding="utf-8")) - 1 for p in sorted(runs[-1].glob("lists/*.csv"))} if runs else {}
    return {"ingest": ingest_table(built["load"]), "lines": lines, "failed_attempts": attempts, "graph": built["graph"],
            "analysis": analyzed if isinstance(analyzed, dict) else {}, "lists": lists,
            "report": str(runs[-1] / "report.html") if runs else None, "seconds": steps}


def _optional_tables(realdata: Path) -> dict:
    """Tables of the analytics evaluations on labelled real graphs, when those modules are present."""
    out = {}
    for name, fn in (("communities", "community_scores"), ("bellwether", "bellwether_scores")):
        try:
            mod = __import__(f"bench.eval_{'communities' if name == 'communities' else 'bellwether'}_real", fromlist=[fn])
        except ImportError:
            continue
        if hasattr(mod, fn):
            out[name] = getattr(mod, fn)(realdata)
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--realdata", help="folder of the real data sets [default: $BELLWETHER_REALDATA or ../shared/realdata]")
    parser.add_argument("--workspace", default=str(ROOT / ".cache" / "eval-realdata" / "ws"), help="workspace (wiped first)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of tables")
    parser.add_argument("--no-analytics", action="store_true", help="skip the community and bellwether tables")
    args = parser.parse_args(argv)
    realdata = realdata_dir(args.realdata)
    result = run(realdata, Path(args.workspace))
    tables = {} if args.no_analytics else _optional_tables(realdata)
    if args.json:
        print(json.dumps({**result, **{k: v.to_dict("records") for k, v in tables.items()}}, indent=2, default=str))
        return
    g = result["graph"]
    print(f"Copenhagen calls + SMS ({realdata / 'copenhagen_calls_sms'}), layout {LAYOUT.relative_to(ROOT)}\n")
    print_table(result["ingest"])
    for name, a in result["lines"].items():
        if a:
            print(f"  {name}: {a['lines']:,} lines = header {a['header']} + blank {a['blank']} + unreadable {a['unreadable']} "
                  f"+ rows {a['rows']:,}; rows = kept {a['records']:,} + duplicates {a['duplicates']:,} + dropped "
                  f"{a['dropped']:,} + quarantined {a['quarantined'] - a['unreadable']:,}; "
                  f"unanswered call attempts kept as 0-second calls: {result['failed_attempts'][name]:,}")
    print(f"\ngraph as_of {g['as_of']} (window {g['window_days']} days): {g['subscribers']:,} subscribers, "
          f"{g['contacts']:,} contacts, {g['service_numbers']:,} service numbers")
    print("lists: " + (", ".join(f"{k} {v:,} rows" for k, v in result["lists"].items()) or "none"))
    print(f"report: {result['report']}")
    print("seconds: " + ", ".join(f"{k[:-2]} {v:.1f}" for k, v in result["seconds"].items()))
    for name, table in tables.items():
        print(f"\n{name} on labelled real graphs:")
        print(table.to_string(index=False))


if __name__ == "__main__":
    main()

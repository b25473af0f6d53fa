"""End-to-end quality and speed on a synthetic operator: every target of the analysis beside its figure.

Runs ``bellwether demo`` (generate → build → analyze → evaluate → segments → targets →
report) in a child process for each size, then prints one table per size from the run's
manifest: community NMI, AMI and recovery of planted groups at both community levels,
churn lift ratios, influence spread against top-PageRank seeds, seconds per step and the
child's peak memory.

Beside the community figures it prints their ceiling: the same scores for the planted
groups themselves split into their connected pieces on the analysed graph.  A planted
group whose members have no contact path inside the group in the window cannot be found
as one community by any method that returns connected communities, so no method can
score above that line.

Run: ``flock /tmp/bellwether-heavy.lock python -m bench.eval_operator --subscribers 100000``
(output under ``.cache/eval-operator-<n>``).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

from bellwether.graph.core.workspace import read_json

TARGETS = {
    "community NMI vs planted": (">=", 0.9),
    "  same, persons with contacts in the window": (">=", 0.9),
    "fine communities AMI vs planted": (">=", 0.8),
    "  ceiling: planted groups cut into connected pieces": (None, None),
    "coarse communities AMI vs planted": (None, None),
    "workplaces: share in largest fine piece": (None, None),
    "workplaces: share in largest coarse piece": (">=", 0.7),
    "  ceiling: planted groups cut into connected pieces ": (None, None),
    "churn lift@10% network / baseline": (">=", 1.3),
    "churn lift@5% network / spreading activation": (">=", 2.0),
    "influence spread IMM / top-PageRank (k=50)": (">=", 1.15),
    "  ceiling: best possible k seeds / top-PageRank": (None, None),
    "influence reach / most any k seeds can reach": (None, None),
}


def _workplaces(agreement: dict | None) -> float | None:
    return (((agreement or {}).get("recovery_by_class") or {}).get("workplace") or {}).get("recovery")


def planted_ceiling(out: Path) -> dict | None:
    """Agreement of the planted groups, cut into their connected pieces on the analysed graph, with
    the planted groups themselves (:func:`bellwether.algorithms.evaluation.community_agreement`)."""
    import numpy as np
    import pandas as pd

    from bellwether.algorithms.community.quality import split_disconnected
    from bellwether.algorithms.evaluation import community_agreement
    from bellwether.algorithms.evaluation.partition import read_size_classes
    from bellwether.algorithms.evaluation.truth import read_truth
    from bellwether.graph.contact_graph import ContactGraph

    truth_path, key_path = out / "data" / "truth.csv", out / "pseudonym.key"
    if not truth_path.exists() or not key_path.exists():
        return None
    graph = ContactGraph.load(out / "workspace")
    truth = read_truth(truth_path, key=key_path.read_bytes().strip())
    persons = truth.loc[(truth["kind"].astype(str) == "person") & truth["community"].notna(), ["id", "community"]]
    planted = pd.DataFrame({"id": graph.subscribers["id"].astype(str)}).merge(
        persons.astype({"id": str, "community": str}), on="id", how="left")["community"]
    codes = pd.factorize(planted)[0]  # -1 for persons without a planted group: each alone
    codes = np.where(codes < 0, codes.max() + 1 + np.arange(len(codes)), codes)
    pieces = split_disconnected(graph, codes)
    return community_agreement(pd.DataFrame({"id": graph.subscribers["id"], "community": pieces}), truth,
                               size_classes=read_size_classes(truth_path))


def _figures(manifest: dict, ceiling: dict | None = None) -> dict[str, float | None]:
    ev = (manifest.get("metrics") or {}).get("evaluation") or {}
    ratios = (ev.get("churn") or {}).get("ratios") or {}
    comm = ev.get("communities") or {}
    return {
        "community NMI vs planted": comm.get("nmi"),
        "  same, persons with contacts in the window": comm.get("nmi_with_contacts"),
        "fine communities AMI vs planted": comm.get("ami"),
        "  ceiling: planted groups cut into connected pieces": (ceiling or {}).get("ami"),
        "coarse communities AMI vs planted": (comm.get("coarse") or {}).get("ami"),
        "workplaces: share in largest fine piece": _workplaces(comm),
        "workplaces: share in largest coarse piece": _workplaces(comm.get("coarse")),
        "  ceiling: planted groups cut into connected pieces ": _workplaces(ceiling),
        "churn lift@10% network / baseline": ratios.get("lift_10_network_over_baseline"),
        "churn lift@5% network / spreading activation": ratios.get("lift_5_network_over_sa"),
        "influence spread IMM / top-PageRank (k=50)": (ev.get("influence") or {}).get("ratio_vs_pagerank"),
        "  ceiling: best possible k seeds / top-PageRank": (ev.get("influence") or {}).get("ceiling_vs_pagerank"),
        "influence reach / most any k seeds can reach": (ev.get("influence") or {}).get("share_of_upper_bound"),
    }


def run(subscribers: int, months: int, seed: int, root: Path) -> None:
    out = root / f"eval-operator-{subscribers}"
    cmd = [sys.executable, "-m", "bellwether.cli", "demo", "--out", str(out), "--subscribers", str(subscribers),
           "--months", str(months), "--seed", str(seed), "--json", "--quiet"]
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"demo failed for {subscribers} subscribers:\n{proc.stderr[-4000:]}")
    summary = json.loads(proc.stdout)
    peak_gb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024**2
    manifest = read_json(Path(summary["run"]) / "manifest.json")
    print(f"\nsynthetic operator: {subscribers:,} subscribers, {months} months, seed {seed}; "
          f"graph {summary['subscribers']:,} subscribers / {summary['contacts']:,} contacts")
    print(f"{'measure':<48} {'figure':>10}  target")
    for name, value in _figures(manifest, planted_ceiling(out)).items():
        op, bound = TARGETS[name]
        verdict = "" if value is None or bound is None else ("met" if value >= bound else "missed")
        shown = "n/a" if value is None else f"{value:.3f}"
        print(f"{name:<48} {shown:>10}  {op or ''} {bound or ''} {verdict}".rstrip())
    for step, seconds in summary["seconds"].items():
        print(f"{'seconds: ' + step:<48} {seconds:>10.1f}")
    for step, seconds in (manifest.get("timings") or {}).items():
        print(f"{'  analyze step: ' + step:<48} {float(seconds):>10.1f}")
    print(f"{'wall seconds (incl. start-up)':<48} {wall:>10.1f}")
    print(f"{'peak RSS of the largest child (GB)':<48} {peak_gb:>10.2f}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, action="append", help="size(s) to run [default: 100000]")
    parser.add_argument("--months", type=int, default=3)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--root", type=Path, default=Path(os.environ.get("BELLWETHER_BENCH_DIR", ".cache")))
    args = parser.parse_args(argv)
    for n in args.subscribers or [100_000]:
        run(n, args.months, args.seed, args.root)


if __name__ == "__main__":
    main()

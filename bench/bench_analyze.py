"""Wall time and peak memory of the whole analysis on a planted graph with CRM attributes.

Run: ``flock /tmp/bellwether-heavy.lock python -m bench.bench_analyze --subscribers 1000000 [--skip churn]``

Prints seconds per pipeline step, the total against the 180 s budget and the
peak resident memory against 6 GB.
"""

from __future__ import annotations

import argparse
import json
import resource
import tempfile
import time

import numpy as np
import pandas as pd

from bellwether.algorithms.analysis import analyze
from bellwether.graph.synthetic.planted import planted_edges
from bellwether.graph.contact_graph import ContactGraph
from bellwether.graph.core.workspace import Workspace


def synthetic(n: int, mean_degree: float, seed: int) -> ContactGraph:
    e, w, _ = planted_edges(n, mean_degree, 0.2, seed=seed)
    rng = np.random.default_rng(seed)
    m = len(e)
    churn = np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")
    who = rng.choice(n, n // 20, replace=False)
    churn[who] = np.datetime64("2024-02-20") + rng.integers(-50, 50, len(who)).astype("timedelta64[D]")
    subs = pd.DataFrame({
        "arpu": rng.gamma(2.0, 30.0, n), "status": np.where(np.isnat(churn), "active", "churned"),
        "churn_date": pd.Series(churn).dt.date, "tenure_months": rng.integers(1, 120, n).astype("int32"),
        "plan": rng.choice(["basic", "plus"], n), "region": rng.choice(["north", "south"], n),
    })
    g = ContactGraph.from_edges(
        e, w, n=n, subscribers=subs,
        calls_ab=rng.poisson(3, m).astype("int32"), calls_ba=rng.poisson(3, m).astype("int32"),
        sms_ab=rng.poisson(1, m).astype("int32"), sms_ba=rng.poisson(1, m).astype("int32"),
        seconds_ab=rng.poisson(200, m), seconds_ba=rng.poisson(200, m), active_days=rng.integers(1, 30, m),
        night_share=rng.random(m), reciprocity=rng.random(m),
        first_contact=np.datetime64("2024-01-31T00:00:00") + rng.integers(0, 86400 * 15, m).astype("timedelta64[s]"),
        last_contact=np.datetime64("2024-02-15T00:00:00") + rng.integers(0, 86400 * 14, m).astype("timedelta64[s]"),
    )
    g.info = {"as_of": "2024-03-01", "window_days": 30}
    return g


def main(argv=None) -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--subscribers", type=int, default=1_000_000)
    ap.add_argument("--mean-degree", type=float, default=32.0)
    ap.add_argument("--skip", nargs="*", default=[])
    args = ap.parse_args(argv)
    g = synthetic(args.subscribers, args.mean_degree, 42)
    with tempfile.TemporaryDirectory(dir=".cache") as d:
        t = time.perf_counter()
        run = analyze(Workspace(d), graph=g, progress=False, skip=tuple(args.skip))
        total = time.perf_counter() - t
        manifest = json.loads((run / "manifest.json").read_text())
    peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    print(f"analyze: {g.n_subscribers:,} subscribers, {g.n_contacts:,} contacts, skip={args.skip}")
    print(f"{'step':14s} {'seconds':>8s}")
    for step, sec in manifest["timings"].items():
        print(f"{step:14s} {sec:8.2f}")
    print(f"{'total':14s} {total:8.2f}   budget 180 s -> ratio {total / 180:.2f}")
    print(f"peak RSS {peak_gb:.2f} GB (generator included)   budget 6 GB -> ratio {peak_gb / 6:.2f}")
    print(f"communities {manifest['metrics']['communities']['n_communities']:,}, "
          f"modularity {manifest['metrics']['communities']['modularity']:.4f}")


if __name__ == "__main__":
    main()

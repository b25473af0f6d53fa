"""Wall time of segments + target lists + report on a synthetic 1M-subscriber run, against the 60 s budget.

Run: ``flock /tmp/bellwether-heavy.lock python -m bench.bench_marketing --subscribers 1000000``

The run directory is synthesised once (planted-partition graph from
:mod:`bellwether.graph.synthetic.planted`, CRM attributes, and run tables with the columns and meaning of
``bellwether.graph.schema``: communities from the planted partition, strength-based scores,
roles, churn before and after ``as_of``, 50 influence seeds) and cached under
``.cache/bench_marketing/``.  Each step then runs as its command would, from reading
the run to writing its files: ``segments``, ``targets --list all --top 1000``
(viral spread from 1000 cascades), ``report``.  Prints seconds per step, rows
written and the peak resident memory.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from bellwether.graph.synthetic.planted import planted_edges
from bellwether.graph import schema
from bellwether.graph.contact_graph import ContactGraph
from bellwether.graph.core.workspace import Workspace, write_json

AS_OF = "2024-03-01"
BUDGET_SECONDS = 60.0


def _write(df: pd.DataFrame, sch: pa.Schema, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pandas(df[[f.name for f in sch]], schema=sch, preserve_index=False), path)


def synthesise(root: Path, n: int, mean_degree: float, seed: int = 42) -> Workspace:
    """Write a workspace with graph tables and one analysis run for ``n`` subscribers."""
    rng = np.random.default_rng(seed)
    e, w, membership = planted_edges(n, mean_degree, 0.2, seed=seed)
    m = len(e)
    a, b = e[:, 0].astype(np.int64), e[:, 1].astype(np.int64)
    on_net = rng.random(n) < 0.9
    as_of = np.datetime64(AS_OF)
    churn = np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")
    who = rng.choice(np.flatnonzero(on_net), n // 25, replace=False)
    churn[who] = as_of + rng.integers(-120, 60, len(who)).astype("timedelta64[D]")
    subs = pd.DataFrame({
        "on_net": on_net, "kind": "person",
        "plan": np.where(on_net, rng.choice(["prepaid", "postpaid"], n), None),
        "arpu": np.where(on_net, rng.gamma(2.0, 25.0, n), np.nan),
        "tenure_months": pd.Series(rng.integers(1, 120, n), dtype="Int32").where(on_net, pd.NA),
        "region": np.where(on_net, rng.choice(["north", "south", "east", "west"], n), None),
        "status": np.where(on_net, np.where(np.isnat(churn), "active", "churned"), None),
        "churn_date": pd.Series(churn).dt.date,
    })
    calls = rng.poisson(4, m).astype(np.int32)
    sms = rng.poisson(3, m).astype(np.int32)
    g = ContactGraph.from_edges(
        e, w, n=n, subscribers=subs,
        calls_ab=calls // 2, calls_ba=calls - calls // 2, sms_ab=sms // 2, sms_ba=sms - sms // 2,
        seconds_ab=rng.poisson(150, m), seconds_ba=rng.poisson(150, m), active_days=rng.integers(1, 60, m).astype(np.int32),
        night_share=rng.random(m), reciprocity=rng.random(m),
        first_contact=(as_of - np.timedelta64(90, "D")).astype("datetime64[s]") + rng.integers(0, 86400 * 30, m).astype("timedelta64[s]"),
        last_contact=(as_of - np.timedelta64(60, "D")).astype("datetime64[s]") + rng.integers(0, 86400 * 60, m).astype("timedelta64[s]"),
    )
    ws = Workspace(root).create()
    _write(g.subscribers, schema.SUBSCRIBERS, ws.subscribers_path)
    _write(g.contacts, schema.CONTACTS, ws.contacts_path)
    write_json(ws.graph_info_path, {"as_of": AS_OF, "window_days": 90, "subscribers": n, "contacts": m})
    write_json(ws.manifest_path, {"inputs": [{"path": "synthetic", "rows": int(m * 7)}], "rejects": {"bad_msisdn": 120}})

    # run tables
    deg = np.bincount(a, minlength=n) + np.bincount(b, minlength=n)
    strength = np.bincount(a, weights=w, minlength=n) + np.bincount(b, weights=w, minlength=n)
    pagerank = (0.15 + strength) / (0.15 + strength).sum()
    churned = ~np.isnat(churn) & (churn < as_of)
    recent = churned & (churn >= as_of - np.timedelta64(30, "D"))
    churned_contacts = (np.bincount(a, weights=recent[b], minlength=n) + np.bincount(b, weights=recent[a], minlength=n)).astype(np.int64)
    score = strength / strength.max()
    rank = pd.Series(-score).groupby(membership).rank(method="first").astype(np.int64).to_numpy()
    role = np.full(n, "member", dtype=object)
    bell = rank == 1
    same = membership[a] == membership[b]
    follower = np.zeros(n, bool)
    follower[b[same & bell[a]]] = True
    follower[a[same & bell[b]]] = True
    role[follower] = "follower"
    role[bell] = "bellwether"
    role[deg == 0] = "isolate"
    risk = 1 / (1 + np.exp(-(-3.0 + 0.7 * churned_contacts + rng.normal(0, 0.7, n))))
    base = 1 / (1 + np.exp(-(-3.0 + rng.normal(0, 0.7, n))))
    alive = on_net & ~churned
    seeds_v = np.flatnonzero(alive)[np.argsort(-strength[alive], kind="stable")[:50]]
    seed_rank = pd.Series(pd.NA, index=range(n), dtype="Int64")
    seed_rank.iloc[seeds_v] = np.arange(1, 51)
    run_subs = pd.DataFrame({
        "vid": np.arange(n), "id": g.subscribers["id"], "on_net": on_net, "community": membership.astype(np.int64),
        "degree": deg, "strength": strength, "pagerank": pagerank, "coreness": np.minimum(deg, 10),
        "initiative": 0.5, "reach": deg * 5, "community_rank": rank, "bellwether_score": score, "role": role,
        "churned": churned, "churn_risk": risk, "churn_risk_baseline": base, "spreading_activation": churned_contacts * 0.1,
        "contagion_score": churned_contacts * 1e-6, "churned_contacts": churned_contacts, "influence_seed_rank": seed_rank,
    })
    gains = np.sort(rng.uniform(20, 200, 50))[::-1]
    seeds = pd.DataFrame({"rank": np.arange(1, 51), "vid": seeds_v, "id": g.subscribers["id"].to_numpy()[seeds_v],
                          "marginal_gain": gains, "cumulative_spread": np.cumsum(gains)})
    inside_w = np.bincount(membership[a][same], weights=w[same], minlength=membership.max() + 1)
    touch_w = np.bincount(membership[a], weights=w, minlength=membership.max() + 1) + np.bincount(
        membership[b][~same], weights=w[~same], minlength=membership.max() + 1)
    com = pd.DataFrame({"community": membership, "on": on_net, "churned": churned, "recent": recent,
                        "arpu": subs["arpu"].to_numpy()}).groupby("community").agg(
        size=("on", "size"), on_net_share=("on", "mean"), churn_rate=("churned", "mean"),
        recent_churners=("recent", "sum"), mean_arpu=("arpu", "mean")).reset_index()
    com["internal_density"] = 0.5
    com["internal_weight_share"] = inside_w[com["community"]] / np.maximum(touch_w[com["community"]], 1e-9)
    ids = g.subscribers["id"].to_numpy()
    com["bellwether"] = pd.Series(ids[bell], index=membership[bell]).reindex(com["community"]).to_numpy()
    com["recent_churners"] = com["recent_churners"].astype(np.int64)
    run_dir = ws.runs_dir / "20240301T000000-bench"
    _write(run_subs, schema.RUN_SUBSCRIBERS, run_dir / "subscribers.parquet")
    _write(com, schema.COMMUNITIES, run_dir / "communities.parquet")
    _write(seeds, schema.INFLUENCE_SEEDS, run_dir / "influence_seeds.parquet")
    write_json(run_dir / "manifest.json", {
        "run_id": run_dir.name, "as_of": AS_OF, "engine": "synthetic", "seed": 42,
        "parameters": {"recency_days": 30, "horizon_days": 60, "k": 50}, "graph": {"subscribers": n, "contacts": m},
        "metrics": {"influence": {"k": 50, "expected_spread": float(gains.sum()), "ci_low": float(gains.sum()) * 0.97,
                                  "ci_high": float(gains.sum()) * 1.03, "pagerank_spread": float(gains.sum()) * 0.8}},
    })
    pq.write_table(pa.table({"id": pa.array(ids[rng.choice(n, n // 100, replace=False)].tolist(), pa.string())}),
                   ws.do_not_contact_path)
    return ws


def _peak_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--subscribers", type=int, default=1_000_000)
    ap.add_argument("--mean-degree", type=float, default=20.0)
    ap.add_argument("--top", type=int, default=1000)
    ap.add_argument("--workdir", type=Path, default=Path(".cache/bench_marketing"))
    ap.add_argument("--fresh", action="store_true", help="Re-synthesise the run even if cached.")
    args = ap.parse_args(argv)

    from bellwether.algorithms.report import write_report
    from bellwether.algorithms.segments import load_run, segment_run, write_segments
    from bellwether.algorithms.targets import TargetOptions, build_lists, write_lists

    root = args.workdir / f"n{args.subscribers}-d{args.mean_degree:g}"
    t = time.perf_counter()
    if args.fresh or not (root / "runs").exists():
        shutil.rmtree(root, ignore_errors=True)
        synthesise(root, args.subscribers, args.mean_degree)
        made = f"synthesised in {time.perf_counter() - t:.1f} s"
    else:
        made = "cached"
    ws = Workspace(root)

    rows: list[tuple[str, float, str]] = []
    t0 = time.perf_counter()
    run = load_run(ws)
    seg = segment_run(run)
    write_segments(run, seg)
    rows.append(("segments", time.perf_counter() - t0, f"{len(seg.table):,} rows, {len(seg.profiles)} profiles"))

    t0 = time.perf_counter()
    run = load_run(ws)
    built = build_lists(run, options=TargetOptions(top=args.top))
    exports = write_lists(run, built, "csv")
    rows.append(("targets (all lists)", time.perf_counter() - t0,
                 ", ".join(f"{k} {e.rows:,}" for k, e in exports.items())))

    t0 = time.perf_counter()
    path = write_report(load_run(ws))
    rows.append(("report", time.perf_counter() - t0, f"{path.stat().st_size / 1024:,.0f} KiB"))

    total = sum(r[1] for r in rows)
    contacts = json.loads((root / "graph" / "graph.json").read_text())["contacts"]
    print(f"\nbench_marketing: {args.subscribers:,} subscribers, {contacts:,} contacts (run {made})")
    print(f"{'step':<22}{'seconds':>9}  output")
    for name, sec, what in rows:
        print(f"{name:<22}{sec:>9.1f}  {what}")
    verdict = "within" if total <= BUDGET_SECONDS else "OVER"
    print(f"{'total':<22}{total:>9.1f}  {verdict} the {BUDGET_SECONDS:.0f} s budget; peak RSS {_peak_gb():.1f} GB")


if __name__ == "__main__":
    main()

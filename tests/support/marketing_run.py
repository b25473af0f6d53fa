"""A small, hand-made analysis run on disk for the segments, target-list and report tests.

The graph has five communities of 25-40 customers and one of 6, each around a
bellwether (vertex ``start`` of its block, tied strongly to every member), plus 24
numbers of other operators.  The communities (close circles) nest in three wider
groups, the coarse level (:data:`COARSE_OF`): {0, 1}, {2, 3} and {4, 5}.  Community 0
has six members who churned in the 30 days before ``as_of`` (contagion under way);
churn after ``as_of`` is known, so the report can draw its lift charts.  The tables
follow ``graph.schema`` exactly and are written the way ``bellwether build`` and
``bellwether analyze`` write them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from bellwether.graph import schema
from bellwether.graph.contact_graph import ContactGraph
from bellwether.graph.core.workspace import Workspace, write_json

AS_OF = date(2024, 3, 1)
SIZES = (40, 35, 30, 30, 25, 6)
COARSE_OF = (0, 0, 1, 1, 2, 2)  # the wider group (coarse community) of each community
N_OFF_NET = 24


@dataclass
class MarketingRun:
    workspace: Workspace
    run_dir: Path
    do_not_contact: list[str]
    subscribers: pd.DataFrame  # CRM + run columns, vid order
    communities: pd.DataFrame
    seeds: pd.DataFrame
    coarse_communities: pd.DataFrame


def _write(df: pd.DataFrame, sch: pa.Schema, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pandas(df[[f.name for f in sch]], schema=sch, preserve_index=False), path)


def make_marketing_run(root: Path, seed: int = 7) -> MarketingRun:
    import igraph as ig

    rng = np.random.default_rng(seed)
    n_on = sum(SIZES)
    n = n_on + N_OFF_NET
    starts = np.cumsum((0, *SIZES[:-1]))
    community = np.concatenate([np.full(s, c) for c, s in enumerate(SIZES)] + [np.full(N_OFF_NET, -1)])

    edges: dict[tuple[int, int], float] = {}
    for c, (st, size) in enumerate(zip(starts, SIZES)):
        members = np.arange(st, st + size)
        for m in members[1:]:
            edges[(st, m)] = float(rng.uniform(5, 10))  # bellwether's strong ties
        for i in members[1:]:
            for j in members[1:]:
                if i < j and rng.random() < 0.2:
                    edges[(i, j)] = float(rng.uniform(0.5, 3))
    for _ in range(12):  # a few ties between communities
        i, j = sorted(rng.choice(n_on, 2, replace=False))
        if community[i] != community[j]:
            edges[(int(i), int(j))] = float(rng.uniform(0.5, 2))
    for u in range(n_on, n_on + N_OFF_NET):  # off-net numbers
        c = int(rng.integers(0, 5))
        community[u] = c
        if u < n_on + 8:  # strongly tied to the bellwether of their community
            edges[(int(starts[c]), u)] = float(rng.uniform(8, 12))
        for m in rng.choice(np.arange(starts[c] + 1, starts[c] + SIZES[c]), 2, replace=False):
            edges[(int(m), u)] = float(rng.uniform(0.3, 1.0))
    e = np.array(list(edges.keys()), dtype=np.int64)
    w = np.array(list(edges.values()))
    m = len(e)

    # CRM extract: ARPU, tenure, status, churn date
    arpu = np.round(rng.uniform(5, 100, n), 2)
    tenure = rng.integers(1, 120, n).astype(np.int32)
    tenure[20] = 48  # vertex 20: a long-standing customer gone silent (see below)
    churn_date = np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")
    recent0 = np.arange(starts[0] + 1, starts[0] + 7)  # six recent churners in community 0
    churn_date[recent0] = np.datetime64(AS_OF) - rng.integers(1, 25, len(recent0)).astype("timedelta64[D]")
    for c in range(1, 5):  # one old churner elsewhere
        churn_date[starts[c] + 2] = np.datetime64(AS_OF) - np.timedelta64(200, "D")
    churn_before = ~np.isnat(churn_date)
    on_net = np.arange(n) < n_on

    ga = ig.Graph(n=n, edges=e.tolist(), directed=False)
    ga.es["weight"] = w
    recent = churn_before & (churn_date >= np.datetime64(AS_OF) - np.timedelta64(30, "D"))
    churned_contacts = np.array([int(recent[ga.neighbors(v)].sum()) for v in range(n)])
    # churn after as_of: likelier with churned contacts (the contagion the report must show)
    p_after = 1 / (1 + np.exp(-(-2.6 + 0.9 * churned_contacts)))
    after = on_net & ~churn_before & (rng.random(n) < p_after)
    churn_date[after] = np.datetime64(AS_OF) + rng.integers(1, 60, after.sum()).astype("timedelta64[D]")
    status = np.where(~np.isnat(churn_date), "churned", "active").astype(object)

    subs = pd.DataFrame({
        "on_net": on_net, "kind": "person",
        "plan": np.where(rng.random(n) < 0.5, "prepaid", "postpaid").astype(object),
        "arpu": np.where(on_net, arpu, np.nan), "tenure_months": pd.Series(tenure, dtype="Int32").where(on_net, pd.NA),
        "region": "north", "status": np.where(on_net, status, None),
        "churn_date": pd.to_datetime(churn_date).date,
    })
    subs.loc[~on_net, ["plan", "region", "status"]] = None
    subs["churn_date"] = [d if isinstance(d, date) and not pd.isna(d) else None for d in subs["churn_date"]]
    voice_heavy = rng.random(m) < 0.6
    calls = np.where(voice_heavy, rng.integers(5, 40, m), rng.integers(0, 3, m))
    sms = np.where(voice_heavy, rng.integers(0, 3, m), rng.integers(5, 60, m))
    last = np.datetime64(AS_OF) - rng.integers(1, 80, m).astype("timedelta64[D]")
    g = ContactGraph.from_edges(
        e, w, n=n, subscribers=subs,
        calls_ab=(calls // 2).astype(np.int32), calls_ba=(calls - calls // 2).astype(np.int32),
        seconds_ab=(calls * 90).astype(np.int64), seconds_ba=(calls * 60).astype(np.int64),
        sms_ab=(sms // 2).astype(np.int32), sms_ba=(sms - sms // 2).astype(np.int32),
        first_contact=(last - np.timedelta64(90, "D")).astype("datetime64[s]"),
        last_contact=last.astype("datetime64[s]"),
        active_days=rng.integers(1, 60, m).astype(np.int32), night_share=rng.uniform(0, 0.3, m),
        reciprocity=rng.uniform(0.5, 1, m),
    )
    # a silent customer: drop recency of every tie of vertex 20
    lc = g.contacts["last_contact"].to_numpy().copy()
    lc[(g.contacts["a_vid"] == 20).to_numpy() | (g.contacts["b_vid"] == 20).to_numpy()] = np.datetime64("2023-10-01", "s")
    g.contacts["last_contact"] = lc

    ws = Workspace(root).create()
    _write(g.subscribers, schema.SUBSCRIBERS, ws.subscribers_path)
    _write(g.contacts, schema.CONTACTS, ws.contacts_path)
    write_json(ws.graph_info_path, {"as_of": str(AS_OF), "window_days": 90, "subscribers": n, "contacts": m})
    write_json(ws.manifest_path, {
        "inputs": [{"path": "cdr_2024_01.csv", "rows": 18234, "sha256": "ab12"},
                   {"path": "crm_extract.csv", "rows": n_on, "sha256": "cd34"}],
        "rejects": {"bad_msisdn": 12, "bad_timestamp": 3},
        "records": 18219,
    })

    # analysis run tables
    pr = np.array(ga.pagerank(weights="weight"))
    strength = np.array(ga.strength(weights="weight"))
    degree = np.array(ga.degree())
    bw_score = pr / pr.max()
    com_rank = pd.Series(bw_score).groupby(community).rank(ascending=False, method="first").astype(np.int64).to_numpy()
    role = np.full(n, "member", dtype=object)
    bell = (com_rank == 1) & on_net
    role[bell] = "bellwether"
    for v in np.flatnonzero(bell):
        nb = np.array(ga.neighbors(v))
        nb = nb[(community[nb] == community[v]) & on_net[nb]]
        role[nb] = "follower"
    role[starts[2] + 5] = "bridge"
    risk = 1 / (1 + np.exp(-(-2.2 + 0.8 * churned_contacts + rng.normal(0, 0.5, n))))
    risk[recent0[0] + 7] = 0.99  # highest risk of all: vertex 8, put on the do-not-contact list below
    base = 1 / (1 + np.exp(-(-2.0 + rng.normal(0, 0.5, n))))
    alive_on = on_net & ~churn_before
    seed_vids = np.flatnonzero(alive_on)[np.argsort(-pr[alive_on], kind="stable")][:8]
    seed_rank = pd.array([pd.NA] * n, dtype="Int64")
    for r, v in enumerate(seed_vids, 1):
        seed_rank[v] = r
    run_subs = pd.DataFrame({
        "vid": np.arange(n), "id": g.subscribers["id"], "on_net": on_net, "community": community,
        "coarse_community": np.asarray(COARSE_OF)[community],
        "degree": degree, "strength": strength, "pagerank": pr, "coreness": np.array(ga.coreness()),
        "initiative": 0.5, "reach": np.array([len(ga.neighborhood(v, order=2)) - 1 for v in range(n)]),
        "community_rank": com_rank, "bellwether_score": bw_score, "role": role, "churned": churn_before,
        "churn_risk": risk, "churn_risk_baseline": base, "spreading_activation": churned_contacts * 0.1,
        "contagion_score": churned_contacts * 0.01, "churned_contacts": churned_contacts,
        "influence_seed_rank": seed_rank,
    })
    gains = np.round(np.linspace(30, 8, len(seed_vids)), 1)
    seeds = pd.DataFrame({"rank": np.arange(1, len(seed_vids) + 1), "vid": seed_vids,
                          "id": g.subscribers["id"].to_numpy()[seed_vids], "marginal_gain": gains,
                          "cumulative_spread": np.cumsum(gains)})
    a_, b_ = e[:, 0], e[:, 1]
    arpu_all = subs["arpu"].to_numpy(float)

    def summary(label: int, mem: np.ndarray) -> dict:
        """One row of the community tables for the members ``mem`` (either level)."""
        size = int(mem.sum())
        members = np.flatnonzero(mem)
        return {
            "community": label, "size": size,
            "internal_density": 2 * int((mem[a_] & mem[b_]).sum()) / max(size * (size - 1), 1),
            "internal_weight_share": w[mem[a_] & mem[b_]].sum() / w[mem[a_] | mem[b_]].sum(),
            "churn_rate": float(churn_before[mem].mean()), "recent_churners": int(recent[mem].sum()),
            "mean_arpu": float(np.nanmean(arpu_all[mem])), "on_net_share": float(on_net[mem].mean()),
            "bellwether": g.subscribers["id"].iloc[members[np.argmax(bw_score[members])]],
        }

    coarse_of = np.asarray(COARSE_OF)
    communities = pd.DataFrame([{**summary(c, community == c), "coarse_community": COARSE_OF[c]}
                                for c in range(len(SIZES))])
    coarse = pd.DataFrame([{**summary(k, coarse_of[community] == k), "fine_communities": int((coarse_of == k).sum())}
                           for k in range(coarse_of.max() + 1)])
    coarse = coarse.sort_values(["size", "community"], ascending=[False, True]).reset_index(drop=True)

    run_dir = ws.runs_dir / "20240301T000000"
    _write(run_subs, schema.RUN_SUBSCRIBERS, run_dir / "subscribers.parquet")
    _write(communities, schema.COMMUNITIES, run_dir / "communities.parquet")
    _write(coarse, schema.COARSE_COMMUNITIES, run_dir / "coarse_communities.parquet")
    _write(seeds, schema.INFLUENCE_SEEDS, run_dir / "influence_seeds.parquet")
    write_json(run_dir / "manifest.json", {
        "run_id": run_dir.name, "created": "2024-03-02T08:00:00+00:00", "as_of": str(AS_OF), "engine": "igraph",
        "seed": 42, "parameters": {"communities": {"resolution": 1.0, "objective": "auto", "tolerance": 0.08,
                                                   "max_iterations": 2},
                                   "churn": {"recency_days": 30, "horizon_days": 90, "study_days": None},
                                   "influence": {"k": 8, "n_simulations": 1000, "influence_simulations": 300,
                                                 "engine_celf": False}},
        "versions": {"bellwether": "0.1.0", "igraph": ig.__version__},
        "graph": {"subscribers": n, "contacts": m},
        "timings": {"communities": 0.1, "influence": 0.5},
        "metrics": {"communities": {"modularity": 0.61, "n_communities": len(SIZES), "largest": max(SIZES),
                                    "singletons": 0, "median_size": float(np.median(SIZES)),
                                    "coarse": {"resolution": 1.0, "n_communities": len(coarse),
                                               "largest": int(coarse["size"].max()), "singletons": 0,
                                               "median_size": float(coarse["size"].median()), "modularity": 0.48}},
                    "influence": {"k": 8, "expected_spread": 151.0, "ci_low": 140.2, "ci_high": 161.8,
                                  "pagerank_spread": 120.0, "pagerank_ci_low": 110.0, "pagerank_ci_high": 130.0,
                                  "spread_ratio_vs_pagerank": 1.26},
                    "churn": {"auc": 0.71, "auc_baseline": 0.55, "contagion": _contagion_test(rng)}},
    })
    dnc = [g.subscribers["id"].iloc[8],  # the highest churn risk
           g.subscribers["id"].iloc[int(seed_vids[1])],  # an influence seed
           g.subscribers["id"].iloc[n_on]]  # an off-net number strongly tied to a bellwether
    pq.write_table(pa.table({"id": pa.array(dnc, pa.string())}), ws.do_not_contact_path)
    full = run_subs.join(subs[["kind", "plan", "arpu", "tenure_months", "region", "status", "churn_date"]])
    return MarketingRun(ws, run_dir, dnc, full, communities, seeds, coarse)


def _contagion_test(rng: np.random.Generator) -> dict:
    """A measured contagion test (``metrics.churn.contagion``, as ``bellwether analyze`` writes it): contagion called,
    hazard ratio 1.84 (95% CI 1.31-2.58) against a time-shuffled null around 1."""
    from bellwether.algorithms.churn.contagion import verdict

    null = np.round(np.exp(rng.normal(0.0, 0.12, 199)), 4)
    m = {"measured": True, "called": True, "hr": 1.84, "ci_low": 1.31, "ci_high": 2.58, "se_log_hr": 0.17,
         "p_value": 0.005, "null_exceeding": 0, "null_median": float(np.median(null)),
         "null_q025": float(np.quantile(null, 0.025)), "null_q975": float(np.quantile(null, 0.975)),
         "null": null.tolist(), "study": ["2023-12-02", str(AS_OF)], "window_days": 30, "decay_days": 30.0,
         "hr_window": {"hr": 1.52, "ci_low": 1.12, "ci_high": 2.06, "null_median": 1.01},
         "exposed_events": 14, "exposed_days": 2210, "unexposed_events": 9, "unexposed_days": 10480,
         "parameters": {"window_days": 30, "decay_days": 30.0, "min_rate": 2.0, "permutations": 199, "seed": 42}}
    return {**m, "verdict": verdict(m)}

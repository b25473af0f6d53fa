"""Bellwether score on real graphs: saturation, role shares, agreement with degree, leaders found.

Graphs:

* the Copenhagen Networks Study calls and SMS (Sapiezynski et al. 2019, *Scientific Data* 6:315,
  doi:10.1038/s41597-019-0325-x, CC BY 4.0), ``calls.csv`` and ``sms.csv`` aggregated into one
  undirected contact per pair with the pipeline's columns (calls, seconds and SMS in each
  direction, reciprocity, the default tie strength); unanswered attempts (duration -1 or 0) count
  as 0-second calls, as ``bench.eval_realdata``'s layout loads them;
* networkx's ``florentine_families_graph`` (Padgett & Ansell 1993; marriages, unweighted; the
  Medici are the expected leader) and ``karate_club_graph`` (Zachary 1977, weighted; the two
  factions followed the instructor, node 0, and the administrator, node 33).

Communities come from the library's default engine (:func:`bellwether.algorithms.community.detect_communities`);
centralities and the score from the same functions ``bellwether analyze`` calls.  For each graph
it prints the ties at the maximum score, the ties among the top 1 %, the share of each role, the
Spearman correlation of the score with degree (over everyone, and the mean within communities of
at least 5), and the top 5; the old within-community score is shown beside it.

A held-out check on Copenhagen: the score computed from calls only, against each person's SMS
degree (a second view of who is central, which the score never saw), beside call degree against
SMS degree; and the same with the channels swapped.

With ``--synthetic N`` it also generates and builds a synthetic operator (``bellwether generate``,
cached under ``--cache``) and scores the planted bellwethers: ROC AUC of the score, precision and
recall of the role.

Run::

    python -m bench.eval_bellwether_real                      # --realdata DIR or BELLWETHER_REALDATA
    python -m bench.eval_bellwether_real --synthetic 100000   # plus the generator's planted bellwethers
    python -m bench.eval_bellwether_real --time-at 1000000    # plus the speed at a million subscribers
    python -m bench.eval_bellwether_real --json               # the figures as JSON

From another script: ``bellwether_scores(realdata)`` returns one row per graph (a DataFrame, what
``bench.eval_realdata`` prints); ``evaluate_all(realdata)`` every figure as a dict.
"""

from __future__ import annotations

import argparse
import json
import math
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bellwether.algorithms.centrality import centrality_table, degree_strength
from bellwether.algorithms import roles
from bellwether.algorithms.roles import ROLES, assign_roles, role_table
from bellwether.graph.contact_graph import ContactGraph
from bellwether.graph.tie_strength import DEFAULT as TIE_STRENGTH

__all__ = ["copenhagen_graph", "score_table", "evaluate_graph", "heldout_channel",
           "synthetic_operator", "timing", "evaluate_all", "bellwether_scores", "default_realdata"]


def default_realdata() -> Path:
    """``BELLWETHER_REALDATA``, else ``../shared/realdata`` relative to the repository."""
    env = os.environ.get("BELLWETHER_REALDATA")
    return Path(env) if env else Path(__file__).resolve().parents[1].parent / "shared" / "realdata"


# --- graphs ------------------------------------------------------------------------------------------
def copenhagen_graph(realdata: Path | str, channels: tuple[str, ...] = ("calls", "sms")) -> tuple[ContactGraph, np.ndarray]:
    """The Copenhagen calls and/or SMS as a contact graph; returns it and the study's user id of each vertex."""
    folder = Path(realdata) / "copenhagen_calls_sms"
    frames = []
    if "calls" in channels:
        c = pd.read_csv(folder / "calls.csv")
        seconds = c["duration"].clip(lower=0)  # unanswered attempts (-1) are 0-second calls, as bench.eval_realdata loads them
        frames.append(pd.DataFrame({"u": c["from"], "v": c["to"], "calls": 1, "seconds": seconds, "sms": 0}))
    if "sms" in channels:
        s = pd.read_csv(folder / "sms.csv")
        frames.append(pd.DataFrame({"u": s["from"], "v": s["to"], "calls": 0, "seconds": 0, "sms": 1}))
    ev = pd.concat(frames, ignore_index=True)
    ev = ev.loc[ev["u"] != ev["v"]]
    users = np.unique(np.concatenate([ev["u"].to_numpy(), ev["v"].to_numpy()]))
    u = np.searchsorted(users, ev["u"].to_numpy())
    v = np.searchsorted(users, ev["v"].to_numpy())
    a, b = np.minimum(u, v), np.maximum(u, v)
    fwd = u == a  # event initiated by the smaller vertex
    df = pd.DataFrame({
        "a": a, "b": b,
        "calls_ab": ev["calls"].to_numpy() * fwd, "calls_ba": ev["calls"].to_numpy() * ~fwd,
        "seconds_ab": ev["seconds"].to_numpy() * fwd, "seconds_ba": ev["seconds"].to_numpy() * ~fwd,
        "sms_ab": ev["sms"].to_numpy() * fwd, "sms_ba": ev["sms"].to_numpy() * ~fwd,
    }).groupby(["a", "b"], sort=True).sum().reset_index()
    n_ab = df["calls_ab"] + df["sms_ab"]
    n_ba = df["calls_ba"] + df["sms_ba"]
    rec = 1 - (n_ab - n_ba).abs() / (n_ab + n_ba)
    w = TIE_STRENGTH.compute(df["seconds_ab"] + df["seconds_ba"], df["sms_ab"] + df["sms_ba"],
                             df["calls_ab"] + df["calls_ba"], rec)
    cols = {k: df[k].to_numpy(np.int64) for k in ("calls_ab", "calls_ba", "seconds_ab", "seconds_ba", "sms_ab", "sms_ba")}
    g = ContactGraph.from_edges(df[["a", "b"]].to_numpy(), w, n=len(users), reciprocity=rec.to_numpy(), **cols)
    return g, users



def score_table(g: ContactGraph, seed: int = 42) -> pd.DataFrame:
    """:func:`bellwether.algorithms.roles.role_table` plus the score and role before issue 10 (``legacy_*``)."""
    t = role_table(g, seed=seed)
    t["legacy_score"], t["legacy_role"] = _legacy(g, t)
    return t


def _legacy(g: ContactGraph, t: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """The score and bellwether rule before issue 10: within-community percentiles (for comparison)."""
    comm = t["community"].to_numpy(np.int64)
    pr = t["pagerank"].to_numpy(np.float64)
    att = np.nan_to_num(t["events_in"].to_numpy(np.float64), nan=0.0)
    if not att.any():
        att = t["strength"].to_numpy(np.float64)

    def p(x):
        return pd.Series(x).groupby(comm).rank(method="average", pct=True).to_numpy()

    score = 0.4 * p(pr) + 0.3 * p(t["strength"].to_numpy(np.float64)) + 0.3 * p(att)
    vid = np.arange(len(t))
    order = np.lexsort((vid, -pr, -score, comm))
    first = np.r_[True, comm[order][1:] != comm[order][:-1]]
    start = np.maximum.accumulate(np.where(first, np.arange(len(order)), 0))
    rank = np.empty(len(order), np.int64)
    rank[order] = np.arange(len(order)) - start + 1
    size = np.bincount(comm)[comm]
    bell = (rank == 1) & (size >= 3)
    med = pd.Series(pr).groupby(comm).transform("median").to_numpy()
    cap = np.maximum(1, np.floor(0.05 * size))
    bell |= (size >= 30) & (pr >= 3 * med) & (rank <= cap)
    bell &= t["degree"].to_numpy() > 0
    return score, np.where(bell, "bellwether", "other")


def _spearman(x, y) -> float:
    from scipy.stats import spearmanr

    x, y = np.asarray(x, float), np.asarray(y, float)
    if len(x) < 3 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return float("nan")
    return float(spearmanr(x, y).statistic)


def _within(score, ref, comm, min_size: int = 5) -> float:
    """Mean Spearman correlation within communities of at least ``min_size``, weighted by size."""
    rs, ws = [], []
    for c in np.unique(comm):
        m = comm == c
        if m.sum() >= min_size:
            r = _spearman(score[m], ref[m])
            if not math.isnan(r):
                rs.append(r)
                ws.append(m.sum())
    return float(np.average(rs, weights=ws)) if rs else float("nan")


def _saturation(score: np.ndarray) -> dict[str, int]:
    top = max(1, math.ceil(0.01 * len(score)))
    s = np.sort(score)[::-1][:top]
    _, counts = np.unique(s, return_counts=True)
    return {"ties_at_max": int((score == score.max()).sum()), "top_1pct": top,
            "ties_in_top_1pct": int(counts[counts > 1].sum())}


def evaluate_graph(g: ContactGraph, names=None, *, seed: int = 42, top: int = 5) -> dict[str, Any]:
    """Saturation, role shares, Spearman with degree and the top ``top`` for one graph (new and old score)."""
    t = score_table(g, seed=seed)
    score = t["bellwether_score"].to_numpy()
    legacy = t["legacy_score"].to_numpy()
    deg = t["degree"].to_numpy(np.float64)
    comm = t["community"].to_numpy()
    names = list(range(len(t))) if names is None else list(names)
    order = np.lexsort((np.arange(len(t)), -score))[:top]
    has = deg > 0
    return {
        "subscribers": int(len(t)), "contacts": int(g.n_contacts),
        "communities": int(len(np.unique(comm))), "communities_ge5": int((np.bincount(comm) >= 5).sum()),
        "community_detection": t.attrs["communities"],
        "score": {**_saturation(score), "spearman_degree": _spearman(score[has], deg[has]),
                  "spearman_degree_within": _within(score, deg, comm)},
        "legacy": {**_saturation(legacy), "spearman_degree": _spearman(legacy[has], deg[has]),
                   "spearman_degree_within": _within(legacy, deg, comm),
                   "bellwether_share": float((t["legacy_role"] == "bellwether").mean())},
        "roles": {r: float((t["role"] == r).mean()) for r in ROLES},
        "top": [{"name": str(names[v]), "score": float(score[v]), "degree": int(deg[v]), "role": str(t["role"].iloc[v])}
                for v in order],
    }


def heldout_channel(realdata: Path | str, *, seed: int = 42) -> dict[str, Any]:
    """Score from one channel against degree in the other, beside the first channel's own degree."""
    out = {}
    for scored, held in (("calls", "sms"), ("sms", "calls")):
        g, users = copenhagen_graph(realdata, (scored,))
        h, h_users = copenhagen_graph(realdata, (held,))
        t = score_table(g, seed=seed)
        h_deg = pd.Series(degree_strength(h)["degree"].to_numpy(), index=h_users)
        ref = h_deg.reindex(users).to_numpy(np.float64)
        both = ~np.isnan(ref) & (t["degree"].to_numpy() > 0)
        comm = t["community"].to_numpy()[both]
        row = {"people": int(both.sum())}
        for name, col in (("bellwether_score", "bellwether_score"), ("degree", "degree"),
                          ("old score", "legacy_score"), ("pagerank", "pagerank")):
            x = t[col].to_numpy(np.float64)[both]
            row[name] = {"spearman": _spearman(x, ref[both]), "within": _within(x, ref[both], comm)}
        out[f"{scored} -> {held} degree"] = row
    return out


def synthetic_operator(subscribers: int, cache: Path | str, *, seed: int = 42) -> dict[str, Any]:
    """The score and roles against the bellwethers ``bellwether generate`` planted (on-net persons).

    Generates and builds the operator once under ``cache`` (like ``bench.eval_churn``), then scores
    the graph as of its ``suggested_as_of``: ROC AUC of each score for "planted bellwether", and the
    precision and recall of the ``bellwether`` role, new rule and old.
    """
    import subprocess
    import sys

    from sklearn.metrics import roc_auc_score

    from bellwether.algorithms.evaluation.truth import read_truth
    from bench.eval_churn import BENCH_KEY

    root = Path(cache) / f"gen-{subscribers}-{seed}"
    env = {**os.environ, "BELLWETHER_PSEUDONYM_KEY": BENCH_KEY}
    if not (root / "truth.csv").exists():
        subprocess.run([sys.executable, "-m", "bellwether.cli", "generate", str(root), "--subscribers", str(subscribers),
                        "--seed", str(seed), "-q"], check=True, env=env, stdout=subprocess.DEVNULL)
    ws = root / "workspace"
    if not (ws / "graph" / "contacts.parquet").exists():
        as_of = json.loads((root / "operator.json").read_text())["suggested_as_of"]
        subprocess.run([sys.executable, "-m", "bellwether.cli", "build", str(root / "cdr"), "--subscribers",
                        str(root / "subscribers.csv"), "--workspace", str(ws), "--as-of", as_of, "-q"],
                       check=True, env=env, stdout=subprocess.DEVNULL)
    g = ContactGraph.load(ws)
    t = score_table(g, seed=seed)
    truth = read_truth(root / "truth.csv", key=BENCH_KEY.encode()).set_index("id").reindex(g.subscribers["id"])
    on = g.subscribers["on_net"].fillna(False).to_numpy(bool) & (truth["kind"].to_numpy() == "person")
    planted = truth["role"].to_numpy() == "bellwether"
    out: dict[str, Any] = {"subscribers": int(len(t)), "on_net_persons": int(on.sum()),
                           "planted_share": float(planted[on].mean()), "auc": {}, "roles_on_net": {}}
    for name, col in (("bellwether_score", "bellwether_score"), ("old score", "legacy_score"),
                      ("degree", "degree"), ("pagerank", "pagerank")):
        out["auc"][name] = float(roc_auc_score(planted[on], t[col].to_numpy(np.float64)[on]))
    for name, col in (("new", "role"), ("old", "legacy_role")):
        pred = (t[col].to_numpy() == "bellwether") & on
        out[name] = {"share": float(pred[on].mean()), "precision": float(planted[pred].mean()),
                     "recall": float(pred[planted & on].mean())}
    out["roles_on_net"] = {r: float((t["role"].to_numpy()[on] == r).mean()) for r in ROLES}
    out["score"] = _saturation(t["bellwether_score"].to_numpy())
    return out


def timing(subscribers: int, *, seed: int = 42) -> dict[str, Any]:
    """Seconds of :func:`bellwether.algorithms.roles.bellwether_scores` and :func:`assign_roles` on a planted graph of ``subscribers``
    (:mod:`bellwether.graph.synthetic.planted`, mean degree 8, communities of 3-300, random call and SMS counts per direction)."""
    import time

    from bellwether.graph.synthetic.planted import planted_graph

    g, membership = planted_graph(subscribers, mean_degree=8.0, min_size=3, max_size=300, seed=seed)
    rng = np.random.default_rng(seed)
    for col in ("calls_ab", "calls_ba", "sms_ab", "sms_ba"):
        g.contacts[col] = rng.poisson(3.0, g.n_contacts).astype(np.int32)
    t = centrality_table(g, with_reach=False)
    t["community"] = membership
    t0 = time.perf_counter()
    s = roles.bellwether_scores(g, t)
    t1 = time.perf_counter()
    t["bellwether_score"] = s["bellwether_score"].to_numpy()
    t["community_rank"] = s["community_rank"].to_numpy()
    role = assign_roles(g, t)["role"].to_numpy()
    t2 = time.perf_counter()
    return {"subscribers": subscribers, "contacts": int(g.n_contacts), "bellwether_scores_s": round(t1 - t0, 2),
            "assign_roles_s": round(t2 - t1, 2), "bellwether_share": float((role == "bellwether").mean()),
            **_saturation(t["bellwether_score"].to_numpy())}


def evaluate_all(realdata: Path | str | None = None, *, seed: int = 42, synthetic: int = 0,
                 cache: Path | str = "/tmp/bellwether-bench", time_at: int = 0) -> dict[str, Any]:
    """Every figure of this script as a dict (the Copenhagen parts are skipped when the data is missing;
    ``synthetic`` > 0 adds a generated operator of that many subscribers, see :func:`synthetic_operator`;
    ``time_at`` > 0 the speed on a planted graph of that many, see :func:`timing`)."""
    import networkx as nx

    realdata = Path(realdata) if realdata else default_realdata()
    res: dict[str, Any] = {}
    if (realdata / "copenhagen_calls_sms" / "calls.csv").exists():
        g, users = copenhagen_graph(realdata)
        res["copenhagen calls+sms"] = evaluate_graph(g, users, seed=seed)
        res["heldout"] = heldout_channel(realdata, seed=seed)
    else:
        res["copenhagen calls+sms"] = {"skipped": f"no {realdata / 'copenhagen_calls_sms'}"}
    g, names = ContactGraph.from_networkx(nx.florentine_families_graph())
    res["florentine families"] = evaluate_graph(g, names, seed=seed)
    g, names = ContactGraph.from_networkx(nx.karate_club_graph())
    res["karate club"] = evaluate_graph(g, names, seed=seed)
    if synthetic:
        res["synthetic"] = synthetic_operator(synthetic, cache, seed=seed)
    if time_at:
        res["timing"] = timing(time_at, seed=seed)
    return res


def bellwether_scores(realdata: Path | str | None = None, *, seed: int = 42) -> pd.DataFrame:
    """One row per real graph (Copenhagen calls+SMS when present, Florentine families, karate club):
    ties at the maximum and in the top 1 %, Spearman with degree, role shares, the top 5, and the old
    score's ties and bellwether share beside them.  What ``bench.eval_realdata`` prints."""
    rows = []
    for name, r in evaluate_all(realdata, seed=seed).items():
        if name == "heldout" or "skipped" in r:
            continue
        rows.append({
            "graph": name, "subscribers": r["subscribers"], "contacts": r["contacts"],
            "ties_at_max": r["score"]["ties_at_max"], "ties_top_1pct": r["score"]["ties_in_top_1pct"],
            "spearman_degree": round(r["score"]["spearman_degree"], 3),
            "spearman_degree_within": round(r["score"]["spearman_degree_within"], 3),
            **{f"{role}_share": round(r["roles"][role], 3) for role in ROLES},
            "old_ties_at_max": r["legacy"]["ties_at_max"],
            "old_bellwether_share": round(r["legacy"]["bellwether_share"], 3),
            "top5": ", ".join(x["name"] for x in r["top"]),
        })
    return pd.DataFrame(rows)


def _print(res: dict[str, Any]) -> None:
    graphs = [k for k, v in res.items() if k not in ("heldout", "synthetic", "timing") and "skipped" not in v]
    for k, v in res.items():
        if isinstance(v, dict) and "skipped" in v:
            print(f"{k}: skipped ({v['skipped']})")
    if graphs:
        cd = res[graphs[0]]["community_detection"]
        print(f"communities: detect_communities defaults ({cd['method']}, {cd['objective']}, resolution {cd['resolution']:g})\n")
    head = f"{'':34}" + "".join(f"{k:>24}" for k in graphs)
    print(head)

    def row(label, f):
        print(f"{label:34}" + "".join(f"{f(res[k]):>24}" for k in graphs))

    row("subscribers / contacts", lambda r: f"{r['subscribers']} / {r['contacts']}")
    row("communities (>= 5 members)", lambda r: f"{r['communities']} ({r['communities_ge5']})")
    for key, label in (("score", "new"), ("legacy", "old")):
        row(f"{label}: ties at max score", lambda r, key=key: str(r[key]["ties_at_max"]))
        row(f"{label}: ties in top 1% (size)", lambda r, key=key: f"{r[key]['ties_in_top_1pct']} ({r[key]['top_1pct']})")
        row(f"{label}: Spearman with degree", lambda r, key=key: f"{r[key]['spearman_degree']:.3f}")
        row(f"{label}: same, within communities", lambda r, key=key: f"{r[key]['spearman_degree_within']:.3f}")
    row("old: bellwether share", lambda r: f"{100 * r['legacy']['bellwether_share']:.1f}%")
    for role in ROLES:
        row(f"new: {role} share", lambda r, role=role: f"{100 * r['roles'][role]:.1f}%")
    for k in graphs:
        print(f"\ntop 5, {k}:")
        for i, x in enumerate(res[k]["top"], 1):
            print(f"  {i}. {x['name']:<14} score {x['score']:.4f}  degree {x['degree']:>3}  {x['role']}")
    if "heldout" in res:
        print("\nheld-out channel (Copenhagen): Spearman with the other channel's degree, all / within communities >= 5")
        for k, r in res["heldout"].items():
            cells = "  ".join(f"{m}: {r[m]['spearman']:.3f} / {r[m]['within']:.3f}"
                              for m in ("bellwether_score", "degree", "pagerank", "old score"))
            print(f"  {k:<22} ({r['people']} people)  {cells}")
    if "synthetic" in res:
        r = res["synthetic"]
        print(f"\nsynthetic operator ({r['subscribers']} subscribers, {r['on_net_persons']} on-net persons; "
              f"planted bellwethers {100 * r['planted_share']:.1f}% of them)")
        print("  ROC AUC for planted bellwether: " + ", ".join(f"{k} {v:.3f}" for k, v in r["auc"].items()))
        for k in ("new", "old"):
            x = r[k]
            print(f"  {k} role 'bellwether': {100 * x['share']:.1f}% of on-net persons, precision {x['precision']:.3f}, "
                  f"recall {x['recall']:.3f}")
        print("  new roles, on-net persons: " + ", ".join(f"{k} {100 * v:.1f}%" for k, v in r["roles_on_net"].items()))
        print(f"  score: ties at max {r['score']['ties_at_max']}, ties in top 1% {r['score']['ties_in_top_1pct']} "
              f"of {r['score']['top_1pct']}")
    if "timing" in res:
        r = res["timing"]
        print(f"\nspeed on a planted graph of {r['subscribers']:,} subscribers, {r['contacts']:,} contacts: "
              f"bellwether_scores {r['bellwether_scores_s']} s, assign_roles {r['assign_roles_s']} s "
              f"(bellwethers {100 * r['bellwether_share']:.1f}%, ties at max {r['ties_at_max']}, "
              f"ties in top 1% {r['ties_in_top_1pct']})")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--realdata", type=Path, default=None, help="folder with copenhagen_calls_sms/ (default "
                    "BELLWETHER_REALDATA or ../shared/realdata)")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--synthetic", type=int, default=0, metavar="N",
                    help="also score a generated operator of N subscribers against its planted bellwethers")
    ap.add_argument("--cache", type=Path, default=Path("/tmp/bellwether-bench"),
                    help="where the generated operator is kept between runs")
    ap.add_argument("--time-at", type=int, default=0, metavar="N",
                    help="also time the score and roles on a planted graph of N subscribers")
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    a = ap.parse_args(argv)
    res = evaluate_all(a.realdata, seed=a.seed, synthetic=a.synthetic, cache=a.cache, time_at=a.time_at)
    if a.json:
        print(json.dumps(res, indent=2, default=float))
    else:
        _print(res)


if __name__ == "__main__":
    main()

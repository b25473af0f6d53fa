"""Churn scoring quality on data with known truth: lift and AUC of every score, and the targets.

Two sources of data:

* ``--source generator`` (default): ``bellwether generate`` writes a synthetic operator with
  planted communities and churn contagion; ``bellwether build`` loads it into a workspace
  (cached under ``--cache``), and the contact graphs are built in memory as of the operator's
  ``suggested_as_of`` and, for the training snapshot, as of ``as_of - horizon``.  The
  truth file gives the labels; the generator's own hazards, recomputed from its seed, give
  the ceiling (the lift of a score that knew the true hazard);
* ``--source planted``: the self-contained simulation below (a community graph, a baseline
  hazard from low ARPU and short tenure, and each churned strong tie multiplying the hazard
  by ``contagion`` with a ``decay_days`` decay, carried by the subscriber's outgoing calls).

Scores are judged against churn in ``(as_of, as_of + horizon]`` over the on-net persons not
churned before ``as_of``.  Targets: the network model's lift at 10 % is at least 1.3 times the
non-network baseline's, and its lift at 5 % at least twice plain spreading activation's.

Run::

    python -m bench.eval_churn --subscribers 100000
    python -m bench.eval_churn --subscribers 100000 --contagion 3
    python -m bench.eval_churn --source planted --subscribers 100000
    flock /tmp/bellwether-heavy.lock python -m bench.eval_churn --source planted --subscribers 1000000 --mean-degree 24
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bellwether.algorithms.churn import score_churn, timeline
from bellwether.algorithms.evaluation.ranking import ranking_table
from bellwether.graph.contact_graph import ContactGraph

TARGETS = {"lift_10_network_over_baseline": 1.3, "lift_5_network_over_sa": 2.0}
METHODS = {
    "network model": "churn_risk",
    "baseline (no network)": "churn_risk_baseline",
    "spreading activation": "spreading_activation",
    "contagion PPR": "contagion_score",
}


# --- self-contained planted-contagion simulation --------------------------------------------------
@dataclass
class Planted:
    graph: ContactGraph  # records in [as_of - window, as_of)
    history: ContactGraph  # records in [t0 - window, t0)
    as_of: np.datetime64
    churn_date: np.ndarray  # datetime64[D], every churn of the simulation (past and future)
    community: np.ndarray
    base_hazard: np.ndarray  # daily baseline hazard (non-network)
    multiplier: np.ndarray  # contagion multiplier of the hazard on the as_of day


def _edges(n: int, mean_degree: float, mixing: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    sizes = rng.integers(5, 41, size=n // 5 + 10)
    sizes = sizes[: int(np.searchsorted(np.cumsum(sizes), n)) + 1]
    sizes[-1] -= int(sizes.sum()) - n
    community = np.repeat(np.arange(len(sizes)), sizes)
    rng.shuffle(community)
    order = np.argsort(community, kind="stable")
    start = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    k_in = rng.poisson(mean_degree * (1 - mixing) / 2, n)
    k_out = rng.poisson(mean_degree * mixing / 2, n)
    src_in = np.repeat(np.arange(n), k_in)
    c = community[src_in]
    dst_in = order[start[c] + (rng.random(len(c)) * sizes[c]).astype(np.int64)]
    src_out = np.repeat(np.arange(n), k_out)
    dst_out = rng.integers(0, n, len(src_out))
    src, dst = np.concatenate([src_in, src_out]), np.concatenate([dst_in, dst_out])
    lo, hi = np.minimum(src, dst), np.maximum(src, dst)
    key = np.unique(lo[lo != hi] * n + hi[lo != hi])
    return np.column_stack([key // n, key % n]), community


def planted_churn(
    n: int = 100_000,
    *,
    seed: int = 42,
    mean_degree: float = 12.0,
    mixing: float = 0.2,
    monthly_churn: float = 0.02,
    contagion: float = 1.8,
    decay_days: float = 30.0,
    off_net_share: float = 0.15,
    days_before: int = 120,
    horizon_days: int = 30,
    window_days: int = 30,
) -> Planted:
    """Simulate daily churn with a planted contagion and aggregate the calls into two contact graphs."""
    rng = np.random.default_rng(seed)
    edges, community = _edges(n, mean_degree, mixing, rng)
    a, b = edges[:, 0], edges[:, 1]
    m = len(a)
    on_net = rng.random(n) >= off_net_share
    arpu = np.round(rng.lognormal(np.log(60), 0.6, n), 2)
    tenure = np.minimum(rng.exponential(30, n), 240).astype(np.int32) + 1
    plan = np.where(arpu > 80, "postpaid", "prepaid")
    region = rng.choice(np.array(["north", "south", "east", "west", "central"]), n)
    risk = 1.0 * (np.log(arpu) < np.log(60) - 0.3) + 0.8 * (tenure < 12) - 0.5 * (plan == "postpaid")
    base = np.exp(risk)
    base *= monthly_churn / 30.0 / base[on_net].mean()
    # directed daily call rates; a strong tie i -> j is in the top 30 % of outgoing rates
    rate_ab = rng.lognormal(np.log(0.25), 1.0, m)
    rate_ba = rate_ab * rng.lognormal(0.0, 0.5, m)
    strong_cut = np.quantile(np.concatenate([rate_ab, rate_ba]), 0.7)
    strong_ab, strong_ba = rate_ab >= strong_cut, rate_ba >= strong_cut
    start = np.datetime64("2024-01-01")
    total_days = days_before + horizon_days
    churn_day = np.full(n, np.iinfo(np.int64).max)
    multiplier = np.ones(n)
    for d in range(total_days):
        gone = churn_day < d
        decay = np.where(gone, np.log1p((contagion - 1.0) * np.exp(-(d - np.minimum(churn_day, d)) / decay_days)), 0.0)
        # i's hazard rises with churned j it calls strongly (i -> j): a-side uses strong_ab, b-side strong_ba
        log_mult = np.bincount(a, strong_ab * decay[b], n) + np.bincount(b, strong_ba * decay[a], n)
        alive = on_net & (churn_day == np.iinfo(np.int64).max)
        hit = alive & (rng.random(n) < base * np.exp(log_mult))
        churn_day[hit] = d
        if d == days_before:
            multiplier = np.exp(log_mult)
    churn_date = np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")
    churned = churn_day < total_days
    churn_date[churned] = start + churn_day[churned]
    as_of = start + np.timedelta64(days_before, "D")
    ids = np.array([f"{i:016x}" for i in range(n)], dtype=object)

    def subscribers(cut: np.datetime64) -> pd.DataFrame:
        months = tenure - (as_of - cut).astype(int) // 30
        return pd.DataFrame({
            "vid": np.arange(n), "id": ids, "on_net": on_net, "kind": "person",
            "plan": np.where(on_net, plan, None), "arpu": np.where(on_net, arpu, np.nan),
            "tenure_months": np.where(on_net, np.maximum(months, 0), 0).astype(np.int32),
            "region": np.where(on_net, region, None),
            "status": np.where(on_net, np.where(churned, "churned", "active"), None),
            "churn_date": pd.to_datetime(churn_date),  # the CRM extract knows every churn, future included
        })

    def window(cut: np.datetime64) -> ContactGraph:
        lo_day = int((cut - start).astype(int)) - window_days
        hi_day = lo_day + window_days
        end_a = np.clip(np.minimum(churn_day[a], churn_day[b]), lo_day, hi_day)
        active = end_a - lo_day
        calls_ab = rng.poisson(rate_ab * active)
        calls_ba = rng.poisson(rate_ba * active)
        sms_ab = rng.poisson(0.3 * rate_ab * active)
        sms_ba = rng.poisson(0.3 * rate_ba * active)
        events = calls_ab + calls_ba + sms_ab + sms_ba
        keep = events > 0
        sec_ab = (calls_ab * rng.exponential(120, m)).astype(np.int64)
        sec_ba = (calls_ba * rng.exponential(120, m)).astype(np.int64)
        n_ab, n_ba = calls_ab + sms_ab, calls_ba + sms_ba
        recip = 1.0 - np.abs(n_ab - n_ba) / np.maximum(events, 1)
        weight = np.log1p((sec_ab + sec_ba) / 60.0) * (0.5 + 0.5 * recip) + 0.1 * np.log1p(sms_ab + sms_ba)
        first = (start + lo_day).astype("datetime64[s]")
        last = (start + end_a).astype("datetime64[s]") - rng.integers(1, 86_400 * 2, m).astype("timedelta64[s]")
        k = keep
        g = ContactGraph.from_edges(
            edges[k], weight[k], n=n, subscribers=subscribers(cut),
            calls_ab=calls_ab[k].astype(np.int32), calls_ba=calls_ba[k].astype(np.int32),
            seconds_ab=sec_ab[k], seconds_ba=sec_ba[k],
            sms_ab=sms_ab[k].astype(np.int32), sms_ba=sms_ba[k].astype(np.int32),
            first_contact=np.full(int(k.sum()), first), last_contact=np.maximum(last[k], first),
            active_days=np.minimum(active[k], events[k]).astype(np.int32),
            reciprocity=recip[k],
        )
        g.info = {"as_of": str(cut), "window_days": window_days}
        return g

    t0 = as_of - np.timedelta64(horizon_days, "D")
    return Planted(window(as_of), window(t0), as_of, churn_date, community, base, multiplier)


# --- evaluation -------------------------------------------------------------------------------------
def evaluate_scores(scores: pd.DataFrame, churn_date: np.ndarray, as_of: Any, horizon_days: int,
                    extra: dict[str, np.ndarray] | None = None) -> pd.DataFrame:
    """AUC and lifts of each score over the scored subscribers, judged on churn in (as_of, as_of + h].

    ``extra`` adds named score arrays (one value per subscriber), e.g. the simulation's true hazards.
    """
    scored = scores["churn_risk"].notna().to_numpy() | scores["spreading_activation"].notna().to_numpy()
    d = np.asarray(churn_date, dtype="datetime64[D]")
    scored &= ~(d == timeline.to_day(as_of))  # churn on as_of itself is neither before nor in the window
    y = timeline.evaluation_labels(d, as_of, horizon_days)[scored]
    named = {name: scores.loc[scored, col].to_numpy() for name, col in METHODS.items()}
    named.update({name: np.asarray(v)[scored] for name, v in (extra or {}).items()})
    table = ranking_table(y, named)
    table.attrs.update(population=int(scored.sum()), positives=int(y.sum()))
    return table


def ratios(table: pd.DataFrame) -> dict[str, float]:
    t = table.set_index("score")
    return {
        "lift_10_network_over_baseline": float(t.loc["network model", "lift_10"] / t.loc["baseline (no network)", "lift_10"]),
        "lift_5_network_over_sa": float(t.loc["network model", "lift_5"] / t.loc["spreading activation", "lift_5"]),
    }


def print_report(table: pd.DataFrame, r: dict[str, float], info: dict[str, Any]) -> None:
    print(" ".join(f"{k}={v}" for k, v in info.items()))
    print(f"population={table.attrs['population']} churners_in_horizon={table.attrs['positives']}")
    print(f"{'score':<30}{'AUC':>7}{'lift@1%':>9}{'lift@5%':>9}{'lift@10%':>10}")
    for row in table.itertuples():
        print(f"{row.score:<30}{row.auc:7.3f}{row.lift_1:9.2f}{row.lift_5:9.2f}{row.lift_10:10.2f}")
    for k, v in r.items():
        ok = "met" if v >= TARGETS[k] else "MISSED"
        print(f"{k:<34}{v:6.2f}   target >= {TARGETS[k]:.1f}  {ok}")


def print_ceiling_and_json(table: pd.DataFrame, r: dict[str, float], info: dict[str, Any], metrics: dict[str, Any],
                           as_json: bool) -> None:
    """The lift@10% ratio a score knowing the true hazards reaches (when the table has them), then the JSON dump."""
    t = table.set_index("score")
    if "ceiling: true hazard" in t.index:
        print(f"{'ceiling of lift_10 ratio (true hazards)':<34}"
              f"{t.loc['ceiling: true hazard', 'lift_10'] / t.loc['ceiling: true baseline hazard', 'lift_10']:6.2f}")
    if as_json:
        print(json.dumps({"info": info, "table": table.to_dict("records"), "ratios": r, "metrics": metrics},
                         default=str, indent=2))


def run_planted(args: argparse.Namespace) -> None:
    started = time.perf_counter()
    p = planted_churn(args.subscribers, seed=args.seed, horizon_days=args.horizon_days, mean_degree=args.mean_degree)
    made = time.perf_counter() - started
    started = time.perf_counter()
    res = score_churn(p.graph, p.as_of, history=p.history, horizon_days=args.horizon_days, seed=args.seed,
                      model=args.model)
    took = time.perf_counter() - started
    oracle = {"ceiling: true hazard": p.base_hazard * p.multiplier, "ceiling: true baseline hazard": p.base_hazard}
    table = evaluate_scores(res.scores, p.churn_date, p.as_of, args.horizon_days, extra=oracle)
    info = {"source": "planted", "subscribers": args.subscribers, "contacts": p.graph.n_contacts,
            "as_of": str(p.as_of), "model": args.model, "simulate_s": round(made, 1), "score_churn_s": round(took, 1),
            **{f"{k}_s": v for k, v in res.metrics["timings"].items()}}
    r = ratios(table)
    print_report(table, r, info)
    print_ceiling_and_json(table, r, info, res.metrics, args.json)


# --- the synthetic operator of `bellwether generate` ------------------------------------------------------
BENCH_KEY = "eval-churn-bench-key-0123456789"  # pseudonymisation key of the bench workspaces (not a secret)


def generator_ceiling(outdir: Path) -> pd.DataFrame | None:
    """True daily hazards at ``suggested_as_of`` of a generated operator's customers, or None.

    Re-runs the generator's population, ties and churn steps from its seed (they draw from
    their own random streams) and returns ``msisdn``, ``true_hazard`` (baseline times the
    planted contagion multiplier) and ``baseline_hazard``: the best any score could do.
    Depends on the generator's internals, so any mismatch gives None.
    """
    try:
        from bellwether.loaders.synthetic import numbers as nb
        from bellwether.loaders.synthetic.churn import ChurnModel, baseline_hazard, contagion_matrix, simulate_churn
        from bellwether.loaders.synthetic.population import build_population
        from bellwether.loaders.synthetic.ties import build_ties

        op = json.loads((outdir / "operator.json").read_text())
        n, days = int(op["parameters"]["subscribers"]), int(op["days"])
        streams = [np.random.default_rng(s) for s in np.random.SeedSequence(op["seed"]).spawn(7)]
        rng_pop, rng_ties, rng_churn, _, rng_num = streams[:5]
        fields = ChurnModel.__dataclass_fields__
        model = ChurnModel(**{k: v for k, v in op["planted"]["churn"].items() if k in fields})
        pop = build_population(rng_pop, n)
        ties = build_ties(rng_ties, pop)
        on_idx = np.flatnonzero(pop.on_net)
        h0 = baseline_hazard(pop, on_idx, model)
        S = contagion_matrix(ties, pop, on_idx, model.strong_rate)
        churn_on = simulate_churn(rng_churn, h0, S, days, model)
        mob = nb.mobile_numbers(rng_num, own=int(on_idx.size), other=int(pop.n_persons - on_idx.size),
                                telemarketing=max(3, n // 4000))
        t = int((np.datetime64(op["suggested_as_of"]) - np.datetime64(op["start"])).astype(int))
        fade = np.exp(-1.0 / model.decay_days)
        w = np.where((churn_on >= 0) & (churn_on < t), fade ** (t - churn_on.astype(np.float64)), 0.0)
        exposure = S @ w
        return pd.DataFrame({"msisdn": mob["own"].astype(str),
                             "true_hazard": h0 * model.contagion ** np.minimum(exposure, 6.0),
                             "baseline_hazard": h0})
    except Exception as exc:  # a diagnostic only: the bench goes on without it
        print(f"ceiling unavailable: {type(exc).__name__}: {exc}", file=sys.stderr)
        return None


@dataclass
class GeneratorCase:
    """A generated operator, its workspace and the churn scores judged against its truth."""

    root: Path
    operator: dict[str, Any]
    as_of: np.datetime64
    graph: ContactGraph
    history: ContactGraph
    result: Any  # ChurnResult
    table: pd.DataFrame
    info: dict[str, Any]


def generator_root(cache: str | Path, subscribers: int, seed: int, contagion: float = 1.8) -> Path:
    """Where the operator of these parameters is cached (the default contagion keeps the old name)."""
    tag = "" if contagion == 1.8 else f"-x{contagion:g}"
    return Path(cache) / f"gen-{subscribers}-{seed}{tag}"


def generator_case(subscribers: int, seed: int, *, contagion: float = 1.8, cache: str | Path = ".cache/eval_churn",
                   horizon_days: int = 30, model: str = "logistic") -> GeneratorCase:
    """Generate (or reuse) an operator with ``--contagion``, build it, score churn and judge the scores."""
    from bellwether.algorithms.evaluation.truth import read_truth
    from bellwether.graph.build import build_contacts
    from bellwether.loaders.pseudonym import pseudonymize

    root = generator_root(cache, subscribers, seed, contagion)
    env = {**os.environ, "BELLWETHER_PSEUDONYM_KEY": BENCH_KEY}
    started = time.perf_counter()
    if not (root / "operator.json").exists():
        subprocess.run([sys.executable, "-m", "bellwether.cli", "generate", str(root), "--subscribers", str(subscribers), "--seed",
                        str(seed), "--contagion", str(contagion), "-q"], check=True, env=env)
    op = json.loads((root / "operator.json").read_text())
    as_of = timeline.to_day(op["suggested_as_of"])
    ws = root / "workspace"
    if not (ws / "graph" / "contacts.parquet").exists():
        subprocess.run([sys.executable, "-m", "bellwether.cli", "build", str(root / "cdr"), "--subscribers", str(root / "subscribers.csv"),
                        "--workspace", str(ws), "--as-of", str(as_of), "-q"], check=True, env=env, stdout=subprocess.DEVNULL)
    made = time.perf_counter() - started
    started = time.perf_counter()
    graph = build_contacts(ws, str(as_of), window_days=30)
    history = build_contacts(ws, str(as_of - horizon_days * timeline.DAY), window_days=30)
    built = time.perf_counter() - started
    started = time.perf_counter()
    res = score_churn(graph, as_of, history=history, horizon_days=horizon_days, seed=seed, model=model)
    took = time.perf_counter() - started
    key = BENCH_KEY.encode()
    truth = read_truth(root / "truth.csv", key=key).set_index("id")
    ids = graph.subscribers["id"].astype(str)
    churn_date = truth["churn_date"].reindex(ids).to_numpy("datetime64[ns]").astype("datetime64[D]")
    extra = None
    ceiling = generator_ceiling(root)
    if ceiling is not None:
        ceiling.index = pseudonymize(ceiling["msisdn"].tolist(), key)
        c = ceiling.reindex(ids)
        extra = {"ceiling: true hazard": c["true_hazard"].to_numpy(),
                 "ceiling: true baseline hazard": c["baseline_hazard"].to_numpy()}
    table = evaluate_scores(res.scores, churn_date, as_of, horizon_days, extra=extra)
    info = {"source": "generator", "subscribers": subscribers, "contagion": contagion, "graph_subscribers": graph.n_subscribers,
            "contacts": graph.n_contacts, "as_of": str(as_of), "model": model, "generate_build_s": round(made, 1),
            "build_contacts_s": round(built, 1), "score_churn_s": round(took, 1),
            **{f"{k}_s": v for k, v in res.metrics["timings"].items()}}
    return GeneratorCase(root, op, as_of, graph, history, res, table, info)


def run_generator(args: argparse.Namespace) -> None:
    case = generator_case(args.subscribers, args.seed, contagion=args.contagion, cache=args.cache,
                          horizon_days=args.horizon_days, model=args.model)
    table, info, op = case.table, case.info, case.operator
    r = ratios(table)
    print_report(table, r, info)
    m = op.get("measured", {})
    measured = m.get("contagion_on_planted_ties") or m.get("contagion") or {}
    if measured:
        total = measured.get("exposed_days", 0) + measured.get("unexposed_days", 0)
        print(f"planted contagion as measured by the generator: rate ratio {measured.get('rate_ratio')} on "
              f"{measured.get('exposed_days', 0) / max(total, 1):.1%} of customer-days")
    print_ceiling_and_json(table, r, info, case.result.metrics, args.json)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--source", choices=("planted", "generator"), default="generator")
    ap.add_argument("--cache", default=".cache/eval_churn", help="generator source: where operators and workspaces go")
    ap.add_argument("--subscribers", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--horizon-days", type=int, default=30)
    ap.add_argument("--mean-degree", type=float, default=12.0, help="planted source: mean contacts per subscriber")
    ap.add_argument("--contagion", type=float, default=1.8, help="generator source: planted hazard multiplier per churned tie")
    ap.add_argument("--model", choices=("logistic", "gbm"), default="logistic")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    (run_generator if args.source == "generator" else run_planted)(args)


if __name__ == "__main__":
    main()

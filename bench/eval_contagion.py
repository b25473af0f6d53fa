"""Does the contagion test find the contagion the generator planted, and only then?

For each planted strength (``bellwether generate --contagion M``: the hazard multiplier of one
just-churned strong tie, fading over a month; x1 plants none) and each seed, an operator is
generated and built (cached under ``--cache``, shared with ``bench.eval_churn``), the contact
graphs are built as of ``suggested_as_of`` and one horizon earlier (as ``bellwether analyze``
does), and :func:`bellwether.algorithms.churn.contagion.contagion_test` runs on them.  Printed per operator:
planted x, the estimated per-contact hazard ratio with its 95 % interval, whether the interval
covers the planted value, the time-shuffled null's median and the permutation p-value, whether
contagion is called (interval above 1 and p < 0.05), the 30-day window ratio; then the churn
model's lift@10% against the true-hazard ceiling (:mod:`bench.eval_churn`).

Targets: the interval covers the planted value; x1 is never called contagion; the network
model's lift@10% ratio (network / baseline) reaches at least 95 % of the ceiling's.

Run::

    python -m bench.eval_contagion --subscribers 30000 --seeds 1 2
    flock /tmp/bellwether-heavy.lock python -m bench.eval_contagion --subscribers 100000 --seeds 1 2 3
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

from bellwether.algorithms.churn.contagion import contagion_test
from bench.eval_churn import generator_case, ratios

STRENGTHS = (1.0, 1.8, 3.0, 5.0)


def _f(x: float | None, spec: str = ".2f") -> str:
    return "–" if x is None or not np.isfinite(x) else format(x, spec)


def evaluate(subscribers: int, seed: int, contagion: float, *, cache: str, permutations: int,
             min_rate: float) -> dict:
    case = generator_case(subscribers, seed, contagion=contagion, cache=cache)
    started = time.perf_counter()
    m = contagion_test(case.graph, case.as_of, history=case.history, seed=seed, permutations=permutations,
                       min_rate=min_rate).metrics
    took = time.perf_counter() - started
    t = case.table.set_index("score")
    r = ratios(case.table)
    row = {"planted": contagion, "seed": seed, "test_s": round(took, 1), "measured": m.get("measured", False),
           "verdict": m.get("verdict")}
    if m.get("measured"):
        row.update(hr=m["hr"], ci_low=m["ci_low"], ci_high=m["ci_high"], covers=m["ci_low"] <= contagion <= m["ci_high"],
                   null_median=m["null_median"], p=m["p_value"], called=m["called"],
                   window_hr=m["hr_window"]["hr"], window_ci=(m["hr_window"]["ci_low"], m["hr_window"]["ci_high"]),
                   exposed_events=m["exposed_events"], unexposed_events=m["unexposed_events"])
    row["lift_ratio"] = r["lift_10_network_over_baseline"]
    row["network_lift_10"] = float(t.loc["network model", "lift_10"])
    if "ceiling: true hazard" in t.index:
        row["ceiling_lift_10"] = float(t.loc["ceiling: true hazard", "lift_10"])
        row["ceiling_ratio"] = float(t.loc["ceiling: true hazard", "lift_10"] / t.loc["ceiling: true baseline hazard", "lift_10"])
    measured = case.operator.get("measured", {}).get("contagion_on_planted_ties") or {}
    row["generator_rate_ratio"] = measured.get("rate_ratio")
    return row


def print_table(rows: list[dict]) -> None:
    print(f"{'planted':>7} {'seed':>4} {'HR':>6} {'95% CI':>13} {'covers':>6} {'null':>6} {'p':>6} {'called':>6} "
          f"{'30-day HR [CI]':>19} {'events e/u':>11} | {'lift10 net':>10} {'ceiling':>7} {'share':>6} "
          f"{'ratio':>6} {'ceil.ratio':>10} {'share':>6} {'test s':>6}")
    for r in rows:
        if r["measured"]:
            test = (f"{_f(r['hr']):>6} {'[' + _f(r['ci_low']) + ', ' + _f(r['ci_high']) + ']':>13} "
                    f"{'yes' if r['covers'] else 'NO':>6} {_f(r['null_median']):>6} {_f(r['p'], '.3f'):>6} "
                    f"{'yes' if r['called'] else 'no':>6} "
                    f"{_f(r['window_hr']) + ' [' + _f(r['window_ci'][0]) + ', ' + _f(r['window_ci'][1]) + ']':>19} "
                    f"{str(r['exposed_events']) + '/' + str(r['unexposed_events']):>11}")
        else:
            test = f"{'not measured':<80}"
        ceil = r.get("ceiling_lift_10")
        cr = r.get("ceiling_ratio")
        lift = (f"{_f(r['network_lift_10']):>10} {_f(ceil):>7} "
                f"{_f(r['network_lift_10'] / ceil if ceil else None, '.0%'):>6} {_f(r['lift_ratio']):>6} {_f(cr):>10} "
                f"{_f(r['lift_ratio'] / cr if cr else None, '.0%'):>6} {r['test_s']:>6.1f}")
        print(f"{r['planted']:>7g} {r['seed']:>4} {test} | {lift}")
    measured = [r for r in rows if r["measured"]]
    covered = sum(r["covers"] for r in measured)
    false_calls = sum(r["called"] for r in measured if r["planted"] == 1.0)
    calls = {m: f"{sum(r['called'] for r in measured if r['planted'] == m)}/{sum(r['planted'] == m for r in measured)}"
             for m in sorted({r["planted"] for r in measured})}
    print(f"intervals covering the planted value: {covered}/{len(measured)}; x1 called contagion: {false_calls}; "
          f"called per planted x: {calls}")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--subscribers", type=int, default=30_000)
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--strengths", type=float, nargs="+", default=list(STRENGTHS))
    ap.add_argument("--permutations", type=int, default=199)
    ap.add_argument("--min-rate", type=float, default=2.0, help="calls + SMS per 30 days that make a contact close")
    ap.add_argument("--cache", default=".cache/eval_churn")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    rows = []
    for m in args.strengths:
        for seed in args.seeds:
            rows.append(evaluate(args.subscribers, seed, m, cache=args.cache, permutations=args.permutations,
                                 min_rate=args.min_rate))
            r = rows[-1]
            print(f"  x{m:g} seed {seed}: {r['verdict']}", flush=True)
    print(f"subscribers={args.subscribers} permutations={args.permutations} min_rate={args.min_rate}")
    print_table(rows)
    if args.json:
        print(json.dumps(rows, indent=2, default=str))


if __name__ == "__main__":
    main()

"""Influence-maximisation benchmark: IMM seeds against top-k PageRank and degree seeds.

For each graph size it prints, from one run: the graph size, the IMM seed
selection time, the number and mean size of RR sets, the Monte-Carlo spread of
the IMM, PageRank and degree seeds with 95% intervals, the ratios, the total
time and the peak RSS of the process.

The graph is the built workspace when ``--workspace`` is given (``ContactGraph.load``),
otherwise a synthetic contact graph (:func:`synthetic_contact_graph`):
communities with sizes from families to a few hundred, heavy-tailed
(power-law, exponent 2.5) numbers of contacts, stronger ties inside
communities than across (log-normal weights), and per-direction calls,
SMS and seconds driven by each subscriber's initiative.

Run::

    flock /tmp/bellwether-heavy.lock python -m bench.bench_influence --sizes 100000 1000000
"""

from __future__ import annotations

import argparse
import resource
import time

import numpy as np
import pandas as pd

from bellwether.algorithms.influence import select_seeds
from bellwether.graph.contact_graph import ContactGraph


def _pair_stubs(owner: np.ndarray, group: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Configuration model: pair stubs at random inside each group; return (m, 2) endpoints."""
    order = np.lexsort((rng.random(len(owner)), group))
    owner, group = owner[order], group[order]
    left = np.arange(0, len(owner) - 1, 2)
    left = left[group[left] == group[left + 1]]
    return np.column_stack([owner[left], owner[left + 1]])


def synthetic_contact_graph(
    n: int, mean_degree: float = 23.0, mixing: float = 0.25, *, exponent: float = 2.5, seed: int = 0
) -> ContactGraph:
    """A synthetic weighted contact graph with communities, heavy-tailed degrees and directed activity.

    Parameters
    ----------
    n : int
        Subscribers.
    mean_degree : float
        Target mean number of contacts (self-loops and duplicates are removed).
    mixing : float
        Share of each subscriber's contacts outside its community.
    exponent : float
        Power-law exponent of the expected-degree distribution (Chung-Lu style).
    seed : int
    """
    rng = np.random.default_rng(seed)
    # community sizes ~ s^-2 on [4, 400]
    u = rng.random(n)
    a, lo, hi = -1.0, 4.0, 400.0
    sizes = np.floor(((hi**a - lo**a) * u + lo**a) ** (1 / a)).astype(np.int64)
    sizes = sizes[: int(np.searchsorted(np.cumsum(sizes), n)) + 1]
    sizes[-1] -= int(sizes.sum()) - n
    membership = rng.permutation(np.repeat(np.arange(len(sizes)), sizes))
    # heavy-tailed expected degrees: Pareto with exponent, min chosen for the mean, capped
    xmin = mean_degree * (exponent - 2.0) / (exponent - 1.0)
    deg = xmin * (1.0 - rng.random(n)) ** (-1.0 / (exponent - 1.0))
    deg = np.minimum(deg, np.sqrt(n) * 5.0)
    size_of = sizes[membership]
    internal = np.minimum(np.round(deg * (1 - mixing)), size_of - 1).astype(np.int64)
    external = np.round(deg - internal).astype(np.int64)
    own_in = np.repeat(np.arange(n), internal)
    own_out = np.repeat(np.arange(n), external)
    e = np.concatenate(
        [_pair_stubs(own_in, membership[own_in], rng), _pair_stubs(own_out, np.zeros(len(own_out), np.int64), rng)]
    )
    lo_v, hi_v = np.minimum(e[:, 0], e[:, 1]), np.maximum(e[:, 0], e[:, 1])
    key = np.unique((lo_v * n + hi_v)[lo_v != hi_v])
    e = np.column_stack([key // n, key % n])
    m = len(e)
    same = membership[e[:, 0]] == membership[e[:, 1]]
    weight = rng.lognormal(np.where(same, 1.0, 0.2), 0.8)
    # directed activity: events ~ Poisson(3 w), share initiated by a from both parties' initiative
    initiative = rng.beta(2.0, 2.0, size=n)
    share = initiative[e[:, 0]] / (initiative[e[:, 0]] + initiative[e[:, 1]])
    calls = rng.poisson(3.0 * weight) + 1
    sms = rng.poisson(1.0 * weight)
    calls_ab = rng.binomial(calls, share)
    sms_ab = rng.binomial(sms, share)
    mean_len = rng.lognormal(4.0, 0.8, size=m)
    g = ContactGraph.from_edges(
        e,
        weight,
        n=n,
        calls_ab=calls_ab.astype(np.int32),
        calls_ba=(calls - calls_ab).astype(np.int32),
        seconds_ab=np.round(calls_ab * mean_len).astype(np.int64),
        seconds_ba=np.round((calls - calls_ab) * mean_len).astype(np.int64),
        sms_ab=sms_ab.astype(np.int32),
        sms_ba=(sms - sms_ab).astype(np.int32),
    )
    g.info["community"] = membership
    return g


def _peak_rss_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def run(graph: ContactGraph, label: str, k: int, epsilon: float, n_simulations: int, probability: str) -> dict:
    t0 = time.perf_counter()
    res = select_seeds(graph, k, epsilon=epsilon, n_simulations=n_simulations, probability=probability)
    m = res.metrics
    return {
        "graph": label,
        "subscribers": graph.n_subscribers,
        "contacts": graph.n_contacts,
        "model": probability,
        "k": m["k"],
        "eps": epsilon,
        "select_s": round(m["seconds_select"], 1),
        "rr_sets": m["n_rr_sets"],
        "rr_sets_drawn": m["n_rr_sets_total"],
        "rr_mean": round(m["mean_rr_set_size"], 1),
        "imm_spread": f"{m['expected_spread']:.0f} [{m['ci_low']:.0f}, {m['ci_high']:.0f}]",
        "pagerank_spread": f"{m['pagerank_spread']:.0f} [{m['pagerank_ci_low']:.0f}, {m['pagerank_ci_high']:.0f}]",
        "degree_spread": f"{m['degree_spread']:.0f} [{m['degree_ci_low']:.0f}, {m['degree_ci_high']:.0f}]",
        "ratio_pr": round(m["spread_ratio_vs_pagerank"], 3),
        "ratio_deg": round(m["spread_ratio_vs_degree"], 3),
        "overlap_pr": m.get("pagerank_overlap"),
        "total_s": round(time.perf_counter() - t0, 1),
        "peak_rss_gib": round(_peak_rss_gib(), 2),
    }


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="*", default=[100_000, 1_000_000])
    ap.add_argument("--workspace", help="benchmark the built graph of this workspace instead")
    ap.add_argument("--k", type=int, default=50)
    ap.add_argument("--epsilon", type=float, default=0.3)
    ap.add_argument("--simulations", type=int, default=1000)
    ap.add_argument("--models", nargs="*", default=["tie_strength"])
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    rows = []
    graphs = []
    if args.workspace:
        graphs.append((args.workspace, lambda: ContactGraph.load(args.workspace)))
    else:
        for n in args.sizes:
            graphs.append((f"synthetic-{n}", lambda n=n: synthetic_contact_graph(n, seed=args.seed)))
    for label, make in graphs:
        t = time.perf_counter()
        g = make()
        print(f"# {label}: {g.n_subscribers} subscribers, {g.n_contacts} contacts, built in {time.perf_counter() - t:.1f}s", flush=True)
        for model in args.models:
            rows.append(run(g, label, args.k, args.epsilon, args.simulations, model))
            print(pd.DataFrame(rows[-1:]).to_string(index=False), flush=True)
        del g
    print()
    with pd.option_context("display.width", 250, "display.max_columns", 30):
        print(pd.DataFrame(rows).to_string(index=False))


if __name__ == "__main__":
    main()

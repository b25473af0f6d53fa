"""Community detection on real contact graphs with known groups: the default against the usual methods.

Run: ``python -m bench.eval_communities_real`` (``--realdata DIR``, or ``BELLWETHER_REALDATA``;
default ``../shared/realdata`` next to the repository; ``--seeds 5``; ``--synthetic`` adds generated
graphs with planted groups: LFR, a polblogs-like graph with hubs, the planted contact graph).

Graphs (``community_scores`` skips those whose data is missing, and says so):

- **primary school** (``primary_school/primary_school.tsv``; Stehlé et al. 2011, SocioPatterns):
  242 people, contacts aggregated over both days with the number of 20-second contacts as the
  weight; truth = the class (10 classes, the teachers one more group).
- **karate club** (networkx's ``karate_club_graph``, Zachary 1977): 34 members, weights as networkx
  gives them; truth = the club each member joined.
- **Copenhagen calls + SMS** (``copenhagen_calls_sms``; Sapiezynski et al. 2019): no truth; answered
  calls (duration > 0) and SMS per pair as the weight; reported for the number of communities, the
  singletons and the modularity only.

networkx's ``davis_southern_women_graph`` (its only labels are the two sides of the bipartite graph,
women and events, not groups) and ``les_miserables_graph`` (no labels) are left out.

Methods, each over ``--seeds`` seeds (mean): the default (``detect_communities()``, modularity at a
resolution chosen from the graph), Bellwether's modularity mode (``objective="modularity"``), the old
default (CPM 0.05), networkx's Louvain and igraph's Leiden on modularity (run to convergence).
Scores against the truth: NMI (arithmetic normalisation), AMI and ARI (scikit-learn).
"""

from __future__ import annotations

import argparse
import os
import random
import time
import warnings
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from bellwether.graph.contact_graph import ContactGraph

__all__ = ["community_scores", "load_graphs", "METHODS"]

REPO = Path(__file__).resolve().parents[1]


def default_realdata() -> Path:
    return Path(os.environ.get("BELLWETHER_REALDATA") or REPO.parent / "shared" / "realdata")


def _pairs_graph(a: np.ndarray, b: np.ndarray, n: int) -> ContactGraph:
    """One edge per unordered pair, weight = number of events between them."""
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    keep = lo != hi
    key, count = np.unique(lo[keep] * n + hi[keep], return_counts=True)
    return ContactGraph.from_edges(np.column_stack([key // n, key % n]), count.astype(np.float64), n=n)


def primary_school(realdata: Path) -> tuple[ContactGraph, np.ndarray] | None:
    path = realdata / "primary_school" / "primary_school.tsv"
    if not path.exists():
        return None
    df = pd.read_csv(path, sep="\t", header=None, names=["t", "i", "j", "ci", "cj"], dtype={"ci": str, "cj": str})
    people = pd.concat([df[["i", "ci"]].set_axis(["p", "c"], axis=1), df[["j", "cj"]].set_axis(["p", "c"], axis=1)])
    people = people.drop_duplicates("p").sort_values("p")
    index = pd.Series(np.arange(len(people)), index=people["p"].to_numpy())
    g = _pairs_graph(index[df["i"]].to_numpy(), index[df["j"]].to_numpy(), len(people))
    return g, people["c"].to_numpy()


def karate() -> tuple[ContactGraph, np.ndarray]:
    import networkx as nx

    k = nx.karate_club_graph()
    e = np.array(list(k.edges()))
    w = np.array([d.get("weight", 1.0) for _, _, d in k.edges(data=True)], dtype=np.float64)
    return ContactGraph.from_edges(e, w, n=k.number_of_nodes()), np.array([k.nodes[i]["club"] for i in k])


def copenhagen(realdata: Path) -> tuple[ContactGraph, None] | None:
    d = realdata / "copenhagen_calls_sms"
    if not (d / "calls.csv").exists() or not (d / "sms.csv").exists():
        return None
    calls = pd.read_csv(d / "calls.csv")
    sms = pd.read_csv(d / "sms.csv")
    ev = pd.concat([calls.loc[calls["duration"] > 0, ["from", "to"]], sms[["from", "to"]]])
    ids, inv = np.unique(ev[["from", "to"]].to_numpy().ravel(), return_inverse=True)
    inv = inv.reshape(-1, 2)
    return _pairs_graph(inv[:, 0], inv[:, 1], len(ids)), None


def synthetic_graphs() -> dict[str, tuple[ContactGraph, np.ndarray]]:
    """Generated graphs with planted groups, for the general case beside the real ones (``--synthetic``).

    - LFR benchmarks (networkx; Lancichinetti, Fortunato & Radicchi 2008) at mixing 0.3 and 0.5;
    - a polblogs-like graph: two groups of 586 and 636, heavy-tailed degrees (degree-corrected
      block model, lognormal propensities, in-group tie probability 10x the cross-group one);
    - the project's planted contact graph (``graph/synthetic/planted.py``, 20,000 subscribers, groups of 3-300).
    """
    import networkx as nx

    from bellwether.graph.synthetic.planted import planted_graph

    out: dict[str, tuple[ContactGraph, np.ndarray]] = {}
    for n, mu, avg, lo, hi in ((3000, 0.3, 15, 10, 60), (5000, 0.5, 20, 20, 100)):
        G = nx.LFR_benchmark_graph(n, 2.5, 1.5, mu, average_degree=avg, max_degree=5 * avg, min_community=lo,
                                   max_community=hi, seed=1)
        G.remove_edges_from(nx.selfloop_edges(G))
        truth = np.array([min(G.nodes[u]["community"]) for u in range(n)])
        out[f"LFR n={n} mu={mu}"] = (ContactGraph.from_edges(np.array(list(G.edges())), n=n), truth)
    rng = np.random.default_rng(1)
    sizes = (586, 636)
    n = sum(sizes)
    truth = np.repeat(np.arange(2), sizes)
    theta = rng.lognormal(0.0, 1.2, n)
    theta /= theta.mean()
    i, j = np.triu_indices(n, 1)
    p = np.where(truth[i] == truth[j], 0.04, 0.004) * theta[i] * theta[j]
    keep = rng.random(len(p)) < np.minimum(p, 1.0)
    out["polblogs-like (2 groups, hubs)"] = (ContactGraph.from_edges(np.column_stack([i[keep], j[keep]]), n=n), truth)
    g, truth = planted_graph(20_000, 20.0, 0.2, seed=42)
    out["planted contact graph 20k"] = (g, truth)
    return out


def load_graphs(realdata: str | Path) -> tuple[dict[str, tuple[ContactGraph, np.ndarray | None]], list[str]]:
    """The evaluation graphs found under ``realdata`` (plus networkx's karate club), and notes on those skipped."""
    realdata = Path(realdata)
    graphs: dict[str, tuple[ContactGraph, np.ndarray | None]] = {}
    notes = []
    school = primary_school(realdata)
    if school is None:
        notes.append(f"primary school skipped: {realdata / 'primary_school' / 'primary_school.tsv'} not found")
    else:
        graphs["primary school"] = school
    graphs["karate club"] = karate()
    cph = copenhagen(realdata)
    if cph is None:
        notes.append(f"Copenhagen skipped: {realdata / 'copenhagen_calls_sms'} not found")
    else:
        graphs["Copenhagen calls+SMS (no truth)"] = cph
    notes.append("davis_southern_women skipped: its only labels are the bipartite sides (women / events)")
    notes.append("les_miserables skipped: no labels")
    return graphs, notes


# --- methods: (graph, seed) -> labels per vertex ------------------------------------------------


def _bellwether(**kw) -> Callable[[ContactGraph, int], np.ndarray]:
    from bellwether.algorithms.community import detect_communities

    def run(g: ContactGraph, seed: int) -> np.ndarray:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return detect_communities(g, seed=seed, **kw).labels

    return run


def _nx_louvain(g: ContactGraph, seed: int) -> np.ndarray:
    import networkx as nx

    G = g.to_networkx()
    labels = np.zeros(g.n_subscribers, dtype=np.int64)
    for c, members in enumerate(nx.community.louvain_communities(G, weight="weight", seed=seed)):
        labels[list(members)] = c
    return labels


def _igraph_leiden(g: ContactGraph, seed: int) -> np.ndarray:
    import igraph as ig

    native = g.to_igraph(weight=None)
    ig.set_random_number_generator(random.Random(seed))
    try:
        part = native.community_leiden(objective_function="modularity", weights=list(g.weights()), n_iterations=-1)
    finally:
        ig.set_random_number_generator(random)
    return np.asarray(part.membership, dtype=np.int64)


METHODS: dict[str, Callable[[ContactGraph, int], np.ndarray]] = {
    "default (auto)": _bellwether(),
    "modularity mode": _bellwether(objective="modularity"),
    "CPM 0.05 (old default)": _bellwether(objective="cpm"),
    "networkx Louvain": _nx_louvain,
    "igraph Leiden (modularity)": _igraph_leiden,
}


def community_scores(realdata_dir: str | Path | None = None, *, seeds: int = 5, synthetic: bool = False) -> pd.DataFrame:
    """One row per graph and method: ``graph, n, method, communities, singletons, modularity, NMI, AMI, ARI,
    seconds`` (means over ``seeds`` seeds; label scores NaN on a graph without truth).

    ``synthetic`` adds the generated graphs of :func:`synthetic_graphs`.  ``df.attrs["notes"]`` lists
    the graphs skipped and why.
    """
    from sklearn.metrics import adjusted_mutual_info_score, adjusted_rand_score, normalized_mutual_info_score

    from bellwether.algorithms.community import modularity

    graphs, notes = load_graphs(realdata_dir if realdata_dir is not None else default_realdata())
    if synthetic:
        graphs.update(synthetic_graphs())
    rows = []
    for gname, (g, truth) in graphs.items():
        for mname, method in METHODS.items():
            per_seed = []
            for seed in range(seeds):
                t = time.perf_counter()
                labels = method(g, seed)
                sec = time.perf_counter() - t
                sizes = np.bincount(np.unique(labels, return_inverse=True)[1])
                rec = {"communities": len(sizes), "singletons": int((sizes == 1).sum()),
                       "modularity": modularity(g, labels), "seconds": sec}
                if truth is not None:
                    rec.update(NMI=normalized_mutual_info_score(truth, labels, average_method="arithmetic"),
                               AMI=adjusted_mutual_info_score(truth, labels), ARI=adjusted_rand_score(truth, labels))
                else:
                    rec.update(NMI=np.nan, AMI=np.nan, ARI=np.nan)
                per_seed.append(rec)
            mean = pd.DataFrame(per_seed).mean()
            rows.append({"graph": gname, "n": g.n_subscribers, "method": mname, **mean.to_dict(),
                         "one_community_runs": int(sum(r["communities"] == 1 for r in per_seed))})
    df = pd.DataFrame(rows)
    df.attrs["notes"] = notes
    return df


def targets(df: pd.DataFrame, margin: float = 0.02) -> pd.DataFrame:
    """Per labelled graph: the default's NMI against max(networkx Louvain, igraph Leiden) - ``margin``."""
    out = []
    for gname, part in df.dropna(subset=["NMI"]).groupby("graph", sort=False):
        by = part.set_index("method")["NMI"]
        ref = max(by.get("networkx Louvain", np.nan), by.get("igraph Leiden (modularity)", np.nan))
        out.append({"graph": gname, "default NMI": by["default (auto)"], "target (ref - 0.02)": ref - margin,
                    "met": bool(by["default (auto)"] >= ref - margin)})
    return pd.DataFrame(out)


def tolerance_table(graphs: dict[str, tuple[ContactGraph, np.ndarray | None]], tolerances, seeds: int) -> pd.DataFrame:
    """NMI (mean over ``seeds``) and chosen resolution (seed 0) of the default at each tolerance, per labelled graph."""
    from sklearn.metrics import normalized_mutual_info_score

    from bellwether.algorithms.community import detect_communities

    rows = []
    for gname, (g, truth) in graphs.items():
        if truth is None:
            continue
        row = {"graph": gname}
        for tol in tolerances:
            scores, chosen = [], None
            for seed in range(seeds):
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    res = detect_communities(g, seed=seed, tolerance=tol)
                chosen = res.metrics["resolution"] if chosen is None else chosen
                scores.append(normalized_mutual_info_score(truth, res.labels))
            row[f"tol {tol:g}"] = f"{np.mean(scores):.3f} (γ {chosen:g})"
        rows.append(row)
    return pd.DataFrame(rows)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--realdata", default=None, help="folder of the real data (default: $BELLWETHER_REALDATA or ../shared/realdata)")
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--synthetic", action="store_true", help="also generated graphs with planted groups (LFR, ...)")
    ap.add_argument("--tolerances", default="",
                    help="also the default's NMI at these tolerances, comma-separated (e.g. 0,0.02,0.05,0.08,0.1,0.15)")
    args = ap.parse_args(argv)
    if args.tolerances:
        graphs, _ = load_graphs(args.realdata if args.realdata is not None else default_realdata())
        if args.synthetic:
            graphs.update(synthetic_graphs())
        tols = [float(x) for x in args.tolerances.split(",") if x]
        print(tolerance_table(graphs, tols, args.seeds).to_string(index=False))
        print()
    df = community_scores(args.realdata, seeds=args.seeds, synthetic=args.synthetic)
    for note in df.attrs.get("notes", []):
        print(f"note: {note}")
    print(f"means over {args.seeds} seeds")
    cols = ["graph", "n", "method", "communities", "singletons", "modularity", "NMI", "AMI", "ARI", "seconds"]
    print(df[cols].to_string(index=False, float_format=lambda x: f"{x:.3f}"))
    print()
    print(targets(df).to_string(index=False, float_format=lambda x: f"{x:.3f}"))
    if (df.loc[df["method"] == "default (auto)", "one_community_runs"] > 0).any():
        print("the default returned one community on some run")


if __name__ == "__main__":
    main()

"""Speed and quality of community detection and PageRank on a planted 1M-subscriber graph.

Run: ``flock /tmp/bellwether-heavy.lock python -m bench.bench_communities --subscribers 1000000``

Prints one table: graph build, networkit's ParallelLeiden as the anchor (when
networkit is installed), the default (modularity at a resolution chosen from the
graph, numba only), Leiden on modularity and on CPM 0.05 (the old default) with the
numba implementation (:mod:`bellwether.algorithms.engines.numba_leiden`) and with
igraph's C implementation, PageRank; each with seconds, modularity, the
optimised quality (CPM rows), NMI against the planted partition, and the time
ratio against the anchor measured in the same run.
"""

from __future__ import annotations

import argparse
import time

from sklearn.metrics import normalized_mutual_info_score as nmi

from bellwether.algorithms.centrality import pagerank
from bellwether.algorithms.community import detect_communities, modularity
from bellwether.algorithms.engines import get_engine
from bellwether.algorithms.engines import DEFAULT_ENGINE
from bellwether.algorithms.engines.igraph_engine import IgraphEngine
from bellwether.graph.synthetic.planted import planted_graph


def main(argv=None) -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--subscribers", type=int, default=1_000_000)
    ap.add_argument("--mean-degree", type=float, default=32.0)
    ap.add_argument("--mixing", type=float, default=0.2)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--implementations", default="numba,igraph",
                    help="Leiden implementations to time, comma-separated (numba, igraph)")
    ap.add_argument("--repeat", type=int, default=0,
                    help="then time the default and CPM 0.05 in turns this many times (default implementation)")
    args = ap.parse_args(argv)
    impls = [s for s in args.implementations.split(",") if s]

    t = time.perf_counter()
    g, truth = planted_graph(args.subscribers, args.mean_degree, args.mixing, seed=args.seed)
    gen = time.perf_counter() - t
    rows = [("generate planted graph", gen, None, None, None)]
    t = time.perf_counter()
    get_engine("igraph").native(g)
    rows.append(("igraph graph object", time.perf_counter() - t, None, None, None))
    engines = {impl: IgraphEngine(leiden=impl) for impl in impls}
    if "numba" in engines:
        t = time.perf_counter()
        engines["numba"].csr(g)
        rows.append(("CSR arrays (numba Leiden)", time.perf_counter() - t, None, None, None))
    if "igraph" in engines:
        engines["igraph"].native(g)

    anchor = None
    try:
        import networkit as nk

        t = time.perf_counter()
        G = nk.Graph(g.n_subscribers, weighted=True)
        e = g.edge_array()
        G.addEdges((g.weights(), (e[:, 0], e[:, 1])))
        rows.append(("networkit graph object", time.perf_counter() - t, None, None, None))
        t = time.perf_counter()
        pl = nk.community.ParallelLeiden(G)
        pl.run()
        anchor = time.perf_counter() - t
        memb = pl.getPartition().getVector()
        rows.append(("networkit ParallelLeiden (anchor)", anchor, modularity(g, memb), None, nmi(truth, memb)))
    except ImportError:
        print("networkit is not installed (pip install -e '.[bench]'): no anchor row, ratios left blank")

    # load every compiled kernel first (numba's cache), so no row pays for it
    small, _ = planted_graph(2000, 10.0, args.mixing, seed=1)
    for objective in ("auto", "modularity", "cpm"):
        for eng in engines.values():
            detect_communities(small, objective=objective, seed=1, engine=eng)
    for objective, label in (("auto", "Leiden auto"), ("modularity", "Leiden modularity"), ("cpm", "Leiden CPM 0.05")):
        for impl, eng in engines.items():
            if objective == "auto" and impl != "numba":
                continue  # igraph's Leiden has no cascade: the scan would be a dozen full runs
            t = time.perf_counter()
            res = detect_communities(g, objective=objective, seed=args.seed, engine=eng)
            sec = time.perf_counter() - t
            if objective == "auto":
                label = f"Leiden auto, chose {res.metrics['resolution']:g}"
            name = f"{label} ({impl}{', default' if impl == DEFAULT_ENGINE and objective == 'auto' else ''})"
            quality = res.metrics["quality"] if objective == "cpm" else None
            rows.append((name, sec, res.metrics["modularity"], quality, nmi(truth, res.labels)))
            if res.metrics["disconnected_split"]:
                print(f"{name}: {res.metrics['disconnected_split']} disconnected communities split")
    t = time.perf_counter()
    pagerank(g)
    rows.append(("PageRank (igraph)", time.perf_counter() - t, None, None, None))
    if args.repeat:
        # the default against CPM 0.05 (the default before) in turns, so that a busy machine slows both alike
        times: dict[str, list[float]] = {"auto": [], "cpm": []}
        for _ in range(args.repeat):
            for objective in times:
                t = time.perf_counter()
                detect_communities(g, objective=objective, seed=args.seed)
                times[objective].append(time.perf_counter() - t)
        ratios = [a / c for a, c in zip(times["auto"], times["cpm"])]
        print(f"in turns, {args.repeat}x: default " + " ".join(f"{x:.2f}" for x in times["auto"])
              + " s; CPM 0.05 " + " ".join(f"{x:.2f}" for x in times["cpm"])
              + f" s; ratio median {sorted(ratios)[len(ratios) // 2]:.2f} (each pair "
              + " ".join(f"{r:.2f}" for r in ratios) + ")")

    print(f"planted graph: {g.n_subscribers:,} subscribers, {g.n_contacts:,} contacts, "
          f"{truth.max() + 1:,} planted communities, mixing {args.mixing}")
    print(f"{'step':40s} {'seconds':>9s} {'modularity':>11s} {'CPM quality':>13s} {'NMI':>7s} {'x anchor':>9s}")
    for name, sec, q, cpm, score in rows:
        ratio = f"{sec / anchor:9.2f}" if anchor and q is not None else " " * 9
        qs = f"{q:11.5f}" if q is not None else " " * 11
        cs = f"{cpm:13.1f}" if cpm is not None else " " * 13
        ns = f"{score:7.4f}" if score is not None else " " * 7
        print(f"{name:40s} {sec:9.2f} {qs} {cs} {ns} {ratio}")


if __name__ == "__main__":
    main()

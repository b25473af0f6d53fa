"""NMI of the default community detection on LFR benchmark graphs, per mixing parameter mu.

Run: ``python -m bench.lfr_sweep [--n 5000] [--implementations numba,igraph]``  (networkit's LFR
generator).  Lancichinetti, Fortunato & Radicchi 2008, doi:10.1103/PhysRevE.78.046110.
One row per mu and Leiden implementation of the igraph engine (numba or igraph's C code).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from sklearn.metrics import normalized_mutual_info_score as nmi

from bellwether.algorithms.community import detect_communities
from bellwether.algorithms.engines.igraph_engine import IgraphEngine
from bellwether.graph.contact_graph import ContactGraph


def lfr(n: int, mu: float, seed: int):
    import networkit as nk

    nk.setSeed(seed, False)
    gen = nk.generators.LFRGenerator(n)
    gen.generatePowerlawDegreeSequence(20, 50, -2.0)
    gen.generatePowerlawCommunitySizeSequence(10, 100, -1.0)
    gen.setMu(mu)
    G = gen.generate()
    truth = np.array(gen.getPartition().getVector())
    edges = np.array([(u, v) for u, v in G.iterEdges()], dtype=np.int64)
    return ContactGraph.from_edges(edges, n=n), truth


def main(argv=None) -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=5000)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--implementations", default="numba,igraph",
                    help="Leiden implementations, comma-separated (numba, igraph)")
    args = ap.parse_args(argv)
    engines = {impl: IgraphEngine(leiden=impl) for impl in args.implementations.split(",") if impl}
    print(f"LFR n={args.n}, degree 20..50 (exp 2), communities 10..100 (exp 1)")
    print(f"{'mu':>5s} {'leiden':>7s} {'NMI cpm':>8s} {'NMI mod':>8s} {'k truth':>8s} {'k cpm':>7s} {'seconds':>8s}")
    for mu in (0.1, 0.2, 0.3, 0.4, 0.5):
        g, truth = lfr(args.n, mu, args.seed)
        for impl, eng in engines.items():
            t = time.perf_counter()
            cpm = detect_communities(g, seed=args.seed, engine=eng)
            sec = time.perf_counter() - t
            mod = detect_communities(g, objective="modularity", seed=args.seed, engine=eng)
            print(f"{mu:5.1f} {impl:>7s} {nmi(truth, cpm.labels):8.4f} {nmi(truth, mod.labels):8.4f} "
                  f"{truth.max() + 1:8d} {cpm.metrics['n_communities']:7d} {sec:8.2f}")


if __name__ == "__main__":
    main()

"""In-database GDS engine against the igraph engine: projection, algorithms and write-back times.

For each graph size, a planted-community contact graph (:func:`bellwether.graph.synthetic.planted.planted_graph`)
is pushed into Neo4j (push time shown, not compared), then each engine runs the
graph algorithms of ``bellwether analyze``:

* ``projection``  igraph: building the igraph graph from the tables;
                  GDS: ``gds.graph.project`` of Subscriber/CONTACT (undirected, weight)
                  plus the node-id -> vid map;
* ``leiden``      Leiden, modularity objective, resolution 1 (GDS: concurrency 1, seeded);
* ``pagerank``    weighted PageRank, damping 0.85;
* ``degree``      degree and strength (weighted degree);
* ``kcore``       k-core numbers;
* ``write``       the run's subscriber properties and communities written into Neo4j
                  with the store's ``write_back`` (same code for both engines);

and the quality figures: modularity of each partition, Spearman rank correlation
of the two PageRanks.  The GDS projection is dropped at the end.

The database at ``--uri`` is cleared (it holds the benchmark graph afterwards)::

    scripts/neo4j-server start --dir .cache/neo4j-bench        # prints the Bolt URI
    flock /tmp/bellwether-heavy.lock .venv/bin/python -m bench.bench_gds --uri bolt://127.0.0.1:PORT
    .venv/bin/python -m bench.bench_gds --uri bolt://127.0.0.1:PORT --sizes 5000 --mean-degree 10
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from rich.console import Console
from rich.table import Table
from scipy.stats import spearmanr

from bellwether.algorithms.community.detect import canonical_labels
from bellwether.algorithms.community.quality import modularity
from bellwether.algorithms.engines import get_engine
from bellwether.algorithms.engines.gds_engine import GdsEngine
from bellwether.graph.synthetic.planted import planted_graph
from bellwether.graph.contact_graph import ContactGraph
from bellwether.graph.neo4j_store import Neo4jStore, push_graph, write_back

STEPS = ("projection", "leiden", "pagerank", "degree", "kcore", "write")


def _timed(out: dict[str, float], step: str, fn, *args, **kwargs):
    t0 = time.perf_counter()
    value = fn(*args, **kwargs)
    out[step] = out.get(step, 0.0) + time.perf_counter() - t0
    return value


def _write_run(store: Neo4jStore, graph: ContactGraph, res: dict[str, np.ndarray], root: Path, times: dict[str, float]) -> None:
    run = root / f"run-{len(list(root.glob('run-*')))}"
    run.mkdir(parents=True)
    labels = res["community"]
    subs = pd.DataFrame({
        "vid": np.arange(graph.n_subscribers, dtype=np.int64), "id": graph.subscribers["id"].astype(str).to_numpy(),
        "community": labels, "degree": res["degree"], "strength": res["strength"],
        "pagerank": res["pagerank"], "coreness": res["coreness"],
    })
    comm = pd.DataFrame({"community": np.arange(labels.max() + 1, dtype=np.int64),
                         "size": np.bincount(labels).astype(np.int64)})
    pq.write_table(pa.Table.from_pandas(subs, preserve_index=False), run / "subscribers.parquet")
    pq.write_table(pa.Table.from_pandas(comm, preserve_index=False), run / "communities.parquet")
    _timed(times, "write", write_back, store, run, progress=False)


def run_engine(name: str, engine, store: Neo4jStore, graph: ContactGraph, seed: int, tmp: Path) -> tuple[dict, dict]:
    times: dict[str, float] = {}
    w = graph.weights()
    res: dict[str, np.ndarray] = {}

    def algorithms() -> None:
        raw = _timed(times, "leiden", engine.communities, graph, w, method="leiden", objective="modularity",
                     resolution=1.0, seed=seed, max_iterations=None)
        res["community"] = canonical_labels(raw)
        res["pagerank"] = _timed(times, "pagerank", engine.pagerank, graph, w, damping=0.85)
        res["degree"] = _timed(times, "degree", engine.degree, graph)
        res["strength"] = _timed(times, "degree", engine.strength, graph, w)
        res["coreness"] = _timed(times, "kcore", engine.coreness, graph)

    if name == "gds":
        t0 = time.perf_counter()
        engine.gds  # connect first: the client's start-up is not projection time
        times["connect"] = time.perf_counter() - t0
        with engine.projected(graph) as p:
            times["projection"] = p.seconds
            algorithms()
    else:
        _timed(times, "projection", engine.native, graph)
        algorithms()
    _write_run(store, graph, res, tmp, times)
    return times, res


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--uri", required=True, help="Bolt URI of a Neo4j 5.26 + GDS 2.13 server (its database is cleared!)")
    ap.add_argument("--user", default="neo4j")
    ap.add_argument("--password", default=None)
    ap.add_argument("--sizes", type=int, nargs="+", default=[20_000, 100_000])
    ap.add_argument("--mean-degree", type=float, default=16.0)
    ap.add_argument("--mixing", type=float, default=0.2)
    ap.add_argument("--seed", type=int, default=42)
    args = ap.parse_args(argv)

    console = Console(width=200)
    table = Table(title=f"GDS vs igraph engine (seconds; Neo4j at {args.uri})")
    for col in ("subscribers", "contacts", "push", "engine", *STEPS, "total", "modularity", "PR spearman"):
        table.add_column(col, justify="right")

    with Neo4jStore(args.uri, args.user, args.password) as store, tempfile.TemporaryDirectory() as tmp:
        store.connect()
        for n in args.sizes:
            graph, _ = planted_graph(n, mean_degree=args.mean_degree, mixing=args.mixing, seed=args.seed)
            store.execute_auto("load.delete_graph")
            t0 = time.perf_counter()
            push_graph(store, graph, progress=False)
            push = time.perf_counter() - t0
            gds = GdsEngine(store)
            try:
                results = {name: run_engine(name, eng, store, graph, args.seed, Path(tmp) / name)
                           for name, eng in (("numba", get_engine("numba")), ("gds", gds))}
                gds_version = str(gds.gds.server_version())
            finally:
                gds.close()
            rho = float(spearmanr(results["numba"][1]["pagerank"], results["gds"][1]["pagerank"]).statistic)
            for name, (times, res) in results.items():
                total = sum(times.get(s, 0.0) for s in STEPS)
                q = modularity(graph, res["community"])
                table.add_row(
                    f"{graph.n_subscribers:,}", f"{graph.n_contacts:,}", f"{push:.1f}", name,
                    *(f"{times.get(s, 0.0):.2f}" for s in STEPS), f"{total:.2f}", f"{q:.4f}",
                    "" if name == "numba" else f"{rho:.4f}",
                )
            console.print(f"n={n:,}: GDS {gds_version}; GDS client connect {results['gds'][0]['connect']:.2f}s (not in total)")
    console.print(table)


if __name__ == "__main__":
    main()

"""Neo4j load speed: the resumable transactional push against a plain UNWIND baseline.

Generates a contact graph (default 1M subscribers, ~3.6M contacts, every column
of the SUBSCRIBERS / CONTACTS tables filled), starts a dedicated Neo4j + GDS
server with ``scripts/neo4j-server`` (or uses ``--uri``), and measures:

* ``push``      ``bellwether.graph.neo4j_store.push_graph``: batches of ``UNWIND $rows`` in
                managed transactions (retried), each committed with its
                ``(:LoadBatch {key})`` node; CREATE for subscribers (fresh database)
                and contacts; with 1 and with 2 concurrent writers (``--writers``);
* ``plain``     the baseline: ``load.contacts_plain`` (same CREATE, no bookkeeping)
                sent as large batches, one auto-commit transaction each, no retries;
* ``bulk``      the offline path (only on the server this script starts):
                ``bellwether.graph.neo4j_store.bulk.write_import_files``, then
                ``scripts/neo4j-server import`` (``neo4j-admin database import full``) with
                the server stopped, then a restart and a ``push`` that must find
                every batch loaded.  Rows/s counts files + import, not the restart.

Run (takes several minutes and ~8 GB; hold the heavy-run lock)::

    flock /tmp/bellwether-heavy.lock .venv/bin/python -m bench.bench_neo4j_load
    .venv/bin/python -m bench.bench_neo4j_load --subscribers 100000 --contacts 360000 --batch-sizes 5000,10000,20000

Target: >= 50,000 contacts/s for ``push``.  Figures and what was tried: ``bench/RESULTS.md``
(section Neo4j).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from bellwether.graph.contact_graph import ContactGraph
from bellwether.graph.neo4j_store import Neo4jStore, push_graph
from bellwether.graph.neo4j_store.rows import batch_bounds, flat_rows, to_load_arrow
from bellwether.graph.neo4j_store.schema import ensure_schema
from bellwether.graph.synthetic.random_graph import random_contact_graph

ROOT = Path(__file__).resolve().parents[1]


def start_server(heap: str, pagecache: str) -> tuple[str, dict[str, str]]:
    """A fresh server in .cache/bench-neo4j (old data removed); returns its URI and the env to stop it."""
    instance = ROOT / ".cache" / "bench-neo4j"
    env = {**os.environ, "NEO4J_SERVER_DIR": str(instance)}
    if instance.exists():  # a server left by an interrupted run would keep its heap: stop it first
        subprocess.run([str(ROOT / "scripts" / "neo4j-server"), "stop"], env=env, capture_output=True)
    shutil.rmtree(instance, ignore_errors=True)
    out = subprocess.run([str(ROOT / "scripts" / "neo4j-server"), "start", "--heap", heap, "--pagecache", pagecache],
                         env=env, check=True, capture_output=True, text=True)
    return out.stdout.strip().splitlines()[-1], env


def clear(store: Neo4jStore, contacts_only: bool = False) -> None:
    store.execute_auto("load.delete_contacts")
    if contacts_only:
        store.execute("load.delete_batches", kind="contacts")
    else:
        store.execute_auto("load.delete_graph")


def plain_load(store: Neo4jStore, g: ContactGraph, batch_size: int) -> float:
    """The baseline: load.contacts_plain in large batches, one auto-commit transaction each, no retries."""
    cols = [c for c in g.contacts.columns if c not in ("a_vid", "b_vid")]
    table = to_load_arrow(g.contacts[cols])
    text = store.library.get("load.contacts_plain").text
    t0 = time.perf_counter()
    with store.session() as s:
        for start, stop in batch_bounds(table.num_rows, batch_size):
            s.run(text, rows=flat_rows(table.slice(start, stop - start))).consume()
    return time.perf_counter() - t0


def bulk_load(g: ContactGraph, env: dict[str, str], heap: str, pagecache: str,
              batch_size: int, writers: int) -> tuple[list[tuple[str, int, int, float]], str]:
    """Stop the server, import ``g`` offline, start it again; return table rows and the new URI."""
    from bellwether.graph.neo4j_store.bulk import write_import_files

    script = str(ROOT / "scripts" / "neo4j-server")
    subprocess.run([script, "stop"], env=env, check=True, capture_output=True)
    t0 = time.perf_counter()
    files = write_import_files(g, ROOT / ".cache" / "bench-neo4j-import", batch_size=batch_size, writers=writers)
    t_files = time.perf_counter() - t0
    t0 = time.perf_counter()
    subprocess.run([script, "import", str(files.args_file), "--heap", heap], env=env, check=True, capture_output=True)
    t_import = time.perf_counter() - t0
    out = subprocess.run([script, "start", "--heap", heap, "--pagecache", pagecache],
                         env=env, check=True, capture_output=True, text=True)
    rows = [
        ("bulk: write import files", 0, g.n_contacts, t_files),
        ("bulk: neo4j-admin database import (offline)", 0, g.n_contacts, t_import),
        ("bulk: files + import", 0, g.n_contacts, t_files + t_import),
    ]
    return rows, out.stdout.strip().splitlines()[-1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--subscribers", type=int, default=1_000_000)
    ap.add_argument("--contacts", type=int, default=3_600_000)
    ap.add_argument("--batch-sizes", default="20000", help="comma-separated batch sizes for the push")
    ap.add_argument("--writers", default="1,2", help="comma-separated numbers of concurrent writers for the push")
    ap.add_argument("--plain-batch", type=int, default=100_000, help="rows per transaction of the baseline")
    ap.add_argument("--uri", help="use this server (its database is cleared!) instead of starting one")
    ap.add_argument("--heap", default="4g")
    ap.add_argument("--pagecache", default="2g")
    ap.add_argument("--no-progress", action="store_true")
    args = ap.parse_args()

    console = Console()
    t0 = time.perf_counter()
    g = random_contact_graph(args.subscribers, args.contacts)
    console.print(f"generated {g.n_subscribers:,} subscribers, {g.n_contacts:,} contacts "
                  f"in {time.perf_counter() - t0:.1f} s")

    env = None
    uri = args.uri
    if uri is None:
        t0 = time.perf_counter()
        uri, env = start_server(args.heap, args.pagecache)
        console.print(f"started Neo4j at {uri} (heap {args.heap}, page cache {args.pagecache}) "
                      f"in {time.perf_counter() - t0:.1f} s")
    rows = []
    try:
        with Neo4jStore(uri, password=None) as store:
            store.connect()
            clear(store)
            ensure_schema(store)
            runs = [(int(b), int(w)) for b in args.batch_sizes.split(",") for w in args.writers.split(",")]
            for i, (bs, writers) in enumerate(runs):
                if i:
                    clear(store, contacts_only=True)
                r = push_graph(store, g, batch_size=bs, writers=writers, progress=not args.no_progress)
                if i == 0:  # a fresh database: the push CREATEs the subscribers
                    rows.append((f"push subscribers (CREATE + LoadBatch), {writers} writer(s)", bs, g.n_subscribers,
                                 r.seconds["subscribers"]))
                rows.append((f"push contacts (CREATE + LoadBatch), {writers} writer(s)", bs, r.contacts_loaded,
                             r.seconds["contacts"]))
            t0 = time.perf_counter()
            again = push_graph(store, g, batch_size=bs, writers=writers, progress=False)
            rows.append(("re-push, all batches done", bs, again.contacts_skipped, time.perf_counter() - t0))
            clear(store, contacts_only=True)
            seconds = plain_load(store, g, args.plain_batch)
            n = int(store.scalar("load.count_contacts"))
            rows.append(("plain UNWIND baseline", args.plain_batch, n, seconds))
        if env is not None:
            bulk_rows, uri = bulk_load(g, env, args.heap, args.pagecache, bs, writers)
            rows += bulk_rows
            with Neo4jStore(uri, password=None) as store:
                t0 = time.perf_counter()
                after = push_graph(store, g, batch_size=bs, writers=writers, progress=False)
                if after.contacts_loaded or after.counts["contacts"] != g.n_contacts:
                    raise SystemExit(f"the push after the import sent {after.contacts_loaded:,} contacts: import incomplete")
                rows.append(("bulk: push after import (schema, nothing sent)", bs, after.contacts_skipped,
                             time.perf_counter() - t0))
    finally:
        if env is not None:
            subprocess.run([str(ROOT / "scripts" / "neo4j-server"), "stop"], env=env, capture_output=True)

    table = Table(title=f"Neo4j load: {g.n_subscribers:,} subscribers, {g.n_contacts:,} contacts ({uri})")
    for col in ("method", "batch", "rows", "seconds", "rows/s"):
        table.add_column(col, justify="left" if col == "method" else "right")
    for method, bs, n, s in rows:
        table.add_row(method, f"{bs:,}" if bs else "-", f"{n:,}", f"{s:.1f}", f"{n / s:,.0f}" if s > 0 else "-")
    console.print(table)


if __name__ == "__main__":
    main()

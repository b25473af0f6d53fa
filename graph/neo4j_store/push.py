"""Push a contact graph into Neo4j: schema, subscribers, then contacts, resumable and exact.

Both tables go in parameterised ``UNWIND $rows`` batches (``cypher/load/``).
Each batch commits together with a ``(:LoadBatch {key})`` node in the same
transaction.  The key is derived from the table's content, the statement text
and the batch size (:func:`bellwether.graph.neo4j_store.rows.content_key`), so a push that
was killed half-way and is run again skips exactly the batches that committed,
and a uniqueness constraint on the key stops a batch from committing twice.

Batches go out on ``writers`` concurrent lanes scheduled so that no two
transactions in flight share a subscriber (:mod:`bellwether.graph.neo4j_store.lanes`; the rare
deadlock on an older relationship is retried).

Subscribers are merged on their pseudonymous id (properties replaced, absent
values removed).  Contacts are created (``CREATE``, much faster than a
relationship ``MERGE``): the push first checks that the CONTACT relationships
in the database are exactly the ones committed by earlier batches of this same
load, and otherwise deletes them (a graph built from other data is replaced as a
whole, so a pair never holds two CONTACT relationships).
"""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Iterable

import pandas as pd

from bellwether.graph.contact_graph import ContactGraph
from bellwether.graph.cypher_library import CypherLibrary
from bellwether.graph.core.progress import row_progress
from bellwether.graph import schema
from bellwether.graph.neo4j_store.lanes import BatchPlan, plan_contacts, plan_rows
from bellwether.graph.neo4j_store.rows import content_key, flat_rows, to_load_arrow
from bellwether.graph.neo4j_store.schema import ensure_schema
from bellwether.graph.neo4j_store.store import Neo4jError, Neo4jStore

if TYPE_CHECKING:
    from bellwether.graph.core.workspace import Workspace

DEFAULT_BATCH_SIZE = 20_000  # bench/bench_neo4j_load.py: 20k-50k rows beat 5k-10k
DEFAULT_WRITERS = 2  # concurrent write transactions (graph/neo4j_store/lanes.py); 1.37x on 2 cores

# Columns sent per table: the schema's columns the table has, without the vertex numbers
# (they are positions in one workspace, not properties).  The load statements name each
# property; a column the table lacks arrives as null and sets nothing.
SUBSCRIBER_COLUMNS = tuple(c for c in schema.column_names(schema.SUBSCRIBERS) if c != "vid")
CONTACT_COLUMNS = tuple(c for c in schema.column_names(schema.CONTACTS) if c not in ("a_vid", "b_vid"))


@dataclass
class PushResult:
    """What a push did: rows sent and skipped per table, seconds per table, final counts."""

    subscribers_loaded: int = 0
    subscribers_skipped: int = 0
    contacts_loaded: int = 0
    contacts_skipped: int = 0
    contacts_replaced: int = 0  # CONTACT relationships of another load deleted first
    seconds: dict[str, float] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def contacts_per_second(self) -> float:
        s = self.seconds.get("contacts", 0.0)
        return self.contacts_loaded / s if s > 0 else float("nan")


def push_workspace(store: Neo4jStore, workspace: "Workspace", **kwargs: Any) -> PushResult:
    """Push the graph tables of a workspace (what ``bellwether build --neo4j`` and ``neo4j push`` call)."""
    return push_graph(store, ContactGraph.load(workspace), **kwargs)


def push_graph(
    store: Neo4jStore,
    graph: ContactGraph,
    batch_size: int = DEFAULT_BATCH_SIZE,
    progress: bool = True,
    on_batch: Callable[[str, int], None] | None = None,
    writers: int = DEFAULT_WRITERS,
) -> PushResult:
    """Load ``graph`` into the store's database (idempotent and resumable).

    Parameters
    ----------
    store : Neo4jStore
    graph : ContactGraph
        Subscribers and contacts; every column of the SUBSCRIBERS / CONTACTS schema except the
        vertex numbers becomes a property (other columns are not sent).
    batch_size : int
        Rows per transaction.  Part of the batch keys: resume with the same size.
    writers : int
        Concurrent write transactions.  The contacts' batch keys depend on it: resume
        with the same number.
    progress : bool
        Show a progress bar with rows per second (stderr).
    on_batch : callable, optional
        Called as ``on_batch(kind, rows)`` after each committed batch (from the writer's thread).

    Returns
    -------
    PushResult

    Raises
    ------
    Neo4jError
        The server cannot be used, or the final counts differ from the graph's
        (e.g. a contact whose subscriber is missing from the subscribers table).
    """
    result = PushResult()
    store.connect()
    ensure_schema(store)
    with row_progress(progress) as bar:
        t0 = time.perf_counter()
        plan = _plan(store, "subscribers", graph.subscribers, SUBSCRIBER_COLUMNS, batch_size, writers)
        if int(store.scalar("load.count_subscribers")) == plan.done_rows:
            # Every Subscriber node in the database came from committed batches of this load, so the
            # batches still to send hold new ids only: CREATE them (MERGE if one exists after all).
            plan.send, plan.fallback = "load.subscribers_new", "load.subscribers"
        loaded, skipped = _load_table(store, plan, graph.subscribers, bar, on_batch)
        result.subscribers_loaded, result.subscribers_skipped = loaded, skipped
        result.seconds["subscribers"] = time.perf_counter() - t0
        subscriber_load = plan.load

        t0 = time.perf_counter()
        loaded, skipped, replaced, contact_load = _load_contacts(store, graph.contacts, batch_size, writers, bar,
                                                                 on_batch)
        result.contacts_loaded, result.contacts_skipped, result.contacts_replaced = loaded, skipped, replaced
        result.seconds["contacts"] = time.perf_counter() - t0

    store.execute("load.graph_info", info=json.dumps(graph.info, sort_keys=True, default=str))
    result.counts = store.counts()
    if result.counts["contacts"] != graph.n_contacts:
        raise Neo4jError(
            f"Neo4j at {store.uri} holds {result.counts['contacts']:,} CONTACT relationships after the push, "
            f"expected {graph.n_contacts:,}: check that every contact's a and b are in the subscribers table, "
            f"then run `bellwether neo4j push` again."
        )
    store.execute("load.forget_other_loads", kind="subscribers", load=subscriber_load)
    store.execute("load.forget_other_loads", kind="contacts", load=contact_load)
    return result


def batch_key(kind: str, load: str, i: int) -> str:
    """The ``LoadBatch`` key of batch ``i`` of a load."""
    return f"{kind}:{load}:{i:06d}"


@dataclass
class _Plan:
    """The batches of one table and which of them already committed."""

    kind: str
    statement: str  # the statement whose text keys the load
    load: str
    columns: list[str]
    batches: BatchPlan
    done: set[str]
    done_rows: int
    send: str = ""  # the statement that sends a batch (default: ``statement``)
    fallback: str | None = None  # sent instead when ``send`` hits an existing node

    def batch_key(self, i: int) -> str:
        return batch_key(self.kind, self.load, i)


def load_batches(library: CypherLibrary, kind: str, df: pd.DataFrame, columns: Iterable[str], batch_size: int,
                 statement: str | None = None, writers: int = 1) -> tuple[str, list[str], BatchPlan]:
    """How a push splits one table: its load key, the columns it sends and its :class:`BatchPlan`.

    The load key depends only on the table's content in sending order, the statement
    text, the batch size and (for contacts) the number of writers, so it is the same
    for every push of the same graph with the same settings (and for the ``LoadBatch``
    nodes that :mod:`bellwether.graph.neo4j_store.bulk` writes for ``neo4j-admin database import``).
    Batch ``i`` of the plan has the key :func:`batch_key` ``(kind, load, i)``.
    """
    cols = [c for c in columns if c in df.columns]
    name = statement or f"load.{kind}"
    if kind == "contacts":
        plan = plan_contacts(df["a_vid"].to_numpy(), df["b_vid"].to_numpy(), batch_size, writers)
    else:
        plan = plan_rows(len(df), batch_size, writers)
    sent = df[cols] if plan.order is None else df[cols].iloc[plan.order]
    salt = [name, library.get(name).text, str(batch_size)] + ([f"writers={writers}"] if plan.order is not None else [])
    return content_key(sent, *salt), cols, plan


def _plan(store: Neo4jStore, kind: str, df: pd.DataFrame, columns: Iterable[str], batch_size: int, writers: int,
          statement: str | None = None) -> _Plan:
    name = statement or f"load.{kind}"
    load, cols, batches = load_batches(store.library, kind, df, columns, batch_size, name, writers)
    committed = store.read("load.done_batches", kind=kind, load=load)
    done = set(committed["key"]) if len(committed) else set()
    done_rows = int(committed["rows"].sum()) if len(committed) else 0
    return _Plan(kind, name, load, cols, batches, done, done_rows)


def _load_table(store: Neo4jStore, plan: _Plan, df: pd.DataFrame, bar: Any,
                 on_batch: Callable[[str, int], None] | None) -> tuple[int, int]:
    """Send the batches of one table that are not yet done, round by round; return (rows loaded, rows skipped)."""
    bounds = plan.batches.bounds
    skipped = sum(stop - start for i, (start, stop) in enumerate(bounds) if plan.batch_key(i) in plan.done)
    task = bar.add_task(plan.kind, total=len(df), completed=skipped) if bar is not None else None
    table = to_load_arrow(df[plan.columns])
    if plan.batches.order is not None:
        table = table.take(plan.batches.order)

    def send(lane: list[int]) -> tuple[int, int]:
        loaded = already = 0
        for i in lane:
            key = plan.batch_key(i)
            if key in plan.done:
                continue
            start, stop = bounds[i]
            rows = flat_rows(table.slice(start, stop - start))
            if _commit_batch(store, plan.send or plan.statement, key, plan.load, rows, plan.fallback):
                loaded += len(rows)
            else:
                already += len(rows)
            if bar is not None:
                bar.update(task, advance=len(rows))
            if on_batch:
                on_batch(plan.kind, len(rows))
        return loaded, already

    loaded = 0
    for lanes in plan.batches.rounds:
        if len(lanes) == 1:
            results = [send(lanes[0])]
        else:
            with ThreadPoolExecutor(max_workers=len(lanes), thread_name_prefix="bellwether-push") as pool:
                results = [f.result() for f in [pool.submit(send, lane) for lane in lanes]]
        loaded += sum(r[0] for r in results)
        skipped += sum(r[1] for r in results)
    return loaded, skipped


def _load_contacts(store: Neo4jStore, contacts: pd.DataFrame, batch_size: int, writers: int, bar: Any,
                   on_batch: Callable[[str, int], None] | None) -> tuple[int, int, int, str]:
    """Load contacts with CREATE after making sure the database holds only this load's contacts."""
    plan = _plan(store, "contacts", contacts, CONTACT_COLUMNS, batch_size, writers)
    in_db = int(store.scalar("load.count_contacts"))
    replaced = 0
    if in_db != plan.done_rows:
        # CONTACT relationships that earlier batches of this load do not account for: replace them all.
        replaced = in_db
        store.execute_auto("load.delete_contacts")
        store.execute("load.delete_batches", kind="contacts")
        plan.done, plan.done_rows = set(), 0
    loaded, skipped = _load_table(store, plan, contacts, bar, on_batch)
    return loaded, skipped, replaced, plan.load


def _commit_batch(store: Neo4jStore, name: str, key: str, load: str, rows: list[dict[str, Any]],
                  fallback: str | None = None) -> bool:
    """Commit one batch with its LoadBatch node; False when the batch had already committed.

    A uniqueness failure means either that the batch committed meanwhile (another push) or, for a
    CREATE statement, that a node exists after all: the batch is then sent with ``fallback``.
    """
    import neo4j.exceptions as ne

    query = store.library.get(name)
    params = {"batch": key, "load": load, "rows": rows}
    query.check_params(params)
    try:
        store.write_transaction(lambda tx: tx.run(query.text, params).consume())
    except ne.ConstraintError:
        if len(store.read("load.batch_done", batch=key)):
            return False
        if fallback is None:
            raise
        return _commit_batch(store, fallback, key, load, rows)
    return True

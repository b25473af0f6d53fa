"""Write an analysis run back into Neo4j: subscriber properties, both community levels, memberships, segments.

Reads ``runs/<run_id>/subscribers.parquet`` (:data:`bellwether.graph.schema.RUN_SUBSCRIBERS`),
``communities.parquet`` (:data:`bellwether.graph.schema.COMMUNITIES`) and, when present,
``coarse_communities.parquet`` (:data:`bellwether.graph.schema.COARSE_COMMUNITIES`) and
``segments.parquet`` (any columns; all but ``vid`` are written), and applies
the ``cypher/writeback/`` statements: ``(:Subscriber)-[:MEMBER_OF]->(:Community)``
for the fine level, ``(:Community)-[:PART_OF]->(:CoarseCommunity)`` for the
coarse one.  Re-running replaces what an earlier write-back wrote: every
MEMBER_OF relationship is deleted and re-created, each Community's PART_OF is
replaced, (Coarse)Community nodes absent from the run are deleted, and
subscriber properties are overwritten (null values remove the property).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq

from bellwether.graph.core.progress import row_progress
from bellwether.graph.neo4j_store.rows import batch_bounds, row_maps, to_arrow
from bellwether.graph.neo4j_store.schema import ensure_schema
from bellwether.graph.neo4j_store.store import Neo4jError, Neo4jStore

DEFAULT_BATCH_SIZE = 10_000


@dataclass
class WriteBackResult:
    run_id: str
    subscribers: int
    communities: int
    memberships: int
    segments: int
    counts: dict[str, int]


def write_back(store: Neo4jStore, run_dir: str | Path, batch_size: int = DEFAULT_BATCH_SIZE,
               progress: bool = True) -> WriteBackResult:
    """Write the tables of the run in ``run_dir`` to the store's database.

    Raises
    ------
    Neo4jError
        The run's tables are missing, or no subscriber of the run exists in Neo4j
        (the graph was not pushed).
    """
    run_dir = Path(run_dir)
    run_id = run_dir.name
    subs_path, comm_path, coarse_path, seg_path = (
        run_dir / f for f in ("subscribers.parquet", "communities.parquet", "coarse_communities.parquet",
                              "segments.parquet"))
    for p in (subs_path, comm_path):
        if not p.exists():
            raise Neo4jError(f"Run {run_id}: {p} is missing; run `bellwether analyze` to produce the run tables.")
    subs = pq.read_table(subs_path).to_pandas()
    communities = pq.read_table(comm_path).to_pandas()
    coarse = pq.read_table(coarse_path).to_pandas() if coarse_path.exists() else None
    segments = pq.read_table(seg_path).to_pandas() if seg_path.exists() else None

    store.connect()
    ensure_schema(store)
    present = int(store.scalar("writeback.subscribers_present", ids=list(subs["id"][:1000]))) if len(subs) else 0
    if len(subs) and present == 0:
        raise Neo4jError(
            f"Neo4j at {store.uri} has none of the subscribers of run {run_id}: "
            f"push the graph first with `bellwether neo4j push`."
        )

    with row_progress(progress) as bar:
        # 1. subscriber properties
        props = [c for c in subs.columns if c not in ("vid", "id")]
        _batches(store, bar, "subscribers", subs, ("id",), props, batch_size,
                 lambda rows: store.execute("writeback.subscribers", rows=rows, run=run_id))

        # 2. communities: replace nodes and memberships
        store.execute_auto("writeback.delete_memberships")
        comm = communities.rename(columns={"community": "id"})
        comm_ids = [int(x) for x in comm["id"]]
        store.execute("writeback.delete_stale_communities", ids=comm_ids)
        comm_rows = [{"id": r["id"], "props": r} for r in to_arrow(comm).to_pylist()]
        for start, stop in batch_bounds(len(comm_rows), batch_size):
            store.execute("writeback.communities", rows=comm_rows[start:stop], run=run_id)
        if coarse is not None and "coarse_community" in comm:
            groups = coarse.rename(columns={"community": "id"})
            store.execute("writeback.delete_stale_coarse_communities", ids=[int(x) for x in groups["id"]])
            group_rows = [{"id": r["id"], "props": r} for r in to_arrow(groups).to_pylist()]
            links = [{"id": int(c), "coarse": int(g)}
                     for c, g in zip(comm["id"], comm["coarse_community"]) if pd.notna(g)]
            for start, stop in batch_bounds(len(group_rows), batch_size):
                store.execute("writeback.coarse_communities", rows=group_rows[start:stop], run=run_id)
            for start, stop in batch_bounds(len(links), batch_size):
                store.execute("writeback.part_of", rows=links[start:stop])
        members = subs.loc[subs["community"].notna(), ["id", "community"]]
        _batches(store, bar, "memberships", members, ("id", "community"), [], batch_size,
                 lambda rows: store.execute("writeback.memberships",
                                            rows=[{"id": r["id"], "community": r["community"]} for r in rows]))

        # 3. segments
        n_seg = 0
        if segments is not None and len(segments):
            seg_props = [c for c in segments.columns if c not in ("vid", "id")]
            _batches(store, bar, "segments", segments, ("id",), seg_props, batch_size,
                     lambda rows: store.execute("writeback.segments", rows=rows))
            n_seg = len(segments)

    return WriteBackResult(run_id, len(subs), len(communities), len(members), n_seg, store.counts())


def _batches(store: Neo4jStore, bar: Any, label: str, df: pd.DataFrame, keys: tuple[str, ...],
             props: list[str], batch_size: int, send: Any) -> None:
    table = to_arrow(df)
    task = bar.add_task(label, total=len(df)) if bar is not None else None
    for start, stop in batch_bounds(len(df), batch_size):
        send(row_maps(table.slice(start, stop - start), keys, props))
        if bar is not None:
            bar.update(task, advance=stop - start)

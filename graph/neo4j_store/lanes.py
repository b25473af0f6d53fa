"""Batches of a push and their schedule over concurrent writers that never lock the same subscriber.

Creating a relationship locks both of its nodes until the transaction commits, so
two writers whose batches share a subscriber wait for each other and often
deadlock (Neo4j then aborts one, and the driver retries it).  The schedule here
rules out shared subscribers by construction: subscribers fall into
``k = 2 * writers`` groups (vertex number modulo ``k``); the contacts between
groups ``g`` and ``h`` form bucket ``{g, h}``; a *round* runs ``writers`` buckets
at once whose group pairs are disjoint (the circle method of a round-robin
tournament for ``g != h``, then the ``g == h`` buckets ``writers`` at a time),
each bucket's batches one after the other on its own *lane*.  Rounds follow each
other, so no two transactions in flight touch the same subscriber.  They can
still meet on a relationship committed earlier whose two ends each get a new
contact (inserting into a node's relationship chain locks the chain's first
record); Neo4j detects those rare deadlocks and the push's managed transactions
retry them.

Subscriber nodes take no relationship locks: their batches are dealt to the lanes
of a single round.

Everything here is a pure function of the vertex numbers, the batch size and the
number of writers, so a resumed push (and :mod:`bellwether.graph.neo4j_store.bulk`) cuts the
same batches in the same order.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bellwether.graph.neo4j_store.rows import batch_bounds

__all__ = ["BatchPlan", "plan_contacts", "plan_rows", "tournament_rounds"]


@dataclass(frozen=True)
class BatchPlan:
    """Row order, batches over the reordered rows, and the rounds of lanes that send them."""

    order: np.ndarray | None  # positions of the table's rows in sending order (None: as they are)
    bounds: list[tuple[int, int]]  # (start, stop) of each batch in the reordered rows
    rounds: list[list[list[int]]]  # rounds -> lanes -> batch numbers, sent one after the other per lane

    @property
    def writers(self) -> int:
        return max((len(r) for r in self.rounds), default=1)


def plan_rows(n: int, batch_size: int, writers: int = 1) -> BatchPlan:
    """Rows that lock nothing shared: table order, batches dealt round-robin to ``writers`` lanes."""
    _check(writers)
    bounds = batch_bounds(n, batch_size)
    lanes = [list(range(w, len(bounds), writers)) for w in range(writers)]
    return BatchPlan(None, bounds, [[lane for lane in lanes if lane]])


def tournament_rounds(groups: int) -> list[list[tuple[int, int]]]:
    """Rounds of pairwise disjoint group pairs covering every pair ``g <= h`` once (``groups`` even).

    The ``g < h`` pairs come from the circle method (``groups - 1`` rounds of
    ``groups / 2`` pairs); the ``g == g`` pairs follow, ``groups / 2`` per round.
    """
    if groups < 2 or groups % 2:
        raise ValueError(f"groups must be even and >= 2, got {groups}")
    last = groups - 1
    rounds = []
    for r in range(last):
        pairs = [(min(r, last), max(r, last))]
        for i in range(1, groups // 2):
            g, h = (r + i) % last, (r - i) % last
            pairs.append((min(g, h), max(g, h)))
        rounds.append(pairs)
    half = groups // 2
    rounds += [[(g, g) for g in range(s, s + half)] for s in range(0, groups, half)]
    return rounds


def plan_contacts(a_vid: np.ndarray, b_vid: np.ndarray, batch_size: int, writers: int = 1) -> BatchPlan:
    """Batches of contacts such that the lanes of a round share no subscriber (module docstring)."""
    _check(writers)
    m = len(a_vid)
    if writers == 1:
        return plan_rows(m, batch_size, 1)
    k = 2 * writers
    ga = np.asarray(a_vid, dtype=np.int64) % k
    gb = np.asarray(b_vid, dtype=np.int64) % k
    bucket = np.minimum(ga, gb) * k + np.maximum(ga, gb)
    order = np.argsort(bucket, kind="stable")
    starts = np.searchsorted(bucket[order], np.arange(k * k + 1))
    bounds: list[tuple[int, int]] = []
    batches_of: dict[tuple[int, int], list[int]] = {}
    for g, h in (p for rnd in tournament_rounds(k) for p in rnd):
        lo, hi = int(starts[g * k + h]), int(starts[g * k + h + 1])
        first = len(bounds)
        bounds += [(lo + s, lo + e) for s, e in batch_bounds(hi - lo, batch_size)]
        batches_of[(g, h)] = list(range(first, len(bounds)))
    rounds = []
    for rnd in tournament_rounds(k):
        lanes = [batches_of[p] for p in rnd if batches_of[p]]
        if lanes:
            rounds.append(lanes)
    return BatchPlan(order, bounds, rounds)


def _check(writers: int) -> None:
    if writers < 1:
        raise ValueError(f"writers must be >= 1, got {writers}")

"""The push's batch schedule: lanes of a round never share a subscriber, every row is sent once."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from bellwether.graph.neo4j_store.lanes import plan_contacts, plan_rows, tournament_rounds


@pytest.mark.parametrize("groups", [2, 4, 6, 8])
def test_tournament_covers_every_pair_once_with_disjoint_rounds(groups):
    rounds = tournament_rounds(groups)
    pairs = [p for r in rounds for p in r]
    assert sorted(pairs) == sorted((g, h) for g in range(groups) for h in range(g, groups))
    for r in rounds:
        used = [x for p in r for x in set(p)]
        assert len(used) == len(set(used))  # no group twice in a round


@pytest.mark.parametrize("writers", [1, 2, 3])
def test_contact_plan_sends_each_row_once_and_lanes_share_no_subscriber(writers):
    rng = np.random.default_rng(writers)
    a = rng.integers(0, 500, 5000)
    b = (a + 1 + rng.integers(0, 498, 5000)) % 500
    plan = plan_contacts(a, b, 70, writers)
    order = np.arange(len(a)) if plan.order is None else plan.order
    sent = np.concatenate([order[s:e] for s, e in plan.bounds])
    assert sorted(sent.tolist()) == list(range(len(a)))
    assert all(e - s <= 70 for s, e in plan.bounds)
    assert sorted(i for r in plan.rounds for lane in r for i in lane) == list(range(len(plan.bounds)))
    assert plan.writers == writers
    for rnd in plan.rounds:
        touched = [set(np.concatenate([np.r_[a[order[s:e]], b[order[s:e]]] for s, e in (plan.bounds[i] for i in lane)]).tolist())
                   for lane in rnd]
        for x, y in itertools.combinations(touched, 2):
            assert not x & y


def test_plans_are_pure_functions_of_their_inputs():
    a, b = np.arange(100), (np.arange(100) * 7 + 3) % 100
    p, q = plan_contacts(a, b, 9, 2), plan_contacts(a.copy(), b.copy(), 9, 2)
    assert np.array_equal(p.order, q.order) and p.bounds == q.bounds and p.rounds == q.rounds
    rows = plan_rows(10, 3, 2)
    assert rows.bounds == [(0, 3), (3, 6), (6, 9), (9, 10)] and rows.rounds == [[[0, 2], [1, 3]]]
    with pytest.raises(ValueError):
        plan_rows(10, 3, 0)

"""Nothing after as_of leaks into a churn score.

The CRM extract used here knows every churn of the simulation, the future
included (as a real extract taken after ``as_of`` would).  Moving every churn
date on or after ``as_of``, adding future churners and removing future churners
(in both the ``as_of`` graph and the training-snapshot graph) must leave every
score bit-identical.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bellwether.algorithms.churn import score_churn
from bellwether.graph.synthetic.planted_churn import planted_churn
from bellwether.graph.contact_graph import ContactGraph


@pytest.fixture(scope="module")
def planted():
    return planted_churn(4000, seed=11, monthly_churn=0.04, contagion=3.0)


def _rewrite_future(subs: pd.DataFrame, as_of: np.datetime64, seed: int) -> pd.DataFrame:
    """Move, add and remove churn on or after ``as_of``; the past stays as it was."""
    rng = np.random.default_rng(seed)
    out = subs.copy()
    d = pd.to_datetime(out["churn_date"])
    cut = pd.Timestamp(str(as_of))
    future = (d >= cut).to_numpy()
    never = d.isna().to_numpy() & out["on_net"].to_numpy(bool)
    new = d.copy()
    # move every future churn date somewhere else in the future (as_of itself included)
    new[future] = cut + pd.to_timedelta(rng.integers(0, 90, future.sum()), unit="D")
    # remove a third of the future churners
    drop = future & (rng.random(len(d)) < 1 / 3)
    new[drop] = pd.NaT
    # add new future churners among the never-churned
    add = never & (rng.random(len(d)) < 0.05)
    new[add] = cut + pd.to_timedelta(rng.integers(0, 60, add.sum()), unit="D")
    assert future.sum() > 20 and add.sum() > 20 and drop.sum() > 5
    out["churn_date"] = new
    status = out["status"].astype(object).to_numpy().copy()
    status[add] = "churned"
    status[drop] = "active"
    out["status"] = status
    return out


def _metrics_without_timings(m: dict) -> dict:
    return {k: v for k, v in m.items() if k != "timings"}


@pytest.mark.parametrize("with_history", [True, False], ids=["history", "fallback"])
@pytest.mark.parametrize("model", ["gbm", "logistic"])
def test_future_churn_changes_no_score(planted, with_history, model):
    p = planted
    g, h = p.graph, p.history
    before = score_churn(g, p.as_of, history=h if with_history else None, model=model, seed=5)
    assert before.metrics["training"]["fitted"]
    g2 = ContactGraph(_rewrite_future(g.subscribers, p.as_of, 1), g.contacts, g.info)
    h2 = ContactGraph(_rewrite_future(h.subscribers, p.as_of, 2), h.contacts, h.info)
    assert not g2.subscribers["churn_date"].equals(g.subscribers["churn_date"])
    after = score_churn(g2, p.as_of, history=h2 if with_history else None, model=model, seed=5)
    pd.testing.assert_frame_equal(before.scores, after.scores, check_exact=True)
    assert _metrics_without_timings(before.metrics) == _metrics_without_timings(after.metrics)


def test_past_churn_does_change_scores(planted):
    """The test above can fail: changing churn *before* as_of moves the scores."""
    p = planted
    g = p.graph
    before = score_churn(g, p.as_of, history=p.history, seed=5)
    subs = g.subscribers.copy()
    d = pd.to_datetime(subs["churn_date"])
    recent = ((d < pd.Timestamp(str(p.as_of))) & (d >= pd.Timestamp(str(p.as_of)) - pd.Timedelta(days=10))).to_numpy()
    assert recent.sum() > 5
    d[recent] = pd.NaT
    subs["churn_date"] = d
    after = score_churn(ContactGraph(subs, g.contacts, g.info), p.as_of, history=p.history, seed=5)
    assert not np.allclose(before.scores["contagion_score"].fillna(0), after.scores["contagion_score"].fillna(0))

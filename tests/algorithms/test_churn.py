"""Churn contagion scoring: spreading activation, contagion PageRank, features, training snapshot, reproducibility."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from bellwether.algorithms.churn import (
    NetworkOptions,
    NETWORK_FEATURES,
    OWN_FEATURES,
    SCORE_COLUMNS,
    churn_features,
    contagion_pagerank,
    fit_churn_model,
    personalized_pagerank,
    score_churn,
    spread_energy,
    spreading_activation,
    timeline,
)
from bellwether.graph.synthetic.planted_churn import planted_churn
from bellwether.graph.contact_graph import ContactGraph

AS_OF = "2024-03-01"


def _subs(n: int, churn: dict[int, str], **cols) -> pd.DataFrame:
    d = pd.Series([pd.NaT] * n, dtype="datetime64[ns]")
    for v, day in churn.items():
        d[v] = pd.Timestamp(day)
    df = pd.DataFrame({"churn_date": d})
    for k, v in cols.items():
        df[k] = v
    return df


def _sym(edges, weights, n):
    e = np.asarray(edges)
    w = np.asarray(weights, float)
    return sp.csr_array((np.r_[w, w], (np.r_[e[:, 0], e[:, 1]], np.r_[e[:, 1], e[:, 0]])), shape=(n, n))


# --- spreading activation: hand-computed energies ------------------------------------------------------
def test_spread_energy_path_worked_example():
    # seed 0 (energy 1), d = 0.5, threshold 0.2:
    # wave 0: 0 keeps 0.5, sends 0.5 to 1; wave 1: 1 keeps 0.25, sends 0.125 to 0 and to 2;
    # wave 2: 0.125 < 0.2, nobody fires: energies 0.5 + 0.125, 0.25, 0.125
    W = _sym([(0, 1), (1, 2)], [1.0, 1.0], 3)
    e = spread_energy(W, np.array([1.0, 0, 0]), spreading_factor=0.5, threshold=0.2)
    assert e.tolist() == [0.625, 0.25, 0.125]


def test_spread_energy_weighted_worked_example():
    # path 0 -(1)- 1 -(3)- 2, seed 1, d = 0.5, threshold 0.1
    # wave 0: 1 keeps .5, sends .125 to 0 and .375 to 2
    # wave 1: 0 keeps .0625, 2 keeps .1875, both send all back to 1 (.0625 + .1875 = .25)
    # wave 2: 1 keeps .125, sends .03125 to 0 and .09375 to 2; wave 3: nothing above .1 fires
    W = _sym([(0, 1), (1, 2)], [1.0, 3.0], 3)
    e = spread_energy(W, np.array([0, 1.0, 0]), spreading_factor=0.5, threshold=0.1)
    np.testing.assert_allclose(e, [0.09375, 0.625, 0.28125], rtol=0, atol=1e-15)


def test_spread_energy_conserves_energy_and_stays_in_component():
    rng = np.random.default_rng(3)
    edges = rng.integers(0, 50, size=(200, 2))
    edges = edges[edges[:, 0] != edges[:, 1]]
    W = _sym(edges, rng.random(len(edges)) + 0.1, 60)  # 50..59 are isolated
    e0 = np.zeros(60)
    e0[[1, 7, 55]] = 1.0
    e = spread_energy(W, e0, spreading_factor=0.8, threshold=1e-4)
    assert e.sum() == pytest.approx(3.0)
    assert e[55] == 1.0 and e[[50, 51, 52, 53, 54, 56, 57, 58, 59]].sum() == 0.0
    with pytest.raises(ValueError):
        spread_energy(W, e0, spreading_factor=1.5)


# --- personalised PageRank --------------------------------------------------------------------------
def test_personalized_pagerank_matches_networkx():
    g = nx.gnm_random_graph(40, 120, seed=5)
    for u, v in g.edges:
        g[u][v]["weight"] = 1.0 + (u * 7 + v) % 5
    W = nx.to_scipy_sparse_array(g, nodelist=range(40), weight="weight", format="csr")
    restart = np.zeros(40)
    restart[[3, 17]] = [1.0, 0.5]
    ours = personalized_pagerank(W, restart, damping=0.85, tol=1e-13)
    ref = nx.pagerank(g, alpha=0.85, personalization={3: 1.0, 17: 0.5}, weight="weight", tol=1e-13, max_iter=1000,
                      dangling={3: 1.0, 17: 0.5})
    np.testing.assert_allclose(ours, [ref[i] for i in range(40)], atol=1e-9)


# --- known answer: a star whose hub churned ---------------------------------------------------------
@pytest.fixture
def star() -> ContactGraph:
    # hub 0 churned on 2024-02-20; leaves 1..5; leaf 1 also knows 6 (two hops); 7 - 8 unrelated
    edges = [(0, 1), (0, 2), (0, 3), (0, 4), (0, 5), (1, 6), (7, 8)]
    subs = _subs(9, {0: "2024-02-20"})
    return ContactGraph.from_edges(edges, [1.0] * 7, subscribers=subs)


def test_star_hub_churned_neighbours_score_highest(star):
    sa = spreading_activation(star, AS_OF)["spreading_activation"].to_numpy()
    ppr = contagion_pagerank(star, AS_OF)["contagion_score"].to_numpy()
    for score in (sa, ppr):
        leaves = score[1:6]
        assert leaves.min() > score[6] > 0  # neighbours above the two-hop contact
        assert score[7] == score[8] == 0  # no path from a churner
    np.testing.assert_allclose(sa[2:6], sa[2])  # symmetric leaves score alike
    res = score_churn(star, AS_OF)
    s = res.scores
    assert s.loc[0, "churned"] and np.isnan(s.loc[0, "spreading_activation"])  # churners are not scored
    assert s["churned_contacts"].tolist() == [0, 1, 1, 1, 1, 1, 0, 0, 0]
    order = s["contagion_score"].fillna(-1).to_numpy().argsort()[::-1]
    assert set(order[:5]) == {1, 2, 3, 4, 5}
    # one churner in [t0, as_of) is too few to fit a classifier: said so, churn_risk left NaN
    assert res.metrics["training"]["fitted"] is False
    assert s["churn_risk"].isna().all()


def test_old_and_future_churners_do_not_seed(star):
    subs = star.subscribers.copy()
    subs["churn_date"] = pd.to_datetime(pd.Series([pd.NaT] * 9))
    subs.loc[0, "churn_date"] = pd.Timestamp("2024-03-05")  # after as_of: future, invisible
    g = ContactGraph(subs, star.contacts)
    assert spreading_activation(g, AS_OF)["spreading_activation"].sum() == 0
    subs.loc[0, "churn_date"] = pd.Timestamp("2023-12-01")  # before as_of but outside the 30-day window
    g = ContactGraph(subs, star.contacts)
    assert spreading_activation(g, AS_OF)["spreading_activation"].sum() == 0
    assert spreading_activation(g, AS_OF, recency_days=120)["spreading_activation"].sum() == pytest.approx(1.0)


# --- features ------------------------------------------------------------------------------------------
def test_direction_recency_and_strength_features():
    # 0 calls churner 2 (churned 10 days ago) 6 times, 2 never calls 0; 1 is only called by 2.
    # 3 knows churner 4 who churned 60 days ago (outside the recency window, decayed more)
    edges = [(0, 2), (1, 2), (3, 4), (0, 1)]
    subs = _subs(5, {2: "2024-02-20", 4: "2024-01-01"}, arpu=[10.0, 20, 30, 40, 50], plan="prepaid")
    g = ContactGraph.from_edges(
        edges, [2.0, 1.0, 1.0, 1.0], subscribers=subs,
        calls_ab=[6, 0, 1, 1], calls_ba=[0, 3, 1, 1], seconds_ab=[600, 0, 60, 60], seconds_ba=[0, 300, 60, 60],
        sms_ab=[0, 0, 0, 0], sms_ba=[0, 0, 0, 0],
    )
    f = churn_features(g, AS_OF, NetworkOptions(decay_days=30.0))
    net, own = f.network, f.own
    assert list(net.columns) == list(NETWORK_FEATURES) and list(own.columns) == list(OWN_FEATURES)
    r2, r4 = np.exp(-10 / 30), np.exp(-60 / 30)
    assert net.loc[0, "out_calls_churn_decay"] == pytest.approx(6 * r2)
    assert net.loc[0, "in_calls_churn_decay"] == 0
    assert net.loc[1, "out_calls_churn_decay"] == 0
    assert net.loc[1, "in_calls_churn_decay"] == pytest.approx(3 * r2)
    assert net.loc[0, "out_calls_churn_share"] == pytest.approx(6 / 7)
    assert net.loc[0, "churn_weight_share"] == pytest.approx(2 / 3)
    assert net.loc[0, "exposure_weight"] == pytest.approx(2 * r2)
    assert net.loc[3, "exposure_decay"] == pytest.approx(r4)
    assert net["churned_contacts"].tolist() == [1, 1, 0, 0, 0]  # 4 churned outside the window
    assert net["churned_contacts_all"].tolist() == [1, 1, 0, 1, 0]
    assert own["degree"].tolist() == [2, 2, 2, 1, 1]
    assert own.loc[0, "calls_out"] == 7 and own.loc[0, "calls_in"] == 1
    assert f.eligible.tolist() == [True, True, False, True, False]


# --- the training snapshot -----------------------------------------------------------------------------
def test_training_labels_window_is_t0_to_as_of():
    days = ["2024-01-30", "2024-01-31", "2024-02-15", "2024-02-29", "2024-03-01", "2024-03-02", None]
    subs = pd.DataFrame({"churn_date": pd.to_datetime(days)})
    # t0 = as_of - 30 days = 2024-01-31: [t0, as_of) holds 01-31, 02-15, 02-29
    assert timeline.training_labels(subs, "2024-01-31", AS_OF).tolist() == [False, True, True, True, False, False, False]
    assert timeline.churned_before(subs, AS_OF).tolist() == [True, True, True, True, False, False, False]
    # the future starts on as_of: [as_of, as_of + 30) holds 03-01 and 03-02
    assert timeline.evaluation_labels(timeline.churn_dates(subs), AS_OF, 30).tolist() == [
        False, False, False, False, True, True, False]
    assert timeline.evaluation_labels(timeline.churn_dates(subs), AS_OF, 1).tolist() == [
        False, False, False, False, True, False, False]


@pytest.fixture(scope="module")
def planted():
    return planted_churn(4000, seed=7, monthly_churn=0.04, contagion=3.0)


def test_score_churn_uses_history_snapshot_labels(planted):
    p = planted
    res = score_churn(p.graph, p.as_of, history=p.history, seed=1)
    tr = res.metrics["training"]
    t0 = p.as_of - np.timedelta64(30, "D")
    assert tr["source"] == "history" and tr["fitted"] and tr["t0"] == str(t0)
    d = p.churn_date
    at_t0 = p.graph.subscribers["on_net"].to_numpy(bool) & ~(d < t0)
    assert tr["positives"] == int((at_t0 & (d >= t0) & (d < p.as_of)).sum())
    assert tr["rows"] == int(at_t0.sum())
    s = res.scores
    assert list(s.columns) == list(SCORE_COLUMNS)
    scored = s["churn_risk"].notna()
    assert (scored == (p.graph.subscribers["on_net"].to_numpy(bool) & ~(d < p.as_of))).all()
    assert s.loc[scored, "churn_risk"].between(0, 1).all()
    assert s.loc[~scored, ["churn_risk_baseline", "spreading_activation", "contagion_score"]].isna().all().all()
    assert s["churned_contacts"].dtype == np.int64 and s["churned"].dtype == bool


def test_labels_in_training_window_move_the_model(planted):
    """The classifier learns from churn in [t0, as_of): relabelling it changes churn_risk."""
    p = planted
    base = score_churn(p.graph, p.as_of, history=p.history, seed=1).scores
    t0 = p.as_of - np.timedelta64(30, "D")
    d = p.churn_date
    in_window = (d >= t0) & (d < p.as_of)
    subs = p.graph.subscribers.copy()
    moved = pd.to_datetime(subs["churn_date"]).copy()
    # move the training-window churners into the scoring future: they become negatives at t0
    moved[in_window] = pd.Timestamp(str(p.as_of)) + pd.Timedelta(days=40)
    subs["churn_date"] = moved
    h = p.history.subscribers.copy()
    h["churn_date"] = moved
    g2, h2 = ContactGraph(subs, p.graph.contacts, p.graph.info), ContactGraph(h, p.history.contacts, p.history.info)
    res2 = score_churn(g2, p.as_of, history=h2, seed=1)
    assert res2.metrics["training"]["fitted"] is False  # nothing left to learn from
    assert not base["churn_risk"].isna().all()


def test_fallback_without_history_is_documented(planted):
    p = planted
    res = score_churn(p.graph, p.as_of, seed=1)
    assert res.metrics["training"]["source"] == "as_of_graph_backdated"
    assert "overlaps the label period" in res.metrics["training"]["note"]
    assert res.scores["churn_risk"].notna().sum() > 0


def test_seeded_runs_are_identical_and_seed_matters_only_through_the_model(planted):
    p = planted
    kw = dict(history=p.history, max_train_rows=1500)  # sampling negatives makes the seed matter
    a = score_churn(p.graph, p.as_of, seed=3, **kw)
    b = score_churn(p.graph, p.as_of, seed=3, **kw)
    pd.testing.assert_frame_equal(a.scores, b.scores, check_exact=True)
    c = score_churn(p.graph, p.as_of, seed=4, **kw)
    assert not np.array_equal(a.scores["churn_risk"].to_numpy(), c.scores["churn_risk"].to_numpy(), equal_nan=True)
    pd.testing.assert_series_equal(a.scores["contagion_score"], c.scores["contagion_score"], check_exact=True)


def test_gbm_model_and_unknown_model(planted):
    p = planted
    res = score_churn(p.graph, p.as_of, history=p.history, model="gbm")
    assert res.metrics["model"] == "gbm" and res.scores["churn_risk"].between(0, 1).sum() > 0
    with pytest.raises(ValueError, match="Unknown churn model"):
        score_churn(p.graph, p.as_of, model="forest")


def test_graph_with_contacts_after_as_of_is_refused(planted):
    p = planted
    with pytest.raises(timeline.AsOfError, match="must not see|not before"):
        score_churn(p.graph, p.as_of - np.timedelta64(5, "D"))
    with pytest.raises(timeline.AsOfError, match="history graph"):
        score_churn(p.graph, p.as_of, history=p.graph)


def test_network_options_refuse_values_out_of_range():
    with pytest.raises(ValueError, match="damping=1.0"):
        NetworkOptions(damping=1.0)
    with pytest.raises(ValueError, match="recency_days=0"):
        NetworkOptions(recency_days=0)


def test_network_options_reach_the_scores(planted):
    p = planted
    wide = score_churn(p.graph, p.as_of, history=p.history, seed=1, network=NetworkOptions(recency_days=90))
    narrow = score_churn(p.graph, p.as_of, history=p.history, seed=1, network=NetworkOptions(recency_days=5))
    assert wide.metrics["recency_days"] == 90 and narrow.metrics["recency_days"] == 5
    assert wide.scores["churned_contacts"].sum() > narrow.scores["churned_contacts"].sum()


@pytest.mark.parametrize("model", ["logistic", "gbm"])
def test_scoring_in_blocks_equals_scoring_at_once(planted, model):
    p = planted
    f = churn_features(p.graph, p.as_of)
    X = f.table(network=True)
    y = (np.arange(len(X)) % 7 == 0).astype(np.int8)
    fitted = fit_churn_model(X, y, model=model, columns=OWN_FEATURES + NETWORK_FEATURES, seed=1)
    np.testing.assert_allclose(fitted.predict_proba(X, block=97), fitted.predict_proba(X, block=len(X)), rtol=1e-12)


def test_the_history_graph_is_let_go_before_the_features_at_as_of(planted, monkeypatch):
    """The analysis step fits on the snapshot, runs the contagion test, and frees the snapshot before scoring."""
    import weakref

    import bellwether.algorithms.churn as churn
    from bellwether.algorithms.analysis import churn_step

    p = planted
    snapshot = ContactGraph(p.history.subscribers.copy(), p.history.contacts.copy(), dict(p.history.info))
    alive = weakref.ref(snapshot)
    seen = []
    real_predict = churn.predict_churn

    def predict(graph, training):
        seen.append(alive())
        return real_predict(graph, training)

    def history():
        nonlocal snapshot
        given, snapshot = snapshot, None
        return given, "snapshot"

    monkeypatch.setattr(churn, "predict_churn", predict)
    out, metrics = churn_step(p.graph, p.as_of.astype(object), history, crm="present", seed=1)
    assert seen == [None] and metrics["history"] == "snapshot"
    expected = score_churn(p.graph, p.as_of, history=p.history, seed=1).scores
    assert np.allclose(out["churn_risk"].to_numpy(), expected["churn_risk"].to_numpy(), equal_nan=True)


def test_features_of_chosen_rows_are_those_rows_of_the_whole_table(planted):
    """churn_features(rows=...) computes each feature over the whole graph and keeps only those rows."""
    t0 = planted.as_of - np.timedelta64(30, "D")
    whole = churn_features(planted.history, t0)
    rows = np.flatnonzero(whole.eligible)[::3]
    part = churn_features(planted.history, t0, rows=rows)
    assert len(part.own) == len(rows) < planted.history.n_subscribers
    pd.testing.assert_frame_equal(part.table(), whole.table(rows=rows), check_categorical=False, check_index_type=False)
    assert np.array_equal(part.eligible, whole.eligible)


def test_training_on_the_sampled_rows_equals_sampling_inside_the_fit(planted):
    """train_churn copies only the sampled rows out of the snapshot; the model is the one a fit on every row samples."""
    from bellwether.algorithms.churn import train_churn

    p = planted
    t0 = p.as_of - np.timedelta64(30, "D")
    past = churn_features(p.history, t0)
    y = timeline.training_labels(p.history.subscribers, t0, p.as_of)[past.eligible]
    X = past.table(rows=past.eligible)
    whole = fit_churn_model(X, y, columns=OWN_FEATURES + NETWORK_FEATURES, seed=1, max_rows=1500)
    trained = train_churn(p.graph, p.as_of, history=p.history, seed=1, max_train_rows=1500)
    assert trained.net_model.negative_rate == whole.negative_rate < 1.0
    assert trained.net_model.n_rows == whole.n_rows
    assert np.array_equal(trained.net_model.predict_proba(X), whole.predict_proba(X))

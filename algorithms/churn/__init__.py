"""Churn contagion: who is likely to churn next, scored strictly as of a date.

:func:`score_churn` is the entry point used by the analysis pipeline.  It

1. computes own and network features at ``as_of`` on the graph built from
   records before ``as_of`` (:mod:`~bellwether.algorithms.churn.features`), seeding the
   contagion with churners before ``as_of`` only (:mod:`~bellwether.algorithms.churn.timeline`);
2. fits the classifier on a snapshot taken one horizon earlier,
   ``t0 = as_of - horizon_days``: features of the ``history`` graph (records
   before ``t0``) with churners before ``t0``, labels = churn in ``[t0, as_of)``,
   all known at ``as_of`` (:mod:`~bellwether.algorithms.churn.model`);
3. scores the on-net persons not churned before ``as_of`` with the network
   model (``churn_risk``), the same classifier family without network features
   (``churn_risk_baseline``), plain spreading activation
   (:mod:`~bellwether.algorithms.churn.spreading_activation`) and personalised PageRank
   from recent churners (:mod:`~bellwether.algorithms.churn.contagion_ppr`).

:func:`contagion_test` answers whether churn spreads in the network at all: the
churn hazard ratio after a close contact churned, stratified, with its interval,
against a time-shuffled null (:mod:`~bellwether.algorithms.churn.contagion`).

Without a ``history`` graph the training snapshot falls back to the ``as_of``
graph itself with the seeds and labels moved back to ``t0``
(``metrics["training"]["source"] == "as_of_graph_backdated"``).  No future churn
is used, but the activity features of that graph overlap the label period
(a subscriber who churned in ``[t0, as_of)`` looks quiet in it), so the model
leans on activity more than a true snapshot would.  Pass ``history`` whenever
the records reach back far enough.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from bellwether.algorithms.churn import timeline
from bellwether.algorithms.churn.contagion import ContagionResult, contagion_test, mantel_haenszel
from bellwether.algorithms.churn.contagion_ppr import contagion_pagerank, personalized_pagerank
from bellwether.algorithms.churn.features import NETWORK_FEATURES, OWN_FEATURES, ChurnFeatures, churn_features
from bellwether.algorithms.churn.model import MODELS, PREDICT_BLOCK, ChurnModel, fit_churn_model, training_sample
from bellwether.algorithms.churn.options import NetworkOptions
from bellwether.algorithms.churn.spreading_activation import spread_energy, spreading_activation
from bellwether.graph.contact_graph import id_rows
from bellwether.graph.core.settings import DEFAULT_SEED

__all__ = [
    "ChurnResult",
    "ChurnTraining",
    "NetworkOptions",
    "MIN_POSITIVES",
    "score_churn",
    "train_churn",
    "predict_churn",
    "SCORE_COLUMNS",
    "churn_features",
    "ChurnFeatures",
    "OWN_FEATURES",
    "NETWORK_FEATURES",
    "fit_churn_model",
    "ChurnModel",
    "MODELS",
    "spread_energy",
    "spreading_activation",
    "personalized_pagerank",
    "contagion_pagerank",
    "contagion_test",
    "ContagionResult",
    "mantel_haenszel",
    "timeline",
]

MIN_POSITIVES = 10  # fewer churners (or non-churners) in the training snapshot: no classifier is fitted

SCORE_COLUMNS = (
    "vid", "churned", "churn_risk", "churn_risk_baseline", "spreading_activation", "contagion_score", "churned_contacts",
)


@dataclass
class ChurnResult:
    """Churn scores of every subscriber (``scores``) and how they were obtained (``metrics``, plain types)."""

    scores: pd.DataFrame
    metrics: dict[str, Any] = field(default_factory=dict)


def _training_labels(history: Any, graph: Any, t0: np.datetime64, as_of: np.datetime64) -> np.ndarray:
    """Churn in ``[t0, as_of)`` for each vertex of ``history``; the ``as_of`` graph's CRM wins where it knows the id."""
    labels = timeline.training_labels(history.subscribers, t0, as_of)
    if history is graph:
        return labels
    pos = id_rows(history.subscribers["id"], graph.subscribers["id"])
    found = pos >= 0
    newer = timeline.training_labels(graph.subscribers, t0, as_of)
    labels = labels.copy()
    labels[found] = newer[pos[found]]
    return labels


@dataclass
class ChurnTraining:
    """The classifiers fitted on the training snapshot (None when not fitted) and how they were obtained.

    It carries the options of the fit, so :func:`predict_churn` scores with the same ``as_of``,
    horizon, network options and model family.
    """

    as_of: np.datetime64
    horizon_days: int
    network: NetworkOptions
    seed: int
    model: str
    net_model: ChurnModel | None
    base_model: ChurnModel | None
    metrics: dict[str, Any]
    timings: dict[str, float]


def train_churn(
    graph: Any,
    as_of: Any,
    *,
    history: Any | None = None,
    horizon_days: int = 30,
    network: NetworkOptions = NetworkOptions(),
    seed: int = DEFAULT_SEED,
    model: str = "logistic",
    max_train_rows: int | None = 200_000,
) -> ChurnTraining:
    """Fit the churn classifiers on the snapshot one horizon before ``as_of`` (step 2 of the module docstring).

    Parameters are those of :func:`score_churn`.  Only the sampled training rows' features are
    held while fitting, and nothing of them is kept: the caller may let ``history`` go before
    :func:`predict_churn` computes the features at ``as_of``.
    """
    if model not in MODELS:
        raise ValueError(f"Unknown churn model {model!r}; choose one of {', '.join(MODELS)}.")
    if horizon_days <= 0:
        raise ValueError("horizon_days must be positive.")
    cut = timeline.to_day(as_of)
    t0 = cut - horizon_days * timeline.DAY
    timeline.check_graph_cut(graph, cut)
    timings: dict[str, float] = {}
    started = time.perf_counter()
    if history is not None:
        timeline.check_graph_cut(history, t0, "history graph")
        snapshot, source = history, "history"
        note = "history graph built from records before t0; seeds churn < t0; labels churn in [t0, as_of)"
    else:
        snapshot, source = graph, "as_of_graph_backdated"
        note = ("no history graph: the as_of graph with seeds churn < t0 and labels churn in [t0, as_of); "
                "its activity overlaps the label period")
    rows = timeline.eligible(snapshot.subscribers, t0)
    y = _training_labels(snapshot, graph, t0, cut)[rows]
    training: dict[str, Any] = {
        "source": source, "note": note, "t0": str(t0), "label_window": f"[{t0}, {cut})",
        "rows": int(rows.sum()), "positives": int(y.sum()),
        "base_rate": float(y.mean()) if len(y) else 0.0, "fitted": False,
    }
    net_model = base_model = None
    if min(int(y.sum()), int(len(y) - y.sum())) >= MIN_POSITIVES:
        # the features are cut to the sampled rows as they are computed: the snapshot's tables are never whole
        sample, rate = training_sample(y, max_train_rows, seed)
        X0 = churn_features(snapshot, t0, network, rows=np.flatnonzero(rows)[sample]).table(network=True)
        timings["features_t0"] = time.perf_counter() - started
        started = time.perf_counter()
        y = y[sample]
        net_model = fit_churn_model(X0, y, model=model, columns=OWN_FEATURES + NETWORK_FEATURES, seed=seed,
                                    max_rows=None, negative_rate=rate)
        base_model = fit_churn_model(X0, y, model=model, columns=OWN_FEATURES, seed=seed, max_rows=None,
                                     negative_rate=rate)
        timings["fit"] = time.perf_counter() - started
        training.update(fitted=True, sample_rows=net_model.n_rows, negative_rate=net_model.negative_rate)
    else:
        training["reason"] = (f"fewer than {MIN_POSITIVES} churners or non-churners in the training snapshot; "
                              "churn_risk left NaN")
    return ChurnTraining(cut, int(horizon_days), network, int(seed), model, net_model, base_model, training, timings)


def predict_churn(graph: Any, training: ChurnTraining) -> ChurnResult:
    """Score every subscriber of ``graph`` at the ``as_of`` of ``training`` (step 3 of the module docstring).

    ``graph`` is the one :func:`train_churn` was given; the features at ``as_of`` are computed here.
    """
    cut, network = training.as_of, training.network
    timeline.check_graph_cut(graph, cut)
    timings = dict(training.timings)
    started = time.perf_counter()
    scored = np.flatnonzero(timeline.eligible(graph.subscribers, cut))  # only their features are kept
    now = churn_features(graph, cut, network, rows=scored)
    timings["features_as_of"] = time.perf_counter() - started
    n = graph.n_subscribers
    risk = np.full(n, np.nan)
    risk_base = np.full(n, np.nan)
    if training.net_model is not None and training.base_model is not None:
        started = time.perf_counter()
        for lo in range(0, len(scored), PREDICT_BLOCK):  # one block's feature rows copied out at a time
            rows = scored[lo:lo + PREDICT_BLOCK]
            X1 = now.table(network=True, rows=rows)
            risk[rows] = training.net_model.predict_proba(X1)
            risk_base[rows] = training.base_model.predict_proba(X1)
        timings["predict"] = time.perf_counter() - started

    sa, ppr = np.full(n, np.nan), np.full(n, np.nan)
    sa[scored] = now.network["spreading_activation"].to_numpy()
    ppr[scored] = now.network["contagion_score"].to_numpy()
    scores = pd.DataFrame({
        "vid": np.arange(n, dtype=np.int64),
        "churned": now.churned.astype(bool),
        "churn_risk": risk,
        "churn_risk_baseline": risk_base,
        "spreading_activation": sa,
        "contagion_score": ppr,
        "churned_contacts": now.churned_contacts.round().astype(np.int64),
    })
    fitted = training.metrics["fitted"]
    metrics: dict[str, Any] = {
        "as_of": str(cut),
        "horizon_days": training.horizon_days,
        "recency_days": int(network.recency_days),
        "decay_days": float(network.decay_days),
        "seed": training.seed,
        "model": training.model,
        "spreading_activation": {"spreading_factor": float(network.spreading_factor), "threshold": float(network.sa_threshold),
                                 "seeds": int(now.recent.sum())},
        "contagion_pagerank": {"damping": float(network.damping), "seeds": int(now.recent.sum())},
        "training": dict(training.metrics),
        "scored": int(len(scored)),
        "churned_before_as_of": int(now.churned.sum()),
        "recent_churners": int(now.recent.sum()),
        "mean_churn_risk": float(np.nanmean(risk)) if fitted and len(scored) else None,
        "timings": {k: round(v, 3) for k, v in timings.items()},
    }
    return ChurnResult(scores, metrics)


def score_churn(
    graph: Any,
    as_of: Any,
    *,
    history: Any | None = None,
    horizon_days: int = 30,
    network: NetworkOptions = NetworkOptions(),
    seed: int = DEFAULT_SEED,
    model: str = "logistic",
    max_train_rows: int | None = 200_000,
) -> ChurnResult:
    """Score churn risk and contagion of every subscriber of ``graph`` as of ``as_of``.

    :func:`train_churn` then :func:`predict_churn`; call those two to let the ``history`` graph go
    between them.

    Parameters
    ----------
    graph : ContactGraph
        Built from records before ``as_of`` (a ``ValueError`` names the problem otherwise).
    as_of : date-like
        Churn strictly before it seeds the contagion; later churn is never read.
    history : ContactGraph, optional
        Graph built from records before ``t0 = as_of - horizon_days``: the training snapshot.
        None uses the fallback described in the module docstring.
    horizon_days : int, default 30
        Prediction horizon: ``churn_risk`` is the probability of churn in ``[as_of, as_of + horizon_days)``.
    network : NetworkOptions
        How churned contacts count in the features (:class:`~bellwether.algorithms.churn.options.NetworkOptions`:
        recency window of ``churned_contacts`` and the contagion seeds, decay, spreading activation,
        PageRank damping, tie strength column).
    seed : int, default 42
        Seed of the training sample and of the classifier.
    model : {"logistic", "gbm"}, default "logistic"
        Classifier family of both ``churn_risk`` and ``churn_risk_baseline``.
    max_train_rows : int or None, default 200_000
        Training rows kept (all positives, sampled negatives).
    Returns
    -------
    ChurnResult
        ``scores`` has one row per subscriber with :data:`SCORE_COLUMNS`: ``churned`` (churned before
        ``as_of``) and ``churned_contacts`` (contacts who churned in the recency window) for everyone;
        ``churn_risk``, ``churn_risk_baseline``, ``spreading_activation`` and ``contagion_score`` for
        on-net persons not churned before ``as_of``, NaN for the others (off-net numbers, service
        numbers, churners).  ``churn_risk*`` are NaN everywhere when the training snapshot holds fewer
        than :data:`MIN_POSITIVES` churners or non-churners (``metrics["training"]["fitted"]`` is False).

    Raises
    ------
    ValueError
        ``model`` is unknown; :class:`~bellwether.algorithms.churn.timeline.AsOfError` (a ValueError) when a graph
        holds contacts from on or after its cut.
    """
    training = train_churn(graph, as_of, history=history, horizon_days=horizon_days, network=network, seed=seed,
                           model=model, max_train_rows=max_train_rows)
    return predict_churn(graph, training)

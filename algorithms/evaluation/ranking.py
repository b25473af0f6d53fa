"""Ranking quality of a churn score against known churn: AUC, lift, gains and lift by decile, one tie rule.

* **AUC** is the probability that a random churner is ranked above a random
  non-churner, ties counting one half (scikit-learn's ``roc_auc_score``; Hanley
  and McNeil 1982, doi:10.1148/radiology.143.1.7063747).
* **Lift at q** is the churn rate among the top ``k = ceil(q * n)`` subscribers
  by score divided by the overall churn rate (the lift curve of Dasgupta et al.
  2008, doi:10.1145/1353343.1353424).
* **Gains** (share of churners among the top ``k``) and **lift by decile** come
  from the same count.

One tie rule everywhere (:func:`expected_hits`): scores tied across a cut-off
are taken in random order *in expectation*: the tied group straddling position
``k`` contributes its churn rate times the number of places left, so no figure
depends on row order (a score that is 0 for most subscribers gets no credit for
how the rows happen to be sorted).  ``evaluate``, the benchmarks and the report
all count this way.

Missing scores (NaN) rank below every number.
"""

from __future__ import annotations

import math
from typing import Mapping, Sequence

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

__all__ = ["auc", "decile_lift", "expected_hits", "gains_curve", "lift_at", "ranking_table", "FRACTIONS"]

FRACTIONS = (0.01, 0.05, 0.10)


def _prepare(y_true: Sequence[bool] | np.ndarray, score: Sequence[float] | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Labels as bool and scores as float, NaN moved below every number (finite, for scikit-learn)."""
    y = np.asarray(y_true, dtype=bool)
    s = np.asarray(score, dtype=np.float64)
    if y.shape != s.shape:
        raise ValueError(f"labels and scores differ in length: {y.shape} vs {s.shape}.")
    missing = np.isnan(s)
    if missing.any():
        floor = s[~missing].min() - 1.0 if (~missing).any() else 0.0
        s = np.where(missing, floor, s)
    return y, s


def auc(y_true: Sequence[bool] | np.ndarray, score: Sequence[float] | np.ndarray) -> float:
    """Area under the ROC curve of ``score`` for labels ``y_true`` (NaN if a class is missing).

    >>> auc([1, 0, 1, 0], [0.9, 0.8, 0.3, 0.1])
    0.75
    """
    y, s = _prepare(y_true, score)
    if y.all() or not y.any():
        return float("nan")
    return float(roc_auc_score(y, s))


def expected_hits(y_true: Sequence[bool] | np.ndarray, score: Sequence[float] | np.ndarray) -> np.ndarray:
    """Expected churners among the top ``k`` by score, for ``k = 0..n`` (ties taken in random order).

    Entry ``k`` is the churners strictly above the ``k``-th score plus, for the group of
    scores tied with it, its churn rate times the places of the group that fit in ``k``.
    """
    y, s = _prepare(y_true, score)
    n = len(y)
    out = np.zeros(n + 1)
    if n == 0:
        return out
    order = np.argsort(-s, kind="stable")
    ss, yy = s[order], y[order].astype(np.float64)
    starts = np.flatnonzero(np.r_[True, ss[1:] != ss[:-1]])  # first position of each tied group
    sizes = np.diff(np.r_[starts, n])
    group_hits = np.add.reduceat(yy, starts)
    before = np.r_[0.0, np.cumsum(group_hits)[:-1]]  # churners in the groups above
    group = np.repeat(np.arange(len(starts)), sizes)
    taken = np.arange(1, n + 1) - starts[group]  # places of its group within the top k
    out[1:] = before[group] + group_hits[group] / sizes[group] * taken
    return out


def lift_at(y_true: Sequence[bool] | np.ndarray, score: Sequence[float] | np.ndarray, fraction: float) -> float:
    """Lift of the top ``fraction`` of subscribers by ``score`` (ties at the cut-off taken in expectation).

    >>> lift_at([1, 0, 0, 0], [1.0, 1.0, 0.0, 0.0], 0.25)
    2.0
    """
    if not 0.0 < fraction <= 1.0:
        raise ValueError(f"fraction must be in (0, 1], got {fraction}.")
    y = np.asarray(y_true, dtype=bool)
    n = len(y)
    if n == 0 or not y.any():
        return float("nan")
    k = max(1, math.ceil(fraction * n - 1e-9))
    return float((expected_hits(y, score)[k] / k) / y.mean())


def gains_curve(y_true: Sequence[bool] | np.ndarray, score: Sequence[float] | np.ndarray,
                n_points: int = 101) -> pd.DataFrame:
    """Cumulative gains: the share of churners captured when the top share of customers by ``score`` is targeted."""
    y = np.asarray(y_true, dtype=bool)
    hits = expected_hits(y, score)
    share = np.linspace(0, 1, n_points)
    k = np.round(share * len(y)).astype(np.int64)
    return pd.DataFrame({"share_targeted": share, "share_captured": hits[k] / max(int(y.sum()), 1)})


def decile_lift(y_true: Sequence[bool] | np.ndarray, score: Sequence[float] | np.ndarray,
                n_bins: int = 10) -> pd.DataFrame:
    """Churn rate and lift over the base rate per score decile (1 = highest scores).

    Columns ``decile``, ``n``, ``churners`` (expected, under the tie rule), ``rate``, ``lift``.
    """
    y = np.asarray(y_true, dtype=bool)
    hits = expected_hits(y, score)
    sizes = np.array([len(b) for b in np.array_split(np.arange(len(y)), n_bins)], dtype=np.int64)
    edges = np.r_[0, np.cumsum(sizes)]
    churners = np.diff(hits[edges])
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = churners / sizes
    base = y.mean() if len(y) else np.nan
    t = pd.DataFrame({"decile": np.arange(1, n_bins + 1), "n": sizes, "churners": churners, "rate": rate})
    t["lift"] = t["rate"] / base if base and base > 0 else np.nan
    return t


def ranking_table(
    y_true: Sequence[bool] | np.ndarray,
    scores: Mapping[str, Sequence[float] | np.ndarray],
    fractions: Sequence[float] = FRACTIONS,
) -> pd.DataFrame:
    """AUC and lift at each fraction for each named score: one row per score.

    Columns: ``score``, ``auc``, ``lift_1`` / ``lift_5`` / ``lift_10`` (percent of the fraction).
    """
    rows = []
    for name, s in scores.items():
        row: dict[str, float | str] = {"score": name, "auc": auc(y_true, s)}
        for q in fractions:
            row[f"lift_{round(q * 100):d}"] = lift_at(y_true, s, q)
        rows.append(row)
    return pd.DataFrame(rows)

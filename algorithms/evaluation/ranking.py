"""Ranking quality of a churn score against known churn: AUC and lift at the top of the list.

* **AUC** is the probability that a random churner is ranked above a random
  non-churner, ties counting one half; computed from average ranks as the
  Mann-Whitney statistic ``(R_pos - n_pos (n_pos + 1) / 2) / (n_pos n_neg)``
  (Hanley and McNeil 1982, doi:10.1148/radiology.143.1.7063747).
* **Lift at q** is the churn rate among the top ``k = ceil(q * n)`` subscribers
  by score divided by the overall churn rate (the lift curve of Dasgupta et al.
  2008, doi:10.1145/1353343.1353424).  Scores tied across the cut-off are taken
  in random order *in expectation*: the tied group straddling position ``k``
  contributes its churn rate times the number of places left, so the figure
  does not depend on row order (a score that is 0 for most subscribers gets no
  credit for how the rows happen to be sorted).

Missing scores (NaN) rank below every number.
"""

from __future__ import annotations

import math
from typing import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy.stats import rankdata

__all__ = ["auc", "lift_at", "ranking_table", "FRACTIONS"]

FRACTIONS = (0.01, 0.05, 0.10)


def _prepare(y_true: Sequence[bool] | np.ndarray, score: Sequence[float] | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(y_true, dtype=bool)
    s = np.asarray(score, dtype=np.float64)
    if y.shape != s.shape:
        raise ValueError(f"labels and scores differ in length: {y.shape} vs {s.shape}.")
    return y, np.where(np.isnan(s), -np.inf, s)


def auc(y_true: Sequence[bool] | np.ndarray, score: Sequence[float] | np.ndarray) -> float:
    """Area under the ROC curve of ``score`` for labels ``y_true`` (NaN if a class is missing).

    >>> auc([1, 0, 1, 0], [0.9, 0.8, 0.3, 0.1])
    0.75
    """
    y, s = _prepare(y_true, score)
    n_pos = int(y.sum())
    n_neg = len(y) - n_pos
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    ranks = rankdata(s, method="average")
    return float((ranks[y].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


def lift_at(y_true: Sequence[bool] | np.ndarray, score: Sequence[float] | np.ndarray, fraction: float) -> float:
    """Lift of the top ``fraction`` of subscribers by ``score`` (ties at the cut-off taken in expectation).

    >>> lift_at([1, 0, 0, 0], [1.0, 1.0, 0.0, 0.0], 0.25)
    2.0
    """
    if not 0.0 < fraction <= 1.0:
        raise ValueError(f"fraction must be in (0, 1], got {fraction}.")
    y, s = _prepare(y_true, score)
    n = len(y)
    if n == 0 or not y.any():
        return float("nan")
    k = max(1, math.ceil(fraction * n - 1e-9))
    threshold = np.sort(s)[::-1][k - 1]
    above = s > threshold
    tied = s == threshold
    hits = y[above].sum() + y[tied].sum() * (k - above.sum()) / tied.sum()
    return float((hits / k) / y.mean())


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

"""A plain scikit-learn churn classifier: logistic regression (default) or gradient boosting.

The same family is fitted twice on the same rows: once on own and network
features (``churn_risk``), once on own features only (``churn_risk_baseline``),
so the difference between the two is what the network adds.

* ``"logistic"`` (default): one-hot categories, ``sign(x) * log1p(|x|)``, median
  imputation, standardisation, then :class:`sklearn.linear_model.LogisticRegression`.
  Churn hazards multiply (value, tenure, each churned tie), so their logarithm is
  close to linear in the log-scaled features; on the synthetic operator it ranked
  better than boosting and fits faster (``python -m bench.eval_churn --model gbm``).
* ``"gbm"``: :class:`sklearn.ensemble.HistGradientBoostingClassifier`
  (Ke et al. 2017's histogram boosting; categorical ``plan`` / ``region``
  handled natively, missing values routed by the trees), fixed number of
  iterations, no early stopping, so a fit is deterministic for a seed; for
  effects that are not log-linear.

Large training sets keep every positive and a seeded random sample of the
negatives (``max_rows``); predicted probabilities are corrected back to the
full population by the sampling rate (King and Zeng 2001, "Logistic
regression in rare events data", doi:10.1093/oxfordjournals.pan.a004868):
``odds = odds_sample * rate``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np
import pandas as pd

from bellwether.algorithms.churn.features import CATEGORICAL_FEATURES
from bellwether.graph.core.settings import DEFAULT_SEED

__all__ = ["MODELS", "ChurnModel", "fit_churn_model", "training_sample"]

MODELS = ("logistic", "gbm")
MAX_CATEGORIES = 250  # HistGradientBoosting handles at most 255 categories per feature


#: rows scored at a time by :meth:`ChurnModel.predict_proba`
PREDICT_BLOCK = 100_000


@dataclass
class ChurnModel:
    """A fitted classifier with the columns and categories it was fitted on."""

    kind: str
    estimator: Any
    columns: list[str]
    categories: dict[str, list[str]] = field(default_factory=dict)
    negative_rate: float = 1.0  # share of negatives kept when fitting
    n_rows: int = 0
    n_positive: int = 0
    n_threads: int | None = 1

    def design(self, X: pd.DataFrame) -> pd.DataFrame:
        """Select and encode the fitted columns of ``X`` (unknown categories become missing)."""
        out = X.loc[:, self.columns].copy()
        for col, cats in self.categories.items():
            if self.kind == "gbm":
                out[col] = pd.Categorical(out[col].astype(object), categories=cats)
            else:  # the one-hot encoder ignores unknown categories itself
                out[col] = out[col].astype(str).astype(object)
        return out

    def predict_proba(self, X: pd.DataFrame, block: int = PREDICT_BLOCK) -> np.ndarray:
        """Probability of churn within the horizon for each row of ``X``, corrected for negative sampling.

        Rows are encoded and scored ``block`` at a time (every step of the model is row by row), so
        memory holds one block's design matrix, not the whole table's.
        """
        if len(X) == 0:
            return np.zeros(0)
        p = np.empty(len(X))
        with _threads(self.n_threads):
            for lo in range(0, len(X), block):
                p[lo:lo + block] = self.estimator.predict_proba(self.design(X.iloc[lo:lo + block]))[:, 1]
        if self.negative_rate < 1.0:
            odds = p / np.clip(1.0 - p, 1e-12, None) * self.negative_rate
            p = odds / (1.0 + odds)
        return p


def _threads(n_threads: int | None) -> Any:
    """Limit OpenMP threads while fitting or predicting (None: the library default).

    Gradient boosting's OpenMP threads busy-wait; on cores shared with other work that
    slows a fit down by an order of magnitude, so the default is one thread.
    """
    from contextlib import nullcontext

    from threadpoolctl import threadpool_limits

    return nullcontext() if n_threads is None else threadpool_limits(limits=n_threads, user_api="openmp")


def _signed_log(x: np.ndarray) -> np.ndarray:
    return np.sign(x) * np.log1p(np.abs(x))


def _estimator(kind: str, categorical: list[str], numeric: list[str], seed: int) -> Any:
    if kind == "gbm":
        from sklearn.ensemble import HistGradientBoostingClassifier

        return HistGradientBoostingClassifier(
            max_iter=100, learning_rate=0.1, max_leaf_nodes=31, min_samples_leaf=50,
            l2_regularization=1.0, early_stopping=False, categorical_features="from_dtype", random_state=seed,
        )
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

    num = make_pipeline(FunctionTransformer(_signed_log), SimpleImputer(strategy="median"), StandardScaler())
    cat = make_pipeline(SimpleImputer(strategy="constant", fill_value="unknown"), OneHotEncoder(handle_unknown="ignore"))
    prep = ColumnTransformer([("num", num, numeric), ("cat", cat, categorical)])
    return make_pipeline(prep, LogisticRegression(C=1.0, max_iter=2000, random_state=seed))


def training_sample(y: np.ndarray, max_rows: int | None, seed: int = DEFAULT_SEED) -> tuple[np.ndarray, float]:
    """The rows a fit keeps: every positive and a seeded random sample of the negatives, about ``max_rows``
    in all (None: every row); returns their positions, sorted, and the share of the negatives kept."""
    y = np.asarray(y, dtype=bool)
    idx = np.arange(len(y))
    n_neg = int((~y).sum())
    if max_rows is not None and len(y) > max_rows:
        keep_neg = max(max_rows - int(y.sum()), 1)
        if keep_neg < n_neg:
            neg = np.random.default_rng(seed).choice(np.flatnonzero(~y), size=keep_neg, replace=False)
            return np.sort(np.concatenate([np.flatnonzero(y), neg])), keep_neg / n_neg
    return idx, 1.0


def fit_churn_model(
    X: pd.DataFrame,
    y: np.ndarray,
    *,
    model: str = "logistic",
    columns: Sequence[str] | None = None,
    seed: int = DEFAULT_SEED,
    max_rows: int | None = 200_000,
    n_threads: int | None = 1,
    negative_rate: float = 1.0,
) -> ChurnModel:
    """Fit a churn classifier on ``X[columns]`` against the boolean labels ``y``.

    Parameters
    ----------
    X : pandas.DataFrame
        Feature rows (categorical columns ``plan`` / ``region`` as strings).
    y : array of bool
        Churned within the horizon.
    model : {"logistic", "gbm"}, default "logistic"
        Classifier family.
    columns : sequence of str, optional
        Feature columns to use (default: all of ``X``).
    seed : int, default 42
        Seed of the negative sample and of the estimator.
    max_rows : int or None, default 200_000
        Keep every positive and sample negatives down to about this many rows (None: all rows).
    n_threads : int or None, default 1
        OpenMP threads for fitting and predicting (None: all cores).
    negative_rate : float, default 1.0
        Share of the negatives the caller kept when it sampled ``X`` itself (:func:`training_sample`),
        so the probabilities are corrected for both samplings.

    Returns
    -------
    ChurnModel

    Raises
    ------
    ValueError
        Unknown ``model``, or ``y`` holds a single class.
    """
    if model not in MODELS:
        raise ValueError(f"Unknown churn model {model!r}; choose one of {', '.join(MODELS)}.")
    y = np.asarray(y, dtype=bool)
    if y.all() or not y.any():
        raise ValueError("Cannot fit a churn classifier: the training labels hold a single class.")
    cols = list(X.columns if columns is None else columns)
    idx, rate = training_sample(y, max_rows, seed)
    rate *= negative_rate
    Xs = X.iloc[idx]
    ys = y[idx]
    categorical = [c for c in cols if c in CATEGORICAL_FEATURES]
    categories: dict[str, list[str]] = {}
    for c in categorical:
        counts = Xs[c].astype(str).value_counts()
        categories[c] = sorted(counts.index[:MAX_CATEGORIES].tolist())
    fitted = ChurnModel(model, None, cols, categories, rate, int(len(idx)), int(ys.sum()), n_threads)
    numeric = [c for c in cols if c not in categorical]
    est = _estimator(model, categorical, numeric, seed)
    with _threads(n_threads):
        est.fit(fitted.design(Xs), ys)
    fitted.estimator = est
    return fitted

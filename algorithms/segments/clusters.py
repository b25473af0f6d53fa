"""Behavioural clusters: k-means on standardised usage and network features, described in plain words.

Each feature is standardised, :math:`z = (x - \\bar x) / s`, over the subscribers
being clustered (missing values take the feature's median first; counts enter as
:math:`\\log(1 + x)`), then Lloyd's k-means with k-means++ starts (Arthur &
Vassilvitskii 2007, doi:10.1145/1283383.1283494; scikit-learn ``KMeans``) groups the
subscribers.  For speed on millions of rows the centres are fitted on a seeded sample
of at most ``sample`` subscribers and every subscriber is then assigned to its nearest
centre.  Clusters are numbered by size, largest first, so the numbering is stable for
a given seed.

A cluster is described by the features whose centre lies furthest from the overall
mean (largest :math:`|z|`, at least ``min_z``), each turned into words — for example
``"high ARPU, voice-centric, many strong ties"``.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd
from bellwether.graph.core.settings import DEFAULT_SEED

__all__ = ["CLUSTER_FEATURES", "FEATURE_WORDS", "kmeans_clusters", "describe_clusters"]

# feature -> (transform, words when above average, words when below average)
FEATURE_WORDS: dict[str, tuple[str, str, str]] = {
    "arpu": ("identity", "high ARPU", "low ARPU"),
    "tenure_months": ("identity", "long tenure", "short tenure"),
    "voice_share": ("identity", "voice-centric", "SMS-centric"),
    "voice_seconds": ("log1p", "long talk time", "little talk time"),
    "sms": ("log1p", "heavy SMS", "few SMS"),
    "degree": ("log1p", "many contacts", "few contacts"),
    "strong_ties": ("log1p", "many strong ties", "few strong ties"),
    "on_net_share": ("identity", "mostly on-net contacts", "many off-net contacts"),
    "pagerank": ("log", "central in the network", "on the network's edge"),
}
CLUSTER_FEATURES = tuple(FEATURE_WORDS)


def _matrix(features: pd.DataFrame, names: Sequence[str]) -> np.ndarray:
    cols = []
    for name in names:
        x = features[name].to_numpy(np.float64, na_value=np.nan)
        transform = FEATURE_WORDS.get(name, ("identity",))[0]
        if transform == "log1p":
            x = np.log1p(np.clip(x, 0, None))
        elif transform == "log":
            x = np.log(np.where(x > 0, x, np.nan))
        med = np.nanmedian(x) if np.isfinite(x).any() else 0.0
        cols.append(np.where(np.isfinite(x), x, med))
    return np.column_stack(cols) if cols else np.empty((len(features), 0))


def describe_clusters(centres_z: np.ndarray, names: Sequence[str], *, min_z: float = 0.25, n_words: int = 3) -> list[str]:
    """Return one plain-words label per cluster centre (rows of ``centres_z``, in z-units).

    The ``n_words`` features with the largest ``|z| >= min_z`` are named, strongest first;
    a cluster with none is ``"typical usage"``.  Labels that would repeat are made unique
    by naming more features, then by a number.
    """
    labels: list[str] = []
    for row in np.asarray(centres_z, dtype=np.float64):
        order = np.argsort(-np.abs(row), kind="stable")
        words = [
            FEATURE_WORDS.get(names[j], ("", f"high {names[j]}", f"low {names[j]}"))[1 if row[j] > 0 else 2]
            for j in order
            if abs(row[j]) >= min_z
        ]
        label = ", ".join(words[:n_words]) or "typical usage"
        extra = n_words
        while label in labels and extra < len(words):
            extra += 1
            label = ", ".join(words[:extra])
        if label in labels:
            label = f"{label} ({len(labels) + 1})"
        labels.append(label)
    return labels


def kmeans_clusters(
    features: pd.DataFrame,
    *,
    k: int = 5,
    names: Sequence[str] | None = None,
    seed: int = DEFAULT_SEED,
    sample: int | None = 200_000,
    min_z: float = 0.25,
) -> tuple[np.ndarray, pd.DataFrame]:
    """Cluster subscribers with k-means on standardised features and describe each cluster.

    Parameters
    ----------
    features : pandas.DataFrame
        One row per subscriber to cluster; columns named in ``names``.
    k : int, default 5
        Number of clusters (fewer when there are fewer distinct subscribers).
    names : sequence of str, optional
        Feature columns to use; default: those of :data:`CLUSTER_FEATURES` present.
    seed : int, default 42
        Seed for the sample and the k-means++ starts; same seed → same clusters.
    sample : int or None, default 200_000
        Fit the centres on at most this many subscribers (None: all).
    min_z : float, default 0.25
        Smallest standardised distance from the mean for a feature to be named.

    Returns
    -------
    cluster : numpy.ndarray of int64
        Cluster number per row, ``0`` the largest cluster.
    clusters : pandas.DataFrame
        One row per cluster: ``cluster``, ``size``, ``cluster_label`` and the centre
        of every feature in z-units (``z_<feature>``).
    """
    from sklearn.cluster import KMeans

    names = [c for c in (names or CLUSTER_FEATURES) if c in features.columns]
    x = _matrix(features, names)
    n = len(x)
    if n == 0:
        return np.empty(0, np.int64), pd.DataFrame(columns=["cluster", "size", "cluster_label"])
    mean, std = x.mean(axis=0), x.std(axis=0)
    std[std == 0] = 1.0
    z = (x - mean) / std
    k = max(1, min(int(k), len(np.unique(z, axis=0)) if n <= 10_000 else int(k)))
    rng = np.random.default_rng(seed)
    fit_rows = z if sample is None or n <= sample else z[np.sort(rng.choice(n, size=sample, replace=False))]
    model = KMeans(n_clusters=k, n_init=3, random_state=seed).fit(fit_rows)
    raw = model.predict(z) if fit_rows is not z else model.labels_
    sizes = np.bincount(raw, minlength=k)
    order = np.lexsort((np.arange(k), -sizes))  # largest first, ties by fitted number
    renumber = np.empty(k, np.int64)
    renumber[order] = np.arange(k)
    cluster = renumber[raw].astype(np.int64)
    centres = np.vstack([z[cluster == c].mean(axis=0) if (cluster == c).any() else np.zeros(len(names)) for c in range(k)])
    table = pd.DataFrame({"cluster": np.arange(k, dtype=np.int64), "size": np.bincount(cluster, minlength=k)})
    table["cluster_label"] = describe_clusters(centres, names, min_z=min_z)
    for j, name in enumerate(names):
        table[f"z_{name}"] = centres[:, j]
    return cluster, table

"""Agreement of a run's communities with planted (known) communities: NMI, AMI, ARI, recovery by size class.

``NMI(U, V) = I(U; V) / mean(H(U), H(V))`` with the arithmetic mean, the
normalisation of Danon, Diaz-Guilera, Duch and Arenas 2005 ("Comparing
community structure identification", doi:10.1088/1742-5468/2005/09/P09008),
computed by :func:`sklearn.metrics.normalized_mutual_info_score`
(``average_method="arithmetic"``).  1 means the same partition up to
relabelling; 0 means independent.

NMI flatters partitions into many small groups: with many groups on both sides,
two unrelated partitions share a lot of "information" by chance (on a
generated operator of 20,000 subscribers, the run's communities with their
labels shuffled still score NMI 0.70 against the planted ones, AMI and ARI 0.00).  The chance-corrected scores are reported beside it: AMI, mutual
information adjusted for chance (Vinh, Epps & Bailey 2010, JMLR 11), and ARI,
the adjusted Rand index (Hubert & Arabie 1985); both are 0 in expectation for
unrelated partitions and 1 for equal ones (scikit-learn's
:func:`~sklearn.metrics.adjusted_mutual_info_score`,
:func:`~sklearn.metrics.adjusted_rand_score`).

Recovery by size class: for each planted group, the share of its members found
in the run community that holds most of them, averaged over the groups of a
class (``family``, ``friends``, ``workplace`` for ``bellwether generate``'s
truth, whose ``truth.csv`` has no type column: the class follows from the
group's planted size, the ranges being those the generator records in
``operator.json`` beside ``truth.csv``, :data:`SIZE_CLASSES` by default).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd

__all__ = ["nmi", "ami", "ari", "expected_mutual_information", "community_agreement", "recovery_by_class", "size_class", "read_size_classes",
           "SIZE_CLASSES"]

#: planted size range of each group type of ``bellwether generate`` (``operator.json``: planted.community_sizes)
SIZE_CLASSES: dict[str, tuple[int, int]] = {"family": (3, 8), "friends": (10, 30), "workplace": (31, 400)}


def nmi(labels_a: Sequence | np.ndarray, labels_b: Sequence | np.ndarray) -> float:
    """Normalised mutual information of two labelings of the same items (arithmetic normalisation).

    >>> nmi([0, 0, 1, 1], [5, 5, 7, 7])
    1.0
    """
    from sklearn.metrics import normalized_mutual_info_score

    a, b = np.asarray(labels_a), np.asarray(labels_b)
    if a.shape != b.shape:
        raise ValueError(f"labelings differ in length: {a.shape} vs {b.shape}.")
    if len(a) == 0:
        return float("nan")
    return float(normalized_mutual_info_score(a, b, average_method="arithmetic"))


def _pair(labels_a, labels_b):
    a, b = np.asarray(labels_a), np.asarray(labels_b)
    if a.shape != b.shape:
        raise ValueError(f"labelings differ in length: {a.shape} vs {b.shape}.")
    return a, b


def ami(labels_a: Sequence | np.ndarray, labels_b: Sequence | np.ndarray) -> float:
    """Adjusted mutual information (arithmetic normalisation): 0 in expectation for unrelated labelings.

    The same figure as :func:`sklearn.metrics.adjusted_mutual_info_score` (Vinh, Epps & Bailey
    2010, eq. 24a with the arithmetic mean), with the expected mutual information from
    :func:`expected_mutual_information`, which scikit-learn computes cell by cell of the
    contingency table: hours on a million subscribers (``bench/RESULTS.md``, "Partition scores").

    >>> ami([0, 0, 1, 1], [5, 5, 7, 7])
    1.0
    """
    from sklearn.metrics import mutual_info_score

    a, b = _pair(labels_a, labels_b)
    if not len(a):
        return float("nan")
    sizes_a = np.unique(a, return_counts=True)[1]
    sizes_b = np.unique(b, return_counts=True)[1]
    if len(sizes_a) == len(sizes_b) and len(sizes_a) in (1, len(a)):
        return 1.0  # both one group, or both all singletons: scikit-learn's convention
    mi = float(mutual_info_score(a, b))
    emi = expected_mutual_information(sizes_a, sizes_b, len(a))
    mean_h = (_entropy(sizes_a) + _entropy(sizes_b)) / 2
    eps = np.finfo(float).eps
    denominator = mean_h - emi
    denominator = min(denominator, -eps) if denominator < 0 else max(denominator, eps)
    return float((mi - emi) / denominator)


def _entropy(sizes: np.ndarray) -> float:
    p = np.asarray(sizes, dtype=float) / float(np.sum(sizes))
    return float(-(p * np.log(p)).sum())


def expected_mutual_information(sizes_a: Sequence[int] | np.ndarray, sizes_b: Sequence[int] | np.ndarray,
                                n: int) -> float:
    """Expected mutual information (nats) of two random labelings with the given group sizes.

    The hypergeometric sum of Vinh, Epps & Bailey (2010, eq. 24a) over pairs of groups ``(i, j)``
    and overlaps ``n_ij``.  A pair's term depends only on the two sizes, so the sum runs over
    distinct sizes, weighted by how many groups have each: a few hundred distinct sizes where a
    million-subscriber partition has hundreds of thousands of groups.

    >>> round(expected_mutual_information([2, 2], [2, 2], 4), 6)
    0.231049
    """
    from scipy.special import gammaln

    size_a, count_a = np.unique(np.asarray(sizes_a, dtype=np.int64), return_counts=True)
    size_b, count_b = np.unique(np.asarray(sizes_b, dtype=np.int64), return_counts=True)
    log_fact = gammaln(np.arange(1, n + 2, dtype=float))  # log_fact[k] = log(k!)
    total, big_n = 0.0, float(n)
    col = size_b[:, None]
    for a, weight in zip(size_a, count_a):
        overlap = np.arange(1, int(min(a, size_b.max())) + 1, dtype=np.int64)[None, :]
        valid = (overlap <= np.minimum(a, col)) & (overlap >= np.maximum(1, a + col - n))
        k = np.where(valid, overlap, 1)
        log_p = (log_fact[a] + log_fact[col] + log_fact[n - a] + log_fact[n - col] - log_fact[n] - log_fact[k]
                 - log_fact[a - k] - log_fact[np.where(valid, col - k, 0)]
                 - log_fact[np.where(valid, n - a - col + k, 0)])
        prob = np.exp(np.where(valid, log_p, -np.inf))
        term = (k / big_n) * (np.log(big_n) + np.log(k) - np.log(a) - np.log(col)) * prob
        total += float(weight) * float(term.sum(axis=1) @ count_b)
    return total


def ari(labels_a: Sequence | np.ndarray, labels_b: Sequence | np.ndarray) -> float:
    """Adjusted Rand index: 0 in expectation for unrelated labelings, 1 for equal ones.

    >>> ari([0, 0, 1, 1], [5, 5, 7, 7])
    1.0
    """
    from sklearn.metrics import adjusted_rand_score

    a, b = _pair(labels_a, labels_b)
    return float(adjusted_rand_score(a, b)) if len(a) else float("nan")


def size_class(sizes: np.ndarray, classes: dict[str, tuple[int, int]] | None = None) -> np.ndarray:
    """Class name of each planted group size: the first class (smallest first) whose upper bound holds it."""
    classes = SIZE_CLASSES if classes is None else classes
    ordered = sorted(classes.items(), key=lambda kv: kv[1][1])
    sizes = np.asarray(sizes)
    out = np.full(len(sizes), ordered[-1][0] if ordered else "", dtype=object)
    for name, (_, hi) in reversed(ordered):
        out[sizes <= hi] = name
    return out


def read_size_classes(truth_path: str | Path | None) -> dict[str, tuple[int, int]]:
    """The planted size ranges from ``operator.json`` beside ``truth_path``, or :data:`SIZE_CLASSES`."""
    if truth_path is not None:
        meta = Path(truth_path).parent / "operator.json"
        try:
            sizes = json.loads(meta.read_text(encoding="utf-8"))["planted"]["community_sizes"]
            return {str(k): (int(v[0]), int(v[1])) for k, v in sizes.items()}
        except (OSError, ValueError, KeyError, TypeError, IndexError):
            pass
    return dict(SIZE_CLASSES)


def recovery_by_class(found, planted, planted_size, classes: dict[str, tuple[int, int]] | None = None) -> dict:
    """Share of each planted group's members in its largest found piece, averaged per size class.

    Parameters
    ----------
    found, planted : array-like
        Run community and planted group of the same items.
    planted_size : mapping or pandas.Series
        Planted size of each group (all its members, also those not compared), which fixes its class.
    classes : dict, optional
        ``{name: (min, max)}``; default :data:`SIZE_CLASSES`.

    Returns
    -------
    dict
        ``{class: {"groups", "members", "recovery"}}`` plus ``"all"`` (the mean over every group).
    """
    df = pd.DataFrame({"found": np.asarray(found), "planted": np.asarray(planted)})
    if df.empty:
        return {}
    overlap = df.groupby(["planted", "found"], sort=False).size()
    biggest = overlap.groupby(level=0).max()
    members = df.groupby("planted").size()
    share = (biggest / members).rename("recovery").to_frame()
    share["members"] = members
    sizes = pd.Series(planted_size)
    share["class"] = size_class(sizes.reindex(share.index).fillna(members).to_numpy(), classes)
    out: dict[str, dict[str, float | int]] = {}
    for name, part in share.groupby("class", sort=False):
        out[str(name)] = {"groups": int(len(part)), "members": int(part["members"].sum()),
                          "recovery": float(part["recovery"].mean())}
    order = [c for c in (classes or SIZE_CLASSES) if c in out]
    out = {c: out[c] for c in order + [c for c in out if c not in order]}
    out["all"] = {"groups": int(len(share)), "members": int(share["members"].sum()),
                  "recovery": float(share["recovery"].mean())}
    return out


def community_agreement(
    run: pd.DataFrame, truth: pd.DataFrame, *, size_classes: dict[str, tuple[int, int]] | None = None
) -> dict[str, float | int]:
    """NMI of the run's communities against the planted ones on the persons present in both.

    Parameters
    ----------
    run : pandas.DataFrame
        Columns ``id`` and ``community`` (run subscribers; rows with a null community are skipped),
        and optionally ``degree``.
    truth : pandas.DataFrame
        Columns ``id``, ``kind`` and ``community`` (planted; only ``kind == "person"`` rows with a
        community are compared).

    size_classes : dict, optional
        Planted size range of each group type (:func:`read_size_classes`); default :data:`SIZE_CLASSES`.

    Returns
    -------
    dict
        ``nmi``, ``ami``, ``ari``, ``compared`` (persons in both), ``run_communities`` and
        ``planted_communities`` (distinct labels among the compared persons), ``recovery_by_class``
        (:func:`recovery_by_class`; a group's class from its planted size over all its persons).  With a ``degree`` column also
        ``nmi_with_contacts`` and ``compared_with_contacts``: the same on the persons with at least
        one contact in the analysed window.  A person without contacts carries no information
        about their community (each is a singleton in the run), so this figure separates what
        the method recovers from what the window cannot show.
    """
    cols = ["id", "community"] + (["degree"] if "degree" in run.columns else [])
    r = run.loc[run["community"].notna(), cols]
    t = truth.loc[truth["community"].notna(), ["id", "community", "kind"]]
    t = t.loc[t["kind"].astype(str) == "person", ["id", "community"]]
    both = r.astype({"id": str}).merge(t.astype({"id": str}), on="id", suffixes=("_run", "_planted"))
    found = both["community_run"].to_numpy()
    planted = both["community_planted"].astype(str).to_numpy()
    out: dict[str, Any] = {
        "nmi": nmi(found, planted),
        "ami": ami(found, planted),
        "ari": ari(found, planted),
        "compared": int(len(both)),
        "run_communities": int(both["community_run"].nunique()),
        "planted_communities": int(both["community_planted"].nunique()),
        "recovery_by_class": recovery_by_class(found, planted, t["community"].astype(str).value_counts(), size_classes),
    }
    if "degree" in both.columns:
        linked = both.loc[both["degree"].fillna(0).to_numpy() > 0]
        out["nmi_with_contacts"] = nmi(linked["community_run"].to_numpy(), linked["community_planted"].astype(str).to_numpy())
        out["compared_with_contacts"] = int(len(linked))
    return out

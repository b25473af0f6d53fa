"""Agreement of a run's communities with planted (known) communities: normalised mutual information.

``NMI(U, V) = I(U; V) / mean(H(U), H(V))`` with the arithmetic mean, the
normalisation of Danon, Diaz-Guilera, Duch and Arenas 2005 ("Comparing
community structure identification", doi:10.1088/1742-5468/2005/09/P09008),
computed by :func:`sklearn.metrics.normalized_mutual_info_score`
(``average_method="arithmetic"``).  1 means the same partition up to
relabelling; 0 means independent.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

__all__ = ["nmi", "community_agreement"]


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


def community_agreement(run: pd.DataFrame, truth: pd.DataFrame) -> dict[str, float | int]:
    """NMI of the run's communities against the planted ones on the persons present in both.

    Parameters
    ----------
    run : pandas.DataFrame
        Columns ``id`` and ``community`` (run subscribers; rows with a null community are skipped),
        and optionally ``degree``.
    truth : pandas.DataFrame
        Columns ``id``, ``kind`` and ``community`` (planted; only ``kind == "person"`` rows with a
        community are compared).

    Returns
    -------
    dict
        ``nmi``, ``compared`` (persons in both), ``run_communities`` and ``planted_communities``
        (distinct labels among the compared persons).  With a ``degree`` column also
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
    out: dict[str, float | int] = {
        "nmi": nmi(both["community_run"].to_numpy(), both["community_planted"].astype(str).to_numpy()),
        "compared": int(len(both)),
        "run_communities": int(both["community_run"].nunique()),
        "planted_communities": int(both["community_planted"].nunique()),
    }
    if "degree" in both.columns:
        linked = both.loc[both["degree"].fillna(0).to_numpy() > 0]
        out["nmi_with_contacts"] = nmi(linked["community_run"].to_numpy(), linked["community_planted"].astype(str).to_numpy())
        out["compared_with_contacts"] = int(len(linked))
    return out

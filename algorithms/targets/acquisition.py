"""Acquisition list: numbers of other operators with strong ties to our bellwethers.

People adopt what their close contacts use: an operator's customers pull the people
they talk to most (Hill, Provost & Volinsky 2006, doi:10.1214/088342306000000222
"Network-based marketing").  A tie is strong when its weight is at least the
``strong_quantile`` quantile of all contact weights.  The score of an off-net number
:math:`u` is the tie strength it shares with our active bellwethers,

.. math:: \\text{score}_u = \\sum_{j \\in B,\\ w_{uj} \\ge w_q} w_{uj},

ties broken by the number of such bellwethers.  Only the pseudonym is listed — never
a phone number.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["acquisition_list"]


def acquisition_list(
    table: pd.DataFrame,
    contacts: pd.DataFrame,
    prospects: np.ndarray,
    anchors: np.ndarray,
    *,
    strong_quantile: float = 0.75,
) -> pd.DataFrame:
    """Rank off-net numbers by their strong ties to our bellwethers.

    Parameters
    ----------
    table : pandas.DataFrame
        One row per vertex in ``vid`` order with ``on_net`` and ``community``.
    contacts : pandas.DataFrame
        ``a_vid``, ``b_vid``, ``weight``.
    prospects : bool array
        Numbers that may be listed (off-net persons not suppressed).
    anchors : bool array
        Our bellwethers whose ties count (on-net, not churned, in the chosen segment).
    strong_quantile : float, default 0.75
        Quantile of all weights from which a tie is strong (higher → fewer, stronger ties).

    Returns
    -------
    pandas.DataFrame
        ``vid``, ``rank``, ``score``, ``bellwether_ties``, ``on_net_contacts``, ``community``
        (of the most strongly tied bellwether); only prospects with at least one strong tie.
    """
    n = len(table)
    a = contacts["a_vid"].to_numpy(np.int64)
    b = contacts["b_vid"].to_numpy(np.int64)
    w = contacts["weight"].to_numpy(np.float64)
    if len(w) == 0:
        return pd.DataFrame(columns=["vid", "rank", "score", "bellwether_ties", "on_net_contacts", "community"])
    wq = float(np.quantile(w, strong_quantile))
    pros, anch = np.asarray(prospects, bool), np.asarray(anchors, bool)
    on = table["on_net"].to_numpy(bool, na_value=False)
    # orient every relevant edge as (prospect u, anchor j)
    ab = pros[a] & anch[b] & (w >= wq)
    ba = pros[b] & anch[a] & (w >= wq)
    u = np.concatenate([a[ab], b[ba]])
    j = np.concatenate([b[ab], a[ba]])
    ww = np.concatenate([w[ab], w[ba]])
    score = np.bincount(u, weights=ww, minlength=n)
    ties = np.bincount(u, minlength=n)
    on_contacts = np.bincount(a, weights=(pros[a] & on[b]).astype(float), minlength=n) + np.bincount(
        b, weights=(pros[b] & on[a]).astype(float), minlength=n)
    # community of the strongest anchor of each prospect
    order = np.lexsort((-ww, u))
    first = np.ones(len(u), bool)
    first[1:] = u[order][1:] != u[order][:-1]
    best = pd.Series(j[order][first], index=u[order][first])
    vids = np.flatnonzero(ties > 0)
    com = table["community"].astype("Int64").to_numpy()
    rows = pd.DataFrame({
        "vid": vids.astype(np.int64),
        "score": score[vids],
        "bellwether_ties": ties[vids].astype(np.int64),
        "on_net_contacts": on_contacts[vids].astype(np.int64),
        "community": pd.array(com[best.reindex(vids).to_numpy(np.int64)], dtype="Int64"),
    })
    rows = rows.iloc[np.lexsort((rows["vid"], -rows["bellwether_ties"], -rows["score"]))].reset_index(drop=True)
    rows.insert(1, "rank", np.arange(1, len(rows) + 1, dtype=np.int64))
    return rows

"""The community tables: one row per fine community (:data:`bellwether.graph.schema.COMMUNITIES`) or per coarse
community (:data:`bellwether.graph.schema.COARSE_COMMUNITIES`)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from bellwether.graph import schema
from bellwether.graph.contact_graph import ContactGraph

__all__ = ["community_table"]


def community_table(
    graph: ContactGraph,
    subscribers: pd.DataFrame,
    *,
    weight: str | None = "weight",
    level: str = "fine",
) -> pd.DataFrame:
    r"""Summarise each community of ``level`` (``"fine"``: column ``community``; ``"coarse"``:
    column ``coarse_community``).

    Parameters
    ----------
    graph : ContactGraph
        The contacts (only ``a_vid``, ``b_vid`` and ``weight`` are read).
    subscribers : pandas.DataFrame
        One row per vertex in ``vid`` order with ``id, community, coarse_community, arpu,
        on_net, churned, recent_churner, bellwether_score`` (``recent_churner``: churned
        in the recency window before ``as_of``; both churn flags must already be
        cut at ``as_of`` by the caller).
    weight : str or None, default "weight"
    level : {"fine", "coarse"}

    Returns
    -------
    pandas.DataFrame
        Columns of :data:`bellwether.graph.schema.COMMUNITIES` (fine) or
        :data:`bellwether.graph.schema.COARSE_COMMUNITIES` (coarse), largest community first:

        - ``internal_density`` :math:`= 2 E_c / (n_c (n_c - 1))`, contacts inside
          over possible pairs (0 for a single subscriber);
        - ``internal_weight_share`` :math:`= 2 W_c / \sum_{v \in c} s_v`, the share of
          the members' tie strength that stays inside (0 when they have no contacts);
        - ``churn_rate`` share of members churned before ``as_of``; ``recent_churners``
          members churned in the recency window; ``mean_arpu`` mean over members with
          an ARPU (null when none has); ``on_net_share``;
        - ``bellwether`` id of the member with the highest ``bellwether_score``;
        - fine: ``coarse_community``, the coarse community holding it; coarse:
          ``fine_communities``, the number of fine communities inside.
    """
    if level not in ("fine", "coarse"):
        raise ValueError(f"level must be 'fine' or 'coarse', not {level!r}")
    fine = level == "fine"
    uniq, lab = np.unique(subscribers["community" if fine else "coarse_community"].to_numpy(np.int64),
                          return_inverse=True)
    lab = lab.astype(np.int64)  # dense 0..k-1; stable ids may have gaps
    k = len(uniq)
    e = graph.edge_array()
    w = graph.weights(weight)
    inside = lab[e[:, 0]] == lab[e[:, 1]]
    size = np.bincount(lab, minlength=k)
    e_in = np.bincount(lab[e[inside, 0]], minlength=k).astype(np.float64)
    w_in = np.bincount(lab[e[inside, 0]], weights=w[inside], minlength=k)
    s = np.bincount(e[:, 0], weights=w, minlength=len(lab)) + np.bincount(e[:, 1], weights=w, minlength=len(lab))
    s_c = np.bincount(lab, weights=s, minlength=k)
    pairs = size * (size - 1) / 2.0
    density = np.divide(e_in, pairs, out=np.zeros(k), where=pairs > 0)
    share = np.divide(2 * w_in, s_c, out=np.zeros(k), where=s_c > 0)

    df = pd.DataFrame(
        {
            "community": lab,
            "churned": subscribers["churned"].fillna(False).to_numpy(bool),
            "recent": subscribers["recent_churner"].fillna(False).to_numpy(bool),
            "arpu": pd.to_numeric(subscribers["arpu"], errors="coerce").to_numpy(np.float64),
            "on_net": subscribers["on_net"].fillna(False).to_numpy(bool),
            "score": subscribers["bellwether_score"].to_numpy(np.float64),
            "vid": np.arange(len(lab)),
        }
    )
    g = df.groupby("community", sort=True)
    agg = g.agg(
        churn_rate=("churned", "mean"),
        recent_churners=("recent", "sum"),
        mean_arpu=("arpu", "mean"),
        on_net_share=("on_net", "mean"),
    ).reindex(range(k))
    top = df.sort_values(["community", "score", "vid"], ascending=[True, False, True], kind="mergesort")
    top = top.drop_duplicates("community").set_index("community")["vid"].reindex(range(k)).to_numpy()
    ids = subscribers["id"].astype(str).to_numpy()
    other = subscribers["coarse_community" if fine else "community"].to_numpy(np.int64)
    nested = pd.Series(other).groupby(lab, sort=True)
    nested = (nested.first() if fine else nested.nunique()).reindex(range(k)).to_numpy(np.int64)
    out = pd.DataFrame(
        {
            "community": uniq.astype(np.int64),
            "size": size.astype(np.int64),
            "internal_density": density,
            "internal_weight_share": share,
            "churn_rate": agg["churn_rate"].to_numpy(np.float64),
            "recent_churners": agg["recent_churners"].to_numpy(np.int64),
            "mean_arpu": agg["mean_arpu"].to_numpy(np.float64),
            "on_net_share": agg["on_net_share"].to_numpy(np.float64),
            "bellwether": ids[top],
            "coarse_community" if fine else "fine_communities": nested,
        }
    )
    out = out.sort_values(["size", "community"], ascending=[False, True], kind="mergesort")
    return out.reset_index(drop=True)[schema.column_names(schema.COMMUNITIES if fine else schema.COARSE_COMMUNITIES)]

"""Network segments: role, community, and whether the community is at risk of churn contagion.

A community is *at risk* when churn is spreading inside it: at least
``min_recent_churners`` members churned in the recency window before ``as_of`` and the
share of recent churners among its members is at least ``min_lift`` times the share in
the whole graph,

.. math:: \\frac{r_c}{n_c} \\ge \\text{min\\_lift} \\cdot \\frac{\\sum_c r_c}{\\sum_c n_c},\\qquad r_c \\ge \\text{min\\_recent\\_churners}.

Churn clusters in communities because of social influence along ties (Dasgupta et
al. 2008, doi:10.1145/1353343.1353424; Richter, Yom-Tov & Slonim 2010,
doi:10.1137/1.9781611972801.64 "Predicting customer churn in mobile networks through
analysis of social groups").
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["at_risk_communities", "network_segments"]


def at_risk_communities(communities: pd.DataFrame, *, min_recent_churners: int = 2, min_lift: float = 2.0) -> pd.Series:
    """Return a boolean Series indexed by community id: True where contagion is under way.

    Parameters
    ----------
    communities : pandas.DataFrame
        Columns ``community``, ``size``, ``recent_churners`` (:data:`bellwether.graph.schema.COMMUNITIES`).
    min_recent_churners : int, default 2
        Fewest recent churners for a community to count (higher → fewer at risk).
    min_lift : float, default 2.0
        How many times the overall recent-churn share a community's share must reach.
    """
    size = communities["size"].to_numpy(np.float64)
    recent = communities["recent_churners"].to_numpy(np.float64, na_value=0.0)
    overall = recent.sum() / size.sum() if size.sum() > 0 else 0.0
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(size > 0, recent / np.where(size > 0, size, 1), 0.0)
    risk = (recent >= min_recent_churners) & (share >= min_lift * overall) & (share > 0)
    return pd.Series(risk, index=communities["community"].to_numpy(np.int64), name="at_risk_community")


def network_segments(
    subscribers: pd.DataFrame,
    communities: pd.DataFrame,
    *,
    min_recent_churners: int = 2,
    min_lift: float = 2.0,
) -> pd.DataFrame:
    """Return ``role``, ``community`` and ``at_risk_community`` for every subscriber.

    Parameters
    ----------
    subscribers : pandas.DataFrame
        Run subscribers with ``role`` and ``community`` (:data:`bellwether.graph.schema.RUN_SUBSCRIBERS`).
    communities : pandas.DataFrame
        The run's communities table.
    min_recent_churners, min_lift
        See :func:`at_risk_communities`.

    Returns
    -------
    pandas.DataFrame
        Same row order as ``subscribers``; ``role`` (missing → ``isolate``), ``community``
        (nullable Int64) and ``at_risk_community`` (bool, False without a community).
    """
    risk = at_risk_communities(communities, min_recent_churners=min_recent_churners, min_lift=min_lift)
    community = subscribers["community"].astype("Int64")
    at_risk = community.map(risk).fillna(False).astype(bool).to_numpy()
    role = subscribers["role"].astype(object).where(subscribers["role"].notna(), "isolate").to_numpy(object)
    return pd.DataFrame({"role": role, "community": community.to_numpy(), "at_risk_community": at_risk})

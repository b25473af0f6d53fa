"""Community offers: tight communities where churn contagion is under way, one row per member.

A community qualifies when

- contagion is under way (:func:`bellwether.algorithms.segments.network.at_risk_communities`:
  enough recent churners, at a rate well above the graph's);
- it is tight: at least ``min_internal_share`` of its members' tie strength stays inside
  (``internal_weight_share``), so a group offer reaches people who talk to each other;
- at least ``min_members`` members may receive the offer (smaller groups are not
  reported: a row describes a group, and groups < 10 people are never reported).

Score (expected members drawn away, the quantity a group offer protects):

.. math:: \\text{score}_c = m_c \\cdot \\frac{r_c}{n_c} \\cdot \\text{internal\\_weight\\_share}_c

with :math:`m_c` eligible members, :math:`r_c` recent churners and :math:`n_c` members.

An offer goes to people, so the list has one row per member who may receive it
(:func:`offer_members`): the offers in score order, and within an offer the members by
their role in the community — the bellwether first (group leaders carry churn in social
groups: Richter, Yom-Tov & Slonim 2010, doi:10.1137/1.9781611972801.64), then their
followers, bridges, the other members — and by bellwether score.  A budget in people or
money takes whole offers (:func:`fit_offers`): half a group offer is no group offer.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from bellwether.algorithms.segments.network import at_risk_communities

__all__ = ["ROLE_ORDER", "community_offers", "fit_offers", "offer_members"]

#: Order of the members of one offer (roles of :mod:`bellwether.algorithms.roles`; anything else last).
ROLE_ORDER = {"bellwether": 0, "follower": 1, "bridge": 2, "member": 3, "isolate": 4}


def community_offers(
    table: pd.DataFrame,
    communities: pd.DataFrame,
    eligible: np.ndarray,
    *,
    min_members: int = 10,
    min_internal_share: float = 0.5,
    min_recent_churners: int = 2,
    min_lift: float = 2.0,
) -> tuple[pd.DataFrame, dict[str, int]]:
    """Return ranked community offers and how many qualifying communities were held back.

    Parameters
    ----------
    table : pandas.DataFrame
        One row per vertex with ``vid``, ``community``, ``bellwether_score``.
    communities : pandas.DataFrame
        The run's COMMUNITIES table.
    eligible : bool array
        Members who may receive the offer.
    min_members : int, default 10
        Fewest eligible members for a community to be listed.
    min_internal_share : float, default 0.5
        Tightness threshold on ``internal_weight_share``.
    min_recent_churners, min_lift
        Contagion thresholds, see :func:`at_risk_communities`.

    Returns
    -------
    rows : pandas.DataFrame
        ``vid`` (contact person), ``rank``, ``score``, ``community``, ``size``, ``members``,
        ``recent_churners``, ``churn_rate``, ``internal_weight_share``, ``mean_arpu``.
    suppressed : dict
        ``{"group_smaller_than_min_size": n}`` — at-risk tight communities with too few eligible members.
    """
    risk = at_risk_communities(communities, min_recent_churners=min_recent_churners, min_lift=min_lift)
    c = communities.set_index("community")
    tight = c["internal_weight_share"].fillna(0).to_numpy() >= min_internal_share
    hot = c.index[risk.reindex(c.index).fillna(False).to_numpy(bool) & tight]

    el = np.asarray(eligible, bool)
    com = table["community"].to_numpy(np.float64, na_value=np.nan)
    in_hot = el & pd.Series(com).isin(hot.to_numpy(np.float64)).to_numpy()
    members = pd.Series(com[in_hot]).value_counts()
    small = [x for x in hot if members.get(float(x), 0) < min_members]
    keep = [x for x in hot if members.get(float(x), 0) >= min_members]

    # contact person: highest bellwether score among eligible members of each kept community
    sub = pd.DataFrame({"vid": table["vid"].to_numpy(np.int64)[in_hot], "community": com[in_hot],
                        "bw": table["bellwether_score"].to_numpy(np.float64, na_value=-np.inf)[in_hot]})
    sub = sub.loc[sub["community"].isin(np.asarray(keep, dtype=np.float64))]
    top = sub.sort_values(["community", "bw", "vid"], ascending=[True, False, True]).drop_duplicates("community")

    cc = c.loc[keep]
    rows = pd.DataFrame({
        "community": np.asarray(keep, dtype=np.int64),
        "size": cc["size"].to_numpy(np.int64),
        "members": np.array([int(members.get(float(x), 0)) for x in keep], dtype=np.int64),
        "recent_churners": cc["recent_churners"].to_numpy(np.int64),
        "churn_rate": cc["churn_rate"].to_numpy(np.float64),
        "internal_weight_share": cc["internal_weight_share"].to_numpy(np.float64),
        "mean_arpu": cc["mean_arpu"].to_numpy(np.float64),
    })
    rows["vid"] = rows["community"].map(pd.Series(top["vid"].to_numpy(), index=top["community"].astype(np.int64))).astype(np.int64)
    rows["score"] = rows["members"] * rows["recent_churners"] / rows["size"].clip(lower=1) * rows["internal_weight_share"]
    rows = rows.sort_values(["score", "community"], ascending=[False, True]).reset_index(drop=True)
    rows.insert(0, "rank", np.arange(1, len(rows) + 1, dtype=np.int64))
    cols = ["vid", "rank", "score", "community", "size", "members", "recent_churners", "churn_rate",
            "internal_weight_share", "mean_arpu"]
    return rows[cols], ({"group_smaller_than_min_size": len(small)} if small else {})


def fit_offers(offers: pd.DataFrame, *, top: int | None = None, budget: float | None = None,
               cost_per_contact: float | None = None) -> tuple[pd.DataFrame, int]:
    """Keep whole offers, in rank order, while their members fit in ``top`` people and ``budget``.

    An offer that does not fit is passed over and the next, smaller ones are tried
    (greedy by rank).  Returns the kept offers and how many were passed over.
    """
    left_people = np.inf if top is None else int(top)
    left_money = np.inf if budget is None else float(budget)
    cost = float(cost_per_contact or 0.0)
    keep = np.zeros(len(offers), bool)
    for i, m in enumerate(offers["members"].to_numpy(np.int64)):
        if m <= left_people and m * cost <= left_money + 1e-9:
            keep[i] = True
            left_people -= m
            left_money -= m * cost
    return offers.loc[keep].reset_index(drop=True), int((~keep).sum())


def offer_members(table: pd.DataFrame, offers: pd.DataFrame, eligible: np.ndarray) -> pd.DataFrame:
    """One row per eligible member of each offer: ``vid``, ``rank`` (1..n), ``offer`` (the offer's rank),
    ``score`` (the offer's) and the offer's columns, ordered by offer, role (:data:`ROLE_ORDER`),
    bellwether score and ``vid``."""
    cols = ["vid", "rank", "offer", "score", "community", "size", "members", "recent_churners", "churn_rate",
            "internal_weight_share", "mean_arpu"]
    com = table["community"].to_numpy(np.float64, na_value=np.nan)
    el = np.asarray(eligible, bool)
    pick = el & pd.Series(com).isin(offers["community"].to_numpy(np.float64)).to_numpy()
    role = table["role"].astype(object).to_numpy()[pick] if "role" in table else np.full(pick.sum(), None, dtype=object)
    m = pd.DataFrame({
        "vid": table["vid"].to_numpy(np.int64)[pick],
        "community": com[pick].astype(np.int64),
        "role_order": [ROLE_ORDER.get(r, len(ROLE_ORDER)) for r in role],
        "bw": table["bellwether_score"].to_numpy(np.float64, na_value=-np.inf)[pick],
    })
    o = offers.rename(columns={"rank": "offer"}).drop(columns=["vid"], errors="ignore")
    m = m.merge(o, on="community", how="inner")
    m = m.sort_values(["offer", "role_order", "bw", "vid"], ascending=[True, True, False, True]).reset_index(drop=True)
    m.insert(1, "rank", np.arange(1, len(m) + 1, dtype=np.int64))
    return m[cols]

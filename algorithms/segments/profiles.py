"""Segment profiles: size, churn, value and on-net share of every segment, with small groups held back.

For each segment dimension (value tier, behaviour, usage mix, cluster, role, at-risk
community) and each label the profile gives

- ``size``: on-net subscribers in the segment;
- ``churn_rate``: share that churned before ``as_of``;
- ``churn_rate_after``: share of those not yet churned at ``as_of`` that churned after it
  (only when the CRM data know churn after ``as_of``; NaN otherwise);
- ``mean_churn_risk``: mean predicted churn probability;
- ``mean_arpu``: mean ARPU over members with a known ARPU;
- ``on_net_share``: mean share of members' tie strength that goes to on-net subscribers.

Groups of fewer than ``min_group_size`` people are not reported (statistical
disclosure control: a minimum cell size, cf. Hundepool et al., *Statistical
Disclosure Control*, Wiley 2012, ch. 5); how many were held back is returned.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

__all__ = ["PROFILE_DIMENSIONS", "MIN_GROUP_SIZE", "segment_profiles"]

PROFILE_DIMENSIONS = ("value_tier", "behaviour", "usage_mix", "cluster_label", "role", "at_risk_community")
MIN_GROUP_SIZE = 10
# yes/no dimensions are named in words in the profiles (people read them, not True/False)
FLAG_WORDS = {"at_risk_community": {True: "community at risk", False: "community not at risk"}}


def _segment_names(column: pd.Series, dim: str) -> np.ndarray:
    """The segment name of every row: the label itself, or words for a yes/no dimension."""
    words = FLAG_WORDS.get(dim)
    if words is not None:
        return np.where(column.fillna(False).to_numpy(bool), words[True], words[False]).astype(object)
    return column.astype(str).to_numpy(object)


def segment_profiles(
    table: pd.DataFrame,
    *,
    dimensions: Sequence[str] = PROFILE_DIMENSIONS,
    min_group_size: int = MIN_GROUP_SIZE,
) -> tuple[pd.DataFrame, int]:
    """Profile every segment of every dimension.

    Parameters
    ----------
    table : pandas.DataFrame
        One row per subscriber with the ``dimensions`` columns and ``on_net``,
        ``churned`` (bool), ``churn_risk``, ``arpu``, ``on_net_share`` and optionally
        ``churned_after`` (bool, nullable: churn after ``as_of`` when labels exist).
    dimensions : sequence of str
        Segment columns to profile.
    min_group_size : int, default 10
        Segments with fewer on-net members are left out.

    Returns
    -------
    profiles : pandas.DataFrame
        Columns ``dimension``, ``segment``, ``size``, ``churn_rate``, ``churn_rate_after``,
        ``mean_churn_risk``, ``mean_arpu``, ``on_net_share``, sorted by dimension
        (in the given order) then size, largest first.
    suppressed : int
        Number of segments left out for having fewer than ``min_group_size`` members.
    """
    on = table["on_net"].to_numpy(bool, na_value=False)
    t = table.loc[on]
    frame = pd.DataFrame(
        {
            "churned": t["churned"].to_numpy(np.float64, na_value=0.0),
            "churn_risk": t["churn_risk"].to_numpy(np.float64, na_value=np.nan) if "churn_risk" in t else np.nan,
            "arpu": t["arpu"].to_numpy(np.float64, na_value=np.nan),
            "on_net_share": t["on_net_share"].to_numpy(np.float64, na_value=np.nan),
        }
    )
    has_after = "churned_after" in t.columns and t["churned_after"].notna().any()
    if has_after:
        alive = ~t["churned"].to_numpy(bool, na_value=False)
        after = t["churned_after"].to_numpy(np.float64, na_value=np.nan)
        frame["churned_after"] = np.where(alive, after, np.nan)
    rows = []
    suppressed = 0
    for order, dim in enumerate(dimensions):
        if dim not in t.columns:
            continue
        keys = _segment_names(t[dim], dim)
        g = frame.groupby(keys, sort=False)
        agg = g.agg(
            size=("churned", "size"),
            churn_rate=("churned", "mean"),
            mean_churn_risk=("churn_risk", "mean"),
            mean_arpu=("arpu", "mean"),
            on_net_share=("on_net_share", "mean"),
        )
        agg["churn_rate_after"] = g["churned_after"].mean() if has_after else np.nan
        small = agg["size"] < min_group_size
        suppressed += int(small.sum())
        agg = agg.loc[~small].reset_index(names="segment")
        agg.insert(0, "dimension", dim)
        agg["_order"] = order
        rows.append(agg)
    cols = ["dimension", "segment", "size", "churn_rate", "churn_rate_after", "mean_churn_risk", "mean_arpu", "on_net_share"]
    if not rows:
        return pd.DataFrame(columns=cols), suppressed
    out = pd.concat(rows, ignore_index=True).sort_values(["_order", "size", "segment"], ascending=[True, False, True])
    out["size"] = out["size"].astype(np.int64)
    return out[cols].reset_index(drop=True), suppressed

"""Retention list: customers to keep, ranked by the money an offer is expected to save.

With a churn model score (the run's ``churn_risk``, or failing that its
``churn_risk_baseline``; :func:`pick_churn_risk`) the score of customer :math:`i` is

.. math::

    \\text{expected\\_value\\_saved}_i = p_i \\cdot a_i \\cdot H \\cdot r

- :math:`p_i` — churn risk: the model's probability that :math:`i` leaves within the
  run's churn horizon (``horizon_days``, recorded in the list's sidecar);
- :math:`a_i` — monthly value: the CRM ARPU; a customer without an ARPU is valued at
  the median ARPU of active customers (their reason line says so); when nobody has an
  ARPU the unit is "customers kept" and :math:`a_i = 1`;
- :math:`H` — value horizon in months (``value_months``, default 12): how many months
  of revenue a kept customer is worth;
- :math:`r` — response rate (``response_rate``, default 0.2): the share of would-be
  churners an offer keeps.  An assumption to replace with the rate measured on the
  operator's own retention campaigns.

Summed over a list the column is the expected revenue the campaign saves, so value
is weighed against risk: a likely churner paying little can rank below a less likely
one paying much.  With a cost per contact, rows expected to save less than the cost
are not listed (counted as ``below_cost``).

Without a churn model score (too few churners to fit it, or the churn step skipped)
the list says so (``info["notice"]``) and ranks by **network exposure**: the tie
strength a customer shares with contacts who churned before ``as_of``,

.. math:: \\text{exposure}_i = \\sum_{j \\in N(i),\\ j \\text{ churned before as\\_of}} w_{ij},

taken from the contact graph (records before ``as_of`` only).  Churn spreads along
strong ties (Dasgupta et al. 2008, doi:10.1145/1353343.1353424; Nitzan & Libai 2011,
doi:10.1509/jmkr.48.6.1056); exposure is a relative risk, not a probability, so no
money figure is given and customers without exposure are not listed.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["RISK_SOURCES", "pick_churn_risk", "churn_exposure", "retention_scores", "retention_list"]

#: Churn model columns, in order of preference.
RISK_SOURCES = ("churn_risk", "churn_risk_baseline")


def pick_churn_risk(table: pd.DataFrame) -> tuple[np.ndarray, str]:
    """Return the churn risk per row and its source, the first of :data:`RISK_SOURCES` with a value, or
    zeros and ``"none"`` when the run has no churn model score."""
    for col in RISK_SOURCES:
        if col in table.columns:
            x = table[col].to_numpy(np.float64, na_value=np.nan)
            if np.isfinite(x).any():
                return np.nan_to_num(x, nan=0.0), col
    return np.zeros(len(table)), "none"


def churn_exposure(table: pd.DataFrame, contacts: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Tie strength to, and number of, contacts who churned before ``as_of``, per vertex.

    ``table`` has ``churned`` in ``vid`` order; ``contacts`` has ``a_vid``, ``b_vid``, ``weight``.
    """
    n = len(table)
    churned = table["churned"].to_numpy(bool, na_value=False)
    a = contacts["a_vid"].to_numpy(np.int64)
    b = contacts["b_vid"].to_numpy(np.int64)
    w = contacts["weight"].to_numpy(np.float64)
    exposure = np.bincount(a, weights=w * churned[b], minlength=n) + np.bincount(b, weights=w * churned[a], minlength=n)
    count = np.bincount(a, weights=churned[b], minlength=n) + np.bincount(b, weights=churned[a], minlength=n)
    return exposure, count.astype(np.int64)


def retention_scores(table: pd.DataFrame, contacts: pd.DataFrame, *, response_rate: float = 0.2,
                     value_months: float = 12.0) -> pd.DataFrame:
    """Score every subscriber; see the module docstring for the formula.

    Parameters
    ----------
    table : pandas.DataFrame
        One row per vertex in ``vid`` order with ``on_net``, ``churned``, ``arpu`` and
        ``churn_risk`` / ``churn_risk_baseline`` (see :func:`pick_churn_risk`).
    contacts : pandas.DataFrame
        ``a_vid``, ``b_vid``, ``weight``.
    response_rate : float, default 0.2
        Share of would-be churners an offer keeps, in (0, 1].
    value_months : float, default 12
        Months of revenue a kept customer is worth (> 0).

    Returns
    -------
    pandas.DataFrame
        Per vertex (same order): ``churn_risk`` (0 without a model), ``arpu`` (as in the
        CRM, NaN when unknown), ``monthly_value`` (ARPU, or the median when unknown; NaN
        when no ARPU is known at all), ``expected_value_saved`` (NaN without a model),
        ``exposure`` and ``churned_ties`` (:func:`churn_exposure`).
    """
    if not 0 < response_rate <= 1:
        raise ValueError(f"response_rate must be in (0, 1], got {response_rate}")
    if not value_months > 0:
        raise ValueError(f"value_months must be > 0, got {value_months}")
    on = table["on_net"].to_numpy(bool, na_value=False)
    alive = on & ~table["churned"].to_numpy(bool, na_value=False)
    arpu = table["arpu"].to_numpy(np.float64, na_value=np.nan) if "arpu" in table else np.full(len(table), np.nan)
    arpu = np.where(np.isfinite(arpu), np.clip(arpu, 0, None), np.nan)
    known = alive & np.isfinite(arpu)
    if known.any():
        monthly = np.where(np.isfinite(arpu), arpu, float(np.median(arpu[known])))
        unit_value = monthly
    else:
        monthly = np.full(len(table), np.nan)
        unit_value = np.ones(len(table))  # "customers kept"
    p, source = pick_churn_risk(table)
    saved = p * unit_value * value_months * response_rate if source != "none" else np.full(len(table), np.nan)
    exposure, ties = churn_exposure(table, contacts)
    return pd.DataFrame({"churn_risk": p if source != "none" else np.full(len(table), np.nan), "arpu": arpu,
                         "monthly_value": monthly, "expected_value_saved": saved, "exposure": exposure,
                         "churned_ties": ties})


def _percentile(x: np.ndarray) -> np.ndarray:
    """Share of the values strictly below each value (0 for the lowest)."""
    s = np.sort(x)
    return np.searchsorted(s, x, side="left") / max(len(x), 1)


def retention_list(table: pd.DataFrame, contacts: pd.DataFrame, eligible: np.ndarray, *, response_rate: float = 0.2,
                   value_months: float = 12.0, cost_per_contact: float | None = None) -> tuple[pd.DataFrame, dict]:
    """Return the eligible customers ranked for retention (highest first, ties by ``vid``) and how.

    Returns
    -------
    rows : pandas.DataFrame
        ``vid``, ``rank``, ``score`` and the columns of :func:`retention_scores`, plus
        ``risk_percentile``, ``value_percentile`` and ``exposure_percentile`` (share of the
        ranked customers below, used by the reasons).
    how : dict
        ``ranking`` (``"expected_value_saved"`` or ``"exposure"``), ``risk_source``,
        ``value_unit`` (``"money"`` or ``"customers"``), ``not_exposed`` (exposure ranking:
        eligible customers without any churned contact, not listed) and ``held_back``
        (``{"below_cost": n}`` when a cost per contact is given).
    """
    scores = retention_scores(table, contacts, response_rate=response_rate, value_months=value_months)
    _, source = pick_churn_risk(table)
    idx = np.flatnonzero(np.asarray(eligible, bool))
    s = scores.iloc[idx].reset_index(drop=True)
    s.insert(0, "vid", table["vid"].to_numpy(np.int64)[idx])
    how: dict = {"risk_source": source, "value_unit": "money" if np.isfinite(scores["monthly_value"]).any() else "customers",
                 "held_back": {}}
    if source != "none":
        how["ranking"] = "expected_value_saved"
        s["score"] = s["expected_value_saved"]
        if cost_per_contact is not None and how["value_unit"] == "money":
            below = s["score"].to_numpy() < cost_per_contact
            if below.any():
                how["held_back"] = {"below_cost": int(below.sum())}
            s = s.loc[~below].reset_index(drop=True)
    else:
        how["ranking"] = "exposure"
        exposed = s["exposure"].to_numpy() > 0
        how["not_exposed"] = int((~exposed).sum())
        s = s.loc[exposed].reset_index(drop=True)
        s["score"] = s["exposure"]
    s["risk_percentile"] = _percentile(s["churn_risk"].fillna(0).to_numpy())
    s["value_percentile"] = _percentile(s["monthly_value"].fillna(0).to_numpy())
    s["exposure_percentile"] = _percentile(s["exposure"].to_numpy())
    second = s["monthly_value"].fillna(0).to_numpy()  # equal exposure: the more valuable first
    order = np.lexsort((s["vid"].to_numpy(), -second, -s["score"].to_numpy()))
    s = s.iloc[order].reset_index(drop=True)
    s.insert(1, "rank", np.arange(1, len(s) + 1, dtype=np.int64))
    return s, how

"""Retention list: customers to keep, ranked by churn risk × value × influence.

The score of subscriber :math:`i` is the expected value at stake if :math:`i` leaves,

.. math::

    \\text{score}_i = p_i \\left( v_i + \\beta \\sum_{j \\in N(i)} \\frac{w_{ij}}{s_j} v_j \\right)
                  = p_i \\cdot v_i \\cdot \\Big(1 + \\beta \\frac{F_i}{v_i}\\Big)

- :math:`p_i` — churn risk from the run (``churn_risk``, probability within the horizon).
  When the run could not fit its network model (too few churners; ``churn_risk`` all
  missing) the baseline model's ``churn_risk_baseline`` is used, and failing that the
  percentile rank of ``contagion_score`` (a relative risk, not a probability); the
  source used is recorded in the list's sidecar (:func:`pick_churn_risk`);
- :math:`v_i` — value: ARPU divided by the median ARPU of active customers (1 when unknown),
  so a score is in "typical customers' monthly revenue";
- :math:`F_i = \\sum_j (w_{ij}/s_j) v_j` — the *follower value*: each active on-net
  contact :math:`j` would see a share :math:`w_{ij}/s_j` of its tie strength leave with
  :math:`i` (:math:`s_j` its total tie strength), weighted by its own value.  A churning
  bellwether pulls followers with them: churn spreads along strong ties (Dasgupta et al.
  2008, doi:10.1145/1353343.1353424; Nitzan & Libai 2011, doi:10.1509/jmkr.48.6.1056
  "Social effects on customer retention");
- :math:`\\beta` (default 0.5) — how much of that exposure turns into churn; 0 ranks by
  :math:`p_i v_i` alone, larger values favour well-connected subscribers.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["pick_churn_risk", "retention_scores", "retention_list"]


def pick_churn_risk(table: pd.DataFrame) -> tuple[np.ndarray, str]:
    """Return the churn risk per row and its source: ``churn_risk``, ``churn_risk_baseline``,
    ``contagion_score`` (percentile rank) or ``none`` (zeros), the first column with a value."""
    for col in ("churn_risk", "churn_risk_baseline"):
        if col in table.columns:
            x = table[col].to_numpy(np.float64, na_value=np.nan)
            if np.isfinite(x).any():
                return np.nan_to_num(x, nan=0.0), col
    if "contagion_score" in table.columns:
        x = table["contagion_score"].to_numpy(np.float64, na_value=np.nan)
        if np.isfinite(x).any() and np.nanmax(x) > 0:
            return pd.Series(x).rank(pct=True).fillna(0.0).to_numpy(), "contagion_score"
    return np.zeros(len(table)), "none"


def retention_scores(table: pd.DataFrame, contacts: pd.DataFrame, *, beta: float = 0.5) -> pd.DataFrame:
    """Score every subscriber; see the module docstring for the formula.

    Parameters
    ----------
    table : pandas.DataFrame
        One row per vertex in ``vid`` order with ``on_net``, ``churned``, ``arpu`` and
        ``churn_risk`` (or a fallback column, see :func:`pick_churn_risk`).
    contacts : pandas.DataFrame
        ``a_vid``, ``b_vid``, ``weight``.
    beta : float, default 0.5
        Weight of the follower value (≥ 0).

    Returns
    -------
    pandas.DataFrame
        ``score``, ``churn_risk``, ``value``, ``follower_value`` per vertex (same order).
    """
    if beta < 0:
        raise ValueError(f"beta must be >= 0, got {beta}")
    n = len(table)
    on = table["on_net"].to_numpy(bool, na_value=False)
    alive = on & ~table["churned"].to_numpy(bool, na_value=False)
    arpu = table["arpu"].to_numpy(np.float64, na_value=np.nan)
    known = alive & np.isfinite(arpu)
    ref = float(np.median(arpu[known])) if known.any() else 1.0
    ref = ref if ref > 0 else 1.0
    v = np.where(np.isfinite(arpu), np.clip(arpu, 0, None) / ref, 1.0)
    a = contacts["a_vid"].to_numpy(np.int64)
    b = contacts["b_vid"].to_numpy(np.int64)
    w = contacts["weight"].to_numpy(np.float64)
    s = np.bincount(a, weights=w, minlength=n) + np.bincount(b, weights=w, minlength=n)
    s_safe = np.where(s > 0, s, 1.0)
    gain_a = w / s_safe[b] * v[b] * alive[b]  # what a's leaving puts at stake at b
    gain_b = w / s_safe[a] * v[a] * alive[a]
    follower = np.bincount(a, weights=gain_a, minlength=n) + np.bincount(b, weights=gain_b, minlength=n)
    p, _ = pick_churn_risk(table)
    return pd.DataFrame({"score": p * (v + beta * follower), "churn_risk": p, "value": v, "follower_value": follower})


def retention_list(table: pd.DataFrame, contacts: pd.DataFrame, eligible: np.ndarray, *, beta: float = 0.5) -> pd.DataFrame:
    """Return the eligible subscribers ranked by retention score (highest first, ties by ``vid``).

    Columns: ``vid``, ``rank`` and those of :func:`retention_scores`, plus a
    ``risk_percentile`` (share of eligible customers with a lower churn risk).
    """
    scores = retention_scores(table, contacts, beta=beta)
    idx = np.flatnonzero(np.asarray(eligible, bool))
    s = scores.iloc[idx].reset_index(drop=True)
    s.insert(0, "vid", table["vid"].to_numpy(np.int64)[idx])
    risk = s["churn_risk"].to_numpy()
    sorted_risk = np.sort(risk)
    s["risk_percentile"] = np.searchsorted(sorted_risk, risk, side="left") / max(len(risk), 1)
    order = np.lexsort((s["vid"].to_numpy(), -s["score"].to_numpy()))
    s = s.iloc[order].reset_index(drop=True)
    s.insert(1, "rank", np.arange(1, len(s) + 1, dtype=np.int64))
    return s

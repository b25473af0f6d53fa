"""Churn of on-net customers: a baseline hazard from value and tenure, plus planted social contagion.

Each active customer ``u`` leaves on day ``t`` with probability
``1 - exp(-h_u(t))``, where the daily hazard is

    h_u(t) = h0_u * m ** E_u(t),
    E_u(t) = sum over churned v of s_uv * exp(-(t - c_v) / tau),   c_v < t,

- ``h0_u = c * arpu_hr ** z_u * (1 + tenure_amp * exp(-tenure_u / 8)) * prepaid_hr ** prepaid_u``:
  low ARPU (``z_u`` is the standardised log ARPU), short tenure and prepaid
  plans churn more, as in operators' churn models; ``c`` is solved so the
  baseline monthly churn is ``monthly_churn``;
- ``m`` (default 1.8; ``bellwether generate --contagion M``, 1 plants none) is
  the hazard multiplier of one just-churned strong tie, decaying with time
  constant ``tau`` (default 30 days);
- ``s_uv = min(1, r_uv / strong_rate)`` where ``r_uv`` is how much ``u``
  calls ``v`` (records per 30 days): influence travels along the subscriber's
  own outgoing calls, in proportion to them (Dasgupta et al. 2008,
  doi:10.1145/1353343.1353424, found churners' contacts churn more).

The simulation runs day by day with sparse matrix products.  Off-net persons
never churn (the operator cannot see it).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Callable

import numpy as np
import scipy.sparse as sp

from .population import PLAN_PREPAID, Population
from .ties import Ties

__all__ = ["MAX_CONTAGION", "ChurnModel", "baseline_hazard", "contagion_matrix", "simulate_churn", "strong_ties_from_records", "measure_contagion"]


MAX_CONTAGION = 20.0  # largest planted hazard multiplier accepted (`bellwether generate --contagion`)


@dataclass(frozen=True)
class ChurnModel:
    """Planted churn effects (hazard ratios); recorded in operator.json."""

    monthly_churn: float = 0.02  # baseline share leaving per 30 days, before contagion
    arpu_hr_per_sd: float = 0.65  # hazard ratio per +1 SD of log ARPU
    tenure_amp: float = 1.6  # new customers: hazard x (1 + tenure_amp * exp(-tenure/8))
    prepaid_hr: float = 1.4
    contagion: float = 1.8  # hazard multiplier per just-churned strong tie
    decay_days: float = 30.0
    strong_rate: float = 2.0  # outgoing records per 30 days that make a tie count fully

    def __post_init__(self) -> None:
        if not 1.0 <= self.contagion <= MAX_CONTAGION:
            raise ValueError(f"contagion must be between 1 (none) and {MAX_CONTAGION:g}, got {self.contagion!r}")

    def as_dict(self) -> dict:
        return asdict(self)


def baseline_hazard(pop: Population, on_idx: np.ndarray, model: ChurnModel) -> np.ndarray:
    """Daily baseline hazard of each on-net person, calibrated to ``model.monthly_churn``."""
    la = np.log(pop.arpu[on_idx])
    z = (la - la.mean()) / (la.std() or 1.0)
    rel = (
        model.arpu_hr_per_sd**z
        * (1.0 + model.tenure_amp * np.exp(-pop.tenure[on_idx] / 8.0))
        * np.where(PLAN_PREPAID[pop.plan[on_idx]], model.prepaid_hr, 1.0)
    )
    lo, hi = -30.0, 5.0  # bisection on log c: mean monthly churn is increasing in c
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        if np.mean(1.0 - np.exp(-30.0 * np.exp(mid) * rel)) < model.monthly_churn:
            lo = mid
        else:
            hi = mid
    return np.exp(0.5 * (lo + hi)) * rel


def contagion_matrix(ties: Ties, pop: Population, on_idx: np.ndarray, strong_rate: float) -> sp.csc_matrix:
    """``S[u, v] = min(1, rate u->v / strong_rate)`` between on-net persons (indices into ``on_idx``)."""
    pos = np.full(pop.n_persons, -1, dtype=np.int64)
    pos[on_idx] = np.arange(on_idx.size)
    both = pop.on_net[ties.a] & pop.on_net[ties.b]
    a, b = pos[ties.a[both]], pos[ties.b[both]]
    r_ab = ties.rate[both] * ties.p_ab[both]
    r_ba = ties.rate[both] * (1.0 - ties.p_ab[both])
    rows = np.concatenate([a, b])
    cols = np.concatenate([b, a])
    val = np.minimum(1.0, np.concatenate([r_ab, r_ba]) / strong_rate)
    n = on_idx.size
    return sp.csc_matrix((val, (rows, cols)), shape=(n, n))


def simulate_churn(
    rng: np.random.Generator,
    h0: np.ndarray,
    S: sp.csc_matrix,
    days: int,
    model: ChurnModel,
    on_day: Callable[[int], None] | None = None,
) -> np.ndarray:
    """Day of churn (``0..days-1``) of each on-net person, ``-1`` if still active at the end."""
    n = h0.size
    churn_day = np.full(n, -1, dtype=np.int32)
    active = np.ones(n, dtype=bool)
    exposure = np.zeros(n)
    log_m = np.log(model.contagion)
    fade = np.exp(-1.0 / model.decay_days)
    for t in range(days):
        h = h0 * np.exp(log_m * np.minimum(exposure, 6.0))
        new = np.flatnonzero(active & (rng.random(n) < -np.expm1(-h)))
        churn_day[new] = t
        active[new] = False
        exposure *= fade
        if new.size:
            exposure += fade * np.asarray(S[:, new].sum(axis=1)).ravel()
        if on_day is not None:
            on_day(t)
    return churn_day


def strong_ties_from_records(caller: np.ndarray, callee: np.ndarray, n: int, min_records: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """Pairs ``(u, v)`` of customers with at least ``min_records`` records between them (either direction), both ways round."""
    lo, hi = np.minimum(caller, callee), np.maximum(caller, callee)
    key, count = np.unique(lo.astype(np.int64) * n + hi, return_counts=True)
    key = key[count >= min_records]
    a, b = key // n, key % n
    return np.concatenate([a, b]), np.concatenate([b, a])


def measure_contagion(u: np.ndarray, v: np.ndarray, churn_day: np.ndarray, days: int, window: int = 30) -> dict:
    """Measured churn rate ratio of customers exposed to a recently churned strong tie.

    ``(u[i], v[i])`` says ``v[i]`` is a strong tie of ``u[i]`` (indices of
    on-net customers).  A customer-day is *exposed* when a strong tie churned in
    the previous ``window`` days.  Returns exposed and unexposed customer-days,
    churn events in each, and the ratio of daily churn rates (exposed over
    unexposed), the quantity a contagion analysis estimates.
    """
    n = churn_day.size
    cd_v = churn_day[v]
    ever = np.where(churn_day < 0, days, churn_day)
    exp_days = unexp_days = exp_ev = unexp_ev = 0
    for t in range(days):
        recent = (cd_v >= 0) & (cd_v >= t - window) & (cd_v < t)
        exposed = np.zeros(n, dtype=bool)
        exposed[u[recent]] = True
        at_risk = ever >= t
        event = churn_day == t
        exp_days += int(np.count_nonzero(at_risk & exposed))
        unexp_days += int(np.count_nonzero(at_risk & ~exposed))
        exp_ev += int(np.count_nonzero(event & exposed))
        unexp_ev += int(np.count_nonzero(event & ~exposed))
    ratio = None
    if exp_days and unexp_days and unexp_ev:
        ratio = round((exp_ev / exp_days) / (unexp_ev / unexp_days), 3)
    return {
        "window_days": window,
        "exposed_days": exp_days,
        "exposed_churners": exp_ev,
        "unexposed_days": unexp_days,
        "unexposed_churners": unexp_ev,
        "rate_ratio": ratio,
    }

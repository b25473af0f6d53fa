"""Does churn spread in this network?  Hazard ratios after a close contact churned, against a time-shuffled null.

The question is answered from churn that already happened, before ``as_of``:

1. **Close contacts.**  ``v`` is a close contact of customer ``u`` when ``u``
   called or texted ``v`` at least ``min_rate`` times per 30 days (default
   twice a month) while both were customers.  The ties are read from records
   *before* the study period (``analyze``'s earlier graph, built for churn
   training, one window before ``as_of``), so which ties are seen does not
   depend on when the followed customers left: judged on the study period's
   own records, ties to customers who left early would be seen less and the
   shuffled null below would be biased.  Only customers (on-net persons of the
   CRM extract) count: nobody else has a churn date.
2. **Person-days.**  Every customer still there when the study period starts
   (by default the ``as_of`` graph's window) is followed day by day until they
   churn, and counted per stratum of what drives churn without contagion: the
   number of close contacts (the chance of being exposed at all), tenure band,
   ARPU tercile and plan where the CRM has them, and calendar week.  Contacts
   who left during the tie period expose the first days of the study too.
   Churn on the same day as a contact's is not counted as spreading (a
   household leaving together is one decision).
3. **Per-contact hazard ratio** (the test statistic, ``hr``).  A stratified
   Poisson model ``log h = alpha_(stratum, week) + beta * x`` with
   ``x = sum over churned close contacts of exp(-days since they left / decay_days)``:
   ``exp(beta)`` is the hazard ratio right after one close contact churned,
   fading with ``decay_days``.  The stratum intercepts are conditioned away
   (conditional likelihood, as in a stratified Cox model; with
   piecewise-constant hazards the Poisson and Cox likelihoods agree: Laird and
   Olivier 1981, JASA 76:231-240, doi:10.1080/01621459.1981.10477633); Newton's
   method, Wald 95 % interval from the observed information.
4. **The window ratio** (``hr_window``, the readable figure).  A day is
   *exposed* when a close contact churned 1 to ``window_days`` days before it;
   the exposed / unexposed churn-rate ratio is the Mantel-Haenszel estimate
   for person-time over the strata, with the Greenland-Robins variance of its
   logarithm (Greenland and Robins 1985, Biometrics 41:55-68,
   doi:10.2307/2530643).  It averages the fading effect over the window, so it
   is smaller than ``hr``.
5. **Time-shuffled null.**  Similar people are close to each other, so
   churners' close contacts churn more even without influence (homophily).
   Permuting the churn dates of the study period among its churners, with the
   network, the strata and who churns fixed, keeps that and destroys the
   timing that influence needs (the shuffle test of Anagnostopoulos, Kumar and
   Mahdian 2008, KDD, doi:10.1145/1401890.1401897; Aral, Muchnik and
   Sundararajan 2009, PNAS 106:21544, doi:10.1073/pnas.0908800106).  The
   p-value is ``(1 + #{shuffled hr >= observed hr}) / (1 + permutations)``.
   Contagion is *called* when the interval of ``hr`` lies above 1 and
   ``p < 0.05``.

The null keeps who churns, so it also keeps the clustering of churners that
contagion itself caused: it is conservative, and the test's power comes from
timing alone.  With one month of ties and one month of follow-up, a modest
contagion is often not called at 30k customers (``bench/RESULTS.md``,
"Contagion test"); the verdict then says the history may be too short.

Only churn strictly before ``as_of`` is read (:mod:`bellwether.algorithms.churn.timeline`):
exposures and events are both in the past; churn after ``as_of`` never enters.
A common local shock (a competitor's campaign in one town) also clusters churn
in time among contacts; calendar strata absorb shocks that hit everyone, not
local ones, so "spreads" is evidence of contagion, not proof.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np
import pandas as pd

from bellwether.algorithms.churn import timeline
from bellwether.algorithms.crm import persons
from bellwether.graph.contact_graph import id_rows
from bellwether.graph.core.settings import DEFAULT_SEED

__all__ = [
    "ContagionResult",
    "StudyData",
    "contagion_test",
    "close_contacts",
    "person_day_counts",
    "mantel_haenszel",
    "per_contact_multiplier",
    "shuffle_null",
    "verdict",
    "not_measured",
]

METHOD = ("stratified Poisson (conditional) hazard ratio per just-churned close contact with a decaying effect, and "
          "the Mantel-Haenszel person-time rate ratio over the window after it (Greenland-Robins interval), "
          "against a null that shuffles churn dates among churners")
REFERENCES = [
    "Greenland S, Robins JM (1985) Estimation of a common effect parameter from sparse follow-up data. "
    "Biometrics 41:55-68, doi:10.2307/2530643",
    "Laird N, Olivier D (1981) Covariance analysis of censored survival data using log-linear analysis "
    "techniques. JASA 76:231-240, doi:10.1080/01621459.1981.10477633",
    "Anagnostopoulos A, Kumar R, Mahdian M (2008) Influence and correlation in social networks. KDD, "
    "doi:10.1145/1401890.1401897",
    "Aral S, Muchnik L, Sundararajan A (2009) Distinguishing influence-based contagion from homophily-driven "
    "diffusion in dynamic networks. PNAS 106:21544-21549, doi:10.1073/pnas.0908800106",
]
NEVER = np.iinfo(np.int32).max // 2  # churn day of a customer still there at as_of (as known at as_of)
MIN_EXPOSED_EVENTS = 5  # fewer churn events on exposed days: too little to tell


@dataclass
class ContagionResult:
    """The test's figures (``metrics``, plain types for the run manifest) and per-stratum counts."""

    metrics: dict[str, Any]
    strata: pd.DataFrame = field(default_factory=pd.DataFrame)


# --- the estimators on plain arrays ----------------------------------------------------------------
def mantel_haenszel(a: np.ndarray, t1: np.ndarray, b: np.ndarray, t0: np.ndarray,
                    z: float = 1.959963984540054) -> dict[str, float | None]:
    """Mantel-Haenszel rate ratio over strata, with the Greenland-Robins 95 % interval.

    Parameters
    ----------
    a, t1 : arrays
        Per stratum: events and person-time of the exposed.
    b, t0 : arrays
        Per stratum: events and person-time of the unexposed.

    Returns
    -------
    dict
        ``hr = sum(a t0 / T) / sum(b t1 / T)`` with ``T = t1 + t0``;
        ``se_log = sqrt(sum((a + b) t1 t0 / T^2) / (sum(a t0 / T) sum(b t1 / T)))``;
        ``ci_low, ci_high = hr * exp(-+ z se_log)``.  None where a sum is 0
        (no exposed or no unexposed events in strata holding both).

    Examples
    --------
    Two strata, the exposed churning at 2 / 100 and 3 / 50 person-days, the unexposed at
    10 / 1000 and 5 / 500:

    >>> r = mantel_haenszel([2, 3], [100, 50], [10, 5], [1000, 500])
    >>> round(r["hr"], 4), round(r["ci_low"], 3), round(r["ci_high"], 3)
    (3.3333, 1.211, 9.171)
    """
    a, t1, b, t0 = (np.asarray(x, dtype=np.float64) for x in (a, t1, b, t0))
    T = t1 + t0
    use = (t1 > 0) & (t0 > 0)
    if not use.any():
        return {"hr": None, "ci_low": None, "ci_high": None, "se_log": None}
    a, t1, b, t0, T = a[use], t1[use], b[use], t0[use], T[use]
    r = float(np.sum(a * t0 / T))
    s = float(np.sum(b * t1 / T))
    if r <= 0 or s <= 0:
        return {"hr": None, "ci_low": None, "ci_high": None, "se_log": None}
    hr = r / s
    var = float(np.sum((a + b) * t1 * t0 / T**2)) / (r * s)
    se = math.sqrt(var)
    return {"hr": hr, "ci_low": hr * math.exp(-z * se), "ci_high": hr * math.exp(z * se), "se_log": se}


def _mh_hr(a: np.ndarray, t1: np.ndarray, b: np.ndarray, t0: np.ndarray) -> float:
    """The Mantel-Haenszel point estimate alone (NaN when undefined); used inside the permutations."""
    T = t1 + t0
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.sum(np.where(T > 0, a * t0 / T, 0.0))
        s = np.sum(np.where(T > 0, b * t1 / T, 0.0))
    return float(r / s) if s > 0 and r > 0 else (0.0 if s > 0 else float("nan"))


@dataclass
class StudyData:
    """A customer timeline in integer days: everything the counts need, nothing from after ``as_of``.

    ``churn_day`` is the day index of each customer's churn known at ``as_of``
    (:data:`NEVER` for those still there); ``u, v`` are the close-contact pairs
    (``v`` is a close contact of ``u``); ``stratum`` the static stratum of each
    customer; the study period is ``[start, end)``; ``origin`` is the first day
    with records (churn before it exposes nobody: those ties are not seen).
    """

    churn_day: np.ndarray
    u: np.ndarray
    v: np.ndarray
    stratum: np.ndarray
    start: int
    end: int
    origin: int = 0
    window_days: int = 30
    band_days: int = 7
    decay_days: float = 30.0

    @property
    def n_bands(self) -> int:
        return -(-(self.end - self.start) // self.band_days)

    def shuffle_pool(self) -> np.ndarray:
        """Customers whose churn dates the null permutes: churned in the study period ``[start, end)``."""
        c = self.churn_day
        return np.flatnonzero((c >= self.start) & (c < self.end))


class _Timeline:
    """The parts of a study that shuffling churn dates leaves unchanged, computed once.

    Who churns in ``[origin, end)`` is fixed under the shuffles (only the study period's dates move
    among themselves), so the customers who can ever be exposed (``cand``: a close contact among
    those churners) and their day-by-stratum grid are too.
    """

    def __init__(self, data: StudyData) -> None:
        self.data = data
        S, E, B = data.start, data.end, data.n_bands
        self.D = E - S
        self.B = B
        self.n_cells = (int(data.stratum.max()) + 1 if data.stratum.size else 1) * B
        in_pool = np.zeros(data.churn_day.size, dtype=bool)
        in_pool[data.shuffle_pool()] = True
        cv = data.churn_day[data.v]
        src = (cv >= data.origin) & (cv < E)
        self.cand, self.k = np.unique(data.u[src], return_inverse=True)
        self.pv = data.v[src]
        self.K = self.cand.size
        self.day = np.arange(S, E)
        band = (self.day - S) // data.band_days
        self.cell = data.stratum[self.cand][:, None] * B + band[None, :]  # K x D
        self.f = math.exp(-1.0 / data.decay_days)
        # customers outside the shuffle pool keep their dates: their person-days and events are counted once
        self.pool = np.flatnonzero(in_pool)
        fixed = np.flatnonzero(~in_pool)
        self.fixed_totals = self._totals(fixed, data.churn_day[fixed])

    def _totals(self, who: np.ndarray, c: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """At-risk person-days and churn events of customers ``who`` (churn days ``c``), per stratum x band."""
        d, S, E, B = self.data, self.data.start, self.data.end, self.B
        st = d.stratum[who] * B
        last = np.minimum(c, E - 1)  # last at-risk day (a churner is at risk on the day they leave)
        days = np.zeros(self.n_cells)
        for band in range(B):
            b0, b1 = S + band * d.band_days, min(S + (band + 1) * d.band_days, E)
            span = np.clip(np.minimum(last + 1, b1) - b0, 0, None).astype(np.float64)
            days += np.bincount(st + band, span, minlength=self.n_cells)
        ev = (c >= S) & (c < E)
        events = np.bincount(st[ev] + (c[ev] - S) // d.band_days, minlength=self.n_cells)
        return days, events.astype(np.float64)

    def totals(self, c: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """At-risk person-days and churn events of every customer, per stratum x calendar band."""
        days, events = self._totals(self.pool, c[self.pool])
        return days + self.fixed_totals[0], events + self.fixed_totals[1]

    def _risk(self, c: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        cc = c[self.cand][:, None]
        return self.day[None, :] <= cc, self.day[None, :] == cc

    def window(self, c: np.ndarray) -> tuple[np.ndarray, ...]:
        """Per stratum x band: exposed events ``a``, exposed days ``t1``, unexposed events ``b``, days ``t0``."""
        days, events = self.totals(c)
        a = np.zeros(self.n_cells)
        t1 = np.zeros(self.n_cells)
        if self.K:
            S, E, W = self.data.start, self.data.end, self.data.window_days
            cv = c[self.pv]
            lo = np.maximum(cv + 1, S)
            hi = np.minimum(cv + W, E - 1)
            ok = lo <= hi
            diff = np.zeros((self.K, self.D + 1), dtype=np.int32)
            np.add.at(diff, (self.k[ok], lo[ok] - S), 1)
            np.add.at(diff, (self.k[ok], hi[ok] - S + 1), -1)
            at_risk, is_event = self._risk(c)
            hit = (np.cumsum(diff[:, : self.D], axis=1) > 0) & at_risk
            t1 = np.bincount(self.cell[hit], minlength=self.n_cells).astype(np.float64)
            a = np.bincount(self.cell[hit & is_event], minlength=self.n_cells).astype(np.float64)
        return a, t1, events - a, days - t1

    def dose(self, c: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """At-risk cells with a decayed dose ``x > 0`` (cell index, x, event) and the per-cell totals."""
        days, events = self.totals(c)
        if not self.K:
            return np.empty(0, np.int64), np.empty(0), np.empty(0, bool), days, events
        d = self.data
        span = d.end - d.origin
        new = np.zeros((self.K, span))
        np.add.at(new, (self.k, c[self.pv] - d.origin), 1.0)
        x = np.zeros((self.K, self.D))
        y = np.zeros(self.K)
        for t in range(d.origin + 1, d.end):  # y_t = f (y_{t-1} + churned on t - 1)
            y = self.f * (y + new[:, t - 1 - d.origin])
            if t >= d.start:
                x[:, t - d.start] = y
        at_risk, is_event = self._risk(c)
        keep = at_risk & (x > 0)
        return self.cell[keep], x[keep], is_event[keep], days, events

    def multiplier(self, c: np.ndarray, beta: float = 0.0, iterations: int = 30) -> tuple[float, float]:
        """Conditional maximum likelihood ``(beta, information)`` of ``log h = alpha_cell + beta x``."""
        cell, x, event, days, events = self.dose(c)
        if not x.size:
            return float("nan"), 0.0
        n = self.n_cells
        zero_days = days - np.bincount(cell, minlength=n)
        use = events > 0
        Dn = events[use]
        target = float(x[event].sum())
        info = 0.0
        for _ in range(iterations):
            e = np.exp(beta * x)
            A0 = (zero_days + np.bincount(cell, e, minlength=n))[use]
            A1 = np.bincount(cell, x * e, minlength=n)[use]
            A2 = np.bincount(cell, x * x * e, minlength=n)[use]
            m1 = A1 / A0
            score = target - float(Dn @ m1)
            info = float(Dn @ (A2 / A0 - m1 * m1))
            if info <= 0:
                return float("nan"), 0.0
            step = float(np.clip(score / info, -1.0, 1.0))
            beta += step
            if abs(step) < 1e-7:
                break
        return beta, info


def person_day_counts(data: StudyData, churn_day: np.ndarray | None = None) -> pd.DataFrame:
    """Exposed / unexposed person-days and churn events per stratum and calendar band.

    A customer ``u`` is at risk on day ``t`` of ``[start, end)`` when ``t <= churn_day[u]``; the
    event is ``t == churn_day[u]``; the day is exposed when some close contact ``v`` of ``u`` has
    ``t - window_days <= churn_day[v] < t`` (and ``churn_day[v] >= origin``).  ``churn_day``
    overrides ``data.churn_day``.

    Returns
    -------
    pandas.DataFrame
        One row per stratum x band holding person-time: ``stratum``, ``band``, ``exposed_days``,
        ``exposed_events``, ``unexposed_days``, ``unexposed_events``.
    """
    tl = _Timeline(data)
    a, t1, b, t0 = tl.window(data.churn_day if churn_day is None else churn_day)
    idx = np.arange(tl.n_cells)
    table = pd.DataFrame({"stratum": idx // tl.B, "band": idx % tl.B, "exposed_days": t1, "exposed_events": a,
                          "unexposed_days": t0, "unexposed_events": b})
    return table[(t1 + t0) > 0].reset_index(drop=True)


def per_contact_multiplier(data: StudyData, z: float = 1.959963984540054) -> dict[str, float | None]:
    """Hazard multiplier of one just-churned close contact, from the stratified Poisson model with decayed dose.

    ``log h = alpha_(stratum, band) + beta * x`` with ``x = sum over close contacts v churned before the day
    of exp(-days_since_v / decay_days)``; the stratum intercepts are conditioned away (the likelihood
    ``sum_events beta x - sum_s D_s log(sum_(at-risk days of s) exp(beta x))``, maximised by Newton's
    method), so ``exp(beta)`` is a Cox-style hazard ratio.  Wald 95 % interval from the observed information.
    """
    beta, info = _Timeline(data).multiplier(data.churn_day)
    if not np.isfinite(beta) or info <= 0:
        return {"hr": None, "ci_low": None, "ci_high": None, "se_log": None}
    se = 1.0 / math.sqrt(info)
    return {"hr": math.exp(beta), "ci_low": math.exp(beta - z * se), "ci_high": math.exp(beta + z * se), "se_log": se}


def shuffle_null(data: StudyData, permutations: int = 199, seed: int = DEFAULT_SEED) -> dict[str, np.ndarray]:
    """Both ratios with churn dates permuted among the churners of the study period ``[start, end)``.

    Who churns, the network and the strata stay fixed; only when each churner left is shuffled.
    Returns ``{"hr": per-contact multipliers, "hr_window": Mantel-Haenszel window ratios}``.
    """
    rng = np.random.default_rng(seed)
    tl = _Timeline(data)
    pool = data.shuffle_pool()
    dates = data.churn_day[pool]
    c = data.churn_day.copy()
    beta0, _ = tl.multiplier(c)
    beta0 = beta0 if np.isfinite(beta0) else 0.0
    out = np.full(permutations, np.nan)
    out_w = np.full(permutations, np.nan)
    for i in range(permutations):
        c[pool] = rng.permutation(dates)
        beta, info = tl.multiplier(c, beta0)
        out[i] = math.exp(beta) if np.isfinite(beta) and info > 0 else np.nan
        out_w[i] = _mh_hr(*tl.window(c))
    return {"hr": out, "hr_window": out_w}


# --- from contact graphs to a study --------------------------------------------------------------
def _window(graph: Any, cut: np.datetime64) -> tuple[np.datetime64, np.datetime64]:
    """``[start, end)`` of the records a graph was built from (``end`` is its as_of, else ``cut``)."""
    end = timeline.to_day(graph.info.get("as_of") or cut)
    if graph.info.get("window_start"):
        start = timeline.to_day(graph.info["window_start"])
    else:
        start = end - int(graph.info.get("window_days", 30)) * timeline.DAY
    if "first_contact" in graph.contacts.columns and len(graph.contacts):
        first = pd.to_datetime(graph.contacts["first_contact"]).min()
        if pd.notna(first):
            start = max(start, np.datetime64(first.date(), "D"))
    return start, end


def _num(subs: pd.DataFrame, col: str) -> np.ndarray:
    return pd.to_numeric(subs[col], errors="coerce").to_numpy(np.float64) if col in subs else np.full(len(subs), np.nan)


def _bands(x: np.ndarray, edges: Sequence[float]) -> np.ndarray:
    """Band index of each value (len(edges) + 1 bands), missing values in a band of their own."""
    out = np.searchsorted(np.asarray(edges, dtype=np.float64), x, side="right")
    return np.where(np.isnan(x), len(edges) + 1, out).astype(np.int64)


def close_contacts(graphs: Sequence[Any], ids: Any, customer: np.ndarray, churn: np.ndarray,
                   origin: np.datetime64, cut: np.datetime64, min_rate: float) -> tuple[np.ndarray, np.ndarray, dict]:
    """Directed close-contact pairs ``(u, v)`` between customers, as rows of ``ids`` (subscriber ids; the
    graphs' vertices are matched to them by id).

    ``u`` contacts ``v`` (calls + SMS from ``u`` to ``v``) at least ``min_rate`` times per 30 days of
    the days both were customers inside the graphs' record windows.  ``churn`` is each row's churn
    date known at ``cut`` (NaT for none).
    """
    n = len(ids)
    key_parts, out_parts = [], []
    windows = []
    for g in graphs:
        con = g.contacts
        row = id_rows(g.subscribers["id"], ids)  # each vertex of g as a row of ids (looked up once)
        a = row[con["a_vid"].to_numpy(np.int64)]
        b = row[con["b_vid"].to_numpy(np.int64)]
        del row

        def col(name: str) -> np.ndarray:
            return con[name].fillna(0).to_numpy(np.float64) if name in con.columns else np.zeros(len(con))

        ab = col("calls_ab") + col("sms_ab")
        ba = col("calls_ba") + col("sms_ba")
        ok = (a >= 0) & (b >= 0)
        ok &= customer[np.where(ok, a, 0)] & customer[np.where(ok, b, 0)]
        a, b, ab, ba = a[ok], b[ok], ab[ok], ba[ok]
        key_parts += [a * n + b, b * n + a]
        out_parts += [ab, ba]
        windows.append(_window(g, cut))
    if not key_parts:
        return np.empty(0, np.int64), np.empty(0, np.int64), {"pairs_seen": 0, "close_pairs": 0}
    key, inv = np.unique(np.concatenate(key_parts), return_inverse=True)
    records = np.bincount(inv, np.concatenate(out_parts))
    u, v = key // n, key % n
    # days both were customers inside the record windows
    stop = np.full(n, cut)
    known = ~np.isnat(churn)
    stop[known] = np.minimum(churn[known], cut)
    pair_stop = np.minimum(stop[u], stop[v])
    days = np.zeros(len(key))
    for w0, w1 in windows:
        lo = max(w0, origin)
        hi = np.minimum(pair_stop, w1)
        days += np.clip((hi - lo) / timeline.DAY, 0, None)
    rate = 30.0 * records / np.maximum(days, 7.0)  # at least a week: one call in two days is no monthly habit
    close = rate >= min_rate
    return u[close], v[close], {"pairs_seen": int(len(key)), "close_pairs": int(close.sum())}


def not_measured(reason: str) -> dict[str, Any]:
    """The manifest entry when the test cannot run (no CRM extract, no churn, too little data)."""
    return {"measured": False, "called": None, "reason": reason,
            "verdict": f"Cannot tell whether churn spreads in this network: {reason}."}


def _fmt(x: float) -> str:
    return f"{x:.2f}" if x < 10 else f"{x:.1f}"


def _p_text(m: dict[str, Any]) -> str:
    p = m["p_value"]
    if m.get("null_exceeding") == 0:
        return f"p ≤ {p:.3f}" if p >= 0.001 else "p < 0.001"
    return f"p = {p:.3f}" if p < 0.1 else f"p = {p:.2f}"


def verdict(m: dict[str, Any]) -> str:
    """One plain-words sentence from the test's figures (``hr``, its interval, ``hr_window``, the null, ``called``)."""
    w = m["hr_window"]
    seen = (f"right after a close contact churned, customers were {_fmt(m['hr'])}× as likely to leave "
            f"(95% CI {_fmt(m['ci_low'])}–{_fmt(m['ci_high'])}), fading over about {m['decay_days']:.0f} days "
            f"({_fmt(w['hr'])}× over the next {m['window_days']} days)")
    if m.get("p_value") is None:
        return f"{seen[0].upper()}{seen[1:]}; without a time-shuffled null this cannot tell contagion from like attracting like."
    null = f"with churn dates shuffled in time the ratio is {_fmt(m['null_median'])} ({_p_text(m)})"
    if m["called"]:
        return f"Churn spreads in this network: {seen}; {null}."
    if m["ci_low"] <= 1.0:
        return f"No evidence that churn spreads here: {seen}, an interval that includes 1; {null}."
    return (f"No evidence that churn spreads here beyond like attracting like: {seen}, but {null}, so churners' "
            "contacts leave more but not especially soon after them (similar people are close, or the history is "
            "too short to show the timing).")


def contagion_test(
    graph: Any,
    as_of: Any,
    *,
    history: Any | None = None,
    study_days: int | None = None,
    window_days: int = 30,
    decay_days: float = 30.0,
    min_rate: float = 2.0,
    band_days: int = 7,
    permutations: int = 199,
    seed: int = DEFAULT_SEED,
) -> ContagionResult:
    """Estimate the churn hazard ratio after a close contact churned, and test it against a time-shuffled null.

    Parameters
    ----------
    graph : ContactGraph
        Built from records before ``as_of``; its CRM columns give churn dates, tenure, ARPU and plan.
    as_of : date-like
        Only churn strictly before it is read.
    history : ContactGraph, optional
        An earlier graph whose record window ends where ``graph``'s begins (``analyze``'s training
        snapshot): adds the days and ties before ``graph``'s window (ignored when the windows overlap).
    study_days : int, optional
        Follow customers over ``[as_of - study_days, as_of)``; default every day the records cover.
    window_days : int, default 30
        The window of the readable ratio: a day is exposed when a close contact churned 1 to
        ``window_days`` days before it.
    decay_days : float, default 30
        Decay of a churned contact's effect in the per-contact hazard ratio (the test statistic).
    min_rate : float, default 2.0
        Calls + SMS per 30 days from a customer to a contact that make the contact close (at least
        twice a month).  Lower counts more ties as close, diluting the effect with ties that carry
        little influence; higher sees fewer exposures.
    band_days : int, default 7
        Width of the calendar strata.
    permutations : int, default 199
        Time shuffles of the null (0 skips it: no p-value, and nothing is called).
    seed : int, default 42
        Seed of the shuffles.

    Returns
    -------
    ContagionResult
        ``metrics``: ``measured``, ``called``, ``verdict``; the per-contact hazard ratio ``hr`` with
        ``ci_low`` / ``ci_high``, ``p_value`` and the null (``null_median``, ``null_q025``,
        ``null_q975``, ``null``: every shuffle's ratio); ``hr_window``: the Mantel-Haenszel ratio over
        the ``window_days`` after a close contact churned, with its interval and null median; the
        exposed / unexposed person-days and events of that window; counts of customers and ties.
        ``strata``: the window counts per stratum x calendar band.
    """
    started = time.perf_counter()
    cut = timeline.to_day(as_of)
    timeline.check_graph_cut(graph, cut)
    subs = graph.subscribers
    params = {"study_days": study_days, "window_days": int(window_days), "decay_days": float(decay_days),
              "min_rate": float(min_rate), "band_days": int(band_days), "permutations": int(permutations),
              "seed": int(seed)}
    # close contacts come from records before the study period, so which ties are seen does not depend
    # on when the followed customers leave (a tie to someone who leaves early is seen less often: judged
    # on the study period's own records, ties would favour late churners and bias the shuffled null)
    g0, _ = _window(graph, cut)
    tie_graph, history_note = graph, "none"
    if history is not None:
        timeline.check_graph_cut(history, cut, "history graph")
        h0, h1 = _window(history, cut)
        if h1 <= g0 and len(history.contacts):
            tie_graph, history_note = history, f"records from {h0} to {h1}"
        elif not len(history.contacts):
            history_note = "ignored: it holds no contacts"
        else:
            history_note = f"ignored: its window ends {h1}, after the graph's starts ({g0})"
    origin, tie_end = _window(tie_graph, cut)
    study_start = g0 if study_days is None else max(cut - int(study_days) * timeline.DAY, g0)
    ties_note = (f"close contacts from the records of {origin} to {tie_end}, before the study period"
                 if tie_graph is not graph else
                 "close contacts from the study period's own records (no earlier records were available): ties to early "
                 "churners are seen less, which can make the shuffled null too low")
    base = {"method": METHOD, "references": REFERENCES, "parameters": params, "history": history_note,
            "ties": ties_note, "study": [str(study_start), str(cut)], "window_days": int(window_days),
            "decay_days": float(decay_days)}
    on_net = subs["on_net"].fillna(False).to_numpy(bool) if "on_net" in subs else np.zeros(len(subs), bool)
    customer = on_net & persons(subs)
    if not customer.any():
        return ContagionResult({**base, **not_measured("no subscriber extract, so no churn dates")})
    if study_start >= cut:
        return ContagionResult({**base, **not_measured("the records hold no day before as_of")})
    churn = timeline.known_churn_dates(subs, cut)

    u, v, pair_info = close_contacts([tie_graph], subs["id"], customer, churn, origin, cut, min_rate)
    cust = np.flatnonzero(customer)
    pos = np.full(len(subs), -1, np.int64)
    pos[cust] = np.arange(cust.size)
    u, v = pos[u], pos[v]
    cd = churn[cust]
    known = ~np.isnat(cd)
    day = np.full(cust.size, NEVER, np.int64)
    day[known] = ((cd[known] - origin) / timeline.DAY).astype(np.int64)  # before origin: negative, never at risk
    S = int((study_start - origin) / timeline.DAY)
    E = int((cut - origin) / timeline.DAY)

    # strata of what drives churn without contagion: close-contact count, tenure, ARPU tercile, plan
    n_close = np.bincount(u, minlength=cust.size)
    parts = [np.minimum(n_close, 5)]
    tenure = _num(subs, "tenure_months")[cust]
    if np.isfinite(tenure).any():
        parts.append(_bands(tenure, [6, 24]))
    arpu = _num(subs, "arpu")[cust]
    if np.isfinite(arpu).any():
        parts.append(_bands(arpu, np.nanquantile(arpu, [1 / 3, 2 / 3])))
    if "plan" in subs:
        parts.append(pd.factorize(subs["plan"].astype(object).fillna("unknown").to_numpy()[cust])[0].astype(np.int64))
    stratum = np.zeros(cust.size, np.int64)
    for p in parts:
        stratum = stratum * (int(p.max()) + 1) + p
    stratum = pd.factorize(stratum)[0].astype(np.int64)
    data = StudyData(day, u, v, stratum, S, E, 0, int(window_days), int(band_days), float(decay_days))
    counts = person_day_counts(data)
    a, t1 = counts["exposed_events"].to_numpy(), counts["exposed_days"].to_numpy()
    b, t0 = counts["unexposed_events"].to_numpy(), counts["unexposed_days"].to_numpy()
    figures: dict[str, Any] = {
        **base,
        "customers_followed": int((day >= S).sum()),
        "customers_with_close_contacts": int((n_close > 0).sum()),
        **pair_info,
        "strata": int(counts["stratum"].nunique()),
        "exposed_days": int(t1.sum()), "exposed_events": int(a.sum()),
        "unexposed_days": int(t0.sum()), "unexposed_events": int(b.sum()),
    }
    if a.sum() < MIN_EXPOSED_EVENTS or b.sum() < MIN_EXPOSED_EVENTS:
        reason = (f"too few churners ({int(a.sum())} customers left within {window_days} days of a close "
                  f"contact and {int(b.sum())} otherwise between {study_start} and {cut}; at least "
                  f"{MIN_EXPOSED_EVENTS} of each are needed)")
        return ContagionResult({**figures, **not_measured(reason)}, counts)
    pc = per_contact_multiplier(data)
    mh = mantel_haenszel(a, t1, b, t0)
    if pc["hr"] is None or mh["hr"] is None:
        return ContagionResult({**figures, **not_measured("no stratum holds both exposed and unexposed churners")}, counts)
    figures.update(measured=True, hr=pc["hr"], ci_low=pc["ci_low"], ci_high=pc["ci_high"], se_log_hr=pc["se_log"])
    figures["hr_window"] = {"hr": mh["hr"], "ci_low": mh["ci_low"], "ci_high": mh["ci_high"], "se_log_hr": mh["se_log"],
                            "crude_hr": float((a.sum() / t1.sum()) / (b.sum() / t0.sum()))}
    if permutations > 0:
        null = shuffle_null(data, permutations, seed)
        finite = null["hr"][np.isfinite(null["hr"])]
        exceed = int(np.sum(finite >= pc["hr"]))
        figures.update(
            p_value=(1 + exceed) / (1 + finite.size), null_exceeding=exceed, null_median=float(np.median(finite)),
            null_q025=float(np.quantile(finite, 0.025)), null_q975=float(np.quantile(finite, 0.975)),
            null=[round(float(x), 4) for x in finite],
        )
        w_null = null["hr_window"][np.isfinite(null["hr_window"])]
        figures["hr_window"].update(null_median=float(np.median(w_null)),
                                    p_value=(1 + int(np.sum(w_null >= mh["hr"]))) / (1 + w_null.size))
        figures["called"] = bool(pc["ci_low"] > 1.0 and figures["p_value"] < 0.05)
    else:
        figures.update(p_value=None, null_exceeding=None, null_median=None, null_q025=None, null_q975=None, null=[],
                       called=False)
    figures["verdict"] = verdict(figures)
    figures["seconds"] = round(time.perf_counter() - started, 3)
    return ContagionResult(figures, counts)

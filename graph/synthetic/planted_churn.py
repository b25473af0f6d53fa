"""A planted churn contagion on a community graph, with the daily hazards that made it: for churn tests and benchmarks.

Subscribers in communities of 5-40 (a share ``mixing`` of ties leave the community) get a baseline
daily hazard from low ARPU, short tenure and plan; each churned *strong* tie (the top 30% of directed
call rates) multiplies the hazard of the subscriber who calls it by ``contagion``, fading with
``decay_days`` (the influence-through-calls model of Dasgupta et al. 2008, "Social ties and their
relevance to churn in mobile telecom networks", EDBT).  The calls of two 30-day windows, one ending at
``as_of`` and one ``horizon_days`` earlier (for training), are aggregated into contact graphs.  The
hazards are returned too, so a benchmark can compute the lift of a score that knew them (the ceiling).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from bellwether.graph.contact_graph import ContactGraph
from bellwether.graph.core.settings import DEFAULT_SEED

__all__ = ["Planted", "planted_churn"]


@dataclass
class Planted:
    graph: ContactGraph  # records in [as_of - window, as_of)
    history: ContactGraph  # records in [t0 - window, t0)
    as_of: np.datetime64
    churn_date: np.ndarray  # datetime64[D], every churn of the simulation (past and future)
    community: np.ndarray
    base_hazard: np.ndarray  # daily baseline hazard (non-network)
    multiplier: np.ndarray  # contagion multiplier of the hazard on the as_of day


def _edges(n: int, mean_degree: float, mixing: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    sizes = rng.integers(5, 41, size=n // 5 + 10)
    sizes = sizes[: int(np.searchsorted(np.cumsum(sizes), n)) + 1]
    sizes[-1] -= int(sizes.sum()) - n
    community = np.repeat(np.arange(len(sizes)), sizes)
    rng.shuffle(community)
    order = np.argsort(community, kind="stable")
    start = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    k_in = rng.poisson(mean_degree * (1 - mixing) / 2, n)
    k_out = rng.poisson(mean_degree * mixing / 2, n)
    src_in = np.repeat(np.arange(n), k_in)
    c = community[src_in]
    dst_in = order[start[c] + (rng.random(len(c)) * sizes[c]).astype(np.int64)]
    src_out = np.repeat(np.arange(n), k_out)
    dst_out = rng.integers(0, n, len(src_out))
    src, dst = np.concatenate([src_in, src_out]), np.concatenate([dst_in, dst_out])
    lo, hi = np.minimum(src, dst), np.maximum(src, dst)
    key = np.unique(lo[lo != hi] * n + hi[lo != hi])
    return np.column_stack([key // n, key % n]), community


def planted_churn(
    n: int = 100_000,
    *,
    seed: int = DEFAULT_SEED,
    mean_degree: float = 12.0,
    mixing: float = 0.2,
    monthly_churn: float = 0.02,
    contagion: float = 1.8,
    decay_days: float = 30.0,
    off_net_share: float = 0.15,
    days_before: int = 120,
    horizon_days: int = 30,
    window_days: int = 30,
) -> Planted:
    """Simulate daily churn with a planted contagion and aggregate the calls into two contact graphs."""
    rng = np.random.default_rng(seed)
    edges, community = _edges(n, mean_degree, mixing, rng)
    a, b = edges[:, 0], edges[:, 1]
    m = len(a)
    on_net = rng.random(n) >= off_net_share
    arpu = np.round(rng.lognormal(np.log(60), 0.6, n), 2)
    tenure = np.minimum(rng.exponential(30, n), 240).astype(np.int32) + 1
    plan = np.where(arpu > 80, "postpaid", "prepaid")
    region = rng.choice(np.array(["north", "south", "east", "west", "central"]), n)
    risk = 1.0 * (np.log(arpu) < np.log(60) - 0.3) + 0.8 * (tenure < 12) - 0.5 * (plan == "postpaid")
    base = np.exp(risk)
    base *= monthly_churn / 30.0 / base[on_net].mean()
    # directed daily call rates; a strong tie i -> j is in the top 30 % of outgoing rates
    rate_ab = rng.lognormal(np.log(0.25), 1.0, m)
    rate_ba = rate_ab * rng.lognormal(0.0, 0.5, m)
    strong_cut = np.quantile(np.concatenate([rate_ab, rate_ba]), 0.7)
    strong_ab, strong_ba = rate_ab >= strong_cut, rate_ba >= strong_cut
    start = np.datetime64("2024-01-01")
    total_days = days_before + horizon_days
    churn_day = np.full(n, np.iinfo(np.int64).max)
    multiplier = np.ones(n)
    for d in range(total_days):
        gone = churn_day < d
        decay = np.where(gone, np.log1p((contagion - 1.0) * np.exp(-(d - np.minimum(churn_day, d)) / decay_days)), 0.0)
        # i's hazard rises with churned j it calls strongly (i -> j): a-side uses strong_ab, b-side strong_ba
        log_mult = np.bincount(a, strong_ab * decay[b], n) + np.bincount(b, strong_ba * decay[a], n)
        alive = on_net & (churn_day == np.iinfo(np.int64).max)
        hit = alive & (rng.random(n) < base * np.exp(log_mult))
        churn_day[hit] = d
        if d == days_before:
            multiplier = np.exp(log_mult)
    churn_date = np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")
    churned = churn_day < total_days
    churn_date[churned] = start + churn_day[churned]
    as_of = start + np.timedelta64(days_before, "D")
    ids = np.array([f"{i:016x}" for i in range(n)], dtype=object)

    def subscribers(cut: np.datetime64) -> pd.DataFrame:
        months = tenure - (as_of - cut).astype(int) // 30
        return pd.DataFrame({
            "vid": np.arange(n), "id": ids, "on_net": on_net, "kind": "person",
            "plan": np.where(on_net, plan, None), "arpu": np.where(on_net, arpu, np.nan),
            "tenure_months": np.where(on_net, np.maximum(months, 0), 0).astype(np.int32),
            "region": np.where(on_net, region, None),
            "status": np.where(on_net, np.where(churned, "churned", "active"), None),
            "churn_date": pd.to_datetime(churn_date),  # the CRM extract knows every churn, future included
        })

    def window(cut: np.datetime64) -> ContactGraph:
        lo_day = int((cut - start).astype(int)) - window_days
        hi_day = lo_day + window_days
        end_a = np.clip(np.minimum(churn_day[a], churn_day[b]), lo_day, hi_day)
        active = end_a - lo_day
        calls_ab = rng.poisson(rate_ab * active)
        calls_ba = rng.poisson(rate_ba * active)
        sms_ab = rng.poisson(0.3 * rate_ab * active)
        sms_ba = rng.poisson(0.3 * rate_ba * active)
        events = calls_ab + calls_ba + sms_ab + sms_ba
        keep = events > 0
        sec_ab = (calls_ab * rng.exponential(120, m)).astype(np.int64)
        sec_ba = (calls_ba * rng.exponential(120, m)).astype(np.int64)
        n_ab, n_ba = calls_ab + sms_ab, calls_ba + sms_ba
        recip = 1.0 - np.abs(n_ab - n_ba) / np.maximum(events, 1)
        weight = np.log1p((sec_ab + sec_ba) / 60.0) * (0.5 + 0.5 * recip) + 0.1 * np.log1p(sms_ab + sms_ba)
        first = (start + lo_day).astype("datetime64[s]")
        last = (start + end_a).astype("datetime64[s]") - rng.integers(1, 86_400 * 2, m).astype("timedelta64[s]")
        k = keep
        g = ContactGraph.from_edges(
            edges[k], weight[k], n=n, subscribers=subscribers(cut),
            calls_ab=calls_ab[k].astype(np.int32), calls_ba=calls_ba[k].astype(np.int32),
            seconds_ab=sec_ab[k], seconds_ba=sec_ba[k],
            sms_ab=sms_ab[k].astype(np.int32), sms_ba=sms_ba[k].astype(np.int32),
            first_contact=np.full(int(k.sum()), first), last_contact=np.maximum(last[k], first),
            active_days=np.minimum(active[k], events[k]).astype(np.int32),
            reciprocity=recip[k],
        )
        g.info = {"as_of": str(cut), "window_days": window_days}
        return g

    t0 = as_of - np.timedelta64(horizon_days, "D")
    return Planted(window(as_of), window(t0), as_of, churn_date, community, base, multiplier)

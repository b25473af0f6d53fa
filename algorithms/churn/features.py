"""Churn features of every subscriber at an ``as_of`` date: their own, and their network's.

*Own* (non-network) features describe the subscriber alone: CRM value
(``arpu``, ``tenure_months``, ``plan``, ``region``) and activity in the
contact graph (degree, strength, calls/seconds/SMS made and received, share of
events initiated, on-net share of contacts, and the recent drop in activity the
contacts table shows: days since the last contact and the share of contacts
silent for the last ``silent_days``).

*Network* features describe the churners among the contacts, in the forms the
churn-contagion literature found predictive (Dasgupta et al. 2008,
doi:10.1145/1353343.1353424; Richter, Yom-Tov and Slonim 2010,
doi:10.1137/1.9781611972801.64; Verbeke, Martens and Baesens 2014,
doi:10.1016/j.dss.2014.08.009): counts and shares of churned contacts, each
churner weighed by recency ``r_j = exp(-days_since_churn_j / decay_days)``, by
direction (the subscriber's own outgoing calls to the churner, incoming calls
and SMS separately) and by tie strength; the plain spreading-activation energy
(:mod:`bellwether.algorithms.churn.spreading_activation`) and the personalised-PageRank
contagion score (:mod:`bellwether.algorithms.churn.contagion_ppr`).

Churn is read only through :mod:`bellwether.algorithms.churn.timeline`, so nothing after
``as_of`` enters a feature.  Everything is vectorised over the contacts
(``numpy.bincount`` and sparse products): no Python loop over subscribers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from bellwether.algorithms.churn import timeline
from bellwether.algorithms.churn.contagion_ppr import personalized_pagerank, restart_weights
from bellwether.algorithms.churn.options import NetworkOptions
from bellwether.algorithms.churn.spreading_activation import spread_energy

__all__ = ["OWN_FEATURES", "NETWORK_FEATURES", "CATEGORICAL_FEATURES", "ChurnFeatures", "churn_features"]

CATEGORICAL_FEATURES = ("plan", "region")
OWN_FEATURES = (
    "arpu", "tenure_months", "plan", "region",
    "degree", "strength", "calls_out", "calls_in", "seconds_out", "seconds_in", "sms_out", "sms_in",
    "initiative", "on_net_share", "days_since_last_contact", "silent_share", "mean_active_days",
)
NETWORK_FEATURES = (
    "churned_contacts", "churned_contacts_all", "churned_share",
    "exposure_decay", "exposure_weight", "churn_weight_share", "churn_max_weight", "strong_churned_decay",
    "out_calls_churn_decay", "out_calls_churn_share", "out_seconds_churn_share",
    "in_calls_churn_decay", "sms_churn_decay",
    "spreading_activation", "contagion_score",
)


@dataclass
class ChurnFeatures:
    """Feature tables (row ``i`` is subscriber ``vid == i``) and the masks of the ``as_of`` cut."""

    as_of: np.datetime64
    own: pd.DataFrame
    network: pd.DataFrame
    churned: np.ndarray  # churned before as_of
    recent: np.ndarray  # churned in [as_of - recency_days, as_of)
    eligible: np.ndarray  # on-net person, not churned before as_of
    churned_contacts: np.ndarray  # contacts churned in the recency window, every vertex (whatever the rows)

    def table(self, network: bool = True, rows: np.ndarray | None = None) -> pd.DataFrame:
        """Own features, plus the network features when ``network``; only the vids ``rows`` (a mask, or vertex numbers)."""
        parts = [self.own, self.network] if network else [self.own]
        if rows is not None:
            parts = [p.loc[rows] for p in parts]
        return pd.concat(parts, axis=1) if len(parts) > 1 else parts[0]


def _col(contacts: pd.DataFrame, name: str) -> np.ndarray:
    """A contacts column as numbers, missing as 0; integer columns stay integer (half the memory of float64,
    and the same sums: :func:`numpy.bincount` and products with float arrays widen them exactly)."""
    if name not in contacts.columns:
        return np.zeros(len(contacts), dtype=np.int32)
    col = contacts[name]
    if col.dtype.kind in "iu":
        return col.to_numpy()
    return col.fillna(0).to_numpy(np.float64)


def _safe_div(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    out = np.zeros_like(num, dtype=np.float64)
    np.divide(num, den, out=out, where=den > 0)
    return out


def churn_features(
    graph: Any,
    as_of: Any,
    options: NetworkOptions = NetworkOptions(),
    rows: np.ndarray | None = None,
) -> ChurnFeatures:
    """Compute own and network churn features of every subscriber of ``graph`` at ``as_of``.

    Parameters
    ----------
    graph : ContactGraph
        Built from records before ``as_of`` (checked by the caller).
    as_of : date-like
        Churn strictly before it is known; nothing later is read.
    options : NetworkOptions
        How churned contacts count (:class:`bellwether.algorithms.churn.options.NetworkOptions`).
    rows : numpy.ndarray, optional
        Vertex numbers whose features are kept (e.g. a training sample); default all.  Each feature is
        still computed over the whole graph, then cut to these rows, so the tables hold only them.

    Returns
    -------
    ChurnFeatures
        ``own`` has :data:`OWN_FEATURES`, ``network`` has :data:`NETWORK_FEATURES`, indexed by vertex number.
    """
    cut = timeline.to_day(as_of)
    o = options
    recency_days, decay_days, silent_days, weight = o.recency_days, o.decay_days, o.silent_days, o.weight
    subs, con = graph.subscribers, graph.contacts
    n = graph.n_subscribers
    index = pd.RangeIndex(n) if rows is None else pd.Index(np.asarray(rows, dtype=np.int64))
    kept = index.to_numpy() if rows is not None else slice(None)  # what each per-vertex column is cut to
    recent = timeline.recent_churners(subs, cut, recency_days)
    eligible = timeline.eligible(subs, cut)  # before the per-contact arrays below, not on top of them
    rec = recent.astype(np.float64)
    # the two diffusions first, so the adjacency matrix is gone before the per-contact arrays below are made
    W = graph.to_csr(weight)
    energy = spread_energy(W, rec, spreading_factor=o.spreading_factor, threshold=o.sa_threshold)
    contagion = personalized_pagerank(
        W, restart_weights(subs, cut, recency_days=recency_days, decay_days=decay_days), damping=o.damping
    )
    del W
    a = con["a_vid"].to_numpy(np.int64)
    b = con["b_vid"].to_numpy(np.int64)
    w = graph.weights(weight)

    def per_vertex(x_ab: np.ndarray, x_ba: np.ndarray | None = None) -> np.ndarray:
        """sum over ties of the a-side value into a, and the b-side value into b."""
        x_ba = x_ab if x_ba is None else x_ba
        return np.bincount(a, x_ab, minlength=n) + np.bincount(b, x_ba, minlength=n)

    # --- own features ------------------------------------------------------
    own = pd.DataFrame(index=index)
    own["arpu"] = pd.to_numeric(subs["arpu"], errors="coerce").to_numpy(np.float64)[kept] if "arpu" in subs else np.nan
    own["tenure_months"] = (
        pd.to_numeric(subs["tenure_months"], errors="coerce").to_numpy(np.float64)[kept] if "tenure_months" in subs
        else np.nan
    )
    for cat in CATEGORICAL_FEATURES:
        if cat in subs:
            col = subs[cat].iloc[kept].astype(object)
            own[cat] = pd.Categorical(col.where(col.notna(), "unknown").astype(str).to_numpy(object))
        else:
            own[cat] = pd.Categorical(np.full(len(index), "unknown", dtype=object))
    degree = (np.bincount(a, minlength=n) + np.bincount(b, minlength=n)).astype(np.float64)
    strength = per_vertex(w)
    calls_ab, calls_ba = _col(con, "calls_ab"), _col(con, "calls_ba")
    sec_ab, sec_ba = _col(con, "seconds_ab"), _col(con, "seconds_ba")
    sms_ab, sms_ba = _col(con, "sms_ab"), _col(con, "sms_ba")
    calls_out, calls_in = per_vertex(calls_ab, calls_ba), per_vertex(calls_ba, calls_ab)
    seconds_out = per_vertex(sec_ab, sec_ba)
    sms_out, sms_in = per_vertex(sms_ab, sms_ba), per_vertex(sms_ba, sms_ab)
    events = calls_out + calls_in + sms_out + sms_in
    on_net = subs["on_net"].fillna(False).to_numpy(bool).astype(np.float64) if "on_net" in subs else np.ones(n)
    own["degree"] = degree[kept]
    own["strength"] = strength[kept]
    own["calls_out"] = calls_out[kept]
    own["calls_in"] = calls_in[kept]
    own["seconds_out"] = seconds_out[kept]
    own["seconds_in"] = per_vertex(sec_ba, sec_ab)[kept]
    own["sms_out"] = sms_out[kept]
    own["sms_in"] = sms_in[kept]
    own["initiative"] = np.where(events > 0, _safe_div(calls_out + sms_out, events), 0.5)[kept]
    del calls_in, sms_out, sms_in, events
    own["on_net_share"] = _safe_div(per_vertex(on_net[b], on_net[a]), degree)[kept]
    if "last_contact" in con.columns and len(con):
        last = pd.to_datetime(con["last_contact"]).to_numpy("datetime64[s]")
        lag = (np.datetime64(cut, "s") - last) / np.timedelta64(1, "D")
        lag = np.where(np.isnan(lag), np.inf, lag)
        since = np.full(n, np.inf)
        np.minimum.at(since, a, lag)
        np.minimum.at(since, b, lag)
        own["days_since_last_contact"] = np.where(np.isinf(since), np.nan, since)[kept]
        own["silent_share"] = _safe_div(per_vertex((lag >= silent_days).astype(np.float64)), degree)[kept]
        del last, lag, since
    else:
        own["days_since_last_contact"] = np.nan
        own["silent_share"] = np.nan
    own["mean_active_days"] = _safe_div(per_vertex(_col(con, "active_days")), degree)[kept]

    # --- network features ----------------------------------------------------
    churned = timeline.churned_before(subs, cut)
    days = timeline.days_since_churn(subs, cut)
    c = churned.astype(np.float64)
    r = np.where(churned, np.exp(-np.nan_to_num(days) / decay_days), 0.0)
    net = pd.DataFrame(index=index)
    churned_contacts = per_vertex(rec[b], rec[a])
    net["churned_contacts"] = churned_contacts[kept]
    all_churned = per_vertex(c[b], c[a])
    net["churned_contacts_all"] = all_churned[kept]
    net["churned_share"] = _safe_div(all_churned, degree)[kept]
    net["exposure_decay"] = per_vertex(r[b], r[a])[kept]
    net["exposure_weight"] = per_vertex(w * r[b], w * r[a])[kept]
    net["churn_weight_share"] = _safe_div(per_vertex(w * c[b], w * c[a]), strength)[kept]
    max_w = np.zeros(n)
    np.maximum.at(max_w, a, w * c[b])
    np.maximum.at(max_w, b, w * c[a])
    net["churn_max_weight"] = max_w[kept]
    strong = (w >= np.quantile(w, o.strong_quantile)).astype(np.float64) if len(w) else w
    net["strong_churned_decay"] = per_vertex(strong * r[b], strong * r[a])[kept]
    net["out_calls_churn_decay"] = per_vertex(calls_ab * r[b], calls_ba * r[a])[kept]
    net["out_calls_churn_share"] = _safe_div(per_vertex(calls_ab * c[b], calls_ba * c[a]), calls_out)[kept]
    net["out_seconds_churn_share"] = _safe_div(per_vertex(sec_ab * c[b], sec_ba * c[a]), seconds_out)[kept]
    net["in_calls_churn_decay"] = per_vertex(calls_ba * r[b], calls_ab * r[a])[kept]
    net["sms_churn_decay"] = per_vertex((sms_ab + sms_ba) * r[b], (sms_ab + sms_ba) * r[a])[kept]
    net["spreading_activation"] = energy[kept]
    net["contagion_score"] = contagion[kept]
    return ChurnFeatures(
        as_of=cut, own=own, network=net, churned=churned, recent=recent, eligible=eligible,
        churned_contacts=churned_contacts,
    )

"""Usage features per subscriber from the contacts table, and the usage-mix segment.

Every contact row counts for both of its ends: calls and SMS in both directions are
summed per subscriber (a subscriber's voice events are the calls it made plus the
calls it received).  The voice share of a subscriber is

.. math:: v_i = \\frac{\\text{calls}_i}{\\text{calls}_i + \\text{sms}_i}

and the usage mix is ``voice-centric`` when :math:`v_i \\ge` ``voice_min``,
``SMS-centric`` when :math:`1 - v_i \\ge` ``sms_min``, ``mixed`` otherwise, and
``no activity`` without any event (the channel-mix segmentation of operator
practice; e.g. Han, Kamber & Pei, *Data Mining*, 3rd ed., 2011, ch. 1 telecom example).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["USAGE_MIX_LABELS", "usage_features", "usage_mix"]

USAGE_MIX_LABELS = ("voice-centric", "SMS-centric", "mixed", "no activity")


def _col(contacts: pd.DataFrame, name: str, dtype=np.float64) -> np.ndarray:
    if name in contacts.columns:
        return contacts[name].to_numpy(dtype, na_value=0)
    return np.zeros(len(contacts), dtype=dtype)


def usage_features(
    n: int,
    contacts: pd.DataFrame,
    on_net: np.ndarray | None = None,
    *,
    strong_quantile: float = 0.75,
) -> pd.DataFrame:
    """Aggregate the contacts table into one row of usage and tie features per subscriber.

    Parameters
    ----------
    n : int
        Number of subscribers (vertices ``0..n-1``).
    contacts : pandas.DataFrame
        Columns ``a_vid``, ``b_vid`` and, when present, ``weight``, ``calls_ab``,
        ``calls_ba``, ``seconds_ab``, ``seconds_ba``, ``sms_ab``, ``sms_ba``,
        ``last_contact`` (:data:`bellwether.graph.schema.CONTACTS`). Missing counters count as 0.
    on_net : bool array of length n, optional
        Which subscribers are ours; used for ``on_net_share``. Default: all.
    strong_quantile : float, default 0.75
        A tie is *strong* when its weight is at least this quantile of all contact
        weights (higher → fewer strong ties).

    Returns
    -------
    pandas.DataFrame
        ``n`` rows in vertex order with columns ``degree``, ``strength``,
        ``voice_calls``, ``voice_seconds``, ``sms``, ``voice_share`` (NaN without
        events), ``strong_ties``, ``on_net_share`` (share of the tie strength that
        goes to on-net subscribers; NaN without contacts) and ``last_contact``
        (datetime64[s], NaT without contacts).
    """
    a = contacts["a_vid"].to_numpy(np.int64)
    b = contacts["b_vid"].to_numpy(np.int64)
    both = np.concatenate([a, b])
    w = _col(contacts, "weight") if "weight" in contacts.columns else np.ones(len(a))

    def per_vertex(values: np.ndarray) -> np.ndarray:
        return np.bincount(both, weights=np.concatenate([values, values]), minlength=n)

    calls = _col(contacts, "calls_ab") + _col(contacts, "calls_ba")
    seconds = _col(contacts, "seconds_ab") + _col(contacts, "seconds_ba")
    sms = _col(contacts, "sms_ab") + _col(contacts, "sms_ba")
    degree = np.bincount(both, minlength=n).astype(np.int64)
    strength = per_vertex(w)
    voice_calls = per_vertex(calls)
    sms_total = per_vertex(sms)
    events = voice_calls + sms_total
    with np.errstate(invalid="ignore", divide="ignore"):
        voice_share = np.where(events > 0, voice_calls / np.where(events > 0, events, 1), np.nan)

    threshold = float(np.quantile(w, strong_quantile)) if len(w) else 0.0
    strong = (w >= threshold).astype(np.float64) if len(w) else w
    strong_ties = per_vertex(strong).astype(np.int64)

    if on_net is None:
        on_net_share = np.where(degree > 0, 1.0, np.nan)
    else:
        on = np.asarray(on_net, dtype=bool)
        # weight towards on-net neighbours: for end a the neighbour is b and vice versa
        towards = np.bincount(a, weights=w * on[b], minlength=n) + np.bincount(b, weights=w * on[a], minlength=n)
        with np.errstate(invalid="ignore", divide="ignore"):
            on_net_share = np.where(strength > 0, towards / np.where(strength > 0, strength, 1), np.nan)
        on_net_share = np.where(degree > 0, on_net_share, np.nan)

    last = np.full(n, np.iinfo(np.int64).min, dtype=np.int64)
    if "last_contact" in contacts.columns and len(a):
        ts = contacts["last_contact"].to_numpy("datetime64[s]").astype(np.int64)
        np.maximum.at(last, a, ts)
        np.maximum.at(last, b, ts)
    last_contact = last.astype("datetime64[s]")  # int64 min is NaT

    return pd.DataFrame(
        {
            "degree": degree,
            "strength": strength,
            "voice_calls": voice_calls,
            "voice_seconds": per_vertex(seconds),
            "sms": sms_total,
            "voice_share": voice_share,
            "strong_ties": strong_ties,
            "on_net_share": on_net_share,
            "last_contact": last_contact,
        }
    )


def usage_mix(voice_share: np.ndarray, *, voice_min: float = 0.7, sms_min: float = 0.7) -> np.ndarray:
    """Label each subscriber ``voice-centric``, ``SMS-centric``, ``mixed`` or ``no activity``.

    Parameters
    ----------
    voice_share : float array
        Share of voice events among voice + SMS events (NaN: no events).
    voice_min : float, default 0.7
        Voice share from which a subscriber is voice-centric (higher → fewer).
    sms_min : float, default 0.7
        SMS share (``1 - voice_share``) from which a subscriber is SMS-centric.

    Returns
    -------
    numpy.ndarray of str (object), one label per subscriber.

    Examples
    --------
    >>> list(usage_mix(np.array([0.9, 0.1, 0.5, np.nan])))
    ['voice-centric', 'SMS-centric', 'mixed', 'no activity']
    """
    if voice_min + sms_min <= 1.0:
        raise ValueError("voice_min + sms_min must exceed 1 so that the two classes cannot overlap")
    v = np.asarray(voice_share, dtype=np.float64)
    code = np.full(len(v), 2, dtype=np.int8)
    code[v >= voice_min] = 0
    code[(1.0 - v) >= sms_min] = 1
    code[np.isnan(v)] = 3
    return np.asarray(USAGE_MIX_LABELS, dtype=object)[code]

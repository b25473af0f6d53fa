"""The ``as_of`` cut: what is known about churn at a date, and what is only a label.

Every churn score in Bellwether is computed *as of* a date.  Only churn that
happened strictly before that date may enter a score; churn on or after it is
future and may only be used to judge predictions.  This module is the one place
where subscriber churn dates are read, so the cut is written once:

* :func:`known_churn_dates` returns the CRM churn dates with every date on or
  after ``as_of`` erased; scoring code reads churn through it and nothing else
  (the CRM ``status`` column is never read: an extract taken after ``as_of``
  says "churned" for future churners too);
* :func:`recent_churners` is churn in ``[as_of - recency_days, as_of)``;
* :func:`training_labels` is churn in ``[t0, as_of)`` with
  ``t0 = as_of - horizon_days`` (the labels of the training snapshot, all
  known at ``as_of``);
* :func:`evaluation_labels` is churn in ``[as_of, as_of + horizon_days)`` (what
  a run is judged against, in ``evaluate``, the report and the run tables alike;
  never used by a score).  Both windows are half-open the same way: a churn dated
  ``as_of`` is not known at ``as_of`` and is the first day of the future, as a churn
  dated ``t0`` is the first day of the training labels.

Dates are handled as ``numpy.datetime64[D]``; ``as_of`` may be given as a
``YYYY-MM-DD`` string, a ``date``/``datetime``, a ``pandas.Timestamp`` or a
``numpy.datetime64``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from bellwether.algorithms.crm import persons
from bellwether.graph.core.dates import parse_day
from bellwether.graph.core.errors import BellwetherError

__all__ = [
    "AsOfError",
    "to_day",
    "churn_dates",
    "known_churn_dates",
    "churned_before",
    "recent_churners",
    "days_since_churn",
    "eligible",
    "training_labels",
    "evaluation_labels",
    "check_graph_cut",
]

DAY = np.timedelta64(1, "D")


class AsOfError(BellwetherError, ValueError):
    """A graph holds records from on or after the date a score is computed as of."""


def to_day(value: Any) -> np.datetime64:
    """Return ``value`` as a ``numpy.datetime64`` day, read by :func:`bellwether.graph.core.dates.parse_day`
    (the one date rule: dates, datetimes, ``numpy.datetime64`` and text starting ``YYYY-MM-DD``).

    Raises
    ------
    ValueError
        ``value`` is missing or not a date (:class:`~bellwether.graph.core.dates.DateError` for the latter).
    """
    day = None if value is None or (np.ndim(value) == 0 and pd.isna(value)) else parse_day(value)
    if day is None:
        raise ValueError("as_of is required (a date such as '2024-03-01').")
    return np.datetime64(day, "D")


def churn_dates(subscribers: pd.DataFrame) -> np.ndarray:
    """All CRM churn dates as ``datetime64[D]`` (``NaT`` where there is none), past and future.

    Only :mod:`bellwether.algorithms.evaluation` and :func:`known_churn_dates` call this.
    """
    if "churn_date" not in subscribers.columns:
        return np.full(len(subscribers), np.datetime64("NaT"), dtype="datetime64[D]")
    col = pd.to_datetime(subscribers["churn_date"], errors="raise")
    return col.to_numpy(dtype="datetime64[ns]").astype("datetime64[D]")


def known_churn_dates(subscribers: pd.DataFrame, as_of: Any) -> np.ndarray:
    """Churn dates known at ``as_of``: the date where it is strictly before ``as_of``, else ``NaT``."""
    cut = to_day(as_of)
    d = churn_dates(subscribers)
    out = np.full(d.shape, np.datetime64("NaT"), dtype="datetime64[D]")
    known = ~np.isnat(d) & (d < cut)
    out[known] = d[known]
    return out


def churned_before(subscribers: pd.DataFrame, as_of: Any) -> np.ndarray:
    """Boolean mask: churned strictly before ``as_of`` (CRM ``churn_date < as_of``)."""
    return ~np.isnat(known_churn_dates(subscribers, as_of))


def recent_churners(subscribers: pd.DataFrame, as_of: Any, recency_days: int = 30) -> np.ndarray:
    """Boolean mask: churned in ``[as_of - recency_days, as_of)``."""
    cut = to_day(as_of)
    d = known_churn_dates(subscribers, cut)
    return ~np.isnat(d) & (d >= cut - recency_days * DAY)


def days_since_churn(subscribers: pd.DataFrame, as_of: Any) -> np.ndarray:
    """Days from the churn date to ``as_of`` (>= 1) for churners before ``as_of``, ``NaN`` otherwise."""
    cut = to_day(as_of)
    d = known_churn_dates(subscribers, cut)
    out = np.full(len(d), np.nan)
    known = ~np.isnat(d)
    out[known] = (cut - d[known]) / DAY
    return out


def eligible(subscribers: pd.DataFrame, as_of: Any) -> np.ndarray:
    """Boolean mask of the subscribers that get churn scores: on-net persons not churned before ``as_of``."""
    on_net = subscribers["on_net"].fillna(False).to_numpy(dtype=bool) if "on_net" in subscribers else np.ones(len(subscribers), bool)
    return on_net & persons(subscribers) & ~churned_before(subscribers, as_of)


def training_labels(subscribers: pd.DataFrame, t0: Any, as_of: Any) -> np.ndarray:
    """Boolean mask: churned in ``[t0, as_of)``, the labels of a training snapshot taken at ``t0``.

    Every such date is before ``as_of``, so the labels are known at ``as_of``.
    """
    start, end = to_day(t0), to_day(as_of)
    if start > end:
        raise ValueError(f"t0 {start} is after as_of {end}.")
    d = known_churn_dates(subscribers, end)
    return ~np.isnat(d) & (d >= start)


def evaluation_labels(dates: np.ndarray, as_of: Any, horizon_days: int | None = 30) -> np.ndarray:
    """Boolean mask: churn date in ``[as_of, as_of + horizon_days)`` (judging only, never scoring).

    ``horizon_days=None`` counts every churn on or after ``as_of``.
    """
    cut = to_day(as_of)
    d = np.asarray(dates, dtype="datetime64[D]")
    future = ~np.isnat(d) & (d >= cut)
    return future if horizon_days is None else future & (d < cut + int(horizon_days) * DAY)


def check_graph_cut(graph: Any, as_of: Any, what: str = "graph") -> None:
    """Raise :class:`AsOfError` if ``graph`` holds contacts from ``as_of`` or later.

    Checks the build date recorded in ``graph.info['as_of']`` and, when the
    contacts table has it, the ``last_contact`` column.
    """
    cut = to_day(as_of)
    built = graph.info.get("as_of") if getattr(graph, "info", None) else None
    if built is not None and to_day(built) > cut:
        raise AsOfError(
            f"The {what} was built as of {to_day(built)}, after {cut}: it holds records a score "
            f"as of {cut} must not see. Build it with as_of <= {cut}."
        )
    if "last_contact" in graph.contacts.columns and len(graph.contacts):
        last = pd.to_datetime(graph.contacts["last_contact"]).max()
        if pd.notna(last) and np.datetime64(last.date(), "D") >= cut:
            raise AsOfError(
                f"The {what} has contacts up to {last}, not before {cut}: build it with as_of <= {cut}."
            )

"""Behaviour segment from recent activity: churned, new, silent or active.

Each subscriber gets exactly one label, the first that applies:

1. ``churned`` — churned before ``as_of`` (the run's ``churned`` flag);
2. ``new`` — tenure below ``new_months`` months;
3. ``silent`` — no contact in the ``silent_days`` days before ``as_of``
   (last contact earlier, or no contact at all);
4. ``active`` — everyone else.

This is the recency part of RFM segmentation (Hughes, *Strategic Database
Marketing*, 1994) on the contact graph's ``last_contact`` dates; only events before
``as_of`` are in the graph, so nothing after ``as_of`` is used.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["BEHAVIOUR_LABELS", "behaviour"]

BEHAVIOUR_LABELS = ("churned", "new", "silent", "active")


def behaviour(
    churned: np.ndarray,
    tenure_months: np.ndarray,
    last_contact: np.ndarray,
    as_of,
    *,
    silent_days: int = 30,
    new_months: int = 3,
) -> np.ndarray:
    """Label each subscriber ``churned``, ``new``, ``silent`` or ``active``.

    Parameters
    ----------
    churned : bool array
        Churned before ``as_of``.
    tenure_months : float array
        Months since joining (NaN when unknown: never ``new``).
    last_contact : datetime64 array
        Latest contact before ``as_of`` (NaT: none).
    as_of : date-like
        Analysis date.
    silent_days : int, default 30
        Days without contact after which a subscriber is silent (larger → fewer silent).
    new_months : int, default 3
        Tenure below which a subscriber is new.

    Returns
    -------
    numpy.ndarray of str (object), one label per subscriber.

    Examples
    --------
    >>> t = np.array(["2024-01-30", "2023-01-01", "NaT", "2024-01-20"], dtype="datetime64[s]")
    >>> list(behaviour(np.array([True, False, False, False]), np.array([24, 36, 12, 1]), t, "2024-02-01"))
    ['churned', 'silent', 'silent', 'new']
    """
    as_of_s = pd.Timestamp(as_of).to_datetime64().astype("datetime64[s]")
    cutoff = as_of_s - np.timedelta64(int(silent_days), "D")
    last = np.asarray(last_contact, dtype="datetime64[s]")
    tenure = np.asarray(tenure_months, dtype=np.float64)
    code = np.full(len(last), 3, dtype=np.int8)
    code[np.isnat(last) | (last < cutoff)] = 2
    code[tenure < new_months] = 1  # NaN compares False
    code[np.asarray(churned, dtype=bool)] = 0
    return np.asarray(BEHAVIOUR_LABELS, dtype=object)[code]

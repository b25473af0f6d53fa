"""Value tiers: customers cut into ARPU bands at configurable quantiles.

The cut points are quantiles of the ARPU of on-net subscribers with a known ARPU
(``numpy.quantile``, linear interpolation).  With cut points
:math:`c_1 < \\dots < c_m` a subscriber with ARPU :math:`x` gets tier
:math:`t = \\#\\{j : c_j \\le x\\}`, so ``quantiles=(0.5, 0.8)`` gives the classic
"bottom half / next 30 % / top 20 %" bands of value-based segmentation
(Kotler & Keller, *Marketing Management*, 15th ed., 2016, ch. 9).
Off-net numbers are ``off_net``; on-net subscribers without ARPU are ``unknown``.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

__all__ = ["value_tiers", "tier_cut_points"]


def tier_cut_points(arpu: np.ndarray, quantiles: Sequence[float] = (0.5, 0.8)) -> np.ndarray:
    """Return the ARPU cut points at ``quantiles`` of the finite values in ``arpu``."""
    q = np.asarray(quantiles, dtype=np.float64)
    if q.ndim != 1 or len(q) == 0 or np.any(np.diff(q) <= 0) or q[0] <= 0 or q[-1] >= 1:
        raise ValueError(f"quantiles must be increasing and strictly between 0 and 1, got {list(quantiles)}")
    x = np.asarray(arpu, dtype=np.float64)
    x = x[np.isfinite(x)]
    if len(x) == 0:
        return np.full(len(q), np.nan)
    return np.quantile(x, q)


def value_tiers(
    arpu: np.ndarray,
    on_net: np.ndarray | None = None,
    *,
    quantiles: Sequence[float] = (0.5, 0.8),
    labels: Sequence[str] = ("low", "mid", "high"),
) -> np.ndarray:
    """Assign every subscriber one value tier from its ARPU.

    Parameters
    ----------
    arpu : float array
        Average revenue per user (NaN when unknown).
    on_net : bool array, optional
        Our customers; others are labelled ``off_net`` and do not move the cut points.
        Default: everyone is on-net.
    quantiles : sequence of float, default (0.5, 0.8)
        Increasing quantiles in (0, 1) where tiers are cut; raising them makes the
        upper tiers smaller.
    labels : sequence of str, default ("low", "mid", "high")
        One label per tier, ``len(quantiles) + 1`` of them, lowest first.

    Returns
    -------
    numpy.ndarray of str (object)
        One of ``labels``, ``"unknown"`` or ``"off_net"`` per subscriber.

    Raises
    ------
    ValueError
        Quantiles not increasing in (0, 1), or the wrong number of labels.

    Examples
    --------
    >>> list(value_tiers(np.arange(1.0, 11.0)))
    ['low', 'low', 'low', 'low', 'low', 'mid', 'mid', 'mid', 'high', 'high']
    """
    if len(labels) != len(quantiles) + 1:
        raise ValueError(f"need {len(quantiles) + 1} labels for {len(quantiles)} quantiles, got {len(labels)}")
    x = np.asarray(arpu, dtype=np.float64)
    on = np.ones(len(x), dtype=bool) if on_net is None else np.asarray(on_net, dtype=bool)
    cuts = tier_cut_points(x[on], quantiles)
    names = np.asarray([*labels, "unknown", "off_net"], dtype=object)
    code = np.searchsorted(cuts, x, side="right") if np.all(np.isfinite(cuts)) else np.zeros(len(x), np.int64)
    code = np.where(np.isfinite(x), code, len(labels))
    code = np.where(on, code, len(labels) + 1)
    return names[code]

"""Reading the ``as_of`` date (and other calendar days) the same way everywhere."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from bellwether.graph.core.errors import BellwetherError


class DateError(BellwetherError, ValueError):
    """A value meant as a calendar day is not one."""


def parse_day(value: Any, what: str = "as_of") -> date | None:
    """Return ``value`` as a :class:`datetime.date` (None and "" give None).

    Accepts dates, datetimes (their day) and strings starting with ``YYYY-MM-DD``.

    >>> parse_day("2026-03-01T10:00:00")
    datetime.date(2026, 3, 1)

    Raises
    ------
    DateError
        The value is not a day; the message names ``what``.
    """
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError as exc:
        raise DateError(f"{what} must be a date YYYY-MM-DD, got {value!r}.") from exc

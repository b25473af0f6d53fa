"""The catalogue of validation errors: one stable slug per kind of problem.

Each rejected input value becomes one quarantine row (``graph.schema.QUARANTINE``)
carrying the file, the 1-based line, the column, the (masked) value, the slug
and a human message built from the slug's template.  The slugs are stable:
they are counted per reason in the load manifest and may be used in
monitoring, so never rename one.  The design follows the error catalogue of
frictionless-py (type, title, message template, row/column/cell note).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from graph.errors import BellwetherError


class LoadError(BellwetherError):
    """An input file cannot be loaded (unreadable, wrong layout, too many bad rows...)."""


class PseudonymKeyError(BellwetherError):
    """No pseudonymisation key, a key that is too short, or a key that differs from the workspace's."""


@dataclass(frozen=True)
class ErrorType:
    """One kind of validation problem.

    Attributes
    ----------
    slug : str
        Stable identifier stored in the quarantine ``reason`` column and the manifest.
    template : str
        ``str.format`` template for the message; fields ``column``, ``value`` and ``note``.
    row_level : bool
        True when the problem concerns the whole row (the quarantine ``column`` is "").
    """

    slug: str
    template: str
    row_level: bool = False

    def message(self, column: str = "", value: str = "", note: str = "") -> str:
        return self.template.format(column=column, value=value, note=note)


CATALOGUE: dict[str, ErrorType] = {
    e.slug: e
    for e in (
        ErrorType("field_count", "Row has the wrong number of fields: {note}.", row_level=True),
        ErrorType("bad_row", "Row cannot be parsed as CSV: {note}.", row_level=True),
        ErrorType("missing_number", "Column {column!r} is empty; a phone number is required."),
        ErrorType("bad_number", "Column {column!r} is not a phone number ({value}); expected digits with an optional leading '+'."),
        ErrorType("self_contact", "Caller and callee are the same number ({value}).", row_level=True),
        ErrorType("bad_time", "Column {column!r} is not a time ({value}); expected {note}."),
        ErrorType("bad_duration", "Column {column!r} is not a whole non-negative number of seconds ({value})."),
        ErrorType("bad_type", "Column {column!r} has record type {value!r}; expected one of {note}."),
        ErrorType("bad_value", "Column {column!r} has an invalid value ({value}); expected {note}."),
    )
}

#: Slugs in a fixed order (reports list reasons in this order).
REASONS: tuple[str, ...] = tuple(CATALOGUE)

_DIGIT_RUN = re.compile(r"\d{5,}")


def mask_number(value: str | None) -> str:
    """Mask a phone-number-like value: every digit but the last two becomes ``*``.

    >>> mask_number("+8613812345678")
    '+***********78'
    >>> mask_number("10086")
    '***86'
    """
    if value is None:
        return ""
    if len(value) <= 2:
        return value
    head = re.sub(r"\d", "*", value[:-2])
    return head + value[-2:]


def mask_text(text: str | None) -> str:
    """Mask every run of five or more digits in free text (a whole CSV line) as ``*``.

    Dates and times (runs of at most four digits) stay readable.

    >>> mask_text("13812345678,10086,2024-01-01 10:00:00,5,voice")
    '***********,*****,2024-01-01 10:00:00,5,voice'
    """
    if text is None:
        return ""
    return _DIGIT_RUN.sub(lambda m: "*" * len(m.group(0)), text)

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

from bellwether.graph.core.errors import BellwetherError


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
        ErrorType("unbalanced_quote", "Line has an unbalanced double quote; a record never spans lines, so the line "
                  "is set aside and the next line is read as the next record.", row_level=True),
        ErrorType("missing_number", "Column {column!r} is empty; a phone number is required."),
        ErrorType("bad_number", "Column {column!r} is not a phone number ({value}); expected digits with an optional leading '+' (spaces, '-' and brackets inside are fine)."),
        ErrorType("self_contact", "Caller and callee are the same number ({value}).", row_level=True),
        ErrorType("bad_time", "Column {column!r} is not a time ({value}); expected {note}."),
        ErrorType("time_out_of_range", "Column {column!r} holds a time outside the plausible range ({value}); "
                  "expected {note} (set valid_from / valid_until to widen it)."),
        ErrorType("bad_duration", "Column {column!r} is not a whole non-negative number of seconds ({value})."),
        ErrorType("bad_type", "Column {column!r} has record type {value!r}; expected one of {note}."),
        ErrorType("bad_value", "Column {column!r} has an invalid value ({value}); expected {note}."),
    )
}

#: Slugs in a fixed order (reports list reasons in this order).
REASONS: tuple[str, ...] = tuple(CATALOGUE)

# --- masking ---------------------------------------------------------------------------------
# Raw values reach the quarantine and messages only masked.  Each rule has a Python
# function and a DuckDB expression doing the same (tests compare them); a digit is any
# Unicode decimal digit (Python ``\d``, RE2 ``\p{Nd}``).

#: Characters kept of a stored value (then ``…``); masking looks at the first ``MASK_WINDOW``.
MAX_VALUE_CHARS = 64
MASK_WINDOW = 4 * MAX_VALUE_CHARS
#: Characters that may join the digits of one number in free text (a run); ``-`` last (regex class).
RUN_SEPARATORS = " ().+/-"
_DATE = r"(?:19|20)[0-9]{2}[-/](?:0[1-9]|1[0-2])[-/](?:0[1-9]|[12][0-9]|3[01])"
_TIME = r"(?:[01][0-9]|2[0-3]):[0-5][0-9](?::[0-5][0-9])?"
_PROTECTED = re.compile(f"{_DATE}|{_TIME}")
_RUN = re.compile(rf"\d(?:[{RUN_SEPARATORS}]*\d)*")
_TAIL = re.compile(r"\d\D*\d$")
_DIGIT = re.compile(r"\d")
_MARKERS = str.maketrans("\x01\x02", "??")  # the SQL form marks protected text with these


def mask_number(value: str | None) -> str:
    """Mask a phone-number-like value: every digit but the last two characters becomes ``*``.

    >>> mask_number("+8613812345678")
    '+***********78'
    >>> mask_number("10086"), mask_number("+86 138-1234-5678")
    ('***86', '+** ***-****-**78')
    """
    if value is None:
        return ""
    if len(value) <= 2:
        return value
    return _DIGIT.sub("*", value[:-2]) + value[-2:]


def _mask_run(m: re.Match) -> str:
    """A run (a match of ``_RUN``) with every digit but its last two masked, when it has five digits or more."""
    run = m.group(0)
    if len(_DIGIT.findall(run)) < 5:
        return run
    cut = len(run) - len(_TAIL.search(run).group(0))
    return _DIGIT.sub("*", run[:cut]) + run[cut:]


def mask_text(text: str | None) -> str:
    """Mask phone-like runs in free text (a whole CSV line, a value in the wrong column).

    A run is digits joined by the separators of :data:`RUN_SEPARATORS`; a run with
    five digits or more keeps only its last two digits.  Dates ``YYYY-MM-DD`` /
    ``YYYY/MM/DD`` and times ``HH:MM[:SS]`` are set aside first and stay readable.
    The control characters chr(1) and chr(2) become ``?`` (the SQL form uses them as marks).

    >>> mask_text("13812345678,10086,2024-01-01 10:00:00,5,voice")
    '*********78,***86,2024-01-01 10:00:00,5,voice'
    >>> mask_text("+86 138-1234-5678 called (010) 1234.5678 on 2026/01/05 at 10:00")
    '+** ***-****-**78 called (***) ****.**78 on 2026/01/05 at 10:00'
    """
    if text is None:
        return ""
    text = text.translate(_MARKERS)
    if len(_DIGIT.findall(text)) < 5:
        return text
    out, pos = [], 0
    for m in _PROTECTED.finditer(text):
        out += [_RUN.sub(_mask_run, text[pos:m.start()]), m.group(0)]
        pos = m.end()
    out.append(_RUN.sub(_mask_run, text[pos:]))
    return "".join(out)


def mask_value(value: str | None, number: bool = False) -> str:
    """What the quarantine stores of a raw value: masked, then cut to :data:`MAX_VALUE_CHARS` characters and ``…``.

    ``number=True`` masks with :func:`mask_number` (a number column), else with
    :func:`mask_text`; both look at the first :data:`MASK_WINDOW` characters only.

    >>> v = mask_value("138-1234-5678 " * 10)
    >>> v[:16], len(v), v[-1], len(mask_value("x" * 10**6))
    ('***-****-**** **', 65, '…', 65)
    """
    if value is None:
        return ""
    window = value[:MASK_WINDOW]
    masked = mask_number(window) if number else mask_text(window)
    return masked[:MAX_VALUE_CHARS] + ("…" if len(window) > MAX_VALUE_CHARS else "")


def mask_number_sql(col: str) -> str:
    """DuckDB expression computing :func:`mask_number` of VARCHAR ``col`` (NULL gives '')."""
    return (f"(CASE WHEN {col} IS NULL THEN '' WHEN length({col}) <= 2 THEN {col} ELSE "
            f"regexp_replace(left({col}, length({col}) - 2), '\\p{{Nd}}', '*', 'g') || right({col}, 2) END)")


def mask_text_sql(col: str) -> str:
    """DuckDB expression computing :func:`mask_text` of VARCHAR ``col`` (NULL gives '').

    Protected dates and times are wrapped in chr(1) … chr(2); the text is then cut into
    protected pieces, runs and the rest; a run with five digits or more (``t``: its last
    two digits, found once per piece) has every other digit masked.
    """
    t = f"translate({col}, chr(1) || chr(2), '??')"
    marked = f"regexp_replace({t}, {_sql_literal(_PROTECTED.pattern)}, chr(1) || '\\0' || chr(2), 'g')"
    pieces = f"regexp_extract_all({marked}, '\\x01[^\\x02]*\\x02|\\p{{Nd}}(?:[{RUN_SEPARATORS}]*\\p{{Nd}})*|[^\\p{{Nd}}\\x01]+')"
    tails = (f"[{{'p': p, 't': CASE WHEN p[1] <> chr(1) AND regexp_matches(p, '(?:\\p{{Nd}}[^\\p{{Nd}}]*){{5}}') "
             f"THEN regexp_extract(p, '\\p{{Nd}}[^\\p{{Nd}}]*\\p{{Nd}}$') END}} FOR p IN {pieces}]")
    piece = ("CASE WHEN s.p[1] = chr(1) THEN substr(s.p, 2, length(s.p) - 2) WHEN s.t IS NULL THEN s.p "
             "ELSE left(regexp_replace(s.p, '\\p{Nd}', '*', 'g'), length(s.p) - length(s.t)) || s.t END")
    return (f"(CASE WHEN {col} IS NULL THEN '' WHEN NOT regexp_matches({col}, '(?:\\p{{Nd}}[^\\p{{Nd}}]*){{5}}') THEN {t} "
            f"ELSE array_to_string([{piece} FOR s IN {tails}], '') END)")


def mask_value_sql(col: str, number: bool = False) -> str:
    """DuckDB expression computing :func:`mask_value` of VARCHAR ``col``."""
    window = f"substr({col}, 1, {MASK_WINDOW})"
    masked = mask_number_sql(window) if number else mask_text_sql(window)
    return (f"(left({masked}, {MAX_VALUE_CHARS}) || "
            f"CASE WHEN length({window}) > {MAX_VALUE_CHARS} THEN '…' ELSE '' END)")


def _sql_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"

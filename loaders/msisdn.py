"""Phone numbers: normalisation to E.164 and short-code (service number) detection.

Rules (the readable reference in Python, :func:`normalize_msisdn`, used for single look-ups such as
the do-not-contact list and the truth file; the same rules compiled for bulk work,
:mod:`bellwether.loaders.kernels`, used for CDR rows and the subscriber extract alike; property tests
check that the two agree, so bulk loads and single look-ups give the same ids):

1. Surrounding ASCII whitespace (space, tab, CR, LF, VT, FF) is removed; the rest
   must be digits with an optional leading ``+``, where the visual separators
   space, ``-``, ``(`` and ``)`` may appear anywhere after that ``+`` and
   are dropped (``+86 138-1234-5678``, ``(010) 1234 5678``).  Anything else
   (letters, a ``+`` elsewhere, tabs inside, other punctuation) is malformed;
   a ``.`` too, so a spreadsheet's ``13812345678.0`` is refused rather than read
   as another number.
   Lengths below count digits only, after dropping the separators.
2. ``+CC...`` and ``00CC...`` are international: the digits after the prefix are
   the E.164 number (the country code may not start with 0).
3. Three to six digits without a prefix are a short code (e.g. 10086, 95588):
   kept as the bare digits and flagged as a service number.
4. A leading ``0`` is the national trunk prefix: ``0XXXX`` becomes ``CC XXXX``.
5. Digits that start with the country code and are at least ``len(CC) + 9`` long
   are international without a prefix (``8613812345678``); otherwise they are a
   national number and the country code is prepended (``13812345678``).
6. A valid E.164 number has 8 to 15 digits (ITU-T E.164 allows at most 15).

E.164 numbers are written ``+<digits>``; short codes are written as their bare
digits, so the two can never collide and normalisation is idempotent.

For bulk work numbers are carried as a BIGINT *code*: the E.164 digits as an
integer, or ``-(10**len + value)`` for a short code (keeps leading zeros).

Reference: ITU-T Recommendation E.164, "The international public
telecommunication numbering plan" (11/2010).
"""

from __future__ import annotations

MIN_E164_DIGITS = 8
MAX_E164_DIGITS = 15
SHORT_CODE_DIGITS = (3, 6)
#: Characters trimmed around a number (ASCII whitespace) and dropped inside it (visual separators).
WHITESPACE = " \t\r\n\v\f"
SEPARATORS = " ()-"  # "-" last: also used inside a regex character class; no ".": "13812345678.0" (a spreadsheet float) must not become another number
_DIGITS = frozenset("0123456789")
_DROP_SEPARATORS = str.maketrans("", "", SEPARATORS)
_WHITESPACE_SQL = " || ".join(f"chr({ord(c)})" for c in WHITESPACE)


def _check_cc(country_code: str) -> str:
    cc = str(country_code).lstrip("+")
    if not cc.isdigit() or not 1 <= len(cc) <= 3 or cc[0] == "0":
        raise ValueError(f"country code must be 1-3 digits not starting with 0, got {country_code!r}")
    return cc


def normalize_msisdn(s: str | None, country_code: str = "86") -> str | None:
    """Return the E.164 form ``+<digits>`` of ``s``, the bare digits of a short code, or None.

    Parameters
    ----------
    s : str or None
        A phone number as written in a CDR or CRM file.
    country_code : str, default "86"
        Country code assumed for national numbers.

    Returns
    -------
    str or None
        ``"+8613812345678"``, ``"10086"`` (short code) or None when ``s`` is empty or malformed.

    Examples
    --------
    >>> [normalize_msisdn(x) for x in ("13812345678", "+8613812345678", "008613812345678", "8613812345678")]
    ['+8613812345678', '+8613812345678', '+8613812345678', '+8613812345678']
    >>> normalize_msisdn("+86 138-1234-5678"), normalize_msisdn("(010) 1234 5678"), normalize_msisdn("\t13812345678")
    ('+8613812345678', '+861012345678', '+8613812345678')
    >>> normalize_msisdn("10086"), normalize_msisdn("100-86"), normalize_msisdn("138/1234-5678"), normalize_msisdn("")
    ('10086', '10086', None, None)
    """
    cc = _check_cc(country_code)
    if s is None:
        return None
    t = str(s).strip(WHITESPACE)
    if not t:
        return None
    body = t[1:] if t[0] == "+" else t
    if not set(body) <= _DIGITS:  # slow path: visual separators
        body = body.translate(_DROP_SEPARATORS)
        if not set(body) <= _DIGITS:
            return None
        t = t[0] + body if t[0] == "+" else body
    if not body:
        return None
    if t[0] == "+":
        digits = body
    elif t.startswith("00"):
        digits = t[2:]
    elif SHORT_CODE_DIGITS[0] <= len(t) <= SHORT_CODE_DIGITS[1]:
        return t
    elif t[0] == "0":
        digits = cc + t[1:]
    elif t.startswith(cc) and len(t) >= len(cc) + 9:
        digits = t
    else:
        digits = cc + t
    if not digits or digits[0] == "0" or not MIN_E164_DIGITS <= len(digits) <= MAX_E164_DIGITS:
        return None
    return "+" + digits


def is_short_code(normalized: str | None) -> bool:
    """True when a *normalised* number is a short code (service number), i.e. has no ``+``."""
    return bool(normalized) and not normalized.startswith("+")


def to_code(normalized: str) -> int:
    """BIGINT code of a normalised number (see module docstring)."""
    if normalized.startswith("+"):
        return int(normalized[1:])
    return -(10 ** len(normalized) + int(normalized))


def from_code(code: int) -> str:
    """Normalised text of a BIGINT code; inverse of :func:`to_code`."""
    code = int(code)
    return f"+{code}" if code > 0 else str(-code)[1:]


def trim_sql(col: str) -> str:
    """DuckDB expression trimming ASCII whitespace as :func:`normalize_msisdn` does (separators stay: the number rule drops them).

    Text whose first and last characters are above the ASCII space is returned as it is (the fast path).
    """
    return (f"(CASE WHEN ascii({col}) > 32 AND ascii(right({col}, 1)) > 32 THEN {col} "
            f"ELSE trim({col}, {_WHITESPACE_SQL}) END)")


def code_text_sql(col: str) -> str:
    """DuckDB expression turning a BIGINT code back into the normalised text."""
    return f"(CASE WHEN {col} > 0 THEN '+' || CAST({col} AS VARCHAR) ELSE substr(CAST(-{col} AS VARCHAR), 2) END)"

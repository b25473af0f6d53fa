"""Phone numbers: normalisation to E.164 and short-code (service number) detection.

Rules (one function in Python, :func:`normalize_msisdn`; the same rules as a DuckDB
SQL expression, :func:`code_sql`, for the subscriber extract, and compiled,
:func:`bellwether.loaders.kernels.row_problems`, for CDR rows; property tests check that the
three agree, so bulk loads and single look-ups give the same ids):

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
_POW10 = "[" + ", ".join(str(10**i) for i in range(19)) + "]"
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


def code_sql(col: str, country_code: str = "86", value: str | None = None) -> str:
    """DuckDB expression computing the BIGINT code of text column ``col`` (NULL when malformed).

    Implements exactly the rules of :func:`normalize_msisdn` (a property test checks
    this); ``col`` should be a plain column reference holding trimmed text
    (:func:`trim_sql`); ``value`` may name a column holding ``TRY_CAST(col AS BIGINT)``.
    Text that is no plain number is tried again without its visual separators
    (:func:`_separated_sql`); a plain number never holds one, so the two agree.
    """
    plain = _code_sql(col, country_code, value or f"TRY_CAST({col} AS BIGINT)")
    t = _separated_sql(col)
    separated = _code_sql(t, country_code, f"TRY_CAST({t} AS BIGINT)")
    return f"coalesce({plain}, CASE WHEN regexp_matches({col}, '[{SEPARATORS}]') THEN {separated} END)"


def _separated_sql(col: str) -> str:
    """DuckDB expression: ``col`` without its visual separators when the rest is digits after an optional ``+``.

    Any other text is left as it is, so it stays malformed (and a value of separators
    only does not become empty).
    """
    return (f"(CASE WHEN regexp_full_match({col}, '\\+?[0-9{SEPARATORS}]*[0-9][0-9{SEPARATORS}]*') "
            f"THEN regexp_replace({col}, '[{SEPARATORS}]', '', 'g') ELSE {col} END)")


def _code_sql(col: str, country_code: str, v: str) -> str:
    """The code of ``col`` holding trimmed text without separators, ``v`` its ``TRY_CAST(col AS BIGINT)``.

    For speed the text is cast to an integer once and checked arithmetically: a
    string of digits with the expected prefix has exactly as many significant
    digits as its length minus the prefix, which rejects every other form the
    lenient cast accepts (``1_000``, ``1e3``, ``12.5``, ``0x1F``, signs, spaces).
    """
    cc = _check_cc(country_code)
    n = len(cc)
    ln = f"length({col})"

    def pow10(k: str) -> str:  # 10**k from a constant list (much faster than pow())
        return f"{_POW10}[({k}) + 1]"

    def digits(k: str) -> str:  # v has exactly k significant digits
        return f"{v} >= {pow10(f'{k} - 1')} AND {v} < {pow10(k)}"

    lo, hi = MIN_E164_DIGITS, MAX_E164_DIGITS
    return f"""(CASE
  WHEN {v} IS NULL THEN NULL
  WHEN prefix({col}, '+') THEN CASE WHEN {ln} - 1 BETWEEN {lo} AND {hi} AND {digits(f"{ln} - 1")} THEN {v} END
  WHEN prefix({col}, '00') THEN CASE WHEN {ln} - 2 BETWEEN {lo} AND {hi} AND {digits(f"{ln} - 2")} THEN {v} END
  WHEN {ln} BETWEEN {SHORT_CODE_DIGITS[0]} AND {SHORT_CODE_DIGITS[1]}
       THEN CASE WHEN regexp_full_match({col}, '[0-9]+') THEN -({pow10(ln)} + {v}) END
  WHEN prefix({col}, '0') THEN CASE WHEN {ln} - 1 + {n} BETWEEN {lo} AND {hi} AND {digits(f"{ln} - 1")}
       THEN {cc} * {pow10(f"{ln} - 1")} + {v} END
  WHEN prefix({col}, '{cc}') AND {ln} >= {n + 9} THEN CASE WHEN {ln} <= {hi} AND {digits(ln)} THEN {v} END
  ELSE CASE WHEN {ln} + {n} BETWEEN {lo} AND {hi} AND {digits(ln)} THEN {cc} * {pow10(ln)} + {v} END
END)"""


def trim_sql(col: str) -> str:
    """DuckDB expression trimming ASCII whitespace as :func:`normalize_msisdn` does (separators stay: see :func:`code_sql`).

    Text whose first and last characters are above the ASCII space is returned as it is (the fast path).
    """
    return (f"(CASE WHEN ascii({col}) > 32 AND ascii(right({col}, 1)) > 32 THEN {col} "
            f"ELSE trim({col}, {_WHITESPACE_SQL}) END)")


def code_text_sql(col: str) -> str:
    """DuckDB expression turning a BIGINT code back into the normalised text."""
    return f"(CASE WHEN {col} > 0 THEN '+' || CAST({col} AS VARCHAR) ELSE substr(CAST(-{col} AS VARCHAR), 2) END)"

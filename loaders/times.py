"""Record times: how ``start_time`` text becomes a timestamp, and which timestamps are plausible.

Stored times are wall-clock times of the operator's time zone (``timezone``, default
UTC), to the second: night share and active days are read from them.  A file's times
are declared, never guessed (:class:`TimeRules`):

- ``iso`` (default): ``YYYY-MM-DD HH:MM:SS`` or ``YYYY-MM-DDTHH:MM:SS``, optionally
  with a fraction of a second (dropped); already wall-clock time.  Anything else
  (``2026/01/05``, ``24:00:00``, a trailing ``Z`` or offset, 30 February) is a bad time.
- a ``strftime`` pattern (any format containing ``%``), parsed by DuckDB's ``strptime``;
  the whole value must match.
- ``epoch``: seconds (or milliseconds, ``unit = "ms"``) since 1970-01-01 UTC,
  converted to wall-clock time in ``timezone``.
- ``offset``: seconds (or ms) since ``origin``, a wall-clock time in ``timezone``
  (research exports count from the start of a study).

A parsed time outside ``[valid_from, valid_until]`` is quarantined as
``time_out_of_range``: a year-9999 or year-0 row cannot take over the analysis date
or crash a later step.  ``valid_until`` defaults to one day after the load.

The ISO and number parsers are compiled loops over Arrow string buffers
(:mod:`bellwether.loaders.kernels`); days from civil dates follow H. Hinnant, "chrono-compatible
low-level date algorithms" (``days_from_civil``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone as dt_timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from numba import njit

from bellwether.graph.core.dates import DateError, parse_day
from bellwether.graph.core.errors import BellwetherError
from bellwether.loaders.kernels import _trimmed, string_buffers

ISO = "iso"
EPOCH = "epoch"
OFFSET = "offset"
UNITS = {"s": 1, "ms": 1000}
DEFAULT_VALID_FROM = "1990-01-01"


class TimeRuleError(BellwetherError):
    """A declared time format, unit, origin, zone or range is not usable."""


@dataclass(frozen=True)
class TimeRules:
    """How a file's ``start_time`` is read (see the module docstring).

    Attributes
    ----------
    format : str
        ``"iso"``, ``"epoch"``, ``"offset"`` or a strftime pattern.
    unit : str
        ``"s"`` or ``"ms"`` for ``epoch`` and ``offset``.
    origin : str or None
        Wall-clock start of ``offset`` times, ``YYYY-MM-DD[ HH:MM:SS]``.
    timezone : str
        IANA zone of the operator's wall clock (``Europe/Copenhagen``), default ``UTC``.
    valid_from, valid_until : str or None
        Plausible range of times (days, inclusive); ``valid_until`` None means the day after today.
    """

    format: str = ISO
    unit: str = "s"
    origin: str | None = None
    timezone: str = "UTC"
    valid_from: str | None = DEFAULT_VALID_FROM
    valid_until: str | None = None

    def __post_init__(self) -> None:
        if self.format not in (ISO, EPOCH, OFFSET) and "%" not in self.format:
            raise TimeRuleError(f"time format {self.format!r} is not iso, epoch, offset or a strftime pattern such as "
                                "'%d/%m/%Y %H:%M:%S'; set --time-format.")
        if self.unit not in UNITS:
            raise TimeRuleError(f"time unit {self.unit!r} is not one of {', '.join(UNITS)}; set --time-unit.")
        if self.format == OFFSET and not self.origin:
            raise TimeRuleError("time format 'offset' needs an origin (--time-origin YYYY-MM-DD[ HH:MM:SS]): "
                                "the wall-clock time the offsets count from.")
        self.zone()
        self.bounds()
        if self.origin:
            self.origin_seconds()

    @property
    def strftime(self) -> bool:
        return "%" in self.format

    def zone(self) -> ZoneInfo | None:
        """The zone, or None for UTC."""
        if self.timezone in ("UTC", "utc", "Z", ""):
            return None
        try:
            return ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise TimeRuleError(f"unknown time zone {self.timezone!r}; use an IANA name such as Europe/Copenhagen "
                                "(--timezone).") from None

    def bounds(self) -> tuple[int, int]:
        """Plausible range as wall-clock seconds since 1970-01-01: [first second of valid_from, last of valid_until]."""
        lo = _day(self.valid_from or "0001-01-01", "valid_from")
        hi = _day(self.valid_until, "valid_until") if self.valid_until else date.today() + timedelta(days=1)
        if hi < lo:
            raise TimeRuleError(f"valid_until {hi} is before valid_from {lo}.")
        epoch = date(1970, 1, 1)
        return (lo - epoch).days * 86400, ((hi - epoch).days + 1) * 86400 - 1

    def origin_seconds(self) -> int:
        """``origin`` as an instant (seconds since the epoch, UTC)."""
        try:
            t = datetime.fromisoformat(str(self.origin))
        except ValueError:
            raise TimeRuleError(f"time origin {self.origin!r} is not YYYY-MM-DD[ HH:MM:SS].") from None
        if t.tzinfo is None:
            t = t.replace(tzinfo=self.zone() or dt_timezone.utc)
        return int(t.timestamp())

    def describe(self) -> str:
        """What a valid value looks like, for quarantine messages."""
        if self.format == ISO:
            return "'YYYY-MM-DD HH:MM:SS' (or with 'T')"
        if self.format == EPOCH:
            return f"{'milli' if self.unit == 'ms' else ''}seconds since 1970-01-01 UTC"
        if self.format == OFFSET:
            return f"{'milli' if self.unit == 'ms' else ''}seconds since {self.origin}"
        return repr(self.format)


def _day(value: str, what: str) -> date:
    """``value`` read by the one date rule (:func:`bellwether.graph.core.dates.parse_day`), as a time-rule error."""
    try:
        return parse_day(value, what)
    except DateError as exc:
        raise TimeRuleError(str(exc)) from None


# --- compiled parsers --------------------------------------------------------------------------

@njit(cache=True, inline="always")
def _days_from_civil(y, m, d):
    y -= m <= 2
    era = (y if y >= 0 else y - 399) // 400
    yoe = y - era * 400
    doy = (153 * (m + (-3 if m > 2 else 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


@njit(cache=True, inline="always")
def _num(data, s, n):
    v = 0
    for j in range(s, s + n):
        c = data[j]
        if c < 48 or c > 57:
            return -1
        v = v * 10 + (c - 48)
    return v


@njit(cache=True, nogil=True)
def _parse_iso(offs, data, bits, bit0, out, status):
    """Wall-clock seconds of ``YYYY-MM-DD[ T]HH:MM:SS[.f]``; status 0 ok, 1 empty, 2 malformed."""
    for i in range(out.shape[0]):
        out[i] = 0
        s, e = _trimmed(offs, data, bits, bit0, i)
        if s == e:
            status[i] = 1
            continue
        status[i] = 2
        if e - s < 19 or data[s + 4] != 45 or data[s + 7] != 45 or data[s + 13] != 58 or data[s + 16] != 58:
            continue
        if data[s + 10] != 32 and data[s + 10] != 84:
            continue
        if e - s > 19:  # only a fraction of a second may follow
            if data[s + 19] != 46 or e - s == 20 or _num(data, s + 20, e - s - 20) < 0:
                continue
        y, mo, d = _num(data, s, 4), _num(data, s + 5, 2), _num(data, s + 8, 2)
        h, mi, se = _num(data, s + 11, 2), _num(data, s + 14, 2), _num(data, s + 17, 2)
        if y < 0 or mo < 1 or mo > 12 or d < 1 or h < 0 or h > 23 or mi < 0 or mi > 59 or se < 0 or se > 59:
            continue
        dim = 31
        if mo == 4 or mo == 6 or mo == 9 or mo == 11:
            dim = 30
        elif mo == 2:
            dim = 29 if (y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)) else 28
        if d > dim:
            continue
        out[i] = _days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se
        status[i] = 0


@njit(cache=True, nogil=True)
def _parse_number(offs, data, bits, bit0, scale, out, status):
    """Whole units (floor of an optional decimal fraction) divided by ``scale``; status as :func:`_parse_iso`."""
    for i in range(out.shape[0]):
        out[i] = 0
        s, e = _trimmed(offs, data, bits, bit0, i)
        if s == e:
            status[i] = 1
            continue
        neg = data[s] == 45
        j = s + 1 if neg else s
        v = 0
        nd = 0
        frac = False
        ok = j < e
        while j < e:
            c = data[j]
            if c == 46 and not frac and nd > 0:
                frac = True
            elif 48 <= c <= 57:
                if not frac:
                    v = v * 10 + (c - 48)
                    nd += 1
                    if nd > 15:
                        ok = False
                        break
            else:
                ok = False
                break
            j += 1
        if not ok or nd == 0 or (frac and data[e - 1] == 46):
            status[i] = 2
            continue
        if neg:
            v = -v - (1 if frac else 0)
        out[i] = v // scale
        status[i] = 0


def parse_times(text: pa.Array, rules: TimeRules) -> tuple[np.ndarray, np.ndarray]:
    """Wall-clock seconds since 1970-01-01 and a status per value (0 ok, 1 empty, 2 malformed).

    For ``iso``, ``epoch`` and ``offset``; a strftime format is parsed in SQL
    (:func:`bellwether.loaders.validate.typed_sql`).
    """
    n = len(text)
    out, status = np.empty(n, np.int64), np.empty(n, np.uint8)
    bufs = string_buffers(text)
    if rules.format == ISO:
        _parse_iso(*bufs, out, status)
        return out, status
    _parse_number(*bufs, UNITS[rules.unit], out, status)
    if rules.format == OFFSET:
        out += rules.origin_seconds()
    return to_wall_clock(out, rules), status


def to_wall_clock(instants: np.ndarray, rules: TimeRules) -> np.ndarray:
    """Seconds since the epoch (instants, UTC) as wall-clock seconds in ``rules.timezone``."""
    if rules.zone() is None:
        return instants
    clipped = np.clip(instants, -(10**11), 10**11)  # far outside any plausible range: stays outside after the shift
    ts = pa.array(clipped, pa.timestamp("s", tz=rules.timezone))
    local = pc.local_timestamp(ts).cast(pa.int64()).to_numpy(zero_copy_only=False)
    return np.where(clipped == instants, local, instants)


def in_range(seconds: np.ndarray, rules: TimeRules) -> np.ndarray:
    """True where wall-clock ``seconds`` lie in the plausible range."""
    lo, hi = rules.bounds()
    return (seconds >= lo) & (seconds <= hi)

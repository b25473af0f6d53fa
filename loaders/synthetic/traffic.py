"""Calls and SMS: turn ties and service numbers into timed records.

Every record is ``(caller, callee, ts, duration, sms)`` with node ids
(persons first, then service numbers), ``ts`` in seconds from the start of the
period (local time) and ``duration`` in seconds (0 for SMS).

Rhythm follows what CDR studies report (e.g. Candia et al. 2008,
doi:10.1088/1751-8113/41/22/224015; Onnela et al. 2007):

- hour of day: almost nothing between 2 and 6 am, a morning rise, a lunch
  bump and an evening peak (19-21 h) for personal calls; office hours for
  colleagues; 9-12 and 14-18 h on weekdays for telemarketing;
- day of week: personal calls rise at weekends, workplace calls fall;
- voice durations are log-normal (median about 60-110 s depending on the tie,
  short for telemarketing), SMS have duration 0;
- each person has an SMS share (a few are SMS-centric).

A tie's records come in sessions: a call (a quarter followed by a call back or
a second call) or an SMS exchange (geometric length, mean 3, mostly
alternating senders, minutes apart).  It has ``Poisson`` sessions with the mean
that gives ``rate * T / 30`` records, ``T`` being the days before either end
churns, so a churner's traffic stops at the churn date; a session often falls
on the day of the tie's previous one, so contacts are bursty (a month's tie is
active on a median of 2-3 days, as in real data).  Records can be drawn for
one month at a time (``first_day``, ``last_day``).

Service numbers: customers call short codes and ``400`` call centres (huge
in-degree), which almost never call back; the operator's own short code sends
a few notification SMS; telemarketing lines call many customers and are rarely
called back.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .population import Population
from .ties import Ties

__all__ = ["Calendar", "Records", "person_records", "service_records", "PROFILES"]

PROFILES = ("personal", "workplace", "service", "telemarketing")
CONTEXT_PROFILE = np.array([0, 0, 1, 0, 0])  # by ties.CONTEXTS

_HOURS = np.array(
    [
        # personal, weekday / weekend
        [1.2, 0.6, 0.25, 0.12, 0.1, 0.2, 0.8, 2.2, 3.5, 4.0, 4.2, 4.5, 5.0, 4.5, 4.2, 4.3, 4.6, 5.2, 6.2, 7.2, 7.5, 6.8, 4.8, 2.6],
        [1.8, 1.0, 0.4, 0.15, 0.1, 0.15, 0.4, 1.0, 2.2, 3.5, 4.5, 5.0, 5.2, 4.8, 4.6, 4.6, 4.8, 5.2, 6.0, 6.8, 7.0, 6.5, 4.8, 3.0],
        # workplace
        [0.1, 0.05, 0.02, 0.02, 0.02, 0.05, 0.2, 1.0, 4.0, 7.5, 8.0, 7.0, 4.0, 4.5, 7.0, 7.5, 7.0, 6.0, 3.5, 2.0, 1.5, 1.0, 0.5, 0.2],
        [0.3, 0.1, 0.05, 0.02, 0.02, 0.05, 0.2, 0.6, 1.5, 3.0, 4.0, 4.0, 3.5, 3.5, 4.0, 4.0, 3.5, 3.0, 2.5, 2.5, 2.0, 1.5, 1.0, 0.5],
        # service
        [0.2, 0.1, 0.05, 0.05, 0.05, 0.1, 0.3, 1.0, 3.0, 6.0, 7.0, 7.0, 5.0, 5.0, 6.5, 6.5, 6.0, 5.0, 4.0, 3.5, 3.0, 2.0, 1.0, 0.5],
        [0.3, 0.1, 0.05, 0.05, 0.05, 0.1, 0.2, 0.5, 1.5, 4.0, 5.5, 6.0, 5.0, 5.0, 5.5, 5.5, 5.0, 4.5, 4.0, 3.5, 3.0, 2.0, 1.0, 0.5],
        # telemarketing
        [0, 0, 0, 0, 0, 0, 0, 0, 0, 6, 8, 8, 2, 3, 7, 8, 7, 5, 1, 0, 0, 0, 0, 0],
        [0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 4, 4, 1, 1, 3, 3, 2, 1, 0, 0, 0, 0, 0, 0],
    ],
    dtype=float,
)
_HOUR_CDF = np.cumsum(_HOURS, axis=1) / _HOURS.sum(axis=1, keepdims=True)
_HOUR_CDF[:, -1] = 1.0
_HOUR_FLAT = (_HOUR_CDF + np.arange(_HOURS.shape[0])[:, None]).ravel()

_DOW = np.array(  # Monday .. Sunday, by profile
    [
        [1.0, 1.0, 1.0, 1.0, 1.05, 1.15, 1.1],
        [1.0, 1.0, 1.0, 1.0, 1.0, 0.35, 0.25],
        [1.0, 1.0, 1.0, 1.0, 1.0, 0.6, 0.45],
        [1.0, 1.0, 1.0, 1.0, 1.0, 0.15, 0.05],
    ]
)

# voice durations: log-normal (median seconds, sigma) by tie context, then service, telemarketing
_DURATION = {
    "family": (110.0, 1.0),
    "friends": (80.0, 1.0),
    "workplace": (55.0, 0.95),
    "outside": (65.0, 1.0),
    "peripheral": (45.0, 0.9),
    "service": (140.0, 0.8),
    "telemarketing": (14.0, 0.9),
}
_CTX_DURATION = np.array([_DURATION[k] for k in ("family", "friends", "workplace", "outside", "peripheral")])

SMS_SESSION = 3.0  # mean messages in an SMS exchange (geometric)
VOICE_SESSION = 1.25  # mean calls in a voice session (a call, a quarter of them followed by a second one)
REPLY_SWITCH = 0.8  # chance that the next record of a session comes from the other side
SMS_GAP_S = 240.0  # mean seconds between messages of an exchange
CALL_GAP_S = 1200.0  # mean seconds to a call back or second call
TIE_CHUNK = 250_000  # ties per block of record generation
SAME_DAY = 0.65  # chance that a session falls on the day of the tie's previous one

SERVICE_RATE = 0.45  # calls to service numbers per customer per 30 days
CALLBACK_SHARE = 0.03  # share of call-centre calls answered by a call back
NOTICE_SMS = 0.04  # per customer per 30 days, SMS from the operator's short code
TELEMARKETING_RATE = 0.15  # telemarketing calls received per customer per 30 days
TELEMARKETING_REPLY = 0.01  # share called back by the customer


@dataclass(frozen=True)
class Calendar:
    """The simulated period: ``days`` days from ``first_weekday`` (0 = Monday)."""

    days: int
    first_weekday: int

    @property
    def dow(self) -> np.ndarray:
        return (self.first_weekday + np.arange(self.days)) % 7

    def sample_times(
        self, rng: np.random.Generator, profile: np.ndarray, until: np.ndarray, since: np.ndarray | int = 0
    ) -> np.ndarray:
        """Seconds from the start: a day in ``[since, until)`` weighted by the profile's weekly rhythm, then an hour."""
        n = profile.size
        day = np.zeros(n, dtype=np.int64)
        dow = self.dow
        since = np.broadcast_to(np.asarray(since, dtype=np.int64), (n,))
        u = rng.random(n)
        for p in np.unique(profile):
            sel = np.flatnonzero(profile == p)
            cum = np.concatenate([[0.0], np.cumsum(_DOW[p][dow])])
            lo, hi = cum[since[sel]], cum[until[sel]]
            target = lo + u[sel] * (hi - lo)
            day[sel] = np.clip(np.searchsorted(cum, target, side="right") - 1, since[sel], until[sel] - 1)
        weekend = dow[day] >= 5
        g = profile.astype(np.int64) * 2 + weekend
        hour = np.searchsorted(_HOUR_FLAT, g + rng.random(n) * (1 - 1e-12), side="right") - g * 24
        hour = np.clip(hour, 0, 23)
        return day * 86400 + hour * 3600 + rng.integers(0, 3600, size=n)


@dataclass
class Records:
    caller: np.ndarray  # int32 node id
    callee: np.ndarray  # int32 node id
    ts: np.ndarray  # int32 seconds from the start (36 months fit)
    duration: np.ndarray  # int32 seconds
    sms: np.ndarray  # bool

    def __post_init__(self) -> None:  # compact: a month of a big operator is tens of millions of records
        self.caller = np.asarray(self.caller).astype(np.int32, copy=False)
        self.callee = np.asarray(self.callee).astype(np.int32, copy=False)
        self.ts = np.asarray(self.ts).astype(np.int32, copy=False)
        self.duration = np.asarray(self.duration).astype(np.int32, copy=False)
        self.sms = np.asarray(self.sms).astype(bool, copy=False)

    @property
    def size(self) -> int:
        return int(self.caller.size)

    @staticmethod
    def empty() -> "Records":
        z = np.empty(0, dtype=np.int64)
        return Records(z, z.copy(), z.copy(), np.empty(0, dtype=np.int32), np.empty(0, dtype=bool))

    @staticmethod
    def concat(parts: list["Records"]) -> "Records":
        return Records(*(np.concatenate([getattr(p, f) for p in parts]) for f in ("caller", "callee", "ts", "duration", "sms")))

    def take(self, idx: np.ndarray) -> "Records":
        return Records(self.caller[idx], self.callee[idx], self.ts[idx], self.duration[idx], self.sms[idx])


def _durations(rng: np.random.Generator, median: np.ndarray, sigma: np.ndarray) -> np.ndarray:
    d = np.exp(np.log(median) + sigma * rng.standard_normal(median.size))
    return np.clip(np.rint(d), 1, 10800).astype(np.int32)


def _sms_session_share(sms_share: np.ndarray) -> np.ndarray:
    """Share of a person's sessions that are SMS exchanges, so that about ``sms_share`` of their records are SMS."""
    return sms_share * VOICE_SESSION / (sms_share * VOICE_SESSION + (1.0 - sms_share) * SMS_SESSION)


def person_records(
    rng: np.random.Generator,
    pop: Population,
    ties: Ties,
    end_day: np.ndarray,
    cal: Calendar,
    first_day: int = 0,
    last_day: int | None = None,
) -> Records:
    """Records along person ties on days ``[first_day, last_day)``; ``end_day[person]`` is the first day the person no longer appears.

    A tie's records come in *sessions*: a call (sometimes followed by a call back or a
    second call the same hour) or an SMS exchange (messages mostly alternating between the
    two, minutes apart).  A session is started by ``a`` with probability ``p_ab``; its kind
    follows the starter's SMS habit; the number of sessions is Poisson with the mean that
    gives the tie's ``rate`` records per 30 days.
    """
    last = cal.days if last_day is None else int(last_day)
    q = _sms_session_share(pop.sms_share)
    parts = []
    for lo in range(0, ties.size, TIE_CHUNK):  # bounded temporaries at any size
        sl = slice(lo, min(lo + TIE_CHUNK, ties.size))
        a, b = ties.a[sl], ties.b[sl]
        until = np.minimum(np.minimum(end_day[a], end_day[b]), last)
        parts.append(_session_records(rng, a, b, ties.rate[sl], ties.p_ab[sl], ties.context[sl], q, until, cal, first_day))
    return Records.concat(parts) if parts else Records.empty()


def _session_records(
    rng: np.random.Generator,
    ta: np.ndarray,
    tb: np.ndarray,
    rate: np.ndarray,
    p_ab: np.ndarray,
    context: np.ndarray,
    q: np.ndarray,
    until: np.ndarray,
    cal: Calendar,
    first_day: int,
) -> Records:
    """Sessions and their records for a block of ties (see :func:`person_records`)."""
    span = np.maximum(until - first_day, 0)
    q_a, q_b = q[ta], q[tb]
    mean_len = p_ab * (q_a * SMS_SESSION + (1 - q_a) * VOICE_SESSION) + (1 - p_ab) * (q_b * SMS_SESSION + (1 - q_b) * VOICE_SESSION)
    n = rng.poisson(rate / mean_len * span / 30.0)
    e = np.repeat(np.arange(ta.size), n)
    from_a = rng.random(e.size) < p_ab[e]
    starter = np.where(from_a, ta[e], tb[e])
    sms_session = rng.random(e.size) < q[starter]
    ctx = context[e]
    t0 = cal.sample_times(rng, CONTEXT_PROFILE[ctx], until[e], first_day)
    # bursts: a session often falls on the day of the tie's previous session (contacts cluster in time)
    k = np.arange(e.size)
    fresh = (k == 0) | (rng.random(e.size) >= SAME_DAY)
    fresh[1:] |= e[1:] != e[:-1]
    anchor = np.maximum.accumulate(np.where(fresh, k, 0))
    t0 = (t0[anchor] // 86400) * 86400 + t0 % 86400
    # session lengths: SMS exchanges geometric (mean SMS_SESSION), calls 1 or 2
    length = np.where(sms_session, rng.geometric(1.0 / SMS_SESSION, size=e.size), 1 + (rng.random(e.size) < VOICE_SESSION - 1.0))
    s = np.repeat(np.arange(e.size), length)
    first = np.concatenate([[0], np.cumsum(length)[:-1]])
    j = np.arange(s.size) - first[s]
    # direction: the starter first, then each record switches sender with probability REPLY_SWITCH
    switch = (j > 0) & (rng.random(s.size) < REPLY_SWITCH)
    csw = np.cumsum(switch)
    parity = (csw - csw[first[s]]) % 2 == 1
    a_sends = from_a[s] ^ parity
    caller = np.where(a_sends, ta[e[s]], tb[e[s]])
    callee = np.where(a_sends, tb[e[s]], ta[e[s]])
    sms = sms_session[s]
    gap = np.where(j > 0, rng.exponential(np.where(sms, SMS_GAP_S, CALL_GAP_S)), 0.0)
    cg = np.cumsum(gap)
    ts = t0[s] + np.rint(cg - cg[first[s]]).astype(np.int64)
    ok = ts < until[e[s]] * 86400
    s, caller, callee, ts, sms = s[ok], caller[ok], callee[ok], ts[ok], sms[ok]
    c = ctx[s]
    dur = _durations(rng, _CTX_DURATION[c, 0], _CTX_DURATION[c, 1])
    dur[sms] = 0
    return Records(caller.astype(np.int64), callee.astype(np.int64), ts, dur, sms)


def service_records(
    rng: np.random.Generator,
    pop: Population,
    end_day: np.ndarray,
    cal: Calendar,
    short_code_ids: np.ndarray,
    short_code_weights: np.ndarray,
    call_centre_ids: np.ndarray,
    telemarketing_ids: np.ndarray,
    first_day: int = 0,
    last_day: int | None = None,
) -> Records:
    """Records between customers and service numbers (short codes, call centres, telemarketing lines) on days ``[first_day, last_day)``.

    ``short_code_ids[0]`` is the operator's own customer-service code.
    """
    last = cal.days if last_day is None else int(last_day)
    on = np.flatnonzero(pop.on_net)
    until = np.minimum(end_day[on], last)
    span = np.maximum(until - first_day, 0)
    parts = []

    # customers calling services
    k = rng.poisson(SERVICE_RATE * pop.activity[on] ** 0.5 * span / 30.0)
    who = np.repeat(on, k)
    who_until = np.repeat(until, k)
    short = rng.random(who.size) < 0.55
    sc = rng.choice(short_code_ids.size, size=who.size, p=short_code_weights / short_code_weights.sum())
    cc_w = 1.0 / np.arange(1, call_centre_ids.size + 1) ** 1.1
    cc = rng.choice(call_centre_ids.size, size=who.size, p=cc_w / cc_w.sum())
    callee = np.where(short, short_code_ids[sc], call_centre_ids[cc])
    ts = cal.sample_times(rng, np.full(who.size, 2), who_until, first_day)
    sms = short & (sc == 0) & (rng.random(who.size) < 0.35)
    dur = _durations(rng, np.full(who.size, _DURATION["service"][0]), np.full(who.size, _DURATION["service"][1]))
    dur[sms] = 0
    parts.append(Records(who.astype(np.int64), callee.astype(np.int64), ts, dur, sms))

    # call centres calling back a few callers within three days
    back = np.flatnonzero(~short & (rng.random(who.size) < CALLBACK_SHARE))
    back_ts = ts[back] + rng.integers(3600, 3 * 86400, size=back.size)
    ok = back_ts < who_until[back] * 86400
    back, back_ts = back[ok], back_ts[ok]
    parts.append(
        Records(
            callee[back].astype(np.int64),
            who[back].astype(np.int64),
            back_ts,
            _durations(rng, np.full(back.size, 90.0), np.full(back.size, 0.8)),
            np.zeros(back.size, dtype=bool),
        )
    )

    # notification SMS from the operator's own short code
    k = rng.poisson(NOTICE_SMS * span / 30.0)
    to = np.repeat(on, k)
    parts.append(
        Records(
            np.full(to.size, short_code_ids[0], dtype=np.int64),
            to.astype(np.int64),
            cal.sample_times(rng, np.full(to.size, 2), np.repeat(until, k), first_day),
            np.zeros(to.size, dtype=np.int32),
            np.ones(to.size, dtype=bool),
        )
    )

    # telemarketing: few lines, many customers, short calls, almost never called back
    total = rng.poisson(TELEMARKETING_RATE * on.size * max(last - first_day, 0) / 30.0)
    tm_w = rng.pareto(1.5, size=telemarketing_ids.size) + 1.0
    line = telemarketing_ids[rng.choice(telemarketing_ids.size, size=total, p=tm_w / tm_w.sum())]
    target = on[rng.integers(0, on.size, size=total)]
    tts = cal.sample_times(rng, np.full(total, 3), np.full(total, last), first_day)
    alive = tts < end_day[target] * 86400
    line, target, tts = line[alive], target[alive], tts[alive]
    tdur = _durations(rng, np.full(line.size, _DURATION["telemarketing"][0]), np.full(line.size, _DURATION["telemarketing"][1]))
    parts.append(Records(line.astype(np.int64), target.astype(np.int64), tts, tdur, np.zeros(line.size, dtype=bool)))
    reply = np.flatnonzero(rng.random(line.size) < TELEMARKETING_REPLY)
    rts = tts[reply] + rng.integers(600, 86400, size=reply.size)
    ok = rts < np.minimum(end_day[target[reply]], last) * 86400
    reply, rts = reply[ok], rts[ok]
    parts.append(
        Records(
            target[reply].astype(np.int64),
            line[reply].astype(np.int64),
            rts,
            _durations(rng, np.full(reply.size, 20.0), np.full(reply.size, 0.8)),
            np.zeros(reply.size, dtype=bool),
        )
    )
    return Records.concat(parts)

"""``generate_operator``: a whole synthetic operator, from people to files, deterministic for a seed.

Steps (each a pure function of its inputs and a random stream spawned from
the seed, so changing one step's draws never shifts another's):

1. :func:`population.build_population` - communities, roles, attributes;
2. :func:`ties.build_ties` - who contacts whom, how much, in which direction;
3. :func:`churn.simulate_churn` - day-by-day churn with planted contagion;
4. :func:`traffic.person_records` / :func:`traffic.service_records` - timed records,
   one month at a time (memory holds one month's records);
5. :mod:`writer` - duplicates, bad rows, number formats, files.

Files written to ``outdir`` (the contract the loaders and evaluations rely on)::

    cdr/cdr_YYYY-MM.csv   caller,callee,start_time,duration,type
    subscribers.csv       msisdn,plan,arpu,tenure_months,region,status,churn_date
    do_not_contact.csv    msisdn
    truth.csv             msisdn,on_net,kind,community,role,churn_date
    operator.json         seed, parameters, dates, counts, planted effects, measured figures
"""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from bellwether.graph.core.errors import BellwetherError

from . import numbers as nb
from .churn import ChurnModel, baseline_hazard, contagion_matrix, measure_contagion, simulate_churn
from .population import COMMUNITY_TYPES, PLANS, REGIONS, ROLES, build_population
from .ties import BASE_RATE, CONTEXTS, OUTSIDE_STARTS, RATE_SIGMA, build_ties
from .traffic import Calendar, Records, person_records, service_records
from .writer import BAD_ROW_KINDS, date_strings, write_month, write_table_csv
from bellwether.graph.core.settings import DEFAULT_SEED

__all__ = ["generate_operator", "check_parameters", "GeneratorError"]

DO_NOT_CONTACT_SHARE = 0.02
STRONG_TIE_RECORDS = 3  # records a month that make a measured tie strong in operator.json's contagion figure
Progress = Callable[[str, float], None]


class GeneratorError(BellwetherError, ValueError):
    """Parameters of the synthetic operator are out of range."""


def _add_months(d: date, months: int) -> date:
    y, m = divmod(d.month - 1 + months, 12)
    return date(d.year + y, m + 1, 1)


def check_parameters(subscribers: int, months: int, start: str | date, bad_row_rate: float, duplicate_rate: float) -> date:
    """Validate generator parameters; returns the start date.  Raises :class:`GeneratorError` naming the option."""
    if not isinstance(subscribers, (int, np.integer)) or subscribers < 100:
        raise GeneratorError(f"--subscribers must be an integer >= 100, got {subscribers!r}")
    if not isinstance(months, (int, np.integer)) or not 1 <= months <= 36:
        raise GeneratorError(f"--months must be between 1 and 36, got {months!r}")
    for name, rate in (("--bad-row-rate", bad_row_rate), ("--duplicate-rate", duplicate_rate)):
        if not 0.0 <= rate <= 0.2:
            raise GeneratorError(f"{name} must be between 0 and 0.2, got {rate!r}")
    if isinstance(start, date):
        d = start
    else:
        try:
            d = date.fromisoformat(str(start))
        except ValueError:
            raise GeneratorError(f"--start must be a date YYYY-MM-DD, got {start!r}") from None
    if d.day != 1:
        raise GeneratorError(f"--start must be the first day of a month (files are monthly), got {d.isoformat()}")
    return d


def _dedupe_accidental(rec: Records, lowest_ts: int = 0) -> None:
    """Shift by a second any record identical (same parties, second, duration, type) to an earlier one.

    Keeps the planted duplicate count exact even for a loader that compares
    records after normalising numbers.  A record is never moved before ``lowest_ts``
    (the start of its month).
    """
    for _ in range(10):
        h = rec.caller.astype(np.uint64)
        h *= np.uint64(0x9E3779B97F4A7C15)
        for col, mult in ((rec.callee, 0xC2B2AE3D27D4EB4F), (rec.ts, 0x165667B19E3779F9), (rec.duration, 0x27D4EB2F165667C5)):
            t = col.astype(np.uint64)
            t *= np.uint64(mult)
            h ^= t
            del t
        h ^= rec.sms.astype(np.uint64)
        order = np.argsort(h, kind="stable")
        hs = h[order]
        del h
        later = np.zeros(rec.size, dtype=bool)
        later[1:] = hs[1:] == hs[:-1]  # every copy after the first of a hash
        del hs
        if not later.any():
            return
        idx = np.sort(order[later])
        rec.ts[idx] = np.where(rec.ts[idx] > lowest_ts, rec.ts[idx] - 1, rec.ts[idx] + 1)


class _Tally:
    """What the summary needs from the records, accumulated month by month."""

    def __init__(self, n_nodes: int, n_persons: int, pop, node_on_net: np.ndarray) -> None:
        self.n_persons, self.pop, self.node_on_net = n_persons, pop, node_on_net
        self.seen = np.zeros(n_nodes, dtype=bool)
        self.records = self.sms = self.night = self.evening = 0
        self.voice_seconds = np.zeros(10801, dtype=np.int64)  # histogram of voice durations (1..10800 s)
        self.mixed = self.in_comm = self.to_leader = self.from_leader = 0
        self.pair_keys: list[np.ndarray] = []  # person pairs seen, per month
        self.on_pairs: list[tuple[np.ndarray, np.ndarray]] = []  # on-net pairs and their record counts, per month
        self.duplicates = 0
        self.bad_kinds: list[np.ndarray] = []

    def add(self, rec: Records) -> None:
        n, pop = self.n_persons, self.pop
        self.seen[rec.caller] = True
        self.seen[rec.callee] = True
        self.records += rec.size
        self.sms += int(rec.sms.sum())
        hour = (rec.ts % 86400) // 3600
        self.night += int(((hour >= 2) & (hour < 6)).sum())
        self.evening += int(((hour >= 19) & (hour < 22)).sum())
        self.voice_seconds += np.bincount(rec.duration[~rec.sms], minlength=10801)[:10801]
        pp = (rec.caller < n) & (rec.callee < n)
        ca, ce = rec.caller[pp].astype(np.int64), rec.callee[pp].astype(np.int64)
        comm_a, comm_b = pop.community[ca], pop.community[ce]
        inside = (comm_a >= 0) & (comm_b >= 0)
        self.in_comm += int(inside.sum())
        self.mixed += int((comm_a[inside] != comm_b[inside]).sum())
        self.to_leader += int((pop.leader[ca] == ce).sum())
        self.from_leader += int((pop.leader[ce] == ca).sum())
        key = np.minimum(ca, ce) * n + np.maximum(ca, ce)
        self.pair_keys.append(np.unique(key))
        on = self.node_on_net[ca] & self.node_on_net[ce]
        self.on_pairs.append(np.unique(key[on], return_counts=True))

    def add_rows(self, duplicates: int, bad_kinds: np.ndarray) -> None:
        self.duplicates += int(duplicates)
        self.bad_kinds.append(bad_kinds)

    def pairs(self) -> np.ndarray:
        return np.unique(np.concatenate(self.pair_keys)) if self.pair_keys else np.empty(0, np.int64)

    def on_net_pair_counts(self) -> tuple[np.ndarray, np.ndarray]:
        if not self.on_pairs:
            return np.empty(0, np.int64), np.empty(0, np.int64)
        keys = np.concatenate([k for k, _ in self.on_pairs])
        counts = np.concatenate([c for _, c in self.on_pairs])
        uniq, inv = np.unique(keys, return_inverse=True)
        return uniq, np.bincount(inv, weights=counts, minlength=uniq.size).astype(np.int64)

    def median_voice_seconds(self) -> float:
        total = int(self.voice_seconds.sum())
        if not total:
            return 0.0
        cum = np.cumsum(self.voice_seconds)
        lo = int(np.searchsorted(cum, (total - 1) // 2 + 1))
        hi = int(np.searchsorted(cum, total // 2 + 1))
        return (lo + hi) / 2.0


def generate_operator(
    outdir: str | Path,
    subscribers: int = 20000,
    months: int = 3,
    seed: int = DEFAULT_SEED,
    start: str | date = "2026-01-01",
    bad_row_rate: float = 0.0005,
    duplicate_rate: float = 0.002,
    churn: ChurnModel | None = None,
    progress: Progress | None = None,
) -> dict:
    """Generate a synthetic operator's CDRs, subscriber extract, do-not-contact list and ground truth.

    Parameters
    ----------
    outdir : path
        Directory to write into (created; earlier ``cdr/cdr_*.csv`` files there are removed).
    subscribers : int, default 20000
        On-net customers.  About 0.4 off-net persons per customer and a few
        hundred service numbers come on top; about 65 records per customer per
        month (the volume per person of real call + SMS data, ``bench/realism.py``).
    months : int, default 3
        Calendar months simulated from ``start``; one CDR file each.
    seed : int, default 42
        Same seed and parameters give byte-identical files.
    start : ``YYYY-MM-DD``, default 2026-01-01
        First day of the period; must be the first of a month.
    bad_row_rate, duplicate_rate : float
        Extra bad rows and exact duplicate rows, as shares of the good records.
    churn : ChurnModel, optional
        Planted churn effects; the default plants x1.8 contagion per strong tie.
    progress : callable(step, fraction), optional
        Called with a description and the overall fraction done.

    Returns
    -------
    dict
        The summary written to ``operator.json``.
    """
    start_d = check_parameters(subscribers, months, start, bad_row_rate, duplicate_rate)
    model = churn or ChurnModel()
    say = progress or (lambda step, frac: None)
    outdir = Path(outdir)
    (outdir / "cdr").mkdir(parents=True, exist_ok=True)
    for old in (outdir / "cdr").glob("cdr_*.csv"):
        old.unlink()

    end_excl = _add_months(start_d, months)
    days = (end_excl - start_d).days
    cal = Calendar(days=days, first_weekday=start_d.weekday())
    seqs = np.random.SeedSequence(seed).spawn(7)
    streams = [np.random.default_rng(s) for s in seqs]
    rng_pop, rng_ties, rng_churn, _, rng_num, _, rng_misc = streams  # traffic and writing: one stream per month

    # 1. people and communities
    say("planting communities", 0.02)
    pop = build_population(rng_pop, int(subscribers))
    # 2. ties
    say("drawing contacts", 0.08)
    ties = build_ties(rng_ties, pop)
    n_persons = pop.n_persons
    on_idx = np.flatnonzero(pop.on_net)

    # 3. churn, day by day
    h0 = baseline_hazard(pop, on_idx, model)
    S = contagion_matrix(ties, pop, on_idx, model.strong_rate)
    churn_on = simulate_churn(
        rng_churn, h0, S, days, model, on_day=lambda t: say(f"simulating churn, day {t + 1}/{days}", 0.12 + 0.13 * (t + 1) / days)
    )
    churn_day = np.full(n_persons, -1, dtype=np.int32)
    churn_day[on_idx] = churn_on
    end_day = np.where(churn_day >= 0, churn_day, days).astype(np.int64)

    # numbers: persons first, then short codes, call centres, telemarketing lines
    n_cc = max(20, int(subscribers) // 1500)
    n_tm = max(3, int(subscribers) // 4000)
    mob = nb.mobile_numbers(rng_num, own=int(on_idx.size), other=int(n_persons - on_idx.size), telemarketing=n_tm)
    person_number = np.empty(n_persons, dtype=np.int64)
    person_number[on_idx] = mob["own"]
    person_number[~pop.on_net] = mob["other"]
    sc_numbers = np.array([c for c, _, _ in nb.SHORT_CODES], dtype=np.int64)
    sc_weights = np.array([w for _, _, w in nb.SHORT_CODES])
    cc_numbers = nb.call_centre_numbers(rng_num, n_cc)
    number = np.concatenate([person_number, sc_numbers, cc_numbers, mob["telemarketing"]])
    sc_ids = n_persons + np.arange(sc_numbers.size)
    cc_ids = n_persons + sc_numbers.size + np.arange(n_cc)
    tm_ids = n_persons + sc_numbers.size + n_cc + np.arange(n_tm)
    n_nodes = number.size
    node_on_net = np.concatenate([pop.on_net, np.zeros(n_nodes - n_persons, dtype=bool)])

    # 4.-5. traffic and files, one month at a time (memory holds one month of records)
    month_starts = [_add_months(start_d, k) for k in range(months + 1)]
    bounds = np.array([(m - start_d).days * 86400 for m in month_starts], dtype=np.int64)
    period_start = datetime(start_d.year, start_d.month, start_d.day)
    traffic_rngs = [np.random.default_rng(s) for s in seqs[3].spawn(months)]
    write_rngs = [np.random.default_rng(s) for s in seqs[5].spawn(months)]
    acc = _Tally(n_nodes, n_persons, pop, node_on_net)
    files = []
    for k in range(months):
        d0, d1 = int(bounds[k] // 86400), int(bounds[k + 1] // 86400)
        frac = 0.27 + 0.66 * k / months
        label = f"{month_starts[k]:%Y-%m}"
        say(f"placing calls and SMS, {label}", frac)
        rng_t, rng_w = traffic_rngs[k], write_rngs[k]
        prec = person_records(rng_t, pop, ties, end_day, cal, d0, d1)
        srec = service_records(rng_t, pop, end_day, cal, sc_ids, sc_weights, cc_ids, tm_ids, d0, d1)
        rec = Records.concat([prec, srec])
        del prec, srec
        _dedupe_accidental(rec, int(bounds[k]))
        n_rec = rec.size
        acc.add(rec)

        # formats, duplicates (up to 6 h after their original), bad rows
        say(f"writing cdr_{label}.csv", frac + 0.33 / months)
        caller_fmt = nb.choose_formats(rng_w, number[rec.caller], node_on_net[rec.caller])
        callee_fmt = nb.choose_formats(rng_w, number[rec.callee], node_on_net[rec.callee])
        n_dup = int(round(duplicate_rate * n_rec))
        dup_src = np.sort(rng_w.choice(n_rec, size=n_dup, replace=False)) if n_dup else np.empty(0, np.int64)
        all_idx = np.concatenate([np.arange(n_rec), dup_src])
        # order within a file: by end of call (how mediation emits)
        delay = np.concatenate([np.zeros(n_rec, np.int64), rng_w.integers(1, 6 * 3600, size=n_dup)])
        order_key = rec.ts[all_idx].astype(np.int64) + rec.duration[all_idx] + delay
        del delay
        n_bad = int(round(bad_row_rate * n_rec)) if n_rec else 0
        bad_kind = rng_w.integers(0, len(BAD_ROW_KINDS), size=n_bad)
        path = outdir / "cdr" / f"cdr_{label}.csv"
        write_month(path, rng_w, rec, caller_fmt, callee_fmt, number, period_start, order_key, bad_kind, rows=all_idx)
        acc.add_rows(n_dup, bad_kind)
        files.append({"file": f"cdr/{path.name}", "records": int(n_rec), "duplicates": n_dup, "bad_rows": n_bad})
        del rec, all_idx, order_key, caller_fmt, callee_fmt

    # subscriber extract, do-not-contact, truth
    say("writing subscribers and truth", 0.92)
    msisdn_str = pc.cast(pa.array(number), pa.string())
    by_number = on_idx[np.argsort(person_number[on_idx], kind="stable")]
    churned = churn_day[by_number] >= 0
    write_table_csv(
        outdir / "subscribers.csv",
        ["msisdn", "plan", "arpu", "tenure_months", "region", "status", "churn_date"],
        [
            pc.take(msisdn_str, pa.array(by_number)),
            pc.take(pa.array(PLANS), pa.array(pop.plan[by_number].astype(np.int32))),
            pc.cast(pa.array(pop.arpu[by_number]), pa.string()),
            pc.cast(pa.array(pop.tenure[by_number]), pa.string()),
            pc.take(pa.array(REGIONS), pa.array(pop.region[by_number].astype(np.int32))),
            pc.take(pa.array(["active", "churned"]), pa.array(churned.astype(np.int8))),
            date_strings(churn_day[by_number], start_d),
        ],
    )
    n_dnc = int(round(DO_NOT_CONTACT_SHARE * on_idx.size))
    dnc = np.sort(person_number[rng_misc.choice(on_idx, size=n_dnc, replace=False)])
    write_table_csv(outdir / "do_not_contact.csv", ["msisdn"], [pc.cast(pa.array(dnc), pa.string())])

    # every number that can appear: customers, off-net persons with a visible tie, services
    can_appear = np.zeros(n_nodes, dtype=bool)
    can_appear[on_idx] = True
    can_appear[ties.a] = True
    can_appear[ties.b] = True
    can_appear[n_persons:] = True
    truth_ids = np.flatnonzero(can_appear)
    truth_ids = truth_ids[np.argsort(number[truth_ids], kind="stable")]
    is_person = truth_ids < n_persons
    pid = np.where(is_person, truth_ids, 0)
    community = np.where(is_person, pop.community[pid], -1)
    role_idx = np.where(is_person, pop.role[pid], 3)
    tchurn = np.where(is_person, churn_day[pid], -1)
    write_table_csv(
        outdir / "truth.csv",
        ["msisdn", "on_net", "kind", "community", "role", "churn_date"],
        [
            pc.take(msisdn_str, pa.array(truth_ids)),
            pc.take(pa.array(["false", "true"]), pa.array(node_on_net[truth_ids].astype(np.int8))),
            pc.take(pa.array(["service", "person"]), pa.array(is_person.astype(np.int8))),
            pc.cast(pa.array(community.astype(np.int64)), pa.string()),
            pc.take(pa.array(list(ROLES) + [""]), pa.array(role_idx.astype(np.int32))),
            date_strings(tchurn, start_d),
        ],
    )

    # summary
    say("measuring", 0.95)
    summary = _summary(
        seed=seed,
        subscribers=int(subscribers),
        months=months,
        start_d=start_d,
        end_excl=end_excl,
        bad_row_rate=bad_row_rate,
        duplicate_rate=duplicate_rate,
        model=model,
        pop=pop,
        ties=ties,
        tally=acc,
        n_persons=n_persons,
        node_on_net=node_on_net,
        truth_ids=truth_ids,
        churn_day=churn_day,
        on_idx=on_idx,
        days=days,
        files=files,
        n_sc=sc_numbers.size,
        n_cc=n_cc,
        n_tm=n_tm,
        month_bounds=bounds,
        n_dnc=n_dnc,
        S=S,
    )
    (outdir / "operator.json").write_text(json.dumps(summary, indent=2) + "\n")
    say("done", 1.0)
    return summary


def _summary(**k) -> dict:
    pop, tally, ties = k["pop"], k["tally"], k["ties"]
    n_persons, on_idx, churn_day, days = k["n_persons"], k["on_idx"], k["churn_day"], k["days"]
    start_d, end_excl, months = k["start_d"], k["end_excl"], k["months"]
    node_on_net = k["node_on_net"]

    seen = tally.seen
    is_service = np.arange(node_on_net.size) >= n_persons
    truth = k["truth_ids"]
    t_service = truth >= n_persons

    # person-to-person traffic
    mixing = tally.mixed / tally.in_comm if tally.in_comm else 0.0
    pairs = tally.pairs()
    deg = np.bincount(np.concatenate([pairs // n_persons, pairs % n_persons]), minlength=n_persons)
    on_deg = deg[on_idx]
    bw = np.flatnonzero(pop.role == 2)

    # churn per month (share of customers active at the month start who leave during it)
    churn_rates = []
    for m in range(months):
        d0, d1 = k["month_bounds"][m] // 86400, k["month_bounds"][m + 1] // 86400
        cd = churn_day[on_idx]
        at_start = (cd < 0) | (cd >= d0)
        left = (cd >= d0) & (cd < d1)
        churn_rates.append(round(float(left.sum() / max(at_start.sum(), 1)), 4))

    # contagion measured from the records between customers
    pos = np.full(n_persons, -1, dtype=np.int64)
    pos[on_idx] = np.arange(on_idx.size)
    cd_on = churn_day[on_idx]
    key, count = tally.on_net_pair_counts()
    key = key[count >= STRONG_TIE_RECORDS * months]
    su, sv = pos[key // n_persons], pos[key % n_persons]
    contagion = measure_contagion(np.concatenate([su, sv]), np.concatenate([sv, su]), cd_on, days)
    contagion["strong_tie"] = f"at least {STRONG_TIE_RECORDS} records a month between the two customers over the period"
    S = k["S"].tocoo()
    strong = S.data >= 0.5
    planted = measure_contagion(S.row[strong], S.col[strong], cd_on, days)
    planted["strong_tie"] = "planted tie the customer calls at least strong_rate/2 records per 30 days"

    bad_kind = np.concatenate(tally.bad_kinds) if tally.bad_kinds else np.empty(0, np.int64)
    suggested = _add_months(start_d, months - 1)
    return {
        "generator": "bellwether synthetic operator",
        "seed": int(k["seed"]),
        "parameters": {
            "subscribers": k["subscribers"],
            "months": months,
            "start": start_d.isoformat(),
            "bad_row_rate": k["bad_row_rate"],
            "duplicate_rate": k["duplicate_rate"],
        },
        "country_code": nb.COUNTRY_CODE,
        "start": start_d.isoformat(),
        "end": (np.datetime64(end_excl, "D") - 1).astype(str),
        "days": days,
        "suggested_as_of": suggested.isoformat(),
        "files": k["files"],
        "counts": {
            "records": int(tally.records),
            "duplicates": int(tally.duplicates),
            "bad_rows": int(bad_kind.size),
            "bad_rows_by_kind": {name: int((bad_kind == i).sum()) for i, name in enumerate(BAD_ROW_KINDS)},
            "rows_written": int(tally.records + tally.duplicates + bad_kind.size),
            "voice": int(tally.records - tally.sms),
            "sms": int(tally.sms),
            "subscribers_on_net": int(on_idx.size),
            "persons_off_net": int((~node_on_net[truth] & ~t_service).sum()),
            "services": int(t_service.sum()),
            "services_by_kind": {"short_code": k["n_sc"], "call_centre": k["n_cc"], "telemarketing": k["n_tm"]},
            "truth_numbers": int(truth.size),
            "numbers_seen": int(seen.sum()),
            "numbers_seen_on_net": int((seen & node_on_net).sum()),
            "numbers_seen_off_net_person": int((seen & ~node_on_net & ~is_service).sum()),
            "numbers_seen_service": int((seen & is_service).sum()),
            "communities": int(pop.n_communities),
            "communities_by_type": {t: int((pop.comm_type == i).sum()) for i, t in enumerate(COMMUNITY_TYPES)},
            "bellwethers": int(bw.size),
            "followers": int((pop.role == 1).sum()),
            "churners": int((churn_day >= 0).sum()),
            "do_not_contact": int(k["n_dnc"]),
            "ties": int(ties.size),
        },
        "planted": {
            "churn": k["model"].as_dict(),
            "tie_rate_per_30_days": {c: float(r) for c, r in zip(CONTEXTS, BASE_RATE)},
            "follower_initiated_share_mean": 8.0 / 11.0,
            "bellwether_tie_boost": 1.6,
            "tie_rate_log_sigma": RATE_SIGMA,
            "outside_ties_per_person": OUTSIDE_STARTS,
            "community_sizes": {"family": [3, 8], "friends": [10, 30], "workplace": [31, 400]},
        },
        "measured": {
            "records_per_subscriber": round(tally.records / on_idx.size, 2),
            "mean_contacts_per_subscriber": round(float(on_deg.mean()), 2),
            "median_contacts_per_subscriber": float(np.median(on_deg)),
            "max_contacts_per_subscriber": int(on_deg.max()),
            "mixing_share_of_person_records": round(mixing, 3),
            "off_net_share_of_numbers_seen": round(float((seen & ~node_on_net).sum() / seen.sum()), 3),
            "sms_share": round(tally.sms / max(tally.records, 1), 3),
            "night_share_2_to_6": round(tally.night / max(tally.records, 1), 4),
            "evening_share_19_to_22": round(tally.evening / max(tally.records, 1), 4),
            "median_voice_duration_s": tally.median_voice_seconds(),
            "community_size_min": int(pop.comm_size.min()),
            "community_size_median": float(np.median(pop.comm_size)),
            "community_size_max": int(pop.comm_size.max()),
            "bellwether_received_to_sent_followers": round(tally.to_leader / max(tally.from_leader, 1), 3),
            "bellwether_mean_contacts": round(float(deg[bw].mean()), 2) if bw.size else 0.0,
            "person_mean_contacts": round(float(deg[:n_persons][pop.community >= 0].mean()), 2),
            "monthly_churn_rate": churn_rates,
            "contagion_from_records": contagion,
            "contagion_on_planted_ties": planted,
        },
    }

"""Build the target lists of one run, in priority order, and export them with their sidecars.

Every list row has the same leading columns::

    list, rank, id, score, segment, community, reasons, ...list-specific columns

Every row is one person to contact.  ``id`` is the pseudonym (never a phone number:
:mod:`bellwether.algorithms.targets.reveal` is the audited way back); ``segment`` is the
subscriber's value tier and behavioural cluster in words; ``reasons`` are plain-word
reason codes, what drove the rank first (:mod:`bellwether.algorithms.targets.reasons`).  Numbers
are rounded for people: scores, probabilities and shares to 4 significant digits,
money to 2 decimals (:data:`ROUNDING`); every column is described in
:data:`COLUMN_NOTES`, also written into the sidecar.  Lists are written to
``runs/<id>/lists/`` by default, each with a sidecar manifest
(:func:`bellwether.graph.exports.export_table`) that holds the list version, the rows held back per
reason, the priority, the parameters and the assumptions of the ranking.

A list that cannot be made from the run's data is empty and says why in its
``info["empty_because"]`` (one line, also in the sidecar): retention and community
offers need churn (a subscriber extract with churn dates; community offers recent
churners); acquisition needs a subscriber (CRM) extract to tell other operators'
numbers from ours.  A list made in a weaker way says so in ``info["notice"]`` (the
retention list without a churn model score ranks by exposure to churned contacts).
Without an extract every person counts as ours (:attr:`RunTables.customers`), so the
viral list still names the run's influence seeds.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from bellwether.algorithms.crm import NO_CHURN_WITHOUT_CRM, NO_PROSPECTS_WITHOUT_CRM
from bellwether.algorithms.segments.build import read_segments, segment_run
from bellwether.algorithms.segments.run_tables import RunTables, find_parameter
from bellwether.algorithms.targets import reasons as R
from bellwether.algorithms.targets.acquisition import acquisition_list
from bellwether.algorithms.targets.community_offers import community_offers, fit_offers, offer_members
from bellwether.algorithms.targets.retention import churn_exposure, pick_churn_risk, retention_list
from bellwether.algorithms.targets.suppression import PRIORITY, churned_mask, eligibility, final_check, merge_counts
from bellwether.algorithms.targets.viral import DEFAULT_RR_SETS, list_spread, viral_list
from bellwether.graph.core.errors import BellwetherError
from bellwether.graph.exports import Export, export_table
from bellwether.loaders.do_not_contact import current_do_not_contact

__all__ = [
    "LIST_NAMES", "LEADING_COLUMNS", "TargetOptions", "TargetList", "TargetError", "marketing_table",
    "parse_segment_filter", "segment_mask", "limit_rows", "churn_signal_gap", "build_lists", "write_lists",
    "LIST_COLUMNS", "COLUMN_NOTES", "ROUNDING", "round_columns",
]

LIST_NAMES = PRIORITY
LEADING_COLUMNS = ("list", "rank", "id", "score", "segment", "community", "reasons")
SEGMENT_FILTER_COLUMNS = ("value_tier", "behaviour", "usage_mix", "cluster", "cluster_label", "role", "community",
                          "at_risk_community")


#: The list-specific columns after :data:`LEADING_COLUMNS`.
LIST_COLUMNS = {
    "retention": ("expected_value_saved", "churn_risk", "arpu", "monthly_value", "exposure", "churned_contacts",
                  "value_tier", "role"),
    "viral": ("marginal_gain", "cumulative_spread", "role"),
    "community": ("offer", "role", "size", "members", "recent_churners", "churn_rate", "internal_weight_share",
                  "mean_arpu"),
    "acquisition": ("bellwether_ties", "on_net_contacts"),
}

#: What every column means (written into each sidecar as ``column_notes``).
COLUMN_NOTES = {
    "list": "the list's name",
    "rank": "1 = contact first",
    "id": "pseudonym of the subscriber (HMAC of the number; `bellwether targets --reveal` maps it back, audited)",
    "score": "what the list is ranked by (see the sidecar's `score`)",
    "segment": "value tier and behavioural cluster in words",
    "community": "community id (for acquisition: the community of the most strongly tied bellwether)",
    "reasons": "why the row is on the list, what drove the rank first",
    "expected_value_saved": "churn_risk × monthly_value × value_months × response_rate: money the offer is "
                            "expected to save (empty when the list is ranked by exposure)",
    "churn_risk": "probability of churn within the churn horizon (the run's churn model; empty without one)",
    "arpu": "average revenue per user a month, from the subscriber extract (empty when unknown)",
    "monthly_value": "ARPU, or the median ARPU of active customers when unknown",
    "exposure": "tie strength shared with contacts who churned before as_of",
    "churned_contacts": "contacts who churned in the recency window before as_of",
    "value_tier": "low / mid / high ARPU band",
    "role": "role in the community: bellwether, follower, bridge, member or isolate",
    "marginal_gain": "extra subscribers the seed is expected to reach beyond the rows above it",
    "cumulative_spread": "expected reach of the seeds up to this row (the sum of marginal_gain)",
    "offer": "which group offer the member belongs to (1 = the most urgent community)",
    "size": "people in the community",
    "members": "members of the community who receive the offer",
    "recent_churners": "members who churned in the recency window before as_of",
    "churn_rate": "share of the community's members who churned before as_of",
    "internal_weight_share": "share of the members' tie strength that stays inside the community",
    "mean_arpu": "mean ARPU of the community's members",
    "bellwether_ties": "strong ties to our active bellwethers",
    "on_net_contacts": "our customers the number talks with",
}

#: How each numeric column is rounded: ``("sig", 4)`` significant digits or ``("dec", 2)`` decimals.
ROUNDING = {
    "expected_value_saved": ("dec", 2), "arpu": ("dec", 2), "monthly_value": ("dec", 2), "mean_arpu": ("dec", 2),
    "churn_risk": ("sig", 4), "exposure": ("sig", 4), "marginal_gain": ("sig", 4), "cumulative_spread": ("sig", 4),
    "churn_rate": ("sig", 4), "internal_weight_share": ("sig", 4),
}


def _round_value(x: float, how: tuple[str, int]) -> float:
    if not math.isfinite(x) or x == 0:
        return x
    kind, digits = how
    if kind == "dec":
        return round(x, digits)
    return round(x, digits - 1 - int(math.floor(math.log10(abs(x)))))


def round_columns(rows: pd.DataFrame, score: tuple[str, int] = ("sig", 4)) -> pd.DataFrame:
    """Round the float columns of ``rows`` per :data:`ROUNDING` (``score`` for the ``score`` column)."""
    out = rows.copy()
    for col in out.columns:
        how = score if col == "score" else ROUNDING.get(col)
        if how is None or not pd.api.types.is_float_dtype(out[col].dtype):
            continue
        out[col] = [_round_value(float(v), how) for v in out[col].to_numpy(np.float64, na_value=np.nan)]
        out[col] = out[col].astype(np.float64)
    return out


class TargetError(BellwetherError):
    """A target list was asked for with options that cannot work."""


@dataclass(frozen=True)
class TargetOptions:
    """Knobs of the target lists (recorded in every sidecar).

    ``top`` (people) and ``budget / cost_per_contact`` (money) both cap a list; the
    smaller cap wins.  Every row is one person, so each costs ``cost_per_contact``; a
    community offer is kept or left out whole.  ``top=None`` and no budget keep every
    eligible row.  ``response_rate`` (the share of would-be churners an offer keeps) and
    ``value_months`` (months of revenue a kept customer is worth) turn churn risk and
    ARPU into the retention list's expected value saved; both are assumptions, recorded
    in every sidecar.
    """

    top: int | None = 1000
    budget: float | None = None
    cost_per_contact: float | None = None
    response_rate: float = 0.2
    value_months: float = 12.0
    strong_quantile: float = 0.75
    min_group_size: int = 10
    min_internal_share: float = 0.5
    min_recent_churners: int = 2
    min_lift: float = 2.0
    n_simulations: int = 1000


@dataclass
class TargetList:
    """One finished list: its rows, what was held back and why, and how it was made."""

    name: str
    rows: pd.DataFrame
    suppressed: dict[str, int]
    info: dict[str, Any] = field(default_factory=dict)


def parse_segment_filter(items: Iterable[str] | None) -> dict[str, str]:
    """Parse ``["value_tier=high", "behaviour=active"]`` into a dict; every condition must hold."""
    out: dict[str, str] = {}
    for item in items or ():
        col, sep, value = item.partition("=")
        col = col.strip()
        if not sep or not col:
            raise TargetError(f"--segment {item!r}: expected COLUMN=VALUE, e.g. value_tier=high.")
        if col not in SEGMENT_FILTER_COLUMNS:
            raise TargetError(f"--segment {item!r}: unknown column {col!r}; use one of {', '.join(SEGMENT_FILTER_COLUMNS)}.")
        out[col] = value.strip()
    return out


def segment_mask(table: pd.DataFrame, filters: Mapping[str, str]) -> np.ndarray:
    """True for rows matching every ``column=value`` of ``filters`` (values compared as text)."""
    mask = np.ones(len(table), bool)
    for col, value in filters.items():
        s = table[col]
        text = s.astype("string").str.lower() if s.dtype == bool or str(s.dtype) == "boolean" else s.astype("string")
        mask &= (text == (value.lower() if s.dtype == bool or str(s.dtype) == "boolean" else value)).fillna(False).to_numpy(bool)
    return mask


def marketing_table(run: RunTables, segments: pd.DataFrame) -> pd.DataFrame:
    """Join run subscribers, CRM attributes and segments into one row per vertex, ``vid`` order."""
    subs = run.subscribers
    n = len(subs)
    t = pd.DataFrame({"vid": subs["vid"].to_numpy(np.int64), "id": subs["id"].astype(object).to_numpy()})
    t["on_net"] = subs["on_net"].to_numpy(bool, na_value=False)
    t["person"] = (subs["kind"].astype(object).to_numpy() != "service") if "kind" in subs else True
    t["churned"] = churned_mask(subs, run.as_of)
    for col, default in (("churn_risk", np.nan), ("churn_risk_baseline", np.nan), ("contagion_score", np.nan),
                         ("arpu", np.nan), ("degree", 0), ("bellwether_score", np.nan), ("churned_contacts", 0),
                         ("pagerank", np.nan)):
        t[col] = subs[col].to_numpy(np.float64, na_value=np.nan) if col in subs else default
    t["degree"] = np.nan_to_num(t["degree"]).astype(np.int64)
    t["churned_contacts"] = np.nan_to_num(t["churned_contacts"]).astype(np.int64)
    seg = segments.set_index("vid").reindex(t["vid"].to_numpy())
    for col in ("value_tier", "behaviour", "usage_mix", "cluster", "cluster_label", "role", "at_risk_community"):
        t[col] = seg[col].to_numpy()
    t["community"] = subs["community"].astype("Int64").to_numpy()
    sizes = run.communities.set_index("community")["size"]
    t["community_size"] = pd.Series(t["community"]).map(sizes).astype("Int64").to_numpy()
    com = pd.Series(t["community"]).to_numpy(np.float64, na_value=np.nan)
    a = run.contacts["a_vid"].to_numpy(np.int64)
    b = run.contacts["b_vid"].to_numpy(np.int64)
    same = (com[a] == com[b]).astype(np.float64)
    t["community_contacts"] = (np.bincount(a, weights=same, minlength=n) + np.bincount(b, weights=same, minlength=n)).astype(np.int64)
    t["segment"] = (pd.Series(t["value_tier"]).astype(str) + " value; " + pd.Series(t["cluster_label"]).astype(str)).to_numpy(object)
    return t


def check_caps(top: int | None, budget: float | None, cost_per_contact: float | None) -> None:
    """Raise :class:`TargetError` for caps that cannot work (negative, or a budget without a cost)."""
    if top is not None and top < 0:
        raise TargetError(f"--top must be >= 0, got {top}.")
    if budget is None and cost_per_contact is not None and cost_per_contact <= 0:
        raise TargetError("--cost-per-contact must be > 0.")
    if budget is not None:
        if cost_per_contact is None:
            raise TargetError("--budget and --cost-per-contact go together: give both or neither.")
        if cost_per_contact <= 0 or budget < 0:
            raise TargetError("--budget must be >= 0 and --cost-per-contact > 0.")


def limit_rows(rows: pd.DataFrame, *, top: int | None = None, budget: float | None = None,
               cost_per_contact: float | None = None, contacts_column: str | None = None) -> pd.DataFrame:
    """Keep the first rows within ``top`` and within ``budget`` at ``cost_per_contact`` each.

    With ``contacts_column`` a row costs ``rows[contacts_column] × cost_per_contact`` (a
    community offer goes to every member); rows are kept in rank order while the running
    cost stays within the budget.
    """
    check_caps(top, budget, cost_per_contact)
    out = rows if top is None else rows.head(int(top))
    if budget is not None:
        per_row = out[contacts_column].to_numpy(np.float64) if contacts_column else np.ones(len(out))
        within = np.cumsum(per_row * cost_per_contact) <= budget + 1e-9
        out = out.loc[within]
    return out.reset_index(drop=True)


def _finish(name: str, ranked: pd.DataFrame, t: pd.DataFrame, extra_cols: Sequence[str], reason_fn,
            score_rounding: tuple[str, int] = ("sig", 4)) -> pd.DataFrame:
    """Attach ids, segments and reasons to ranked rows (``vid`` + list columns), order and round the columns."""
    base = t.iloc[ranked["vid"].to_numpy(np.int64)].reset_index(drop=True)
    ranked = ranked.reset_index(drop=True)
    merged = base.drop(columns=[c for c in ranked.columns if c in base.columns and c != "vid"]).join(
        ranked.drop(columns=["vid"]))
    merged["list"] = name
    merged["reasons"] = reason_fn(merged) if len(merged) else pd.Series(dtype=object)
    out = merged[[*LEADING_COLUMNS, *extra_cols]].copy()
    out["community"] = out["community"].astype("Int64")
    out["id"] = out["id"].astype(str)
    out["reasons"] = out["reasons"].astype(str)
    return round_columns(out, score_rounding)


def _count(n: int, one: str) -> str:
    return f"{n:,} {one if n == 1 else one + 's'}"


def churn_signal_gap(run: RunTables, t: pd.DataFrame, name: str) -> str | None:
    """Why list ``name`` has no churn signal to rank by, or None when it has one.

    Without a subscriber extract there are no churn dates at all.  Retention needs a churn
    model score (:func:`pick_churn_risk`) or, failing that, customers tied to someone who
    churned before as_of; community offers need recent churners in some community.
    """
    if run.crm == "absent":
        return NO_CHURN_WITHOUT_CRM
    if name == "retention" and pick_churn_risk(t)[1] == "none":
        churned = t["churned"].to_numpy(bool)
        if not churned.any():
            return ("no churn signal: nobody churned before as_of and the run has no churn model score, "
                    "so there is no one to rank by churn risk")
        if not (churn_exposure(t, run.contacts)[0][run.customers & ~churned] > 0).any():
            return ("no churn signal: the run has no churn model score and no customer is in contact "
                    "with anyone who churned before as_of")
    if name == "community" and not run.communities["recent_churners"].fillna(0).sum():
        return f"no churn signal: nobody churned in the {run.recency_days} days before as_of"
    return None


def _empty(name: str, t: pd.DataFrame, extra_cols: Sequence[str]) -> pd.DataFrame:
    """An empty list with the columns it would have (list-only columns as numbers)."""
    ranked = pd.DataFrame({"vid": pd.Series(dtype=np.int64), "rank": pd.Series(dtype=np.int64),
                           "score": pd.Series(dtype=np.float64),
                           **{c: pd.Series(dtype=np.float64) for c in extra_cols if c not in t.columns}})
    return _finish(name, ranked, t, extra_cols, lambda m: [])


def build_lists(
    run: RunTables,
    segments: pd.DataFrame | None = None,
    lists: Sequence[str] = LIST_NAMES,
    options: TargetOptions | None = None,
    segment_filter: Mapping[str, str] | None = None,
) -> dict[str, TargetList]:
    """Build the requested lists in :data:`PRIORITY` order, each skipping people already on an earlier one.

    Parameters
    ----------
    run : RunTables
    segments : pandas.DataFrame, optional
        ``segments.parquet`` of the run; computed when missing.
    lists : sequence of str
        Any of ``retention``, ``viral``, ``community``, ``acquisition``.
    options : TargetOptions
    segment_filter : mapping column -> value, optional
        Restrict every list to subscribers in a segment (acquisition: to ties with
        bellwethers in the segment; viral: seeds re-selected within the segment).

    Returns
    -------
    dict name -> TargetList, in priority order.
    """
    o = options or TargetOptions()
    check_caps(o.top, o.budget, o.cost_per_contact)
    if not 0 < o.response_rate <= 1:
        raise TargetError(f"--response-rate must be in (0, 1] (the share of would-be churners an offer keeps), got {o.response_rate}.")
    if not o.value_months > 0:
        raise TargetError(f"--value-months must be > 0, got {o.value_months}.")
    unknown = [x for x in lists if x not in LIST_NAMES]
    if unknown:
        raise TargetError(f"Unknown list {unknown[0]!r}; choose from {', '.join(LIST_NAMES)} or all.")
    if segments is None:
        segments = read_segments(run)
        if segments is None:
            segments = segment_run(run).table
    seg_filter = dict(segment_filter or {})
    t = marketing_table(run, segments)
    in_segment = segment_mask(t, seg_filter)
    dnc = run.do_not_contact
    churned = t["churned"].to_numpy(bool)
    on_person = run.customers & np.asarray(t["person"], dtype=bool)
    taken: dict[str, list[str]] = {}
    out: dict[str, TargetList] = {}
    params = asdict(o)
    common_info = {"run_id": run.run_id, "as_of": str(run.as_of.date()), "priority": list(PRIORITY),
                   "segment_filter": seg_filter, "parameters": params}

    for name in [x for x in PRIORITY if x in lists]:
        info: dict[str, Any] = {**common_info, "list": name, "deduplicated_against": list(taken)}
        no_churn = churn_signal_gap(run, t, name) if name in ("retention", "community") else None
        if no_churn:
            rows, counts = _empty(name, t, LIST_COLUMNS[name]), {}
            info["empty_because"] = no_churn
        elif name == "acquisition" and run.crm == "absent":
            rows, counts = _empty(name, t, LIST_COLUMNS[name]), {}
            info["empty_because"] = NO_PROSPECTS_WITHOUT_CRM
        elif name == "retention":
            keep, counts = eligibility(t["id"], churned, dnc, taken, on_person & in_segment)
            ranked, how = retention_list(t, run.contacts, keep, response_rate=o.response_rate,
                                         value_months=o.value_months, cost_per_contact=o.cost_per_contact)
            counts = merge_counts(counts, how["held_back"])
            ranked = limit_rows(ranked, top=o.top, budget=o.budget, cost_per_contact=o.cost_per_contact)
            horizon = find_parameter(run.manifest.get("parameters", {}), "horizon_days")
            rows = _finish(name, ranked, t, LIST_COLUMNS[name],
                           lambda m: R.retention_reasons(m, run.recency_days, ranking=how["ranking"],
                                                         horizon_days=horizon, as_of=str(run.as_of.date())),
                           score_rounding=("dec", 2) if how["ranking"] == "expected_value_saved" else ("sig", 4))
            info["ranking"] = how["ranking"]
            info["churn_risk_source"] = how["risk_source"]
            info["value_unit"] = how["value_unit"]
            info["assumptions"] = {"response_rate": o.response_rate, "value_months": o.value_months,
                                   "churn_horizon_days": horizon, "cost_per_contact": o.cost_per_contact}
            if how["ranking"] == "expected_value_saved":
                unit = "" if how["value_unit"] == "money" else " (no ARPU known: in customers kept, ARPU counted as 1)"
                info["score"] = (f"expected value saved = churn_risk × monthly_value × {o.value_months:g} months "
                                 f"× response rate {o.response_rate:g}{unit}")
                info["expected_value_saved_total"] = round(float(np.nansum(ranked["expected_value_saved"])), 2)
            else:
                info["score"] = "exposure: tie strength shared with contacts who churned before as_of"
                info["notice"] = ("no churn model score in this run (too few churners to fit one, or the churn step "
                                  "was skipped): ranked by network exposure to contacts who churned before as_of; "
                                  f"{how.get('not_exposed', 0):,} eligible customers without such a contact are not listed")
        elif name == "viral":
            keep, counts = eligibility(t["id"], churned, dnc, taken, on_person & in_segment)
            k = o.top if o.top is not None else max(len(run.seeds), 1)
            if o.budget is not None and o.cost_per_contact:
                k = min(k, int(math.floor(o.budget / o.cost_per_contact)))
            reselect = bool(seg_filter)
            infl = run.manifest.get("metrics", {}).get("influence", {}) or {}
            probability = find_parameter(run.manifest.get("parameters", {}), "probability",
                                         default=infl.get("probability", "tie_strength"))
            n_rr = int(infl.get("n_rr_sets") or DEFAULT_RR_SETS)
            seed_vids = run.seeds["vid"].to_numpy(np.int64)
            graph = run.graph() if reselect or bool(keep[seed_vids].any()) else None
            ranked, method = viral_list(t, run.seeds, keep, k=k, reselect=reselect, graph=graph, seed=run.seed,
                                        n_rr_sets=n_rr, probability=probability)
            rows = _finish(name, ranked, t, LIST_COLUMNS[name], lambda m: R.viral_reasons(m, len(ranked)))
            info["method"] = method
            info["score"] = ("estimated extra subscribers reached by adding this seed to the rows above it (marginal "
                             "gain), accounted on the listed seeds only")
            info["rr_spread"] = round(float(ranked["cumulative_spread"].iloc[-1]), 1) if len(ranked) else 0.0
            info["expected_spread"] = list_spread(graph, ranked["vid"].to_numpy(), n_simulations=o.n_simulations,
                                                  seed=run.seed) if len(ranked) else {"mean": 0.0}
        elif name == "community":
            keep, counts = eligibility(t["id"], churned, dnc, taken, on_person & in_segment)
            offers, small = community_offers(t, run.communities, keep, min_members=o.min_group_size,
                                             min_internal_share=o.min_internal_share,
                                             min_recent_churners=o.min_recent_churners, min_lift=o.min_lift)
            counts = merge_counts(counts, small)
            check_caps(o.top, o.budget, o.cost_per_contact)
            kept, passed = fit_offers(offers, top=o.top, budget=o.budget, cost_per_contact=o.cost_per_contact)
            kept["rank"] = np.arange(1, len(kept) + 1, dtype=np.int64)
            ranked = offer_members(t, kept, keep)
            rows = _finish(name, ranked, t, LIST_COLUMNS[name], lambda m: R.community_reasons(m, run.recency_days))
            info["score"] = ("the group offer's score: members × recent_churners / size × internal_weight_share "
                             "(members expected to be drawn away)")
            info["offers"] = int(len(kept))
            if passed:
                info["offers_over_budget"] = passed
                info["notice"] = (f"{_count(passed, 'group offer')} left out: the members do not fit in what is left "
                                  "of --top / --budget (offers are kept whole)")
        else:  # acquisition
            off_person = ~t["on_net"].to_numpy(bool) & np.asarray(t["person"], dtype=bool)
            prospects, counts = eligibility(t["id"], churned, dnc, taken, off_person)
            anchors = on_person & ~churned & (t["role"].to_numpy(object) == "bellwether") & in_segment
            ranked = limit_rows(acquisition_list(t, run.contacts, prospects, anchors, strong_quantile=o.strong_quantile),
                                top=o.top, budget=o.budget, cost_per_contact=o.cost_per_contact)
            sizes = run.communities.set_index("community")["size"]
            ranked["community_size"] = ranked["community"].map(sizes).astype("Int64")  # the anchor's community
            rows = _finish(name, ranked, t, LIST_COLUMNS[name], R.acquisition_reasons)
            if len(rows):
                rows["segment"] = "off-net number"
            info["score"] = "sum of strong-tie weights to our active bellwethers"
        info["column_notes"] = {c: COLUMN_NOTES[c] for c in rows.columns if c in COLUMN_NOTES}
        taken[name] = rows["id"].tolist()
        out[name] = TargetList(name, rows, counts, info)
    return out


def write_lists(run: RunTables, lists: Mapping[str, TargetList], fmt: str = "csv", out_dir: str | Path | None = None) -> dict[str, Export]:
    """Apply the do-not-contact and churn check once more and write every list with its sidecar.

    The do-not-contact list is read again from the workspace (it may have grown since the
    run's tables were read) and fail-closed: when it cannot be read nothing is written
    (:class:`bellwether.loaders.do_not_contact.DoNotContactUnavailable`).
    """
    dnc = current_do_not_contact(run.workspace) | frozenset(run.do_not_contact)
    directory = Path(out_dir) if out_dir is not None else run.run_dir / "lists"
    subs = run.subscribers
    churned_ids = subs["id"].astype(object).to_numpy()[churned_mask(subs, run.as_of)]
    exports = {}
    for name, tl in lists.items():
        rows, late = final_check(tl.rows, dnc, churned_ids)
        info = dict(tl.info)
        if "expected_value_saved_total" in info:  # what is exported is what is expected to be saved
            info["expected_value_saved_total"] = round(float(np.nansum(rows["expected_value_saved"])), 2)
        if late and name == "viral":
            info["notice"] = (f"{sum(late.values()):,} seeds were held back at export, after the spread was accounted: "
                              "cumulative_spread overstates the reach; run `bellwether targets` again")
        exports[name] = export_table(rows, directory, name, fmt, suppressed=merge_counts(tl.suppressed, late),
                                     extra=info)
    return exports

"""Build the target lists of one run, in priority order, and export them with their sidecars.

Every list row has the same leading columns::

    list, rank, id, score, segment, community, reasons, ...list-specific columns

``id`` is the pseudonym (never a phone number); ``segment`` is the subscriber's value
tier and behavioural cluster in words; ``reasons`` are plain-word reason codes
(:mod:`algorithms.targets.reasons`).  Lists are written to ``runs/<id>/lists/`` by
default, each with a sidecar manifest (:func:`graph.exports.export_table`) that holds
the list version, the rows held back per reason, the priority and the parameters.

A list that cannot be made from the run's data is empty and says why in its
``info["empty_because"]`` (one line, also in the sidecar): retention and community
offers need a churn signal (churn scores, recent churners); acquisition needs a
subscriber (CRM) extract to tell other operators' numbers from ours.  Without an
extract every person counts as ours (:attr:`RunTables.customers`), so the viral list
still names the run's influence seeds.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from algorithms.crm import NO_CHURN_WITHOUT_CRM, NO_PROSPECTS_WITHOUT_CRM
from algorithms.segments.build import read_segments, segment_run
from algorithms.segments.run_tables import RunTables
from algorithms.targets import reasons as R
from algorithms.targets.acquisition import acquisition_list
from algorithms.targets.community_offers import community_offers
from algorithms.targets.retention import pick_churn_risk, retention_list
from algorithms.targets.suppression import PRIORITY, churned_mask, eligibility, final_check, merge_counts
from algorithms.targets.viral import list_spread, viral_list
from graph.errors import BellwetherError
from graph.exports import Export, export_table
from loaders.do_not_contact import current_do_not_contact

__all__ = [
    "LIST_NAMES", "LEADING_COLUMNS", "TargetOptions", "TargetList", "TargetError", "marketing_table",
    "parse_segment_filter", "segment_mask", "limit_rows", "churn_signal_gap", "build_lists", "write_lists",
]

LIST_NAMES = PRIORITY
LEADING_COLUMNS = ("list", "rank", "id", "score", "segment", "community", "reasons")
SEGMENT_FILTER_COLUMNS = ("value_tier", "behaviour", "usage_mix", "cluster", "cluster_label", "role", "community",
                          "at_risk_community")


class TargetError(BellwetherError):
    """A target list was asked for with options that cannot work."""


@dataclass(frozen=True)
class TargetOptions:
    """Knobs of the target lists (recorded in every sidecar).

    ``top`` and ``budget / cost_per_contact`` both cap a list; the smaller cap wins.  A
    community offer costs ``members × cost_per_contact``.  ``top=None`` and no budget
    keep every eligible row.
    """

    top: int | None = 1000
    budget: float | None = None
    cost_per_contact: float | None = None
    beta: float = 0.5
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


def limit_rows(rows: pd.DataFrame, *, top: int | None = None, budget: float | None = None,
               cost_per_contact: float | None = None, contacts_column: str | None = None) -> pd.DataFrame:
    """Keep the first rows within ``top`` and within ``budget`` at ``cost_per_contact`` each.

    With ``contacts_column`` a row costs ``rows[contacts_column] × cost_per_contact`` (a
    community offer goes to every member); rows are kept in rank order while the running
    cost stays within the budget.
    """
    if top is not None and top < 0:
        raise TargetError(f"--top must be >= 0, got {top}.")
    if (budget is None) != (cost_per_contact is None):
        raise TargetError("--budget and --cost-per-contact go together: give both or neither.")
    out = rows if top is None else rows.head(int(top))
    if budget is not None:
        if cost_per_contact <= 0 or budget < 0:
            raise TargetError("--budget must be >= 0 and --cost-per-contact > 0.")
        per_row = out[contacts_column].to_numpy(np.float64) if contacts_column else np.ones(len(out))
        within = np.cumsum(per_row * cost_per_contact) <= budget + 1e-9
        out = out.loc[within]
    return out.reset_index(drop=True)


def _finish(name: str, ranked: pd.DataFrame, t: pd.DataFrame, extra_cols: Sequence[str], reason_fn) -> pd.DataFrame:
    """Attach ids, segments and reasons to ranked rows (``vid`` + list columns) and order the columns."""
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
    return out


def churn_signal_gap(run: RunTables, t: pd.DataFrame, name: str) -> str | None:
    """Why list ``name`` has no churn signal to rank by, or None when it has one.

    Without a subscriber extract there are no churn dates at all.  Retention needs a churn
    risk or a positive contagion score (:func:`pick_churn_risk` finds one); community
    offers need recent churners in some community.
    """
    if run.crm == "absent":
        return NO_CHURN_WITHOUT_CRM
    if name == "retention" and pick_churn_risk(t)[1] == "none":
        return ("no churn signal: the run has no churn risk or contagion score "
                "(no churners before as_of, or the churn step was skipped)")
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
        retention_cols = ["churn_risk", "value", "follower_value", "value_tier", "role"]
        community_cols = ["size", "members", "recent_churners", "churn_rate", "internal_weight_share", "mean_arpu"]
        no_churn = churn_signal_gap(run, t, name) if name in ("retention", "community") else None
        if no_churn:
            rows, counts = _empty(name, t, retention_cols if name == "retention" else community_cols), {}
            info["empty_because"] = no_churn
        elif name == "acquisition" and run.crm == "absent":
            rows, counts = _empty(name, t, ["bellwether_ties", "on_net_contacts"]), {}
            info["empty_because"] = NO_PROSPECTS_WITHOUT_CRM
        elif name == "retention":
            keep, counts = eligibility(t["id"], churned, dnc, taken, on_person & in_segment)
            ranked = limit_rows(retention_list(t, run.contacts, keep, beta=o.beta), top=o.top, budget=o.budget,
                                cost_per_contact=o.cost_per_contact)
            source = pick_churn_risk(t)[1]
            rows = _finish(name, ranked, t, retention_cols,
                           lambda m: R.retention_reasons(m, run.recency_days, risk_source=source))
            info["score"] = "churn_risk × (value + beta × follower_value); value = ARPU / median ARPU"
            info["churn_risk_source"] = source
        elif name == "viral":
            keep, counts = eligibility(t["id"], churned, dnc, taken, on_person & in_segment)
            k = o.top if o.top is not None else max(len(run.seeds), 1)
            if o.budget is not None and o.cost_per_contact:
                k = min(k, int(math.floor(o.budget / o.cost_per_contact)))
            reselect = bool(seg_filter)
            ranked, method = viral_list(t, run.seeds, keep, k=k, reselect=reselect,
                                        graph=run.graph() if reselect else None, seed=run.seed)
            rows = _finish(name, ranked, t, ["marginal_gain", "cumulative_spread", "role"],
                           lambda m: R.viral_reasons(m, len(ranked)))
            info["method"] = method
            info["score"] = "estimated extra subscribers reached by adding this seed (marginal gain)"
            info["expected_spread"] = list_spread(run.graph(), ranked["vid"].to_numpy(), n_simulations=o.n_simulations,
                                                  seed=run.seed) if len(ranked) else {"mean": 0.0}
        elif name == "community":
            keep, counts = eligibility(t["id"], churned, dnc, taken, on_person & in_segment)
            ranked, small = community_offers(t, run.communities, keep, min_members=o.min_group_size,
                                             min_internal_share=o.min_internal_share,
                                             min_recent_churners=o.min_recent_churners, min_lift=o.min_lift)
            counts = merge_counts(counts, small)
            ranked = limit_rows(ranked, top=o.top, budget=o.budget, cost_per_contact=o.cost_per_contact,
                                contacts_column="members")
            rows = _finish(name, ranked, t, community_cols,
                           lambda m: R.community_reasons(m, run.recency_days))
            if len(rows):
                rows["segment"] = "at-risk community"
            info["score"] = "members × recent_churners / size × internal_weight_share"
        else:  # acquisition
            off_person = ~t["on_net"].to_numpy(bool) & np.asarray(t["person"], dtype=bool)
            prospects, counts = eligibility(t["id"], churned, dnc, taken, off_person)
            anchors = on_person & ~churned & (t["role"].to_numpy(object) == "bellwether") & in_segment
            ranked = limit_rows(acquisition_list(t, run.contacts, prospects, anchors, strong_quantile=o.strong_quantile),
                                top=o.top, budget=o.budget, cost_per_contact=o.cost_per_contact)
            sizes = run.communities.set_index("community")["size"]
            ranked["community_size"] = ranked["community"].map(sizes).astype("Int64")  # the anchor's community
            rows = _finish(name, ranked, t, ["bellwether_ties", "on_net_contacts"], R.acquisition_reasons)
            if len(rows):
                rows["segment"] = "off-net number"
            info["score"] = "sum of strong-tie weights to our active bellwethers"
        taken[name] = rows["id"].tolist()
        out[name] = TargetList(name, rows, counts, info)
    return out


def write_lists(run: RunTables, lists: Mapping[str, TargetList], fmt: str = "csv", out_dir: str | Path | None = None) -> dict[str, Export]:
    """Apply the do-not-contact and churn check once more and write every list with its sidecar.

    The do-not-contact list is read again from the workspace (it may have grown since the
    run's tables were read) and fail-closed: when it cannot be read nothing is written
    (:class:`loaders.do_not_contact.DoNotContactUnavailable`).
    """
    dnc = current_do_not_contact(run.workspace) | frozenset(run.do_not_contact)
    directory = Path(out_dir) if out_dir is not None else run.run_dir / "lists"
    subs = run.subscribers
    churned_ids = subs["id"].astype(object).to_numpy()[churned_mask(subs, run.as_of)]
    exports = {}
    for name, tl in lists.items():
        rows, late = final_check(tl.rows, dnc, churned_ids)
        exports[name] = export_table(rows, directory, name, fmt, suppressed=merge_counts(tl.suppressed, late),
                                     extra=tl.info)
    return exports

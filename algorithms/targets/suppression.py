"""Who must never be on a list, and de-duplication across campaigns.

Three rules, applied in this order, each counted under its own reason:

``churned``
    Subscribers who churned before ``as_of`` (the run's ``churned`` flag) or whose CRM
    status is ``churned`` with a churn date before ``as_of`` (or none) are never targeted.
``do_not_contact``
    Pseudonyms in the workspace's ``do_not_contact.parquet``.  Applied before scoring
    (:func:`eligibility`), once more on the finished rows at export (:func:`final_check`,
    with the list as it is then) and again whenever a list is served
    (:mod:`bellwether.graph.list_service`), so a list edited, built elsewhere or older than the
    latest do-not-contact file cannot leak them.
``in_<list>_list``
    A subscriber gets at most one offer: lists are built in :data:`PRIORITY` order and a
    later list skips anyone already on an earlier one (retention > viral > community >
    acquisition: keeping a customer beats growing reach, which beats group offers and
    new customers).
"""

from __future__ import annotations

from typing import Iterable, Mapping

import numpy as np
import pandas as pd

__all__ = ["PRIORITY", "churned_mask", "eligibility", "final_check", "merge_counts"]

PRIORITY = ("retention", "viral", "community", "acquisition")


def churned_mask(table: pd.DataFrame, as_of) -> np.ndarray:
    """True for subscribers known to have churned at ``as_of`` (run flag or CRM status with an earlier/no date)."""
    churned = table["churned"].to_numpy(bool, na_value=False) if "churned" in table else np.zeros(len(table), bool)
    if "status" in table.columns:
        status_churned = table["status"].astype(object).to_numpy() == "churned"
        if "churn_date" in table.columns and as_of is not None:
            d = pd.to_datetime(table["churn_date"]).to_numpy("datetime64[s]")
            before = np.isnat(d) | (d < pd.Timestamp(as_of).to_datetime64().astype("datetime64[s]"))
            status_churned &= before
        churned = churned | status_churned
    return churned


def eligibility(
    ids: pd.Series | np.ndarray,
    churned: np.ndarray,
    do_not_contact: Iterable[str],
    already: Mapping[str, Iterable[str]] | None = None,
    candidates: np.ndarray | None = None,
) -> tuple[np.ndarray, dict[str, int]]:
    """Return which rows may be scored and how many candidates each rule held back.

    Parameters
    ----------
    ids : array of str
        Pseudonyms, one per row.
    churned : bool array
        Churned rows (never targeted).
    do_not_contact : iterable of str
        Pseudonyms that must not be contacted.
    already : mapping list name -> ids, optional
        Ids already on higher-priority lists (counted as ``in_<name>_list``).
    candidates : bool array, optional
        The rows this list is about (e.g. on-net persons in the chosen segment);
        only they are counted.  Default: all rows.

    Returns
    -------
    keep : bool array
    counts : dict reason -> rows held back (each row counted under its first reason)
    """
    ids = pd.Series(np.asarray(ids, dtype=object))
    cand = np.ones(len(ids), bool) if candidates is None else np.asarray(candidates, bool)
    keep = cand.copy()
    counts: dict[str, int] = {}

    def drop(reason: str, mask: np.ndarray) -> None:
        hit = keep & mask
        counts[reason] = counts.get(reason, 0) + int(hit.sum())
        keep[hit] = False

    drop("churned", np.asarray(churned, bool))
    dnc = pd.Index(pd.unique(np.asarray(list(do_not_contact), dtype=object)))
    drop("do_not_contact", ids.isin(dnc).to_numpy())
    for name, taken in (already or {}).items():
        drop(f"in_{name}_list", ids.isin(pd.Index(np.asarray(list(taken), dtype=object))).to_numpy())
    return keep, {k: v for k, v in counts.items() if v}


def final_check(rows: pd.DataFrame, do_not_contact: Iterable[str], churned_ids: Iterable[str] = ()) -> tuple[pd.DataFrame, dict[str, int]]:
    """Drop rows whose ``id`` is on the do-not-contact list or churned, just before export.

    Returns the remaining rows (re-ranked 1..n when a ``rank`` column exists) and the
    counts ``{"do_not_contact_at_export": .., "churned_at_export": ..}`` (zeros left out).
    """
    ids = rows["id"].astype(object)
    dnc = ids.isin(pd.Index(np.asarray(list(do_not_contact), dtype=object))).to_numpy()
    gone = ids.isin(pd.Index(np.asarray(list(churned_ids), dtype=object))).to_numpy() & ~dnc
    out = rows.loc[~(dnc | gone)].reset_index(drop=True)
    if (dnc | gone).any() and "rank" in out.columns:
        out["rank"] = np.arange(1, len(out) + 1, dtype=np.int64)
    counts = {"do_not_contact_at_export": int(dnc.sum()), "churned_at_export": int(gone.sum())}
    return out, {k: v for k, v in counts.items() if v}


def merge_counts(*counts: Mapping[str, int]) -> dict[str, int]:
    """Add suppression counts reason by reason."""
    out: dict[str, int] = {}
    for c in counts:
        for k, v in c.items():
            out[k] = out.get(k, 0) + int(v)
    return {k: v for k, v in out.items() if v}

"""The tables of one analysis run, read once and shared by segments, target lists and the report.

:func:`load_run` reads ``runs/<run_id>/`` (manifest, subscribers, communities,
influence seeds) and the workspace's graph tables, and joins the CRM attributes
(plan, ARPU, tenure, status, churn date) onto the run's subscribers by ``vid``.

Churn after ``as_of`` (``churned_after``) is the *label* used only to judge
predictions in the report; it is never an input to a segment or a list.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from bellwether.algorithms.churn import timeline
from bellwether.algorithms.crm import CRM_ABSENT_NOTE, crm_of_run, customers
from bellwether.graph.contact_graph import ContactGraph
from bellwether.graph.core.settings import DEFAULT_SEED
from bellwether.graph.core.workspace import Workspace, WorkspaceError, read_json

__all__ = ["RunTables", "load_run", "find_parameter", "CRM_COLUMNS", "CONTACT_COLUMNS"]

CRM_COLUMNS = ("kind", "plan", "arpu", "tenure_months", "region", "status", "churn_date")
CONTACT_COLUMNS = (
    "a_vid", "b_vid", "weight", "calls_ab", "calls_ba", "seconds_ab", "seconds_ba", "sms_ab", "sms_ba", "last_contact",
)


def find_parameter(data: Any, *names: str, default: Any = None) -> Any:
    """Return the first value found under any of ``names`` anywhere in nested dicts ``data``."""
    stack = [data]
    found: dict[str, Any] = {}
    while stack:
        item = stack.pop(0)
        if isinstance(item, dict):
            for key, value in item.items():
                if key in names and key not in found and not isinstance(value, dict):
                    found[key] = value
                if isinstance(value, dict):
                    stack.append(value)
    for name in names:
        if name in found and found[name] is not None:
            return found[name]
    return default


@dataclass
class RunTables:
    """One analysis run and the graph it was computed on.

    Attributes
    ----------
    workspace : Workspace
    run_dir : Path
    manifest : dict
        The run manifest (``runs/<id>/manifest.json``).
    subscribers : pandas.DataFrame
        RUN_SUBSCRIBERS columns plus the CRM columns and ``churned_after``
        (nullable bool: churned on or after ``as_of``; NA when unknown).
    communities, seeds : pandas.DataFrame
        COMMUNITIES and INFLUENCE_SEEDS tables.
    """

    workspace: Workspace
    run_dir: Path
    manifest: dict[str, Any]
    subscribers: pd.DataFrame
    communities: pd.DataFrame
    seeds: pd.DataFrame
    _contacts: pd.DataFrame | None = field(default=None, repr=False)

    @property
    def run_id(self) -> str:
        return str(self.manifest.get("run_id", self.run_dir.name))

    @property
    def as_of(self) -> pd.Timestamp:
        return pd.Timestamp(self.manifest.get("as_of") or self.graph_info.get("as_of"))

    @property
    def seed(self) -> int:
        return int(self.manifest.get("seed", DEFAULT_SEED) or DEFAULT_SEED)

    @property
    def recency_days(self) -> int:
        """Days before ``as_of`` in which a churner counts as recent (``churned_contacts``)."""
        return int(find_parameter(self.manifest.get("parameters", {}), "recency_days", "recent_days", "window_days", default=30))

    @cached_property
    def crm(self) -> str:
        """``"present"`` when the run had a subscriber (CRM) extract, ``"absent"`` otherwise."""
        return crm_of_run(self.manifest, self.subscribers)

    @property
    def crm_note(self) -> str | None:
        """Why value and churn are unknown (no CRM extract), or None when they are known."""
        return CRM_ABSENT_NOTE if self.crm == "absent" else None

    @cached_property
    def customers(self) -> np.ndarray:
        """Boolean mask (``vid`` order) of the subscribers treated as ours: on-net, or every person without CRM."""
        return customers(self.subscribers, self.crm)

    @property
    def has_labels(self) -> bool:
        """True when the CRM data know who churned after ``as_of`` (generator data, back-tests)."""
        return bool(self.subscribers["churned_after"].fillna(False).any())

    @cached_property
    def graph_info(self) -> dict[str, Any]:
        p = self.workspace.graph_info_path
        return read_json(p) if p.exists() else {}

    @cached_property
    def load_manifest(self) -> dict[str, Any]:
        p = self.workspace.manifest_path
        return read_json(p) if p.exists() else {}

    @cached_property
    def do_not_contact(self) -> np.ndarray:
        """Pseudonyms on the do-not-contact list (empty when the workspace has none)."""
        p = self.workspace.do_not_contact_path
        if not p.exists():
            return np.empty(0, dtype=object)
        return pq.read_table(p, columns=["id"]).column("id").to_numpy(zero_copy_only=False).astype(object)

    @property
    def contacts(self) -> pd.DataFrame:
        """The contact table (only the columns the marketing steps use), read on first use."""
        if self._contacts is None:
            names = set(pq.ParquetFile(self.workspace.contacts_path).schema_arrow.names)
            self._contacts = pq.read_table(
                self.workspace.contacts_path, columns=[c for c in CONTACT_COLUMNS if c in names]
            ).to_pandas()
        return self._contacts

    def graph(self) -> ContactGraph:
        """The contact graph (CRM subscribers + contacts) for algorithms that take a ContactGraph."""
        subs = self.subscribers[["vid", "id", "on_net", *[c for c in CRM_COLUMNS if c in self.subscribers]]]
        return ContactGraph(subs.reset_index(drop=True), self.contacts, dict(self.graph_info))


def _read(path: Path, what: str) -> pd.DataFrame:
    if not path.exists():
        raise WorkspaceError(f"Run table {path} is missing ({what}); re-run `bellwether analyze`.")
    return pq.read_table(path).to_pandas()


def load_run(workspace: Workspace | str | Path, run: str | None = None) -> RunTables:
    """Read the run ``run`` (default: the latest) of ``workspace``.

    Raises
    ------
    WorkspaceError
        No graph, no such run, or a run table is missing.
    """
    ws = workspace if isinstance(workspace, Workspace) else Workspace(Path(workspace))
    ws.require_graph()
    run_dir = ws.run_dir(run)
    manifest = read_json(run_dir / "manifest.json")
    subs = _read(run_dir / "subscribers.parquet", "subscribers")
    communities = _read(run_dir / "communities.parquet", "communities")
    seeds_path = run_dir / "influence_seeds.parquet"
    seeds = pq.read_table(seeds_path).to_pandas() if seeds_path.exists() else pd.DataFrame(
        {"rank": pd.Series(dtype="int64"), "vid": pd.Series(dtype="int64"), "id": pd.Series(dtype="string"),
         "marginal_gain": pd.Series(dtype="float64"), "cumulative_spread": pd.Series(dtype="float64")}
    )
    names = set(pq.ParquetFile(ws.subscribers_path).schema_arrow.names)
    crm = pq.read_table(ws.subscribers_path, columns=["vid", *[c for c in CRM_COLUMNS if c in names]]).to_pandas()
    subs = subs.sort_values("vid", kind="stable").reset_index(drop=True)
    crm = crm.set_index("vid").reindex(subs["vid"].to_numpy())
    for col in crm.columns:
        if col not in subs.columns:
            subs[col] = crm[col].to_numpy()
    as_of = pd.Timestamp(manifest.get("as_of") or (read_json(ws.graph_info_path).get("as_of") if ws.graph_info_path.exists() else None))
    subs["churned_after"] = churned_after(subs, as_of, find_parameter(manifest.get("parameters", {}), "horizon_days"))
    return RunTables(ws, run_dir, manifest, subs, communities, seeds)


def churned_after(subs: pd.DataFrame, as_of: pd.Timestamp, horizon_days: int | None = None) -> pd.Series:
    """Churn label after ``as_of``: True/False for subscribers alive at ``as_of``, NA otherwise.

    NA everywhere when no churn date falls on or after ``as_of`` (the CRM data do not know
    the future yet).  With ``horizon_days`` only churn in ``[as_of, as_of + horizon)`` counts, the
    window ``evaluate`` judges against (:func:`bellwether.algorithms.churn.timeline.evaluation_labels`).
    """
    n = len(subs)
    if "churn_date" not in subs.columns or pd.isna(as_of):
        return pd.Series(pd.array([pd.NA] * n, dtype="boolean"))
    dates = timeline.churn_dates(subs)
    if not timeline.evaluation_labels(dates, as_of, None).any():
        return pd.Series(pd.array([pd.NA] * n, dtype="boolean"))
    after = timeline.evaluation_labels(dates, as_of, horizon_days or None)
    if not after.any():
        return pd.Series(pd.array([pd.NA] * n, dtype="boolean"))
    alive = ~subs["churned"].to_numpy(bool, na_value=False) & subs["on_net"].to_numpy(bool, na_value=False)
    out = pd.array(after, dtype="boolean")
    out[~alive] = pd.NA
    return pd.Series(out)

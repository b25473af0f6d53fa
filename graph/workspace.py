"""The local workspace: a directory that holds one operator's graph and its analysis runs.

Layout::

    WORKSPACE/
      manifest.json             load manifest: inputs by content hash, counts, rejects per reason
      records/                  normalised, pseudonymised records, one Parquet file per input
      quarantine/               rejected rows with file, line, column, value and reason
      subscribers/              normalised subscriber extracts (CRM), pseudonymised
      do_not_contact.parquet    pseudonyms that must never be targeted
      graph/
        graph.json              how the graph tables were built (as_of, window, counts, parameters)
        subscribers.parquet     vertices (graph.schema.SUBSCRIBERS)
        contacts.parquet        edges (graph.schema.CONTACTS)
        service_numbers.parquet numbers kept out of the graph (graph.schema.SERVICE_NUMBERS)
      runs/
        <run_id>/               one analysis run: manifest.json plus its tables, lists and report

Only paths live here; what goes into each file belongs to the step that writes it.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from graph.errors import BellwetherError


class WorkspaceError(BellwetherError):
    """A workspace is missing, incomplete or not what a step expected."""


@dataclass(frozen=True)
class Workspace:
    """Paths of a local workspace rooted at ``root``."""

    root: Path

    def __post_init__(self) -> None:
        object.__setattr__(self, "root", Path(self.root).expanduser().resolve())

    # --- load side -------------------------------------------------------
    @property
    def manifest_path(self) -> Path:
        return self.root / "manifest.json"

    @property
    def records_dir(self) -> Path:
        return self.root / "records"

    @property
    def quarantine_dir(self) -> Path:
        return self.root / "quarantine"

    @property
    def subscriber_extracts_dir(self) -> Path:
        return self.root / "subscribers"

    @property
    def do_not_contact_path(self) -> Path:
        return self.root / "do_not_contact.parquet"

    # --- graph tables ----------------------------------------------------
    @property
    def graph_dir(self) -> Path:
        return self.root / "graph"

    @property
    def graph_info_path(self) -> Path:
        return self.graph_dir / "graph.json"

    @property
    def subscribers_path(self) -> Path:
        return self.graph_dir / "subscribers.parquet"

    @property
    def contacts_path(self) -> Path:
        return self.graph_dir / "contacts.parquet"

    @property
    def service_numbers_path(self) -> Path:
        return self.graph_dir / "service_numbers.parquet"

    # --- analysis runs ---------------------------------------------------
    @property
    def runs_dir(self) -> Path:
        return self.root / "runs"

    def create(self) -> "Workspace":
        """Create the directory skeleton (idempotent) and return self."""
        for d in (self.root, self.records_dir, self.quarantine_dir, self.subscriber_extracts_dir,
                  self.graph_dir, self.runs_dir):
            d.mkdir(parents=True, exist_ok=True)
        return self

    def has_graph(self) -> bool:
        return self.subscribers_path.exists() and self.contacts_path.exists()

    def require_graph(self) -> None:
        """Raise :class:`WorkspaceError` saying what to run when there is no graph yet."""
        if not self.has_graph():
            raise WorkspaceError(
                f"No contact graph in workspace {self.root}. "
                f"Run `bellwether build CDR_FILES --workspace {self.root}` first."
            )

    def new_run_dir(self, label: str | None = None) -> Path:
        """Create and return a fresh run directory named by UTC time (and an optional label)."""
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S")
        name = stamp if not label else f"{stamp}-{re.sub(r'[^A-Za-z0-9_.-]+', '-', label)}"
        path = self.runs_dir / name
        n = 1
        while path.exists():
            n += 1
            path = self.runs_dir / f"{name}.{n}"
        path.mkdir(parents=True)
        return path

    def run_dirs(self) -> list[Path]:
        """Run directories that hold a manifest, oldest first."""
        if not self.runs_dir.exists():
            return []
        return sorted(p for p in self.runs_dir.iterdir() if (p / "manifest.json").exists())

    def run_dir(self, run: str | None = None) -> Path:
        """Return the run directory named ``run``, or the latest run when ``run`` is None."""
        runs = self.run_dirs()
        if run is None:
            if not runs:
                raise WorkspaceError(
                    f"No analysis run in workspace {self.root}. "
                    f"Run `bellwether analyze --workspace {self.root}` first."
                )
            return runs[-1]
        path = self.runs_dir / run
        if not (path / "manifest.json").exists():
            known = ", ".join(p.name for p in runs) or "none"
            raise WorkspaceError(f"No run {run!r} in {self.runs_dir} (runs: {known}).")
        return path


def read_json(path: Path) -> dict[str, Any]:
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


def write_json(path: Path, data: dict[str, Any]) -> None:
    """Write ``data`` as indented JSON atomically (write a temp file, then rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(data, fh, indent=2, sort_keys=True, default=str)
        fh.write("\n")
    os.replace(tmp, path)

"""Read the target lists of a workspace's runs: what ``bellwether serve`` answers over HTTP.

A run's lists are the files ``bellwether targets`` wrote into ``runs/<id>/lists/``,
each with its sidecar ``<file>.manifest.json`` (list name, version, format, rows,
rows held back).  This module only reads them; it never rebuilds a list, so what
marketing pulls over HTTP is byte for byte what was exported and suppressed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from graph.errors import BellwetherError
from graph.exports import read_table
from graph.workspace import Workspace, read_json

__all__ = ["ListNotFound", "ListService"]

MANIFEST_SUFFIX = ".manifest.json"


class ListNotFound(BellwetherError):
    """The run or the list asked for does not exist (HTTP 404)."""


@dataclass(frozen=True)
class ListService:
    """Runs and target lists of one workspace, read from disk on every call (new runs show up at once)."""

    workspace: Workspace

    def runs(self) -> list[dict[str, Any]]:
        """One entry per analysis run, newest first: id, as_of, created, names of its lists."""
        out = []
        for run_dir in reversed(self.workspace.run_dirs()):
            manifest = read_json(run_dir / "manifest.json")
            out.append({
                "run": run_dir.name,
                "as_of": manifest.get("as_of"),
                "created": manifest.get("created"),
                "lists": [m["name"] for m in self._manifests(run_dir)],
            })
        return out

    def run_dir(self, run: str) -> Path:
        """The directory of ``run`` (``latest`` = the newest run)."""
        runs = self.workspace.run_dirs()
        if run == "latest":
            if not runs:
                raise ListNotFound(f"No analysis run in workspace {self.workspace.root} yet.")
            return runs[-1]
        for r in runs:
            if r.name == run:
                return r
        raise ListNotFound(f"No run {run!r} in workspace {self.workspace.root}.")

    def lists(self, run: str) -> list[dict[str, Any]]:
        """The sidecar manifests of a run's lists (without the per-column details)."""
        keep = ("name", "list", "list_version", "rows", "format", "created", "as_of", "suppressed_total", "score")
        return [{k: m.get(k) for k in keep if k in m} for m in self._manifests(self.run_dir(run))]

    def read(self, run: str, name: str) -> tuple[pd.DataFrame, dict[str, Any]]:
        """The rows of list ``name`` of ``run`` as exported, and its sidecar manifest."""
        run_dir = self.run_dir(run)
        for manifest in self._manifests(run_dir):
            if manifest["name"] == name:
                return read_table(run_dir / "lists" / manifest["path"]), manifest
        names = [m["name"] for m in self._manifests(run_dir)]
        hint = f"; lists of this run: {', '.join(names)}" if names else "; run `bellwether targets` first"
        raise ListNotFound(f"No list {name!r} in run {run_dir.name}{hint}.")

    @staticmethod
    def _manifests(run_dir: Path) -> list[dict[str, Any]]:
        lists = run_dir / "lists"
        if not lists.is_dir():
            return []
        out = []
        for side in sorted(lists.glob(f"*{MANIFEST_SUFFIX}")):
            manifest = read_json(side)
            manifest.setdefault("path", side.name[: -len(MANIFEST_SUFFIX)])
            manifest.setdefault("name", manifest.get("list", Path(manifest["path"]).stem))
            out.append(manifest)
        return out


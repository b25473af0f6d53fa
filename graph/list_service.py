"""Read the target lists of a workspace's runs: what ``bellwether serve`` answers over HTTP.

A run's lists are the files ``bellwether targets`` wrote into ``runs/<id>/lists/``,
each with its sidecar ``<file>.manifest.json`` (list name, version, format, rows,
rows held back).  This module never rebuilds a list: what marketing pulls over HTTP
is what was exported and suppressed, minus anyone on the workspace's do-not-contact
list *now*.  That list is read again at every request (cached while its file is
unchanged), so a do-not-contact entry added after the export is never served, and
it is fail-closed: when it cannot be read no list is served at all
(:class:`ListsUnavailable`, HTTP 503).  A CSV list is served from the exported
file's bytes: byte for byte the file when nobody is held back, else the file
without the lines of the people held back.
"""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from graph.errors import BellwetherError
from graph.exports import read_table
from graph.workspace import Workspace, read_json

__all__ = ["ListNotFound", "ListsUnavailable", "ListService", "ServedList"]

MANIFEST_SUFFIX = ".manifest.json"


class ListNotFound(BellwetherError):
    """The run or the list asked for does not exist (HTTP 404)."""


class ListsUnavailable(BellwetherError):
    """The do-not-contact list cannot be read, so no list may be served (HTTP 503)."""


@dataclass(frozen=True)
class ServedList:
    """One list as served: its rows after the do-not-contact check, and what was held back.

    ``version`` is the list version when nobody was held back, else the list version
    and a hash of the ids held back (the HTTP ``ETag``).
    """

    rows: pd.DataFrame
    manifest: dict[str, Any]
    path: Path
    held_back: frozenset[str]
    version: str


@dataclass(frozen=True)
class ListService:
    """Runs and target lists of one workspace, read from disk on every call (new runs show up at once)."""

    workspace: Workspace
    _dnc_cache: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

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

    def do_not_contact(self) -> frozenset[str]:
        """The workspace's do-not-contact ids now (re-read whenever the file changes).

        Raises
        ------
        ListsUnavailable
            The list cannot be read (see :func:`loaders.do_not_contact.current_do_not_contact`).
        """
        from loaders.do_not_contact import DoNotContactUnavailable, current_do_not_contact

        path = self.workspace.do_not_contact_path
        try:
            st = path.stat()
            stamp = (st.st_ino, st.st_mtime_ns, st.st_size)
        except FileNotFoundError:
            stamp = None
        cached = self._dnc_cache.get("entry")  # (stamp, ids), replaced as one value: safe across request threads
        if stamp is not None and cached is not None and cached[0] == stamp:
            return cached[1]
        try:
            ids = current_do_not_contact(self.workspace)
        except DoNotContactUnavailable as exc:
            raise ListsUnavailable(str(exc)) from None
        if stamp is not None:
            self._dnc_cache["entry"] = (stamp, ids)
        return ids

    def served(self, run: str, name: str) -> ServedList:
        """List ``name`` of ``run`` as exported, minus anyone on the do-not-contact list now."""
        path, manifest = self._find(run, name)
        dnc = self.do_not_contact()
        df = read_table(path)
        held: frozenset[str] = frozenset()
        if dnc and "id" in df.columns:
            hit = df["id"].astype(str).isin(dnc).to_numpy(bool)
            if hit.any():
                held = frozenset(df.loc[hit, "id"].astype(str))
                df = df.loc[~hit].reset_index(drop=True)
        version = str(manifest.get("list_version", ""))
        if held:
            version += "-" + hashlib.sha256("\n".join(sorted(held)).encode()).hexdigest()[:8]
        return ServedList(df, manifest, path, held, version)

    def read(self, run: str, name: str) -> tuple[pd.DataFrame, dict[str, Any]]:
        """The rows of list ``name`` of ``run`` as served (:meth:`served`), and its sidecar manifest."""
        s = self.served(run, name)
        return s.rows, s.manifest

    def csv_bytes(self, served: ServedList, offset: int = 0, limit: int | None = None) -> bytes:
        """The CSV of a served list: the exported file's bytes without the lines held back, then paged.

        With nobody held back and no paging this is the exported file byte for byte; a list
        exported in another format is written as CSV from its rows.
        """
        if served.path.suffix.lower() != ".csv":
            return served.rows.iloc[offset: None if limit is None else offset + limit].to_csv(index=False).encode("utf-8")
        raw = served.path.read_bytes()
        if not served.held_back and offset == 0 and limit is None:
            return raw
        header, records = _csv_records(raw.decode("utf-8"))
        if served.held_back:
            idx = next(csv.reader([header])).index("id")
            records = [r for r in records if _field(r, idx) not in served.held_back]
        part = records[offset: None if limit is None else offset + limit]
        return (header + "".join(part)).encode("utf-8")

    def _find(self, run: str, name: str) -> tuple[Path, dict[str, Any]]:
        run_dir = self.run_dir(run)
        for manifest in self._manifests(run_dir):
            if manifest["name"] == name:
                return run_dir / "lists" / manifest["path"], manifest
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


def _csv_records(text: str) -> tuple[str, list[str]]:
    """The header and the records of CSV text, each as its exact text (a quoted field may span lines)."""
    lines: list[str] = []

    def feed():
        for line in io.StringIO(text, newline=""):
            lines.append(line)
            yield line

    reader = csv.reader(feed())
    ends = [len(lines) for _ in reader]
    header = "".join(lines[: ends[0]]) if ends else ""
    records = ["".join(lines[a:b]) for a, b in zip(ends, ends[1:])]
    return header, records


def _field(record: str, idx: int) -> str | None:
    """Field ``idx`` of one CSV record (None when it has fewer fields)."""
    row = next(csv.reader([record]), [])
    return row[idx] if idx < len(row) else None

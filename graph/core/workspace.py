"""The local workspace: a directory that holds one operator's graph and its analysis runs.

Layout::

    WORKSPACE/
      manifest.json             load manifest: inputs by content hash, counts, rejects per reason
      records/                  normalised, pseudonymised records, one Parquet file per input
      quarantine/               rejected rows with file, line, column, value and reason
      subscribers/              normalised subscriber extracts (CRM), pseudonymised
      do_not_contact.parquet    pseudonyms that must never be targeted
      .lock                     held (flock) by the process writing the workspace; names it
      graph -> graph-<stamp>    symlink to the published graph directory
      graph-<stamp>/
        graph.json              how the graph tables were built (as_of, window, counts, parameters); written last
        subscribers.parquet     vertices (graph.schema.SUBSCRIBERS)
        contacts.parquet        edges (graph.schema.CONTACTS)
        service_numbers.parquet numbers kept out of the graph (graph.schema.SERVICE_NUMBERS)
      runs/
        <run_id>/               one analysis run: manifest.json plus its tables, lists and report

Graph tables are published all or nothing (:meth:`Workspace.writing_graph`): a
new graph is written into a fresh ``graph-<stamp>/`` directory, ``graph.json``
last, then the ``graph`` symlink is swapped to it in one ``rename``, so a reader
(or a process killed mid-build) sees either the old graph or the new one.  A
reader resolves the symlink once (:meth:`Workspace.graph_files`) to read one
graph even while another is published.  Older workspaces have a real ``graph/``
directory; the first publication moves it to a ``graph-legacy-<stamp>/``.

Only paths and the publication of the graph directory live here; what goes
into each file belongs to the step that writes it.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import socket
import time
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator

from bellwether.graph.core.errors import BellwetherError
from bellwether.graph.core.faults import crash_point


class WorkspaceError(BellwetherError):
    """A workspace is missing, incomplete or not what a step expected."""


_HELD: dict[Path, int] = {}  # workspace roots whose lock this process holds -> nesting depth


@dataclass(frozen=True)
class GraphFiles:
    """The files of one graph directory: the published ``WORKSPACE/graph`` or a ``graph-<stamp>`` being written."""

    dir: Path

    @property
    def info_path(self) -> Path:
        return self.dir / "graph.json"

    @property
    def subscribers_path(self) -> Path:
        return self.dir / "subscribers.parquet"

    @property
    def contacts_path(self) -> Path:
        return self.dir / "contacts.parquet"

    @property
    def service_numbers_path(self) -> Path:
        return self.dir / "service_numbers.parquet"


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

    @property
    def lock_path(self) -> Path:
        return self.root / ".lock"

    # --- graph tables ----------------------------------------------------
    @property
    def graph_dir(self) -> Path:
        """``WORKSPACE/graph``: a symlink to the published graph directory (a real directory in older workspaces)."""
        return self.root / "graph"

    @property
    def graph_info_path(self) -> Path:
        return GraphFiles(self.graph_dir).info_path

    @property
    def subscribers_path(self) -> Path:
        return GraphFiles(self.graph_dir).subscribers_path

    @property
    def contacts_path(self) -> Path:
        return GraphFiles(self.graph_dir).contacts_path

    @property
    def service_numbers_path(self) -> Path:
        return GraphFiles(self.graph_dir).service_numbers_path

    def graph_files(self) -> GraphFiles:
        """The files of the published graph with the symlink resolved now: read them all from here to read one graph."""
        return GraphFiles(self.graph_dir.resolve())

    def graph_info(self) -> dict[str, Any] | None:
        """The published ``graph.json``, or None when there is none."""
        path = self.graph_files().info_path
        return read_json(path) if path.exists() else None

    # --- analysis runs ---------------------------------------------------
    @property
    def runs_dir(self) -> Path:
        return self.root / "runs"

    def create(self) -> "Workspace":
        """Create the directory skeleton (idempotent) and return self; ``graph`` links to an empty graph directory."""
        for d in (self.root, self.records_dir, self.quarantine_dir, self.subscriber_extracts_dir, self.runs_dir):
            d.mkdir(parents=True, exist_ok=True)
        if not self.graph_dir.is_dir():  # absent, or a symlink to a directory that is gone
            self._link_graph(self.new_graph_dir().dir)
        return self

    # --- writing: one writer at a time, graphs published all or nothing ---
    @contextmanager
    def lock(self, command: str) -> Iterator[None]:
        """Hold the workspace's write lock while the block runs, or raise :class:`WorkspaceError` at once.

        An exclusive ``flock`` on ``WORKSPACE/.lock``, which records the holder (pid, host,
        command, start time) for the message another process gets.  The kernel releases it
        when the holder exits or dies, so a killed process never leaves it stale.  Re-entrant
        within one process (a build holds it, and the graph build inside takes it again).
        """
        if self.root in _HELD:
            _HELD[self.root] += 1
            try:
                yield
            finally:
                _HELD[self.root] -= 1
            return
        self.root.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise WorkspaceError(self._busy_message(fd)) from None
            holder = {"pid": os.getpid(), "host": socket.gethostname(), "command": command,
                      "since": datetime.now().astimezone().isoformat(timespec="seconds")}
            os.ftruncate(fd, 0)
            os.pwrite(fd, (json.dumps(holder) + "\n").encode(), 0)
            _HELD[self.root] = 1
            try:
                yield
            finally:
                del _HELD[self.root]
                os.ftruncate(fd, 0)
        finally:
            os.close(fd)  # releases the lock

    def _busy_message(self, fd: int) -> str:
        """One line naming the process that holds the lock on ``fd`` (as it recorded itself)."""
        who = "another process"
        for _ in range(50):  # the holder records itself just after it takes the lock: give it a moment
            try:
                h = json.loads(os.pread(fd, 4096, 0).decode())
                who = f"`{h['command']}` (pid {h['pid']} on {h['host']}, since {h['since']})"
                break
            except (ValueError, KeyError, TypeError):
                time.sleep(0.02)
        return (f"Workspace {self.root} is in use by {who}; "
                f"wait for it to finish, or stop it, then run this again.")

    @contextmanager
    def writing_graph(self, command: str) -> Iterator[GraphFiles]:
        """Write a new graph under the lock: fill the yielded empty directory (``graph.json`` last), then it is published.

        On an error in the block the new directory is removed and the published graph stays.
        """
        with self.lock(command):
            self.prune_graph_dirs()
            new = self.new_graph_dir()
            try:
                yield new
                if not new.info_path.exists():
                    raise WorkspaceError(f"Graph directory {new.dir} has no graph.json; not published.")
            except BaseException:
                shutil.rmtree(new.dir, ignore_errors=True)
                raise
            self.publish_graph(new)

    def new_graph_dir(self) -> GraphFiles:
        """Create an empty, unpublished ``graph-<UTC stamp>-<pid>`` directory."""
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%f")
        path = self.root / f"graph-{stamp}-{os.getpid()}"
        path.mkdir(parents=True)
        return GraphFiles(path)

    def publish_graph(self, new: GraphFiles) -> None:
        """Make the complete directory ``new`` the published graph in one atomic step (call under :meth:`lock`).

        Flushes its files, swaps the ``graph`` symlink with ``rename``, then removes the
        graph directories other than ``new`` and the one it replaced (kept for readers that
        resolved it just before the swap; removed by the next publication).
        """
        _fsync_tree(new.dir)
        if self.graph_dir.is_dir() and not self.graph_dir.is_symlink():  # legacy layout: move, then link
            stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%f")
            legacy = self.root / f"graph-legacy-{stamp}"
            os.rename(self.graph_dir, legacy)
            crash_point("graph.legacy_moved")
            self._link_graph(legacy)
        old = self.graph_dir.resolve() if self.graph_dir.exists() else None
        crash_point("graph.before_swap")
        self._link_graph(new.dir)
        crash_point("graph.after_swap")
        _fsync_dir(self.root)
        crash_point("graph.before_cleanup")
        self.prune_graph_dirs(keep=old)

    def prune_graph_dirs(self, keep: Path | None = None) -> None:
        """Remove graph directories that are not published: leftovers of a killed or failed build (call under :meth:`lock`).

        ``keep``, when complete (it has ``graph.json``), is kept too.
        """
        current = self.graph_dir.resolve() if self.graph_dir.exists() else None
        for p in self.root.glob("graph-*"):
            if p.is_symlink() or not p.is_dir() or p == current:
                continue
            if p == keep and GraphFiles(p).info_path.exists():
                continue
            shutil.rmtree(p, ignore_errors=True)
        for p in self.root.glob(".graph.*.tmp"):
            p.unlink(missing_ok=True)

    def _link_graph(self, target: Path) -> None:
        """Point ``graph`` at ``target`` (a sibling directory) atomically: a temp symlink renamed over it."""
        tmp = self.root / f".graph.{os.getpid()}.tmp"
        tmp.unlink(missing_ok=True)
        os.symlink(target.name, tmp)  # relative, so the workspace can be moved
        os.replace(tmp, self.graph_dir)

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


def _fsync_dir(path: Path) -> None:
    """Flush a directory's entries (names created or renamed in it) to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_tree(path: Path) -> None:
    """Flush a directory's files, then the directory, to disk: a power loss after publishing cannot leave them partial."""
    for p in path.iterdir():
        if p.is_file():
            fd = os.open(p, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
    _fsync_dir(path)


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

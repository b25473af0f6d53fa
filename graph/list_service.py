"""The target lists of a workspace's runs, and the HTTP service that ``bellwether serve`` runs.

A run's lists are the files ``bellwether targets`` wrote into ``runs/<id>/lists/``,
each with its sidecar ``<file>.manifest.json`` (list name, version, format, rows,
rows held back).  This module never rebuilds a list: what marketing pulls over HTTP
is what was exported and suppressed, minus anyone on the workspace's do-not-contact
list *now*.  That list is read again at every request (cached while its file is
unchanged), so a do-not-contact entry added after the export is never served, and
it is fail-closed: when it cannot be read no list is served at all
(:class:`ListsUnavailable`, HTTP 503).  A CSV list is served from the exported
file's bytes: byte for byte the file when nobody is held back, else the file
without the lines of the people held back.  ``GET /runs/{run}/lists`` counts each
list's rows the same way: the rows that would be served now, and how many the
current do-not-contact list withholds.

Each sidecar is read on its own: a malformed one (not JSON, wrong field types, a
``path`` that leaves the run's ``lists/`` directory or names no regular file there)
makes that one list unreadable (:class:`ListUnreadable`, HTTP 500 for that list;
``/runs`` and ``/runs/{run}/lists`` still answer and name it under ``unreadable``).
Only files whose real path (symlinks resolved) lies inside the run's ``lists/``
directory are ever read.

:func:`create_app` builds the HTTP API on FastAPI (OpenAPI schema at
``/openapi.json``); :func:`serve` runs it under uvicorn on a socket bound by
:func:`bind`, after :func:`check_exposure` refused to listen beyond loopback
without a token.  No response carries a filesystem path: the details of a failure
go to the server log.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import ipaddress
import json
import logging
import re
import socket
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Annotated, Any, Literal

import anyio
import pandas as pd
from fastapi import Depends, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from bellwether.graph.core.errors import BellwetherError
from bellwether.graph.exports import read_table
from bellwether.graph.core.workspace import Workspace, read_json

__all__ = [
    "BACKLOG", "HEAD_TIMEOUT_SECONDS", "KEEP_ALIVE_SECONDS", "REQUEST_TIMEOUT_SECONDS", "ListNotFound", "ListService", "ListUnreadable",
    "ListsUnavailable", "ServeRefused", "ServedList", "bind", "check_exposure", "create_app", "make_server", "serve",
]

MANIFEST_SUFFIX = ".manifest.json"
LIST_SUFFIXES = (".csv", ".parquet", ".jsonl")
_TOKEN_CHARS = re.compile(r"[A-Za-z0-9._-]*")  # what a list version (the ETag) may hold

# uvicorn settings of `bellwether serve` (see :func:`serve`)
BACKLOG = 2048                  # pending connections the kernel queues (a backlog of 5 made clients wait for SYN retries)
KEEP_ALIVE_SECONDS = 5          # an idle keep-alive connection is closed after this
HEAD_TIMEOUT_SECONDS = 10.0     # a connection that has not sent a complete request head by then is closed
REQUEST_TIMEOUT_SECONDS = 30.0  # a request still unanswered after this gets 503
MAX_CONNECTIONS = 1000          # beyond this many open connections uvicorn answers 503 at once
CACHE_ENTRIES = 16              # lists kept parsed in memory (keyed by their files' size and mtime)
CACHE_MAX_BYTES = 64 << 20      # a list file larger than this is read again at every request
WORKER_THREADS = 4              # threads reading lists (requests beyond wait their turn, in order)
PAGES_KEPT = 64                 # JSON pages kept per cached list (the first ones asked for)

log = logging.getLogger("bellwether.serve")
_WARNED: set[tuple[Path, str]] = set()


class ListNotFound(BellwetherError):
    """The run or the list asked for does not exist (HTTP 404)."""


class ListsUnavailable(BellwetherError):
    """The do-not-contact list cannot be read, so no list may be served (HTTP 503)."""


class ListUnreadable(BellwetherError):
    """One list's sidecar or file is malformed or outside its run's ``lists/`` directory (HTTP 500, that list only).

    The message names the list and the fault, never a filesystem path; ``fault`` is the fault alone
    (what ``unreadable`` entries say).
    """

    def __init__(self, message: str, fault: str | None = None):
        super().__init__(message)
        self.fault = fault or message


class ServeRefused(BellwetherError):
    """``bellwether serve`` will not start as asked (beyond loopback without a token, port taken)."""


@dataclass(frozen=True)
class ServedList:
    """One list as served: its rows after the do-not-contact check, and what was held back.

    ``version`` is the list version when nobody was held back, else the list version
    and a hash of the ids held back (the HTTP ``ETag``).  ``path`` is the real path of
    the exported file (inside the run's ``lists/`` directory); never sent to a client.
    """

    rows: pd.DataFrame
    manifest: dict[str, Any]
    path: Path
    held_back: frozenset[str]
    version: str
    raw: bytes | None = None  # the exported file's bytes (CSV lists), as read with ``rows``
    pages: dict[Any, bytes] = field(default_factory=dict, compare=False, repr=False)
    """Responses made from exactly these rows (memo, kept while the file and the do-not-contact set are unchanged)."""


@dataclass(frozen=True)
class _Sidecar:
    """One sidecar of a run's ``lists/`` directory: its manifest and real file path, or why it cannot be served."""

    name: str
    manifest: dict[str, Any] | None = None
    path: Path | None = None
    error: str | None = None


# sidecar field -> accepted types (when present); a sidecar breaking one is malformed
_FIELD_TYPES: dict[str, tuple[type, ...]] = {
    "name": (str,), "list": (str,), "path": (str,), "format": (str,), "list_version": (str,),
    "rows": (int,), "suppressed_total": (int,), "created": (str,), "as_of": (str,), "score": (str,),
    "columns": (list,), "column_types": (dict,), "run_id": (str,),
}


@dataclass(frozen=True)
class ListService:
    """Runs and target lists of one workspace, read from disk on every call (new runs show up at once).

    Parsed list files are cached while their size and modification time stay the same;
    the do-not-contact list is checked on every call all the same.
    """

    workspace: Workspace
    _dnc_cache: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)
    _tables: OrderedDict = field(default_factory=OrderedDict, compare=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, compare=False, repr=False)

    def runs(self) -> list[dict[str, Any]]:
        """One entry per analysis run, newest first: id, as_of, created, its lists and the unreadable ones.

        A run whose ``manifest.json`` cannot be read is still listed, with ``error`` set.
        """
        out = []
        for run_dir in reversed(self.workspace.run_dirs()):
            entry: dict[str, Any] = {"run": run_dir.name, "as_of": None, "created": None}
            try:
                manifest = read_json(run_dir / "manifest.json")
                if not isinstance(manifest, dict):
                    raise ValueError("not a JSON object")
                entry["as_of"] = _text(manifest.get("as_of"))
                entry["created"] = _text(manifest.get("created"))
            except (OSError, ValueError) as exc:
                if (run_dir, str(exc)) not in _WARNED:
                    _WARNED.add((run_dir, str(exc)))
                    log.warning("run manifest %s cannot be read: %s", run_dir / "manifest.json", exc)
                entry["error"] = f"the run manifest cannot be read ({exc.__class__.__name__})"
            sidecars = self._sidecars(run_dir)
            entry["lists"] = [s.name for s in sidecars if s.error is None]
            entry["unreadable"] = [{"name": s.name, "error": s.error} for s in sidecars if s.error is not None]
            out.append(entry)
        return out

    def run_dir(self, run: str) -> Path:
        """The directory of ``run`` (``latest`` = the newest run)."""
        runs = self.workspace.run_dirs()
        if run == "latest":
            if not runs:
                raise ListNotFound("No analysis run in this workspace yet; run `bellwether analyze` first.")
            return runs[-1]
        for r in runs:
            if r.name == run:
                return r
        raise ListNotFound(f"No run {run!r} in this workspace; GET /runs names the runs.")

    def lists(self, run: str) -> list[dict[str, Any]]:
        """The run's servable lists: sidecar summary, with ``rows`` counted as they would be served now.

        See :meth:`catalogue`; raises :class:`ListsUnavailable` when the do-not-contact list cannot be read.
        """
        return self.catalogue(run)[0]

    def unreadable(self, run: str) -> list[dict[str, str]]:
        """The lists of a run that cannot be served, name and why (no paths): a malformed sidecar, or a list
        file that cannot be read.  Raises :class:`ListsUnavailable` like :meth:`lists`."""
        return self.catalogue(run)[1]

    def catalogue(self, run: str) -> tuple[list[dict[str, Any]], list[dict[str, str]]]:
        """The run's lists as they would be served now, and the ones that cannot be served.

        Each list is its sidecar summary (name, version, format, created, as_of, how it is ranked,
        ``suppressed_total`` held back at export) with ``rows`` = the rows served now, after the
        do-not-contact list as it is now (:meth:`served`), ``held_back`` = how many of the exported
        rows that withholds, and ``exported_rows`` = the sidecar's count.  A list whose file cannot be
        read is named with the unreadable ones.  Raises :class:`ListsUnavailable` when the do-not-contact
        list cannot be read (no count can be trusted then, and no list is served).
        """
        keep = ("name", "list", "list_version", "format", "created", "as_of", "suppressed_total", "score")
        servable, broken = [], []
        for s in self._sidecars(self.run_dir(run)):
            if s.error is not None:
                broken.append({"name": s.name, "error": s.error})
                continue
            try:
                now = self.served(run, s.name)
            except ListUnreadable as exc:
                broken.append({"name": s.name, "error": exc.fault})
                continue
            entry = {k: s.manifest.get(k) for k in keep if k in s.manifest}
            entry.update(rows=len(now.rows), held_back=len(now.held_back), exported_rows=s.manifest.get("rows"))
            servable.append(entry)
        return servable, broken

    def do_not_contact(self) -> frozenset[str]:
        """The workspace's do-not-contact ids now (re-read whenever the file changes).

        Raises
        ------
        ListsUnavailable
            The list cannot be read (see :func:`bellwether.loaders.do_not_contact.current_do_not_contact`).
        """
        from bellwether.loaders.do_not_contact import DoNotContactUnavailable, current_do_not_contact

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
        df, raw, filtered = self._table(path, name)
        memo = filtered.get("dnc")  # (the do-not-contact set it was filtered with, rows, held back)
        if memo is not None and memo[0] is dnc:  # the same list as at the last request: same result
            df, held, pages = memo[1], memo[2], memo[3]
        else:
            pages: dict[Any, bytes] = {}
            held: frozenset[str] = frozenset()
            if dnc and "id" in df.columns:
                hit = df["id"].astype(str).isin(dnc).to_numpy(bool)
                if hit.any():
                    held = frozenset(df.loc[hit, "id"].astype(str))
                    df = df.loc[~hit].reset_index(drop=True)
            filtered["dnc"] = (dnc, df, held, pages)  # one value replaced at once: safe across request threads
        version = str(manifest.get("list_version", ""))
        if held:
            version += "-" + hashlib.sha256("\n".join(sorted(held)).encode()).hexdigest()[:8]
        return ServedList(df, manifest, path, held, version, raw, pages)

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
        raw = served.raw if served.raw is not None else served.path.read_bytes()
        if not served.held_back and offset == 0 and limit is None:
            return raw
        header, records = _csv_records(raw.decode("utf-8"))
        if served.held_back:
            idx = next(csv.reader([header])).index("id")
            records = [r for r in records if _field(r, idx) not in served.held_back]
        part = records[offset: None if limit is None else offset + limit]
        return (header + "".join(part)).encode("utf-8")

    # -- internals ---------------------------------------------------------------------------

    def _find(self, run: str, name: str) -> tuple[Path, dict[str, Any]]:
        run_dir = self.run_dir(run)
        sidecars = self._sidecars(run_dir)
        for s in sidecars:
            if s.name == name:
                if s.error is not None:
                    raise ListUnreadable(f"List {name!r} of run {run_dir.name} cannot be served: {s.error}.")
                return s.path, s.manifest
        names = [s.name for s in sidecars]
        hint = f"; lists of this run: {', '.join(names)}" if names else "; run `bellwether targets` first"
        raise ListNotFound(f"No list {name!r} in run {run_dir.name}{hint}.")

    def _sidecars(self, run_dir: Path) -> list[_Sidecar]:
        """Every sidecar of the run's ``lists/`` directory, each read and checked on its own (first of a name wins)."""
        lists = run_dir / "lists"
        if not lists.is_dir():
            return []
        inside = (self.workspace.runs_dir.resolve() / run_dir.name / "lists")
        out: dict[str, _Sidecar] = {}
        for side in sorted(lists.glob(f"*{MANIFEST_SUFFIX}")):
            s = _read_sidecar(side, inside)
            if s.error is not None and (side, s.error) not in _WARNED:
                _WARNED.add((side, s.error))  # once per fault, not at every request
                log.warning("list sidecar %s: %s", side, s.error)
            out.setdefault(s.name, s)
        return list(out.values())

    def _table(self, path: Path, name: str) -> tuple[pd.DataFrame, bytes | None, dict[str, Any]]:
        """The rows (and, for CSV, the raw bytes) of a list file, cached while its file and sidecar are unchanged.

        The third value is a scratch dict that lives as long as the cache entry (:meth:`served` keeps
        the rows filtered by the current do-not-contact set there).
        """
        sidecar = path.with_name(path.name + MANIFEST_SUFFIX)
        try:
            stamp = (_stamp(path), _stamp(sidecar) if sidecar.exists() else None)
        except OSError as exc:
            raise self._unreadable(name, path, exc) from None
        with self._lock:
            hit = self._tables.get(path)
            if hit is not None and hit[0] == stamp:
                self._tables.move_to_end(path)
                return hit[1], hit[2], hit[3]
        try:
            raw = path.read_bytes() if path.suffix.lower() == ".csv" else None
            df = read_table(path)
            same = (_stamp(path), _stamp(sidecar) if sidecar.exists() else None) == stamp
        except Exception as exc:  # noqa: BLE001 (any reader failure makes this one list unreadable)
            raise self._unreadable(name, path, exc) from None
        scratch: dict[str, Any] = {}
        if same and stamp[0][2] <= CACHE_MAX_BYTES:
            with self._lock:
                self._tables[path] = (stamp, df, raw, scratch)
                self._tables.move_to_end(path)
                while len(self._tables) > CACHE_ENTRIES:
                    self._tables.popitem(last=False)
        return df, raw, scratch

    @staticmethod
    def _unreadable(name: str, path: Path, exc: BaseException) -> ListUnreadable:
        log.warning("list file %s cannot be read: %r", path, exc)
        fault = f"its file cannot be read ({exc.__class__.__name__})"
        return ListUnreadable(f"List {name!r} cannot be served: {fault}; re-export it with `bellwether targets`.", fault)


def _stamp(path: Path) -> tuple[int, int, int]:
    st = path.stat()
    return st.st_ino, st.st_mtime_ns, st.st_size


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _read_sidecar(side: Path, inside: Path) -> _Sidecar:
    """Read and check one sidecar; ``inside`` is the real ``lists/`` directory its file must be in."""
    file_name = side.name[: -len(MANIFEST_SUFFIX)]
    fallback = Path(file_name).stem
    try:
        if not side.resolve(strict=True).is_relative_to(inside):
            return _Sidecar(fallback, error="its sidecar manifest is outside the run's lists directory "
                                            "(a symlink leads out of it)")
        manifest = read_json(side)
    except (OSError, RuntimeError, UnicodeDecodeError) as exc:
        return _Sidecar(fallback, error=f"its sidecar manifest cannot be read ({exc.__class__.__name__})")
    except ValueError as exc:  # json.JSONDecodeError: says where, names no file
        return _Sidecar(fallback, error=f"its sidecar manifest is not valid JSON ({exc})")
    if not isinstance(manifest, dict):
        return _Sidecar(fallback, error="its sidecar manifest is not a JSON object")
    for key, types in _FIELD_TYPES.items():
        value = manifest.get(key)
        if value is not None and (not isinstance(value, types) or isinstance(value, bool)):
            name = manifest.get("name") if isinstance(manifest.get("name"), str) else fallback
            return _Sidecar(name, error=f"its sidecar manifest has a malformed {key!r} "
                                        f"(expected {' or '.join(t.__name__ for t in types)})")
    if not _TOKEN_CHARS.fullmatch(manifest.get("list_version") or ""):
        name = manifest.get("name") if isinstance(manifest.get("name"), str) else fallback
        return _Sidecar(name, error="its sidecar manifest has a malformed 'list_version' (letters, digits, . _ - only)")
    manifest = dict(manifest)
    manifest.setdefault("path", file_name)
    manifest.setdefault("name", manifest.get("list") or Path(manifest["path"]).stem)
    name = manifest["name"]
    rel = Path(manifest["path"])
    if not manifest["path"] or rel.is_absolute() or ".." in rel.parts:
        return _Sidecar(name, error="its sidecar manifest names a file outside the run's lists directory")
    try:
        real = (side.parent / rel).resolve(strict=True)
    except (OSError, RuntimeError):
        return _Sidecar(name, error="its file is missing")
    if not real.is_relative_to(inside):
        return _Sidecar(name, error="its file is outside the run's lists directory (a symlink leads out of it)")
    if not real.is_file():
        return _Sidecar(name, error="its file is not a regular file")
    if real.suffix.lower() not in LIST_SUFFIXES:
        return _Sidecar(name, error=f"its file is not a list export ({', '.join(LIST_SUFFIXES)})")
    return _Sidecar(name, manifest, real)


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


# ---------------------------------------------------------------------------------------------
# The HTTP API (FastAPI) and the server (uvicorn)
# ---------------------------------------------------------------------------------------------



_BEARER = HTTPBearer(auto_error=False, description="The server's BELLWETHER_API_TOKEN.")


class ErrorBody(BaseModel):
    """Every error: what is wrong and the HTTP status."""

    error: str
    status: int


class UnreadableList(BaseModel):
    """A list whose sidecar or file cannot be served, and why."""

    name: str
    error: str


class RunInfo(BaseModel):
    """One analysis run."""

    run: str = Field(description="Run id (its directory name); `latest` names the newest.")
    as_of: str | None = Field(None, description="The analysis date.")
    created: str | None = None
    lists: list[str] = Field(description="Names of the lists that can be served.")
    unreadable: list[UnreadableList] = Field(default_factory=list, description="Lists that cannot be served.")
    error: str | None = Field(None, description="Set when the run manifest cannot be read.")


class RunsPage(BaseModel):
    runs: list[RunInfo] = Field(description="Newest first.")


class ListInfo(BaseModel):
    """A list's sidecar manifest (summary)."""

    name: str
    list: str | None = None
    list_version: str | None = Field(None, description="Content hash of the exported rows (the ETag when nobody is held back).")
    rows: int | None = Field(None, description="Rows that would be served now: the exported rows minus anyone on the "
                                               "do-not-contact list as it is now.")
    held_back: int | None = Field(None, description="Exported rows withheld now because they are on the do-not-contact "
                                                    "list (added after the export).")
    exported_rows: int | None = Field(None, description="Rows exported (the sidecar's count).")
    format: str | None = None
    created: str | None = None
    as_of: str | None = None
    suppressed_total: int | None = Field(None, description="Rows held back at export.")
    score: str | None = Field(None, description="How the list is ranked.")


class RunLists(BaseModel):
    run: str
    lists: list[ListInfo]
    unreadable: list[UnreadableList] = Field(default_factory=list)


class ListRow(BaseModel):
    """One target: the columns every list has, then the list's own columns (in export order)."""

    model_config = ConfigDict(extra="allow", coerce_numbers_to_str=True)

    list: str | None = None
    rank: int | None = None
    id: str | None = Field(None, description="Subscriber pseudonym.")
    score: float | None = None
    segment: str | None = None
    community: int | None = None
    reasons: str | None = Field(None, description="Why this subscriber is on the list, in words.")


class ListPage(BaseModel):
    """A page of one list after the do-not-contact check."""

    run: str | None
    list: str
    list_version: str | None = Field(description="Version of the list as exported.")
    as_of: str | None
    total: int = Field(description="Rows served in all (after the do-not-contact check).")
    held_back: int = Field(description="Rows left out because they are on the do-not-contact list now.")
    offset: int
    limit: int | None
    items: list[ListRow]


# query parameters of the list endpoints (module level: FastAPI resolves the string annotations here)
Offset = Annotated[int, Query(ge=0, description="Rows to skip.")]
Limit = Annotated[int | None, Query(ge=0, description="Rows to return (all when absent).")]
Format = Annotated[Literal["json", "csv"], Query(description="csv: the same as the .csv path.")]
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(_BEARER)]


class Health(BaseModel):
    status: Literal["ok"]


_ERRORS = {
    401: {"model": ErrorBody, "description": "Missing or wrong API token."},
    404: {"model": ErrorBody, "description": "No such run or list."},
}
_LIST_ERRORS = {
    **_ERRORS,
    400: {"model": ErrorBody, "description": "A query parameter is not a whole number >= 0."},
    500: {"model": ErrorBody, "description": "This list's sidecar or file is malformed (other lists are served)."},
    503: {"model": ErrorBody, "description": "The do-not-contact list cannot be read: no list is served."},
}
_UNAVAILABLE = ("The do-not-contact list cannot be read, so no list is served until it is restored "
                "(the server log says why).")


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": message, "status": status}, status_code=status, headers=headers)


class _Guard:
    """ASGI middleware: a time limit on each request (503 after it) and HEAD answered as GET without a body."""

    def __init__(self, app: Any, timeout: float) -> None:
        self.app = app
        self.timeout = timeout

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        head = scope["method"] == "HEAD"
        if head:
            scope = {**scope, "method": "GET"}
        started = False

        async def guarded_send(message: dict) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            elif head and message["type"] == "http.response.body":
                message = {**message, "body": b""}
            await send(message)

        try:
            with anyio.fail_after(self.timeout):
                await self.app(scope, receive, guarded_send)
        except TimeoutError:
            log.warning("%s %s took longer than %s s", scope["method"], scope.get("path"), self.timeout)
            if started:
                raise
            await _error(503, f"The request took longer than {self.timeout:g} s; try again.")(scope, receive, guarded_send)


def _etag_matches(header: str | None, etag: str) -> bool:
    if not header:
        return False
    tags = [t.strip() for t in header.split(",")]
    return "*" in tags or etag in (t.removeprefix("W/") for t in tags)


def _validation_message(exc: RequestValidationError) -> str:
    parts = []
    for err in exc.errors():
        name = err.get("loc", ["?"])[-1]
        given = err.get("input")
        if err.get("type", "").startswith(("int", "greater_than")):
            parts.append(f"{name} must be a whole number >= 0, got {given!r}")
        else:
            parts.append(f"{name}: {err.get('msg', 'invalid')}" + (f", got {given!r}" if given is not None else ""))
    return "; ".join(parts) or "invalid request"


def create_app(workspace: Workspace | str | Path, token: str | None = None, *,
               request_timeout: float = REQUEST_TIMEOUT_SECONDS, service: ListService | None = None,
               worker_threads: int = WORKER_THREADS) -> FastAPI:
    """The list service's ASGI app for ``workspace``; with ``token``, every endpoint but ``/health`` and
    ``/openapi.json`` needs ``Authorization: Bearer <token>`` (compared in constant time).

    ``service`` replaces the :class:`ListService` (tests); ``request_timeout`` limits each request (503 after it).
    """
    ws = workspace if isinstance(workspace, Workspace) else Workspace(Path(workspace))
    svc = service or ListService(ws)
    token = token or None
    app = FastAPI(
        title="Bellwether list service",
        version=_version(),
        summary="Read-only target lists of a Bellwether workspace, as exported, minus anyone on the "
                "do-not-contact list now.",
        docs_url=None, redoc_url=None,
    )
    app.add_middleware(_Guard, timeout=request_timeout)
    expected = token.encode("utf-8") if token else b""

    def authorise(credentials: Credentials) -> None:
        given = credentials.credentials.encode("utf-8") if credentials is not None else b""
        if not hmac.compare_digest(given, expected):
            raise StarletteHTTPException(401, "send the API token as `Authorization: Bearer <token>`",
                                         headers={"WWW-Authenticate": "Bearer"})

    guarded = [Depends(authorise)] if token else []

    threads: list[anyio.CapacityLimiter] = []  # made in the event loop, at the first request

    async def blocking(fn: Any, *args: Any) -> Any:
        """Run file work in a worker thread that the request time limit can walk away from.

        A few threads only: the work holds the GIL, and dozens of threads contending for it
        starve the event loop that reads and writes the connections (p99 latency doubles).
        """
        if not threads:
            threads.append(anyio.CapacityLimiter(worker_threads))
        return await anyio.to_thread.run_sync(partial(fn, *args), abandon_on_cancel=True, limiter=threads[0])

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        message = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
        if exc.status_code == 404 and message == "Not Found":
            message = f"no endpoint {request.url.path}; see / or /openapi.json"
        return _error(exc.status_code, message, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        return _error(400, _validation_message(exc))

    @app.exception_handler(ListNotFound)
    async def not_found(request: Request, exc: ListNotFound) -> JSONResponse:
        return _error(404, str(exc))

    @app.exception_handler(ListUnreadable)
    async def unreadable(request: Request, exc: ListUnreadable) -> JSONResponse:
        return _error(500, str(exc))

    @app.exception_handler(ListsUnavailable)
    async def unavailable(request: Request, exc: ListsUnavailable) -> JSONResponse:  # fail-closed
        log.error("%s", exc)
        return _error(503, _UNAVAILABLE)

    @app.exception_handler(Exception)
    async def crashed(request: Request, exc: Exception) -> JSONResponse:
        log.exception("%s %s failed", request.method, request.url.path)
        return _error(500, "internal error (the server log says why)")

    @app.get("/health", response_model=Health, tags=["service"])
    async def health() -> dict[str, str]:
        """Liveness; needs no token."""
        return {"status": "ok"}

    @app.get("/", dependencies=guarded, tags=["service"], responses=_ERRORS)
    async def index() -> dict[str, Any]:
        """The endpoints."""
        return {"endpoints": ["/health", "/runs", "/runs/{run}/lists", "/runs/{run}/lists/{name}",
                              "/runs/{run}/lists/{name}.csv"], "openapi": "/openapi.json"}

    @app.get("/runs", response_model=RunsPage, dependencies=guarded, tags=["lists"], responses=_ERRORS)
    async def runs() -> dict[str, Any]:
        """The analysis runs, newest first, with the names of their lists (unreadable lists marked)."""
        return {"runs": await blocking(svc.runs)}

    @app.get("/runs/{run}/lists", response_model=RunLists, dependencies=guarded, tags=["lists"],
             responses={**_ERRORS, 503: _LIST_ERRORS[503]})
    async def run_lists(run: str) -> dict[str, Any]:
        """A run's lists (`latest` = the newest run): name, version, the rows served now (after the do-not-contact
        list as it is now), how many of the exported rows that withholds, and the rows held back at export."""
        def read() -> dict[str, Any]:
            servable, broken = svc.catalogue(run)
            return {"run": svc.run_dir(run).name, "lists": servable, "unreadable": broken}
        return await blocking(read)

    def list_response(request: Request, run: str, name: str, offset: int, limit: int | None, as_csv: bool) -> Response:
        served = svc.served(run, name)
        etag = f'"{served.version}"'
        if _etag_matches(request.headers.get("if-none-match"), etag):
            return Response(status_code=304, headers={"ETag": etag})
        headers = {"ETag": etag, "X-Total-Count": str(len(served.rows))}
        if served.held_back:
            headers["X-Held-Back"] = str(len(served.held_back))
        if as_csv:
            filename = re.sub(r"[^A-Za-z0-9._-]", "_", served.manifest["name"])
            headers["Content-Disposition"] = f'attachment; filename="{filename}.csv"'
            return Response(svc.csv_bytes(served, offset, limit), media_type="text/csv; charset=utf-8", headers=headers)
        body = served.pages.get(("json", offset, limit))
        if body is None:
            part = served.rows.iloc[offset: None if limit is None else offset + limit]
            items = json.loads(part.to_json(orient="records", force_ascii=False, double_precision=15))
            manifest = served.manifest
            page = ListPage(run=_text(manifest.get("run_id")), list=manifest["name"],
                            list_version=manifest.get("list_version"), as_of=_text(manifest.get("as_of")),
                            total=len(served.rows), held_back=len(served.held_back), offset=offset, limit=limit,
                            items=items)
            body = page.model_dump_json(exclude_unset=True).encode("utf-8")
            if len(served.pages) < PAGES_KEPT:
                served.pages[("json", offset, limit)] = body
        return Response(body, media_type="application/json", headers=headers)

    @app.get("/runs/{run}/lists/{name}.csv", dependencies=guarded, tags=["lists"], response_class=Response,
             responses={**_LIST_ERRORS, 200: {"content": {"text/csv": {"schema": {"type": "string"}}},
                                              "description": "The exported CSV byte for byte, minus the lines of "
                                                             "anyone on the do-not-contact list now; paged by rows."},
                        304: {"description": "Not modified (If-None-Match matched the ETag)."}})
    async def list_csv(request: Request, run: str, name: str, offset: Offset = 0, limit: Limit = None) -> Response:
        """One list as CSV (`latest` = the newest run); the ETag is the list version."""
        return await blocking(list_response, request, run, name, offset, limit, True)

    @app.get("/runs/{run}/lists/{name}", response_model=ListPage, dependencies=guarded, tags=["lists"],
             responses={**_LIST_ERRORS, 304: {"description": "Not modified (If-None-Match matched the ETag)."}})
    async def list_json(request: Request, run: str, name: str, offset: Offset = 0, limit: Limit = None,
                        format: Format = "json") -> Response:  # noqa: A002 (the query parameter's name)
        """A page of one list as JSON (`?limit=&offset=`; `latest` = the newest run); the ETag is the list version."""
        return await blocking(list_response, request, run, name.removesuffix(".json"), offset, limit, format == "csv")

    def openapi() -> dict[str, Any]:
        """The schema without FastAPI's 422 answers: a bad query parameter is a 400 :class:`ErrorBody` here."""
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version, summary=app.summary, routes=app.routes)
            for operations in schema.get("paths", {}).values():
                for operation in operations.values():
                    operation.get("responses", {}).pop("422", None)
            for name in ("HTTPValidationError", "ValidationError"):
                schema.get("components", {}).get("schemas", {}).pop(name, None)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("bellwether")
    except Exception:  # noqa: BLE001 (not installed: running from a checkout)
        return "0"


def check_exposure(host: str, token: str | None) -> None:
    """Refuse to listen beyond loopback without a token (:class:`ServeRefused`, one line)."""
    if token or _is_loopback(host):
        return
    raise ServeRefused(f"Refusing to serve the lists on {host} without a token: set BELLWETHER_API_TOKEN, "
                       "or bind 127.0.0.1.")


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except OSError:
        return False
    return bool(infos) and all(ipaddress.ip_address(i[4][0].split("%")[0]).is_loopback for i in infos)


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port`` (``port=0``: a free port) with :data:`BACKLOG`."""
    try:
        family, _, _, _, addr = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0]
        sock = socket.create_server(addr, family=family, backlog=BACKLOG)
    except OSError as exc:
        raise ServeRefused(f"Cannot listen on {host}:{port}: {exc.strerror or exc}.") from None
    return sock


def _protocol(head_timeout: float) -> type:
    """uvicorn's h11 protocol, plus a deadline for a request head.

    uvicorn closes a connection idle *after* a response (``timeout_keep_alive``), but
    not one that never sends a complete request head (opened and left, or trickled a
    byte at a time).  This closes those ``head_timeout`` seconds after the connection
    opened, or after the first byte of a request head that is still incomplete.
    """
    import h11
    from uvicorn.protocols.http.h11_impl import H11Protocol

    class Protocol(H11Protocol):
        _head_timer: Any = None

        def connection_made(self, transport: Any) -> None:
            super().connection_made(transport)
            self._head_timer = self.loop.call_later(head_timeout, self._head_timed_out)

        def data_received(self, data: bytes) -> None:
            super().data_received(data)
            if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
                if self._head_timer is None:  # a request head begun: it has head_timeout to be complete
                    self._head_timer = self.loop.call_later(head_timeout, self._head_timed_out)
            elif self._head_timer is not None:
                self._head_timer.cancel()
                self._head_timer = None

        def connection_lost(self, exc: Exception | None) -> None:
            if self._head_timer is not None:
                self._head_timer.cancel()
                self._head_timer = None
            super().connection_lost(exc)

        def _head_timed_out(self) -> None:
            self._head_timer = None
            waiting = self.cycle is None or self.cycle.response_complete
            if waiting and self.conn.their_state is h11.IDLE and not self.transport.is_closing():
                self.transport.close()

    return Protocol


def make_server(app: Any, *, quiet: bool = False, keep_alive: float = KEEP_ALIVE_SECONDS,
                head_timeout: float = HEAD_TIMEOUT_SECONDS) -> Any:
    """The uvicorn server for ``app``: :data:`BACKLOG`, keep-alive and request-head timeouts, a connection limit.

    Run it with ``.run(sockets=[bind(host, port)])``; it stops on SIGINT/SIGTERM (when run in the
    main thread) or when ``should_exit`` is set, finishing open requests for 5 s at most.
    """
    import uvicorn

    config = uvicorn.Config(
        app, http=_protocol(head_timeout), ws="none", backlog=BACKLOG, timeout_keep_alive=keep_alive,
        timeout_graceful_shutdown=5, limit_concurrency=MAX_CONNECTIONS, lifespan="off", access_log=not quiet,
        log_level="warning" if quiet else "info", server_header=False,
    )
    return uvicorn.Server(config)


def serve(app: Any, sock: socket.socket, *, quiet: bool = False) -> None:
    """Run ``app`` under uvicorn (:func:`make_server`) on the bound ``sock`` until SIGINT or SIGTERM.

    Either signal finishes the open requests (5 s at most) and returns normally (uvicorn
    re-raises the signal once it is done; here both end as a caught ``KeyboardInterrupt``).
    """
    import signal

    def stop(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, stop) if main else None
    try:
        make_server(app, quiet=quiet).run(sockets=[sock])
    except KeyboardInterrupt:
        pass
    finally:
        if main:
            signal.signal(signal.SIGTERM, previous)
        sock.close()

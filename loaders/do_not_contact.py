"""The do-not-contact file: people who must never appear on a target list.

A CSV (any of the delimiters ``, ; TAB |``, sniffed as for the other inputs,
optionally gzip-compressed) or Parquet file with a ``msisdn`` column; a file of
one column may have the header ``msisdn`` or none at all.  Each entry is
normalised like every other number (:func:`bellwether.loaders.msisdn.normalize_msisdn`, or,
for opaque ids, trimmed) and pseudonymised with the workspace key, so lists can
be filtered by pseudonym.  The stored list is ``WORKSPACE/do_not_contact.parquet``
(column ``id``).

The list is fail-closed:

- a file with any unusable non-empty entry is refused as a whole (a
  :class:`~bellwether.loaders.errors.LoadError` naming the file, the first bad lines with masked
  values and what to fix), and the stored list stays as it was;
- a new file is merged into the stored list (union); it replaces the list only when
  asked for explicitly (``replace=True``, ``bellwether build --replace-do-not-contact``);
- every file loaded is recorded in the manifest's ``do_not_contact`` entry;
- exports and served lists read the stored list again (:func:`current_do_not_contact`)
  and refuse to go on when it cannot be read.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator

import pyarrow as pa
import pyarrow.parquet as pq

from bellwether.graph.core.errors import BellwetherError
from bellwether.graph.core.workspace import Workspace, read_json
from bellwether.loaders.cdr_csv import DELIMITERS, open_text, read_header
from bellwether.loaders.errors import LoadError, mask_text, mask_value
from bellwether.loaders.manifest import file_sha256
from bellwether.loaders.msisdn import WHITESPACE, normalize_msisdn
from bellwether.loaders.pseudonym import hmac_id

ID_KINDS = ("phone", "opaque")
COLUMN = "msisdn"
#: Bad entries named in the message of a refused file.
SHOWN_BAD = 5

_HOW_TO_FIX = {
    "phone": "each entry must be a phone number: digits with an optional leading '+', the separators "
             "space - . ( ) allowed (e.g. +86 138-1234-5678)",
    "opaque": "each row needs an id (UTF-8 text) in the id column",
}


@dataclass
class Scan:
    """What a do-not-contact file holds: the ids of its usable entries and where the unusable ones are."""

    ids: set[str] = field(default_factory=set)
    entries: int = 0  # non-empty entries
    bad: int = 0  # unusable entries
    bad_lines: list[tuple[int, str]] = field(default_factory=list)  # (line, masked value) of the first SHOWN_BAD


# --- reading -------------------------------------------------------------------------------

def _check_kind(id_kind: str) -> str:
    if id_kind not in ID_KINDS:
        raise LoadError(f"Unknown id kind {id_kind!r}; use one of {', '.join(ID_KINDS)}.")
    return id_kind


def _header_names(column: str, id_kind: str) -> tuple[str, ...]:
    """Lower-cased names a header may give the id column, preferred first."""
    return tuple(dict.fromkeys((column.lower(), COLUMN, *(("id",) if id_kind == "opaque" else ()))))


def _id_column(names: list[str], column: str, id_kind: str) -> str | None:
    """The id column among the header ``names`` (compared case-insensitively), or None."""
    lower = {n.lower(): n for n in reversed(names)}
    return next((lower[n] for n in _header_names(column, id_kind) if n in lower), None)


def _first_line(path: Path) -> str:
    with open_text(path) as fh:
        return fh.readline().lstrip("\ufeff").rstrip("\r\n")


def _csv_entries(path: Path, delimiter: str | None, column: str, id_kind: str) -> Iterator[tuple[int, str | None]]:
    """(line, raw value) of each row of a CSV file; the value is None for a row with the wrong number of fields."""
    first = _first_line(path)
    one_column = not any(d in first.strip(WHITESPACE) for d in ((delimiter,) if delimiter else DELIMITERS))
    if one_column:
        delim, idx = ",", 0
        header = first.strip(WHITESPACE).strip('"').strip().lower() in _header_names(column, id_kind)
    else:
        cols, delim = read_header(path, delimiter)
        hit = _id_column(cols, column, id_kind)
        if hit is None:
            shown = mask_text(", ".join(cols))[:200]
            raise LoadError(f"{path}: no {column!r} column in the do-not-contact file (columns: {shown}); "
                            f"name the column {column!r}, or give a file of one column.")
        idx, header, width = cols.index(hit), True, len(cols)
    with open_text(path) as fh:
        lines = (line.lstrip("\ufeff") if k == 0 else line for k, line in enumerate(fh))
        reader = csv.reader(lines, delimiter=delim)
        for k, row in enumerate(reader):
            if (k == 0 and header) or not any(f.strip(WHITESPACE) for f in row):
                continue
            if one_column:  # a comma in a one-column file belongs to the value (which is then no number)
                yield reader.line_num, delim.join(row)
            else:
                yield reader.line_num, row[idx] if len(row) == width else None


def _parquet_entries(path: Path, column: str, id_kind: str) -> Iterator[tuple[int, str | None]]:
    """(row, raw value) of each row of a Parquet file (rows numbered from 1)."""
    try:
        schema = pq.read_schema(path)
    except (OSError, pa.ArrowException) as exc:
        raise LoadError(f"{path}: cannot be read as Parquet ({mask_text(str(exc).splitlines()[0])[:200]}).") from None
    hit = _id_column(schema.names, column, id_kind) or (schema.names[0] if len(schema.names) == 1 else None)
    if hit is None:
        raise LoadError(f"{path}: no {column!r} column in the do-not-contact file (columns: {', '.join(schema.names)}).")
    kind = schema.field(hit).type
    if not (pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_integer(kind)):
        raise LoadError(f"{path}: column {hit!r} holds {kind} values; do-not-contact entries must be text or "
                        f"whole numbers (never floating point, which loses digits).")
    values = pq.read_table(path, columns=[hit]).column(0).cast(pa.string()).to_pylist()
    for k, v in enumerate(values, 1):
        yield k, "" if v is None else v


def entries(path: Path | str, delimiter: str | None = None, column: str = COLUMN,
            id_kind: str = "phone") -> Iterator[tuple[int, str | None]]:
    """(line, raw value) of each non-blank row of a do-not-contact file (CSV or Parquet).

    The value is None for a row whose number of fields differs from the header's.

    Raises
    ------
    LoadError
        The file does not exist; while iterating: it cannot be read or has no id column.
    """
    path = Path(path)
    if not path.is_file():
        raise LoadError(f"Do-not-contact file {path} does not exist.")
    if path.name.endswith(".parquet"):
        return _parquet_entries(path, column, id_kind)
    return _csv_entries(path, delimiter, column, id_kind)


def entry_id(raw: str, key: bytes | None, country_code: str = "86", id_kind: str = "phone") -> str | None:
    """The id of one entry (pseudonym, or without a key the normalised number / the token); None when unusable."""
    if id_kind == "opaque":
        token = raw.strip(WHITESPACE)
        if not token or "\ufffd" in token:  # empty, or bytes that were not UTF-8
            return None
        return token if key is None else hmac_id(token, key)
    norm = normalize_msisdn(raw, country_code)
    return None if norm is None else norm if key is None else hmac_id(norm, key)


def scan_do_not_contact(path: Path | str, key: bytes | None, country_code: str = "86", id_kind: str = "phone",
                        delimiter: str | None = None, column: str = COLUMN) -> Scan:
    """Ids of the usable entries of a do-not-contact file, and the count and first lines of the unusable ones.

    Empty entries are skipped; every other entry is either an id or unusable.
    """
    _check_kind(id_kind)
    out = Scan()
    for line, raw in entries(path, delimiter, column, id_kind):
        if raw is not None and not raw.strip(WHITESPACE):
            continue
        out.entries += 1
        got = None if raw is None else entry_id(raw, key, country_code, id_kind)
        if got is not None:
            out.ids.add(got)
            continue
        out.bad += 1
        if len(out.bad_lines) < SHOWN_BAD:
            out.bad_lines.append((line, "wrong number of fields" if raw is None else repr(mask_value(raw, number=True))))
    return out


def refusal(path: Path | str, scan: Scan, id_kind: str = "phone") -> str:
    """The message of a refused do-not-contact file: which lines are unusable and what to fix."""
    where = "; ".join(f"line {line}: {value}" for line, value in scan.bad_lines)
    more = f" and {scan.bad - len(scan.bad_lines)} more" if scan.bad > len(scan.bad_lines) else ""
    return (f"{path}: {scan.bad} of {scan.entries} do-not-contact entries cannot be used ({where}{more}); "
            f"{_HOW_TO_FIX[id_kind]}. Fix or remove them and load the file again; "
            f"the stored do-not-contact list was left unchanged.")


def read_do_not_contact(path: Path | str, key: bytes | None, country_code: str = "86", id_kind: str = "phone",
                        delimiter: str | None = None, column: str = COLUMN) -> set[str]:
    """Pseudonyms (or, with ``key=None``, normalised numbers or tokens) of a do-not-contact file.

    Raises
    ------
    LoadError
        The file cannot be read, or any non-empty entry is unusable (fail-closed: a
        partly read list would let people through).
    """
    scan = scan_do_not_contact(path, key, country_code, id_kind, delimiter, column)
    if scan.bad:
        raise LoadError(refusal(path, scan, id_kind))
    return scan.ids


def read_do_not_contact_counts(path: Path | str, key: bytes | None, country_code: str = "86", id_kind: str = "phone",
                               delimiter: str | None = None, column: str = COLUMN) -> tuple[set[str], int]:
    """Ids of the usable entries of ``path`` and the count of unusable ones (for diagnostics; loads use
    :func:`read_do_not_contact`, which refuses a file with any unusable entry)."""
    scan = scan_do_not_contact(path, key, country_code, id_kind, delimiter, column)
    return scan.ids, scan.bad


# --- the stored list -----------------------------------------------------------------------

def read_stored(path: Path) -> set[str]:
    """Ids of the stored list ``WORKSPACE/do_not_contact.parquet`` (empty when there is none)."""
    if not path.exists():
        return set()
    return set(pq.read_table(path, columns=["id"]).column("id").to_pylist()) - {None}


class DoNotContactUnavailable(BellwetherError):
    """The workspace's do-not-contact list should exist but cannot be read: no list may be exported or served."""


def current_do_not_contact(workspace: Workspace) -> frozenset[str]:
    """The ids on the workspace's do-not-contact list now, read fail-closed.

    Empty only when no list was ever loaded (no ``do_not_contact.parquet`` and none
    recorded in the manifest).

    Raises
    ------
    DoNotContactUnavailable
        The stored list cannot be read, or the manifest records a list whose file is gone.
    """
    path = workspace.do_not_contact_path
    fix = ("no list is exported or served until it is restored "
           "(`bellwether build --do-not-contact FILE --replace-do-not-contact` writes it again)")
    try:
        if path.exists():
            return frozenset(read_stored(path))
        manifest = read_json(workspace.manifest_path) if workspace.manifest_path.exists() else {}
    except (OSError, ValueError, pa.ArrowException) as exc:
        raise DoNotContactUnavailable(f"The do-not-contact list {path} cannot be read ({exc.__class__.__name__}); {fix}.") from None
    if (manifest.get("do_not_contact") or {}).get("ids"):
        raise DoNotContactUnavailable(f"The do-not-contact list {path} is missing although the load manifest records one; {fix}.")
    return frozenset()


def write_do_not_contact(ids: set[str], path: Path) -> None:
    """Write the ``id`` table (sorted) atomically."""
    tmp = path.with_suffix(".parquet.tmp")
    pq.write_table(pa.table({"id": pa.array(sorted(ids), pa.string())}), tmp)
    tmp.replace(path)


def _entry(manifest: dict[str, Any]) -> dict[str, Any]:
    """The manifest's ``do_not_contact`` entry, an older single-file entry turned into the current layout."""
    old = dict(manifest.get("do_not_contact") or {})
    if old and "files" not in old:
        old["files"] = [{k: old[k] for k in ("path", "sha256", "ids", "loaded_at") if k in old} | {"mode": "replaced"}]
    old.setdefault("files", [])
    return old


def _failed(message: str, scan: Scan | None = None) -> dict[str, Any]:
    scan = scan or Scan()
    return {"status": "failed", "sha256": "", "rows": scan.entries, "records": 0, "rejected_rows": scan.bad,
            "rejects": {"bad_number": scan.bad} if scan.bad else {}, "message": message}


def load_do_not_contact(stored: Path, path: Path | str, manifest: dict[str, Any], *, key: bytes | None,
                        country_code: str = "86", id_kind: str = "phone", delimiter: str | None = None,
                        column: str = COLUMN, replace: bool = False) -> dict[str, Any]:
    """Merge (or, with ``replace=True``, replace) the stored list ``stored`` with the file ``path``.

    The manifest's ``do_not_contact`` entry gets the file (path, sha256, ids, added,
    removed, loaded_at, mode ``merged`` or ``replaced``) appended to ``files``, and
    ``ids``, the total now stored (``path``, ``sha256`` and ``loaded_at`` name the
    latest file).  Returns the fields of a :class:`bellwether.loaders.load.InputResult`
    (``status``, ``sha256``, ``rows``, ``records``, ``rejected_rows``, ``rejects``,
    ``message``).  A file with an unusable entry (:func:`read_do_not_contact`), without
    entries, or that cannot be read changes nothing and comes back ``failed``.
    """
    path = Path(path)
    try:
        scan = scan_do_not_contact(path, key, country_code, id_kind, delimiter, column)
    except LoadError as exc:
        return _failed(str(exc))
    if scan.bad:
        return _failed(refusal(path, scan, id_kind), scan)
    if not scan.entries:
        return _failed(f"{path}: the do-not-contact file holds no entries; the stored list was left unchanged "
                       f"(to empty the list, delete {stored}).", scan)
    sha = file_sha256(path)
    try:
        before = read_stored(stored)
    except (OSError, pa.ArrowException) as exc:
        if not replace:
            return _failed(f"{stored}: the stored do-not-contact list cannot be read ({exc.__class__.__name__}); nothing "
                           f"was merged into it. Restore it, or load the complete list with --replace-do-not-contact.", scan)
        before = set()
    after = set(scan.ids) if replace else before | scan.ids
    entry = _entry(manifest)
    known = any(f.get("sha256") == sha for f in entry["files"])
    if after == before and known:
        return {"status": "skipped", "sha256": sha, "rows": scan.entries, "records": len(scan.ids), "rejected_rows": 0,
                "rejects": {}, "message": f"{path}: already loaded; the do-not-contact list is unchanged ({len(after):,} ids)."}
    write_do_not_contact(after, stored)
    now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    mode = "replaced" if replace else "merged"
    entry["files"].append({"path": str(path), "sha256": sha, "ids": len(scan.ids), "added": len(after - before),
                           "removed": len(before - after), "loaded_at": now, "mode": mode})
    entry.update(path=str(path), sha256=sha, loaded_at=now, ids=len(after), rejects={})
    manifest["do_not_contact"] = entry
    return {"status": "loaded", "sha256": sha, "rows": scan.entries, "records": len(scan.ids), "rejected_rows": 0,
            "rejects": {}, "message": f"{path}: {len(scan.ids):,} ids {mode}; the do-not-contact list holds {len(after):,}."}

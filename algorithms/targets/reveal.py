"""From pseudonyms back to phone numbers for one campaign: an explicit, audited export step.

Target lists name people by pseudonym only (``HMAC-SHA256(key, number)[:16]``,
:mod:`bellwether.loaders.pseudonym`).  A campaign tool needs numbers, so :func:`reveal` maps the
pseudonyms of one exported list back through the operator's subscriber (CRM) extract:

1. every number of the extract is normalised by the workspace's id rule
   (:func:`bellwether.loaders.msisdn.normalize_msisdn` with the workspace's country code, or the
   trimmed token for opaque ids) and hashed with the pseudonymisation key
   (:func:`bellwether.loaders.pseudonym.hmac_id`, through :func:`bellwether.loaders.do_not_contact.entry_id`,
   the same rule as every other input); the key must be the workspace's (its
   fingerprint is checked);
2. the list's rows are joined on the pseudonym; a row whose pseudonym has no number in
   the extract is left out and counted (an acquisition list names other operators'
   numbers, which no CRM extract holds);
3. the do-not-contact list is applied as it is *now*: the workspace's stored list
   (fail-closed: unreadable means no reveal) and, optionally, a do-not-contact file
   given at reveal time; a number the extract marks ``churned`` is held back too (it
   may have been given to someone else);
4. the numbers are written to the output file only, which must lie outside the
   workspace (CSV, readable by its owner only, written atomically);
5. an audit record is appended to ``WORKSPACE/audit/reveals.jsonl`` *before* the output
   file is put in place: when (UTC), who (user and host), which run, list and list
   version, how many rows, the output path, a SHA-256 of the sorted ids revealed, how
   many were held back by do-not-contact or churn, how many ids had no number in the
   extract, and the extract's and key's fingerprints.  ``bellwether status`` shows the
   last records.

No number ever enters the workspace: not its tables, not the audit log, not an error
message.  Without the key, without the extract, or without a readable do-not-contact
list the reveal is refused (:class:`RevealRefused`, one line naming everything missing)
and nothing is written.
"""

from __future__ import annotations

import csv
import getpass
import hashlib
import json
import os
import socket
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from bellwether.graph.core.errors import BellwetherError
from bellwether.graph.exports import read_table
from bellwether.graph.core.workspace import Workspace, WorkspaceError, read_json

__all__ = ["RevealRefused", "RevealResult", "AUDIT_FILE", "audit_path", "read_audit", "reveal", "find_list"]

AUDIT_FILE = Path("audit") / "reveals.jsonl"
NUMBER_COLUMN = "msisdn"
MANIFEST_SUFFIX = ".manifest.json"


class RevealRefused(BellwetherError):
    """A reveal lacks what it needs (key, subscriber extract, a readable do-not-contact list, the list); nothing was written."""


@dataclass(frozen=True)
class RevealResult:
    """Where the numbers went and the audit record appended for them."""

    path: Path
    record: dict[str, Any]


def audit_path(workspace: Workspace) -> Path:
    """``WORKSPACE/audit/reveals.jsonl``."""
    return workspace.root / AUDIT_FILE


def read_audit(workspace: Workspace, last: int | None = None) -> list[dict[str, Any]]:
    """The reveal audit records of ``workspace``, oldest first (the ``last`` ones only when given)."""
    path = audit_path(workspace)
    if not path.exists():
        return []
    records = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            try:
                records.append(json.loads(line))
            except ValueError:
                records.append({"unreadable": True})
    return records[-last:] if last else records


def find_list(workspace: Workspace, name: str, run: str | None = None) -> tuple[Path, dict[str, Any], str]:
    """The exported file of list ``name`` of ``run`` (default: the latest), its sidecar and the run id.

    Raises
    ------
    RevealRefused
        The run has no exported list of that name.
    """
    try:
        run_dir = workspace.run_dir(run)
    except WorkspaceError as exc:
        raise RevealRefused(f"cannot reveal: {exc}") from None
    found = []
    for side in sorted((run_dir / "lists").glob(f"*{MANIFEST_SUFFIX}")) if (run_dir / "lists").is_dir() else []:
        m = read_json(side)
        if m.get("name", m.get("list")) == name:
            path = side.with_name(side.name[: -len(MANIFEST_SUFFIX)])
            if path.exists():
                found.append((path.stat().st_mtime_ns, path, m))
    if not found:
        raise RevealRefused(f"cannot reveal: run {run_dir.name} has no exported {name!r} list; "
                            f"run `bellwether targets --workspace {workspace.root} --list {name}` first.")
    _, path, manifest = max(found, key=lambda x: x[0])
    return path, manifest, str(manifest.get("run_id", run_dir.name))


def _inside(path: Path, root: Path) -> bool:
    try:
        path.resolve().relative_to(root.resolve())
        return True
    except ValueError:
        return False


def _crm_rows(path: Path, column: str) -> Iterator[tuple[str | None, str | None]]:
    """(raw number, status) of each row of a subscriber extract (CSV, optionally gzip, or Parquet).

    The number is None for a CSV row with the wrong number of fields.  Raises
    :class:`RevealRefused` when the file has no number column.
    """
    from bellwether.loaders.cdr_csv import open_text, read_header
    from bellwether.loaders.errors import LoadError

    want = column.lower()
    if path.name.endswith(".parquet"):
        try:
            names = pq.read_schema(path).names
        except (OSError, pa.ArrowException):
            raise RevealRefused(f"cannot reveal: the subscriber extract {path} cannot be read as Parquet.") from None
        lower = {n.lower(): n for n in names}
        if want not in lower:
            raise RevealRefused(f"cannot reveal: the subscriber extract {path} has no {column!r} column "
                                f"(columns: {', '.join(names)}); name it with --msisdn-column.")
        cols = [lower[want]] + ([lower["status"]] if "status" in lower else [])
        table = pq.read_table(path, columns=cols)
        numbers = table.column(0).cast(pa.string()).to_pylist()
        status = table.column(1).cast(pa.string()).to_pylist() if len(cols) > 1 else [None] * len(numbers)
        yield from zip(numbers, status)
        return
    try:
        names, delim = read_header(path)
    except LoadError as exc:
        raise RevealRefused(f"cannot reveal: {exc}") from None
    lower = {n.lower(): i for i, n in reversed(list(enumerate(names)))}
    if want not in lower:
        from bellwether.loaders.errors import mask_text

        raise RevealRefused(f"cannot reveal: the subscriber extract {path} has no {column!r} column "
                            f"(columns: {mask_text(', '.join(names))[:200]}); name it with --msisdn-column.")
    idx, sidx, width = lower[want], lower.get("status"), len(names)
    with open_text(path) as fh:
        reader = csv.reader(fh, delimiter=delim)
        next(reader, None)
        for row in reader:
            if not any(f.strip() for f in row):
                continue
            if len(row) != width:
                yield None, None
                continue
            yield row[idx], (row[sidx] if sidx is not None else None)


def _number(raw: str, country_code: str, id_kind: str) -> str | None:
    """The number to hand a campaign tool: E.164 (or a short code's digits), or the trimmed opaque id."""
    from bellwether.loaders.msisdn import WHITESPACE, normalize_msisdn

    if id_kind == "opaque":
        token = raw.strip(WHITESPACE)
        return token or None
    return normalize_msisdn(raw, country_code)


def _who() -> tuple[str, str]:
    try:
        user = getpass.getuser()
    except Exception:  # no login name in some containers
        user = os.environ.get("USER") or f"uid {os.getuid()}"
    return user, socket.gethostname()


def _append_audit(workspace: Workspace, record: dict[str, Any]) -> Path:
    """Append one JSON line to the audit log (one write, flushed to disk)."""
    path = audit_path(workspace)
    path.parent.mkdir(parents=True, exist_ok=True)
    line = (json.dumps(record, sort_keys=True, default=str) + "\n").encode("utf-8")
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
    try:
        os.write(fd, line)
        os.fsync(fd)
    finally:
        os.close(fd)
    return path


def reveal(
    workspace: Workspace,
    name: str,
    subscribers: str | Path | None,
    out: str | Path,
    *,
    key: bytes | None,
    run: str | None = None,
    do_not_contact: str | Path | None = None,
    column: str = NUMBER_COLUMN,
) -> RevealResult:
    """Write the phone numbers of the people on list ``name`` to ``out`` and audit it (see the module docstring).

    Parameters
    ----------
    workspace : Workspace
    name : str
        One list: ``retention``, ``viral``, ``community`` or ``acquisition``.
    subscribers : path
        The subscriber (CRM) extract holding the numbers (CSV, optionally gzip, or Parquet).
    out : path
        The campaign file to write (CSV), outside the workspace.
    key : bytes or None
        The pseudonymisation key (required unless the workspace was loaded without pseudonyms).
    run : str, optional
        Analysis run (default: the latest).
    do_not_contact : path, optional
        A do-not-contact file to apply on top of the workspace's stored list (required when
        the workspace never loaded one).
    column : str, default "msisdn"
        The extract's number column.

    Returns
    -------
    RevealResult

    Raises
    ------
    RevealRefused
        Something the reveal needs is missing or unusable; nothing was written.
    """
    from bellwether.loaders.do_not_contact import DoNotContactUnavailable, current_do_not_contact, entry_id, read_do_not_contact
    from bellwether.loaders.errors import LoadError
    from bellwether.loaders.manifest import file_sha256
    from bellwether.loaders.pseudonym import key_fingerprint

    from bellwether.algorithms.targets.build import LIST_NAMES

    if name not in LIST_NAMES:
        raise RevealRefused(f"cannot reveal: --list must name one list ({', '.join(LIST_NAMES)}), got {name!r}.")
    out = Path(out)
    manifest = read_json(workspace.manifest_path) if workspace.manifest_path.exists() else {}
    pseudonymized = manifest.get("pseudonymized", True) is not False
    country_code = str(manifest.get("country_code", "86"))
    id_kind = str(manifest.get("id_kind", "phone"))

    missing: list[str] = []
    if _inside(out, workspace.root):
        missing.append(f"an output file outside the workspace ({out} is inside {workspace.root}; "
                       "numbers never go into the workspace)")
    elif out.is_dir():
        missing.append(f"an output file name ({out} is a directory)")
    if pseudonymized:
        if key is None:
            missing.append("the pseudonymisation key (set BELLWETHER_PSEUDONYM_KEY or --key-file)")
        elif manifest.get("key_fingerprint") not in (None, key_fingerprint(key)):
            missing.append("the workspace's pseudonymisation key (the key given is not the one the workspace was loaded with)")
    crm = Path(subscribers) if subscribers is not None else None
    if crm is None:
        missing.append("the subscriber (CRM) extract holding the numbers (--subscribers FILE)")
    elif not crm.is_file():
        missing.append(f"the subscriber (CRM) extract ({crm} does not exist)")
    stored: frozenset[str] = frozenset()
    try:
        stored = current_do_not_contact(workspace)
        if not workspace.do_not_contact_path.exists() and do_not_contact is None:
            missing.append("a do-not-contact list (none was ever loaded: `bellwether build --do-not-contact FILE`, "
                           "or give one with --do-not-contact FILE)")
    except DoNotContactUnavailable as exc:
        missing.append(f"a readable do-not-contact list ({exc})")
    extra_dnc: set[str] = set()
    if do_not_contact is not None and not (pseudonymized and key is None):
        try:
            extra_dnc = read_do_not_contact(do_not_contact, key if pseudonymized else None, country_code, id_kind)
        except LoadError as exc:
            missing.append(f"a readable do-not-contact file ({exc})")
    if missing:
        raise RevealRefused("cannot reveal: missing " + "; ".join(missing) + ". Nothing was written.")

    list_path, side, run_id = find_list(workspace, name, run)
    rows = read_table(list_path)
    if "id" not in rows.columns:
        raise RevealRefused(f"cannot reveal: {list_path} has no id column.")
    ids = rows["id"].astype(str)
    dnc = stored | frozenset(extra_dnc)
    held_dnc = ids.isin(dnc).to_numpy(bool)
    wanted = set(ids[~held_dnc])

    numbers: dict[str, str] = {}
    churned: set[str] = set()
    crm_rows = unusable = 0
    use_key = key if pseudonymized else None
    for raw, status in _crm_rows(crm, column):
        crm_rows += 1
        if raw is None or not raw.strip():
            unusable += 1
            continue
        pid = entry_id(raw, use_key, country_code, id_kind)
        if pid is None:
            unusable += 1
            continue
        if pid in wanted:
            number = _number(raw, country_code, id_kind)
            if number is not None:
                numbers[pid] = number
            if status is not None and status.strip().lower() == "churned":
                churned.add(pid)
            else:
                churned.discard(pid)  # the extract's last row of a number wins
    held_churned = ids.isin(churned).to_numpy(bool) & ~held_dnc
    found = ids.isin(numbers.keys()).to_numpy(bool)
    no_number = ~held_dnc & ~held_churned & ~found
    keep = ~held_dnc & ~held_churned & found
    kept = rows.loc[keep].reset_index(drop=True)
    kept_ids = kept["id"].astype(str)
    campaign = kept.drop(columns=["id"])
    campaign.insert(min(2, len(campaign.columns)), NUMBER_COLUMN, kept_ids.map(numbers).to_numpy())

    out = out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
        campaign.to_csv(fh, index=False)
    user, host = _who()
    record = {
        "at": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "user": user,
        "host": host,
        "run": run_id,
        "list": name,
        "list_version": side.get("list_version"),
        "list_file": str(list_path.relative_to(workspace.root)) if _inside(list_path, workspace.root) else str(list_path),
        "list_rows": int(len(rows)),
        "rows_written": int(len(campaign)),
        "output": str(out),
        "ids_sha256": hashlib.sha256("\n".join(sorted(kept_ids)).encode("utf-8")).hexdigest(),
        "held_back_do_not_contact": int(held_dnc.sum()),
        "held_back_churned": int(held_churned.sum()),
        "no_crm_number": int(no_number.sum()),
        "subscriber_extract": {"path": str(crm.resolve()), "sha256": file_sha256(crm), "rows": crm_rows,
                               "unusable_rows": unusable},
        "do_not_contact": {"stored_ids": len(stored), "file": str(Path(do_not_contact).resolve()) if do_not_contact else None,
                           "file_ids": len(extra_dnc)},
        "key_fingerprint": key_fingerprint(key) if pseudonymized else None,
    }
    try:
        _append_audit(workspace, record)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise RevealRefused(f"cannot reveal: the audit log {audit_path(workspace)} cannot be written "
                            f"({exc.strerror}); nothing was written.") from None
    tmp.replace(out)
    return RevealResult(out, record)

"""The load manifest (``WORKSPACE/manifest.json``): what was loaded, from which content, with which problems.

Layout::

    {
      "version": 1,
      "pseudonymized": true,             # false only after an explicit --no-pseudonymize
      "key_fingerprint": "9c1e...",      # HMAC of a fixed text: detects a different key, reveals nothing
      "country_code": "86",
      "id_kind": "phone",                # or "opaque"; one kind per workspace
      "inputs": {                        # CDR inputs by content hash (sha256 of the bytes)
        "<sha256>": {"path", "name", "format", "size", "sha256", "status": "loaded"|"failed",
                     "rows", "records", "rejected_rows", "reject_ratio", "rejects": {reason: rows},
                     "duplicates", "first_record", "last_record", "records_file",
                     "failed_attempts", "failed_calls", "dropped_attempts",   # unanswered calls (duration -1)
                     "lines": {"lines", "header", "blank", "unreadable", "rows",   # physical lines of a text
                               "records", "duplicates", "dropped", "quarantined"},  # input, or Parquet rows
                     "days": {"YYYY-MM-DD": valid records},
                     "quarantine_file", "loaded_at", "message"}
      },
      "subscribers": {"<sha256>": {..., "seq": 1}},   # CRM extracts; the highest seq wins per id
      "do_not_contact": {"ids",          # ids on the stored list now
                         "files": [{"path", "sha256", "ids", "added", "removed", "loaded_at",
                                    "mode": "merged"|"replaced"}],   # every file loaded, in order
                         "path", "sha256", "loaded_at", "rejects"}  # the latest file
    }

Loading content whose hash is already ``loaded`` changes nothing (the idea of
sqlite-utils' content-derived ``hash_id``); a ``failed`` input is tried again.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any, Sequence

from bellwether.graph.core.workspace import Workspace, read_json, write_json

VERSION = 1


def file_sha256(path: Path) -> str:
    """SHA-256 of a file's bytes, hex."""
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def files_sha256(paths: Sequence[Path], root: Path) -> str:
    """Content hash of a set of files: SHA-256 over their sorted relative names and content hashes."""
    h = hashlib.sha256()
    for p in sorted(paths):
        h.update(str(p.relative_to(root) if p.is_relative_to(root) else p.name).encode())
        h.update(b"\0" + file_sha256(p).encode() + b"\n")
    return h.hexdigest()


def read_manifest(ws: Workspace) -> dict[str, Any]:
    """The workspace manifest, or an empty one."""
    if ws.manifest_path.exists():
        data = read_json(ws.manifest_path)
    else:
        data = {}
    data.setdefault("version", VERSION)
    data.setdefault("inputs", {})
    data.setdefault("subscribers", {})
    return data


def write_manifest(ws: Workspace, data: dict[str, Any]) -> None:
    write_json(ws.manifest_path, data)


def loaded_inputs(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    """Entries of the CDR inputs whose records are in the workspace."""
    return [e for e in manifest.get("inputs", {}).values() if e.get("status") == "loaded"]

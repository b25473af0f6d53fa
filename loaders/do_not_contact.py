"""The do-not-contact file: numbers that must never appear on a target list.

A CSV (or Parquet) file with a ``msisdn`` column (or a single column); each
number is normalised and pseudonymised with the workspace key, so lists can be
filtered by pseudonym.  Stored as ``WORKSPACE/do_not_contact.parquet`` (column
``id``); a new file replaces the previous one (it is the full list).
"""

from __future__ import annotations

import csv
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from loaders.cdr_csv import open_text
from loaders.errors import LoadError
from loaders.msisdn import normalize_msisdn
from loaders.pseudonym import hmac_id


def _numbers(path: Path) -> list[str]:
    if path.suffix == ".parquet":
        t = pq.read_table(path)
        col = "msisdn" if "msisdn" in t.column_names else t.column_names[0]
        return [None if v is None else str(v) for v in t.column(col).to_pylist()]
    with open_text(path) as fh:
        rows = list(csv.reader(fh))
    if not rows:
        return []
    header = [h.strip().lower() for h in rows[0]]
    if "msisdn" in header:
        i = header.index("msisdn")
        return [r[i] if i < len(r) else "" for r in rows[1:]]
    if len(header) == 1 and normalize_msisdn(rows[0][0]) is not None:  # no header, one number per line
        return [r[0] if r else "" for r in rows]
    if len(header) == 1:
        return [r[0] if r else "" for r in rows[1:]]
    raise LoadError(f"{path}: no 'msisdn' column in the do-not-contact file (columns: {', '.join(rows[0])}).")


def read_do_not_contact_counts(path: Path | str, key: bytes | None, country_code: str = "86") -> tuple[set[str], int]:
    """Pseudonyms of the numbers in ``path`` and the count of unreadable entries."""
    path = Path(path)
    if not path.exists():
        raise LoadError(f"Do-not-contact file {path} does not exist.")
    ids: set[str] = set()
    bad = 0
    for raw in _numbers(path):
        if raw is None or not str(raw).strip():
            continue
        norm = normalize_msisdn(raw, country_code)
        if norm is None:
            bad += 1
            continue
        ids.add(norm if key is None else hmac_id(norm, key))
    return ids, bad


def read_do_not_contact(path: Path | str, key: bytes | None, country_code: str = "86") -> set[str]:
    """Pseudonyms (or, with ``key=None``, E.164 numbers) of the numbers in a do-not-contact file.

    Unreadable entries are skipped here; :func:`loaders.load.load` counts them.
    """
    return read_do_not_contact_counts(path, key, country_code)[0]


def write_do_not_contact(ids: set[str], path: Path) -> None:
    """Write the ``id`` table (sorted) atomically."""
    tmp = path.with_suffix(".parquet.tmp")
    pq.write_table(pa.table({"id": pa.array(sorted(ids), pa.string())}), tmp)
    tmp.replace(path)

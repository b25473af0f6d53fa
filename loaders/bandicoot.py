"""bandicoot layout: one CSV per user, named ``<user number>.csv``.

Columns ``interaction, direction, correspondent_id, datetime, call_duration,
antenna_id`` (de Montjoye, Rocher and Pentland 2016, "bandicoot: a Python
toolbox for mobile phone metadata", JMLR 17(175)).  ``interaction`` is
``call`` or ``text``, ``direction`` ``in`` or ``out``; an outgoing row has the
file's user as caller.  A call between two users of the data set appears in
both users' files; after normalisation the two copies are the same record and
the loader removes one as a duplicate, so the graph equals the one built from
the generic layout.  The antenna table bandicoot keeps beside the user files
(``antenna_id, latitude, longitude``) is not a user file and is passed over.
User ids such as ``ego`` or ``A`` (bandicoot's samples) need ``--id-kind opaque``.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Sequence

import duckdb
import pyarrow as pa

from bellwether.loaders.cdr_csv import RawSource
from bellwether.loaders.errors import mask_text

COLUMNS = ("interaction", "direction", "correspondent_id", "datetime", "call_duration", "antenna_id")
TYPE_VALUES = {"call": "voice", "text": "sms"}


def bandicoot_files(root: Path) -> list[Path]:
    """The user files of a bandicoot data set (a directory, or one file), sorted."""
    if root.is_file():
        return [root]
    return sorted(p for p in root.rglob("*.csv") if p.is_file())


def read_bandicoot(con: duckdb.DuckDBPyConnection, files: Sequence[Path], tag: str) -> RawSource:
    """Raw relation of a bandicoot data set (see :class:`bellwether.loaders.cdr_csv.RawSource`)."""
    cols: dict[str, list] = {k: [] for k in ("file", "line", "caller", "callee", "start_time", "duration", "type")}
    structural: list[dict] = []
    for path in files:
        user = path.name[: -len(".csv")]
        with open(path, encoding="utf-8", errors="replace", newline="") as fh:
            reader = csv.reader(fh)
            header = next(reader, None)
            if header is None:
                continue
            idx = {h.strip().lower(): i for i, h in enumerate(header)}
            missing = [c for c in COLUMNS[:5] if c not in idx]
            if missing and {"latitude", "longitude"} <= set(idx):  # the antenna table beside the user files
                continue
            if missing:
                structural.append({"file": str(path), "line": 1, "column": "", "value": mask_text(",".join(header))[:200],
                                   "reason": "bad_row", "note": f"header lacks {', '.join(missing)}"})
                continue
            width = len(header)
            line = reader.line_num
            for row in reader:
                start, line = line + 1, reader.line_num
                if not row:
                    continue
                if len(row) != width:
                    structural.append({"file": str(path), "line": start, "column": "", "value": mask_text(",".join(row))[:200],
                                       "reason": "field_count", "note": f"expected {width} fields, found {len(row)}"})
                    continue
                direction = row[idx["direction"]].strip().lower()
                other = row[idx["correspondent_id"]]
                if direction == "out":
                    caller, callee = user, other
                elif direction == "in":
                    caller, callee = other, user
                else:
                    structural.append({"file": str(path), "line": start, "column": "direction",
                                       "value": mask_text(direction)[:50], "reason": "bad_value", "note": "'in' or 'out'"})
                    continue
                cols["file"].append(str(path))
                cols["line"].append(start)
                cols["caller"].append(caller)
                cols["callee"].append(callee)
                cols["start_time"].append(row[idx["datetime"]])
                cols["duration"].append(row[idx["call_duration"]])
                cols["type"].append(row[idx["interaction"]])
    table = pa.table({k: pa.array(v, pa.int64() if k == "line" else pa.string()) for k, v in cols.items()})
    con.register(f"{tag}_arrow", table)
    return RawSource(sql=f"SELECT * FROM {tag}_arrow", structural=structural)

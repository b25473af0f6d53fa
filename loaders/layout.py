"""Layout files: a recurring export described once, in TOML, instead of a conversion script.

``bellwether build --layout copenhagen.toml DIR`` reads the options of a load from
the file; options given on the command line win.  Every key is optional::

    id_kind = "opaque"            # "phone" (E.164 numbers, default) or "opaque" (any token)
    failed_calls = "keep"         # duration -1 on a call: "keep" as a 0-second attempt, or "drop"
    delimiter = ","               # default: sniffed from the first line
    names = ["t", "i", "j"]       # the file has no header; these are its columns
    format = "generic"            # or "bandicoot"

    [columns]                     # Bellwether column = column of the file
    caller = "from"
    callee = "to"
    start_time = "timestamp"

    [constants]                   # columns the files lack, the same value on every row
    type = "voice"

    [types]                       # values of the type column, lower-cased: voice or sms
    "mo_call" = "voice"

    [time]                        # see loaders.times.TimeRules
    format = "offset"             # iso | epoch | offset | a strftime pattern
    unit = "s"                    # s | ms
    origin = "2013-09-02 00:00:00"
    timezone = "Europe/Copenhagen"
    valid_from = "2013-01-01"
    valid_until = "2014-12-31"

    [[files]]                     # per-file settings, first match (glob on the file name) wins
    match = "sms*.csv"
    constants = { type = "sms" }
    columns = { start_time = "sent_at" }

A ``[[files]]`` entry may set ``columns``, ``constants``, ``names`` and ``delimiter``;
what it sets replaces the top-level value for the files it matches.
"""

from __future__ import annotations

import fnmatch
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

from bellwether.loaders.errors import LoadError
from bellwether.loaders.times import TimeRules, TimeRuleError

TOP_KEYS = {"id_kind", "failed_calls", "delimiter", "names", "format", "columns", "constants", "types", "time", "files"}
FILE_KEYS = {"match", "columns", "constants", "names", "delimiter"}
TIME_KEYS = {"format", "unit", "origin", "timezone", "valid_from", "valid_until"}


@dataclass(frozen=True)
class FileRule:
    """Settings for the files whose name matches the glob ``match``."""

    match: str
    mapping: Mapping[str, str] | None = None
    constants: Mapping[str, str] | None = None
    names: Sequence[str] | None = None
    delimiter: str | None = None

    def matches(self, path: Path) -> bool:
        return fnmatch.fnmatch(path.name, self.match) or fnmatch.fnmatch(str(path), self.match)


@dataclass(frozen=True)
class FileLayout:
    """How one CDR file is read: column map, constants, declared names, delimiter."""

    mapping: Mapping[str, str] = field(default_factory=dict)
    constants: Mapping[str, str] = field(default_factory=dict)
    names: Sequence[str] | None = None
    delimiter: str | None = None


def file_layout(path: Path, mapping: Mapping[str, str], constants: Mapping[str, str], names: Sequence[str] | None,
                delimiter: str | None, rules: Sequence[FileRule]) -> FileLayout:
    """The layout of ``path``: the first matching :class:`FileRule` replaces what it sets."""
    for r in rules:
        if r.matches(path):
            return FileLayout(dict(r.mapping if r.mapping is not None else mapping),
                              dict(r.constants if r.constants is not None else constants),
                              r.names if r.names is not None else names, r.delimiter or delimiter)
    return FileLayout(dict(mapping), dict(constants), names, delimiter)


def _table(doc: Mapping[str, Any], key: str, where: str) -> dict[str, str]:
    value = doc.get(key, {})
    if not isinstance(value, Mapping):
        raise LoadError(f"{where}: '{key}' must be a table of names to values.")
    return {str(k): str(v) for k, v in value.items()}


def _unknown(keys, allowed, where: str) -> None:
    extra = sorted(set(keys) - allowed)
    if extra:
        raise LoadError(f"{where}: unknown key(s) {', '.join(extra)}; allowed: {', '.join(sorted(allowed))}.")


def read_layout(path: Path | str) -> dict[str, Any]:
    """Options of :class:`bellwether.loaders.load.LoadOptions` described by a layout file (see the module docstring).

    Raises
    ------
    LoadError
        The file is missing, not TOML, or holds an unknown key or a bad value; the message names it.
    """
    path = Path(path)
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise LoadError(f"Layout file {path} cannot be read: {exc.strerror}.") from None
    except tomllib.TOMLDecodeError as exc:
        raise LoadError(f"Layout file {path} is not valid TOML: {exc}.") from None
    _unknown(doc, TOP_KEYS, str(path))
    out: dict[str, Any] = {}
    for key in ("id_kind", "failed_calls", "delimiter"):
        if key in doc:
            out[key] = str(doc[key])
    if "format" in doc:
        out["fmt"] = str(doc["format"])
    if "names" in doc:
        out["names"] = [str(n) for n in doc["names"]]
    if "columns" in doc:
        out["mapping"] = _table(doc, "columns", str(path))
    if "constants" in doc:
        out["constants"] = _table(doc, "constants", str(path))
    if "types" in doc:
        out["type_values"] = {k.lower(): v for k, v in _table(doc, "types", str(path)).items()}
    if "time" in doc:
        t = doc["time"]
        _unknown(t, TIME_KEYS, f"{path} [time]")
        try:
            out["time"] = TimeRules(**{k: str(v) for k, v in t.items()})
        except TimeRuleError as exc:
            raise LoadError(f"Layout file {path} [time]: {exc}") from None
    rules = []
    for i, f in enumerate(doc.get("files", [])):
        where = f"{path} [[files]] #{i + 1}"
        _unknown(f, FILE_KEYS, where)
        if "match" not in f:
            raise LoadError(f"{where}: needs 'match', a glob on the file name such as \"sms*.csv\".")
        rules.append(FileRule(str(f["match"]), _table(f, "columns", where) if "columns" in f else None,
                              _table(f, "constants", where) if "constants" in f else None,
                              [str(n) for n in f["names"]] if "names" in f else None,
                              str(f["delimiter"]) if "delimiter" in f else None))
    if rules:
        out["files"] = tuple(rules)
    return out

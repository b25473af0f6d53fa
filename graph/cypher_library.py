"""Named Cypher statements loaded from ``cypher/**/*.cypher``.

Every statement Bellwether sends to Neo4j lives in a ``.cypher`` file, readable
and runnable on its own (``cypher-shell -f cypher/schema.cypher`` works: the
headers are comments and each statement ends with ``;``).  A file holds one or
more statements, each introduced by a header of ``//`` comment lines::

    // name: load.subscribers
    // params: rows, batch
    // description: Merge a batch of subscribers on their pseudonymous id.
    // example: {"rows": [{"id": "a3f09c2e5b7d1e44", "props": {"on_net": true}}], "batch": "k"}
    UNWIND $rows AS row
    MERGE (s:Subscriber {id: row.id})
    SET s += row.props;

``name`` (unique across the library) and ``description`` are required;
``params`` lists the ``$parameters`` the statement uses, separated by commas
(empty when it uses none); a parameter written ``name=VALUE`` (``limit=10``) is
optional, ``VALUE`` being its default (a JSON scalar); ``example`` is an optional JSON object of example
parameters.  A header line may continue on the next comment line indented by
two or more spaces.  The statement is every line after the header up to the
next header; its text is kept exactly as written.

Loading checks that the declared parameters are exactly the ones the statement
uses (outside strings and comments) and reports any mismatch as
``file:line: message``, so a typo fails when the library is loaded rather than
when the statement first runs against a server.  The header style follows
the named-query files of yesql/aiosql (``-- name:``), in Cypher comment syntax.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterator

from bellwether.graph.core.errors import BellwetherError


def _cypher_dir() -> Path:
    """The ``cypher/`` folder, beside the ``graph`` package: in a checkout and in an installed wheel
    (``bellwether/cypher`` beside ``bellwether/graph``) alike."""
    return Path(__file__).resolve().parent.parent / "cypher"


CYPHER_DIR = _cypher_dir()

_HEADER = re.compile(r"^\s*//\s*(name|params|description|example)\s*:\s?(.*)$")
_CONTINUATION = re.compile(r"^\s*//\s{2,}(\S.*)$")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")
_PARAM_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# $name or $`name`, in code with strings and comments blanked out
_PARAM_USE = re.compile(r"\$(?:([A-Za-z_][A-Za-z0-9_]*)|`([^`]+)`)")


class CypherLibraryError(BellwetherError):
    """A ``.cypher`` file is malformed, or a statement name is unknown."""


@dataclass(frozen=True)
class CypherQuery:
    """One named statement: its exact text and what its header declares."""

    name: str
    text: str
    params: tuple[str, ...]
    description: str
    example: dict[str, Any] | None = None
    path: Path | None = None
    line: int = 0  # 1-based line of the ``// name:`` header
    defaults: dict[str, Any] = field(default_factory=dict)  # optional parameters and their values

    @property
    def location(self) -> str:
        return f"{self.path}:{self.line}"

    def bind(self, given: dict[str, Any]) -> dict[str, Any]:
        """``given`` with the defaults of the optional parameters it leaves out, checked by :meth:`check_params`."""
        bound = {**{k: v for k, v in self.defaults.items() if k not in given}, **given}
        self.check_params(bound)
        return bound

    def check_params(self, given: dict[str, Any] | Any) -> None:
        """Raise :class:`CypherLibraryError` unless ``given`` has exactly the declared parameter names."""
        names = set(given)
        missing = [p for p in self.params if p not in names]
        extra = sorted(names - set(self.params))
        if missing or extra:
            parts = []
            if missing:
                parts.append(f"missing {', '.join('$' + p for p in missing)}")
            if extra:
                parts.append(f"unexpected {', '.join('$' + p for p in extra)}")
            raise CypherLibraryError(
                f"Query {self.name!r} ({self.location}) takes "
                f"{', '.join('$' + p for p in self.params) or 'no parameters'}: {'; '.join(parts)}."
            )


@dataclass
class CypherLibrary:
    """All named statements under a root directory, looked up by name."""

    root: Path
    queries: dict[str, CypherQuery] = field(default_factory=dict)

    @classmethod
    def load(cls, root: str | Path | None = None) -> "CypherLibrary":
        """Parse every ``*.cypher`` file under ``root`` (default: the project's ``cypher/``).

        Raises
        ------
        CypherLibraryError
            A file has a statement without a header, a header without a statement,
            an unknown or duplicate name, or declared parameters that differ from
            the ones used; the message names the file and line.
        """
        root = Path(root) if root is not None else CYPHER_DIR
        if not root.is_dir():
            raise CypherLibraryError(f"Cypher directory {root} does not exist.")
        lib = cls(root)
        for path in sorted(root.rglob("*.cypher")):
            for q in parse_file(path):
                if q.name in lib.queries:
                    raise CypherLibraryError(
                        f"{q.location}: query name {q.name!r} is already defined at {lib.queries[q.name].location}."
                    )
                lib.queries[q.name] = q
        return lib

    def get(self, name: str) -> CypherQuery:
        """Return the statement called ``name``; the error lists close names."""
        try:
            return self.queries[name]
        except KeyError:
            import difflib

            close = difflib.get_close_matches(name, self.queries, n=3)
            hint = f" Did you mean {', '.join(close)}?" if close else ""
            raise CypherLibraryError(
                f"No Cypher query named {name!r} under {self.root}.{hint}"
            ) from None

    def __getitem__(self, name: str) -> CypherQuery:
        return self.get(name)

    def __contains__(self, name: object) -> bool:
        return name in self.queries

    def __iter__(self) -> Iterator[CypherQuery]:
        return iter(self.queries.values())

    def __len__(self) -> int:
        return len(self.queries)

    def names(self, prefix: str = "") -> list[str]:
        """Sorted names, optionally only those starting with ``prefix`` (e.g. ``"load."``)."""
        return sorted(n for n in self.queries if n.startswith(prefix))


@lru_cache(maxsize=1)
def default_library() -> CypherLibrary:
    """The project's library, loaded once per process."""
    return CypherLibrary.load()


def parse_file(path: str | Path) -> list[CypherQuery]:
    """Parse the named statements of one ``.cypher`` file (see the module docstring)."""
    path = Path(path)
    lines = path.read_text(encoding="utf-8").splitlines()
    blocks: list[tuple[int, int, int]] = []  # (header start, body start, end), 0-based line numbers
    i = 0
    n = len(lines)
    while i < n:
        m = _HEADER.match(lines[i])
        if not m or m.group(1) != "name":
            if lines[i].strip() and not lines[i].strip().startswith("//") and not blocks:
                raise CypherLibraryError(
                    f"{path}:{i + 1}: statement text before the first `// name:` header."
                )
            i += 1
            continue
        start = i
        i += 1
        while i < n and (_HEADER.match(lines[i]) or _CONTINUATION.match(lines[i])) and not _is_name(lines[i]):
            i += 1
        body = i
        while i < n and not _is_name(lines[i]):
            i += 1
        blocks.append((start, body, i))
    if not blocks:
        raise CypherLibraryError(f"{path}:1: no `// name:` header; every statement needs one.")
    return [_parse_block(path, lines, *b) for b in blocks]


def _is_name(line: str) -> bool:
    m = _HEADER.match(line)
    return bool(m and m.group(1) == "name")


def _parse_block(path: Path, lines: list[str], start: int, body: int, end: int) -> CypherQuery:
    header: dict[str, str] = {}
    header_line: dict[str, int] = {}
    key = None
    for j in range(start, body):
        m = _HEADER.match(lines[j])
        if m:
            key = m.group(1)
            if key in header:
                raise CypherLibraryError(f"{path}:{j + 1}: `{key}:` given twice for one statement.")
            header[key] = m.group(2).strip()
            header_line[key] = j + 1
        else:  # continuation of the previous key
            header[key] = f"{header[key]} {_CONTINUATION.match(lines[j]).group(1).strip()}".strip()  # type: ignore[index,union-attr]

    name = header["name"]
    where = f"{path}:{start + 1}"
    if not _NAME.match(name):
        raise CypherLibraryError(f"{where}: invalid query name {name!r} (letters, digits, _ and dots).")
    if not header.get("description"):
        raise CypherLibraryError(f"{where}: query {name!r} has no `// description:` line.")
    if "params" not in header:
        raise CypherLibraryError(
            f"{where}: query {name!r} has no `// params:` line (write `// params:` with nothing after it when it takes none)."
        )
    declared_items = [p.strip().lstrip("$") for p in header["params"].split(",") if p.strip()]
    defaults: dict[str, Any] = {}
    for i, item in enumerate(declared_items):
        pname, eq, raw = item.partition("=")
        if eq:
            try:
                defaults[pname.strip()] = json.loads(raw.strip())
            except json.JSONDecodeError as exc:
                raise CypherLibraryError(
                    f"{path}:{header_line['params']}: default of {pname.strip()!r} is not JSON ({raw.strip()!r}): {exc.msg}."
                ) from None
            declared_items[i] = pname.strip()
    declared = tuple(declared_items)
    for p in declared:
        if not _PARAM_NAME.match(p):
            raise CypherLibraryError(f"{path}:{header_line['params']}: invalid parameter name {p!r}.")
    if len(set(declared)) != len(declared):
        raise CypherLibraryError(f"{path}:{header_line['params']}: a parameter is listed twice in {header['params']!r}.")

    example = None
    if header.get("example"):
        try:
            example = json.loads(header["example"])
        except json.JSONDecodeError as exc:
            raise CypherLibraryError(f"{path}:{header_line['example']}: example is not valid JSON: {exc.msg}.") from None
        if not isinstance(example, dict):
            raise CypherLibraryError(f"{path}:{header_line['example']}: example must be a JSON object of parameters.")
        unknown = sorted(set(example) - set(declared))
        if unknown:
            raise CypherLibraryError(
                f"{path}:{header_line['example']}: example sets undeclared parameter(s) {', '.join(unknown)}."
            )

    text_lines = lines[body:end]
    while text_lines and not text_lines[-1].strip():
        text_lines.pop()
    text = "\n".join(text_lines).strip("\n")
    if not _strip_comments_and_strings(text).strip().strip(";").strip():
        raise CypherLibraryError(f"{where}: query {name!r} has a header but no statement.")

    used: dict[str, int] = {}
    for k, line in enumerate(_strip_comments_and_strings(text).split("\n")):
        for m in _PARAM_USE.finditer(line):
            used.setdefault(m.group(1) or m.group(2), body + k + 1)
    undeclared = [(p, ln) for p, ln in used.items() if p not in declared]
    if undeclared:
        p, ln = undeclared[0]
        raise CypherLibraryError(
            f"{path}:{ln}: query {name!r} uses ${p} but `// params:` (line {header_line['params']}) does not declare it."
        )
    unused = [p for p in declared if p not in used]
    if unused:
        raise CypherLibraryError(
            f"{path}:{header_line['params']}: query {name!r} declares "
            f"{', '.join('$' + p for p in unused)} but never uses it."
        )
    return CypherQuery(name, text, declared, header["description"], example, path, start + 1, defaults)


def _strip_comments_and_strings(text: str) -> str:
    """Blank out string literals and comments (keeping newlines) so ``$`` inside them is not a parameter."""
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c in "'\"":
            j = i + 1
            while j < n and text[j] != c:
                j += 2 if text[j] == "\\" else 1
            out.append(" " + "".join("\n" if ch == "\n" else " " for ch in text[i + 1 : j]) + " ")
            i = j + 1
        elif text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append("".join("\n" if ch == "\n" else " " for ch in text[i:j]))
            i = j
        else:
            out.append(c)
            i += 1
    return "".join(out)

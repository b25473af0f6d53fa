"""Named Cypher statements loaded from ``cypher/**/*.cypher``, and their typed parameters.

Every statement Bellwether sends to Neo4j lives in a ``.cypher`` file, readable
and runnable on its own (``cypher-shell -f cypher/schema.cypher`` works: the
headers are comments and each statement ends with ``;``).  A file holds one or
more statements, each introduced by a header of ``//`` comment lines::

    // name: community.top_bellwethers
    // params: community: int, limit: int = 25
    // description: The members of one community ranked by bellwether score.
    // example: {"community": 0, "limit": 5}
    MATCH (c:Community {id: $community})<-[:MEMBER_OF]-(s:Subscriber)
    RETURN s.id AS subscriber ORDER BY s.bellwether_score DESC LIMIT $limit;

``name`` (unique across the library) and ``description`` are required;
``params`` declares the ``$parameters`` the statement uses, separated by commas
(empty when it uses none), each as ``name: type``; ``name: type = VALUE``
(``limit: int = 25``) is optional, ``VALUE`` being its default (JSON).  The
types (:data:`PARAM_TYPES`) are ``int``, ``float``, ``bool``, ``str``, ``date``
(``YYYY-MM-DD``), ``list`` and ``map``; any parameter may also be null.
``example`` is an optional JSON object of example parameters.  A header line may
continue on the next comment line indented by two or more spaces.  The statement
is every line after the header up to the next header; its text is kept exactly
as written.

Loading checks that the declared parameters are exactly the ones the statement
uses (outside strings and comments), that each has a known type, and that the
defaults and the example fit those types, and reports any mismatch as
``file:line: message`` naming the query, so a typo fails when the library is
loaded rather than when the statement first runs against a server.

Values typed by hand (``bellwether query NAME --param limit=10``) become Python
values of the declared types with :meth:`CypherQuery.parse_params`, whose errors
name the parameter, the value and the type expected.  The header style follows
the named-query files of yesql/aiosql (``-- name:``), in Cypher comment syntax.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable, Iterator

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
# one declaration of `// params:`: name, name: type, name: type = default
_DECLARATION = re.compile(r"^\$?(?P<name>[^\s:=]+)\s*(?::\s*(?P<type>[^\s=]*))?\s*(?:=\s*(?P<default>.*))?$")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_INT = re.compile(r"^[+-]?\d+$")
_FLOAT = re.compile(r"^[+-]?(\d+\.\d*|\.\d+|\d+)([eE][+-]?\d+)?$")

#: The parameter types a header may declare, with what a value of each must be (the words of the errors).
PARAM_TYPES: dict[str, str] = {
    "int": "an integer",
    "float": "a number",
    "bool": "true or false",
    "str": "text",
    "date": "a date YYYY-MM-DD",
    "list": "a JSON list",
    "map": "a JSON object",
}


class CypherLibraryError(BellwetherError):
    """A ``.cypher`` file is malformed, or a statement name is unknown."""


class QueryParameterError(CypherLibraryError):
    """A parameter given as text is malformed, given twice, or does not fit its declared type."""


def parse_value(text: str, kind: str, name: str = "value") -> Any:
    """Read one parameter value typed by hand as the Python value of its declared type ``kind``.

    ``null`` is None for every type.  Text (``str``) is taken as written; quotes around it
    (``"007"``) are removed, and a quoted value of another type than ``str`` or ``date`` is an error.

    >>> parse_value("5", "int"), parse_value("5", "str"), parse_value("0.5", "float"), parse_value("2025-03-01", "date")
    (5, '5', 0.5, datetime.date(2025, 3, 1))

    Raises
    ------
    QueryParameterError
        The value does not fit ``kind``; the message names the parameter, the value and the type.
    """
    if kind not in PARAM_TYPES:
        raise CypherLibraryError(f"Parameter ${name} has unknown type {kind!r} (one of {', '.join(PARAM_TYPES)}).")
    t = text.strip()
    if len(t) >= 2 and t[0] == t[-1] == '"':
        try:
            quoted = json.loads(t)
        except json.JSONDecodeError:
            quoted = t[1:-1]
        if kind == "str":
            return quoted
        if kind == "date":
            return _from_text(quoted, kind, name)
        raise QueryParameterError(f"Parameter ${name} must be {PARAM_TYPES[kind]}, got the text {t}.")
    if kind == "str":
        return text
    return _from_text(t, kind, name)


def _from_text(t: str, kind: str, name: str) -> Any:
    fail = QueryParameterError(f"Parameter ${name} must be {PARAM_TYPES[kind]}, got {t!r}.")
    if t.lower() == "null":
        return None
    if kind == "int" and _INT.match(t):
        return int(t)
    if kind == "float" and (_FLOAT.match(t) or t.lower() in ("inf", "-inf", "+inf")):
        return float(t)
    if kind == "bool" and t.lower() in ("true", "false"):
        return t.lower() == "true"
    if kind == "date" and _ISO_DATE.match(t):
        try:
            return date.fromisoformat(t)
        except ValueError:
            raise fail from None
    if kind in ("list", "map"):
        try:
            value = json.loads(t)
        except json.JSONDecodeError:
            raise fail from None
        if isinstance(value, list if kind == "list" else dict):
            return value
    raise fail


def _from_json(value: Any, kind: str) -> Any:
    """A JSON value of a header (a default, an example) as ``kind``; ValueError when it does not fit."""
    if value is None:
        return None
    fits = {
        "int": isinstance(value, int) and not isinstance(value, bool),
        "float": isinstance(value, (int, float)) and not isinstance(value, bool),
        "bool": isinstance(value, bool),
        "str": isinstance(value, str),
        "date": isinstance(value, str) and bool(_ISO_DATE.match(value)),
        "list": isinstance(value, list),
        "map": isinstance(value, dict),
    }[kind]
    if not fits:
        raise ValueError(value)
    if kind == "date":
        return date.fromisoformat(value)  # ValueError for 2025-13-01
    return float(value) if kind == "float" else value


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
    types: dict[str, str] = field(default_factory=dict)  # every parameter's declared type (PARAM_TYPES)

    @property
    def location(self) -> str:
        return f"{self.path}:{self.line}"

    @property
    def signature(self) -> str:
        """The parameters as the header declares them, e.g. ``community: int, limit: int = 25``."""
        def default(p: str) -> str:
            if p not in self.defaults:
                return ""
            v = self.defaults[p]
            return f" = {json.dumps(v.isoformat() if isinstance(v, date) else v)}"

        return ", ".join(f"{p}: {self.types[p]}{default(p)}" for p in self.params)

    def parse_params(self, given: Iterable[tuple[str, str]]) -> dict[str, Any]:
        """Typed parameters from ``(name, text)`` pairs typed by hand (``[("community", "3")]``).

        Each text is read as its parameter's declared type (:func:`parse_value`), the optional
        parameters left out take their defaults, and the names are checked (:meth:`bind`).

        Raises
        ------
        QueryParameterError
            A name given twice, or a value that does not fit its type (naming both, and the type).
        CypherLibraryError
            Missing or unexpected parameters (one line naming them).
        """
        params: dict[str, Any] = {}
        for key, text in given:
            key = key.strip().lstrip("$")
            if key in params:
                raise QueryParameterError(f"Parameter ${key} is given twice.")
            params[key] = parse_value(text, self.types[key], key) if key in self.types else text
        return self.bind(params)

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

    def under(self, folder: str) -> "CypherLibrary":
        """The statements whose file lies under ``root/folder``, sorted by name."""
        root = (self.root / folder).resolve()
        picked = {q.name: q for q in self if q.path is not None and root in q.path.resolve().parents}
        return CypherLibrary(self.root / folder, dict(sorted(picked.items())))

    def find(self, name: str) -> CypherQuery:
        """The statement called ``name``, or the only one whose name ends with ``.name`` (``followers``).

        Raises
        ------
        CypherLibraryError
            No such statement; the message lists the closest names.
        """
        if name in self.queries:
            return self.queries[name]
        suffix = [q for n, q in self.queries.items() if n.split(".", 1)[-1] == name]
        if len(suffix) == 1:
            return suffix[0]
        import difflib

        close = difflib.get_close_matches(name, list(self.queries), n=3, cutoff=0.5)
        close += [n for n in self.queries if name and name in n and n not in close][: 3 - len(close)]
        hint = f" Did you mean {', '.join(close)}?" if close else " See `bellwether query --list`."
        raise CypherLibraryError(f"No query named {name!r} in {self.root}.{hint}")


@lru_cache(maxsize=1)
def default_library() -> CypherLibrary:
    """The project's library, loaded once per process."""
    return CypherLibrary.load()


def analyst_queries(library: CypherLibrary | None = None) -> CypherLibrary:
    """The analysts' queries (``cypher/queries/``, what ``bellwether query`` runs), sorted by name."""
    return (library or default_library()).under("queries")


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
    declared, types, defaults = _declarations(f"{path}:{header_line['params']}", name, header["params"])

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
        for p, value in example.items():
            try:
                _from_json(value, types[p])
            except ValueError:
                raise CypherLibraryError(
                    f"{path}:{header_line['example']}: query {name!r}: the example's ${p} {json.dumps(value)} "
                    f"is not {PARAM_TYPES[types[p]]} (`// params:` declares {p}: {types[p]})."
                ) from None

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
    return CypherQuery(name, text, declared, header["description"], example, path, start + 1, defaults, types)


def _declarations(where: str, query: str, text: str) -> tuple[tuple[str, ...], dict[str, str], dict[str, Any]]:
    """Names, types and defaults of a ``// params:`` line (``where`` is its ``file:line``)."""
    names: list[str] = []
    types: dict[str, str] = {}
    defaults: dict[str, Any] = {}
    for item in _split_top_level(text):
        m = _DECLARATION.match(item)
        p = m.group("name") if m else item
        if not m or not _PARAM_NAME.match(p):
            raise CypherLibraryError(f"{where}: invalid parameter name {p!r}.")
        if p in types:
            raise CypherLibraryError(f"{where}: a parameter is listed twice in {text!r}.")
        kind, raw = m.group("type"), m.group("default")
        if not kind:
            raise CypherLibraryError(
                f"{where}: query {query!r} declares ${p} without a type (write `{p}: TYPE`, "
                f"TYPE one of {', '.join(PARAM_TYPES)})."
            )
        if kind not in PARAM_TYPES:
            raise CypherLibraryError(
                f"{where}: query {query!r} declares ${p} of unknown type {kind!r} (one of {', '.join(PARAM_TYPES)})."
            )
        if raw is not None:
            try:
                value = json.loads(raw.strip())
            except json.JSONDecodeError as exc:
                raise CypherLibraryError(f"{where}: default of {p!r} is not JSON ({raw.strip()!r}): {exc.msg}.") from None
            try:
                defaults[p] = _from_json(value, kind)
            except ValueError:
                raise CypherLibraryError(
                    f"{where}: query {query!r}: default of ${p} {raw.strip()} is not {PARAM_TYPES[kind]} ({p}: {kind})."
                ) from None
        names.append(p)
        types[p] = kind
    return tuple(names), types, defaults


def _split_top_level(text: str) -> list[str]:
    """``text`` split at the commas outside brackets and strings (a default may be ``[1, 2]`` or ``"a, b"``)."""
    items, current, depth, quote, escaped = [], [], 0, "", False
    for ch in text:
        if quote:
            escaped, quote = (not escaped and ch == "\\"), ("" if ch == quote and not escaped else quote)
        elif ch == '"':
            quote = ch
        elif ch in "[{":
            depth += 1
        elif ch in "]}":
            depth -= 1
        elif ch == "," and depth == 0:
            items.append("".join(current))
            current = []
            continue
        current.append(ch)
    items.append("".join(current))
    return [i.strip() for i in items if i.strip()]


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

"""The Cypher library: header parsing, parameter checks with file:line errors, look-up by name (no server)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bellwether.graph.cypher_library import CYPHER_DIR, CypherLibrary, CypherLibraryError, parse_file


def write(tmp_path: Path, text: str, name: str = "q.cypher") -> Path:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


GOOD = """// Two statements in one file.

// name: demo.top
// params: limit, min_weight
// description: The strongest contacts,
//   longest first.
// example: {"limit": 5, "min_weight": 1.0}
MATCH (a:Subscriber)-[c:CONTACT]->(b:Subscriber)
WHERE c.weight >= $min_weight // a comment with $not_a_param
RETURN a.id, b.id, c.weight, '$also_not' AS s
ORDER BY c.weight DESC
LIMIT $limit;

// name: demo.count
// params:
// description: How many subscribers.
MATCH (s:Subscriber) RETURN count(s) AS n;
"""


def test_project_library_loads_and_covers_every_store_statement():
    lib = CypherLibrary.load()
    for name in ("schema.subscriber_id", "load.subscribers", "load.contacts", "load.done_batches",
                 "pull.subscribers", "pull.contacts", "writeback.subscribers", "writeback.memberships"):
        assert name in lib
    assert all(q.path is not None and q.path.is_relative_to(CYPHER_DIR) for q in lib)


def test_parses_headers_text_and_params(tmp_path):
    path = write(tmp_path, GOOD)
    top, count = parse_file(path)
    assert top.name == "demo.top" and top.params == ("limit", "min_weight")
    assert top.description == "The strongest contacts, longest first."
    assert top.example == {"limit": 5, "min_weight": 1.0}
    assert top.line == 3 and count.line == 14 and count.params == ()
    # the text is kept exactly as written, comments and semicolon included
    assert top.text == GOOD.splitlines()[7] + "\n" + "\n".join(GOOD.splitlines()[8:12])
    assert top.text.endswith("LIMIT $limit;")


def test_lookup_by_name_suggests_close_names(tmp_path):
    write(tmp_path, GOOD)
    lib = CypherLibrary.load(tmp_path)
    assert lib.get("demo.count").text.startswith("MATCH (s:Subscriber)")
    assert lib.names("demo.") == ["demo.count", "demo.top"]
    with pytest.raises(CypherLibraryError, match="Did you mean demo.top"):
        lib.get("demo.tpo")


def test_undeclared_parameter_names_file_and_line(tmp_path):
    path = write(tmp_path, "// name: x.q\n// params: a\n// description: d\nMATCH (n) WHERE n.v = $a\nRETURN $b;\n")
    with pytest.raises(CypherLibraryError, match=re.escape(f"{path}:5: query 'x.q' uses $b")):
        parse_file(path)


def test_declared_but_unused_parameter_names_the_params_line(tmp_path):
    path = write(tmp_path, "// name: x.q\n// params: a, unused\n// description: d\nRETURN $a;\n")
    with pytest.raises(CypherLibraryError, match=re.escape(f"{path}:2: query 'x.q' declares $unused")):
        parse_file(path)


def test_params_in_strings_and_comments_do_not_count(tmp_path):
    path = write(tmp_path, "// name: x.q\n// params:\n// description: d\n"
                 "RETURN \"$x\" AS a, 'it''s $y' AS b /* $z\n $w */ // $v\n;\n")
    (q,) = parse_file(path)
    assert q.params == ()


def test_optional_parameters_have_defaults_and_bad_defaults_name_the_line(tmp_path):
    path = write(tmp_path, "// name: x.q\n// params: a, limit=10, flag=true\n// description: d\nRETURN $a, $flag LIMIT $limit;\n")
    (q,) = parse_file(path)
    assert q.params == ("a", "limit", "flag") and q.defaults == {"limit": 10, "flag": True}
    assert q.bind({"a": 1}) == {"a": 1, "limit": 10, "flag": True}
    with pytest.raises(CypherLibraryError, match=r"missing \$a"):
        q.bind({"limit": 3})
    bad = write(tmp_path, "// name: y.q\n// params: limit=ten\n// description: d\nRETURN $limit;\n", "bad.cypher")
    with pytest.raises(CypherLibraryError, match=rf"{bad}:2: default of 'limit' is not JSON"):
        parse_file(bad)


def test_backticked_parameter_is_found(tmp_path):
    path = write(tmp_path, "// name: x.q\n// params: odd\n// description: d\nRETURN $`odd`;\n")
    assert parse_file(path)[0].params == ("odd",)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("MATCH (n) RETURN n;\n", ":1: statement text before the first `// name:` header"),
        ("// just a comment\n", ":1: no `// name:` header"),
        ("// name: x.q\n// params:\nRETURN 1;\n", ":1: query 'x.q' has no `// description:` line"),
        ("// name: x.q\n// description: d\nRETURN 1;\n", ":1: query 'x.q' has no `// params:` line"),
        ("// name: x.q\n// params:\n// description: d\n", ":1: query 'x.q' has a header but no statement"),
        ("// name: x q\n// params:\n// description: d\nRETURN 1;\n", ":1: invalid query name 'x q'"),
        ("// name: x.q\n// params: a\n// description: d\n// example: {\"b\": 1}\nRETURN $a;\n",
         ":4: example sets undeclared parameter(s) b"),
        ("// name: x.q\n// params: a\n// description: d\n// example: {oops}\nRETURN $a;\n", ":4: example is not valid JSON"),
        ("// name: x.q\n// params: a, a\n// description: d\nRETURN $a;\n", ":2: a parameter is listed twice"),
    ],
)
def test_malformed_files_fail_with_location(tmp_path, text, message):
    path = write(tmp_path, text)
    with pytest.raises(CypherLibraryError, match=re.escape(f"{path}{message}")):
        parse_file(path)


def test_duplicate_names_across_files_name_both_places(tmp_path):
    write(tmp_path, "// name: x.q\n// params:\n// description: d\nRETURN 1;\n", "a/one.cypher")
    second = write(tmp_path, "// name: x.q\n// params:\n// description: d\nRETURN 2;\n", "b/two.cypher")
    with pytest.raises(CypherLibraryError, match=re.escape(f"{second}:1: query name 'x.q' is already defined at")):
        CypherLibrary.load(tmp_path)


def test_check_params_reports_missing_and_unexpected(tmp_path):
    write(tmp_path, GOOD)
    q = CypherLibrary.load(tmp_path).get("demo.top")
    q.check_params({"limit": 1, "min_weight": 0})
    with pytest.raises(CypherLibraryError, match=r"missing \$min_weight; unexpected \$lmit"):
        q.check_params({"limit": 1, "lmit": 2})

"""The Cypher library: header parsing, typed parameters checked on load with file:line errors, values typed
from text, look-up by name (no server)."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from bellwether.graph.cypher_library import (
    CYPHER_DIR,
    PARAM_TYPES,
    CypherLibrary,
    CypherLibraryError,
    QueryParameterError,
    analyst_queries,
    default_library,
    parse_file,
    parse_value,
)


def write(tmp_path: Path, text: str, name: str = "q.cypher") -> Path:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


GOOD = """// Two statements in one file.

// name: demo.top
// params: limit: int, min_weight: float
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
    path = write(tmp_path, "// name: x.q\n// params: a: int\n// description: d\nMATCH (n) WHERE n.v = $a\nRETURN $b;\n")
    with pytest.raises(CypherLibraryError, match=re.escape(f"{path}:5: query 'x.q' uses $b")):
        parse_file(path)


def test_declared_but_unused_parameter_names_the_params_line(tmp_path):
    path = write(tmp_path, "// name: x.q\n// params: a: int, unused: str\n// description: d\nRETURN $a;\n")
    with pytest.raises(CypherLibraryError, match=re.escape(f"{path}:2: query 'x.q' declares $unused")):
        parse_file(path)


def test_params_in_strings_and_comments_do_not_count(tmp_path):
    path = write(tmp_path, "// name: x.q\n// params:\n// description: d\n"
                 "RETURN \"$x\" AS a, 'it''s $y' AS b /* $z\n $w */ // $v\n;\n")
    (q,) = parse_file(path)
    assert q.params == ()


def test_optional_parameters_have_defaults_and_bad_defaults_name_the_line(tmp_path):
    path = write(tmp_path, "// name: x.q\n// params: a: int, limit: int = 10, flag: bool = true\n// description: d\nRETURN $a, $flag LIMIT $limit;\n")
    (q,) = parse_file(path)
    assert q.params == ("a", "limit", "flag") and q.defaults == {"limit": 10, "flag": True}
    assert q.bind({"a": 1}) == {"a": 1, "limit": 10, "flag": True}
    with pytest.raises(CypherLibraryError, match=r"missing \$a"):
        q.bind({"limit": 3})
    bad = write(tmp_path, "// name: y.q\n// params: limit: int = ten\n// description: d\nRETURN $limit;\n", "bad.cypher")
    with pytest.raises(CypherLibraryError, match=rf"{bad}:2: default of 'limit' is not JSON"):
        parse_file(bad)


def test_backticked_parameter_is_found(tmp_path):
    path = write(tmp_path, "// name: x.q\n// params: odd: str\n// description: d\nRETURN $`odd`;\n")
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
        ("// name: x.q\n// params: a: int\n// description: d\n// example: {\"b\": 1}\nRETURN $a;\n",
         ":4: example sets undeclared parameter(s) b"),
        ("// name: x.q\n// params: a: int\n// description: d\n// example: {oops}\nRETURN $a;\n", ":4: example is not valid JSON"),
        ("// name: x.q\n// params: a: int, a: int\n// description: d\nRETURN $a;\n", ":2: a parameter is listed twice"),
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


# --- typed parameters: the header declares them, loading checks them -----------------------------------
ANALYST_SIGNATURES = {  # what `bellwether query` types each --param as; a header changing a type fails here
    "bellwether.at_risk": "min_risk: float, limit: int = 25",
    "bellwether.followers": "bellwether: str",
    "bellwether.off_net_contacts": "min_bellwethers: int, limit: int = 25",
    "churn.by_churned_contacts": "as_of: date, horizon_days: int, max_contacts: int",
    "churn.contacts_of_recent_churners": "since: date, min_weight: float, limit: int = 25",
    "community.bridges": "community_a: int, community_b: int, limit: int = 25",
    "community.profile": "community: int",
    "community.ranked_by_contagion": "min_size: int = 10, limit: int = 25",
    "community.top_bellwethers": "community: int, limit: int = 25",
    "segment.by_community": "segment: str, min_size: int = 10",
    "subscriber.ego_network": "subscriber: str, limit: int = 25",
    "subscriber.shortest_path": "source: str, target: str",
}


def test_every_statement_types_every_parameter():
    for q in CypherLibrary.load():
        assert list(q.types) == list(q.params), q.location
        assert set(q.types.values()) <= set(PARAM_TYPES), q.location


def test_analyst_queries_declare_the_expected_types_and_an_example_of_each():
    queries = analyst_queries()
    assert {q.name: q.signature for q in queries} == ANALYST_SIGNATURES
    for q in queries:
        assert q.description and q.example is not None, q.name
        assert set(q.example) == set(q.params), f"{q.name}: the example must show every parameter"
        assert q.text.rstrip().endswith(";")
        assert "queries" in q.path.parts
    assert "load.contacts" not in queries and "load.contacts" in default_library()


def test_parses_types_defaults_and_the_signature(tmp_path):
    path = write(tmp_path, "// name: x.q\n// params: $a: int, b: list = [1, 2], c: str = \"x, y\", d: date = \"2025-03-01\",\n"
                 "//   e: map = {\"k\": 1, \"j\": 2}, f: float = 1, g: bool = null\n// description: d\n"
                 "RETURN $a, $b, $c, $d, $e, $f, $g;\n")
    (q,) = parse_file(path)
    assert q.params == ("a", "b", "c", "d", "e", "f", "g")
    assert q.types == {"a": "int", "b": "list", "c": "str", "d": "date", "e": "map", "f": "float", "g": "bool"}
    assert q.defaults == {"b": [1, 2], "c": "x, y", "d": date(2025, 3, 1), "e": {"k": 1, "j": 2}, "f": 1.0, "g": None}
    assert type(q.defaults["f"]) is float
    assert q.signature == ('a: int, b: list = [1, 2], c: str = "x, y", d: date = "2025-03-01", '
                           'e: map = {"k": 1, "j": 2}, f: float = 1.0, g: bool = null')


@pytest.mark.parametrize(
    ("params", "example", "message"),
    [
        ("a", None, ":2: query 'x.q' declares $a without a type (write `a: TYPE`"),
        ("a: integer", None, ":2: query 'x.q' declares $a of unknown type 'integer' (one of int, float, bool, str"),
        ("a: int, b:", None, ":2: query 'x.q' declares $b without a type"),
        ("a: int = \"ten\"", None, ":2: query 'x.q': default of $a \"ten\" is not an integer (a: int)"),
        ("a: date = \"2025-13-01\"", None, ":2: query 'x.q': default of $a \"2025-13-01\" is not a date YYYY-MM-DD"),
        ("a: int", '{"a": "three"}', ":4: query 'x.q': the example's $a \"three\" is not an integer (`// params:` declares a: int)"),
        ("a: float", '{"a": true}', ":4: query 'x.q': the example's $a true is not a number"),
        ("a: date", '{"a": "01/03/2025"}', ":4: query 'x.q': the example's $a \"01/03/2025\" is not a date YYYY-MM-DD"),
        ("a: str", '{"a": 7}', ":4: query 'x.q': the example's $a 7 is not text"),
        ("a: list", '{"a": {"k": 1}}', ":4: query 'x.q': the example's $a {\"k\": 1} is not a JSON list"),
    ],
)
def test_a_missing_unknown_or_contradicted_type_fails_the_load_naming_file_and_query(tmp_path, params, example, message):
    example_line = f"// example: {example}\n" if example else ""
    path = write(tmp_path, f"// name: x.q\n// params: {params}\n// description: d\n{example_line}RETURN $a{', $b' if 'b:' in params else ''};\n")
    with pytest.raises(CypherLibraryError, match=re.escape(f"{path}{message}")):
        parse_file(path)
    with pytest.raises(CypherLibraryError, match=re.escape(f"{path}{message}")):
        CypherLibrary.load(tmp_path)


P = "// params: community: int, limit: int = 25\n"
E = '// example: {"community": 0, "limit": 5}\n'


@pytest.mark.parametrize(
    ("replace", "message"),
    [
        ({P: P.replace("community: int", "community: str")},
         ":8: query 'community.top_bellwethers': the example's $community 0 is not text"),
        ({P: P.replace("limit: int", "limit: bool")},
         ":5: query 'community.top_bellwethers': default of $limit 25 is not true or false (limit: bool)"),
        ({P: P.replace("community: int", "community")},
         ":5: query 'community.top_bellwethers' declares $community without a type"),
        ({P: P.replace("community: int", "community: number")},
         ":5: query 'community.top_bellwethers' declares $community of unknown type 'number'"),
        ({P: P.replace("= 25", '= "25"')},
         ":5: query 'community.top_bellwethers': default of $limit \"25\" is not an integer"),
        ({P: "// params: community: int\n", E: '// example: {"community": 0}\n'},
         ":14: query 'community.top_bellwethers' uses $limit but `// params:` (line 5) does not declare it"),
        ({P: P.replace("= 25", "= 25, colour: str")},
         ":5: query 'community.top_bellwethers' declares $colour but never uses it"),
    ],
)
def test_a_project_query_with_a_wrong_or_missing_declaration_fails_to_load(tmp_path, replace, message):
    text = (CYPHER_DIR / "queries" / "top_bellwethers.cypher").read_text(encoding="utf-8")
    for old, new in replace.items():
        assert old in text
        text = text.replace(old, new)
    path = write(tmp_path, text, "queries/top_bellwethers.cypher")
    with pytest.raises(CypherLibraryError, match=re.escape(f"{path}{message}")):
        CypherLibrary.load(tmp_path)


# --- typed values from text (what `bellwether query --param` sends) ----------------------------------
def test_values_are_read_as_their_declared_type():
    q = analyst_queries().find("churn.by_churned_contacts")
    params = q.parse_params([("as_of", "2025-03-01"), ("horizon_days", "30"), ("max_contacts", "5")])
    assert params == {"as_of": date(2025, 3, 1), "horizon_days": 30, "max_contacts": 5}
    assert type(params["horizon_days"]) is int

    q = analyst_queries().find("churn.contacts_of_recent_churners")
    params = q.parse_params([("since", "2025-02-01"), ("min_weight", "2"), ("$limit", "10")])
    assert params == {"since": date(2025, 2, 1), "min_weight": 2.0, "limit": 10}
    assert type(params["min_weight"]) is float


def test_identifiers_stay_text_even_when_they_look_like_numbers():
    q = analyst_queries().find("subscriber.shortest_path")
    assert q.parse_params([("source", "0000000000000001"), ("target", "1e5")]) == {"source": "0000000000000001", "target": "1e5"}


@pytest.mark.parametrize(
    ("text", "kind", "value"),
    [
        ("12", "int", 12), ("-3", "int", -3), (" +7 ", "int", 7),
        ("0.25", "float", 0.25), ("2", "float", 2.0), ("1e-3", "float", 0.001), ("-inf", "float", float("-inf")),
        ("true", "bool", True), ("FALSE", "bool", False),
        ("2024-02-29", "date", date(2024, 2, 29)), ('"2024-02-29"', "date", date(2024, 2, 29)),
        ("north", "str", "north"), ("007", "str", "007"), ('"42"', "str", "42"), (" padded ", "str", " padded "),
        ("[1, 2]", "list", [1, 2]), ('{"a": [1]}', "map", {"a": [1]}),
        ("null", "int", None), ("NULL", "date", None), ("null", "list", None),
    ],
)
def test_parse_value_reads_each_type(text, kind, value):
    got = parse_value(text, kind, "p")
    assert got == value and type(got) is type(value)


@pytest.mark.parametrize(
    ("text", "kind", "message"),
    [
        ("three", "int", "Parameter $p must be an integer, got 'three'."),
        ("1.5", "int", "Parameter $p must be an integer, got '1.5'."),
        ("abc", "float", "Parameter $p must be a number, got 'abc'."),
        ("yes", "bool", "Parameter $p must be true or false, got 'yes'."),
        ("2025-13-01", "date", "Parameter $p must be a date YYYY-MM-DD, got '2025-13-01'."),
        ("20250301", "date", "Parameter $p must be a date YYYY-MM-DD, got '20250301'."),
        ('{"a": 1}', "list", "Parameter $p must be a JSON list, got '{\"a\": 1}'."),
        ("[1,", "list", "Parameter $p must be a JSON list, got '[1,'."),
        ("[1]", "map", "Parameter $p must be a JSON object, got '[1]'."),
        ('"5"', "int", 'Parameter $p must be an integer, got the text "5".'),
    ],
)
def test_a_value_of_the_wrong_type_names_parameter_value_and_type(text, kind, message):
    with pytest.raises(QueryParameterError) as err:
        parse_value(text, kind, "p")
    assert str(err.value) == message


def test_parse_value_refuses_an_unknown_type():
    with pytest.raises(CypherLibraryError, match=r"\$p has unknown type 'integer' \(one of int, float"):
        parse_value("1", "integer", "p")


@pytest.mark.parametrize(
    ("name", "pairs", "message"),
    [
        ("community.top_bellwethers", [("community", "three"), ("limit", "5")], "$community must be an integer, got 'three'"),
        ("churn.by_churned_contacts", [("as_of", "2025-13-01"), ("horizon_days", "30"), ("max_contacts", "5")],
         "$as_of must be a date"),
        ("community.top_bellwethers", [("limit", "5")], "missing $community"),
        ("community.top_bellwethers", [("community", "1"), ("limit", "5"), ("colour", "red")], "unexpected $colour"),
        ("community.top_bellwethers", [("community", "1"), ("community", "2"), ("limit", "1")], "$community is given twice"),
    ],
)
def test_bad_parameters_fail_with_one_line_naming_them(name, pairs, message):
    with pytest.raises(CypherLibraryError) as err:
        analyst_queries().find(name).parse_params(pairs)
    assert message in str(err.value)
    assert "\n" not in str(err.value)


def test_optional_parameters_take_their_declared_defaults():
    query = analyst_queries().find("community.top_bellwethers")
    assert query.defaults == {"limit": 25}
    assert query.parse_params([("community", "3")]) == {"community": 3, "limit": 25}
    assert query.parse_params([("community", "3"), ("limit", "5")]) == {"community": 3, "limit": 5}


# --- the analysts' queries by name --------------------------------------------------------------------
def test_short_name_finds_the_one_query_with_that_suffix():
    queries = analyst_queries()
    assert queries.find("followers").name == "bellwether.followers"
    with pytest.raises(CypherLibraryError, match="No query named 'folowers' in .*queries. Did you mean bellwether.followers"):
        queries.find("folowers")
    with pytest.raises(CypherLibraryError, match=re.escape("See `bellwether query --list`.")):
        queries.find("zzz")

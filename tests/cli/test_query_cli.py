"""`bellwether query` without a server: the listing, parameter typing and the one-line errors."""

from __future__ import annotations

import json
import socket
from datetime import date

import pytest
from typer.testing import CliRunner

from bellwether.cli.app import app, main
from bellwether.cli.query import analyst_queries, declared_types, find_query, parse_params, parse_value
from bellwether.graph.cypher_library import CypherLibraryError

EXPECTED = {
    "bellwether.at_risk", "bellwether.followers", "bellwether.off_net_contacts", "churn.by_churned_contacts",
    "churn.contacts_of_recent_churners", "community.bridges", "community.profile", "community.ranked_by_contagion",
    "community.top_bellwethers", "segment.by_community", "subscriber.ego_network", "subscriber.shortest_path",
}


def _run(capsys, *args: str) -> tuple[int, str, str]:
    code = 0
    try:
        main(list(args))
    except SystemExit as exc:
        code = int(exc.code or 0)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_library_has_every_analyst_query_with_header_and_example():
    queries = analyst_queries()
    assert EXPECTED <= set(queries)
    for q in queries.values():
        assert q.description and q.example is not None, q.name
        assert set(q.example) == set(q.params), f"{q.name}: the example must type every parameter"
        assert q.text.rstrip().endswith(";")
        assert "queries" in q.path.parts


def test_list_prints_every_query_name_and_description():
    res = CliRunner().invoke(app, ["query", "--list", "--format", "json"])
    assert res.exit_code == 0, res.output
    listed = {d["name"]: d for d in json.loads(res.output)}
    assert set(listed) == set(analyst_queries())
    assert listed["bellwether.followers"]["params"] == ["bellwether"]
    assert "followers" in listed["bellwether.followers"]["description"]
    assert not any(n.startswith(("load.", "writeback.", "schema.")) for n in listed)

    res = CliRunner().invoke(app, ["query", "--list", "--format", "csv"])
    lines = res.output.strip().splitlines()
    assert lines[0] == "name,params,description" and len(lines) == len(listed) + 1


def test_values_are_typed_by_the_example_header():
    q = find_query("churn.by_churned_contacts")
    assert declared_types(q) == {"as_of": "date", "horizon_days": "int", "max_contacts": "int"}
    params = parse_params(["as_of=2025-03-01", "horizon_days=30", "max_contacts=5"], q)
    assert params == {"as_of": date(2025, 3, 1), "horizon_days": 30, "max_contacts": 5}
    assert type(params["horizon_days"]) is int

    q = find_query("churn.contacts_of_recent_churners")
    assert parse_params(["since=2025-02-01", "min_weight=2", "limit=10"], q)["min_weight"] == 2.0
    assert isinstance(parse_params(["since=2025-02-01", "min_weight=2", "limit=10"], q)["min_weight"], float)


def test_identifiers_stay_text_even_when_they_look_like_numbers():
    q = find_query("subscriber.shortest_path")
    params = parse_params(["source=0000000000000001", "target=1e5"], q)
    assert params == {"source": "0000000000000001", "target": "1e5"}


def test_sensible_parsing_without_a_declared_type():
    assert parse_value("12") == 12 and parse_value("-3") == -3
    assert parse_value("0.25") == 0.25
    assert parse_value("true") is True and parse_value("FALSE") is False
    assert parse_value("null") is None
    assert parse_value("2024-02-29") == date(2024, 2, 29)
    assert parse_value("[1, 2]") == [1, 2]
    assert parse_value("007") == "007"  # a leading zero means an identifier
    assert parse_value('"42"') == "42"  # quotes force text
    assert parse_value("north") == "north"


@pytest.mark.parametrize(
    "name, pairs, message",
    [
        ("community.top_bellwethers", ["community=three", "limit=5"], "$community must be an integer, got 'three'"),
        ("churn.by_churned_contacts", ["as_of=2025-13-01", "horizon_days=30", "max_contacts=5"], "$as_of must be a date"),
        ("community.top_bellwethers", ["limit=5"], "missing $community"),
        ("community.top_bellwethers", ["community=1", "limit=5", "colour=red"], "unexpected $colour"),
        ("community.top_bellwethers", ["community"], "is not key=value"),
        ("community.top_bellwethers", ["community=1", "community=2", "limit=1"], "$community is given twice"),
    ],
)
def test_bad_parameters_fail_with_one_line_naming_them(name, pairs, message):
    with pytest.raises(CypherLibraryError) as err:
        parse_params(pairs, find_query(name))
    assert message in str(err.value)
    assert "\n" not in str(err.value)


def test_unknown_name_lists_close_names(capsys):
    code, out, err = _run(capsys, "query", "community.top_bellwether", "--param", "community=1")
    assert code == 1
    lines = err.strip().splitlines()
    assert len(lines) == 1
    assert "No query named 'community.top_bellwether'" in lines[0]
    assert "community.top_bellwethers" in lines[0]


def test_short_name_finds_the_one_query_with_that_suffix():
    assert find_query("followers").name == "bellwether.followers"
    with pytest.raises(CypherLibraryError, match="Did you mean"):
        find_query("folowers")


def test_missing_and_extra_parameters_on_the_command_line(capsys):
    code, _, err = _run(capsys, "query", "community.bridges", "-p", "community_a=1", "-p", "colour=red")
    assert code == 1
    line = err.strip()
    assert "\n" not in line
    assert "missing $community_b;" in line and "unexpected $colour" in line  # $limit has a default


def test_optional_parameters_take_their_declared_defaults():
    query = find_query("community.top_bellwethers")
    assert query.defaults == {"limit": 25}
    assert parse_params(["community=3"], query) == {"community": 3, "limit": 25}
    assert parse_params(["community=3", "limit=5"], query) == {"community": 3, "limit": 5}


def test_unreachable_server_gives_the_store_error(capsys, monkeypatch):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("BELLWETHER_NEO4J_URI", f"bolt://127.0.0.1:{port}")
    code, _, err = _run(capsys, "query", "community.profile", "-p", "community=1")
    assert code == 1
    assert f"Cannot reach Neo4j at bolt://127.0.0.1:{port}" in err
    assert "scripts/neo4j-server start" in err


def test_bad_format_is_a_usage_error():
    res = CliRunner().invoke(app, ["query", "--list", "--format", "xml"])
    assert res.exit_code == 2

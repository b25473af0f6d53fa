"""`bellwether query` without a server: the listing, the help, and the one-line errors.

The typing of ``--param`` values is the Cypher library's and is tested beside it
(``tests/test_cypher_library.py``); here the command line around it.
"""

from __future__ import annotations

import json
import socket

import pytest
from typer.testing import CliRunner

from bellwether.cli.app import app, main
from bellwether.cli.query import split_pairs
from bellwether.graph.cypher_library import QueryParameterError, analyst_queries

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


def test_list_prints_every_query_name_typed_parameters_and_description():
    res = CliRunner().invoke(app, ["query", "--list", "--format", "json"])
    assert res.exit_code == 0, res.output
    listed = {d["name"]: d for d in json.loads(res.output)}
    assert set(listed) == set(analyst_queries().names()) >= EXPECTED
    assert listed["bellwether.followers"]["params"] == ["bellwether"]
    assert listed["community.top_bellwethers"]["types"] == {"community": "int", "limit": "int"}
    assert listed["community.top_bellwethers"]["signature"] == "community: int, limit: int = 25"
    assert "followers" in listed["bellwether.followers"]["description"]
    assert not any(n.startswith(("load.", "writeback.", "schema.")) for n in listed)

    res = CliRunner().invoke(app, ["query", "--list", "--format", "csv"])
    lines = res.output.strip().splitlines()
    assert lines[0] == "name,params,description" and len(lines) == len(listed) + 1
    assert 'churn.by_churned_contacts,"as_of: date, horizon_days: int, max_contacts: int",' in res.output


def test_help_shows_every_query_with_its_typed_parameters():
    res = CliRunner().invoke(app, ["query", "--help"])
    assert res.exit_code == 0, res.output
    for q in analyst_queries():
        assert f"{q.name}(" in res.output
    assert "community.top_bellwethers(community: int, limit: int = 25)" in res.output
    assert "subscriber.shortest_path(source: str, target: str)" in res.output


def test_pairs_split_at_the_first_equals_sign():
    assert split_pairs(["community=3", "$segment=a=b", "empty="]) == [("community", "3"), ("$segment", "a=b"), ("empty", "")]
    for bad in ("community", "=3", "$=3"):
        with pytest.raises(QueryParameterError, match=r"is not key=value \(e\.g\. --param limit=10\)"):
            split_pairs([bad])


@pytest.mark.parametrize(
    "args, message",
    [
        (["community.top_bellwethers", "-p", "community=three"], "Parameter $community must be an integer, got 'three'."),
        (["churn.by_churned_contacts", "-p", "as_of=2025-13-01", "-p", "horizon_days=30", "-p", "max_contacts=5"],
         "Parameter $as_of must be a date YYYY-MM-DD, got '2025-13-01'."),
        (["community.top_bellwethers", "-p", "community"], "--param 'community' is not key=value"),
        (["community.top_bellwethers", "-p", "community=1", "-p", "community=2"], "Parameter $community is given twice."),
    ],
)
def test_bad_parameters_fail_before_any_connection_with_one_line(capsys, monkeypatch, args, message):
    monkeypatch.setenv("BELLWETHER_NEO4J_URI", "bolt://127.0.0.1:1")  # never reached
    code, out, err = _run(capsys, "query", *args)
    assert code == 1 and not out
    assert len(err.strip().splitlines()) == 1
    assert message in err and "Cannot reach Neo4j" not in err


def test_unknown_name_lists_close_names(capsys):
    code, out, err = _run(capsys, "query", "community.top_bellwether", "--param", "community=1")
    assert code == 1
    lines = err.strip().splitlines()
    assert len(lines) == 1
    assert "No query named 'community.top_bellwether'" in lines[0]
    assert "community.top_bellwethers" in lines[0]


def test_missing_and_extra_parameters_on_the_command_line(capsys):
    code, _, err = _run(capsys, "query", "community.bridges", "-p", "community_a=1", "-p", "colour=red")
    assert code == 1
    line = err.strip()
    assert "\n" not in line
    assert "missing $community_b;" in line and "unexpected $colour" in line  # $limit has a default


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

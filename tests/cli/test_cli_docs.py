"""Every command has help with an example and is documented in the README (help is documentation)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from bellwether.cli.app import app

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")


def _commands(typer_app: typer.Typer, prefix: str = "") -> list[tuple[str, object]]:
    found = []
    for info in typer_app.registered_commands:
        found.append((prefix + (info.name or info.callback.__name__), info.callback))
    for group in typer_app.registered_groups:
        sub = group.typer_instance
        name = group.name if isinstance(group.name, str) else sub.info.name
        found.extend(_commands(sub, prefix + name + " "))
    return found


COMMANDS = _commands(app)


def test_every_command_module_registers_something():
    names = {name.split()[0] for name, _ in COMMANDS}
    assert names >= {"demo", "generate", "build", "status", "analyze", "evaluate", "segments", "targets",
                     "report", "query", "neo4j"}


@pytest.mark.parametrize("name,callback", COMMANDS, ids=[n for n, _ in COMMANDS])
def test_command_has_help_with_an_example(name, callback):
    doc = callback.__doc__ or ""
    assert doc.strip(), f"`bellwether {name}` has no help text"
    if " " not in name:  # top-level commands end their help with an example
        assert re.search(r"example", doc, re.IGNORECASE), f"`bellwether {name}` help has no example"


@pytest.mark.parametrize("name", sorted({n.split()[0] for n, _ in COMMANDS}))
def test_command_is_in_the_readme(name):
    assert f"bellwether {name}" in README, f"`bellwether {name}` is not mentioned in README.md"


@pytest.mark.parametrize("name", [n for n, _ in COMMANDS])
def test_help_runs(name):
    result = CliRunner().invoke(app, [*name.split(), "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output

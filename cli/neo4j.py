"""`bellwether neo4j` (being built)."""

import typer


def register(app: typer.Typer) -> None:
    pass

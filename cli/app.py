"""The ``bellwether`` Typer application: registers every command group and handles errors at the boundary."""

from __future__ import annotations

import importlib
import os
import sys

import typer
from rich.console import Console

from bellwether.graph.core.errors import BellwetherError

app = typer.Typer(
    name="bellwether",
    help="Graph-based social analytics for telecom operators: CDRs -> contact graph -> "
    "communities, bellwethers, churn contagion -> segments and target lists.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # help text is plain: "[default: ...]" must not be read as markup
)



def _version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        typer.echo(f"bellwether {version('bellwether')}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version and exit."),
) -> None:
    """Graph-based social analytics for telecom operators.

    Typical flow: `bellwether generate` (or your own CDR files) -> `bellwether build` ->
    `bellwether analyze` -> `bellwether segments` / `targets` / `report`.
    `bellwether demo` runs the whole flow on a synthetic operator.
    """


# Each module defines ``register(app)``; the order here is the order in --help.
COMMAND_MODULES = (
    "demo",
    "generate",
    "build",
    "status",
    "analyze",
    "measures",
    "evaluate",
    "segments",
    "targets",
    "report",
    "serve",
    "neo4j",
    "query",
)
for _name in COMMAND_MODULES:
    importlib.import_module(f"{__package__}.{_name}").register(app)


def main(argv: list[str] | None = None) -> None:
    """Entry point of the console script: one clear line per deliberate error, exit status 1.

    Set ``BELLWETHER_DEBUG=1`` (or pass ``--debug`` first) to see the traceback instead.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    debug = False
    if args and args[0] == "--debug":
        debug, args = True, args[1:]
    debug = debug or os.environ.get("BELLWETHER_DEBUG", "") not in ("", "0")
    try:
        app(args=args, prog_name="bellwether")  # standalone mode: usage errors exit with click's codes
    except BellwetherError as exc:
        if debug:
            raise
        Console(stderr=True).print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        sys.exit(1)

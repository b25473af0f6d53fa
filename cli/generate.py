"""`bellwether generate`: write a synthetic operator (CDRs, subscriber extract, truth) to a directory."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from bellwether.cli.common import QuietOpt


def generate(
    outdir: Annotated[Path, typer.Argument(help="Directory to write the operator's files into (created if missing).")],
    subscribers: Annotated[int, typer.Option("--subscribers", "-n", help="On-net customers.")] = 20000,
    months: Annotated[int, typer.Option("--months", "-m", help="Calendar months of records, one CDR file each.")] = 3,
    seed: Annotated[int, typer.Option("--seed", help="Random seed; the same seed gives the same bytes.")] = 42,
    start: Annotated[str, typer.Option("--start", help="First day of the period (first of a month), YYYY-MM-DD.")] = "2026-01-01",
    bad_row_rate: Annotated[float, typer.Option("--bad-row-rate", help="Extra malformed rows per good record.")] = 0.0005,
    duplicate_rate: Annotated[float, typer.Option("--duplicate-rate", help="Exact duplicate rows per good record.")] = 0.002,
    contagion: Annotated[float, typer.Option("--contagion", help="Planted churn contagion: hazard multiplier of one just-churned strong tie, fading over a month (1 plants none, at most 20).")] = 1.8,
    quiet: QuietOpt = False,
) -> None:
    """Generate a synthetic operator: monthly CDR files, subscribers.csv, do_not_contact.csv, truth.csv, operator.json.

    Communities (families to workplaces), bellwethers and contagious churn are
    planted; truth.csv and operator.json say what was planted so analyses can be
    scored.  Example: `bellwether generate demo-data --subscribers 20000 --months 3`;
    `--contagion 3` plants a stronger contagion, `--contagion 1` none.
    """
    from bellwether.loaders.synthetic import generate_operator
    from bellwether.loaders.synthetic.churn import MAX_CONTAGION, ChurnModel
    from bellwether.loaders.synthetic.generate import GeneratorError, check_parameters

    console = Console(stderr=True)
    check_parameters(subscribers, months, start, bad_row_rate, duplicate_rate)  # fail before drawing a bar
    if not 1.0 <= contagion <= MAX_CONTAGION:
        raise GeneratorError(f"--contagion must be between 1 (no contagion) and {MAX_CONTAGION:g}, got {contagion!r}")
    params = dict(
        subscribers=subscribers, months=months, seed=seed, start=start, bad_row_rate=bad_row_rate, duplicate_rate=duplicate_rate,
        churn=ChurnModel(contagion=contagion),
    )
    if quiet:
        summary = generate_operator(outdir, **params)
    else:
        with Progress(
            TextColumn("{task.description:<40}"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"), TimeElapsedColumn(), console=console
        ) as bar:
            task = bar.add_task("generating", total=1.0)
            summary = generate_operator(outdir, progress=lambda step, frac: bar.update(task, description=step, completed=frac), **params)
    if quiet:
        return
    c, m = summary["counts"], summary["measured"]
    table = Table(title=f"synthetic operator in {outdir}", show_header=False)
    rows = [
        ("period", f"{summary['start']} .. {summary['end']} (suggested as_of {summary['suggested_as_of']})"),
        ("records", f"{c['records']:,} (+{c['duplicates']:,} duplicates, +{c['bad_rows']:,} bad rows)"),
        ("subscribers on-net", f"{c['subscribers_on_net']:,} ({c['churners']:,} churn in the period)"),
        ("off-net persons / services", f"{c['persons_off_net']:,} / {c['services']:,}"),
        ("communities", f"{c['communities']:,} " + str(c["communities_by_type"])),
        ("bellwethers / followers", f"{c['bellwethers']:,} / {c['followers']:,}"),
        ("contacts per subscriber", f"mean {m['mean_contacts_per_subscriber']}, max {m['max_contacts_per_subscriber']}"),
        ("monthly churn", ", ".join(f"{r:.2%}" for r in m["monthly_churn_rate"])),
        (
            "churn rate ratio, recent churned tie",
            f"{m['contagion_from_records']['rate_ratio']} from records, {m['contagion_on_planted_ties']['rate_ratio']} on planted ties",
        ),
    ]
    for k, v in rows:
        table.add_row(k, v)
    Console().print(table)


def register(app: typer.Typer) -> None:
    app.command("generate")(generate)

"""`bellwether demo`: the whole flow on a synthetic operator, from CDR files to the marketing report."""

from __future__ import annotations

import json
import secrets
import shutil
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Iterator

import typer
from rich.console import Console
from rich.table import Table

from bellwether.cli.common import QuietOpt, SeedOpt


@contextmanager
def _step(console: Console, name: str, timings: dict[str, float], quiet: bool) -> Iterator[None]:
    """Time one step and print a line when it ends (a spinner while it runs)."""
    start = time.perf_counter()
    if quiet:
        yield
    else:
        with console.status(f"{name} …"):
            yield
    timings[name] = round(time.perf_counter() - start, 2)
    if not quiet:
        console.print(f"[green]✓[/] {name:<10} {timings[name]:6.1f} s", highlight=False)


def _demo_key(out: Path) -> bytes:
    """The demo's pseudonymisation key: a random secret kept beside the demo data (never the operator's key)."""
    path = out / "pseudonym.key"
    if not path.exists():
        out.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32) + "\n", encoding="utf-8")
        path.chmod(0o600)
    return path.read_text(encoding="utf-8").strip().encode()


def demo(
    out: Annotated[Path, typer.Option("--out", "-o", help="Directory for the synthetic data and the workspace.")] = Path(
        "demo-output"
    ),
    subscribers: Annotated[int, typer.Option("--subscribers", "-n", help="On-net customers of the synthetic operator.")] = 100000,
    months: Annotated[int, typer.Option("--months", "-m", help="Months of records.")] = 3,
    seed: SeedOpt = None,
    quiet: QuietOpt = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Run the main job end to end on a synthetic operator, with no server.

    generate → build (validate, pseudonymise, aggregate) → analyze (communities, bellwethers,
    influence seeds, churn contagion) → evaluate against the planted truth → segments →
    target lists → HTML report; then prints where everything is.  Each demo starts afresh:
    the data and workspace folders under --out are replaced (the demo key is kept).

    Example: `bellwether demo --out demo-output --subscribers 20000` (a smaller, faster operator).
    """
    from bellwether.algorithms.analysis import analyze
    from bellwether.algorithms.evaluation.report import evaluate_run_dir
    from bellwether.algorithms.evaluation.truth import read_truth
    from bellwether.algorithms.report import write_report
    from bellwether.algorithms.segments import load_run, segment_run, write_segments
    from bellwether.algorithms.targets.build import build_lists, write_lists
    from bellwether.graph.build import build_graph
    from bellwether.graph.core.workspace import Workspace, read_json
    from bellwether.loaders.load import LoadOptions, load
    from bellwether.loaders.synthetic import generate_operator

    seed = 42 if seed is None else seed
    console = Console(stderr=True)
    data, ws = out / "data", Workspace(out / "workspace")
    timings: dict[str, float] = {}
    key = _demo_key(out)
    for old in (data, ws.root):  # the demo owns these two folders; a stale operator must not mix in
        if old.exists():
            shutil.rmtree(old)

    with _step(console, "generate", timings, quiet):
        operator = generate_operator(data, subscribers=subscribers, months=months, seed=seed)
    as_of = operator["suggested_as_of"]
    with _step(console, "build", timings, quiet):
        loaded = load(ws, [data / "cdr"], subscribers=data / "subscribers.csv",
                      do_not_contact=data / "do_not_contact.csv", options=LoadOptions(key=key))
        build_graph(ws, as_of=as_of, progress=False, load=False)
    with _step(console, "analyze", timings, quiet):
        run_dir = analyze(ws, seed=seed, progress=False, label="demo")
    with _step(console, "evaluate", timings, quiet):
        evaluation = evaluate_run_dir(run_dir, read_truth(data / "truth.csv", key=key), truth_path=str(data / "truth.csv"))
    with _step(console, "segments", timings, quiet):
        tables = load_run(ws, run_dir.name)
        segments = segment_run(tables)
        write_segments(tables, segments)
    with _step(console, "targets", timings, quiet):
        exports = write_lists(tables, build_lists(tables, segments.table))
    with _step(console, "report", timings, quiet):
        report = write_report(load_run(ws, run_dir.name))

    graph = read_json(ws.graph_info_path)
    churn = evaluation.get("churn") or {}
    contagion = ((read_json(run_dir / "manifest.json").get("metrics") or {}).get("churn") or {}).get("contagion") or {}
    influence = evaluation.get("influence") or {}
    summary = {
        "data": str(data),
        "workspace": str(ws.root),
        "run": str(run_dir),
        "as_of": as_of,
        "records_loaded": sum(r.records for r in loaded.inputs if r.kind == "cdr"),
        "rows_rejected": sum(r.rejected_rows for r in loaded.inputs),
        "subscribers": graph.get("subscribers"),
        "contacts": graph.get("contacts"),
        "community_nmi": (evaluation.get("communities") or {}).get("nmi"),
        "churn_lift_10": {m: v.get("lift_10") for m, v in (churn.get("methods") or {}).items()},
        "churn_contagion": {k: v for k, v in contagion.items()
                            if k in ("measured", "called", "hr", "ci_low", "ci_high", "p_value", "null_median", "verdict")},
        "influence": influence,
        "lists": {name: {"rows": e.rows, "path": str(e.path)} for name, e in exports.items()},
        "report": str(report),
        "seconds": timings,
    }
    if as_json:
        typer.echo(json.dumps(summary, indent=2, default=str))
        return
    table = Table(title=f"Bellwether demo: synthetic operator of {subscribers:,} subscribers", show_header=False)
    table.add_row("records loaded / rows quarantined", f"{summary['records_loaded']:,} / {summary['rows_rejected']:,}")
    table.add_row("graph (as_of " + str(as_of) + ")", f"{summary['subscribers']:,} subscribers, {summary['contacts']:,} contacts")
    if summary["community_nmi"] is not None:
        table.add_row("communities vs planted (NMI)", f"{summary['community_nmi']:.3f}")
    lifts = summary["churn_lift_10"]
    if lifts:
        table.add_row("churn lift at top 10%", ", ".join(f"{m} {v:.2f}" for m, v in lifts.items() if v is not None))
    if summary["churn_contagion"]:
        table.add_row("does churn spread?", summary["churn_contagion"].get("verdict", ""))
    table.add_row("target lists", ", ".join(f"{name} {e['rows']:,} rows" for name, e in summary["lists"].items()))
    table.add_row("total seconds", f"{sum(timings.values()):.1f}")
    stdout = Console()
    stdout.print(table)
    stdout.print(f"report      {summary['report']}", highlight=False, soft_wrap=True)
    for name, e in summary["lists"].items():
        stdout.print(f"{name:<11} {e['path']}", highlight=False, soft_wrap=True)
    stdout.print(f"workspace   {summary['workspace']}", highlight=False, soft_wrap=True)
    Console().print(f"Next: `bellwether status -w {ws.root}`, `bellwether query --list`, or open the report. "
                    f"The demo's pseudonymisation key is {out / 'pseudonym.key'} "
                    f"(BELLWETHER_PSEUDONYM_KEY_FILE for further loads into this workspace).", highlight=False, soft_wrap=True)


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)

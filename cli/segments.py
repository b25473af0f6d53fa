"""`bellwether segments`: value, behaviour, usage, cluster and network segments of every subscriber, with profiles."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from bellwether.cli.common import ConfigOpt, JsonOpt, QuietOpt, RunOpt, SeedOpt, WorkspaceOpt, settings, workspace


def _quantiles(text: str) -> tuple[float, ...]:
    try:
        return tuple(float(x) for x in text.split(",") if x.strip())
    except ValueError as exc:
        raise typer.BadParameter(f"expected comma-separated numbers such as 0.5,0.8, got {text!r}") from exc


def segments(
    workspace_path: WorkspaceOpt = None,
    config: ConfigOpt = None,
    run: RunOpt = None,
    quantiles: Annotated[str, typer.Option("--quantiles", help="ARPU quantiles where value tiers are cut, comma-separated.")] = "0.5,0.8",
    tiers: Annotated[str, typer.Option("--tiers", help="Value tier names, lowest first (one more than quantiles).")] = "low,mid,high",
    k: Annotated[int, typer.Option("--clusters", "-k", help="Number of k-means clusters.")] = 5,
    silent_days: Annotated[int, typer.Option("--silent-days", help="Days without contact before as_of after which a subscriber is silent.")] = 30,
    new_months: Annotated[int, typer.Option("--new-months", help="Tenure (months) below which a subscriber is new.")] = 3,
    seed: SeedOpt = None,
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Segment every subscriber of a run and profile the segments.

    Writes runs/<id>/segments.parquet (one row per subscriber: value_tier, behaviour,
    usage_mix, cluster, cluster_label, role, community, at_risk_community),
    segment_profiles.parquet/.csv (segments under 10 people left out) and segments.json.
    Example: `bellwether segments --workspace ws --clusters 6 --quantiles 0.5,0.9`.
    """
    from bellwether.algorithms.segments import SegmentOptions, load_run, segment_run, write_segments

    cfg = settings(config)
    ws = workspace(workspace_path, cfg)
    try:
        options = SegmentOptions(quantiles=_quantiles(quantiles), tier_labels=tuple(t.strip() for t in tiers.split(",")),
                                 k=k, silent_days=silent_days, new_months=new_months, seed=seed)
        tables = load_run(ws, run)
        result = segment_run(tables, options)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc
    paths = write_segments(tables, result)
    if json_out:
        out = {
            "run_id": tables.run_id,
            "paths": {k: str(v) for k, v in paths.items()},
            "profiles": json.loads(result.profiles.to_json(orient="records")),
            "suppressed_profiles": result.suppressed_profiles,
            "crm": tables.crm,
            "note": tables.crm_note,
            "clusters": json.loads(result.clusters[["cluster", "size", "cluster_label"]].to_json(orient="records")),
        }
        typer.echo(json.dumps(out, indent=2))
        return
    if quiet:
        typer.echo(str(paths["segments"]))
        return
    who = "on-net customers" if tables.crm == "present" else "every person: no subscriber extract"
    table = Table(title=f"segment profiles, run {tables.run_id} ({who})")
    for col in ("dimension", "segment", "size", "churn rate", "churn after as_of", "mean risk", "mean ARPU", "on-net share"):
        table.add_column(col, justify="left" if col in ("dimension", "segment") else "right")

    def pct(v) -> str:
        return "–" if v != v else f"{v:.1%}"

    for r in result.profiles.itertuples(index=False):
        table.add_row(r.dimension, str(r.segment), f"{r.size:,}", pct(r.churn_rate), pct(r.churn_rate_after),
                      pct(r.mean_churn_risk), "–" if r.mean_arpu != r.mean_arpu else f"{r.mean_arpu:.2f}", pct(r.on_net_share))
    console = Console(width=max(Console().width, 130))  # wide enough for the table when piped
    console.print(table)
    if tables.crm_note:
        console.print(f"{tables.crm_note}; every person is treated as a possible customer.", highlight=False, soft_wrap=True)
    if result.suppressed_profiles:
        console.print(f"{result.suppressed_profiles} segments with fewer than 10 people are not reported.")
    console.print(f"wrote {paths['segments']}")


def register(app: typer.Typer) -> None:
    app.command("segments")(segments)

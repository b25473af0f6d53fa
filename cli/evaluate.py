"""`bellwether evaluate`: judge an analysis run against known truth (NMI, churn AUC and lift, influence spread)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from rich.console import Console
from rich.table import Table

from bellwether.cli import common
from bellwether.cli.common import ConfigOpt, JsonOpt, RunOpt, WorkspaceOpt

METHOD_LABELS = {
    "network_model": "network model (churn_risk)",
    "baseline": "baseline, no network",
    "spreading_activation": "spreading activation",
    "contagion_ppr": "contagion PageRank",
}


def _f(x: Any, fmt: str = "{:.3f}") -> str:
    return "-" if x is None else fmt.format(x)


def render(result: dict[str, Any], console: Console) -> None:
    """Print an evaluation as tables."""
    churn = result["churn"]
    head = Table(title=f"evaluation of run {result['run_id']} (as_of {result['as_of']})", show_header=False)
    comm = result.get("communities")
    for level, c in (("community", comm), ("coarse community", (comm or {}).get("coarse"))):
        if not c:
            continue
        head.add_row(f"{level} NMI", f"{_f(c['nmi'])} over {c['compared']:,} persons "
                     f"({c['run_communities']:,} found / {c['planted_communities']:,} planted)")
        if c.get("ami") is not None:
            head.add_row(f"{level} AMI / ARI", f"{_f(c['ami'])} / {_f(c['ari'])} (adjusted for chance)")
        for name, rec in (c.get("recovery_by_class") or {}).items():
            head.add_row(f"{level} recovery, {name}", f"{_f(rec['recovery'])} over {rec['groups']:,} planted "
                         "groups (share of a group in its largest community)")
    if comm:
        if comm.get("nmi_with_contacts") is not None:
            head.add_row("community NMI, persons with contacts",
                         f"{_f(comm['nmi_with_contacts'])} over {comm['compared_with_contacts']:,} persons")
    head.add_row("churn label window", f"{churn['label_window']}: {churn['churners']:,} churners among "
                 f"{churn['population']:,} scored ({_f(churn['base_rate'], '{:.2%}')})")
    inf = result.get("influence")
    if inf:
        head.add_row("influence spread", f"seeds {_f(inf['seeds_expected_spread'], '{:.1f}')} vs top-PageRank "
                     f"{_f(inf['pagerank_seeds_expected_spread'], '{:.1f}')} (x{_f(inf['ratio_vs_pagerank'], '{:.2f}')}, k={inf.get('k')})")
    else:
        head.add_row("influence spread", "not in the run's manifest")
    console.print(head)
    t = Table(title="churn scores against the truth")
    for col in ("score", "AUC", "lift@1%", "lift@5%", "lift@10%"):
        t.add_column(col, justify="left" if col == "score" else "right")
    for name, m in churn["methods"].items():
        t.add_row(METHOD_LABELS.get(name, name), _f(m["auc"]), _f(m["lift_1"], "{:.2f}"), _f(m["lift_5"], "{:.2f}"),
                  _f(m["lift_10"], "{:.2f}"))
    console.print(t)
    g = Table(title="targets")
    for col in ("ratio", "measured", "target", ""):
        g.add_column(col)
    for k, v in churn["ratios"].items():
        g.add_row(k, _f(v, "{:.2f}"), f">= {churn['targets'][k]}", "met" if churn["targets_met"][k] else "missed")
    console.print(g)


def evaluate(
    truth: Annotated[Path, typer.Option("--truth", help="Truth file (truth.csv written by `bellwether generate`).")],
    workspace: WorkspaceOpt = None,
    run: RunOpt = None,
    horizon_days: Annotated[
        Optional[int], typer.Option("--horizon-days", help="Churn label window in days after as_of [default: the run's horizon].")
    ] = None,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Evaluate an analysis run against known truth and record the result in the run's manifest.

    Reports the NMI of the run's communities against the planted ones, AUC and lift at
    1/5/10% of each churn score (network model, non-network baseline, spreading activation,
    contagion PageRank) against churn in [as_of, as_of + horizon), and the expected spread of
    the influence seeds against the top-PageRank seeds.
    Phone numbers in the truth file are matched with the workspace's pseudonymisation key
    (setting `pseudonym_key` / `pseudonym_key_file`, as for `bellwether build`).
    Example: `bellwether evaluate --truth demo-data/truth.csv --workspace ws`.
    """
    from bellwether.algorithms.evaluation import evaluate_run_dir, read_truth

    cfg = common.settings(config)
    ws = common.workspace(workspace, cfg)
    run_dir = ws.run_dir(run)
    from bellwether.graph.core.workspace import read_json

    load = read_json(ws.manifest_path) if ws.manifest_path.exists() else {}
    pseudonymized = bool(load.get("pseudonymized", True))
    key = None
    if pseudonymized and truth.exists() and "msisdn" in truth.open(encoding="utf-8").readline().strip().split(","):
        from bellwether.loaders.pseudonym import resolve_key

        key = resolve_key(cfg)
    table = read_truth(truth, key=key, pseudonymized=pseudonymized, country_code=cfg.country_code)
    result = evaluate_run_dir(run_dir, table, horizon_days=horizon_days, truth_path=str(truth))
    if as_json:
        typer.echo(json.dumps(result, indent=2, sort_keys=True))
    else:
        render(result, Console())


def register(app: typer.Typer) -> None:
    app.command("evaluate")(evaluate)

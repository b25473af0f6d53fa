"""`bellwether targets`: retention, viral, community and acquisition lists with reasons, for marketing;
`bellwether targets --reveal`: one exported list's phone numbers for a campaign, audited."""

from __future__ import annotations

import json
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table

from bellwether.cli.common import ConfigOpt, JsonOpt, QuietOpt, RunOpt, WorkspaceOpt, settings, workspace


class ListChoice(str, Enum):
    retention = "retention"
    viral = "viral"
    community = "community"
    acquisition = "acquisition"
    all = "all"


class FormatChoice(str, Enum):
    csv = "csv"
    parquet = "parquet"
    jsonl = "jsonl"


DEFAULT_TOP = 1000
DEFAULT_RESPONSE_RATE = 0.2
DEFAULT_VALUE_MONTHS = 12.0


def targets(
    workspace_path: WorkspaceOpt = None,
    config: ConfigOpt = None,
    run: RunOpt = None,
    which: Annotated[ListChoice, typer.Option("--list", "-l", help="Which list to build; `all` de-duplicates across them.")] = ListChoice.all,
    top: Annotated[Optional[int], typer.Option("--top", "-n", help=f"People per list [default: {DEFAULT_TOP} unless --budget is given].")] = None,
    budget: Annotated[Optional[float], typer.Option("--budget", help="Money per list; with --cost-per-contact caps the people contacted (community offers are kept whole).")] = None,
    cost: Annotated[Optional[float], typer.Option("--cost-per-contact", help="Cost of contacting one person; retention leaves out people expected to save less.")] = None,
    response_rate: Annotated[float, typer.Option("--response-rate", help="Assumed share of would-be churners a retention offer keeps.")] = DEFAULT_RESPONSE_RATE,
    value_months: Annotated[float, typer.Option("--value-months", help="Months of ARPU a kept customer is worth.")] = DEFAULT_VALUE_MONTHS,
    segment: Annotated[Optional[list[str]], typer.Option("--segment", "-s", help="Only subscribers with COLUMN=VALUE in segments.parquet (repeatable), e.g. value_tier=high.")] = None,
    fmt: Annotated[FormatChoice, typer.Option("--format", "-f", help="File format of the lists.")] = FormatChoice.csv,
    out: Annotated[Optional[Path], typer.Option("--out", "-o", help="Output folder [default: runs/<id>/lists]; with --reveal the campaign file (outside the workspace).")] = None,
    reveal: Annotated[bool, typer.Option("--reveal", help="Write the phone numbers of one exported list to --out, through the CRM extract, and audit it.")] = False,
    subscribers: Annotated[Optional[Path], typer.Option("--subscribers", help="With --reveal: the subscriber (CRM) extract holding the numbers.")] = None,
    key_file: Annotated[Optional[Path], typer.Option("--key-file", help="With --reveal: file holding the pseudonymisation key [default: $BELLWETHER_PSEUDONYM_KEY].")] = None,
    do_not_contact: Annotated[Optional[Path], typer.Option("--do-not-contact", help="With --reveal: a do-not-contact file applied on top of the workspace's list.")] = None,
    msisdn_column: Annotated[str, typer.Option("--msisdn-column", help="With --reveal: the extract's number column.")] = "msisdn",
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Build target lists for a run and write each with a sidecar manifest (list version, rows held back and why).

    Lists are built in priority order retention > viral > community > acquisition, and a
    person on an earlier list is left off later ones.  Do-not-contact and churned
    subscribers are removed before scoring and checked again at export.  Retention ranks by
    expected value saved = churn risk × ARPU × --value-months × --response-rate.
    Lists name pseudonyms; `--reveal` maps one exported list back to phone numbers through
    the CRM extract into --out only, re-applies the do-not-contact list and appends an audit
    record to WORKSPACE/audit/reveals.jsonl.
    Example: `bellwether targets --workspace ws --list all --top 500 --segment value_tier=high`.
    Example: `bellwether targets --workspace ws --reveal --list retention --subscribers crm.csv --out campaign.csv`.
    """
    from bellwether.algorithms.segments import load_run
    from bellwether.algorithms.targets import LIST_NAMES, TargetOptions, build_lists, parse_segment_filter, write_lists

    cfg = settings(config)
    ws = workspace(workspace_path, cfg)
    if reveal:
        _reveal(ws, cfg, which, run, subscribers, out, key_file, do_not_contact, msisdn_column, json_out)
        return
    filters = parse_segment_filter(segment)
    if top is None and budget is None:
        top = DEFAULT_TOP
    tables = load_run(ws, run)
    lists = LIST_NAMES if which is ListChoice.all else (which.value,)
    options = TargetOptions(top=top, budget=budget, cost_per_contact=cost, response_rate=response_rate,
                            value_months=value_months)
    built = build_lists(tables, lists=lists, options=options, segment_filter=filters)
    exports = write_lists(tables, built, fmt.value, out)
    if json_out:
        typer.echo(json.dumps({name: {**e.manifest, "file": str(e.path)} for name, e in exports.items()}, indent=2, default=str))
        return
    if quiet:
        for e in exports.values():
            typer.echo(str(e.path))
        return
    table = Table(title=f"target lists, run {tables.run_id}")
    for col in ("list", "rows", "version", "held back", "why", "file"):
        table.add_column(col, justify="right" if col in ("rows", "held back") else "left")
    for name, e in exports.items():
        m = e.manifest
        why = ", ".join(f"{k.replace('_', ' ')} {v:,}" for k, v in m["suppressed"].items())
        table.add_row(name, f"{m['rows']:,}", m["list_version"], f"{m['suppressed_total']:,}", why, str(e.path))
    console = Console(width=max(Console().width, 130))  # wide enough for the table when piped
    console.print(table)
    for name, e in exports.items():  # a list that could not be made says why, in one line
        if e.manifest.get("empty_because"):
            console.print(f"{name} list is empty: {e.manifest['empty_because']}", highlight=False, soft_wrap=True)
        if e.manifest.get("notice"):
            console.print(f"{name} list: {e.manifest['notice']}", highlight=False, soft_wrap=True)
    if "retention" in exports and exports["retention"].manifest.get("expected_value_saved_total") is not None:
        m = exports["retention"].manifest
        a = m.get("assumptions", {})
        console.print(f"retention list: expected value saved {m['expected_value_saved_total']:,.2f} "
                      f"(response rate {a.get('response_rate'):g}, {a.get('value_months'):g} months of ARPU)", highlight=False)
    if "viral" in built:
        sp = built["viral"].info.get("expected_spread") or {}
        if sp.get("mean") is not None and "ci_low" in sp:
            console.print(f"viral list: expected reach {sp['mean']:,.0f} subscribers (95% CI {sp['ci_low']:,.0f}–{sp['ci_high']:,.0f})")


def _reveal(ws, cfg, which: ListChoice, run, subscribers, out, key_file, do_not_contact, column, json_out) -> None:
    """`--reveal`: one list's numbers into --out, audited (:func:`bellwether.algorithms.targets.reveal.reveal`)."""
    from dataclasses import replace

    from bellwether.algorithms.targets.reveal import RevealRefused, reveal
    from bellwether.loaders.errors import PseudonymKeyError
    from bellwether.loaders.pseudonym import resolve_key

    if which is ListChoice.all:
        raise RevealRefused("cannot reveal: name one list with --list (retention, viral, community or acquisition).")
    if out is None:
        raise RevealRefused("cannot reveal: missing the output file (--out campaign.csv, outside the workspace). "
                            "Nothing was written.")
    if key_file:
        cfg = replace(cfg, pseudonym_key=None, pseudonym_key_file=str(key_file))
    try:
        key = resolve_key(cfg)
    except PseudonymKeyError:
        key = None
    res = reveal(ws, which.value, subscribers, out, key=key, run=run, do_not_contact=do_not_contact, column=column)
    r = res.record
    if json_out:
        typer.echo(json.dumps(r, indent=2, default=str))
        return
    typer.echo(f"{r['rows_written']:,} of {r['list_rows']:,} rows of the {r['list']} list (version {r['list_version']}, "
               f"run {r['run']}) written to {res.path}; held back: do-not-contact {r['held_back_do_not_contact']:,}, "
               f"churned {r['held_back_churned']:,}; no number in the extract {r['no_crm_number']:,}. "
               f"Audited in {ws.root / 'audit' / 'reveals.jsonl'}.")


def register(app: typer.Typer) -> None:
    app.command("targets")(targets)

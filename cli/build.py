"""`bellwether build`: load CDR files (and a subscriber extract) into a workspace and build the contact graph."""

from __future__ import annotations

from contextlib import ExitStack

import json
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console

from bellwether.cli.common import AsOfOpt, ConfigOpt, JsonOpt, MasterOpt, QuietOpt, WorkspaceOpt, settings, workspace
from bellwether.graph.core.errors import BellwetherError


def _mapping(items: list[str], option: str) -> dict[str, str]:
    out = {}
    for item in items:
        if "=" not in item:
            raise typer.BadParameter(f"{option} expects column=VALUE, got {item!r}")
        k, v = item.split("=", 1)
        out[k.strip()] = v.strip()
    return out


def _layout_options(layout: Path | None, *, fmt, mapping, constants, names, delimiter, id_kind, failed_calls,
                    time: dict) -> dict:
    """LoadOptions fields from the layout file, with the options given on the command line winning."""
    from dataclasses import asdict

    from bellwether.loaders.layout import read_layout
    from bellwether.loaders.times import TimeRules

    out = read_layout(layout) if layout else {}
    out.setdefault("mapping", {})
    out["mapping"] = {**out["mapping"], **mapping}
    out["constants"] = {**out.get("constants", {}), **constants}
    for k, v in (("fmt", fmt), ("delimiter", delimiter), ("id_kind", id_kind), ("failed_calls", failed_calls)):
        if v is not None:
            out[k] = v
    if names:
        out["names"] = [n.strip() for n in names.split(",")]
    declared = {k: v for k, v in time.items() if v is not None}
    if declared:
        out["time"] = TimeRules(**{**asdict(out.get("time", TimeRules())), **declared})
    return out


def build(
    cdr: Annotated[list[Path], typer.Argument(help="CDR files or directories (searched for *.csv, *.csv.gz, *.parquet).")],
    subscribers: Annotated[Optional[Path], typer.Option("--subscribers", help="Subscriber extract (CRM) CSV/Parquet.")] = None,
    do_not_contact: Annotated[Optional[Path], typer.Option("--do-not-contact", help="Do-not-contact file (column msisdn, or one column); merged into the stored list, refused whole if any entry is unusable.")] = None,
    replace_do_not_contact: Annotated[bool, typer.Option("--replace-do-not-contact", help="The --do-not-contact file is the complete list: replace the stored list instead of merging into it.")] = False,
    workspace_dir: WorkspaceOpt = None,
    layout: Annotated[Optional[Path], typer.Option("--layout", help="TOML file describing the export (columns, types, time, id kind, per-file settings); options given here win. See README, 'Input layouts'.")] = None,
    fmt: Annotated[Optional[str], typer.Option("--format", help="Input layout: generic or bandicoot [default: generic].")] = None,
    map_: Annotated[Optional[list[str]], typer.Option("--map", help="Map a column to the file's name, e.g. caller=A_NUMBER (repeatable).")] = None,
    set_: Annotated[Optional[list[str]], typer.Option("--set", help="A column the files lack, one value for every row, e.g. type=sms (repeatable).")] = None,
    columns: Annotated[Optional[str], typer.Option("--columns", help="The files have no header; their columns, comma-separated, e.g. time,caller,callee.")] = None,
    delimiter: Annotated[Optional[str], typer.Option("--delimiter", help="CSV delimiter [default: sniffed].")] = None,
    id_kind: Annotated[Optional[str], typer.Option("--id-kind", help="phone: E.164 numbers, short codes are service numbers; opaque: any token is an id (research exports, hashed ids) [default: phone].")] = None,
    time_format: Annotated[Optional[str], typer.Option("--time-format", help="iso ('YYYY-MM-DD HH:MM:SS'), epoch, offset, or a strftime pattern such as '%d/%m/%Y %H:%M' [default: iso].")] = None,
    time_unit: Annotated[Optional[str], typer.Option("--time-unit", help="s or ms, for epoch and offset times [default: s].")] = None,
    time_origin: Annotated[Optional[str], typer.Option("--time-origin", help="Wall-clock time that offset times count from, YYYY-MM-DD[ HH:MM:SS].")] = None,
    timezone: Annotated[Optional[str], typer.Option("--timezone", help="IANA zone of the operator's wall clock; epoch times are converted to it [default: UTC].")] = None,
    valid_from: Annotated[Optional[str], typer.Option("--valid-from", help="Earliest plausible record day; earlier times are quarantined [default: 1990-01-01].")] = None,
    valid_until: Annotated[Optional[str], typer.Option("--valid-until", help="Latest plausible record day; later times are quarantined [default: tomorrow].")] = None,
    failed_calls: Annotated[Optional[str], typer.Option("--failed-calls", help="A call with duration -1 is an unanswered attempt: keep (0 seconds) or drop (counted) [default: keep].")] = None,
    country_code: Annotated[Optional[str], typer.Option("--country-code", help="Country code of national numbers [default: setting, 86].")] = None,
    key_file: Annotated[Optional[Path], typer.Option("--key-file", help="File holding the pseudonymisation key [default: $BELLWETHER_PSEUDONYM_KEY].")] = None,
    no_pseudonymize: Annotated[bool, typer.Option("--no-pseudonymize", help="Keep E.164 numbers as ids (recorded in the manifest).")] = False,
    max_reject_ratio: Annotated[Optional[float], typer.Option("--max-reject-ratio", help="A file fails above this share of bad rows [default: 0.01].")] = None,
    as_of: AsOfOpt = None,
    window: Annotated[Optional[int], typer.Option("--window", help="Days of records before as_of in the graph [default: 30].")] = None,
    keep_service_numbers: Annotated[bool, typer.Option("--keep-service-numbers", help="Keep service numbers and their contacts in the graph.")] = False,
    engine: Annotated[str, typer.Option("--engine", help="duckdb (embedded, default) or spark: the CDR load and the aggregation into contacts run on Apache Spark, with the same rules and tables.")] = "duckdb",
    master: MasterOpt = None,
    quiet: QuietOpt = False,
    as_json: JsonOpt = False,
    config: ConfigOpt = None,
) -> None:
    """Validate, normalise and pseudonymise CDR files into the workspace, then build the contact graph.

    Bad rows go to the quarantine with file, line, column and reason; a file fails only
    above --max-reject-ratio; every line of a file is accounted for. Re-loading a file
    already loaded changes nothing.

    The generic layout has columns caller, callee, start_time (YYYY-MM-DD HH:MM:SS),
    duration (seconds; -1 an unanswered call) and type (voice/call or sms/text). Other
    exports are described with options (--map, --set, --columns, --id-kind, --time-*) or
    once in a TOML layout file (--layout); see the README's "Input layouts".

    Example: bellwether build data/cdr --subscribers data/subscribers.csv --workspace ws

    Example: bellwether build export/ --id-kind opaque --map caller=from --map callee=to
    --map start_time=timestamp --time-format epoch --set type=sms --workspace ws
    """
    from bellwether.graph.build import ensure_graph
    from bellwether.loaders.load import LoadOptions, load
    from bellwether.loaders.pseudonym import resolve_key

    if engine not in ("duckdb", "spark"):
        raise typer.BadParameter(f"--engine is duckdb or spark, got {engine!r}")
    cfg = settings(config, country_code=country_code, max_reject_ratio=max_reject_ratio, window_days=window,
                   pseudonym_key_file=str(key_file) if key_file else None, spark_master=master)
    if key_file:  # an explicit key file wins over the environment
        from dataclasses import replace
        cfg = replace(cfg, pseudonym_key=None)
    ws = workspace(workspace_dir, cfg)
    key = None if no_pseudonymize else resolve_key(cfg)
    err = Console(stderr=True)
    progress = not (quiet or as_json)
    given = _layout_options(layout, fmt=fmt, mapping=_mapping(map_ or [], "--map"), constants=_mapping(set_ or [], "--set"),
                            names=columns, delimiter=delimiter, id_kind=id_kind, failed_calls=failed_calls,
                            time=dict(format=time_format, unit=time_unit, origin=time_origin, timezone=timezone,
                                      valid_from=valid_from, valid_until=valid_until))
    opts = LoadOptions(key=key, pseudonymize=not no_pseudonymize, country_code=cfg.country_code,
                       max_reject_ratio=cfg.max_reject_ratio, progress=progress,
                       replace_do_not_contact=replace_do_not_contact, **given)
    from bellwether.loaders.manifest import loaded_inputs, read_manifest

    with ExitStack() as stack:
        load_cdr = pair_counts = None
        if engine == "spark":
            from bellwether.graph.core.spark import command_session
            from bellwether.graph.spark_pairs import spark_pair_counts
            from bellwether.loaders.spark.load import spark_cdr_loader

            spark = stack.enter_context(command_session(cfg.spark_master, "bellwether-build"))
            load_cdr, pair_counts = spark_cdr_loader(spark), spark_pair_counts(spark)
        with ws.lock("bellwether build"):  # one writer at a time; a second build fails at once naming this one
            summary = load(ws, cdr, subscribers=subscribers, do_not_contact=do_not_contact, options=opts, load_cdr=load_cdr)
            if loaded_inputs(read_manifest(ws)):  # rebuilt unless the graph is of these inputs and parameters already
                ensure_graph(ws, as_of=as_of, window_days=cfg.window_days, keep_service_numbers=keep_service_numbers,
                             progress=progress, pair_counts=pair_counts)
            graph_info = ws.graph_info()
    crm_alone = (graph_info or {}).get("crm_without_contacts", 0)
    if crm_alone * 2 > (graph_info or {}).get("crm_subscribers", 0) > 0:
        err.print(f"warning: {crm_alone:,} of {graph_info['crm_subscribers']:,} CRM subscribers have no contact in the window; "
                  f"their ids probably do not match the CDR numbers (another number format or id kind?)",
                  highlight=False, soft_wrap=True)
    if as_json:
        typer.echo(json.dumps({"workspace": str(ws.root), "load": summary.to_dict(), "graph": graph_info}, indent=2, default=str))
    else:
        out = Console()
        for r in summary.inputs:
            reasons = ", ".join(f"{k} {v}" for k, v in sorted(r.rejects.items())) or "none"
            out.print(f"{r.status:8} {r.kind:14} {r.path}: {r.rows:,} rows, {r.records:,} kept, "
                      f"{r.rejected_rows:,} rejected ({reasons}), {r.duplicates:,} duplicates", highlight=False, soft_wrap=True)
        if graph_info:
            out.print(f"graph as_of {graph_info['as_of']} (window {graph_info['window_days']} days): "
                      f"{graph_info['subscribers']:,} subscribers ({graph_info['on_net']:,} on-net), "
                      f"{graph_info['contacts']:,} contacts, {graph_info['service_numbers']:,} service numbers", highlight=False)
            before, after = graph_info.get("records_before_window", 0), graph_info.get("records_after_as_of", 0)
            if before or after:
                out.print(f"window {graph_info['window_start']} to {graph_info['as_of']} (exclusive) left out {before:,} "
                          f"records before it and {after:,} on or after as_of", highlight=False, soft_wrap=True)
    if summary.failed:
        raise BellwetherError("; ".join(r.message for r in summary.failed))


def register(app: typer.Typer) -> None:
    app.command("build")(build)

"""Write ``runs/<id>/report.html`` for a run: gather the data, render, write atomically."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq

from bellwether.algorithms.report.data import ReportData, report_data
from bellwether.algorithms.report.html import render_html
from bellwether.algorithms.segments.build import read_segments, segment_run
from bellwether.algorithms.segments.run_tables import RunTables
from bellwether.graph.core.workspace import read_json

__all__ = ["build_report", "write_report", "exported_lists"]


def exported_lists(run: RunTables) -> list[dict]:
    """Sidecar manifests of the lists exported under ``runs/<id>/lists/``, in priority order."""
    folder = run.run_dir / "lists"
    if not folder.exists():
        return []
    found = [read_json(p) for p in sorted(folder.glob("*.manifest.json"))]
    order = {name: i for i, name in enumerate(("retention", "viral", "community", "acquisition"))}
    return sorted(found, key=lambda m: (order.get(m.get("name"), 99), m.get("path", "")))


def build_report(run: RunTables) -> ReportData:
    """Collect the report data of ``run``; segments and profiles are read if written, else computed."""
    segments = read_segments(run)
    prof_path = run.run_dir / "segment_profiles.parquet"
    if segments is not None and prof_path.exists():
        profiles = pq.read_table(prof_path).to_pandas()
        side = prof_path.with_name(prof_path.name + ".manifest.json")
        suppressed = json.loads(side.read_text()).get("suppressed_total", 0) if side.exists() else 0
    else:
        seg = segment_run(run)
        segments, profiles, suppressed = seg.table, seg.profiles, seg.suppressed_profiles
    return report_data(run, segments, profiles=profiles, suppressed_profiles=suppressed, lists=exported_lists(run))


def write_report(run: RunTables, path: str | Path | None = None) -> Path:
    """Render the report of ``run`` and write it (default ``runs/<id>/report.html``); return the path."""
    out = Path(path) if path is not None else run.run_dir / "report.html"
    html = render_html(build_report(run))
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text(html, encoding="utf-8")
    tmp.replace(out)
    return out

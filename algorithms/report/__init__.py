"""The HTML report of a run: data (distributions, contagion curve, lift, influence, ego networks) and renderer."""

from bellwether.algorithms.report.build import build_report, exported_lists, write_report
from bellwether.algorithms.report.data import (
    ReportData, contagion_curve, ego_network, force_layout, log_bins, report_data,
    wilson_interval,
)
from bellwether.algorithms.report.html import SECTIONS, render_html

__all__ = [
    "SECTIONS", "ReportData", "build_report", "contagion_curve", "ego_network", "exported_lists",
    "force_layout", "log_bins", "render_html", "report_data", "wilson_interval",
    "write_report",
]

"""Report: the numbers behind the charts, and an HTML file that is self-contained and has every section."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from algorithms.report import (
    SECTIONS, auc, build_report, contagion_curve, ego_network, gains_curve, lift_table, log_bins, render_html,
    wilson_interval, write_report,
)
from algorithms.report.svg import Series, hbar_chart, line_chart, nice_ticks
from algorithms.segments import load_run, segment_run, write_segments
from algorithms.targets import build_lists, write_lists
from cli.app import app
from marketing_run import make_marketing_run


@pytest.fixture(scope="module")
def mrun(tmp_path_factory):
    m = make_marketing_run(tmp_path_factory.mktemp("report") / "ws")
    run = load_run(m.workspace)
    write_segments(run, segment_run(run))
    write_lists(run, build_lists(run))
    return m


@pytest.fixture(scope="module")
def html(mrun):
    return write_report(load_run(mrun.workspace)).read_text(encoding="utf-8")


def test_wilson_interval_known_values():
    lo, hi = wilson_interval(np.array([0, 5, 10, 0]), np.array([10, 10, 10, 0]))
    assert lo[:3] == pytest.approx([0.0, 0.2366, 0.7225], abs=1e-4)
    assert hi[:3] == pytest.approx([0.2775, 0.7634, 1.0], abs=1e-4)
    assert np.isnan(lo[3]) and np.isnan(hi[3])


def test_contagion_curve_rises_and_drops_small_groups():
    rng = np.random.default_rng(1)
    k = rng.integers(0, 8, 5000)
    y = rng.random(5000) < 0.05 + 0.08 * np.minimum(k, 5)
    pop = np.ones(5000, bool)
    t = contagion_curve(k, y, pop, max_k=5)
    assert t["label"].tolist() == ["0", "1", "2", "3", "4", "5+"]
    assert t["rate"].is_monotonic_increasing
    assert ((t["ci_low"] <= t["rate"]) & (t["rate"] <= t["ci_high"])).all()
    assert t["n"].sum() == 5000
    few = contagion_curve(np.array([0] * 20 + [1] * 3), np.zeros(23, bool), np.ones(23, bool))
    assert few["k"].tolist() == [0]  # three people with one churned contact are not reported


def test_gains_lift_and_auc_on_a_perfect_and_a_useless_score():
    y = np.array([1] * 10 + [0] * 90, bool)
    perfect = np.linspace(1, 0, 100)
    g = gains_curve(perfect, y)
    assert g.loc[g["share_targeted"].round(2) == 0.10, "share_captured"].item() == 1.0
    assert lift_table(perfect, y)["lift"].iloc[0] == pytest.approx(10.0)
    assert auc(perfect, y) == 1.0
    assert auc(np.zeros(100), y) == 0.5


def test_log_bins_and_ticks():
    edges, counts = log_bins(np.array([1, 2, 3, 10, 100, 0, np.nan]))
    assert counts.sum() == 5 and edges[0] <= 1 and edges[-1] >= 100
    assert nice_ticks(0, 0.93) == [0, 0.2, 0.4, 0.6, 0.8, 1.0]


def test_ego_network_takes_the_strongest_ties():
    contacts = pd.DataFrame({"a_vid": [0, 0, 0, 1, 2], "b_vid": [1, 2, 3, 2, 3], "weight": [5.0, 4.0, 1.0, 2.0, 9.0]})
    ego = ego_network(contacts, 0, max_neighbours=2)
    assert ego["vids"].tolist() == [0, 1, 2]
    assert sorted(map(tuple, ego["edges"].tolist())) == [(0, 1), (0, 2), (1, 2)]


def test_report_is_self_contained(html):
    assert html.startswith("<!DOCTYPE html>")
    assert not re.search(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", html, re.I)
    assert not re.search(r"<script|<link|@import|<img|<iframe|url\(", html, re.I)
    hrefs = re.findall(r'href="([^"]*)"', html)
    assert hrefs and all(h.startswith("#") for h in hrefs)


def test_report_has_every_section_with_charts(html):
    for key, title in SECTIONS:
        assert f'<section id="{key}">' in html, key
        assert f"<h2>{title}</h2>" in html
    sections = dict(re.findall(r'<section id="(\w+)">(.*?)</section>', html, re.S))
    for key in ("graph", "communities", "contagion", "lift", "influence", "bellwethers", "segments"):
        assert "<svg" in sections[key], key
    assert sections["bellwethers"].count("<svg") == 4
    assert 'class="band"' in sections["contagion"]  # the Wilson confidence band
    assert "network model" in sections["lift"] and "baseline" in sections["lift"]
    assert "top PageRank" in sections["influence"]
    assert "bad_msisdn" in sections["summary"] and "cdr_2024_01.csv" in sections["summary"]
    assert "retention" in sections["lists"]
    for svg in re.findall(r"<svg[^>]*>", html):
        w, h = re.search(r'width="(\d+)"', svg), re.search(r'height="(\d+)"', svg)
        assert w and h and int(w.group(1)) > 0 and int(h.group(1)) > 0


def test_report_tables_hold_back_small_groups(mrun, html):
    sections = dict(re.findall(r'<section id="(\w+)">(.*?)</section>', html, re.S))
    small_bellwether = mrun.communities.set_index("community").loc[5, "bellwether"]  # community of 6 people
    assert small_bellwether not in sections["communities"]
    assert "1 community with fewer than 10 people" in sections["communities"]
    assert ">bellwether<" not in sections["segments"]  # six bellwethers: not profiled


def test_report_without_churn_labels_says_so(mrun):
    run = load_run(mrun.workspace)
    run.subscribers["churned_after"] = pd.array([pd.NA] * len(run.subscribers), dtype="boolean")
    data = build_report(run)
    assert data.contagion is None and data.lift is None
    page = render_html(data)
    assert "not known yet" in page
    assert '<section id="contagion">' in page and '<section id="lift">' in page


def test_text_is_escaped():
    svg = line_chart([Series("<b>x</b>", [0, 1], [0, 1]), Series("y", [0, 1], [1, 0])], title="a & b <c>")
    assert "<b>" not in svg and "&lt;b&gt;" in svg and "a &amp; b" in svg
    assert "<script" not in hbar_chart(["<script>"], [1.0], title="t")


def test_cli_report_prints_the_path(mrun, tmp_path):
    out = tmp_path / "r.html"
    res = CliRunner().invoke(app, ["report", "--workspace", str(mrun.workspace.root), "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert res.output.strip() == str(out)
    assert out.read_text(encoding="utf-8").count("<section") == len(SECTIONS)

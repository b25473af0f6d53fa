"""Report: the numbers behind the charts, and an HTML file that is self-contained, starts with what to do and has
every section."""

from __future__ import annotations

import html as htmllib
import re

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from bellwether.algorithms.report import (
    SECTIONS, build_report, contagion_curve, ego_network, log_bins, render_html,
    wilson_interval, write_report,
)
from bellwether.algorithms.report.contagion import contagion_sentence
from bellwether.algorithms.report.html import _fmt, _pct
from bellwether.algorithms.report.svg import Series, hbar_chart, line_chart, nice_ticks
from bellwether.algorithms.segments import load_run, segment_run, write_segments
from bellwether.algorithms.targets import TargetOptions, build_lists, write_lists
from bellwether.cli.app import app
from support.marketing_run import make_marketing_run


@pytest.fixture(scope="module")
def mrun(tmp_path_factory):
    m = make_marketing_run(tmp_path_factory.mktemp("report") / "ws")
    run = load_run(m.workspace)
    write_segments(run, segment_run(run))
    write_lists(run, build_lists(run, options=TargetOptions(top=40)))  # 40: every list gets rows
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
    assert "bad_msisdn" in sections["appendix"] and "cdr_2024_01.csv" in sections["appendix"]
    assert "retention.csv" in sections["actions"] and "retention.csv" in sections["appendix"]
    assert sections["communities"].count("<svg") == 2  # close circles and wider groups
    for svg in re.findall(r"<svg[^>]*>", html):
        w, h = re.search(r'width="(\d+)"', svg), re.search(r'height="(\d+)"', svg)
        assert w and h and int(w.group(1)) > 0 and int(h.group(1)) > 0


def test_report_tables_hold_back_small_groups(mrun, html):
    sections = dict(re.findall(r'<section id="(\w+)">(.*?)</section>', html, re.S))
    small_bellwether = mrun.communities.set_index("community").loc[5, "bellwether"]  # community of 6 people
    assert small_bellwether not in sections["communities"]
    assert "1 close circle with fewer than 10 people" in sections["communities"]
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


# -- the first screen: what to do, does churn spread, headline figures ------------------------------------------

def _sections(page: str) -> dict[str, str]:
    return dict(re.findall(r'<section id="(\w+)">(.*?)</section>', page, re.S))


def _text(fragment: str) -> str:
    """The words of an HTML fragment as a reader sees them (tags, styles and SVG titles dropped)."""
    fragment = re.sub(r"<style>.*?</style>|<title>.*?</title>", " ", fragment, flags=re.S)
    return re.sub(r"\s+", " ", htmllib.unescape(re.sub(r"<[^>]+>", " ", fragment)))


def test_report_opens_with_what_to_do_then_evidence_then_appendix(html):
    keys = re.findall(r'<section id="(\w+)">', html)
    assert keys[:3] == ["actions", "spread", "glance"] and keys[-1] == "appendix"
    assert keys == [k for k, _ in SECTIONS]
    assert re.findall(r'<nav>(.*?)</nav>', html, re.S)[0].count("<a ") == len(SECTIONS)


def test_what_to_do_names_every_list_with_its_size_impact_and_held_back_rows(mrun, html):
    actions = _text(_sections(html)["actions"])
    lists = mrun.run_dir / "lists"
    for name, unit in (("retention", "customers"), ("viral", "seeds"), ("community", "members"),
                       ("acquisition", "prospects")):
        rows = len(pd.read_csv(lists / f"{name}.csv"))
        assert rows > 0 and f"{name.capitalize()}: {rows:,} {unit}" in actions, name
        assert f"{name}.csv" in actions
    side = htmllib.unescape(_sections(html)["actions"])
    assert str(lists) not in side and "/" not in re.sub(r"<[^>]+>", "", side)  # file names, never paths
    saved = pd.read_csv(lists / "retention.csv")["expected_value_saved"].sum()
    assert f"Expected value saved: {saved:,.0f}" in actions
    assert re.search(r"Expected reach: about \d+ people \(95% interval \d+–\d+\)", actions)
    assert re.search(r"\d+ members in 1 group", actions) and "off-net prospects" in actions
    assert "Held back 12: 10 churned, 2 do-not-contact." in actions  # retention: 1 churn-risk + 1 seed on the DNC list
    assert "on the retention list" in actions  # later lists: already taken by retention


def test_what_to_do_without_lists_says_to_run_targets(mrun):
    data = build_report(load_run(mrun.workspace))
    data.lists, data.actions = [], []
    actions = _text(_sections(render_html(data))["actions"])
    assert "No target list has been exported" in actions and "bellwether targets" in actions


def test_does_churn_spread_in_one_sentence(html):
    answer = _text(_sections(html)["spread"])
    assert "Yes: right after a close contact churned, customers were 1.84× as likely to leave " \
           "(95% interval 1.31–2.58)." in answer
    assert "<svg" not in _sections(html)["spread"] and "<svg" in _sections(html)["contagion"]


def test_contagion_sentence_reads_every_outcome():
    m = {"measured": True, "hr": 1.2, "ci_low": 0.9, "ci_high": 1.6, "p_value": 0.3, "called": False}
    assert contagion_sentence(m).startswith("No evidence: ") and "includes 1" in contagion_sentence(m)
    assert "like attracting like" in contagion_sentence({**m, "ci_low": 1.1})
    assert contagion_sentence({**m, "p_value": None}).startswith("Not decided")
    assert contagion_sentence({"measured": False, "reason": "too few churners"}) == "Cannot tell: too few churners."
    assert contagion_sentence(None).startswith("Not tested")


def test_headline_cards_show_both_community_levels_and_the_seed_reach(html):
    glance = _text(_sections(html)["glance"])
    assert "6 close circles" in glance and "3 wider groups" in glance
    assert "151 people expected to be reached by the 8 influence seeds" in glance
    assert "698 contacts" in glance and "166 our customers" in glance


def test_no_python_values_and_the_parameters_are_in_the_appendix(html):
    words = _text(html)
    for bad in ("True", "False", "None", "nan", "NaN", "NaT", "<NA>"):
        assert not re.search(rf"(?<![\w-]){re.escape(bad)}(?![\w-])", words), bad
    assert not re.search(r"(?<![\w.])-0(?:\.0+)?%?(?![\d.])", words)  # no negative zero
    sections = _sections(html)
    appendix = _text(sections["appendix"])
    for name in ("tolerance", "max_iterations", "influence_simulations", "engine_celf", "study_days"):
        assert name in appendix, name
        assert all(name not in _text(sections[k]) for k in ("actions", "spread", "glance")), name
    assert re.search(r"engine_celf no\b", appendix) and re.search(r"study_days –", appendix)
    assert "Software versions" in appendix and "Timings" in appendix and "Rejected rows" in appendix


def test_values_are_written_in_words():
    assert (_fmt(True), _fmt(False), _fmt(None), _fmt(float("nan")), _fmt(pd.NA)) == ("yes", "no", "–", "–", "–")
    assert (_fmt("None"), _fmt("True"), _fmt([1, None, False])) == ("–", "yes", "1, –, no")
    assert (_fmt(-0.0), _fmt(-0.00001), _fmt(-1e-9 + 1e-9), _pct(-0.00004)) == ("0", "-1e-05", "0", "0.0%")
    assert (_fmt(12.0), _fmt(1234.567), _fmt(0.12345), _fmt(151.04)) == ("12", "1,235", "0.123", "151.0")
    assert "-0.0" not in map(str, nice_ticks(-0.3, 0.2))  # -0.3 + 3 × 0.1 rounds to -0.0 unless fixed


# -- the evidence: two community levels, charts with nothing to show, captions, headers --------------------------

def test_communities_show_both_levels(mrun, html):
    section = _sections(html)["communities"]
    text = _text(section)
    assert "Largest wider groups" in text and "Largest close circles" in text
    assert "close circles" in re.search(r"<h3>Largest wider groups</h3><table><thead>(.*?)</thead>", section).group(1)
    coarse = mrun.coarse_communities
    first = coarse.iloc[0]
    assert re.search(rf"<td class=\"n\">{first['community']}</td><td class=\"n\">{first['size']}</td>"
                     rf"<td class=\"n\">{first['fine_communities']}</td>", section)
    assert "88 people in the largest wider group" in text and "0.48 modularity of the wider groups" in text


def test_a_run_without_the_coarse_level_still_renders(mrun, tmp_path):
    run = load_run(mrun.workspace)
    run.subscribers = run.subscribers.drop(columns=["coarse_community"])
    run.communities = run.communities.drop(columns=["coarse_community"])
    run.manifest = {**run.manifest, "metrics": {**run.manifest["metrics"], "communities": {"modularity": 0.6}}}
    run.run_dir = tmp_path  # no coarse_communities.parquet, no lists here
    page = render_html(build_report(run))
    sections = _sections(page)
    assert "one community level only" in sections["communities"] and sections["communities"].count("<svg") == 1
    assert "wider groups" not in _text(sections["glance"]) and "bellwether targets" in _text(sections["actions"])


def test_charts_with_nothing_to_show_become_one_sentence(mrun):
    data = build_report(load_run(mrun.workspace))
    data.contagion = data.contagion.head(2)
    m = data.influence["metrics"]
    m.update(expected_spread=100.0, ci_low=95.0, ci_high=105.0, pagerank_spread=98.0, pagerank_ci_low=93.0,
             pagerank_ci_high=103.0, degree_spread=97.0, degree_ci_low=92.0, degree_ci_high=102.0)
    models = data.lift["models"]
    first = next(iter(models.values()))
    for name in models:
        models[name] = first
    sections = _sections(render_html(data))
    contagion = sections["contagion"]
    assert "No curve: only 2 groups" in _text(contagion) and 'class="band"' not in contagion
    assert "the seed lists reach about the same number of people" in _text(sections["influence"]).lower()
    assert "Expected reach of the seed list" not in sections["influence"]
    assert "rank customers almost the same way" in _text(sections["lift"]) and "Cumulative gains" not in sections["lift"]


def test_bellwether_captions_are_about_each_person(html):
    captions = [_text(c) for c in re.findall(r"<figcaption>(.*?)</figcaption>", _sections(html)["bellwethers"], re.S)]
    assert len(captions) == 4 and len(set(captions)) == 4
    bodies = {re.sub(r"^\S+: ", "", c) for c in captions}  # without the id, still four different captions
    assert len(bodies) == 4
    for c in captions:
        assert re.search(r"leads close circle \d+ of \d+ people; in wider group \d+ \(\d+ people\); \d+ followers? "
                         r"among \d+ contacts; bellwether score [\d.]+, #\d+ in the network", c), c
    assert "Segment:" not in " ".join(captions)  # all four share one segment: said once, above them


def test_segment_columns_are_explained(html):
    segments = _sections(html)["segments"]
    heads = re.findall(r"<th>(.*?)</th>", segments)
    assert {"churned before", "churned after", "mean predicted risk"} <= set(heads)
    assert not {"churn rate", "churn rate after", "mean churn risk"} & set(heads)
    text = _text(segments)
    assert "churned before: share of the segment that churned before the analysis date" in text
    assert "churned after: share of those still there on the analysis date who churned after it" in text
    assert "mean predicted risk: the churn model's mean probability" in text

"""Render :class:`~algorithms.report.data.ReportData` as one self-contained HTML file.

Inline CSS, inline SVG from :mod:`algorithms.report.svg`, no scripts, fonts, images or
links to anything outside the file: a marketing manager can open it offline or mail
it.  Every text value is HTML-escaped.
"""

from __future__ import annotations

from html import escape
from typing import Any, Iterable, Sequence

import numpy as np
import pandas as pd

from algorithms.report.data import ReportData
from algorithms.report.contagion import contagion_test_html
from algorithms.report.svg import PALETTE, Series, bar_chart, hbar_chart, histogram_chart, line_chart, network_chart

__all__ = ["SECTIONS", "render_html"]

SECTIONS = (
    ("summary", "Run summary"),
    ("graph", "Graph statistics"),
    ("communities", "Communities"),
    ("contagion", "Churn contagion"),
    ("lift", "Churn models"),
    ("influence", "Influence"),
    ("bellwethers", "Bellwethers"),
    ("segments", "Segments"),
    ("lists", "Target lists"),
)

CSS = """
*{box-sizing:border-box}
body{margin:0;font-family:system-ui,-apple-system,'Segoe UI',Helvetica,Arial,sans-serif;color:#1d2430;background:#f4f6f8;line-height:1.45}
header{background:#1f3a5f;color:#fff;padding:22px 32px}
header h1{margin:0 0 4px;font-size:24px}
header p{margin:0;opacity:.85}
nav{background:#fff;border-bottom:1px solid #dde2e8;padding:8px 32px;position:sticky;top:0}
nav a{color:#1f5f99;text-decoration:none;margin-right:16px;font-size:14px}
main{max-width:1120px;margin:0 auto;padding:8px 24px 48px}
section{background:#fff;border:1px solid #dde2e8;border-radius:8px;padding:18px 22px;margin:18px 0}
h2{margin:0 0 10px;font-size:19px;color:#1f3a5f}
h3{margin:16px 0 6px;font-size:15px}
p.note{color:#5b6573;font-size:13px;margin:6px 0}
.cards{display:flex;flex-wrap:wrap;gap:12px;margin:8px 0 14px}
.card{border:1px solid #dde2e8;border-radius:6px;padding:10px 14px;min-width:140px;background:#fafbfc}
.card .v{font-size:20px;font-weight:600;color:#1f3a5f}
.card .k{font-size:12px;color:#5b6573}
.grid{display:flex;flex-wrap:wrap;gap:16px}
figure{margin:8px 0}
figcaption{font-size:12px;color:#5b6573;max-width:460px}
table{border-collapse:collapse;font-size:13px;margin:6px 0 10px}
th,td{border-bottom:1px solid #e6e9ed;padding:4px 10px;text-align:left;vertical-align:top}
th{background:#f0f3f6;font-weight:600}
td.n{text-align:right;font-variant-numeric:tabular-nums}
.ego{border:1px solid #e6e9ed;border-radius:6px;padding:8px;background:#fff;width:272px}
.ego figcaption{max-width:250px}
.cols{display:flex;flex-wrap:wrap;gap:28px}
@media print{nav{display:none}section{break-inside:avoid}}
"""


def _fmt(v: Any, kind: str = "") -> str:
    if v is None or (isinstance(v, float) and not np.isfinite(v)) or v is pd.NA:
        return "–"
    if isinstance(v, (bool, np.bool_)):
        return "yes" if v else "no"
    if kind == "pct":
        return f"{float(v):.1%}"
    if isinstance(v, (int, np.integer)):
        return f"{int(v):,}"
    if isinstance(v, (float, np.floating)):
        a = abs(float(v))
        return f"{float(v):,.0f}" if a >= 1000 else f"{float(v):.3g}" if a < 10 else f"{float(v):,.1f}"
    return str(v)


def _table(df: pd.DataFrame, pct: Iterable[str] = (), headers: dict[str, str] | None = None) -> str:
    if df is None or len(df) == 0:
        return '<p class="note">No rows.</p>'
    pct = set(pct)
    headers = headers or {}
    head = "".join(f"<th>{escape(headers.get(c, c.replace('_', ' ')))}</th>" for c in df.columns)
    body = []
    for row in df.itertuples(index=False):
        cells = []
        for c, v in zip(df.columns, row):
            numeric = isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, (bool, np.bool_))
            cls = ' class="n"' if numeric else ""
            cells.append(f"<td{cls}>{escape(_fmt(v, 'pct' if c in pct else ''))}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _kv(items: Sequence[tuple[str, Any]]) -> str:
    rows = "".join(f"<tr><th>{escape(str(k))}</th><td>{escape(_fmt(v))}</td></tr>" for k, v in items)
    return f"<table>{rows}</table>" if rows else '<p class="note">None recorded.</p>'


def _flatten(d: Any, prefix: str = "") -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    if isinstance(d, dict):
        for k, v in d.items():
            out.extend(_flatten(v, f"{prefix}{k}." if isinstance(v, dict) else f"{prefix}{k}"))
        return out
    if isinstance(d, list):
        return [(prefix.rstrip("."), ", ".join(map(str, d)))]
    return [(prefix.rstrip("."), d)]


def _card(value: Any, key: str) -> str:
    return f'<div class="card"><div class="v">{escape(_fmt(value))}</div><div class="k">{escape(key)}</div></div>'


def _figure(svg: str, caption: str) -> str:
    return f"<figure>{svg}<figcaption>{escape(caption)}</figcaption></figure>"


def _section(key: str, body: str) -> str:
    title = dict(SECTIONS)[key]
    return f'<section id="{key}"><h2>{escape(title)}</h2>{body}</section>'


def _crm_note(d: ReportData) -> str:
    """The note saying what is unknown without a subscriber extract ("" when there is one)."""
    note = d.summary.get("crm_note")
    if not note:
        return ""
    return (f'<p class="note">{escape(note[0].upper() + note[1:])}. Every person in the graph (not service numbers) is '
            "treated as a possible customer: influence seeds and the viral list come from all of them; value tiers, "
            "ARPU and churn are unknown.</p>")


def _no_churn_labels(what: str, d: ReportData) -> str:
    """Why ``what`` cannot be drawn: no subscriber extract, or no churn known after the analysis date yet."""
    note = d.summary.get("crm_note")
    if note:
        return f'<p class="note">No churn data, so {escape(what)} cannot be drawn for this run: {escape(note)}.</p>'
    return (f'<p class="note">Churn after the analysis date is not known yet in the CRM data, so {escape(what)} '
            "cannot be drawn for this run.</p>")


def _summary(d: ReportData) -> str:
    s = d.summary
    m = s["metrics"]
    infl = m.get("influence", {})
    customers = (_card(s["on_net"], "our customers (on-net)") if s.get("crm", "present") == "present"
                 else _card("unknown", "our customers: no subscriber extract"))
    cards = [
        _card(s["subscribers"], "subscribers in the graph"), customers,
        _card(s["contacts"], "contacts (ties)"), _card(s["communities"], "communities"),
    ]
    if "modularity" in m.get("communities", {}):
        cards.append(_card(m["communities"]["modularity"], "modularity"))
    if "expected_spread" in infl:
        cards.append(_card(infl["expected_spread"], f"expected reach of {infl.get('k', '')} seeds"))
    inputs = pd.DataFrame(s["inputs"]) if s["inputs"] else pd.DataFrame()
    rejects = s["rejects"]
    rej = (pd.DataFrame({"reason": list(rejects), "rows": list(rejects.values())}) if isinstance(rejects, dict) and rejects
           else pd.DataFrame())
    run_facts = [("run", s["run_id"]), ("created", s["created"]), ("as of", s["as_of"]), ("engine", s["engine"]),
                 ("seed", s["seed"])] + [(f"graph {k}", v) for k, v in s["graph"]]
    body = [
        f'<div class="cards">{"".join(cards)}</div>', _crm_note(d),
        '<div class="cols"><div><h3>Run</h3>', _kv(run_facts), "</div>",
        "<div><h3>Parameters</h3>", _kv(_flatten(s["parameters"])), "</div>",
        "<div><h3>Software versions</h3>", _kv(_flatten(s["versions"])), "</div></div>",
        "<h3>Inputs</h3>", _table(inputs) if len(inputs) else '<p class="note">No load manifest in the workspace.</p>',
        "<h3>Rejected rows</h3>",
        _table(rej) if len(rej) else '<p class="note">No rows were rejected (or no load manifest).</p>',
    ]
    if s["timings"]:
        body += ["<h3>Timings (seconds)</h3>", _kv(_flatten(s["timings"]))]
    return _section("summary", "".join(body))


def _graph(d: ReportData) -> str:
    e, c = d.degree_hist
    deg = histogram_chart(e, c, title="Degree distribution", x_label="contacts per subscriber (log scale)",
                          y_label="subscribers (log scale)", x_log=True, y_log=True, width=460)
    e2, c2 = d.weight_hist
    ws = histogram_chart(e2, c2, title="Tie-strength distribution", x_label="tie strength (log scale)",
                         y_label="contacts", x_log=True, color=PALETTE[1], width=460)
    return _section("graph", '<div class="grid">' + _figure(deg, "How many contacts each subscriber has; a long tail "
                    "of very connected people is normal.") + _figure(ws, "Strength of each tie (time talking, "
                    "reciprocity, volume).") + "</div>")


def _communities(d: ReportData) -> str:
    e, c = d.community_hist
    hist = histogram_chart(e, c, title="Community sizes", x_label="members (log scale)", y_label="communities",
                           x_log=True, color=PALETTE[2])
    small = d.small_communities
    note = (f'<p class="note">{small:,} {"community" if small == 1 else "communities"} with fewer than 10 people '
            f'{"is" if small == 1 else "are"} counted in the chart but not listed.</p>') if small else ""
    return _section("communities", _figure(hist, "How many communities of each size the graph splits into.")
                    + f"<h3>Largest communities</h3>{_table(d.top_communities, pct={'churn_rate', 'internal_weight_share', 'on_net_share'})}{note}")


def _contagion(d: ReportData) -> str:
    test = contagion_test_html(d.summary["metrics"].get("churn", {}).get("contagion"))  # does churn spread here?
    if d.contagion is None or len(d.contagion) == 0:
        return _section("contagion", test + _no_churn_labels("the contagion curve", d))
    t = d.contagion
    chart = line_chart(
        [Series("churn rate after as_of", t["k"], t["rate"], t["ci_low"], t["ci_high"], color=PALETTE[3])],
        title="Churn rate by number of churned contacts", x_label="contacts who churned before the analysis date",
        y_label="share who churned afterwards", y_fmt=lambda v: f"{v:.0%}", x_ticks=t["k"].tolist(),
        x_fmt=lambda v: dict(zip(t["k"], t["label"])).get(int(v), f"{v:g}"),
    )
    cap = ("Each point is the share of customers active on the analysis date who churned afterwards, grouped by how many "
           "of their contacts had already churned; the band is the 95% Wilson confidence interval. A rising curve means "
           "churn spreads along social ties.")
    table = t[["label", "n", "churners", "rate", "ci_low", "ci_high"]].rename(columns={"label": "churned contacts", "n": "customers"})
    return _section("contagion", test + _figure(chart, cap) + _table(table, pct={"rate", "ci_low", "ci_high"}))


def _lift(d: ReportData) -> str:
    if not d.lift:
        return _section("lift", _no_churn_labels("the churn models' comparison with what happened", d))
    if not d.lift["models"]:
        reason = d.summary["metrics"].get("churn", {}).get("training", {}).get("reason", "")
        return _section("lift", '<p class="note">This run has no churn model scores to compare with what happened'
                        + (f": {escape(reason)}" if reason else "") + ".</p>")
    models = d.lift["models"]
    series = [Series(name, m["gains"]["share_targeted"], m["gains"]["share_captured"], points=False) for name, m in models.items()]
    series.append(Series("random targeting", [0, 1], [0, 1], color="#8c8c8c", dashed=True, points=False))
    gains = line_chart(series, title="Cumulative gains", x_label="share of customers contacted, highest risk first",
                       y_label="share of churners reached", y_min=0, y_max=1, width=460, x_fmt=lambda v: f"{v:.0%}",
                       y_fmt=lambda v: f"{v:.0%}")
    lift_series = [Series(name, m["deciles"]["decile"], m["deciles"]["lift"]) for name, m in models.items()]
    lift_series.append(Series("no model", [1, 10], [1, 1], color="#8c8c8c", dashed=True, points=False))
    lift = line_chart(lift_series, title="Lift by decile", x_label="risk decile (1 = highest risk)", x_ticks=range(1, 11),
                      y_label="churn rate ÷ average churn rate", width=460)
    rows = pd.DataFrame([{"model": name, "AUC": m["auc"], "lift in top 10%": m["deciles"]["lift"].iloc[0],
                          "churners reached in top 10%": float(np.interp(0.1, m["gains"]["share_targeted"], m["gains"]["share_captured"]))}
                         for name, m in models.items()])
    cap = (f"Judged on {d.lift['population']:,} customers active on the analysis date; {d.lift['base_rate']:.1%} of them "
           "churned afterwards.")
    return _section("lift", '<div class="grid">' + _figure(gains, cap) + _figure(lift, "How many times the average churn "
                    "rate each tenth of customers shows, ranked by each model.") + "</div>"
                    + _table(rows, pct={"churners reached in top 10%"}))


def _influence(d: ReportData) -> str:
    m = d.influence["metrics"]
    parts = []
    bars = []
    for name, key, lo, hi in (("influence seeds (IMM)", "expected_spread", "ci_low", "ci_high"),
                              ("top PageRank", "pagerank_spread", "pagerank_ci_low", "pagerank_ci_high"),
                              ("top degree", "degree_spread", "degree_ci_low", "degree_ci_high")):
        if m.get(key) is not None:
            bars.append((name, m[key], m.get(lo, np.nan), m.get(hi, np.nan)))
    if bars:
        chart = bar_chart([b[0] for b in bars], [b[1] for b in bars], lo=[b[2] for b in bars], hi=[b[3] for b in bars],
                          title="Expected reach of the seed list", y_label="subscribers reached",
                          colors=[PALETTE[0], PALETTE[1], PALETTE[5]][: len(bars)], value_fmt=lambda v: f"{v:,.0f}",
                          width=480)
        ratio, share = m.get("spread_ratio_vs_pagerank"), m.get("share_of_upper_bound")
        cap = (f"Expected number of subscribers reached when seeding {m.get('k', '?')} people (independent cascade, "
               "95% interval)." + (f" The seed list reaches {ratio:.2f}× as many as the same number of top-PageRank "
                                   "subscribers." if ratio else "")
               + (f" No choice of {m.get('k', '?')} seeds could reach more than {1 / share:.2f}× what this list "
                  f"reaches (it gets {share:.0%} of that bound)." if share and share == share else ""))
        parts.append(_figure(chart, cap))
    curve = d.influence["curve"]
    if len(curve):
        line = line_chart([Series("seed list", curve["rank"], curve["cumulative_spread"])], title="Reach as seeds are added", y_min=0,
                          x_label="number of seeds", y_label="expected subscribers reached", width=480)
        parts.append(_figure(line, "Each added seed reaches fewer new people: the first seeds matter most."))
    if not parts:
        return _section("influence", '<p class="note">No influence results in this run.</p>')
    return _section("influence", '<div class="grid">' + "".join(parts) + "</div>")


EGO_COLORS = {"bellwether": "#d9822b", "customer": "#1f5f99", "churned": "#b23a48", "off-net": "#9aa5b1"}


def _bellwethers(d: ReportData) -> str:
    if not d.egos:
        return _section("bellwethers", '<p class="note">No active bellwether in this run.</p>')
    figs = []
    for ego in d.egos:
        kinds = ego["kinds"]
        w = np.asarray(ego["weights"], dtype=np.float64)
        widths = 0.6 + 2.4 * (w / w.max()) if len(w) and w.max() > 0 else None
        sizes = np.where(kinds == "bellwether", 11.0, 6.0)
        legend = [(k, EGO_COLORS[k]) for k in ("bellwether", "customer", "churned", "off-net") if (kinds == k).any()]
        svg = network_chart(ego["positions"], ego["edges"], title=f"Ego network of bellwether {ego['id']}",
                            node_colors=[EGO_COLORS[k] for k in kinds], node_sizes=sizes, edge_widths=widths,
                            labels=list(kinds), width=250, height=250 + 16 * len(legend), legend=legend)
        com = f"leads community {ego['community']} of {ego['community_size']:,} people" if ego["community"] is not None and ego["community_size"] else ""
        cap = f"{ego['id']}: {com}; {ego['degree']:,} contacts, {ego['churned_neighbours']} of the strongest already churned."
        if ego.get("segment"):
            cap += f" Segment: {ego['segment']}."
        figs.append(f'<div class="ego">{_figure(svg, cap)}</div>')
    note = ('<p class="note">The strongest ties of the most influential active bellwethers and the ties among those '
            "contacts (thicker lines are stronger ties).</p>")
    return _section("bellwethers", note + '<div class="grid">' + "".join(figs) + "</div>")


def _segments(d: ReportData) -> str:
    p = d.profiles
    if p is None or len(p) == 0:
        return _section("segments", '<p class="note">No segment profiles: run `bellwether segments` first.</p>')
    parts = []
    charts = []
    for dim, title in (("value_tier", "Churn rate by value tier"), ("cluster_label", "Churn rate by behavioural cluster")):
        sub = p.loc[p["dimension"] == dim]
        rate_col = "churn_rate_after" if sub["churn_rate_after"].notna().any() else "mean_churn_risk"
        if len(sub) and sub[rate_col].notna().any():
            y_label = "churned after as_of" if rate_col == "churn_rate_after" else "mean predicted churn risk"
            charts.append(_figure(hbar_chart(sub["segment"].tolist(), sub[rate_col].to_numpy(), title=title, x_label=y_label,
                                             colors=[PALETTE[i % 5] for i in range(len(sub))], x_fmt=lambda v: f"{v:.0%}",
                                             value_fmt=lambda v: f"{v:.1%}"),
                                  f"{title}; segments under 10 people are not shown."))
    parts.append('<div class="grid">' + "".join(charts) + "</div>" if charts else
                 '<p class="note">No churn figures per segment: this run has no churn scores.</p>')
    parts.append(_crm_note(d))
    for dim, sub in p.groupby("dimension", sort=False):
        parts.append(f"<h3>{escape(str(dim).replace('_', ' '))}</h3>")
        parts.append(_table(sub.drop(columns=["dimension"]),
                            pct={"churn_rate", "churn_rate_after", "mean_churn_risk", "on_net_share"}))
    if d.suppressed_profiles:
        parts.append(f'<p class="note">{d.suppressed_profiles} segments with fewer than 10 people are not reported.</p>')
    return _section("segments", "".join(parts))


def _list_why(sidecar: dict[str, Any]) -> str:
    """Rows held back per reason, and why a list is empty when it could not be made."""
    held = [f"{k.replace('_', ' ')}: {v:,}" for k, v in (sidecar.get("suppressed") or {}).items()]
    if sidecar.get("empty_because"):
        held.insert(0, f"empty: {sidecar['empty_because']}")
    return "; ".join(held)


def _lists(d: ReportData) -> str:
    if not d.lists:
        return _section("lists", '<p class="note">No target lists exported for this run yet '
                        "(`bellwether targets`).</p>")
    rows = pd.DataFrame([{"list": x.get("name"), "file": x.get("path"), "rows": x.get("rows"),
                          "version": x.get("list_version"), "held back": x.get("suppressed_total", 0),
                          "why": _list_why(x)} for x in d.lists])
    return _section("lists", _table(rows) + '<p class="note">Lists are de-duplicated in the order retention, viral, '
                    "community, acquisition: nobody receives two offers.</p>")


def render_html(d: ReportData, *, title: str = "Bellwether report") -> str:
    """Return the complete report as one HTML document (UTF-8 text)."""
    nav = "".join(f'<a href="#{k}">{escape(v)}</a>' for k, v in SECTIONS)
    s = d.summary
    body = "".join(f(d) for f in (_summary, _graph, _communities, _contagion, _lift, _influence, _bellwethers, _segments, _lists))
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{escape(title)} — {escape(s['run_id'])}</title>"
        f"<style>{CSS}</style></head><body>"
        f"<header><h1>{escape(title)}</h1><p>Run {escape(s['run_id'])} · analysis date {escape(s['as_of'])} · "
        f"{s['subscribers']:,} subscribers, {s['contacts']:,} contacts</p></header>"
        f"<nav>{nav}</nav><main>{body}</main></body></html>\n"
    )

"""Render :class:`~bellwether.algorithms.report.data.ReportData` as one self-contained HTML file.

The first screen says what to do: one entry per exported target list (its size, what it is
expected to achieve, who was held back and why, its file), whether churn spreads in this
network, and a few headline figures.  The evidence follows (graph, both community levels,
contagion, churn models, influence, bellwethers, segments); parameters, software versions,
inputs, rejected rows and timings are in the appendix at the end.

Inline CSS, inline SVG from :mod:`bellwether.algorithms.report.svg`, no scripts, fonts, images or
links to anything outside the file: a marketing manager can open it offline or mail
it.  Every text value is HTML-escaped and written in words: booleans as yes/no, missing
values as "–", numbers rounded for reading (never "-0").
"""

from __future__ import annotations

import math
from html import escape
from typing import Any, Iterable, Sequence

import numpy as np
import pandas as pd

from bellwether.algorithms.report.contagion import contagion_sentence, contagion_test_html
from bellwether.algorithms.report.data import LIST_ORDER, ReportData, list_action
from bellwether.algorithms.report.svg import PALETTE, Series, bar_chart, hbar_chart, histogram_chart, line_chart, network_chart

__all__ = ["SECTIONS", "render_html"]

SECTIONS = (
    ("actions", "What to do"),
    ("spread", "Does churn spread in this network?"),
    ("glance", "At a glance"),
    ("graph", "Graph statistics"),
    ("communities", "Communities"),
    ("contagion", "Churn contagion"),
    ("lift", "Churn models"),
    ("influence", "Influence"),
    ("bellwethers", "Bellwethers"),
    ("segments", "Segments"),
    ("appendix", "Appendix"),
)

#: Shorter names for the navigation bar (the section titles otherwise).
NAV = {"spread": "Does churn spread?", "graph": "Graph", "contagion": "Contagion"}

CSS = """
*{box-sizing:border-box}
body{margin:0;font-family:system-ui,-apple-system,'Segoe UI',Helvetica,Arial,sans-serif;color:#1d2430;background:#f4f6f8;line-height:1.45}
header{background:#1f3a5f;color:#fff;padding:10px 32px}
header h1{margin:0;font-size:20px}
header p{margin:0;opacity:.85;font-size:13px}
nav{background:#fff;border-bottom:1px solid #dde2e8;padding:6px 32px;position:sticky;top:0}
nav a{color:#1f5f99;text-decoration:none;margin-right:14px;font-size:13px}
main{max-width:1200px;margin:0 auto;padding:2px 24px 48px}
section{background:#fff;border:1px solid #dde2e8;border-radius:8px;padding:12px 22px;margin:12px 0}
h2{margin:0 0 8px;font-size:19px;color:#1f3a5f}
h3{margin:14px 0 6px;font-size:15px}
p.note{color:#5b6573;font-size:13px;margin:6px 0}
p.answer{font-size:16px;margin:2px 0}
p.answer a{font-size:13px;margin-left:6px}
.cards{display:flex;flex-wrap:wrap;gap:12px;margin:6px 0 8px}
.card{border:1px solid #dde2e8;border-radius:6px;padding:6px 14px;min-width:120px;background:#fafbfc}
.card .v{font-size:20px;font-weight:600;color:#1f3a5f}
.card .k{font-size:12px;color:#5b6573}
.actions{display:grid;grid-template-columns:repeat(auto-fit,minmax(240px,1fr));gap:12px;margin:4px 0 6px}
.action{border:1px solid #dde2e8;border-left:4px solid #1f5f99;border-radius:6px;padding:8px 12px;background:#fafbfc}
.action.empty{border-left-color:#9aa5b1}
.action h3{margin:0 0 2px;font-size:15px;color:#1f3a5f}
.action p{margin:3px 0;font-size:13px;line-height:1.35}
.action .what,.action .held{color:#5b6573;font-size:12px}
.action .file{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12px;color:#5b6573}
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

_MISSING_TEXT = {"none", "nan", "nat", "<na>", "null", "inf", "-inf"}


# -- words and numbers ---------------------------------------------------------------------------

def _unsign(text: str) -> str:
    """Drop the sign of a number that reads as zero ("-0", "-0.0%", "-0.000" become "0", "0.0%", "0.000")."""
    return text[1:] if text.startswith("-") and not any(c in "123456789" for c in text) else text


def _missing(v: Any) -> bool:
    """True for None, pandas' missing values and non-finite numbers."""
    if v is None or v is pd.NA or v is pd.NaT:
        return True
    if isinstance(v, (float, np.floating)):
        return not math.isfinite(float(v))
    return False


def _num(x: float) -> str:
    """A number rounded for reading: whole numbers and thousands without decimals, 10-999 with one, smaller ones to
    3 significant digits; 0 for zero (never "-0")."""
    x = float(x)
    if x == 0:
        return "0"
    a = abs(x)
    if x == round(x) and a < 1e15:
        return f"{int(round(x)):,}"
    if a >= 1000:
        text = f"{x:,.0f}"
    elif a >= 10:
        text = f"{x:,.1f}"
    elif a >= 0.0005:
        text = f"{x:.3g}"
    else:
        text = f"{x:.2g}"
    return _unsign(text)


def _pct(v: Any, digits: int = 1) -> str:
    """A share as a percentage with ``digits`` decimals ("–" when missing)."""
    return "–" if _missing(v) else _unsign(f"{float(v):.{digits}%}")


def _fmt(v: Any, kind: str = "") -> str:
    """Any value in words: yes/no, "–" when missing, numbers rounded, lists joined (``kind="pct"``: a share)."""
    if _missing(v):
        return "–"
    if isinstance(v, (bool, np.bool_)):
        return "yes" if v else "no"
    if isinstance(v, str):
        low = v.strip().lower()
        if low in ("true", "false"):
            return "yes" if low == "true" else "no"
        return "–" if low in _MISSING_TEXT else v
    if isinstance(v, dict):
        return "; ".join(f"{k}: {_fmt(x)}" for k, x in v.items()) or "–"
    if isinstance(v, (list, tuple, set, np.ndarray)):
        return ", ".join(_fmt(x) for x in v) or "–"
    if kind == "pct":
        return _pct(v)
    if isinstance(v, (int, np.integer)):
        return f"{int(v):,}"
    if isinstance(v, (float, np.floating)):
        return _num(float(v))
    return _fmt(str(v))


def _plural(n: int, one: str, many: str | None = None) -> str:
    """``"1 customer"`` / ``"3 customers"`` (thousands separated)."""
    return f"{n:,} {one if n == 1 else many or one + 's'}"


# -- building blocks ---------------------------------------------------------------------------

def _table(df: pd.DataFrame, pct: Iterable[str] = (), headers: dict[str, str] | None = None) -> str:
    """An HTML table of ``df`` (columns in ``pct`` as percentages, ``headers`` renaming columns)."""
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
    """A two-column table of names and values."""
    rows = "".join(f"<tr><th>{escape(str(k))}</th><td>{escape(_fmt(v))}</td></tr>" for k, v in items)
    return f"<table>{rows}</table>" if rows else '<p class="note">None recorded.</p>'


def _flatten(d: Any, prefix: str = "") -> list[tuple[str, Any]]:
    """Nested dicts as ``("a.b", value)`` pairs (lists kept whole, formatted later)."""
    out: list[tuple[str, Any]] = []
    if isinstance(d, dict):
        for k, v in d.items():
            out.extend(_flatten(v, f"{prefix}{k}." if isinstance(v, dict) else f"{prefix}{k}"))
        return out
    return [(prefix.rstrip("."), d)]


def _card(value: Any, key: str) -> str:
    return f'<div class="card"><div class="v">{escape(_fmt(value))}</div><div class="k">{escape(key)}</div></div>'


def _figure(svg: str, caption: str) -> str:
    return f"<figure>{svg}<figcaption>{escape(caption)}</figcaption></figure>"


def _note(text: str) -> str:
    return f'<p class="note">{escape(text)}</p>'


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


# -- the first screen: what to do, does churn spread, headline figures ----------------------------

#: Per list: its title, the people on it (singular, plural) and what they are for.
LIST_WORDS = {
    "retention": ("Retention", ("customer", "customers"), "Likely to leave: call them with an offer."),
    "viral": ("Viral", ("seed", "seeds"), "Influential customers: invite them to spread a campaign."),
    "community": ("Community", ("member", "members"), "Groups where churn is spreading: a group offer."),
    "acquisition": ("Acquisition", ("prospect", "prospects"), "Other operators' customers close to our bellwethers."),
}

#: Why rows are held back, in words (unknown reasons are shown with spaces for underscores).
HELD_WORDS = {
    "do_not_contact": "do-not-contact",
    "churned": "churned",
    "below_cost": "worth less than the contact cost",
    "group_smaller_than_min_size": "in groups too small",
}


def _held_reason(reason: str) -> str:
    """One held-back reason in words (``in_retention_list`` reads "on the retention list")."""
    if reason in HELD_WORDS:
        return HELD_WORDS[reason]
    if reason.startswith("in_") and reason.endswith("_list"):
        return f"on the {reason[3:-5].replace('_', ' ')} list"
    return reason.replace("_", " ")


def _people(x: float) -> str:
    """An expected number of people, rounded to whole people."""
    return f"{int(round(float(x))):,}"


def _impact_text(action: dict[str, Any]) -> str:
    """What one list is expected to achieve, in words (plain text)."""
    imp, rows = action["impact"], action["rows"]
    kind = imp.get("kind")
    if kind == "value_saved":
        if imp.get("total") is None:
            return "Expected value saved: unknown (the export does not say)."
        months, rate = imp.get("value_months"), imp.get("response_rate")
        terms = (f" ({_num(months)} months of revenue, if {_pct(rate, 0)} of would-be churners accept)"
                 if months is not None and rate is not None else "")
        if imp.get("unit") == "customers":
            return f"Expected to keep about {_num(imp['total'])} customers{terms}; no ARPU is known, so no money figure."
        return f"Expected value saved: {_num(imp['total'])}{terms}."
    if kind == "exposure":
        return ("Ranked by ties to customers who already churned: no churn model in this run, so no value saved "
                "is estimated.")
    if kind == "reach":
        if imp.get("mean") is None:
            return "Expected reach: unknown (the export does not say)."
        ci = (f" (95% interval {_people(imp['ci_low'])}–{_people(imp['ci_high'])})"
              if imp.get("ci_low") is not None and imp.get("ci_high") is not None and rows else "")
        return f"Expected reach: about {_people(imp['mean'])} people{ci}."
    if kind == "members":
        offers = imp.get("offers")
        return _plural(imp["members"], "member") + (f" in {_plural(offers, 'group')}." if offers else ".")
    if kind == "prospects":
        return f"{_plural(imp['prospects'], 'off-net prospect')}."
    return f"{_plural(rows, 'row')}."


def _held_text(action: dict[str, Any]) -> str:
    """How many rows were held back and why (plain text)."""
    if not action["held_back"]:
        return "Nobody held back."
    why = ", ".join(f"{n:,} {_held_reason(r)}" for r, n in action["held_reasons"])
    return f"Held back {action['held_back']:,}" + (f": {why}." if why else ".")


def _action_card(action: dict[str, Any]) -> str:
    """One list as a card: title and size, expected impact, held back and why, file name."""
    name = action["name"]
    title, (one, many), what = LIST_WORDS.get(name, (name.capitalize(), ("person", "people"), ""))
    rows = action["rows"]
    head = f"{title}: {_plural(rows, one, many)}"
    parts = [f"<h3>{escape(head)}</h3>"]
    if rows == 0:
        why = action["empty_because"] or "everyone who could be on it was held back (below)"
        parts.append(f"<p>Empty: {escape(why.rstrip('.'))}.</p>")
    else:
        parts.append(f'<p class="what">{escape(what)}</p>' if what else "")
        parts.append(f"<p>{escape(_impact_text(action))}</p>")
    if action["notice"]:
        parts.append(f'<p class="held">Note: {escape(str(action["notice"]).rstrip("."))}.</p>')
    parts.append(f'<p class="held">{escape(_held_text(action))}</p>')
    if action["file"]:
        parts.append(f'<p class="file">{escape(action["file"])}</p>')
    cls = "action empty" if rows == 0 else "action"
    return f'<div class="{cls}">{"".join(parts)}</div>'


def _actions(d: ReportData) -> str:
    """What to do: one card per exported list, in priority order, or how to make the lists."""
    actions = d.actions or [list_action(x) for x in d.lists]
    if not actions:
        return _section("actions", '<p class="answer">No target list has been exported for this run yet: run '
                        "<code>bellwether targets</code> to make the retention, viral, community and acquisition "
                        "lists.</p>")
    order = {name: i for i, name in enumerate(LIST_ORDER)}
    actions = sorted(actions, key=lambda a: order.get(a["name"], len(order)))
    cards = "".join(_action_card(a) for a in actions)
    return _section("actions", f'<div class="actions">{cards}</div>' + _note(
        "Nobody is on two lists (priority: retention, viral, community, acquisition). The files are in the run's "
        "lists folder; their versions are in the appendix."))


def _spread(d: ReportData) -> str:
    """Does churn spread here: the contagion test's answer in one sentence (the chart is in the evidence)."""
    test = (d.summary["metrics"].get("churn") or {}).get("contagion")
    return _section("spread", f'<p class="answer">{escape(contagion_sentence(test))}'
                    '<a href="#contagion">the evidence</a></p>')


def _seed_reach(d: ReportData) -> tuple[float, Any] | None:
    """The expected reach of the run's influence seeds and their number (None when the run has none)."""
    infl = d.summary["metrics"].get("influence") or {}
    reach = infl.get("expected_spread")
    if _missing(reach) or not isinstance(reach, (int, float)):
        return None
    return float(reach), infl.get("k")


def _glance(d: ReportData) -> str:
    """Headline cards: customers, contacts, both community levels, the expected reach of the influence seeds."""
    s = d.summary
    customers = (_card(s["on_net"], "our customers") if s.get("crm", "present") == "present"
                 else _card("unknown", "our customers: no subscriber extract"))
    cards = [customers, _card(s["contacts"], "contacts between people"),
             _card(s["communities"], "close circles (communities)")]
    if s.get("coarse_communities") is not None:
        cards.append(_card(s["coarse_communities"], "wider groups of close circles"))
    reach = _seed_reach(d)
    if reach is not None:
        k = reach[1]
        seeds = f"the {_fmt(k)} influence seeds" if not _missing(k) else "the influence seeds"
        cards.append(_card(round(reach[0]), f"people expected to be reached by {seeds}"))
    return _section("glance", f'<div class="cards">{"".join(cards)}</div>' + _crm_note(d))


# -- the evidence --------------------------------------------------------------------------------

def _graph(d: ReportData) -> str:
    s = d.summary
    cards = [_card(s["subscribers"], "subscribers in the graph"), _card(s["contacts"], "contacts (ties)")]
    e, c = d.degree_hist
    deg = histogram_chart(e, c, title="Degree distribution", x_label="contacts per subscriber (log scale)",
                          y_label="subscribers (log scale)", x_log=True, y_log=True, width=460)
    e2, c2 = d.weight_hist
    ws = histogram_chart(e2, c2, title="Tie-strength distribution", x_label="tie strength (log scale)",
                         y_label="contacts", x_log=True, color=PALETTE[1], width=460)
    return _section("graph", f'<div class="cards">{"".join(cards)}</div><div class="grid">'
                    + _figure(deg, "How many contacts each subscriber has; a long tail of very connected people is "
                              "normal.") + _figure(ws, "Strength of each tie (time talking, reciprocity, volume).")
                    + "</div>")


COMMUNITY_HEADERS = {
    "community": "community", "size": "people", "coarse_community": "wider group", "fine_communities": "close circles",
    "churn_rate": "churned before the analysis date", "recent_churners": "recent churners", "mean_arpu": "mean ARPU",
    "internal_weight_share": "tie strength kept inside", "on_net_share": "our customers", "bellwether": "bellwether",
}
COMMUNITY_PCT = {"churn_rate", "internal_weight_share", "on_net_share"}


def _level_cards(m: dict[str, Any], count: Any, what: str) -> list[str]:
    """Cards of one community level: how many, the largest, the median size, modularity (those known)."""
    cards = [_card(count, what)]
    for key, label in (("largest", f"people in the largest {what[:-1]}"),
                       ("median_size", f"median size ({what} of 2 or more)"), ("modularity", f"modularity of the {what}")):
        if not _missing(m.get(key)):
            cards.append(_card(m[key], label))
    return cards


def _small_note(n: int, what: tuple[str, str]) -> str:
    """The note on groups of fewer than 10 people, counted in the chart but not listed."""
    if not n:
        return ""
    return _note(f"{_plural(n, *what)} with fewer than 10 people {'is' if n == 1 else 'are'} counted in the chart "
                 "but not listed.")


def _communities(d: ReportData) -> str:
    """Both community levels: counts, size distributions, the largest wider groups and close circles."""
    m = d.summary["metrics"].get("communities") or {}
    coarse_m = m.get("coarse") if isinstance(m.get("coarse"), dict) else {}
    has_coarse = d.coarse_hist is not None
    cards = _level_cards(m, d.summary["communities"], "close circles")
    if has_coarse:
        cards += _level_cards(coarse_m, d.summary.get("coarse_communities"), "wider groups")
    e, c = d.community_hist
    figs = [_figure(histogram_chart(e, c, title="Close circles by size", x_label="members (log scale)",
                                    y_label="close circles", x_log=True, color=PALETTE[2], width=460),
                    "Close circles (fine communities): households, family plans, close friends.")]
    if has_coarse:
        e2, c2 = d.coarse_hist
        figs.append(_figure(histogram_chart(e2, c2, title="Wider groups by size", x_label="members (log scale)",
                                            y_label="wider groups", x_log=True, color=PALETTE[4], width=460),
                            "Wider groups (coarse communities): workplaces, classes, villages; each holds whole "
                            "close circles."))
    body = [_note("Two nested levels: every close circle lies inside one wider group."),
            f'<div class="cards">{"".join(cards)}</div>', '<div class="grid">' + "".join(figs) + "</div>"]
    if has_coarse:
        body += ["<h3>Largest wider groups</h3>",
                 _table(d.top_coarse, pct=COMMUNITY_PCT, headers={**COMMUNITY_HEADERS, "community": "wider group"}),
                 _small_note(d.small_coarse, ("wider group", "wider groups"))]
    else:
        body.append(_note("This run has one community level only: it was analysed before wider groups existed."))
    body += ["<h3>Largest close circles</h3>", _table(d.top_communities, pct=COMMUNITY_PCT, headers=COMMUNITY_HEADERS),
             _small_note(d.small_communities, ("close circle", "close circles"))]
    return _section("communities", "".join(body))


MIN_CURVE_POINTS = 3


def _contagion(d: ReportData) -> str:
    test = contagion_test_html(d.summary["metrics"].get("churn", {}).get("contagion"))  # does churn spread here?
    if d.contagion is None or len(d.contagion) == 0:
        return _section("contagion", test + _no_churn_labels("the contagion curve", d))
    t = d.contagion
    table = t[["label", "n", "churners", "rate", "ci_low", "ci_high"]].rename(columns={
        "label": "churned contacts", "n": "customers", "churners": "churned after", "rate": "churn rate after",
        "ci_low": "95% interval from", "ci_high": "95% interval to"})
    pct = {"churn rate after", "95% interval from", "95% interval to"}
    if len(t) < MIN_CURVE_POINTS:
        why = _note(f"No curve: only {_plural(len(t), 'group')} of customers by number of churned contacts "
                    f"{'has' if len(t) == 1 else 'have'} at least 10 people, too few to show a trend.")
        return _section("contagion", test + why + _table(table, pct=pct))
    chart = line_chart(
        [Series("churn rate after as_of", t["k"], t["rate"], t["ci_low"], t["ci_high"], color=PALETTE[3])],
        title="Churn rate by number of churned contacts", x_label="contacts who churned before the analysis date",
        y_label="share who churned afterwards", y_fmt=lambda v: _pct(v, 0), x_ticks=t["k"].tolist(),
        x_fmt=lambda v: dict(zip(t["k"], t["label"])).get(int(v), _num(v)),
    )
    cap = ("Each point is the share of customers active on the analysis date who churned afterwards, grouped by how many "
           "of their contacts had already churned; the band is the 95% Wilson confidence interval. A rising curve means "
           "churn spreads along social ties.")
    return _section("contagion", test + _figure(chart, cap) + _table(table, pct=pct))


def _curves_coincide(models: dict[str, Any], tol: float = 0.02) -> bool:
    """True when two models' cumulative gains never differ by more than ``tol`` (a share of churners)."""
    if len(models) != 2:
        return False
    a, b = (m["gains"]["share_captured"].to_numpy(np.float64) for m in models.values())
    return len(a) == len(b) and bool(np.nanmax(np.abs(a - b)) <= tol)


def _lift(d: ReportData) -> str:
    if not d.lift:
        return _section("lift", _no_churn_labels("the churn models' comparison with what happened", d))
    if not d.lift["models"]:
        reason = d.summary["metrics"].get("churn", {}).get("training", {}).get("reason", "")
        return _section("lift", '<p class="note">This run has no churn model scores to compare with what happened'
                        + (f": {escape(reason)}" if reason else "") + ".</p>")
    models = d.lift["models"]
    rows = pd.DataFrame([{"model": name, "AUC": m["auc"], "lift in top 10%": m["deciles"]["lift"].iloc[0],
                          "churners reached in top 10%": float(np.interp(0.1, m["gains"]["share_targeted"], m["gains"]["share_captured"]))}
                         for name, m in models.items()])
    table = _table(rows, pct={"churners reached in top 10%"})
    cap = (f"Judged on {d.lift['population']:,} customers active on the analysis date; {_pct(d.lift['base_rate'])} of "
           "them churned afterwards.")
    if _curves_coincide(models):
        return _section("lift", _note(f"The model with network features and the one without rank customers almost the "
                                      f"same way (their gains curves differ by at most 2 points), so their charts are "
                                      f"left out: the network adds little to predicting churn here. {cap}") + table)
    series = [Series(name, m["gains"]["share_targeted"], m["gains"]["share_captured"], points=False) for name, m in models.items()]
    series.append(Series("random targeting", [0, 1], [0, 1], color="#8c8c8c", dashed=True, points=False))
    gains = line_chart(series, title="Cumulative gains", x_label="share of customers contacted, highest risk first",
                       y_label="share of churners reached", y_min=0, y_max=1, width=460, x_fmt=lambda v: _pct(v, 0),
                       y_fmt=lambda v: _pct(v, 0))
    lift_series = [Series(name, m["deciles"]["decile"], m["deciles"]["lift"]) for name, m in models.items()]
    lift_series.append(Series("no model", [1, 10], [1, 1], color="#8c8c8c", dashed=True, points=False))
    lift = line_chart(lift_series, title="Lift by decile", x_label="risk decile (1 = highest risk)", x_ticks=range(1, 11),
                      y_label="churn rate ÷ average churn rate", width=460)
    return _section("lift", '<div class="grid">' + _figure(gains, cap) + _figure(lift, "How many times the average churn "
                    "rate each tenth of customers shows, ranked by each model.") + "</div>" + table)


INFLUENCE_BARS = (("influence seeds (IMM)", "expected_spread", "ci_low", "ci_high"),
                  ("top PageRank", "pagerank_spread", "pagerank_ci_low", "pagerank_ci_high"),
                  ("top degree", "degree_spread", "degree_ci_low", "degree_ci_high"))


def _float(x: Any) -> float:
    """``x`` as a float, NaN when missing or not a number."""
    try:
        return float(x)
    except (TypeError, ValueError):
        return float("nan")


def _spreads_overlap(bars: list[tuple[str, float, float, float]]) -> bool:
    """True when every two seed lists' 95% intervals of expected reach overlap (they reach about as many)."""
    if len(bars) < 2 or any(_missing(lo) or _missing(hi) for _, _, lo, hi in bars):
        return False
    return all(a[2] <= b[3] and b[2] <= a[3] for i, a in enumerate(bars) for b in bars[i + 1:])


def _influence(d: ReportData) -> str:
    m = d.influence["metrics"]
    parts = []
    bars = [(name, _float(m.get(key)), _float(m.get(lo)), _float(m.get(hi)))
            for name, key, lo, hi in INFLUENCE_BARS if not _missing(m.get(key)) and m.get(key) is not None]
    k = _fmt(m.get("k")) if not _missing(m.get("k")) else "the same number of"
    ratio, share = m.get("spread_ratio_vs_pagerank"), m.get("share_of_upper_bound")
    bound = (f" No choice of {k} seeds could reach more than {_num(1 / share)}× what the seed list reaches (it gets "
             f"{_pct(share, 0)} of that bound)." if not _missing(share) and share else "")
    if _spreads_overlap(bars):
        each = ", ".join(f"{name} about {_num(v)}" for name, v, _, _ in bars)
        parts.append(_note(f"The seed lists reach about the same number of people when seeding {k} people ({each}; "
                           f"their 95% intervals overlap), so the comparison chart is left out.{bound}"))
    elif bars:
        chart = bar_chart([b[0] for b in bars], [b[1] for b in bars], lo=[b[2] for b in bars], hi=[b[3] for b in bars],
                          title="Expected reach of the seed list", y_label="subscribers reached",
                          colors=[PALETTE[0], PALETTE[1], PALETTE[5]][: len(bars)], value_fmt=_num, width=480)
        cap = (f"Expected number of subscribers reached when seeding {k} people (independent cascade, 95% interval)."
               + (f" The seed list reaches {_num(ratio)}× as many as the same number of top-PageRank subscribers."
                  if not _missing(ratio) and ratio else "") + bound)
        parts.append(_figure(chart, cap))
    curve = d.influence["curve"]
    if len(curve) >= 2:
        line = line_chart([Series("seed list", curve["rank"], curve["cumulative_spread"])], title="Reach as seeds are added", y_min=0,
                          x_label="number of seeds", y_label="expected subscribers reached", width=480)
        parts.append(_figure(line, "Each added seed reaches fewer new people: the first seeds matter most."))
    if not parts:
        return _section("influence", '<p class="note">No influence results in this run.</p>')
    return _section("influence", '<div class="grid">' + "".join(parts) + "</div>")


EGO_COLORS = {"bellwether": "#d9822b", "customer": "#1f5f99", "churned": "#b23a48", "off-net": "#9aa5b1"}


def _ego_caption(ego: dict[str, Any], shared_segment: bool) -> str:
    """What is particular to one bellwether: community and wider group, followers, contacts, score and its rank,
    churned strong ties, and the segment when the bellwethers shown are not all in the same one."""
    bits = []
    if ego["community"] is not None:
        size = f" of {_plural(ego['community_size'], 'person', 'people')}" if ego.get("community_size") else ""
        bits.append(f"leads close circle {ego['community']}{size}")
    if ego.get("coarse_community") is not None:
        size = f" ({_plural(ego['coarse_size'], 'person', 'people')})" if ego.get("coarse_size") else ""
        bits.append(f"in wider group {ego['coarse_community']}{size}")
    bits.append(f"{_plural(ego.get('followers', 0), 'follower')} among {_plural(ego['degree'], 'contact')}")
    bits.append(f"bellwether score {ego['bellwether_score']:.3f}, #{ego.get('score_rank', '–')} in the network")
    churned = ego["churned_neighbours"]
    bits.append("none of the strongest ties churned" if not churned else
                f"{_plural(churned, 'strongest tie')} already churned")
    cap = f"{ego['id']}: " + "; ".join(bits) + "."
    if ego.get("segment") and not shared_segment:
        cap += f" Segment: {ego['segment']}."
    return cap


def _bellwethers(d: ReportData) -> str:
    if not d.egos:
        return _section("bellwethers", '<p class="note">No active bellwether in this run.</p>')
    segments = {e.get("segment") for e in d.egos}
    shared = len(d.egos) > 1 and len(segments) == 1 and bool(next(iter(segments)))
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
        figs.append(f'<div class="ego">{_figure(svg, _ego_caption(ego, shared))}</div>')
    note = ("The strongest ties of the most influential active bellwethers and the ties among those contacts (thicker "
            "lines are stronger ties)." + (f" All {len(d.egos)} are in the segment “{next(iter(segments))}”." if shared else ""))
    return _section("bellwethers", _note(note) + '<div class="grid">' + "".join(figs) + "</div>")


SEGMENT_HEADERS = {
    "size": "people", "churn_rate": "churned before", "churn_rate_after": "churned after",
    "mean_churn_risk": "mean predicted risk", "mean_arpu": "mean ARPU", "on_net_share": "our customers",
}
SEGMENT_LEGEND = ("churned before: share of the segment that churned before the analysis date; churned after: share of "
                  "those still there on the analysis date who churned after it; mean predicted risk: the churn model's "
                  "mean probability of leaving within the churn horizon; our customers: share on our network.")


def _segments(d: ReportData) -> str:
    p = d.profiles
    if p is None or len(p) == 0:
        return _section("segments", '<p class="note">No segment profiles: run `bellwether segments` first.</p>')
    parts = []
    charts = []
    for dim, title in (("value_tier", "value tier"), ("cluster_label", "behavioural cluster")):
        sub = p.loc[p["dimension"] == dim]
        rate_col = "churn_rate_after" if sub["churn_rate_after"].notna().any() else "mean_churn_risk"
        if len(sub) and sub[rate_col].notna().any():
            what = "Churned after the analysis date" if rate_col == "churn_rate_after" else "Mean predicted churn risk"
            x_label = ("share who churned after the analysis date" if rate_col == "churn_rate_after"
                       else "mean predicted churn risk")
            charts.append(_figure(hbar_chart(sub["segment"].tolist(), sub[rate_col].to_numpy(), title=f"{what} by {title}",
                                             x_label=x_label, colors=[PALETTE[i % 5] for i in range(len(sub))],
                                             x_fmt=lambda v: _pct(v, 0), value_fmt=_pct),
                                  f"{what} by {title}; segments under 10 people are not shown."))
    parts.append('<div class="grid">' + "".join(charts) + "</div>" if charts else
                 '<p class="note">No churn figures per segment: this run has no churn scores.</p>')
    parts.append(_crm_note(d))
    parts.append(_note(SEGMENT_LEGEND))
    for dim, sub in p.groupby("dimension", sort=False):
        parts.append(f"<h3>{escape(str(dim).replace('_', ' '))}</h3>")
        parts.append(_table(sub.drop(columns=["dimension"]), headers=SEGMENT_HEADERS,
                            pct={"churn_rate", "churn_rate_after", "mean_churn_risk", "on_net_share"}))
    if d.suppressed_profiles:
        parts.append(_note(f"{_plural(d.suppressed_profiles, 'segment')} with fewer than 10 people "
                           f"{'is' if d.suppressed_profiles == 1 else 'are'} not reported."))
    return _section("segments", "".join(parts))


# -- the appendix --------------------------------------------------------------------------------

def _list_files(d: ReportData) -> str:
    """The exported lists' files, versions and held-back counts (for audit)."""
    actions = d.actions or [list_action(x) for x in d.lists]
    if not actions:
        return _note("No target lists exported for this run yet (`bellwether targets`).")
    rows = pd.DataFrame([{"list": a["name"], "file": a["file"], "rows": a["rows"], "version": a["version"],
                          "held back": a["held_back"]} for a in actions])
    return _table(rows)


def _appendix(d: ReportData) -> str:
    """Run facts, parameters, software versions, inputs, rejected rows, timings and list versions."""
    s = d.summary
    inputs = pd.DataFrame(s["inputs"]) if s["inputs"] else pd.DataFrame()
    rejects = s["rejects"]
    rej = (pd.DataFrame({"reason": list(rejects), "rows": list(rejects.values())}) if isinstance(rejects, dict) and rejects
           else pd.DataFrame())
    run_facts = [("run", s["run_id"]), ("created", s["created"]), ("as of", s["as_of"]), ("engine", s["engine"]),
                 ("seed", s["seed"])] + [(f"graph {k}", v) for k, v in s["graph"]]
    body = [
        '<div class="cols"><div><h3>Run</h3>', _kv(run_facts), "</div>",
        "<div><h3>Parameters</h3>", _kv(_flatten(s["parameters"])), "</div>",
        "<div><h3>Software versions</h3>", _kv(_flatten(s["versions"])), "</div></div>",
        "<h3>Inputs</h3>", _table(inputs) if len(inputs) else '<p class="note">No load manifest in the workspace.</p>',
        "<h3>Rejected rows</h3>",
        _table(rej) if len(rej) else '<p class="note">No rows were rejected (or no load manifest).</p>',
    ]
    if s["timings"]:
        body += ["<h3>Timings (seconds)</h3>", _kv(_flatten(s["timings"]))]
    body += ["<h3>Exported lists</h3>", _list_files(d)]
    return _section("appendix", "".join(body))


RENDERERS = (_actions, _spread, _glance, _graph, _communities, _contagion, _lift, _influence, _bellwethers, _segments,
             _appendix)


def render_html(d: ReportData, *, title: str = "Bellwether report") -> str:
    """Return the complete report as one HTML document (UTF-8 text)."""
    nav = "".join(f'<a href="#{k}">{escape(NAV.get(k, v))}</a>' for k, v in SECTIONS)
    s = d.summary
    body = "".join(f(d) for f in RENDERERS)
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{escape(title)} — {escape(s['run_id'])}</title>"
        f"<style>{CSS}</style></head><body>"
        f"<header><h1>{escape(title)}</h1><p>Run {escape(s['run_id'])} · analysis date {escape(s['as_of'])} · "
        f"{s['subscribers']:,} subscribers, {s['contacts']:,} contacts</p></header>"
        f"<nav>{nav}</nav><main>{body}</main></body></html>\n"
    )

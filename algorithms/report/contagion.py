"""The report's answer to "does churn spread in this network?": the verdict, and the observed ratio against its null.

:func:`contagion_sentence` gives the short answer of the report's first screen;
:func:`contagion_test_html` renders ``metrics.churn.contagion`` of a run
(:func:`bellwether.algorithms.churn.contagion.contagion_test`) as an HTML fragment for the evidence
section: the plain-words verdict and an inline SVG of the time-shuffled null's hazard
ratios (a histogram) with the observed ratio and its 95 % interval drawn over it.
"""

from __future__ import annotations

from html import escape
from typing import Any

import numpy as np

from bellwether.algorithms.report.svg import PALETTE, _axes, _open, _Scale, nice_ticks

__all__ = ["contagion_sentence", "contagion_test_html"]


def _ratio(x: Any) -> str:
    """A hazard ratio for reading: 2 decimals below 10, 1 above; "unknown" when missing."""
    try:
        v = float(x)
    except (TypeError, ValueError):
        return "unknown"
    if not np.isfinite(v):
        return "unknown"
    return f"{v:.2f}" if v < 10 else f"{v:.1f}"


def contagion_sentence(test: dict[str, Any] | None) -> str:
    """The answer to "does churn spread in this network?" in one short sentence (plain text, not escaped).

    Yes when the test called contagion; otherwise why not, always with the hazard ratio right after a
    close contact churned and its 95% interval when the test measured it.
    """
    if not test:
        return "Not tested: this run has no contagion test (it was analysed before the test existed, or the churn step was skipped)."
    if not test.get("measured") or test.get("hr") is None:
        reason = str(test.get("reason") or "the data cannot say").rstrip(".")
        return f"Cannot tell: {reason}."
    seen = (f"right after a close contact churned, customers were {_ratio(test['hr'])}× as likely to leave "
            f"(95% interval {_ratio(test.get('ci_low'))}–{_ratio(test.get('ci_high'))})")
    lo = test.get("ci_low")
    if test.get("called"):
        return f"Yes: {seen}."
    if test.get("p_value") is None:
        return f"Not decided: {seen}, but without a time-shuffled comparison this may be like attracting like."
    if lo is None or float(lo) <= 1.0:
        return f"No evidence: {seen}, an interval that includes 1 (no effect)."
    return (f"No evidence beyond like attracting like: {seen}, but about as much with churn dates shuffled in time.")


def contagion_test_html(test: dict[str, Any] | None, *, width: int = 560, height: int = 230) -> str:
    """The verdict paragraph and, when the test ran, the observed-vs-null chart (an HTML fragment, escaped)."""
    if not test:
        return ('<p class="note">This run has no contagion test (it was analysed before the test existed, or the churn '
                "step was skipped).</p>")
    verdict = f'<p><strong>{escape(str(test.get("verdict", "")))}</strong></p>'
    null = np.asarray(test.get("null") or [], dtype=np.float64)
    null = null[np.isfinite(null)]
    if not test.get("measured") or test.get("hr") is None or not null.size:
        return verdict
    hr, lo, hi = float(test["hr"]), float(test["ci_low"]), float(test["ci_high"])
    xlo = min(float(null.min()), lo, 1.0)
    xhi = max(float(null.max()), hi, 1.0)
    xt = nice_ticks(xlo - 0.05 * (xhi - xlo), xhi + 0.05 * (xhi - xlo))
    bins = np.linspace(xt[0], xt[-1], 31)
    counts, _ = np.histogram(null, bins)
    yt = nice_ticks(0.0, max(float(counts.max()), 1.0) * 1.35)
    top, right, bottom, left = 16, 20, 48, 64
    sx = _Scale(xt[0], xt[-1], left, width - right)
    sy = _Scale(0.0, yt[-1], height - bottom, top)
    title = "Hazard ratio after a close contact churned: observed vs time-shuffled null"
    parts = _open(width, height, title)
    _axes(parts, sx, sy, xt, yt, width, height, "hazard ratio right after a close contact churned", "shuffles",
          x_fmt=lambda v: f"{v:g}", y_fmt=lambda v: f"{v:g}")
    base = float(sy(0.0))
    for a, b, k in zip(bins[:-1], bins[1:], counts):
        if k:
            x0, x1, y = float(sx(a)), float(sx(b)), float(sy(k))
            parts.append(f'<rect x="{x0 + 0.5:.1f}" y="{y:.1f}" width="{max(x1 - x0 - 1, 0.8):.1f}" '
                         f'height="{base - y:.1f}" fill="{PALETTE[5]}" fill-opacity="0.7"/>')
    y_top = float(sy(yt[-1]))
    one = float(sx(1.0))
    parts.append(f'<line x1="{one:.1f}" y1="{base:.1f}" x2="{one:.1f}" y2="{y_top:.1f}" stroke="#444" '
                 'stroke-dasharray="4 3"/>')
    parts.append(f'<text x="{one + 4:.1f}" y="{y_top + 10:.1f}" font-size="10" fill="#444">no effect</text>')
    color = PALETTE[3] if test.get("called") else PALETTE[0]
    x_hr, x_lo, x_hi = float(sx(hr)), float(sx(lo)), float(sx(hi))
    y_ci = y_top + 26
    parts.append(f'<rect x="{x_lo:.1f}" y="{y_ci - 4:.1f}" width="{max(x_hi - x_lo, 1):.1f}" height="8" fill="{color}" '
                 'fill-opacity="0.25"/>')
    parts.append(f'<line x1="{x_hr:.1f}" y1="{base:.1f}" x2="{x_hr:.1f}" y2="{y_ci - 8:.1f}" stroke="{color}" '
                 'stroke-width="2.5"/>')
    label = f"observed {hr:.2f} (95% CI {lo:.2f}–{hi:.2f})"
    anchor = "end" if x_hr > (left + width - right) / 2 else "start"
    dx = -6 if anchor == "end" else 6
    parts.append(f'<text x="{x_hr + dx:.1f}" y="{y_ci - 10:.1f}" font-size="11" fill="{color}" '
                 f'text-anchor="{anchor}">{escape(label)}</text>')
    parts.append(f'<text x="{width - right:.1f}" y="{y_top + 10:.1f}" font-size="10" fill="#5b6573" '
                 'text-anchor="end">grey: churn dates shuffled in time</text>')
    parts.append("</svg>")
    p = test.get("p_value")
    caption = (f"Grey: the ratio in {null.size} copies of the data with churn dates shuffled among the churners (network "
               f"and who churns kept), median {float(np.median(null)):.2f}; line and band: the observed ratio and its "
               f"95% interval{f'; p = {p:.3f}' if p is not None else ''}. Contagion is called when the interval is "
               "above 1 and fewer than 5% of shuffles reach the observed ratio.")
    return verdict + f"<figure>{chr(10).join(parts)}<figcaption>{escape(caption)}</figcaption></figure>" + _facts(test)


def _count(x: Any) -> str:
    """A whole count for reading (thousands separated), "unknown" when missing."""
    return f"{int(x):,}" if isinstance(x, (int, float, np.integer, np.floating)) and np.isfinite(x) else "unknown"


def _facts(test: dict[str, Any]) -> str:
    """The note under the chart: who was followed, events and person-days, the window ratio (escaped HTML)."""
    study = test.get("study") or ["unknown", "unknown"]
    w = test.get("hr_window") or {}
    text = (f"Customers followed {study[0]} to {study[-1]}: {_count(test.get('exposed_events', 0))} left within "
            f"{_count(test.get('window_days', 30))} days of a close contact ({_count(test.get('exposed_days', 0))} "
            f"person-days), {_count(test.get('unexposed_events', 0))} otherwise "
            f"({_count(test.get('unexposed_days', 0))} person-days)")
    if w.get("hr") is not None:
        text += (f"; window ratio {_ratio(w.get('hr'))} (95% CI {_ratio(w.get('ci_low'))}–{_ratio(w.get('ci_high'))})")
    return f'<p class="note">{escape(text)}, stratified by close contacts, tenure, ARPU, plan and week.</p>'

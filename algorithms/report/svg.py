"""Small SVG chart helpers: line charts with bands, bar charts, histograms and network drawings.

Each function returns one ``<svg>`` element as text, with an explicit width and
height, a ``viewBox`` and a ``<title>``, and uses nothing outside the string (no
fonts, scripts or links), so charts can be inlined in a self-contained HTML file.
Axis ticks follow the "nice numbers" rule (Heckbert, *Graphics Gems*, 1990:
steps of 1, 2 or 5 times a power of ten).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from html import escape
from typing import Sequence

import numpy as np

__all__ = ["PALETTE", "Series", "nice_ticks", "line_chart", "bar_chart", "hbar_chart", "histogram_chart", "network_chart"]

PALETTE = ("#1f5f99", "#d9822b", "#3a8f5c", "#b23a48", "#7a5ea8", "#8c8c8c")
FONT = "font-family:system-ui,-apple-system,'Segoe UI',Helvetica,Arial,sans-serif"
MARGIN = (16, 20, 48, 64)  # top, right, bottom, left


@dataclass
class Series:
    """One line of a line chart; ``lo``/``hi`` draw a shaded band (e.g. a confidence interval)."""

    name: str
    x: Sequence[float]
    y: Sequence[float]
    lo: Sequence[float] | None = None
    hi: Sequence[float] | None = None
    color: str | None = None
    dashed: bool = False
    points: bool = True


def _fmt(v: float) -> str:
    if v == 0:
        return "0"
    a = abs(v)
    if a >= 1e6:
        return f"{v / 1e6:g}M"
    if a >= 1e4:
        return f"{v / 1e3:g}k"
    if a >= 1:
        return f"{v:g}"
    return f"{v:.3g}"


def nice_ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    """Return about ``n`` round tick values covering ``[lo, hi]``."""
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return [0.0, 1.0]
    if hi <= lo:
        hi = lo + (abs(lo) or 1.0)
    raw = (hi - lo) / max(n, 1)
    mag = 10 ** math.floor(math.log10(raw))
    step = next(s * mag for s in (1, 2, 5, 10) if s * mag >= raw)
    start = math.floor(lo / step) * step
    ticks = []
    t = start
    while t <= hi + step * 1e-9:
        ticks.append(round(t, 12) + 0.0)  # + 0.0: a tick that rounds to -0.0 reads "0", not "-0"
        t += step
    if ticks[-1] < hi:
        ticks.append(round(t, 12) + 0.0)
    return ticks


def _log_ticks(lo: float, hi: float) -> list[float]:
    a, b = math.floor(math.log10(lo)), math.ceil(math.log10(hi))
    return [10.0**e for e in range(a, b + 1)]


class _Scale:
    def __init__(self, lo: float, hi: float, a: float, b: float, log: bool = False):
        self.log = log
        if log:
            lo, hi = math.log10(lo), math.log10(hi)
        self.lo, self.hi, self.a, self.b = lo, hi if hi != lo else lo + 1, a, b

    def __call__(self, v):
        v = np.asarray(v, dtype=np.float64)
        if self.log:
            v = np.log10(np.clip(v, 1e-300, None))
        return self.a + (v - self.lo) / (self.hi - self.lo) * (self.b - self.a)


def _open(width: int, height: int, title: str) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}" style="{FONT}">',
        f"<title>{escape(title)}</title>",
        f'<rect x="0" y="0" width="{width}" height="{height}" fill="#ffffff"/>',
    ]


def _axes(parts: list[str], sx: _Scale, sy: _Scale, xt: Sequence[float], yt: Sequence[float], width: int, height: int,
          x_label: str, y_label: str, x_fmt=_fmt, y_fmt=_fmt) -> None:
    top, right, bottom, left = MARGIN
    x0, x1, y0, y1 = left, width - right, height - bottom, top
    for t in yt:
        y = float(sy(t))
        if y1 - 0.5 <= y <= y0 + 0.5:
            parts.append(f'<line x1="{x0}" y1="{y:.1f}" x2="{x1}" y2="{y:.1f}" stroke="#e3e6ea" stroke-width="1"/>')
            parts.append(f'<text x="{x0 - 6}" y="{y + 4:.1f}" font-size="11" fill="#444" text-anchor="end">{escape(y_fmt(t))}</text>')
    for t in xt:
        x = float(sx(t))
        if x0 - 0.5 <= x <= x1 + 0.5:
            parts.append(f'<line x1="{x:.1f}" y1="{y0}" x2="{x:.1f}" y2="{y0 + 4}" stroke="#666"/>')
            parts.append(f'<text x="{x:.1f}" y="{y0 + 17}" font-size="11" fill="#444" text-anchor="middle">{escape(x_fmt(t))}</text>')
    parts.append(f'<line x1="{x0}" y1="{y0}" x2="{x1}" y2="{y0}" stroke="#666"/>')
    parts.append(f'<line x1="{x0}" y1="{y0}" x2="{x0}" y2="{y1}" stroke="#666"/>')
    parts.append(f'<text x="{(x0 + x1) / 2:.1f}" y="{height - 8}" font-size="12" fill="#222" text-anchor="middle">{escape(x_label)}</text>')
    parts.append(
        f'<text x="14" y="{(y0 + y1) / 2:.1f}" font-size="12" fill="#222" text-anchor="middle" '
        f'transform="rotate(-90 14 {(y0 + y1) / 2:.1f})">{escape(y_label)}</text>'
    )


def _legend(parts: list[str], items: Sequence[tuple[str, str, bool]], x: float, y: float) -> None:
    for i, (name, color, dashed) in enumerate(items):
        yy = y + i * 16
        dash = ' stroke-dasharray="5 3"' if dashed else ""
        parts.append(f'<line x1="{x:.1f}" y1="{yy:.1f}" x2="{x + 18:.1f}" y2="{yy:.1f}" stroke="{color}" stroke-width="2.5"{dash}/>')
        parts.append(f'<text x="{x + 24:.1f}" y="{yy + 4:.1f}" font-size="11" fill="#222">{escape(name)}</text>')


def _finite(*arrays) -> np.ndarray:
    vals = [np.asarray(a, dtype=np.float64) for a in arrays if a is not None]
    v = np.concatenate([a.ravel() for a in vals]) if vals else np.zeros(0)
    return v[np.isfinite(v)]


def line_chart(
    series: Sequence[Series],
    *,
    title: str,
    x_label: str = "",
    y_label: str = "",
    width: int = 640,
    height: int = 320,
    x_log: bool = False,
    y_log: bool = False,
    y_min: float | None = None,
    y_max: float | None = None,
    x_fmt=_fmt,
    y_fmt=_fmt,
    x_ticks: Sequence[float] | None = None,
    legend: bool = True,
) -> str:
    """Draw lines (with optional shaded bands and point markers) on shared axes; ``x_ticks`` overrides the x ticks."""
    top, right, bottom, left = MARGIN
    xs = _finite(*[s.x for s in series])
    ys = _finite(*[s.y for s in series], *[s.lo for s in series], *[s.hi for s in series])
    if x_log:
        xs = xs[xs > 0]
    if y_log:
        ys = ys[ys > 0]
    xlo, xhi = (float(xs.min()), float(xs.max())) if len(xs) else (0.0, 1.0)
    ylo, yhi = (float(ys.min()), float(ys.max())) if len(ys) else (0.0, 1.0)
    if y_min is not None:
        ylo = y_min
    elif not y_log:
        ylo = min(ylo, 0.0)
    if y_max is not None:
        yhi = y_max
    xt = list(x_ticks) if x_ticks is not None else _log_ticks(xlo, xhi) if x_log else nice_ticks(xlo, xhi)
    yt = _log_ticks(ylo, yhi) if y_log else nice_ticks(ylo, yhi)
    xlo, xhi = xt[0], xt[-1]
    if y_log:
        ylo, yhi = yt[0], yt[-1]
    elif y_max is None:
        yhi = yt[-1]
    sx = _Scale(xlo, xhi, left, width - right, x_log)
    sy = _Scale(ylo, yhi, height - bottom, top, y_log)
    parts = _open(width, height, title)
    _axes(parts, sx, sy, xt, yt, width, height, x_label, y_label, x_fmt, y_fmt)
    for i, s in enumerate(series):
        color = s.color or PALETTE[i % len(PALETTE)]
        x = np.asarray(s.x, dtype=np.float64)
        y = np.asarray(s.y, dtype=np.float64)
        if s.lo is not None and s.hi is not None:
            lo, hi = np.asarray(s.lo, dtype=np.float64), np.asarray(s.hi, dtype=np.float64)
            ok = np.isfinite(x) & np.isfinite(lo) & np.isfinite(hi)
            if ok.sum() >= 2:
                upper = [f"{px:.1f},{py:.1f}" for px, py in zip(sx(x[ok]), sy(hi[ok]))]
                lower = [f"{px:.1f},{py:.1f}" for px, py in zip(sx(x[ok])[::-1], sy(lo[ok])[::-1])]
                parts.append(f'<polygon class="band" points="{" ".join(upper + lower)}" fill="{color}" fill-opacity="0.18" stroke="none"/>')
            elif ok.sum() == 1:
                px = float(sx(x[ok])[0])
                parts.append(f'<line x1="{px:.1f}" y1="{float(sy(lo[ok])[0]):.1f}" x2="{px:.1f}" y2="{float(sy(hi[ok])[0]):.1f}" stroke="{color}" stroke-width="2" stroke-opacity="0.4"/>')
        ok = np.isfinite(x) & np.isfinite(y)
        if x_log:
            ok &= x > 0
        if y_log:
            ok &= y > 0
        pts = " ".join(f"{px:.1f},{py:.1f}" for px, py in zip(sx(x[ok]), sy(y[ok])))
        dash = ' stroke-dasharray="6 4"' if s.dashed else ""
        if ok.sum() >= 2:
            parts.append(f'<polyline class="series" points="{pts}" fill="none" stroke="{color}" stroke-width="2.2"{dash}/>')
        if s.points or ok.sum() == 1:
            for px, py in zip(sx(x[ok]), sy(y[ok])):
                parts.append(f'<circle cx="{px:.1f}" cy="{py:.1f}" r="3.2" fill="{color}"/>')
    if legend and len(series) > 1:
        _legend(parts, [(s.name, s.color or PALETTE[i % len(PALETTE)], s.dashed) for i, s in enumerate(series)], left + 12, top + 10)
    parts.append("</svg>")
    return "\n".join(parts)


def bar_chart(
    labels: Sequence[str],
    values: Sequence[float],
    *,
    title: str,
    y_label: str = "",
    x_label: str = "",
    lo: Sequence[float] | None = None,
    hi: Sequence[float] | None = None,
    colors: Sequence[str] | None = None,
    width: int = 640,
    height: int = 320,
    y_fmt=_fmt,
    value_fmt=None,
) -> str:
    """Draw vertical bars, one per label, with optional error bars ``lo``–``hi``."""
    top, right, bottom, left = MARGIN
    v = np.asarray(values, dtype=np.float64)
    ys = _finite(v, lo, hi)
    yt = nice_ticks(min(0.0, float(ys.min()) if len(ys) else 0.0), float(ys.max()) if len(ys) else 1.0)
    sy = _Scale(yt[0], yt[-1], height - bottom, top)
    n = max(len(labels), 1)
    band = (width - left - right) / n
    bw = band * 0.64
    parts = _open(width, height, title)
    _axes(parts, _Scale(0, 1, left, width - right), sy, [], yt, width, height, x_label, y_label, _fmt, y_fmt)
    for i, (lab, val) in enumerate(zip(labels, v)):
        x = left + i * band + (band - bw) / 2
        color = (colors[i] if colors else PALETTE[0])
        y0, y = float(sy(0)), float(sy(val if np.isfinite(val) else 0))
        parts.append(f'<rect class="bar" x="{x:.1f}" y="{min(y, y0):.1f}" width="{bw:.1f}" height="{max(abs(y0 - y), 0.5):.1f}" fill="{color}"><title>{escape(str(lab))}: {escape(y_fmt(val))}</title></rect>')
        if lo is not None and hi is not None and np.isfinite(lo[i]) and np.isfinite(hi[i]):
            cx = x + bw / 2
            yl, yh = float(sy(lo[i])), float(sy(hi[i]))
            parts.append(f'<line x1="{cx:.1f}" y1="{yl:.1f}" x2="{cx:.1f}" y2="{yh:.1f}" stroke="#222" stroke-width="1.5"/>')
            for yy in (yl, yh):
                parts.append(f'<line x1="{cx - 6:.1f}" y1="{yy:.1f}" x2="{cx + 6:.1f}" y2="{yy:.1f}" stroke="#222" stroke-width="1.5"/>')
        if value_fmt is not None and np.isfinite(val):
            top_v = max(val, hi[i]) if hi is not None and np.isfinite(hi[i]) else val
            parts.append(f'<text x="{x + bw / 2:.1f}" y="{float(sy(top_v)) - 6:.1f}" font-size="11" fill="#222" text-anchor="middle">{escape(value_fmt(val))}</text>')
        text = str(lab)
        if len(text) > 26:
            text = text[:25] + "…"
        parts.append(f'<text x="{x + bw / 2:.1f}" y="{height - bottom + 16}" font-size="11" fill="#444" text-anchor="middle">{escape(text)}</text>')
    parts.append("</svg>")
    return "\n".join(parts)


def hbar_chart(
    labels: Sequence[str],
    values: Sequence[float],
    *,
    title: str,
    x_label: str = "",
    colors: Sequence[str] | None = None,
    width: int | None = None,
    bar_height: int = 22,
    x_fmt=_fmt,
    value_fmt=None,
) -> str:
    """Draw horizontal bars, one per label (labels on the left, so long labels stay readable).

    ``width=None`` sizes the chart to its longest label plus a 260-pixel plotting area.
    """
    v = np.asarray(values, dtype=np.float64)
    fin = v[np.isfinite(v)]
    longest = max((len(str(x)) for x in labels), default=4)
    left = 14 + 6.3 * longest
    right, top = 48, 10
    width = int(left + 260 + right) if width is None else width
    height = int(top + len(labels) * (bar_height + 8) + 44)
    xt = nice_ticks(0.0, float(fin.max()) if len(fin) else 1.0, 4)
    sx = _Scale(0.0, xt[-1], left, width - right)
    parts = _open(width, height, title)
    y_axis = height - 36
    for t in xt:
        x = float(sx(t))
        parts.append(f'<line x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{y_axis}" stroke="#e3e6ea"/>')
        parts.append(f'<text x="{x:.1f}" y="{y_axis + 15}" font-size="11" fill="#444" text-anchor="middle">{escape(x_fmt(t))}</text>')
    parts.append(f'<line x1="{left:.1f}" y1="{top}" x2="{left:.1f}" y2="{y_axis}" stroke="#666"/>')
    parts.append(f'<text x="{(left + width - right) / 2:.1f}" y="{height - 6}" font-size="12" fill="#222" text-anchor="middle">{escape(x_label)}</text>')
    for i, (lab, val) in enumerate(zip(labels, v)):
        y = top + 4 + i * (bar_height + 8)
        color = colors[i] if colors else PALETTE[0]
        w = float(sx(val if np.isfinite(val) else 0)) - left
        parts.append(f'<text x="{left - 8:.1f}" y="{y + bar_height / 2 + 4:.1f}" font-size="11" fill="#222" text-anchor="end">{escape(str(lab))}</text>')
        parts.append(f'<rect class="bar" x="{left:.1f}" y="{y:.1f}" width="{max(w, 0.5):.1f}" height="{bar_height}" fill="{color}"><title>{escape(str(lab))}: {escape(x_fmt(val))}</title></rect>')
        if value_fmt is not None and np.isfinite(val):
            parts.append(f'<text x="{left + w + 5:.1f}" y="{y + bar_height / 2 + 4:.1f}" font-size="11" fill="#222">{escape(value_fmt(val))}</text>')
    parts.append("</svg>")
    return "\n".join(parts)


def histogram_chart(
    edges: Sequence[float],
    counts: Sequence[float],
    *,
    title: str,
    x_label: str = "",
    y_label: str = "subscribers",
    x_log: bool = False,
    y_log: bool = False,
    width: int = 640,
    height: int = 300,
    color: str = PALETTE[0],
) -> str:
    """Draw a histogram from bin ``edges`` (len n+1) and ``counts`` (len n); log axes optional."""
    top, right, bottom, left = MARGIN
    e = np.asarray(edges, dtype=np.float64)
    c = np.asarray(counts, dtype=np.float64)
    if len(c) == 0:
        e, c = np.array([0.0, 1.0]), np.array([0.0])
    xlo, xhi = float(e[0]), float(e[-1])
    if x_log:
        xlo = max(xlo, 1e-9)
        xt = _log_ticks(xlo, xhi)
    else:
        xt = nice_ticks(xlo, xhi)
        xlo, xhi = min(xlo, xt[0]), max(xhi, xt[-1])
    cmax = float(c.max()) if len(c) else 1.0
    if y_log:
        yt = _log_ticks(1.0, max(cmax, 10.0))
        ylo = 1.0
    else:
        yt = [t for t in nice_ticks(0.0, max(cmax, 1.0)) if float(t).is_integer()]  # counts: whole ticks only
        ylo = 0.0
    sx = _Scale(xt[0] if x_log else xlo, xt[-1] if x_log else xhi, left, width - right, x_log)
    sy = _Scale(ylo, yt[-1], height - bottom, top, y_log)
    parts = _open(width, height, title)
    _axes(parts, sx, sy, xt, yt, width, height, x_label, y_label)
    base = float(sy(ylo))
    for a, b, k in zip(e[:-1], e[1:], c):
        if k <= 0 or (x_log and a <= 0):
            continue
        x0, x1 = float(sx(a)), float(sx(b))
        y = float(sy(max(k, ylo)))
        parts.append(f'<rect class="bar" x="{x0 + 0.5:.1f}" y="{y:.1f}" width="{max(x1 - x0 - 1, 0.8):.1f}" height="{max(base - y, 0.5):.1f}" fill="{color}"><title>{_fmt(a)}–{_fmt(b)}: {int(k):,}</title></rect>')
    parts.append("</svg>")
    return "\n".join(parts)


def network_chart(
    positions: np.ndarray,
    edges: np.ndarray,
    *,
    title: str,
    node_colors: Sequence[str],
    node_sizes: Sequence[float] | None = None,
    edge_widths: Sequence[float] | None = None,
    labels: Sequence[str] | None = None,
    width: int = 300,
    height: int = 300,
    legend: Sequence[tuple[str, str]] = (),
) -> str:
    """Draw a node-link diagram from positions in ``[-1, 1]^2`` and an ``(m, 2)`` edge array."""
    pad = 18
    pos = np.asarray(positions, dtype=np.float64).reshape(-1, 2)
    leg_h = 16 * len(legend)
    size = min(width, height - leg_h)
    cx = lambda v: pad + (v + 1) / 2 * (size - 2 * pad) + (width - size) / 2  # noqa: E731
    cy = lambda v: pad + (v + 1) / 2 * (size - 2 * pad)  # noqa: E731
    parts = _open(width, height, title)
    ew = np.ones(len(edges)) if edge_widths is None else np.asarray(edge_widths, dtype=np.float64)
    for (i, j), w in zip(np.asarray(edges, dtype=np.int64).reshape(-1, 2), ew):
        parts.append(f'<line class="edge" x1="{cx(pos[i, 0]):.1f}" y1="{cy(pos[i, 1]):.1f}" x2="{cx(pos[j, 0]):.1f}" '
                     f'y2="{cy(pos[j, 1]):.1f}" stroke="#9aa5b1" stroke-opacity="0.7" stroke-width="{w:.2f}"/>')
    rs = np.full(len(pos), 5.0) if node_sizes is None else np.asarray(node_sizes, dtype=np.float64)
    for k in range(len(pos)):
        tip = f"<title>{escape(labels[k])}</title>" if labels is not None else ""
        parts.append(f'<circle class="node" cx="{cx(pos[k, 0]):.1f}" cy="{cy(pos[k, 1]):.1f}" r="{rs[k]:.1f}" '
                     f'fill="{node_colors[k]}" stroke="#ffffff" stroke-width="1">{tip}</circle>')
    for i, (name, color) in enumerate(legend):
        y = size + 4 + i * 16
        parts.append(f'<circle cx="{pad + 5}" cy="{y:.1f}" r="5" fill="{color}"/>')
        parts.append(f'<text x="{pad + 15}" y="{y + 4:.1f}" font-size="11" fill="#222">{escape(name)}</text>')
    parts.append("</svg>")
    return "\n".join(parts)

"""The report's charts as SVG text: bars, lines, markers and a heat map, drawn from the data.

Four charts, each a few shapes: importing a plotting library into every notebook kernel would
cost more than all the rest of a notebook's own work. Every text that comes from the data
(township names, contract ids, county names) is escaped; numbers are written with fixed
precision, so the same data give the same bytes. Chinese text is drawn with the reader's
fonts (Noto Sans CJK, installed for the PDF printer). The SVG is shown as an ``<img>``
(as an image in every report format), where a browser runs no script and loads nothing.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from audit.i18n import label

FONT = "Noto Sans CJK SC, Noto Sans CJK, DejaVu Sans, sans-serif"
INK, GRID, MUTED = "#333333", "#dddddd", "#666666"
SEVERITY_COLOURS = {"high": "#d7301f", "medium": "#fc8d59", "low": "#fdcc8a", "info": "#bdbdbd"}
COVERED, UNCOVERED = "#2c7fb8", "#d7301f"
LEVEL = "#d7301f"  # the dashed line of funds allocated


def _esc(value: object) -> str:
    return html.escape(str(value), quote=True)


def _n(value: float) -> str:
    """A coordinate with one decimal at most: stable text for the same picture."""
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def _width(text: str, size: float) -> float:
    """Rough drawn width: CJK characters are square, others about half as wide."""
    return sum(size if ord(c) > 0x2E80 else 0.58 * size for c in text)


def _number(value: float) -> str:
    return f"{value:,.0f}"


class Canvas:
    """An SVG drawing: shapes appended in order, written out by :meth:`svg`."""

    def __init__(self, width: float, height: float, title: str) -> None:
        self.width, self.height, self.title = width, height, title
        self.parts: list[str] = []

    def rect(self, x: float, y: float, w: float, h: float, fill: str, tip: str | None = None) -> None:
        """A filled rectangle, with a hover text when ``tip`` is given."""
        body = f"<title>{_esc(tip)}</title>" if tip else ""
        self.parts.append(
            f'<rect x="{_n(x)}" y="{_n(y)}" width="{_n(max(w, 0))}" height="{_n(max(h, 0))}" fill="{fill}"'
            + (f">{body}</rect>" if body else "/>")
        )

    def line(
        self, x1: float, y1: float, x2: float, y2: float, stroke: str, *, width: float = 1, dash: bool = False
    ) -> None:
        """A straight line, dashed for a reference level."""
        extra = ' stroke-dasharray="6 4"' if dash else ""
        self.parts.append(
            f'<line x1="{_n(x1)}" y1="{_n(y1)}" x2="{_n(x2)}" y2="{_n(y2)}" stroke="{stroke}" '
            f'stroke-width="{_n(width)}"{extra}/>'
        )

    def polyline(self, points: Sequence[tuple[float, float]], stroke: str, *, width: float = 2) -> None:
        """Connected points."""
        text = " ".join(f"{_n(x)},{_n(y)}" for x, y in points)
        self.parts.append(
            f'<polyline points="{text}" fill="none" stroke="{stroke}" stroke-width="{_n(width)}"/>'
        )

    def marker(self, x: float, y: float, fill: str, shape: str = "circle", size: float = 4) -> None:
        """A point: a circle or a diamond."""
        if shape == "diamond":
            points = (
                f"{_n(x)},{_n(y - size)} {_n(x + size)},{_n(y)} {_n(x)},{_n(y + size)} {_n(x - size)},{_n(y)}"
            )
            self.parts.append(f'<polygon points="{points}" fill="{fill}"/>')
        else:
            self.parts.append(f'<circle cx="{_n(x)}" cy="{_n(y)}" r="{_n(size)}" fill="{fill}"/>')

    def text(
        self,
        x: float,
        y: float,
        text: str,
        *,
        size: float = 12,
        anchor: str = "start",
        fill: str = INK,
        rotate: float | None = None,
        bold: bool = False,
    ) -> None:
        """Text at a point (``anchor``: start, middle or end), escaped."""
        turn = f' transform="rotate({_n(rotate)} {_n(x)} {_n(y)})"' if rotate else ""
        weight = ' font-weight="bold"' if bold else ""
        self.parts.append(
            f'<text x="{_n(x)}" y="{_n(y)}" font-size="{_n(size)}" text-anchor="{anchor}" fill="{fill}"'
            f"{weight}{turn}>{_esc(text)}</text>"
        )

    def svg(self) -> str:
        """The whole drawing as an SVG document."""
        head = (
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{_n(self.width)}" height="{_n(self.height)}" '
            f'viewBox="0 0 {_n(self.width)} {_n(self.height)}" font-family="{FONT}" role="img">'
            f"<title>{_esc(self.title)}</title>"
            f'<rect width="100%" height="100%" fill="#ffffff"/>'
        )
        return head + "".join(self.parts) + "</svg>"


def ticks(top: float, count: int = 5) -> list[float]:
    """Round axis values from 0 to at least ``top``: steps of 1, 2, 2.5 or 5 times a power of ten."""
    if not math.isfinite(top) or top <= 0:
        return [0.0, 1.0]
    raw = top / count
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    return [i * step for i in range(math.ceil(top / step - 1e-9) + 1)]


def _legend(canvas: Canvas, items: Sequence[tuple[str, str, str]], y: float) -> None:
    """A row of (shape, colour, text) keys, centred: ``bar``, ``line``, ``dash`` or ``diamond``."""
    size = 12
    widths = [22 + _width(text, size) + 18 for _, _, text in items]
    x = (canvas.width - sum(widths)) / 2
    for (shape, colour, text), width in zip(items, widths, strict=True):
        if shape == "bar":
            canvas.rect(x, y - 9, 14, 10, colour)
        elif shape == "diamond":
            canvas.marker(x + 7, y - 4, colour, "diamond")
        else:
            canvas.line(x, y - 4, x + 16, y - 4, colour, width=2, dash=shape == "dash")
            if shape == "line":
                canvas.marker(x + 8, y - 4, colour, size=3)
        canvas.text(x + 22, y, text, size=size)
        x += width


class _Axes:
    """A vertical-bar plot area: categories along x, yuan up y from 0."""

    def __init__(
        self, canvas: Canvas, left: float, top: float, right: float, bottom: float, high: float
    ) -> None:
        self.canvas = canvas
        self.left, self.top, self.right, self.bottom = left, top, right, bottom
        self.values = ticks(high)
        self.high = self.values[-1]

    def y(self, value: float) -> float:
        return self.bottom - (self.bottom - self.top) * (value / self.high if self.high else 0)

    def x(self, i: int, n: int) -> float:
        """Centre of the i-th of n category slots."""
        return self.left + (self.right - self.left) * (i + 0.5) / max(n, 1)

    def slot(self, n: int) -> float:
        return (self.right - self.left) / max(n, 1)

    def frame(self, ylabel: str) -> None:
        c = self.canvas
        for value in self.values:
            y = self.y(value)
            c.line(self.left, y, self.right, y, GRID)
            c.text(self.left - 6, y + 4, _number(value), size=11, anchor="end", fill=MUTED)
        c.line(self.left, self.bottom, self.right, self.bottom, INK)
        c.text(16, (self.top + self.bottom) / 2, ylabel, size=12, anchor="middle", rotate=-90)

    def bars(self, values: Sequence[float], colour: str, tips: Sequence[str], widest: float = 1e9) -> None:
        """A bar per category, from 0 up to its value."""
        n = len(values)
        for i, value in enumerate(values):
            x, w = self.x(i, n), min(self.slot(n) * 0.7, widest)
            top = self.y(value)
            self.canvas.rect(x - w / 2, top, w, self.bottom - top, colour, tip=tips[i])

    def level(self, value: float) -> None:
        """A dashed line across the plot at ``value`` (the funds allocated)."""
        self.canvas.line(self.left, self.y(value), self.right, self.y(value), LEVEL, width=1.5, dash=True)

    def categories(self, names: Sequence[str], *, slanted: bool = False) -> None:
        for i, name in enumerate(names):
            x = self.x(i, len(names))
            if slanted:
                self.canvas.text(x, self.bottom + 14, name, size=11, anchor="end", rotate=-30)
            else:
                self.canvas.text(x, self.bottom + 16, name, size=11, anchor="middle")


def _finite(values: np.ndarray) -> np.ndarray:
    return np.where(np.isfinite(values), values, 0.0)


def _yuan_chart(title: str, height: float, high: float, lang: str) -> tuple[Canvas, _Axes]:
    """A titled canvas with a plot area of yuan from 0 to a little above ``high``."""
    canvas = Canvas(760, height, title)
    canvas.text(380, 22, title, size=14, anchor="middle", bold=True)
    axes = _Axes(canvas, 100, 40, 740, 300, high * 1.05)
    axes.frame(label("chart.yuan", lang))
    return canvas, axes


def relief(paid: pd.Series, allocation: float | None, lang: str) -> str:
    """Relief paid by month (bars), paid to date (line) and the year's allocation (dashed)."""
    amounts = _finite(paid.to_numpy(dtype=float))
    running = np.cumsum(amounts)
    level = allocation if allocation is not None and math.isfinite(allocation) else None
    canvas, axes = _yuan_chart(
        label("chart.relief", lang), 380, max([*running, *amounts, level or 0.0, 0.0]), lang
    )
    axes.bars(amounts, "#7fcdbb", [_number(v) for v in amounts])
    n = len(amounts)
    points = [(axes.x(i, n), axes.y(v)) for i, v in enumerate(running)]
    if points:
        canvas.polyline(points, "#225ea8")
        for x, y in points:
            canvas.marker(x, y, "#225ea8", size=3.5)
    keys = [
        ("bar", "#7fcdbb", label("chart.paid", lang)),
        ("line", "#225ea8", label("chart.cumulative", lang)),
    ]
    if level is not None:
        axes.level(level)
        keys.append(("dash", LEVEL, label("chart.allocation", lang)))
    axes.categories([str(m)[-2:] for m in paid.index])
    canvas.text(420, 336, label("chart.month", lang), size=12, anchor="middle")
    _legend(canvas, keys, 366)
    return canvas.svg()


def contracts(frame: pd.DataFrame, budget: float | None, lang: str) -> str:
    """Each contract's amount (bars) against positions × unit cost (diamonds) and the funds allocated."""
    amounts = _finite(frame["amount_yuan"].to_numpy(dtype=float))
    expected = frame["expected_yuan"].to_numpy(dtype=float)
    level = budget if budget is not None and math.isfinite(budget) else None
    names = [str(c) for c in frame["contract_id"]]
    high = max([*amounts, *_finite(expected), level or 0.0, 0.0])
    canvas, axes = _yuan_chart(label("chart.contracts", lang), 420, high, lang)
    axes.bars(
        amounts, "#a1dab4", [f"{c} {_number(v)}" for c, v in zip(names, amounts, strict=True)], widest=60
    )
    for i, value in enumerate(expected):
        if math.isfinite(value):
            canvas.marker(axes.x(i, len(expected)), axes.y(value), "#253494", "diamond", size=5)
    keys = [
        ("bar", "#a1dab4", label("chart.contract_amount", lang)),
        ("diamond", "#253494", label("chart.expected", lang)),
    ]
    if level is not None:
        axes.level(level)
        keys.append(("dash", LEVEL, label("chart.budget", lang)))
    axes.categories(names, slanted=True)
    _legend(canvas, keys, 406)
    return canvas.svg()


def coverage(covered: pd.DataFrame, lang: str) -> str:
    """Township office (rows) × month (columns): blue where someone was in post all month, red where not."""
    rows, cols = covered.shape
    names = [str(i) for i in covered.index]
    gutter = max([_width(n, 12) for n in names] + [40]) + 20
    cell_w, cell_h = 40, 22
    width = max(gutter + cols * cell_w + 20, 420)
    height = 60 + rows * cell_h + 70
    title = label("chart.coverage", lang)
    canvas = Canvas(width, height, title)
    canvas.text(width / 2, 22, title, size=14, anchor="middle", bold=True)
    top = 40
    values = covered.to_numpy(dtype=float)
    words = {True: label("chart.covered", lang), False: label("chart.uncovered", lang)}
    for r, name in enumerate(names):
        y = top + r * cell_h
        canvas.text(gutter - 8, y + cell_h / 2 + 4, name, size=12, anchor="end")
        for c, month in enumerate(covered.columns):
            ok = bool(values[r, c] >= 1)
            tip = f"{name} {month}: {words[ok]}"
            canvas.rect(
                gutter + c * cell_w + 1, y + 1, cell_w - 2, cell_h - 2, COVERED if ok else UNCOVERED, tip=tip
            )
    bottom = top + rows * cell_h
    for c, month in enumerate(covered.columns):
        canvas.text(gutter + (c + 0.5) * cell_w, bottom + 16, str(month)[-2:], size=11, anchor="middle")
    canvas.text(gutter + cols * cell_w / 2, bottom + 34, label("chart.month", lang), size=12, anchor="middle")
    _legend(canvas, [("bar", COVERED, words[True]), ("bar", UNCOVERED, words[False])], bottom + 58)
    return canvas.svg()


def _across(canvas: Canvas, start: float, span: float, top: float, bottom: float, high: float) -> float:
    """A horizontal value axis under a panel, with grid lines; returns the panel's full-scale value."""
    scale = ticks(high)
    for value in scale:
        x = start + span * value / scale[-1]
        canvas.line(x, top, x, bottom, GRID)
        canvas.text(x, bottom + 16, _number(value), size=11, anchor="middle", fill=MUTED)
    canvas.line(start, top, start, bottom, INK)
    return scale[-1]


def counties(counts: pd.DataFrame, money: pd.Series, lang: str) -> str:
    """Findings by county, stacked by severity (left), beside the money at stake by county (right)."""
    names = [str(i) for i in counts.index]
    gutter = max([_width(n, 12) for n in names] + [40]) + 16
    bar_h, top, width = 24, 50, 980
    bottom = top + len(names) * bar_h
    title = label("chart.counties", lang)
    canvas = Canvas(width, bottom + 80, title)
    panel = (width - gutter - 100) / 2  # room for the last tick label on the right
    left, right = gutter, gutter + panel + 40
    totals = counts.to_numpy(dtype=float).sum(axis=1) if len(counts.columns) else np.zeros(len(names))
    amounts = _finite(money.reindex(counts.index).to_numpy(dtype=float))
    canvas.text(left + panel / 2, 22, title, size=14, anchor="middle", bold=True)
    canvas.text(right + panel / 2, 22, label("chart.county_money", lang), size=14, anchor="middle", bold=True)
    full_count = _across(canvas, left, panel, top, bottom, float(max([*totals, 0.0])))
    full_money = _across(canvas, right, panel, top, bottom, float(max([*amounts, 0.0])))
    for i, name in enumerate(names):
        y = top + i * bar_h
        canvas.text(gutter - 8, y + bar_h / 2 + 4, name, size=12, anchor="end")
        x = left
        for severity in counts.columns:
            value = float(counts.iloc[i][severity])
            if value > 0:
                w = panel * value / full_count
                tip = f"{name} {label(f'severity.{severity}', lang)} {value:.0f}"
                canvas.rect(x, y + 4, w, bar_h - 8, SEVERITY_COLOURS.get(str(severity), "#999999"), tip=tip)
                x += w
        tip = f"{name} {_number(amounts[i])}"
        canvas.rect(right, y + 4, panel * amounts[i] / full_money, bar_h - 8, "#225ea8", tip=tip)
    keys = [
        ("bar", SEVERITY_COLOURS.get(str(s), "#999999"), label(f"severity.{s}", lang)) for s in counts.columns
    ]
    _legend(canvas, keys, bottom + 50)
    return canvas.svg()

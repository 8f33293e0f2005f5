"""HTML fragments and charts for the reports, built so that data can never become markup.

Every value from the data goes through :func:`esc` (``html.escape`` with quotes) before it
is put in a tag; nothing here calls ``to_html(escape=False)`` or renders Markdown from data.
A :class:`Fragment` carries its section in the output's metadata, so :mod:`audit.reports`
can assemble a county report from several notebooks. Charts (:mod:`audit.charts`) are SVG
text embedded as an ``<img>``, so the same data give the same bytes.
"""

from __future__ import annotations

import base64
import html
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

SECTIONS: tuple[str, ...] = ("title", "summary", "area", "city", "quality", "sample", "provenance")
"""Report sections in reading order; an area section also names its area."""

METADATA_KEY = "audit"
"""Key of the output metadata that holds a fragment's section."""


@dataclass(frozen=True)
class Fragment:
    """A piece of a report: HTML in which every data value is escaped, and its section."""

    html: str
    section: str
    area: str | None = None
    meta: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.section not in SECTIONS:
            raise ValueError(f"unknown section {self.section!r}; allowed: {', '.join(SECTIONS)}")

    def metadata(self) -> dict[str, Any]:
        """The output metadata that tells the report assembler where this fragment goes."""
        return {METADATA_KEY: {"section": self.section, "area": self.area, **self.meta}}

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> tuple[dict, dict]:
        return {"text/html": self.html, "text/plain": f"[{self.section}]"}, self.metadata()


def esc(value: object) -> str:
    """``value`` as escaped HTML text; missing values are empty."""
    if value is None or (not isinstance(value, str) and _is_missing(value)):
        return ""
    return html.escape(str(value), quote=True)


def _is_missing(value: object) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def heading(text: str, level: int = 2) -> str:
    """An escaped heading."""
    if not 1 <= level <= 6:
        raise ValueError(f"heading level {level} is not 1..6")
    return f"<h{level}>{esc(text)}</h{level}>\n"


def paragraph(text: str, css_class: str | None = None) -> str:
    """An escaped paragraph."""
    attr = f' class="{esc(css_class)}"' if css_class else ""
    return f"<p{attr}>{esc(text)}</p>\n"


def banner(text: str) -> str:
    """A warning banner (the full-personal-data warning on a report's first page)."""
    return f'<div class="audit-banner" role="alert"><strong>{esc(text)}</strong></div>\n'


_RELATIVE_HREF = re.compile(r"(?:\.\./)*[A-Za-z0-9_][A-Za-z0-9_./-]*")


def link(href: str, text: str) -> str:
    """A link to a relative path inside the run folder; anything else is refused."""
    if not _RELATIVE_HREF.fullmatch(href) or "//" in href or "/./" in href:
        raise ValueError(f"refusing link target {href!r}: only relative paths inside the run folder")
    return f'<a href="{esc(href)}">{esc(text)}</a>'


def yuan(value: object) -> str:
    """An amount as ``1,234.50``; missing is empty."""
    if value is None or _is_missing(value):
        return ""
    return f"{float(value):,.2f}"


def count(value: object) -> str:
    """A whole number as ``1,234``."""
    if value is None or _is_missing(value):
        return ""
    return f"{int(value):,}"


def table(
    df: pd.DataFrame,
    headers: Mapping[str, str] | None = None,
    *,
    formats: Mapping[str, Callable[[object], str]] | None = None,
    raw_html: Sequence[str] = (),
    css_class: str = "audit-table",
    cell_classes: Mapping[str, str] | None = None,
    max_rows: int | None = None,
) -> str:
    """An HTML table of ``df``: headers and cells escaped, in the order of ``headers``.

    ``formats`` turn a cell into text (escaped after). ``raw_html`` names columns whose cells
    are already HTML built by this module (links); nothing from the data may go there unescaped.
    ``cell_classes`` give a column's cells a CSS class (widths of long text).
    """
    headers = dict(headers) if headers is not None else {str(c): str(c) for c in df.columns}
    formats = formats or {}
    numeric = {c for c in headers if c in df and pd.api.types.is_numeric_dtype(df[c])}
    classes = {c: "num" for c in headers if c in numeric or c in formats} | dict(cell_classes or {})
    rows = df if max_rows is None else df.head(max_rows)
    out = [f'<table class="{esc(css_class)}">\n<thead><tr>']
    out += [f"<th>{esc(h)}</th>" for h in headers.values()]
    out.append("</tr></thead>\n<tbody>\n")
    columns = [rows[c].tolist() if c in rows else [None] * len(rows) for c in headers]
    for values in zip(*columns, strict=True):
        out.append("<tr>")
        for column, value in zip(headers, values, strict=True):
            if column in raw_html:
                text = str(value)
            elif column in formats:
                text = esc(formats[column](value))
            else:
                text = esc(value)
            cls = f' class="{esc(classes[column])}"' if column in classes else ""
            out.append(f"<td{cls}>{text}</td>")
        out.append("</tr>\n")
    out.append("</tbody>\n</table>\n")
    return "".join(out)


def _source_text(source: Any, lang: str) -> str:
    if not isinstance(source, dict):
        return json.dumps(source, ensure_ascii=False, sort_keys=True)
    row = source.get("row")
    where = " ".join(str(source[k]) for k in ("file", "sheet") if source.get(k))
    if row is not None:
        where += f" 第{row}行" if lang == "zh" else f" row {row}"
    return where.strip()


def evidence_text(evidence: object, lang: str, *, max_sources: int = 3) -> str:
    """A finding's evidence JSON as ``key: value`` text a reviewer can read (escape it when shown)."""
    if evidence is None or _is_missing(evidence):
        return ""
    try:
        data = json.loads(str(evidence))
    except ValueError:
        return str(evidence)
    if not isinstance(data, dict):
        return json.dumps(data, ensure_ascii=False, sort_keys=True)
    parts = []
    for key in sorted(data):
        value = data[key]
        if key in ("source", "sources", "contract_source"):
            cited = value if isinstance(value, list) else [value]
            text = "; ".join(_source_text(s, lang) for s in cited[:max_sources])
            if len(cited) > max_sources:
                text += f" (+{len(cited) - max_sources})"
        elif isinstance(value, dict | list):
            text = json.dumps(value, ensure_ascii=False, sort_keys=True)
        else:
            text = "" if value is None else str(value)
        parts.append(f"{key}: {text}")
    return "；".join(parts) if lang == "zh" else "; ".join(parts)


def definition_list(items: Sequence[tuple[str, str]]) -> str:
    """A two-column key/value table (title block, provenance), escaped."""
    rows = "".join(f"<tr><th>{esc(k)}</th><td>{esc(v)}</td></tr>\n" for k, v in items)
    return f'<table class="audit-facts">\n{rows}</table>\n'


def figure_html(svg: str, alt: str) -> str:
    """A chart (SVG text from :mod:`audit.charts`) as an ``<img>``: no script runs in an image."""
    data = base64.b64encode(svg.encode("utf-8")).decode("ascii")
    image = f'<img src="data:image/svg+xml;base64,{data}" alt="{esc(alt)}">'
    return f'<figure class="audit-chart">{image}</figure>\n'

"""The ``html`` renderer: the report's content model as one standalone, script-free HTML page.

Every text of the model goes through :func:`html.escape` before it is put in a tag, so data
can never become markup; the page forbids scripts and loads nothing from the network. The
same page is what Chromium prints to PDF (:mod:`audit.renderers.pdf`): A4 with the margins
of GB/T 9704-2012 and the page number as "— 1 —" in the footer, fonts in the roles of the Word
file (仿宋 body, 黑体 level-1 headings, 楷体 level-2 headings) taken from what Debian offers
when the Windows faces are absent. Tables are as wide as the text block and no wider: cells
wrap, headers keep whole words, and a column's share of the width comes from the model.
"""

from __future__ import annotations

import base64
import html
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from audit.document import Block, Document, Facts, Figure, Paragraph, Part, Section, Table, heading_number
from audit.exceptions import RenderError
from audit.renderers.registry import Request, register

if TYPE_CHECKING:
    from nbformat import NotebookNode

LANGUAGES = ("zh", "en")

BODY_FONTS = ", ".join(
    (
        '"FangSong"',
        '"仿宋_GB2312"',
        '"仿宋"',
        '"LXGW WenKai"',
        '"AR PL UKai CN"',
        '"Noto Serif CJK SC"',
        "serif",
    )
)
HEI_FONTS = ", ".join(('"SimHei"', '"黑体"', '"Noto Sans CJK SC"', '"WenQuanYi Zen Hei"', "sans-serif"))
KAI_FONTS = ", ".join(
    ('"KaiTi"', '"楷体_GB2312"', '"楷体"', '"LXGW WenKai"', '"AR PL UKai CN"', '"Noto Serif CJK SC"', "serif")
)
TITLE_FONTS = ", ".join(('"方正小标宋简体"', '"FZXiaoBiaoSong-B05S"', '"Noto Serif CJK SC"', "serif"))
TABLE_FONTS = '"Noto Sans CJK SC", "WenQuanYi Zen Hei", sans-serif'

CSS = f"""
@page {{ size: A4; margin: 37mm 26mm 35mm 28mm;
  @bottom-center {{ content: "— " counter(page) " —"; font-family: {BODY_FONTS}; font-size: 11pt; }} }}
html {{ font-family: {BODY_FONTS}; font-size: 10.5pt; line-height: 1.3; color: #000; }}
body {{ margin: 0 auto; max-width: 156mm; padding: 0 0 2em; }}
h1.doc-title {{ font-family: {TITLE_FONTS}; font-weight: bold; font-size: 20pt; text-align: center;
  margin: 0.2em 0 0.6em; line-height: 1.35; }}
h2 {{ font-family: {HEI_FONTS}; font-weight: normal; font-size: 14pt; margin: 0.7em 0 0.25em;
  break-after: avoid; }}
h3 {{ font-family: {KAI_FONTS}; font-weight: bold; font-size: 12.5pt; margin: 0.6em 0 0.2em; }}
h4 {{ font-family: {BODY_FONTS}; font-weight: bold; font-size: 12pt; margin: 0.7em 0 0.2em;
  break-after: avoid; }}
h2.appendix {{ break-before: page; }}
p {{ margin: 0.15em 0; text-indent: 2em; text-align: justify; }}
p.item, p.note, p.banner {{ text-indent: 0; }}
p.item {{ padding-left: 2em; text-indent: -1.2em; }}
p.note {{ font-size: 10.5pt; color: #333; }}
.lead-label {{ font-family: {HEI_FONTS}; }}
.banner {{ border: 2px solid #b00; background: #fde8e8; color: #700; padding: 0.4em 0.8em; margin: 0.5em 0;
  font-family: {HEI_FONTS}; }}
table {{ width: 100%; max-width: 100%; border-collapse: collapse; table-layout: fixed;
  font-family: {TABLE_FONTS}; font-size: 9pt; line-height: 1.25; margin: 0.3em 0 0.6em; }}
th, td {{ border: 0.6pt solid #555; padding: 1.5pt 3pt; vertical-align: top; text-align: left;
  overflow-wrap: anywhere; word-break: normal; }}
th {{ background: #eee; font-weight: bold; word-break: keep-all; overflow-wrap: normal; hyphens: manual; }}
td.num, th.num {{ text-align: right; }}
td.num {{ white-space: nowrap; }}
thead {{ display: table-header-group; }}
tr {{ break-inside: avoid; }}
table.facts {{ width: auto; min-width: 60%; margin: 0 auto 0.8em; font-family: {BODY_FONTS};
  font-size: 11pt; }}
table.facts th {{ background: none; white-space: nowrap; }}
figure {{ display: inline-block; width: 49%; vertical-align: top; margin: 0.3em 0; break-inside: avoid;
  text-align: center; }}
figure img {{ max-width: 100%; max-height: 56mm; height: auto; }}
figcaption {{ font-size: 10pt; }}
"""

CSP = (
    "default-src 'none'; img-src data:; style-src 'unsafe-inline'; font-src data:; "
    "base-uri 'none'; form-action 'none'"
)


_NUM = ' class="num"'


def esc(text: object) -> str:
    """``text`` escaped for HTML, quotes included."""
    return html.escape("" if text is None else str(text), quote=True)


class _Numbers:
    """Heading numbers of a document: level 1 counts across the body, lower levels restart below."""

    def __init__(self, lang: str) -> None:
        self.lang = lang
        self.counts = [0, 0, 0]

    def next(self, level: int) -> str:
        self.counts[level - 1] += 1
        for lower in range(level, 3):
            self.counts[lower] = 0
        return heading_number(level, self.counts[level - 1], self.lang)


def _table(table: Table) -> str:
    widths = table.widths or tuple(1.0 for _ in table.columns)
    total = sum(widths) or 1.0
    numeric = table.numeric or tuple(False for _ in table.columns)
    out = ["<table>\n<colgroup>"]
    out += [f'<col style="width:{100 * w / total:.1f}%">' for w in widths]
    out.append("</colgroup>\n<thead><tr>")
    out += [f"<th{_NUM if n else ''}>{esc(c)}</th>" for c, n in zip(table.columns, numeric, strict=True)]
    out.append("</tr></thead>\n<tbody>\n")
    for i, row in enumerate(table.rows):
        links = table.links[i] if i < len(table.links) else ()
        out.append("<tr>")
        for j, (cell, num) in enumerate(zip(row, numeric, strict=True)):
            text = esc(cell)
            target = links[j] if j < len(links) else ""
            if target:
                text = f'<a href="{esc(target)}">{text}</a>'
            out.append(f"<td{_NUM if num else ''}>{text}</td>")
        out.append("</tr>\n")
    out.append("</tbody>\n</table>\n")
    if table.caption:
        out.insert(0, f'<p class="note">{esc(table.caption)}</p>\n')
    return "".join(out)


def _blocks(blocks: Sequence[Block], numbers: _Numbers) -> str:
    out = []
    for block in blocks:
        if isinstance(block, Paragraph):
            lead = f'<span class="lead-label">{esc(block.label)}</span>' if block.label else ""
            if block.style == "banner":
                out.append(f'<div class="banner" role="alert">{lead}{esc(block.text)}</div>\n')
            else:
                cls = f' class="{block.style}"' if block.style != "body" else ""
                out.append(f"<p{cls}>{lead}{esc(block.text)}</p>\n")
        elif isinstance(block, Table):
            out.append(_table(block))
        elif isinstance(block, Facts):
            rows = "".join(f"<tr><th>{esc(k)}</th><td>{esc(v)}</td></tr>\n" for k, v in block.items)
            out.append(f'<table class="facts">\n{rows}</table>\n')
        elif isinstance(block, Figure):
            data = base64.b64encode(block.svg.encode("utf-8")).decode("ascii")
            caption = f"<figcaption>{esc(block.caption)}</figcaption>" if block.caption else ""
            image = f'<img src="data:image/svg+xml;base64,{data}" alt="{esc(block.alt)}">'
            out.append(f"<figure>{image}{caption}</figure>\n")
        elif isinstance(block, Section):
            number = numbers.next(block.level) if block.numbered else ""
            tag = f"h{block.level + 1}"
            cls = ' class="appendix"' if not block.numbered and block.level == 1 else ""
            out.append(f"<{tag}{cls}>{esc(number)}{esc(block.title)}</{tag}>\n")
            out.append(_blocks(block.blocks, numbers))
    return "".join(out)


def part_html(part: Part) -> str:
    """One part as an HTML fragment (what a notebook shows), numbered as if it stood alone."""
    title = f'<h1 class="doc-title">{esc(part.title)}</h1>\n' if part.part == "title" and part.title else ""
    return f'<div class="audit-part">{title}{_blocks(part.blocks, _Numbers(part.lang))}</div>'


def document_html(doc: Document) -> str:
    """The whole report as a standalone HTML page."""
    numbers = _Numbers(doc.lang)
    body = [f'<h1 class="doc-title">{esc(doc.title)}</h1>\n']
    for p in doc.parts:
        body.append(_blocks(p.blocks, numbers))
    return (
        f'<!DOCTYPE html>\n<html lang="{esc(doc.lang)}">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">\n'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{esc(doc.page_title or doc.title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n"
        + "".join(body)
        + "</body>\n</html>\n"
    )


def to_html(doc: Document, lang: str | None = None) -> str:
    """The report document as a standalone HTML page (``lang``, when given, must be the document's kind)."""
    if lang is not None and lang not in LANGUAGES:
        raise RenderError(f"unknown report language {lang!r}; allowed: {', '.join(LANGUAGES)}")
    return document_html(doc)


def render_html(notebooks: Sequence[str | Path | NotebookNode], html_path: str | Path, *, lang: str) -> Path:
    """Assemble executed notebooks into one report document and write its page to ``html_path``."""
    # start-up time: nbformat pulls in jsonschema, whose format checkers take seconds to import;
    # a kernel showing a part must not pay that, only a process that reads notebooks
    from audit.reports import document

    return write_whole(Path(html_path), to_html(document(notebooks), lang).encode("utf-8"))


def write_whole(path: Path, data: bytes) -> Path:
    """Write ``data`` under a partial name and rename it: a reader never sees half a report."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    partial.write_bytes(data)
    os.replace(partial, path)
    return path


@register("html")
class Html:
    """The report page a reviewer opens in a browser."""

    name = "html"
    suffix = ".html"
    needs: tuple[str, ...] = ()

    def missing(self) -> str | None:
        """Nothing: the page is built in Python."""
        return None

    def render(self, request: Request) -> Path:
        """Write ``report.html`` from the assembled report document."""
        page = to_html(request.assembled, request.lang)
        return write_whole(request.path(self.suffix), page.encode("utf-8"))

"""The HTML report from the content model: escaped, numbered, tables no wider than the page."""

from __future__ import annotations

import re
import subprocess
import sys

from audit.document import Document, Facts, Figure, Paragraph, Part, Section, Table
from audit.renderers.html import document_html, part_html

HOSTILE = "<script>alert(1)</script>=cmd|' /C calc'!A0"


def _doc(*blocks, lang: str = "zh") -> Document:
    return Document(
        "检查报告",
        lang,
        (
            Part("title", (Facts((("县（区）", "城关区"),)),), title="检查报告"),
            Part("problems", tuple(blocks)),
        ),
        "检查报告 城关区",
    )


def test_headings_are_numbered_by_level_and_attachments_are_not():
    doc = _doc(
        Section(
            "基本情况", (Section("合同", (Section("细项", level=3),), level=2), Section("人员", level=2))
        ),
        Section("问题", (Section("甲", level=2),)),
        Section("附件1：问题清单", numbered=False),
    )
    page = document_html(doc)
    assert re.findall(r"<h[234][^>]*>(.*?)</h[234]>", page) == [
        "一、基本情况",
        "（一）合同",
        "1. 细项",
        "（二）人员",
        "二、问题",
        "（一）甲",
        "附件1：问题清单",
    ]
    english = document_html(_doc(Section("Facts", (Section("Contracts", level=2),)), lang="en"))
    assert "<h2>1. Facts</h2>" in english and "<h3>(1) Contracts</h3>" in english


def test_every_text_is_escaped_and_the_page_forbids_scripts():
    doc = _doc(
        Paragraph(HOSTILE, label=HOSTILE),
        Table((HOSTILE,), ((HOSTILE,),), links=(("x.html",),)),
        Figure("<svg xmlns='http://www.w3.org/2000/svg'/>", HOSTILE),
        Section(HOSTILE),
    )
    page = document_html(doc)
    body = page[page.index("<body>") :]
    assert "<script>" not in body and "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    assert body.count("&lt;script&gt;") == 6  # label, text, header, cell, alternative text, heading
    assert 'alt="&lt;script&gt;' in body and "default-src 'none'" in page


def test_tables_fill_the_text_block_and_no_more_with_the_models_widths():
    page = document_html(_doc(Table(("对象", "金额"), (("甲", "1.00"),), (False, True), (3.0, 1.0))))
    assert '<col style="width:75.0%"><col style="width:25.0%">' in page
    assert '<th class="num">金额</th>' in page and '<td class="num">1.00</td>' in page
    css = page[page.index("<style>") : page.index("</style>")]
    assert "table-layout: fixed" in css and "max-width: 100%" in css
    assert "th {" in css and "word-break: keep-all" in css  # a Chinese header never breaks between characters


def test_the_printed_page_is_a4_with_the_standards_margins_and_page_number():
    css = document_html(_doc())
    assert "size: A4; margin: 37mm 26mm 35mm 28mm" in css
    assert 'content: "— " counter(page) " —"' in css


def test_a_part_alone_is_a_fragment_for_jupyterlab():
    html = part_html(Part("title", (Paragraph("正文"),), title="检查报告"))
    assert (
        html.startswith('<div class="audit-part"><h1 class="doc-title">检查报告</h1>') and "<html" not in html
    )


def test_a_kernel_shows_a_part_without_loading_nbformat():
    # nbformat brings jsonschema, whose format checkers took 5 s to import in every notebook's
    # first displayed cell: showing a part needs neither
    code = (
        "import sys\n"
        "from audit.document import Paragraph, Part\n"
        "data, meta = Part('title', (Paragraph('<b>x</b>'),), None, '')._repr_mimebundle_()\n"
        "assert '&lt;b&gt;x&lt;/b&gt;' in data['text/html'], data\n"
        "print(sorted(m for m in ('nbformat', 'jsonschema') if m in sys.modules))\n"
    )
    shown = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert shown.stdout.strip() == "[]"

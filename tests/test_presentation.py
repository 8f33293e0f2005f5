"""HTML fragments escape every data value, and charts go in as images."""

from __future__ import annotations

import base64
import re

import pandas as pd
import pytest

from audit import presentation as P

PAYLOADS = ("<script>alert(1)</script>", '<img src=x onerror="alert(2)">', "\" onmouseover='x'")


def test_escape_turns_markup_into_text_and_missing_into_nothing():
    assert P.esc("<b>&\"'") == "&lt;b&gt;&amp;&quot;&#x27;"
    assert P.esc(None) == "" and P.esc(float("nan")) == "" and P.esc(pd.NA) == ""
    assert P.esc(3) == "3"


def test_tables_escape_headers_and_cells():
    frame = pd.DataFrame({"name": list(PAYLOADS), "amount_yuan": [1.0, 2.5, 1234.5]})
    html = P.table(frame, {"name": "<i>姓名</i>", "amount_yuan": "金额"}, formats={"amount_yuan": P.yuan})
    assert "<script" not in html and "<img" not in html and "<i>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=&quot;alert(2)&quot;&gt;" in html
    assert "&lt;i&gt;姓名&lt;/i&gt;" in html
    assert '<td class="num">1,234.50</td>' in html
    assert html.count("<tr>") == 4  # header and three rows


def test_tables_follow_the_header_order_cap_rows_and_leave_missing_cells_empty():
    frame = pd.DataFrame({"a": ["1", "2", "3"], "b": ["x", None, "z"]})
    html = P.table(frame, {"b": "B", "a": "A", "c": "C"}, max_rows=2)
    assert re.findall(r"<th>(.*?)</th>", html) == ["B", "A", "C"]
    assert html.count("<tr>") == 3
    assert "<tr><td></td><td>2</td><td></td></tr>" in html


def test_headings_paragraphs_banners_and_fact_tables_escape():
    for html in (
        P.heading(PAYLOADS[0], 2),
        P.paragraph(PAYLOADS[0]),
        P.banner(PAYLOADS[0]),
        P.definition_list([("<k>", PAYLOADS[0])]),
    ):
        assert "<script" not in html and "&lt;script&gt;" in html
    with pytest.raises(ValueError):
        P.heading("x", 7)


def test_links_go_only_to_relative_paths():
    assert P.link("../540102/report.html", "报告") == '<a href="../540102/report.html">报告</a>'
    for href in (
        "javascript:alert(1)",
        "https://example.org/x",
        "//evil/x",
        '../a" onclick="x',
        "/etc/passwd",
    ):
        with pytest.raises(ValueError, match="refusing"):
            P.link(href, "x")


def test_a_fragment_carries_its_section_in_the_output_metadata():
    data, meta = P.Fragment("<h2>x</h2>", "area", "C")._repr_mimebundle_()
    assert data["text/html"] == "<h2>x</h2>"
    assert meta == {"audit": {"section": "area", "area": "C"}}
    with pytest.raises(ValueError, match="unknown section"):
        P.Fragment("", "appendix")


def test_amounts_and_counts_are_formatted_for_reading():
    assert P.yuan(6280816) == "6,280,816.00"
    assert P.yuan(float("nan")) == ""
    assert P.count(1295) == "1,295"


def test_a_chart_is_an_svg_image_with_its_alt_text_escaped():
    svg = '<svg xmlns="http://www.w3.org/2000/svg"><title>x</title></svg>'
    html = P.figure_html(svg, '救助金 <b>"')
    data = re.search(r'<img src="data:image/svg\+xml;base64,([^"]+)" alt="救助金 &lt;b&gt;&quot;">', html)
    assert data and base64.b64decode(data.group(1)).decode("utf-8") == svg

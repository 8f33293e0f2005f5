"""HTML fragments escape every data value; charts draw Chinese and give the same bytes twice."""

from __future__ import annotations

import base64
import re
import warnings

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


def _png(html: str) -> bytes:
    match = re.search(r'src="data:image/png;base64,([^"]+)"', html)
    assert match
    return base64.b64decode(match.group(1))


def test_charts_are_png_without_timestamps_and_identical_when_drawn_twice():
    paid = pd.Series([1000.0, 2000.0, 0.0], index=["2020-01", "2020-02", "2020-03"])
    first = P.figure_html(P.relief_chart(paid, 5000.0, "zh"), "救助金")
    second = P.figure_html(P.relief_chart(paid, 5000.0, "zh"), "救助金")
    png = _png(first)
    assert png.startswith(b"\x89PNG") and png == _png(second)
    assert b"Software" not in png and b"matplotlib" not in png
    assert 'alt="救助金"' in first


def test_chinese_labels_draw_without_missing_glyphs():
    covered = pd.DataFrame(
        [[1.0, 0.0], [0.0, 1.0]], index=["八廓街道", "蔡公堂乡"], columns=["2020-01", "2020-02"]
    )
    contracts = pd.DataFrame(
        {"contract_id": ["合同-1"], "amount_yuan": [159008.0], "expected_yuan": [159008.0]}
    )
    counts = pd.DataFrame({"high": [1, 0], "medium": [0, 2]}, index=["城关区", "堆龙德庆区"])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        P.figure_html(P.coverage_chart(covered, "zh"), "")
        P.figure_html(P.contracts_chart(contracts, 200000.0, "zh"), "")
        P.figure_html(P.county_chart(counts, pd.Series([10.0, 0.0], index=counts.index), "zh"), "")
    missing = [str(w.message) for w in caught if "missing from" in str(w.message)]
    assert not missing, missing


def test_chart_settings_do_not_leak_into_global_matplotlib_state():
    import matplotlib

    before = matplotlib.rcParams["axes.unicode_minus"]
    with P.chart_style():
        assert matplotlib.rcParams["axes.unicode_minus"] is False
    assert matplotlib.rcParams["axes.unicode_minus"] == before

"""Charts are well-formed SVG drawn from the data: escaped text, one shape per value, same bytes twice."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import numpy as np
import pandas as pd
import pytest

from audit import charts

NS = {"svg": "http://www.w3.org/2000/svg"}
MONTHS = [f"2020-{m:02d}" for m in range(1, 13)]


def _parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)  # raises on anything that is not well-formed


def _texts(root: ET.Element) -> list[str]:
    return [t.text or "" for t in root.iterfind(".//svg:text", NS)]


def _fills(root: ET.Element, colour: str) -> int:
    return sum(1 for r in root.iterfind(".//svg:rect", NS) if r.get("fill") == colour)


@pytest.mark.parametrize(
    ("top", "expected"),
    [
        (95, [0, 20, 40, 60, 80, 100]),
        (10, [0, 2, 4, 6, 8, 10]),
        (7_000_000, [0, 2_000_000, 4_000_000, 6_000_000, 8_000_000]),
        (1.2, [0, 0.25, 0.5, 0.75, 1.0, 1.25]),
        (0, [0, 1]),
        (float("nan"), [0, 1]),
    ],
)
def test_axis_ticks_are_round_numbers_reaching_the_top(top, expected):
    assert charts.ticks(top) == pytest.approx(expected)


def test_the_relief_chart_has_a_bar_per_month_a_running_total_and_the_allocation():
    paid = pd.Series([1000.0] * 11 + [0.0], index=MONTHS)
    root = _parse(charts.relief(paid, 15000.0, "zh"))
    assert _fills(root, "#7fcdbb") == 12 + 1  # the months and the legend's key
    line = root.find(".//svg:polyline", NS)
    assert line is not None and len(line.get("points").split()) == 12
    assert len([e for e in root.iterfind(".//svg:line", NS) if e.get("stroke-dasharray")]) == 2  # level, key
    texts = _texts(root)
    assert {"救助金按月发放与下达资金", "元", "月份", "01", "12"} <= set(texts)
    no_level = _parse(charts.relief(paid, float("nan"), "en"))
    assert not [e for e in no_level.iterfind(".//svg:line", NS) if e.get("stroke-dasharray")]


def test_the_contracts_chart_marks_what_each_contract_should_cost():
    frame = pd.DataFrame(
        {
            "contract_id": ["HT-1", "HT-2"],
            "amount_yuan": [159008.0, 80000.0],
            "expected_yuan": [159008.0, np.nan],
        }
    )
    root = _parse(charts.contracts(frame, 300000.0, "en"))
    assert _fills(root, "#a1dab4") == 2 + 1
    assert len(root.findall(".//svg:polygon", NS)) == 1 + 1  # one known cost (the other is missing), the key
    assert {"HT-1", "HT-2"} <= set(_texts(root))


def test_the_coverage_map_has_a_cell_per_office_and_month():
    covered = pd.DataFrame(
        [[1.0] * 12, [1.0] * 6 + [0.0] * 6], index=["八廓街道", "蔡公堂乡"], columns=MONTHS
    )
    root = _parse(charts.coverage(covered, "zh"))
    assert _fills(root, charts.COVERED) == 18 + 1 and _fills(root, charts.UNCOVERED) == 6 + 1
    tips = [t.text for t in root.iterfind(".//svg:rect/svg:title", NS)]
    assert "蔡公堂乡 2020-07: 无人在岗" in tips


def test_the_county_chart_stacks_severities_and_shows_money():
    counts = pd.DataFrame(
        {"high": [1, 0], "medium": [2, 3], "low": [0, 0], "info": [1, 0]}, index=["城关区", "达孜区"]
    )
    root = _parse(charts.counties(counts, pd.Series([500.0, 0.0], index=counts.index), "zh"))
    severity_rects = sum(_fills(root, c) for c in charts.SEVERITY_COLOURS.values())
    assert severity_rects == 4 + 4  # the non-zero cells, and a key per severity
    assert {"城关区", "达孜区", "高", "提示"} <= set(_texts(root))


def test_text_from_the_data_is_escaped_and_the_same_data_give_the_same_bytes():
    covered = pd.DataFrame([[1.0, 0.0]], index=['<script>alert(1)</script>"'], columns=MONTHS[:2])
    first, second = charts.coverage(covered, "en"), charts.coverage(covered, "en")
    assert first == second
    assert "<script>" not in first and "&lt;script&gt;alert(1)&lt;/script&gt;&quot;" in first
    assert '<script>alert(1)</script>"' in _texts(_parse(first))  # shown as the text it is

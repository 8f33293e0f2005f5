"""Reports: sections assembled in reading order; the county and city reports as rendered."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import nbformat
import pytest

from audit import reports
from audit.exceptions import RenderError
from audit.renderers.pdf import chromium_command
from fixtures import store_builder
from fixtures.report_pages import frag as _frag
from fixtures.report_pages import ink as _ink
from fixtures.report_pages import notebook as _notebook
from fixtures.report_pages import shown as _shown


def _texts(report: nbformat.NotebookNode) -> list[str]:
    return [re.sub("<[^>]+>", "", c.outputs[0].data["text/html"]).strip() for c in report.cells]


def test_a_county_report_reads_title_summary_areas_quality_sample_provenance():
    contracts = _notebook(
        _shown(_frag("title", "标题1", title="检查报告")),
        _shown(_frag("summary", "摘要1")),
        _shown(_frag("area", "C区", "C")),
        _shown(_frag("quality", "质量1")),
        _shown(_frag("sample", "抽样1")),
        _shown(_frag("provenance", "附录1")),
    )
    staffing = _notebook(
        _shown(_frag("title", "标题2")),
        _shown(_frag("summary", "摘要2")),
        _shown(_frag("area", "S区", "S")),
        _shown(_frag("quality", "质量2")),
    )
    relief = _notebook(
        _shown(_frag("provenance", "附录3")),
        _shown(_frag("area", "F区图", "F")),
        _shown(_frag("area", "F区表", "F")),
    )
    report = reports.assemble([relief, contracts, staffing])  # notebook order does not matter for areas
    assert _texts(report) == ["标题1", "摘要1", "C区", "S区", "F区图", "F区表", "质量1", "抽样1", "附录3"]
    assert report.metadata["title"] == "检查报告"


def test_only_the_facades_sections_reach_the_report():
    stray = [
        nbformat.v4.new_output("stream", name="stderr", text="UserWarning: something\n"),
        nbformat.v4.new_output("stream", name="stdout", text="printed\n"),
        nbformat.v4.new_output("error", ename="ValueError", evalue="boom", traceback=[]),
        nbformat.v4.new_output("display_data", data={"text/html": "<b>untagged</b>"}, metadata={}),
        nbformat.v4.new_output(
            "display_data", data={"text/html": "<b>bad</b>"}, metadata={"audit": {"section": "x"}}
        ),
    ]
    report = reports.assemble([_notebook(_shown(_frag("title", "标题")), *stray)])
    assert _texts(report) == ["标题"]


def test_notebooks_without_a_title_section_are_not_a_report():
    with pytest.raises(RenderError, match="no report sections"):
        reports.assemble([_notebook(nbformat.v4.new_output("stream", name="stdout", text="x"))])


# --- the county report of the hand-made fixture store, run with papermill ------------------------

ID_PATTERN = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")


@pytest.fixture(scope="module")
def county(tmp_path_factory):
    return store_builder.county_run(tmp_path_factory)


def _headings(html: str) -> list[str]:
    return [re.sub("<[^>]+>", "", h) for h in re.findall(r"<h[12][^>]*>(.*?)</h[12]>", html, flags=re.S)]


@pytest.mark.slow
@pytest.mark.xdist_group("notebooks")
def test_the_county_report_reads_top_to_bottom(county):
    html = county.html.read_text(encoding="utf-8")
    assert _headings(html) == [
        "社会救助政府购买服务与救助资金检查报告",
        "摘要",
        "C 购买服务合同与资金",
        "S 乡镇民政所人员配备",
        "F 救助资金使用",
        "数据质量",
        "走访入户抽样",
        "附录：数据来源与运行信息",
    ]
    assert (
        '<html lang="zh">' in html
        and "<title>社会救助政府购买服务与救助资金检查报告 城关区（540102）</title>" in html
    )
    charts = re.findall(r'<img [^>]*src="data:image/svg\+xml;base64,', html)
    assert len(charts) == 3  # contracts, coverage, relief


@pytest.mark.slow
@pytest.mark.xdist_group("notebooks")
def test_the_county_report_shows_the_hand_counted_findings(county):
    html = county.html.read_text(encoding="utf-8")
    rules = re.findall(r"<h3>([CSF]\d+) ", html)
    assert rules == list(store_builder.EXPECTED_FINDINGS)
    tables = re.findall(r"<h3>[CSF]\d+ .*?</h3>\s*<table[^>]*>.*?<tbody>(.*?)</tbody>", html, flags=re.S)
    assert sum(t.count("<tr>") for t in tables) == sum(store_builder.EXPECTED_FINDINGS.values()) == 7


@pytest.mark.slow
@pytest.mark.xdist_group("notebooks")
def test_a_masked_report_shows_no_id_number_account_or_name_in_html_or_pdf(county):
    html = county.html.read_text(encoding="utf-8")
    pdf = subprocess.run(
        ["pdftotext", str(county.reports["pdf"]), "-"], capture_output=True, text=True, check=True
    ).stdout
    for where, text in (("html", html), ("pdf", pdf)):
        assert not ID_PATTERN.findall(text), where
        for value in (*store_builder.PERSONAL_VALUES, "扎西次仁", "张三丰"):
            assert value not in text, (where, value)
    assert store_builder.P3_ID[:6] + "********" + store_builder.P3_ID[-4:] in html


@pytest.mark.slow
@pytest.mark.xdist_group("notebooks")
def test_the_pdf_has_chinese_headings_and_its_pages_are_not_blank(county, tmp_path):
    text = subprocess.run(
        ["pdftotext", str(county.reports["pdf"]), "-"], capture_output=True, text=True, check=True
    ).stdout
    for heading_text in ("检查报告", "摘要", "数据质量", "走访入户抽样", "随机种子：20200507"):
        assert heading_text in text
    subprocess.run(
        [
            "pdftoppm",
            "-r",
            "30",
            "-gray",
            "-f",
            "1",
            "-l",
            "2",
            str(county.reports["pdf"]),
            str(tmp_path / "p"),
        ],
        check=True,
    )
    pages = sorted(tmp_path.glob("p*.pgm"))
    assert len(pages) == 2 and all(_ink(p) > 0.005 for p in pages)


def _dom(html: Path, profile: Path) -> str:
    cmd = chromium_command(profile, "--dump-dom", html.as_uri())
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=True).stdout


@pytest.mark.slow
@pytest.mark.browser
@pytest.mark.xdist_group("notebooks")
def test_markup_in_the_data_stays_text_in_the_county_report(county, tmp_path):
    dom = _dom(county.html, tmp_path / "profile")
    assert "<title>社会救助政府购买服务与救助资金检查报告 城关区（540102）</title>" in dom
    assert "<script" not in dom.lower()
    assert len(re.findall(r"<img ", dom)) == 3 and '<img src="x"' not in dom  # the charts, nothing else
    assert "拉萨市仁爱社会工作服务中心&lt;img src=x onerror=alert(3)&gt;" in dom


@pytest.mark.slow
@pytest.mark.browser
@pytest.mark.xdist_group("notebooks")
def test_a_full_pii_report_warns_on_its_first_page_and_still_escapes(tmp_path_factory, tmp_path):
    full = store_builder.county_run(tmp_path_factory, pii="full", areas=("relief",))
    html = full.html.read_text(encoding="utf-8")
    assert html.index('class="audit-banner"') < html.index("<h2>")  # before the first section
    assert store_builder.P3_ID in html  # full values, as asked
    assert "pdf" not in full.reports and not (full.folder / "report.pdf").exists()
    dom = _dom(full.html, tmp_path / "profile")
    assert "<script" not in dom.lower() and '<img src="x"' not in dom
    assert "&lt;script&gt;document.title='pwned-by-script'&lt;/script&gt;" in dom  # the quality log's name


@pytest.mark.slow
@pytest.mark.xdist_group("notebooks")
def test_the_city_report_rolls_up_the_counties_and_links_their_reports(tmp_path_factory):
    city = store_builder.city_run(tmp_path_factory)
    html = city.html.read_text(encoding="utf-8")
    assert _headings(html) == [
        "全市汇总检查报告",
        "摘要",
        "跨县（区）及全市问题",
        "县（区）比较",
        "各县（区）检查报告",
        "数据质量",
        "附录：数据来源与运行信息",
    ]
    assert re.findall(r'<a href="([^"]+)">', html) == [
        "../540102/report.html",
        "../540102/report.pdf",
        "../540103/report.html",
        "../540103/report.pdf",
    ]
    assert re.findall(r"<h3>([CSF]\d+) ", html) == list(store_builder.EXPECTED_CITY)
    assert [p.name for p in city.findings] == ["findings-city.parquet"]
    assert not ID_PATTERN.findall(html)

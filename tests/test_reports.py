"""Reports: parts assembled in reading order into one document; HTML without scripts; PDF with Chinese."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import nbformat
import pytest

from audit import reports
from audit.document import Paragraph, Part
from audit.exceptions import RenderError
from audit.renderers.pdf import chromium_command, page_text, render_pdf
from fixtures import store_builder
from fixtures.report_pages import ink as _ink


def _shown(part: Part, count: int = 1) -> nbformat.NotebookNode:
    data, meta = part._repr_mimebundle_()
    return nbformat.v4.new_output("execute_result", data=data, metadata=meta, execution_count=count)


def _notebook(*outputs: nbformat.NotebookNode, source: str = "insp.section()") -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source, outputs=[o]) for o in outputs]
    # as papermill writes it: through JSON
    return nbformat.reads(nbformat.writes(nb), as_version=4)


def _part(name: str, text: str, area: str | None = None, title: str = "") -> Part:
    return Part(name, (Paragraph(text),), area, title)


def _texts(doc) -> list[str]:
    return [b.text for p in doc.parts for b in p.blocks]


def test_a_county_report_reads_title_basics_method_problems_measures_then_attachments():
    contracts = _notebook(
        _shown(_part("title", "标题1", title="检查报告")),
        _shown(_part("basics", "基本1")),
        _shown(_part("basics", "C图", "C")),
        _shown(_part("method", "方法1")),
        _shown(_part("problems", "问题1")),
        _shown(_part("recommendations", "建议1")),
        _shown(_part("findings", "清单1")),
        _shown(_part("quality", "质量1")),
        _shown(_part("sample", "抽样1")),
    )
    staffing = _notebook(
        _shown(_part("title", "标题2")),
        _shown(_part("basics", "基本2")),
        _shown(_part("basics", "S图", "S")),
        _shown(_part("problems", "问题2")),
    )
    relief = _notebook(
        _shown(_part("provenance", "来源3")),
        _shown(_part("basics", "F图", "F")),
    )
    doc = reports.assemble([relief, contracts, staffing])  # notebook order does not matter for areas
    assert _texts(doc) == [
        "标题1",
        "基本1",
        "C图",
        "S图",
        "F图",
        "方法1",
        "问题1",
        "建议1",
        "清单1",
        "质量1",
        "抽样1",
        "来源3",
    ]
    assert doc.title == "检查报告" and doc.lang == "zh"
    assert [p.part for p in doc.appendices()] == ["findings", "quality", "sample", "provenance"]


def test_only_the_facades_parts_reach_the_report():
    stray = [
        nbformat.v4.new_output("stream", name="stderr", text="UserWarning: something\n"),
        nbformat.v4.new_output("stream", name="stdout", text="printed\n"),
        nbformat.v4.new_output("error", ename="ValueError", evalue="boom", traceback=[]),
        nbformat.v4.new_output("display_data", data={"text/html": "<b>untagged</b>"}, metadata={}),
        nbformat.v4.new_output(
            "display_data", data={"text/html": "<b>bad</b>"}, metadata={"audit": {"section": "x"}}
        ),
    ]
    doc = reports.assemble([_notebook(_shown(_part("title", "标题")), *stray)])
    assert _texts(doc) == ["标题"]


def test_notebooks_without_a_title_part_are_not_a_report():
    with pytest.raises(RenderError, match="no report parts"):
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
        "一、基本情况",
        "二、检查依据和方法",
        "三、发现的主要问题",
        "四、整改意见汇总",
        "附件1：问题清单",
        "附件2：数据质量",
        "附件3：走访入户抽样",
        "附件4：数据来源与运行信息",
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
    rules = re.findall(r"<h3>（[一二三四五六七八九十]+）[^<]*（([CSF]\d+)，", html)
    assert sorted(rules) == sorted(store_builder.EXPECTED_FINDINGS)
    listing = html[html.index("附件1：问题清单") : html.index("附件2：数据质量")]
    assert listing.count("<tr>") - 1 == sum(store_builder.EXPECTED_FINDINGS.values()) == 7


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
    for heading_text in ("检查报告", "一、基本情况", "数据质量", "走访入户抽样", "随机种子：20200507"):
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
    assert html.index('class="banner"') < html.index("<h2>")  # before the first section
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
        "一、总体情况",
        "二、各类问题情况",
        "附件1：各县（区）检查报告",
        "附件2：数据质量",
        "附件3：数据来源与运行信息",
    ]
    assert re.findall(r'<a href="([^"]+)">', html) == [
        f"../{c}/report.{ext}" for c in ("540102", "540103") for ext in ("html", "pdf", "docx")
    ]
    city_wide = html[html.index("全市性及跨县（区）问题") : html.index("二、各类问题情况")]
    assert sorted(re.findall(r"（([CSF]\d+)，", city_wide)) == sorted(store_builder.EXPECTED_CITY)
    assert [p.name for p in city.findings] == ["findings-city.parquet"]
    assert not ID_PATTERN.findall(html)


# --- the demo's busiest county and the city roll-up, in every format ------------------------------

FIELD_NAMES = re.compile(
    r"(?<![A-Za-z_.])(amount_yuan|person_id|household_id|payment_id|entity_id|entity_type|rule_id|"
    r"description_zh|county_code|township_code|paid_on|died_on|bank_account|id_number|staff_id|"
    r"contract_id|evidence|severity)(?![A-Za-z_])"
)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The demo's busiest county and the city: documents, and their HTML, PDF and Word files."""
    from audit.document import Document
    from audit.renderers.docx import write_docx
    from audit.store import Store
    from fixtures import report_documents

    base = tmp_path_factory.mktemp("demo-reports")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AUDIT_ALLOWED_ROOTS", str(base))
        store, busiest = report_documents.demo_store(base)
        county = report_documents.county_document(store, base / "out", county=busiest)
        city = report_documents.city_document(store, base / "out")
    files: dict[str, dict[str, Path]] = {}
    for name, doc in (("county", county), ("city", city)):
        assert isinstance(doc, Document)
        folder = base / name
        html = _write_page(doc, folder / "report.html")
        files[name] = {"html": html, "pdf": render_pdf(html, folder / "report.pdf")}
        files[name]["docx"] = write_docx(doc, folder / "report.docx")
    people = Store.open(store).read("beneficiaries", counties=[busiest])
    staff = Store.open(store).read("staff", counties=[busiest])
    personal = {
        "names": sorted({n for n in [*people["name"], *staff["name"]] if isinstance(n, str) and len(n) >= 3}),
        "accounts": sorted({a for a in people["bank_account"] if isinstance(a, str) and len(a) >= 12}),
    }
    return {"busiest": busiest, "county": county, "city": city, "files": files, "personal": personal}


def _write_page(doc, path: Path) -> Path:
    from audit.renderers.html import document_html

    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(document_html(doc), encoding="utf-8")
    return path


def _pdf_pages(pdf: Path) -> list[str]:
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    return text.split("\f")


def _reader_texts(files: dict[str, Path]) -> dict[str, str]:
    import docx

    word = docx.Document(str(files["docx"]))
    word_text = "\n".join(
        [p.text for p in word.paragraphs] + [c.text for t in word.tables for r in t.rows for c in r.cells]
    )
    return {
        "html": page_text(files["html"].read_text(encoding="utf-8")),
        "pdf": "\n".join(_pdf_pages(files["pdf"])),
        "docx": word_text,
    }


@pytest.mark.slow
@pytest.mark.browser
@pytest.mark.xdist_group("demo-reports")
def test_the_busiest_countys_body_fits_six_pages_and_the_city_summary_three(demo):
    county_pages = _pdf_pages(demo["files"]["county"]["pdf"])
    first_attachment = next(i for i, page in enumerate(county_pages, 1) if "附件1：问题清单" in page)
    assert first_attachment <= 7, f"the body of {demo['busiest']} runs to page {first_attachment - 1}"
    city_pages = _pdf_pages(demo["files"]["city"]["pdf"])
    detail = next(i for i, page in enumerate(city_pages, 1) if "二、各类问题情况" in page)
    assert detail <= 4, f"the city summary runs onto page {detail}"  # 一、总体情况 within three pages


@pytest.mark.slow
@pytest.mark.browser
@pytest.mark.xdist_group("demo-reports")
def test_no_reader_facing_format_shows_json_field_names_or_personal_data(demo):
    for unit in ("county", "city"):
        for fmt, text in _reader_texts(demo["files"][unit]).items():
            where = (unit, fmt)
            assert "{" not in text and '":' not in text, where
            assert not FIELD_NAMES.findall(text), (where, FIELD_NAMES.findall(text)[:5])
            assert not ID_PATTERN.findall(text), (where, ID_PATTERN.findall(text)[:3])
            for account in demo["personal"]["accounts"]:
                assert account not in text, (where, "account")
            leaked = [n for n in demo["personal"]["names"] if n in text]
            assert leaked == [], (where, leaked[:3])
    assert "一、基本情况" in _reader_texts(demo["files"]["county"])["pdf"]


@pytest.mark.slow
@pytest.mark.browser
@pytest.mark.xdist_group("demo-reports")
def test_headless_chromium_lays_every_table_within_the_page_and_headers_whole(demo, tmp_path):
    page = demo["files"]["county"]["html"].read_text(encoding="utf-8")
    page = re.sub(
        r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", page
    )  # a copy that may run a probe
    probe = """<script>
    const body = document.body.getBoundingClientRect();
    const wide = [...document.querySelectorAll('table')].filter(
        t => t.getBoundingClientRect().right > body.right + 0.5 || t.scrollWidth > t.clientWidth + 1).length;
    const broken = [...document.querySelectorAll('th')].filter(th => {
        const text = th.textContent.trim();
        if (text.length < 3) return false;
        const range = document.createRange(); range.selectNodeContents(th);
        const lines = new Set([...range.getClientRects()].map(r => Math.round(r.top))).size;
        return lines >= text.length;  // one character a line
    }).length;
    document.title = `wide=${wide} broken=${broken} tables=${document.querySelectorAll('table').length}`;
    </script></body>"""
    probed = tmp_path / "probe.html"
    probed.write_text(page.replace("</body>", probe), encoding="utf-8")
    width_px = round(156 / 25.4 * 96)  # the text block of an A4 page with the standard's margins
    cmd = chromium_command(
        tmp_path / "profile", f"--window-size={width_px + 16},1200", "--dump-dom", probed.as_uri()
    )
    dom = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=True).stdout
    title = re.search(r"<title>(.*?)</title>", dom).group(1)
    assert title.startswith("wide=0 broken=0 tables="), title
    assert int(title.rsplit("=", 1)[1]) >= 5

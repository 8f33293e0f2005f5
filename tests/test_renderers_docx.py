"""The Word report: GB/T 9704-2012 layout, East Asian faces on every style, numbering, page field."""

from __future__ import annotations

import re
import shutil
import subprocess
import zipfile

import docx
import pytest
from docx.shared import Mm

from audit.document import Document, Figure, Paragraph, Part, Section, Table
from audit.exceptions import RenderError
from audit.renderers.docx import write_docx
from fixtures import report_documents, store_builder

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


@pytest.fixture(scope="module")
def fixture_docx(tmp_path_factory):
    base = tmp_path_factory.mktemp("docx")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AUDIT_ALLOWED_ROOTS", str(base))
        store = store_builder.build_store(base / "store")
        doc = report_documents.county_document(store, base / "out")
        full = report_documents.county_document(store, base / "out-full", pii="full")
    return write_docx(doc, base / "report.docx"), write_docx(full, base / "full.docx")


def _xml(path, name="word/document.xml") -> str:
    with zipfile.ZipFile(path) as z:
        return z.read(name).decode("utf-8")


def _text(path) -> str:
    return (
        "\n".join(p.text for p in docx.Document(str(path)).paragraphs)
        + "\n"
        + "\n".join(c.text for t in docx.Document(str(path)).tables for r in t.rows for c in r.cells)
    )


def test_the_page_is_a4_with_the_standards_margins(fixture_docx):
    section = docx.Document(str(fixture_docx[0])).sections[0]
    sizes = [section.page_width, section.page_height, section.top_margin, section.bottom_margin]
    sizes += [section.left_margin, section.right_margin]
    assert [round(s.mm, 1) for s in sizes] == [210, 297, 37, 35, 28, 26]  # stored in twips


def test_every_style_names_its_east_asian_face_and_the_roles_take_the_standards_faces(fixture_docx):
    styles = _xml(fixture_docx[0], "word/styles.xml")
    for style in re.findall(
        r"<w:style [^>]*w:type=\"(?:paragraph|character|table)\".*?</w:style>", styles, flags=re.S
    ):
        assert 'w:eastAsia="' in style, style[:120]
    faces = {
        sid: re.search(r'w:eastAsia="([^"]+)"', body).group(1)
        for sid, body in re.findall(
            r'<w:style [^>]*w:styleId="([^"]+)"[^>]*>(.*?)</w:style>', styles, flags=re.S
        )
        if 'w:eastAsia="' in body
    }
    assert faces["Title"] == "方正小标宋简体" and faces["Normal"] == "仿宋_GB2312"
    assert (
        faces["Heading1"] == "黑体"
        and faces["Heading2"] == "楷体_GB2312"
        and faces["Heading3"] == "仿宋_GB2312"
    )
    sizes = dict(re.findall(r'w:styleId="(Title|Normal)".*?<w:sz w:val="(\d+)"', styles, flags=re.S))
    assert sizes == {"Title": "44", "Normal": "32"}  # 22 pt and 16 pt, in half points


def test_headings_are_numbered_by_a_chinese_multilevel_list(fixture_docx):
    numbering = _xml(fixture_docx[0], "word/numbering.xml")
    assert '<w:numFmt w:val="chineseCounting"/>' in numbering
    for text in ("%1、", "（%2）", "%3."):
        assert f'<w:lvlText w:val="{text}"/>' in numbering
    doc = docx.Document(str(fixture_docx[0]))
    level1 = [p.text for p in doc.paragraphs if p.style.name == "Heading 1"]
    assert level1 == [
        "基本情况",
        "检查依据和方法",
        "发现的主要问题",
        "整改意见汇总",
    ]  # 一、 … 四、 from the list
    assert next(p.text for p in doc.paragraphs if p.style.name == "AuditAppendix") == "附件1：问题清单"


def test_the_footer_holds_a_page_field_between_dashes(fixture_docx):
    footer = (
        _xml(fixture_docx[0], "word/footer1.xml")
        if "word/footer1.xml" in zipfile.ZipFile(fixture_docx[0]).namelist()
        else ""
    )
    if not footer:
        names = [n for n in zipfile.ZipFile(fixture_docx[0]).namelist() if n.startswith("word/footer")]
        footer = _xml(fixture_docx[0], names[0])
    assert '<w:instrText xml:space="preserve"> PAGE </w:instrText>' in footer
    assert re.search(r"— </w:t>.*PAGE.*<w:t[^>]*> —</w:t>", footer, flags=re.S)


def test_table_headers_repeat_and_charts_have_alternative_text(fixture_docx):
    body = _xml(fixture_docx[0])
    assert body.count("<w:tblHeader/>") == body.count("<w:tbl>")
    assert len(re.findall(r'<wp:docPr [^>]*descr="合同金额与预算"', body)) == 1
    assert body.count("<pic:pic>") + body.count("<pic:pic ") == 3


def test_a_masked_word_report_has_no_id_number_account_or_name_and_markup_stays_text(fixture_docx):
    text = _text(fixture_docx[0])
    assert not re.search(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])", text)
    for value in (*store_builder.PERSONAL_VALUES, "扎西次仁", "张三丰"):
        assert value not in text, value
    assert "拉萨市仁爱社会工作服务中心<img src=x onerror=alert(3)>" in text  # a text run, not markup
    leaks = [line for line in text.splitlines() if "{" in line or '":' in line or "amount_yuan" in line]
    assert leaks == []
    full = _text(fixture_docx[1])
    assert store_builder.P3_ID in full and "完整的个人信息" in full


def test_a_hostile_cell_is_neutralised_like_a_spreadsheet_cell(tmp_path):
    doc = Document(
        "报告", "zh", (Part("title", (Table(("姓名",), (("=cmd|' /C calc'!A0",),)),), title="报告"),)
    )
    text = _text(write_docx(doc, tmp_path / "r.docx"))
    assert "=cmd|" in text  # Word has no formulas in text runs; kept as the reader typed it
    body = _xml(tmp_path / "r.docx")
    assert "<w:fldSimple" not in body and "<w:instrText" not in body  # no field a data value could open


def test_a_template_keeps_its_page_setup_and_styles(tmp_path):
    first = Document(
        "报告", "zh", (Part("title", (Section("基本情况", (Paragraph("正文"),)),), title="报告"),)
    )
    template = write_docx(first, tmp_path / "template.docx")
    letterhead = docx.Document(str(template))
    letterhead.sections[0].top_margin = Mm(40)
    letterhead.save(str(template))
    second = Document("第二份", "zh", (Part("title", (Paragraph("新正文"),), title="第二份"),))
    out = write_docx(second, tmp_path / "r.docx", template=template)
    made = docx.Document(str(out))
    assert round(made.sections[0].top_margin.mm) == 40
    assert "正文" not in [p.text for p in made.paragraphs] and "新正文" in [p.text for p in made.paragraphs]
    with pytest.raises(RenderError, match="no such Word template"):
        write_docx(second, tmp_path / "x.docx", template=tmp_path / "missing.docx")


def test_a_figure_becomes_a_picture(tmp_path):
    svg = (
        '<svg xmlns="http://www.w3.org/2000/svg" width="40" height="20"><rect width="40" height="20"/></svg>'
    )
    doc = Document("报告", "zh", (Part("title", (Figure(svg, "一个方块", "方块"),), title="报告"),))
    body = _xml(write_docx(doc, tmp_path / "r.docx"))
    assert 'descr="一个方块"' in body and "<pic:pic" in body


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice is not installed")
def test_libreoffice_converts_the_word_report_to_a_pdf_with_its_headings_and_amounts(fixture_docx, tmp_path):
    profile = tmp_path / "lo-profile"
    subprocess.run(
        [
            "soffice",
            f"-env:UserInstallation={profile.as_uri()}",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(tmp_path),
            str(fixture_docx[0]),
        ],
        capture_output=True,
        timeout=180,
        check=True,
    )
    pdf = tmp_path / "report.pdf"
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    flat = re.sub(r"\s+", "", text)
    for heading in ("一、基本情况", "二、检查依据和方法", "三、发现的主要问题", "四、整改意见汇总"):
        assert heading in flat, heading
    assert "城关区" in flat and "3,000.04" in flat
    assert not re.search(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])", text)

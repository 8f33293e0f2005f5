"""Report renderers: the registry and its formats; HTML without scripts, PDF with Chinese text."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import nbformat
import pytest

from audit import renderers, reports
from audit.cli import main
from audit.document import Paragraph, Part, Section, Table
from audit.exceptions import ParameterError, RenderError
from audit.renderers import pdf as pdf_renderer
from audit.renderers.html import render_html, to_html
from audit.renderers.pdf import chromium_command, render_pdf
from fixtures.report_pages import IMG, SCRIPT
from fixtures.report_pages import frag as _frag
from fixtures.report_pages import ink as _ink
from fixtures.report_pages import notebook as _notebook
from fixtures.report_pages import shown as _shown

# --- the registry ---------------------------------------------------------------------------------


@pytest.fixture
def no_chromium(monkeypatch):
    monkeypatch.setattr(pdf_renderer, "find_chromium", lambda: None)


@pytest.fixture
def plain_text(monkeypatch):
    """A test format ``txt``, rendered from the HTML page: its text without tags."""

    class Text:
        suffix = ".txt"
        needs = ("html",)

        def missing(self):
            return None

        def render(self, request):
            page = request.rendered["html"].read_text(encoding="utf-8")
            title = request.assembled.page_title
            path = request.path(self.suffix)
            path.write_text(f"{title}|{request.lang}|{request.pii}|{re.sub('<[^>]+>', '', page)}", "utf-8")
            return path

    monkeypatch.setattr(renderers.registry, "RENDERERS", dict(renderers.RENDERERS))
    renderers.register("txt")(Text)
    return Text


def test_html_and_pdf_are_registered_and_pdf_is_printed_from_html():
    assert list(renderers.RENDERERS)[:2] == ["html", "pdf"]
    assert renderers.renderer("pdf").needs == ("html",)
    assert renderers.report_files(["html", "pdf"]) == {"html": "report.html", "pdf": "report.pdf"}
    assert renderers.choose(["pdf"]).formats == ("html", "pdf")  # what pdf needs comes first
    assert renderers.choose(["html"]).formats == ("html",)


def test_an_unknown_format_is_a_parameter_error_naming_the_known_ones():
    with pytest.raises(ParameterError, match="unknown report format 'word'; choose from html, pdf") as caught:
        renderers.parse("html,word")
    assert caught.value.exit_code == 2
    with pytest.raises(ParameterError, match="name at least one"):
        renderers.parse(" , ")
    assert renderers.parse("PDF, html,pdf") == ("pdf", "html")


def test_a_format_is_registered_once(plain_text):
    with pytest.raises(ValueError, match="'txt' is registered twice"):
        renderers.register("txt")(plain_text)


def test_without_chromium_the_default_leaves_pdf_out_and_says_why(no_chromium):
    available = renderers.availability()
    assert available["html"] is None
    assert available["pdf"] == "Chromium is not installed (Debian package chromium)"
    choice = renderers.choose()
    assert "pdf" not in choice.formats and "html" in choice.formats
    assert "no pdf report: Chromium is not installed (Debian package chromium)" in choice.notes()
    with pytest.raises(ParameterError, match="--formats pdf: Chromium is not installed"):
        renderers.choose(["pdf"])
    with pytest.raises(RenderError, match="cannot render pdf: Chromium"):
        renderers.check(["html", "pdf"])


def test_a_format_that_needs_a_missing_one_is_left_out_too(no_chromium, monkeypatch, plain_text):
    monkeypatch.setattr(plain_text, "needs", ("pdf",))
    choice = renderers.choose()
    assert "txt" not in choice.formats
    assert choice.skipped["txt"] == "it needs pdf: Chromium is not installed (Debian package chromium)"


def test_a_plugin_gets_the_unit_its_options_and_what_it_needs(tmp_path, plain_text):
    path = tmp_path / "nb.ipynb"
    nbformat.write(_notebook(_shown(_frag("title", "检查报告", title="检查报告 城关区"))), path)
    written = renderers.render(["txt"], [path], tmp_path / "out", lang="en", pii="full")
    assert written == {"html": tmp_path / "out" / "report.html", "txt": tmp_path / "out" / "report.txt"}
    text = written["txt"].read_text(encoding="utf-8")
    assert text.startswith("检查报告 城关区|en|full|") and "<" not in text.split("|", 3)[3]


def test_the_cli_refuses_an_unknown_format_with_exit_2(tmp_path, capsys):
    code = main(
        ["batch", "--store", str(tmp_path), "--params", str(tmp_path / "p.yaml"), "--formats", "html,odt"]
    )
    assert code == 2
    assert "unknown report format 'odt'" in capsys.readouterr().err


def test_no_pdf_is_a_deprecated_spelling_of_formats_without_pdf(tmp_path, capsys):
    from audit.cli import build_parser, command_modules
    from audit.commands import batch as batch_command

    parser = build_parser(command_modules())
    ns = parser.parse_args(["batch", "--store", str(tmp_path), "--params", "p.yaml", "--no-pdf"])
    assert "pdf" not in batch_command.options(ns).formats
    assert "--no-pdf is deprecated; use --formats html" in capsys.readouterr().err
    ns = parser.parse_args(
        ["batch", "--store", str(tmp_path), "--params", "p.yaml", "--no-pdf", "--formats", "pdf"]
    )
    with pytest.raises(ParameterError, match="give --formats alone"):
        batch_command.options(ns)


# --- html and pdf ---------------------------------------------------------------------------------


def test_html_is_chinese_has_no_scripts_no_inputs_and_forbids_scripts():
    title = _frag("title", "检查报告", title="检查报告", page_title="检查报告 城关区")
    nb = _notebook(_shown(title), source="secret_source_code()")
    page = to_html(reports.assemble([nb]), "zh")
    assert '<html lang="zh">' in page
    assert "<title>检查报告 城关区</title>" in page
    assert "<script" not in page.lower()
    assert 'http-equiv="Content-Security-Policy"' in page and "content=\"default-src 'none';" in page
    assert "secret_source_code" not in page  # only the facade's parts, never a cell's source
    english = _notebook(_shown(Part("title", (), title="Report", lang="en")))
    assert '<html lang="en">' in to_html(reports.assemble([english]))
    with pytest.raises(RenderError, match="zh, en"):
        to_html(reports.assemble([nb]), "zh-CN")


def test_render_html_writes_one_whole_file(tmp_path):
    path = tmp_path / "nb.ipynb"
    nbformat.write(_notebook(_shown(_frag("title", "检查报告", title="检查报告"))), path)
    out = render_html([path], tmp_path / "r" / "report.html", lang="zh")
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert [p.name for p in out.parent.iterdir()] == ["report.html"]  # no partial left behind


def _injected_report(tmp_path: Path) -> Path:
    rows = Table(("姓名",), ((SCRIPT,), (IMG,)))
    nb = _notebook(
        _shown(_frag("title", "社会救助检查报告", title="检查报告")),
        _shown(Part("problems", (Section("C " + IMG, (rows,)),))),
    )
    return render_html([nb], tmp_path / "report.html", lang="zh")


@pytest.mark.slow
@pytest.mark.browser
def test_injected_markup_stays_text_in_a_browser(tmp_path):
    html = _injected_report(tmp_path)
    cmd = chromium_command(tmp_path / "profile", "--dump-dom", html.as_uri())
    dom = subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=True).stdout
    assert "<title>检查报告</title>" in dom  # neither payload ran
    assert "<script" not in dom.lower() and '<img src="x"' not in dom
    assert "&lt;script&gt;document.title='pwned-by-script'&lt;/script&gt;" in dom
    assert "&lt;img src=x onerror=\"document.title='pwned-by-img'\"&gt;" in dom


@pytest.mark.slow
@pytest.mark.browser
def test_the_pdf_has_chinese_text_and_a_page_that_is_not_blank(tmp_path):
    pdf = render_pdf(_injected_report(tmp_path), tmp_path / "report.pdf")
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "社会救助检查报告" in text
    assert "<script>" in text  # the payload printed as the text it is
    subprocess.run(
        ["pdftoppm", "-r", "40", "-gray", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "page")], check=True
    )
    assert _ink(next(tmp_path.glob("page*.pgm"))) > 0.002
    assert not list(tmp_path.glob(".report.pdf.partial"))


def test_printing_a_missing_page_fails_with_a_render_error(tmp_path):
    with pytest.raises(RenderError, match="no such report"):
        render_pdf(tmp_path / "nothing.html", tmp_path / "x.pdf")


def test_a_character_no_font_has_stops_the_pdf_naming_it(tmp_path):
    nb = _notebook(_shown(Part("title", (Paragraph("户主 \U000f0000 扎西"),), title="检查报告")))
    html = render_html([nb], tmp_path / "report.html", lang="zh")
    with pytest.raises(RenderError, match=r"no installed font has a glyph for '.' \(U\+F0000\)"):
        render_pdf(html, tmp_path / "report.pdf")
    assert not (tmp_path / "report.pdf").exists()


def test_docx_is_registered_and_takes_the_template_the_parameters_name(tmp_path):
    from audit.renderers.docx import template_of

    assert {"html", "pdf", "docx"} <= set(renderers.RENDERERS)
    assert renderers.renderer("docx").needs == () and renderers.renderer("docx").missing() is None
    params = tmp_path / "p.yaml"
    text = (Path(__file__).resolve().parents[1] / "params" / "lhasa-2020.yaml").read_text(encoding="utf-8")
    params.write_text(text.replace("docx_template: null", "docx_template: letterhead.docx"), "utf-8")
    assert template_of(params) == tmp_path / "letterhead.docx"
    assert template_of(None) is None

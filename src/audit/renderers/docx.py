"""The ``docx`` renderer: the report's content model as a Word file in GB/T 9704-2012 layout.

Built directly from the content model with python-docx (not converted from HTML), so Word,
WPS and LibreOffice open an editable document: A4; margins top 37 mm, bottom 35 mm, left
28 mm, right 26 mm; the title in 方正小标宋简体 22 pt; the body in 仿宋_GB2312 16 pt on a fixed
line pitch (22 lines a page); level-1 headings (一、) in 黑体, level-2 (（一）) in 楷体_GB2312,
level-3 (1.) in 仿宋_GB2312, numbered by Word's own multilevel list (chineseCounting), so a
section moved or deleted renumbers itself; the East Asian font slot (``w:eastAsia``) set on
every style so Chinese text takes these faces whatever the Latin face; the page number as
"— 1 —" in a PAGE field of the footer; table header rows repeated on every page; charts as
PNG pictures with alternative text.

A bureau's own reference template (letterhead, faces, margins) is named in the parameters
file (``report.docx_template``): its styles, page setup, headers and footers are kept and
only its body is replaced. A report written here is itself a valid template.
"""

from __future__ import annotations

import io
import os
from collections.abc import Sequence
from pathlib import Path

from audit.document import Block, Document, Facts, Figure, Paragraph, Section, Table
from audit.exceptions import ParameterError, RenderError
from audit.params import load_params
from audit.renderers.registry import Request, register

PAGE = {"width": 210, "height": 297, "top": 37, "bottom": 35, "left": 28, "right": 26}
"""A4 and the GB/T 9704-2012 margins, in mm."""
TEXT_WIDTH_MM = PAGE["width"] - PAGE["left"] - PAGE["right"]  # 156 mm
LATIN_FONT = "Times New Roman"
FONTS = {
    "title": ("方正小标宋简体", 22.0, False),
    "body": ("仿宋_GB2312", 16.0, False),
    "h1": ("黑体", 16.0, False),
    "h2": ("楷体_GB2312", 16.0, False),
    "h3": ("仿宋_GB2312", 16.0, True),
    "table": ("仿宋_GB2312", 10.5, False),
    "footer": ("宋体", 14.0, False),
}
"""Role -> (East Asian face, size in pt, bold)."""
LINE_PITCH_PT = 28.95
"""225 mm of text block over 22 lines."""
NUM_ID = 901
"""The numbering instance of the heading list (high, to stay clear of a template's own)."""
STYLE_IDS = {"title": "Title", "h1": "Heading1", "h2": "Heading2", "h3": "Heading3"}
APPENDIX_STYLE = "AuditAppendix"
TABLE_STYLE = "AuditTableText"
CAPTION_STYLE = "AuditCaption"


def _oxml():
    # start-up time: python-docx (lxml) loads only when a Word file is written
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    return OxmlElement, qn


def _set_fonts(rpr_parent, east_asia: str, size: float | None = None, bold: bool | None = None) -> None:
    """Set the Latin and East Asian faces (and size, bold) on a style's or run's run properties."""
    OxmlElement, qn = _oxml()
    rpr = rpr_parent.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)
    for attr in ("w:ascii", "w:hAnsi", "w:cs"):
        fonts.set(qn(attr), LATIN_FONT)
    fonts.set(qn("w:eastAsia"), east_asia)
    for theme in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        fonts.attrib.pop(qn(theme), None)
    if size is not None:
        for tag in ("w:sz", "w:szCs"):
            el = rpr.find(qn(tag))
            if el is None:
                el = OxmlElement(tag)
                rpr.append(el)
            el.set(qn("w:val"), str(round(size * 2)))
    if bold is not None:
        el = rpr.find(qn("w:b"))
        if el is None:
            el = OxmlElement("w:b")
            rpr.append(el)
        el.set(qn("w:val"), "1" if bold else "0")


def _numbering(doc, lang: str) -> None:
    """A multilevel list 一、/（一）/1. tied to the heading styles."""
    OxmlElement, qn = _oxml()
    numbering = doc.part.numbering_part.element
    if numbering.find(f"{qn('w:num')}[@{qn('w:numId')}='{NUM_ID}']") is not None:
        return
    abstract = OxmlElement("w:abstractNum")
    abstract.set(qn("w:abstractNumId"), str(NUM_ID))
    multi = OxmlElement("w:multiLevelType")
    multi.set(qn("w:val"), "multilevel")
    abstract.append(multi)
    formats = (
        (("chineseCounting", "%1、"), ("chineseCounting", "（%2）"), ("decimal", "%3."))
        if lang == "zh"
        else (("decimal", "%1."), ("decimal", "(%2)"), ("decimal", "%3)"))
    )
    for level, ((fmt, text), style) in enumerate(
        zip(formats, ("Heading1", "Heading2", "Heading3"), strict=True)
    ):
        lvl = OxmlElement("w:lvl")
        lvl.set(qn("w:ilvl"), str(level))
        for tag, value in (
            ("w:start", "1"),
            ("w:numFmt", fmt),
            ("w:pStyle", style),
            ("w:suff", "nothing"),
            ("w:lvlText", text),
            ("w:lvlJc", "left"),
        ):
            el = OxmlElement(tag)
            el.set(qn("w:val"), value)
            lvl.append(el)
        ppr = OxmlElement("w:pPr")
        ind = OxmlElement("w:ind")
        ind.set(qn("w:left"), "0")
        ind.set(qn("w:firstLine"), "640")  # two characters of 16 pt
        ppr.append(ind)
        lvl.append(ppr)
        abstract.append(lvl)
    # abstractNum elements must precede num elements
    first_num = numbering.find(qn("w:num"))
    if first_num is not None:
        first_num.addprevious(abstract)
    else:
        numbering.append(abstract)
    num = OxmlElement("w:num")
    num.set(qn("w:numId"), str(NUM_ID))
    ref = OxmlElement("w:abstractNumId")
    ref.set(qn("w:val"), str(NUM_ID))
    num.append(ref)
    numbering.append(num)
    for level, style_id in enumerate(("Heading1", "Heading2", "Heading3")):
        style = _style_by_id(doc, style_id)
        if style is None:
            continue
        ppr = style.element.get_or_add_pPr()
        old = ppr.find(qn("w:numPr"))
        if old is not None:
            ppr.remove(old)
        numpr = OxmlElement("w:numPr")
        for tag, value in (("w:ilvl", str(level)), ("w:numId", str(NUM_ID))):
            el = OxmlElement(tag)
            el.set(qn("w:val"), value)
            numpr.append(el)
        ppr.insert(0, numpr)


def _style_by_id(doc, style_id: str):
    for style in doc.styles:
        if style.style_id == style_id:
            return style
    return None


def _gb_styles(doc) -> None:
    """The package's GB/T 9704-2012 styles (a user's template keeps its own)."""
    # start-up time: python-docx (lxml) loads only when a Word file is written
    from docx.enum.style import WD_STYLE_TYPE
    from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
    from docx.shared import Pt, RGBColor

    OxmlElement, qn = _oxml()
    styles = doc.styles
    normal = styles["Normal"]
    _set_fonts(normal.element, *FONTS["body"][:2], bold=False)
    pf = normal.paragraph_format
    pf.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    pf.line_spacing = Pt(LINE_PITCH_PT)
    pf.space_before = pf.space_after = Pt(0)
    pf.first_line_indent = Pt(32)
    pf.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
    for role, style_id in STYLE_IDS.items():
        style = _style_by_id(doc, style_id)
        if style is None:
            continue
        face, size, bold = FONTS[role]
        _set_fonts(style.element, face, size, bold)
        style.font.italic = False
        style.font.color.rgb = RGBColor(0, 0, 0)
        spf = style.paragraph_format
        spf.space_before = spf.space_after = Pt(0)
        spf.line_spacing_rule = WD_LINE_SPACING.EXACTLY
        spf.line_spacing = Pt(LINE_PITCH_PT if role != "title" else 36)
        spf.keep_with_next = True
        if role == "title":
            spf.alignment = WD_ALIGN_PARAGRAPH.CENTER
            spf.first_line_indent = Pt(0)
            spf.space_after = Pt(LINE_PITCH_PT)
            ppr = style.element.get_or_add_pPr()
            border = ppr.find(qn("w:pBdr"))
            if border is not None:
                ppr.remove(border)  # the default template underlines its Title
        else:
            spf.first_line_indent = Pt(32)
    for name, face, size, bold in (
        (APPENDIX_STYLE, *FONTS["h1"]),
        (TABLE_STYLE, *FONTS["table"]),
        (CAPTION_STYLE, FONTS["h2"][0], 12.0, False),
    ):
        if name in [s.name for s in styles]:
            continue
        style = styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
        style.base_style = normal
        _set_fonts(style.element, face, size, bold)
        spf = style.paragraph_format
        spf.first_line_indent = Pt(0)
        if name == APPENDIX_STYLE:
            spf.keep_with_next = True
            spf.page_break_before = True
            spf.line_spacing = Pt(LINE_PITCH_PT)
            ppr = style.element.get_or_add_pPr()
            outline = OxmlElement("w:outlineLvl")
            outline.set(qn("w:val"), "0")
            ppr.append(outline)
        else:
            spf.line_spacing_rule = WD_LINE_SPACING.SINGLE
            spf.alignment = WD_ALIGN_PARAGRAPH.CENTER if name == CAPTION_STYLE else WD_ALIGN_PARAGRAPH.LEFT
    # every style names its East Asian face: a style without one would fall back to the theme's
    body_face = FONTS["body"][0]
    for style in styles:
        element = style.element
        if style.type not in (WD_STYLE_TYPE.PARAGRAPH, WD_STYLE_TYPE.CHARACTER, WD_STYLE_TYPE.TABLE):
            continue
        rpr = element.find(qn("w:rPr"))
        fonts = rpr.find(qn("w:rFonts")) if rpr is not None else None
        if fonts is None or fonts.get(qn("w:eastAsia")) is None:
            _set_fonts(element, body_face)
    defaults = doc.styles.element.find(qn("w:docDefaults"))
    if defaults is not None:
        rpr_default = defaults.find(qn("w:rPrDefault"))
        rpr = rpr_default.find(qn("w:rPr")) if rpr_default is not None else None
        if rpr is not None:
            fonts = rpr.find(qn("w:rFonts"))
            if fonts is None:
                fonts = OxmlElement("w:rFonts")
                rpr.insert(0, fonts)
            for theme in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
                fonts.attrib.pop(qn(theme), None)
            fonts.set(qn("w:ascii"), LATIN_FONT)
            fonts.set(qn("w:hAnsi"), LATIN_FONT)
            fonts.set(qn("w:eastAsia"), body_face)


def _page(doc) -> None:
    # start-up time: python-docx (lxml) loads only when a Word file is written
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Mm

    OxmlElement, qn = _oxml()
    for section in doc.sections:
        section.page_width, section.page_height = Mm(PAGE["width"]), Mm(PAGE["height"])
        section.top_margin, section.bottom_margin = Mm(PAGE["top"]), Mm(PAGE["bottom"])
        section.left_margin, section.right_margin = Mm(PAGE["left"]), Mm(PAGE["right"])
        section.footer_distance = Mm(28 - 7)  # the page number 7 mm below the text block
        footer = section.footer
        footer.is_linked_to_previous = False
        para = footer.paragraphs[0] if footer.paragraphs else footer.add_paragraph()
        para.text = ""
        para.alignment = WD_ALIGN_PARAGRAPH.CENTER
        para.paragraph_format.first_line_indent = Mm(0)
        face, size, _ = FONTS["footer"]
        for text in ("— ", None, " —"):
            run = para.add_run()
            _set_fonts(run._r, face, size)
            if text is not None:
                run.text = text
                continue
            for kind, instr in (
                ("begin", None),
                (None, " PAGE "),
                ("separate", None),
                (None, "1"),
                ("end", None),
            ):
                if kind is not None:
                    el = OxmlElement("w:fldChar")
                    el.set(qn("w:fldCharType"), kind)
                    run._r.append(el)
                elif instr == " PAGE ":
                    el = OxmlElement("w:instrText")
                    el.set(qn("xml:space"), "preserve")
                    el.text = instr
                    run._r.append(el)
                else:
                    el = OxmlElement("w:t")
                    el.text = instr
                    run._r.append(el)


def _clear_body(doc) -> None:
    """Drop a template's body text, keeping its last section's page setup."""
    _, qn = _oxml()
    body = doc.element.body
    for child in list(body):
        if child.tag != qn("w:sectPr"):
            body.remove(child)


class _Writer:
    """Appends the model's blocks to the document body as WordprocessingML, style by style id.

    Paragraphs and tables are built as XML directly: python-docx looks a style up by name
    through every style of the package on each assignment (about 10 ms a cell).
    """

    def __init__(self, doc, lang: str) -> None:
        OxmlElement, qn = _oxml()
        self.doc = doc
        self.lang = lang
        self.E, self.qn = OxmlElement, qn
        self.ids = {s.name: s.style_id for s in doc.styles}
        self.body = doc.element.body
        self.end = self.body.find(qn("w:sectPr"))

    def style_id(self, name: str, fallback: str = "Normal") -> str:
        return self.ids.get(name, self.ids.get(fallback, "Normal"))

    def _append(self, element) -> None:
        if self.end is not None:
            self.end.addprevious(element)
        else:
            self.body.append(element)

    def _el(self, tag: str, parent=None, **attrs: str):
        el = self.E(tag)
        for key, value in attrs.items():
            el.set(self.qn(f"w:{key}"), value)
        if parent is not None:
            parent.append(el)
        return el

    def _p(self, style_id: str, *, align: str | None = None, indent: int | None = None, keep: bool = False):
        p = self.E("w:p")
        ppr = self._el("w:pPr", p)
        self._el("w:pStyle", ppr, val=style_id)
        if keep:
            self._el("w:keepNext", ppr)
        if indent is not None:
            self._el("w:ind", ppr, firstLine=str(indent), firstLineChars="0")
        if align is not None:
            self._el("w:jc", ppr, val=align)
        return p

    def _r(
        self,
        p,
        text: str,
        *,
        bold: bool = False,
        east_asia: str | None = None,
        size: float | None = None,
        color: str | None = None,
    ) -> None:
        r = self._el("w:r", p)
        if bold or east_asia or size or color:
            rpr = self._el("w:rPr", r)
            if east_asia:
                self._el("w:rFonts", rpr, ascii=LATIN_FONT, hAnsi=LATIN_FONT, eastAsia=east_asia)
            if bold:
                self._el("w:b", rpr)
            if color:
                self._el("w:color", rpr, val=color)
            if size:
                self._el("w:sz", rpr, val=str(int(size * 2)))
                self._el("w:szCs", rpr, val=str(int(size * 2)))
        t = self._el("w:t", r)
        t.set(self.qn("xml:space"), "preserve")
        t.text = text

    def text(self, text: str, style: str) -> None:
        p = self._p(self.style_id(style))
        self._r(p, text)
        self._append(p)

    def blocks(self, blocks: Sequence[Block]) -> None:
        for block in blocks:
            if isinstance(block, Paragraph):
                self.paragraph(block)
            elif isinstance(block, Table):
                self.table(block)
            elif isinstance(block, Facts):
                self.facts(block)
            elif isinstance(block, Figure):
                self.figure(block)
            elif isinstance(block, Section):
                if block.numbered:
                    self.text(block.title, f"Heading {block.level}")
                else:
                    self.text(block.title, APPENDIX_STYLE if APPENDIX_STYLE in self.ids else "Heading 1")
                self.blocks(block.blocks)

    def paragraph(self, block: Paragraph) -> None:
        indent = {"note": 0, "banner": 0, "item": None}.get(block.style)
        p = self._p(self.style_id("Normal"), indent=indent)
        if block.label:
            self._r(p, block.label, east_asia=FONTS["h1"][0])
        self._r(
            p,
            block.text,
            size=12.0 if block.style == "note" else None,
            bold=block.style == "banner",
            color="AA0000" if block.style == "banner" else None,
        )
        self._append(p)

    def facts(self, block: Facts) -> None:
        colon = "：" if self.lang == "zh" else ": "
        for key, value in block.items:
            p = self._p(self.style_id("Normal"), align="center", indent=0)
            self._r(p, f"{key}{colon}{value}", east_asia=FONTS["h2"][0])
            self._append(p)

    def table(self, block: Table) -> None:
        if block.caption:
            self.text(block.caption, CAPTION_STYLE if CAPTION_STYLE in self.ids else "Normal")
        widths = block.widths or tuple(1.0 for _ in block.columns)
        total = sum(widths) or 1.0
        twips = [int(TEXT_WIDTH_MM * w / total * 1440 / 25.4) for w in widths]
        numeric = block.numeric or tuple(False for _ in block.columns)
        tbl = self.E("w:tbl")
        tblpr = self._el("w:tblPr", tbl)
        if "Table Grid" in self.ids:
            self._el("w:tblStyle", tblpr, val=self.ids["Table Grid"])
        self._el("w:tblW", tblpr, w=str(sum(twips)), type="dxa")
        self._el("w:tblLayout", tblpr, type="fixed")
        borders = self._el("w:tblBorders", tblpr)
        for side in ("top", "left", "bottom", "right", "insideH", "insideV"):
            self._el(f"w:{side}", borders, val="single", sz="4", space="0", color="000000")
        self._el(
            "w:tblLook",
            tblpr,
            val="04A0",
            firstRow="1",
            lastRow="0",
            firstColumn="0",
            lastColumn="0",
            noHBand="0",
            noVBand="1",
        )
        grid = self._el("w:tblGrid", tbl)
        for w in twips:
            self._el("w:gridCol", grid, w=str(w))
        style_id = self.style_id(TABLE_STYLE)
        self._row(tbl, block.columns, numeric, twips, style_id, header=True)
        for values in block.rows:
            self._row(tbl, values, numeric, twips, style_id)
        self._append(tbl)

    def _row(self, tbl, values, numeric, twips, style_id: str, *, header: bool = False) -> None:
        tr = self._el("w:tr", tbl)
        trpr = self._el("w:trPr", tr)
        self._el("w:cantSplit", trpr)
        if header:
            self._el("w:tblHeader", trpr)  # repeated at the top of every page the table runs onto
        for value, num, width in zip(values, numeric, twips, strict=True):
            tc = self._el("w:tc", tr)
            tcpr = self._el("w:tcPr", tc)
            self._el("w:tcW", tcpr, w=str(width), type="dxa")
            p = self._p(style_id, align="right" if num else None)
            self._r(p, str(value), bold=header)
            tc.append(p)

    def figure(self, block: Figure) -> None:
        # start-up time: python-docx (lxml) loads only when a Word file is written
        from docx.shared import Mm
        from docx.text.paragraph import Paragraph as DocxParagraph

        p = self._p(self.style_id("Normal"), align="center", indent=0)
        self._append(p)

        para = DocxParagraph(p, self.doc._body)
        para.paragraph_format.line_spacing = 1.0
        shape = para.add_run().add_picture(io.BytesIO(_png(block.svg)), width=Mm(TEXT_WIDTH_MM - 6))
        doc_pr = shape._inline.docPr
        doc_pr.set("descr", block.alt)  # the alternative text Word and screen readers show
        doc_pr.set("title", block.caption or block.alt)
        if block.caption:
            self.text(block.caption, CAPTION_STYLE if CAPTION_STYLE in self.ids else "Normal")


def _png(svg: str) -> bytes:
    """A chart's SVG as PNG (Word and WPS read PNG everywhere; SVG only in recent Word)."""
    try:
        # optional at run time: cairosvg needs the system's cairo library
        import cairosvg
    except (ImportError, OSError) as exc:  # cairosvg needs the cairo library
        raise RenderError(f"cannot draw a chart for the Word report: {exc}; install libcairo2") from None
    return cairosvg.svg2png(bytestring=svg.encode("utf-8"), scale=2.0)


def build(doc_model: Document, *, template: str | Path | None = None):
    """The python-docx Document of a report (in memory)."""
    # start-up time: python-docx (lxml) loads only when a Word file is written
    import docx

    if template is not None:
        template = Path(template)
        if not template.is_file():
            raise RenderError(
                f"{template}: no such Word template (report.docx_template in the parameters file)"
            )
        try:
            doc = docx.Document(str(template))
        except Exception as exc:
            raise RenderError(f"{template}: not a Word (.docx) file: {exc}") from None
        _clear_body(doc)
        styles = {s.name for s in doc.styles}
        for name in (APPENDIX_STYLE, TABLE_STYLE, CAPTION_STYLE):
            if name not in styles:
                _gb_styles(doc)  # a template from elsewhere lacks our own styles
                break
    else:
        doc = docx.Document()
        _gb_styles(doc)
        _page(doc)
    _numbering(doc, doc_model.lang)
    props = doc.core_properties
    props.title = doc_model.page_title or doc_model.title
    props.language = "zh-CN" if doc_model.lang == "zh" else "en"
    props.author = props.last_modified_by = "audit"
    writer = _Writer(doc, doc_model.lang)
    writer.text(doc_model.title, "Title")
    for part in doc_model.parts:
        writer.blocks(part.blocks)
    return doc


def write_docx(doc_model: Document, path: Path, *, template: str | Path | None = None) -> Path:
    """Write the report as a Word file at ``path`` (whole, or not at all)."""
    doc = build(doc_model, template=template)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    doc.save(str(partial))
    os.replace(partial, path)
    return path


def template_of(params_file: Path | None) -> Path | None:
    """The Word template the parameters file names (relative to that file), or None."""
    if params_file is None:
        return None
    named = load_params(params_file).report.docx_template
    if not named:
        return None
    path = Path(named)
    return path if path.is_absolute() else Path(params_file).parent / path


@register("docx")
class Docx:
    """The Word file inspectors edit and circulate (GB/T 9704-2012 layout)."""

    name = "docx"
    suffix = ".docx"
    needs: tuple[str, ...] = ()
    lacking = "cairo is not installed (Debian package libcairo2), needed to draw the charts"

    def missing(self) -> str | None:
        """cairo, when cairosvg cannot load it."""
        try:
            import cairosvg  # noqa: F401  (loads libcairo)
        except (ImportError, OSError):
            return self.lacking
        return None

    def render(self, request: Request) -> Path:
        """Write ``report.docx`` from the assembled report document."""
        try:
            template = template_of(request.params)
        except ParameterError as exc:
            raise RenderError(str(exc)) from None
        return write_docx(request.assembled, request.path(self.suffix), template=template)

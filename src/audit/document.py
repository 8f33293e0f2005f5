"""The report's content model: sections, paragraphs, tables, figures and notes, as plain text.

A report is built once (:mod:`audit.chapters`, called through :mod:`audit.inspection`) as a
tree of these blocks, and every format renderer (:mod:`audit.renderers`) reads the same tree.
Blocks hold text a reader sees, already masked and formatted: no markup, no JSON, no field
names. A renderer escapes that text for its own format (HTML entities, Word runs), so data can
never become markup in any of them.

The tree travels inside the executed notebooks: each facade call displays a :class:`Part`
whose MIME bundle carries the part as JSON under :data:`MIME_TYPE` (and an HTML view for
JupyterLab), with its place in the report in the output's metadata. :func:`from_json` reads it
back.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Union

MIME_TYPE = "application/vnd.audit.report+json"
"""MIME type of a report part in a notebook output."""

METADATA_KEY = "audit"
"""Key of the output metadata that holds a part's place in the report."""

PARTS: tuple[str, ...] = (
    "title",
    "overview",
    "basics",
    "method",
    "problems",
    "recommendations",
    "reports",
    "findings",
    "quality",
    "sample",
    "provenance",
)
"""Parts of a report in reading order. ``overview`` is the city roll-up's summary; ``reports``
onwards are attachments (附件): the city's links to the county reports, the county's findings list."""

APPENDIX_PARTS: tuple[str, ...] = ("reports", "findings", "quality", "sample", "provenance")
"""Parts printed as attachments after the body."""

PARAGRAPH_STYLES: tuple[str, ...] = ("body", "note", "banner", "item", "label")


@dataclass(frozen=True)
class Paragraph:
    """A paragraph of text. ``label`` is a bold lead-in (依据：, 整改建议：) before the text."""

    text: str
    style: str = "body"
    label: str = ""

    def __post_init__(self) -> None:
        if self.style not in PARAGRAPH_STYLES:
            raise ValueError(
                f"unknown paragraph style {self.style!r}; allowed: {', '.join(PARAGRAPH_STYLES)}"
            )


@dataclass(frozen=True)
class Table:
    """A table of text cells. ``numeric`` marks right-aligned columns; ``widths`` are relative."""

    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    numeric: tuple[bool, ...] = ()
    widths: tuple[float, ...] = ()
    caption: str = ""
    links: tuple[tuple[str, ...], ...] = ()
    """Per row and column, a relative link target or ``""`` (the city's county reports)."""

    def __post_init__(self) -> None:
        n = len(self.columns)
        if any(len(r) != n for r in self.rows):
            raise ValueError(f"table {self.caption!r}: every row must have {n} cells")
        for name, values in (("numeric", self.numeric), ("widths", self.widths)):
            if values and len(values) != n:
                raise ValueError(f"table {self.caption!r}: {name} must give one value per column")


@dataclass(frozen=True)
class Facts:
    """Labelled facts in two columns (the title block)."""

    items: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Figure:
    """A chart: SVG text drawn from the data, its alternative text and caption."""

    svg: str
    alt: str
    caption: str = ""


@dataclass(frozen=True)
class Section:
    """A heading and what follows it. Level 1 is 一、, level 2 （一）, level 3 1.; numbered unless told."""

    title: str
    blocks: tuple[Block, ...] = ()
    level: int = 1
    numbered: bool = True

    def __post_init__(self) -> None:
        if not 1 <= self.level <= 3:
            raise ValueError(f"section {self.title!r}: level {self.level} is not 1..3")


Block = Union[Paragraph, Table, Facts, Figure, Section]  # noqa: UP007 (a runtime alias)


@dataclass(frozen=True)
class Part:
    """A piece of a report a facade call returns: its blocks and its place (part, area, order)."""

    part: str
    blocks: tuple[Block, ...]
    area: str | None = None
    title: str = ""
    lang: str = "zh"
    meta: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.part not in PARTS:
            raise ValueError(f"unknown report part {self.part!r}; allowed: {', '.join(PARTS)}")

    def metadata(self) -> dict[str, Any]:
        """The output metadata that tells the report assembler where this part goes."""
        return {METADATA_KEY: {"section": self.part, "area": self.area, "title": self.title, **self.meta}}

    def to_json(self) -> dict[str, Any]:
        """The part as JSON-ready data (what a notebook output carries)."""
        return {
            "part": self.part,
            "area": self.area,
            "title": self.title,
            "lang": self.lang,
            "blocks": [_block_json(b) for b in self.blocks],
        }

    @property
    def html(self) -> str:
        """The part as an HTML fragment (what JupyterLab shows)."""
        # cycle: the HTML renderer imports this content model
        from audit.renderers.html import part_html

        return part_html(self)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> tuple[dict, dict]:
        data = {MIME_TYPE: self.to_json(), "text/html": self.html, "text/plain": f"[{self.part}]"}
        return data, self.metadata()


@dataclass(frozen=True)
class Document:
    """A whole report: its title, language and parts in reading order."""

    title: str
    lang: str
    parts: tuple[Part, ...]
    page_title: str = ""

    def body(self) -> tuple[Part, ...]:
        """The parts before the attachments."""
        return tuple(p for p in self.parts if p.part not in APPENDIX_PARTS)

    def appendices(self) -> tuple[Part, ...]:
        """The attachments (附件), in order."""
        return tuple(p for p in self.parts if p.part in APPENDIX_PARTS)

    def texts(self) -> list[str]:
        """Every text a reader sees, in reading order (for checks: glyphs, leaks, markup)."""
        out = [self.title]
        for part in self.parts:
            out.extend(_texts(part.blocks))
        return out


def _texts(blocks: Sequence[Block]) -> list[str]:
    out: list[str] = []
    for block in blocks:
        if isinstance(block, Paragraph):
            out += [block.label, block.text]
        elif isinstance(block, Table):
            out += [block.caption, *block.columns, *(c for r in block.rows for c in r)]
        elif isinstance(block, Facts):
            out += [t for item in block.items for t in item]
        elif isinstance(block, Figure):
            out += [block.alt, block.caption]
        elif isinstance(block, Section):
            out += [block.title, *_texts(block.blocks)]
    return [t for t in out if t]


def _block_json(block: Block) -> dict[str, Any]:
    if isinstance(block, Paragraph):
        return {"type": "paragraph", "text": block.text, "style": block.style, "label": block.label}
    if isinstance(block, Table):
        return {
            "type": "table",
            "columns": list(block.columns),
            "rows": [list(r) for r in block.rows],
            "numeric": list(block.numeric),
            "widths": list(block.widths),
            "caption": block.caption,
            "links": [list(r) for r in block.links],
        }
    if isinstance(block, Facts):
        return {"type": "facts", "items": [list(i) for i in block.items]}
    if isinstance(block, Figure):
        return {"type": "figure", "svg": block.svg, "alt": block.alt, "caption": block.caption}
    if isinstance(block, Section):
        return {
            "type": "section",
            "title": block.title,
            "level": block.level,
            "numbered": block.numbered,
            "blocks": [_block_json(b) for b in block.blocks],
        }
    raise TypeError(f"not a report block: {type(block).__name__}")


def _block(data: Mapping[str, Any]) -> Block:
    kind = data.get("type")
    if kind == "paragraph":
        return Paragraph(str(data["text"]), str(data.get("style", "body")), str(data.get("label", "")))
    if kind == "table":
        return Table(
            tuple(map(str, data["columns"])),
            tuple(tuple(map(str, r)) for r in data["rows"]),
            tuple(bool(v) for v in data.get("numeric", ())),
            tuple(float(v) for v in data.get("widths", ())),
            str(data.get("caption", "")),
            tuple(tuple(map(str, r)) for r in data.get("links", ())),
        )
    if kind == "facts":
        return Facts(tuple((str(k), str(v)) for k, v in data["items"]))
    if kind == "figure":
        return Figure(str(data["svg"]), str(data["alt"]), str(data.get("caption", "")))
    if kind == "section":
        return Section(
            str(data["title"]),
            tuple(_block(b) for b in data.get("blocks", ())),
            int(data.get("level", 1)),
            bool(data.get("numbered", True)),
        )
    raise ValueError(f"unknown report block type {kind!r}")


def from_json(data: Mapping[str, Any], meta: Mapping[str, Any] | None = None) -> Part:
    """A part read back from a notebook output's JSON (and its metadata)."""
    extra = {
        k: str(v) for k, v in (meta or {}).items() if k not in ("section", "area", "title") and v is not None
    }
    return Part(
        str(data["part"]),
        tuple(_block(b) for b in data.get("blocks", ())),
        data.get("area"),
        str(data.get("title", "")),
        str(data.get("lang", "zh")),
        extra,
    )


_ZH_DIGITS = "零一二三四五六七八九"


def zh_number(n: int) -> str:
    """``n`` (1..99) in Chinese numerals: 一, 十, 十一, 二十三."""
    if not 1 <= n <= 99:
        return str(n)
    tens, ones = divmod(n, 10)
    head = "" if tens == 0 else ("十" if tens == 1 else _ZH_DIGITS[tens] + "十")
    return head + (_ZH_DIGITS[ones] if ones else "")


def heading_number(level: int, n: int, lang: str) -> str:
    """The numbering before a heading: 一、 （一） 1. in Chinese; 1. (1) 1) in English."""
    if lang == "zh":
        return (f"{zh_number(n)}、", f"（{zh_number(n)}）", f"{n}. ")[level - 1]
    return (f"{n}. ", f"({n}) ", f"{n}) ")[level - 1]

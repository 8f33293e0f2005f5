"""Glyph coverage: the characters of a report that no installed font can draw."""

from __future__ import annotations

from audit import fonts


def test_chinese_latin_and_digits_are_drawn():
    assert fonts.missing_glyphs(["社会救助检查报告 Inspection 2020-04-15 1,624.00 元（一）—"]) == []


def test_a_character_no_font_has_is_named_once_whitespace_is_not():
    text = ["扎西\U000f0001次仁\U000f0000", "\U000f0000\u3000\t\n"]
    assert fonts.missing_glyphs(text) == ["\U000f0000", "\U000f0001"]
    assert fonts.describe(["\U000f0000"]) == "'\U000f0000' (U+F0000)"

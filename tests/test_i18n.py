"""Report labels: both languages, the same format fields, strict about the language."""

from __future__ import annotations

import string

import pytest

from audit import i18n


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_label_has_chinese_and_english_with_the_same_fields():
    for key in i18n.label_keys():
        zh, en = i18n.label(key, "zh"), i18n.label(key, "en")
        assert zh.strip() and en.strip(), key
        assert _fields(zh) == _fields(en), key


def test_chinese_labels_are_chinese_and_english_ones_are_not():
    assert i18n.label("summary.heading", "zh") == "摘要"
    assert i18n.label("summary.heading", "en") == "Summary"
    assert "检查报告" in i18n.label("report.title", "zh")
    assert not any("\u4e00" <= ch <= "\u9fff" for key in i18n.label_keys() for ch in i18n.label(key, "en"))


def test_fields_are_filled_in():
    assert i18n.label("sample.seed", "en", seed=42).startswith("Seed: 42 ")
    assert i18n.label("area.truncated", "zh", shown=200, total=350).startswith("仅显示前 200 条，共 350 条")


def test_an_unknown_language_or_key_is_refused():
    with pytest.raises(ValueError, match="zh, en"):
        i18n.label("summary.heading", "zh-CN")
    with pytest.raises(KeyError, match="no label"):
        i18n.label("summary.nothing", "zh")
    assert i18n.has_label("summary.heading") and not i18n.has_label("summary.nothing")


def test_every_severity_status_action_and_area_has_a_label():
    for key in ("high", "medium", "low", "info"):
        assert i18n.has_label(f"severity.{key}")
    for key in ("fired", "clean", "not_run"):
        assert i18n.has_label(f"status.{key}")
    for key in ("quarantined", "repaired", "flagged"):
        assert i18n.has_label(f"action.{key}")
    for key in ("C", "S", "F"):
        assert i18n.has_label(f"area.{key}")

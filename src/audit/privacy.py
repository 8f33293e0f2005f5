"""Masking of personal data in everything a reviewer reads.

Reports are masked by default (``pii="masked"``); only the restricted findings register
written by :mod:`audit.findings` keeps full values. The forms:

- resident ID numbers keep the first 6 and last 4 characters: ``540102********1234``;
- bank accounts keep the last 4 digits: ``************1234``;
- names keep their first character and star the rest, one star a character up to three
  (so a long name's length does not show either): ``张*``, ``张三丰`` -> ``张**``.
  Tibetan names (扎西次仁) have no family name and are built from a small pool of common
  parts; keeping the first part (扎西) would keep half the name, so they get the same rule
  as Chinese names and become ``扎***``: one syllable shared by thousands identifies no one.

What is personal is known by name: columns and evidence keys such as ``person_id``,
``id_number``, ``bank_account`` and ``name``, and findings about a person or an account.
Every value found there is also masked wherever else it appears in the same frame
(descriptions, other evidence). Free text is scanned for ID numbers too (18 characters with
a real birth date in them). It is not scanned for "long digit runs": payment and household
numbers are digit runs as long as bank accounts, and the reviewer needs them to find a row.
Error texts (a failed notebook's traceback) are: they quote whatever row a cell choked on,
so every digit run of an account's length is masked, and the names of the people in the
data the job read (:class:`Names`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Literal

import pandas as pd

from audit.datacontract import TABLES, Kind

PiiMode = Literal["masked", "full"]
PII_MODES: tuple[str, ...] = ("masked", "full")
_MAX_NAME_STARS = 3

# An ID number in text: area code, a birth date of 19xx or 20xx, sequence, check character;
# not glued to other letters or digits (a longer digit run is some other key).
_ID_IN_TEXT = re.compile(
    r"(?<![0-9A-Za-z])\d{6}(?:19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dXx](?![0-9A-Za-z])"
)

_ID_KEYS = frozenset(c.name for t in TABLES.values() for c in t.columns if c.kind is Kind.ID_NUMBER) | {
    "id_number",
    "person_id",
    "id_numbers",
    "person_ids",
    "身份证号",
}
_ACCOUNT_KEYS = frozenset(c.name for t in TABLES.values() for c in t.columns if c.kind is Kind.ACCOUNT) | {
    "bank_account",
    "account",
    "accounts",
    "bank_accounts",
    "银行账号",
}
# Only people's names: contractor_name and employer are organisations.
_NAME_KEYS = frozenset({"name", "names", "staff_name", "person_name", "beneficiary_name", "姓名"})
PEOPLE_TABLES = frozenset({"staff", "beneficiaries"})
"""The tables whose ``name`` column holds people's names (elsewhere a name is a place's)."""
_PERSONAL_ENTITIES = {"person": "id", "account": "account"}


def mask_id_number(value: str) -> str:
    """``540102199001011234`` -> ``540102********1234``; short values keep at most their last 4."""
    value = str(value).strip()
    n = len(value)
    if n > 10:
        return value[:6] + "*" * (n - 10) + value[-4:]
    return _keep_last_four(value)


def mask_account(value: str) -> str:
    """``6217000000001234`` -> ``************1234``."""
    return _keep_last_four(str(value).strip())


def mask_name(value: str) -> str:
    """``张三丰`` -> ``张**``, ``扎西次仁`` -> ``扎***``; a one-character name becomes ``*``."""
    value = str(value).strip()
    if len(value) <= 1:
        return "*" * len(value)
    return value[0] + "*" * min(len(value) - 1, _MAX_NAME_STARS)


def _keep_last_four(value: str) -> str:
    if len(value) <= 4:
        return "*" * len(value)
    return "*" * (len(value) - 4) + value[-4:]


_MASKERS: dict[str, Callable[[str], str]] = {"id": mask_id_number, "account": mask_account, "name": mask_name}


def _kind_of_key(key: str) -> str | None:
    if key in _NAME_KEYS:
        return "name"
    if key in _ID_KEYS:
        return "id"
    if key in _ACCOUNT_KEYS:
        return "account"
    return None


class _Known:
    """Personal values seen so far, with their masked forms, to mask wherever else they appear."""

    def __init__(self) -> None:
        self.masked: dict[str, str] = {}
        self._pattern: re.Pattern[str] | None = None  # every known value, longest first; None: stale

    def add(self, value: object, kind: str) -> str:
        text = str(value).strip()
        masked = _MASKERS[kind](text)
        if len(text) > 1 and self.masked.get(text) != masked:  # one character would mask it everywhere
            self.masked[text] = masked
            self._pattern = None
        return masked

    def collect(self, value: Any, kind: str | None) -> None:
        """Walk parsed evidence and remember every value under a personal key."""
        if isinstance(value, dict):
            for key, item in value.items():
                self.collect(item, _kind_of_key(str(key)))
        elif isinstance(value, list):
            for item in value:
                self.collect(item, kind)
        elif kind is not None and value is not None and not isinstance(value, bool | float):
            self.add(value, kind)

    def text(self, text: str) -> str:
        """``text`` with known values (the longest where they overlap) and ID-shaped numbers masked."""
        if self.masked:
            if self._pattern is None:
                # one pass over the text for all values: a log of 80 k entries meets thousands of names
                values = sorted(self.masked, key=lambda v: (-len(v), v))
                self._pattern = re.compile("|".join(map(re.escape, values)))
            text = self._pattern.sub(lambda m: self.masked[m.group()], text)
        return _ID_IN_TEXT.sub(lambda m: mask_id_number(m.group()), text)


def mask_text(text: str, known: Mapping[str, str] | None = None) -> str:
    """Mask ID numbers in ``text``, and each of ``known`` (value -> masked form) where it appears."""
    table = _Known()
    table.masked.update(known or {})
    return table.text(str(text))


def _mask_json(value: Any, kind: str | None, known: _Known) -> Any:
    if isinstance(value, dict):
        masked: dict[Any, Any] = {}
        for k, v in value.items():
            # a key may be a personal value itself (F18's persons by ID number): masked as text
            key = known.text(k) if isinstance(k, str) else k
            while key in masked and key != k:  # two IDs masked alike: both kept, told apart
                key = f"{key}'"
            masked[key] = _mask_json(v, _kind_of_key(str(k)), known)
        return masked
    if isinstance(value, list):
        return [_mask_json(v, kind, known) for v in value]
    if value is None or isinstance(value, bool | float):
        return value
    if kind is not None:
        return known.add(value, kind)  # an ID that lost its quotes (an int) is still personal
    if isinstance(value, str):
        return known.text(value)
    return value


_LONG_NUMBER = re.compile(r"(?<!\d)\d{12,}(?!\d)")


def mask_diagnostic(text: str, names: Names | None = None) -> str:
    """Error text (a traceback, a failure's reason) with ID numbers, long digit runs and names masked.

    The values a failing cell names are not known in advance: any run of 12 or more digits is
    taken for an account. Names cannot be told from other words, so only ``names`` (the people
    of the data the job read) are masked, wherever they appear.
    """
    text = _LONG_NUMBER.sub(lambda m: mask_account(m.group()), mask_text(text))
    return names.mask(text) if names is not None else text


class Names:
    """People's names to mask in free text, found without a pattern of thousands of alternatives.

    Chinese and Tibetan names are not set off by spaces, so every place in the text where a
    name starts is tried, the longest name first; a name in Latin letters only counts as a whole
    word (Tashi is not masked inside Tashiro). A name of one character is never masked alone:
    it would mask that character everywhere.
    """

    def __init__(self, names: Iterable[object]) -> None:
        self.names = frozenset(n for n in (str(v).strip() for v in names if isinstance(v, str)) if len(n) > 1)
        self.widths = sorted({len(n) for n in self.names}, reverse=True)
        # Where a name may start: the text is scanned once for these characters, not char by char.
        first = sorted({n[0] for n in self.names})
        self.starts = re.compile("[" + "".join(map(re.escape, first)) + "]") if first else None

    def __len__(self) -> int:
        return len(self.names)

    def mask(self, text: str) -> str:
        """``text`` with each of the names in it masked (see :func:`mask_name`)."""
        if self.starts is None:
            return text
        out, at = [], 0
        for start in self.starts.finditer(text):
            i = start.start()
            if i < at:
                continue
            for width in self.widths:
                found = text[i : i + width]
                if len(found) == width and found in self.names and self._set_off(text, i, i + width):
                    out += [text[at:i], mask_name(found)]
                    at = i + width
                    break
        return "".join([*out, text[at:]])

    @staticmethod
    def _set_off(text: str, start: int, end: int) -> bool:
        """Whether a name there stands apart: always for a Chinese or Tibetan one, as a word if Latin."""
        if not text[start].isascii():
            return True
        before = text[start - 1] if start else " "
        after = text[end] if end < len(text) else " "
        return not (before.isascii() and before.isalnum()) and not (after.isascii() and after.isalnum())


def _parse(evidence: object) -> Any:
    try:
        return json.loads(str(evidence))
    except ValueError:
        return None


def _dump(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def mask_evidence(evidence: str) -> str:
    """Mask a finding's evidence JSON (keys sorted, as written); text that is not JSON is scanned."""
    known = _Known()
    data = _parse(evidence)
    if data is None:
        return known.text(str(evidence))
    known.collect(data, None)
    return _dump(_mask_json(data, None, known))


def _is_text(series: pd.Series) -> bool:
    return pd.api.types.is_string_dtype(series) or series.dtype == object


def _map_present(series: pd.Series, fn: Callable[[str], str]) -> pd.Series:
    present = series.notna()
    out = series.astype(object).copy()
    out[present] = [fn(str(v)) for v in series[present]]
    return out


def mask_frame(df: pd.DataFrame, mode: str = "masked") -> pd.DataFrame:
    """A copy of ``df`` with personal columns masked (by name) and their values masked in other text."""
    _check_mode(mode)
    if mode == "full" or df.empty:
        return df.copy()
    known = _Known()
    out = df.copy()
    text_columns = [c for c in out.columns if _is_text(out[c])]
    for column in text_columns:
        kind = _kind_of_key(str(column))
        if kind is not None:
            out[column] = _map_present(out[column], lambda v, k=kind: known.add(v, k))
    for column in text_columns:
        if _kind_of_key(str(column)) is None:
            out[column] = _map_present(out[column], known.text)
    return out


def mask_findings(findings: pd.DataFrame, mode: str = "masked") -> pd.DataFrame:
    """A copy of a findings register with evidence, personal entities and descriptions masked."""
    _check_mode(mode)
    if mode == "full" or findings.empty:
        return findings.copy()
    known = _Known()
    parsed = [_parse(e) if pd.notna(e) else None for e in findings.get("evidence", [None] * len(findings))]
    for data in parsed:
        known.collect(data, None)
    out = findings.copy()
    if "entity_type" in out and "entity_id" in out:
        out["entity_id"] = [
            known.add(e, _PERSONAL_ENTITIES[t]) if t in _PERSONAL_ENTITIES and pd.notna(e) else e
            for t, e in zip(out["entity_type"], out["entity_id"], strict=True)
        ]
    if "evidence" in out:
        out["evidence"] = [
            (_dump(_mask_json(d, None, known)) if d is not None else known.text(str(e))) if pd.notna(e) else e
            for d, e in zip(parsed, findings["evidence"], strict=True)
        ]
    for column in out.columns:
        if column not in ("evidence", "entity_id") and _is_text(out[column]):
            out[column] = _map_present(out[column], known.text)
    return out


def mask_quality(issues: pd.DataFrame, mode: str = "masked") -> pd.DataFrame:
    """A copy of the data-quality log with each offending ``value`` masked as its column's kind."""
    _check_mode(mode)
    if mode == "full" or issues.empty:
        return issues.copy()
    known = _Known()
    out = issues.copy()
    if "value" in issues:
        blank = pd.Series("", index=issues.index)
        columns = issues.get("column", blank)
        tables = issues.get("table", blank)
        out["value"] = [
            v if pd.isna(v) else _quality_value(str(v), str(t), str(c), known)
            for v, t, c in zip(issues["value"], tables, columns, strict=True)
        ]
    for column in out.columns:
        if column != "value" and _is_text(out[column]):
            out[column] = _map_present(out[column], known.text)
    return out


def _quality_value(value: str, table: str, column: str, known: _Known) -> str:
    kind = _kind_of_key(column)
    # ``name`` is a person only in the tables of people; elsewhere it names a place
    if kind is None or (kind == "name" and table not in PEOPLE_TABLES):
        return known.text(value)
    return known.add(value, kind)


def _check_mode(mode: str) -> None:
    if mode not in PII_MODES:
        raise ValueError(f"unknown pii mode {mode!r}; allowed: {', '.join(PII_MODES)}")

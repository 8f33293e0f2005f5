"""The chapters of an inspection report, built once from the store, the rule run and the parameters.

A county report takes the form of a Chinese inspection report: the title block; 一、基本情况
(facts computed from the data); 二、检查依据和方法 (documents, data received, rules run and not
run, the field-visit sample); 三、发现的主要问题 (one subsection per rule that fired, by severity
then amount: what was found in plain words with counts and amounts, its 依据 and 整改建议, and a
compact table of the entities to act on, months and payments folded into one row each);
四、整改意见汇总; then the attachments (附件): every finding, the data-quality problems grouped
by table, column and check, the field-visit sample, provenance. The city roll-up opens with
an overview a bureau head reads in a few pages, then the problems rule by rule.

Everything here is text a reader sees, in the report's language: personal data masked
(unless the run asked for them in full), evidence as labelled fields, dates and amounts
formatted. Every format (:mod:`audit.renderers`) renders these same blocks.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd

from audit.datacontract import TABLES
from audit.document import Block, Facts, Figure, Paragraph, Part, Section, Table
from audit.i18n import has_label, label
from audit.privacy import mask_findings, mask_frame, mask_quality
from audit.rules.registry import RULES
from audit.vocabulary import RELIEF, SPECIAL_FUND

if TYPE_CHECKING:
    from audit.inspection import CityInspection, CountyInspection, _Inspection

SEVERITY_RANK = {"high": 0, "medium": 1, "low": 2, "info": 3}
PAYMENT_RULE_ENTITY = "payment"
"""Findings about single payments are folded into one row per person in the problem tables."""
MAX_ENTITY_ROWS = 6
"""Entities a problem's table lists in the body; attachment 1 lists every finding."""
MAX_QUALITY_EXAMPLES = 3
SOURCE_KEYS = ("source", "sources", "contract_source")
DATE_SUFFIXES = ("_on", "_from", "_to")
DATE_KEYS = {"deadline", "since", "service_start", "service_end"}
MONTH_KEYS = {"period", "month", "months", "uncovered_months"}
PLACE_KEYS = {"county_code", "division_code", "office", "post_code"}
CODE_KEYS = {"problem", "problems", "area"}
MAX_SOURCES = 3


# --- formatting for readers -------------------------------------------------------------------


def yuan(value: object) -> str:
    """An amount as ``1,234.50``; missing is empty."""
    number = _number(value)
    return "" if number is None else f"{number:,.2f}"


def count(value: object) -> str:
    """A whole number as ``1,234``."""
    number = _number(value)
    return "" if number is None else f"{int(number):,}"


def _number(value: object) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return None if number != number else number


def date_text(value: object, lang: str) -> str:
    """A day as ``2020年4月15日`` (zh) or ``2020-04-15`` (en); anything else as given."""
    text = _iso_day(value)
    if text is None:
        return "" if value is None or _missing(value) else str(value)
    year, month, day = text.split("-")
    return f"{year}年{int(month)}月{int(day)}日" if lang == "zh" else text


def month_text(value: object, lang: str) -> str:
    """A month ``2020-05`` as ``2020年5月`` (zh); anything else as given."""
    text = "" if value is None or _missing(value) else str(value)
    if len(text) == 7 and text[4] == "-" and text[:4].isdigit() and text[5:].isdigit():
        return f"{text[:4]}年{int(text[5:])}月" if lang == "zh" else text
    return text


def months_text(values: Iterable[object], lang: str) -> str:
    """Months folded into runs: ``2020年1—3月、6月`` (zh), ``2020-01 to 2020-03, 2020-06`` (en)."""
    months = sorted({str(v) for v in values if v is not None and not _missing(v)})
    runs: list[list[str]] = []
    for month in months:
        if runs and _next_month(runs[-1][-1]) == month:
            runs[-1].append(month)
        else:
            runs.append([month])
    parts = []
    for i, run in enumerate(runs):
        first, last = run[0], run[-1]
        if lang == "zh" and len(first) == 7 and first[4] == "-":
            same_year = i > 0 and runs[i - 1][-1][:4] == first[:4]
            head = f"{int(first[5:])}月" if same_year else month_text(first, lang)
            if len(run) > 1:
                head = (
                    head[:-1] + f"—{int(last[5:])}月"
                    if last[:4] == first[:4]
                    else f"{head}—{month_text(last, lang)}"
                )
            parts.append(head)
        else:
            parts.append(first if len(run) == 1 else f"{first} to {last}")
    return ("、" if lang == "zh" else ", ").join(parts)


def _next_month(month: str) -> str | None:
    try:
        year, mon = int(month[:4]), int(month[5:7])
    except ValueError:
        return None
    return f"{year + mon // 12}-{mon % 12 + 1:02d}"


def _iso_day(value: object) -> str | None:
    if isinstance(value, pd.Timestamp):
        return None if pd.isna(value) else value.strftime("%Y-%m-%d")
    if hasattr(value, "isoformat") and not isinstance(value, str):
        return str(value.isoformat())[:10]  # type: ignore[attr-defined]
    text = str(value) if value is not None else ""
    if len(text) >= 10 and text[4] == "-" and text[7] == "-" and text[:4].isdigit():
        return text[:10]
    return None


def _missing(value: object) -> bool:
    try:
        return bool(pd.isna(value))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False


class Wording:
    """Turns values and evidence into reader's text in one language, with places named."""

    def __init__(self, lang: str, place: Callable[[str], str], params: Any = None) -> None:
        self.lang = lang
        self.place = place
        self.params = params  # the rules' texts quote its sources

    def t(self, key: str, **fields: object) -> str:
        return label(key, self.lang, **fields)

    @property
    def sep(self) -> str:
        return "；" if self.lang == "zh" else "; "

    @property
    def comma(self) -> str:
        return "、" if self.lang == "zh" else ", "

    def field_label(self, key: str) -> str:
        return self.t(f"field.{key}") if has_label(f"field.{key}") else self.t("col.detail")

    def code(self, value: object) -> str:
        key = f"code.{value}"
        return self.t(key) if has_label(key) else str(value)

    def source(self, source: object) -> str:
        if not isinstance(source, Mapping):
            return ""
        where = " ".join(str(source[k]) for k in ("file", "sheet") if source.get(k))
        row = source.get("row")
        return self.t("field.row_ref", where=where, row=row).strip() if row is not None else where

    def sources(self, value: object) -> str:
        cited = value if isinstance(value, list) else [value]
        text = self.sep.join(s for s in (self.source(c) for c in cited[:MAX_SOURCES]) if s)
        if len(cited) > MAX_SOURCES:
            text += (" " if self.lang == "en" else "") + self.t("field.more", n=len(cited) - MAX_SOURCES)
        return text

    def value(self, key: str, value: Any) -> str:
        """One evidence value as text: amounts, dates, months, places, codes, nested records."""
        if value is None or (not isinstance(value, list | dict) and _missing(value)):
            return "—"
        if key in SOURCE_KEYS:
            return self.sources(value)
        if isinstance(value, bool):
            return self.t(f"bool.{str(value).lower()}")
        if isinstance(value, list):
            if key in MONTH_KEYS and all(isinstance(v, str) for v in value):
                return months_text(value, self.lang)
            if value and all(isinstance(v, Mapping) for v in value):
                return self.sep.join(self.record(v) for v in value)
            return self.comma.join(self.value(key, v) for v in value)
        if isinstance(value, Mapping):
            if key.startswith("by_") or key.endswith("_by_county_yuan") or key == "first_digit_shares":
                inner = key if key.endswith("_yuan") else ""
                return self.sep.join(
                    f"{self.place(str(k)) if str(k).isdigit() and len(str(k)) >= 6 else k} "
                    f"{self.value(inner, v)}"
                    for k, v in value.items()
                )
            return self.record(value)
        if key.endswith("_yuan"):
            return yuan(value) or str(value)
        if key.endswith(DATE_SUFFIXES) or key in DATE_KEYS:
            return date_text(value, self.lang)
        if key in MONTH_KEYS:
            return month_text(value, self.lang)
        if key in PLACE_KEYS:
            return self.place(str(value))
        if key in CODE_KEYS:
            return self.code(value)
        return str(value)

    def record(self, data: Mapping[str, Any], skip: Iterable[str] = ()) -> str:
        """A record as ``label：value，label：value`` (nested records use the inner separator)."""
        colon, inner = ("：", "，") if self.lang == "zh" else (": ", ", ")
        skipped = set(skip)
        return inner.join(
            f"{self.field_label(k)}{colon}{self.value(k, v)}"
            for k, v in data.items()
            if k not in skipped and has_label(f"field.{k}")  # a key without a label is not for readers
        )

    def evidence(self, evidence: object, skip: Iterable[str] = ()) -> str:
        """A finding's evidence JSON as labelled fields; sources last."""
        data = parse(evidence)
        if not data:
            return ""
        skipped = set(skip)
        fields = [
            k for k in sorted(data) if k not in SOURCE_KEYS and k not in skipped and has_label(f"field.{k}")
        ]
        colon = "：" if self.lang == "zh" else ": "
        parts = [f"{self.field_label(k)}{colon}{self.value(k, data[k])}" for k in fields]
        parts += [
            f"{self.field_label('source')}{colon}{self.sources(data[k])}"
            for k in SOURCE_KEYS
            if k in data and k not in skipped and data[k]
        ]
        return self.sep.join(parts)


def parse(evidence: object) -> dict[str, Any]:
    """A finding's evidence JSON as a dict (empty when missing or not an object)."""
    if evidence is None or _missing(evidence):
        return {}
    try:
        data = json.loads(str(evidence))
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


# --- rule metadata ------------------------------------------------------------------------------


def rule_meta(rule_id: str, lang: str, params: Any = None) -> dict[str, str]:
    """The rule's title, basis and recommendation in ``lang`` (empty for an unknown rule)."""
    if rule_id not in RULES:
        return {"title": rule_id, "basis": "", "recommendation": ""}
    rule = RULES[rule_id]
    if params is not None:
        texts = rule.texts(params, lang)  # type: ignore[arg-type]
        return {"title": texts.title, "basis": texts.basis, "recommendation": texts.recommendation}
    return {
        "title": getattr(rule, f"title_{lang}"),
        "basis": getattr(rule, f"basis_{lang}"),
        "recommendation": getattr(rule, f"recommendation_{lang}"),
    }


def _rule_number(rule_id: str) -> tuple[str, int]:
    digits = "".join(ch for ch in rule_id if ch.isdigit())
    return rule_id.rstrip("0123456789"), int(digits) if digits else 0


def fired_rules(findings: pd.DataFrame) -> list[str]:
    """The rules with findings, by severity, then money at stake (most first), then rule id."""
    if findings.empty:
        return []
    grouped = findings.groupby("rule_id", sort=False).agg(
        severity=("severity", "first"), amount=("amount_yuan", lambda s: float(s.fillna(0).sum()))
    )
    keys = {
        str(r): (SEVERITY_RANK.get(str(row.severity), 9), -row.amount, *_rule_number(str(r)))
        for r, row in grouped.iterrows()
    }
    return sorted(keys, key=keys.__getitem__)


# --- the problems (三、发现的主要问题) ---------------------------------------------------------------


def problem_subsections(
    findings: pd.DataFrame, w: Wording, pii: str, *, by_county: bool = False, max_rows: int = MAX_ENTITY_ROWS
) -> list[Section]:
    """One level-2 section per rule that fired: what, how many, how much, basis, measure, entities."""
    if findings.empty:
        return []
    shown = mask_findings(findings, pii)
    out = []
    for rule_id in fired_rules(findings):
        rows = findings["rule_id"] == rule_id
        out.append(_problem(rule_id, findings[rows], shown[rows], w, by_county=by_county, max_rows=max_rows))
    return out


def _problem(
    rule_id: str, full: pd.DataFrame, shown: pd.DataFrame, w: Wording, *, by_county: bool, max_rows: int
) -> Section:
    meta = rule_meta(rule_id, w.lang, w.params)
    entity_type = str(full["entity_type"].iloc[0])
    amount = float(full["amount_yuan"].fillna(0).sum())
    entities = _entity_rows(full, shown, w, entity_type, by_county=by_county)
    if entity_type == PAYMENT_RULE_ENTITY:
        who = w.t("entity.person", n=len(entities))
        payments = w.t("doc.problem_payments", n=f"{len(full):,}")
    else:
        n = int(full["entity_id"].nunique())
        who = w.t(f"entity.{entity_type}", n=f"{n:,}") if has_label(f"entity.{entity_type}") else ""
        payments = ""
    money = w.t("doc.problem_amount", yuan=yuan(amount)) if amount > 0 else ""
    title = meta["title"]
    lead = w.t(
        "doc.problem_lead",
        title=title if w.lang == "en" else f"“{title}”",
        entities=who,
        payments=payments,
        amount=money,
    )
    severity = w.t(f"severity.{full['severity'].iloc[0]}")
    blocks: list[Block] = [Paragraph(lead)]
    if meta["basis"]:
        blocks.append(Paragraph(meta["basis"], label=w.t("doc.basis")))
    if meta["recommendation"]:
        blocks.append(Paragraph(meta["recommendation"], label=w.t("doc.recommendation")))
    blocks.append(_entity_table(entities, w, max_rows))
    if len(entities) > max_rows:
        blocks.append(Paragraph(w.t("doc.more_rows", shown=max_rows, total=len(entities)), "note"))
    heading = f"{title}（{rule_id}，{severity}）" if w.lang == "zh" else f"{title} ({rule_id}, {severity})"
    return Section(heading, tuple(blocks), level=2)


def _entity_rows(
    full: pd.DataFrame, shown: pd.DataFrame, w: Wording, entity_type: str, *, by_county: bool
) -> list[dict[str, Any]]:
    """One row per entity to act on; payments of one person folded into one row."""
    parsed_full = [parse(e) for e in full["evidence"]]
    parsed_shown = [parse(e) for e in shown["evidence"]]
    rows: dict[Any, dict[str, Any]] = {}
    for i, (ev_full, ev_shown) in enumerate(zip(parsed_full, parsed_shown, strict=True)):
        f_row, s_row = full.iloc[i], shown.iloc[i]
        if entity_type == PAYMENT_RULE_ENTITY:
            key = ev_full.get("person_id") or ev_full.get("household_id") or f_row["entity_id"]
            who = ev_shown.get("person_id") or ev_shown.get("household_id") or s_row["entity_id"]
        else:
            key, who = f_row["entity_id"], _entity_text(s_row, w)
        row = rows.setdefault(
            (f_row["county_code"], key),
            {
                "entity": str(who),
                "county": w.place(str(f_row["county_code"])),
                "township": "",
                "months": [],
                "payments": 0,
                "amount": 0.0,
                "has_amount": False,
                "details": [],
            },
        )
        township = f_row.get("township_code")
        if isinstance(township, str) and township and not row["township"]:
            row["township"] = w.place(township)
        row["months"] += [ev_full[k] for k in ("period",) if isinstance(ev_full.get(k), str)]
        row["months"] += [m for k in ("uncovered_months",) for m in ev_full.get(k, []) if isinstance(m, str)]
        row["payments"] += 1
        if pd.notna(f_row["amount_yuan"]):
            row["amount"] += float(f_row["amount_yuan"])
            row["has_amount"] = True
        row["details"].append(
            _payment_detail(ev_shown, w)
            if entity_type == PAYMENT_RULE_ENTITY
            else str(s_row.get(f"description_{w.lang}", "") or "")
        )
    out = []
    for row in rows.values():
        details = list(dict.fromkeys(d for d in row["details"] if d))
        row["detail"] = w.sep.join(details[:3]) + ("…" if len(details) > 3 else "")
        out.append(row)
    out.sort(key=lambda r: (-r["amount"], r["entity"]))
    return out


_PAYMENT_SKIP = (
    "person_id",
    "household_id",
    "period",
    "amount_yuan",
    "payment_id",
    "paid_on",
    "duplicate_of",
    "days_late",
    "deadline",
    *SOURCE_KEYS,
)


def _payment_detail(evidence: Mapping[str, Any], w: Wording) -> str:
    return w.record({k: v for k, v in sorted(evidence.items()) if k not in _PAYMENT_SKIP and v is not None})


def _entity_text(row: pd.Series, w: Wording) -> str:
    entity = str(row["entity_id"])
    if row["entity_type"] in ("office", "county", "city"):
        return w.place(entity)
    return entity


def _entity_table(entities: list[dict[str, Any]], w: Wording, max_rows: int) -> Table:
    rows = entities[:max_rows]
    columns: list[tuple[str, str, bool, float]] = [("entity", w.t("col.entity"), False, 2.2)]
    if len({r["county"] for r in entities}) > 1:
        columns.append(("county", w.t("col.county"), False, 1.6))
    if any(r["township"] and r["township"] != r["entity"] for r in entities):
        columns.append(("township", w.t("col.township"), False, 1.6))
    if any(r["months"] for r in entities):
        columns.append(("months", w.t("col.months"), False, 1.6))
    if any(r["payments"] > 1 for r in entities):
        columns.append(("payments", w.t("col.payments"), True, 0.8))
    if any(r["has_amount"] for r in entities):
        columns.append(("amount", w.t("col.amount_yuan"), True, 1.4))
    columns.append(("detail", w.t("col.detail"), False, 4.0))
    cells = []
    for r in rows:
        values = []
        for key, _, _, _ in columns:
            if key == "months":
                values.append(months_text(r["months"], w.lang))
            elif key == "payments":
                values.append(count(r["payments"]))
            elif key == "amount":
                values.append(yuan(r["amount"]) if r["has_amount"] else "")
            else:
                values.append(str(r[key]))
        cells.append(tuple(values))
    return Table(
        tuple(c[1] for c in columns), tuple(cells), tuple(c[2] for c in columns), tuple(c[3] for c in columns)
    )


def recommendation_items(findings: pd.DataFrame, w: Wording) -> list[Paragraph]:
    """四、整改意见汇总: one numbered item per rule that fired, with its money at stake."""
    items = []
    for n, rule_id in enumerate(fired_rules(findings), 1):
        meta = rule_meta(rule_id, w.lang, w.params)
        rows = findings[findings["rule_id"] == rule_id]
        amount = float(rows["amount_yuan"].fillna(0).sum())
        text = w.t("doc.rec_item", title=meta["title"], text=meta["recommendation"] or "—")
        if amount > 0:
            text += w.t("doc.rec_amount", yuan=yuan(amount))
        items.append(Paragraph(f"{n}. {text}", "item"))
    return items


def findings_list(
    findings: pd.DataFrame,
    w: Wording,
    pii: str,
    *,
    by_county: bool = False,
    follow: Mapping[str, tuple[str, str, str]] | None = None,
) -> Table:
    """附件1: every finding, rule by rule, its evidence as labelled fields.

    ``follow`` (finding id -> follow-up status, owner, deadline) adds those three columns.
    """
    shown = mask_findings(findings, pii) if not findings.empty else findings
    order = {r: i for i, r in enumerate(fired_rules(findings))}
    columns = [w.t("col.rule_id")]
    if by_county:
        columns.append(w.t("col.county"))
    columns += [w.t("col.entity"), w.t("col.amount_yuan"), w.t("col.description"), w.t("col.evidence")]
    widths = [0.7, *((1.3,) if by_county else ()), 2.0, 1.3, 3.2, 4.6]
    if follow is not None:
        columns += [w.t("col.followup"), w.t("col.owner"), w.t("col.deadline")]
        widths += [1.1, 1.2, 1.2]
    numeric = tuple(c == w.t("col.amount_yuan") for c in columns)
    rows = []
    if not shown.empty:
        ranked = shown.assign(_o=shown["rule_id"].map(order)).sort_values(
            ["_o", "county_code", "entity_id"], kind="stable"
        )
        for _, row in ranked.iterrows():
            cells = [str(row["rule_id"])]
            if by_county:
                cells.append(w.place(str(row["county_code"])))
            cells += [
                _entity_text(row, w),
                yuan(row["amount_yuan"]),
                str(row.get(f"description_{w.lang}", "") or ""),
                w.evidence(row["evidence"]),
            ]
            if follow is not None:
                cells += list(follow.get(str(row.get("finding_id", "")), ("", "", "")))
            rows.append(tuple(cells))
    return Table(tuple(columns), tuple(rows), numeric, tuple(widths))


# --- data quality, sample, provenance ------------------------------------------------------------


def quality_blocks(
    issues: pd.DataFrame | None,
    w: Wording,
    pii: str,
    table_name: Callable[[str], str],
    *,
    by_county: bool = False,
) -> list[Block]:
    """Data-quality problems grouped by table, column and check, with a few examples each."""
    if issues is None or issues.empty:
        return [Paragraph(w.t("quality.none"))]
    issues = mask_quality(issues, pii)
    keys = [k for k in ("county_code", "table", "column", "check") if k in issues]
    if not by_county:
        keys = [k for k in keys if k != "county_code"]
    message = f"message_{w.lang}"
    rows = []
    for key, group in issues.groupby(keys, dropna=False, sort=True):
        values = dict(zip(keys, key if isinstance(key, tuple) else (key,), strict=True))
        actions = w.comma.join(
            w.t(f"action.{a}") for a in sorted(set(group["action"].dropna())) if has_label(f"action.{a}")
        )
        examples = []
        for _, ex in group.head(MAX_QUALITY_EXAMPLES).iterrows():
            where = w.source({"file": ex.get("file"), "sheet": ex.get("sheet"), "row": ex.get("row")})
            value = ex.get("value")
            shown = (
                "" if value is None or _missing(value) else f"“{value}”" if w.lang == "zh" else f'"{value}"'
            )
            examples.append(f"{where} {shown}".strip())
        cells = []
        if by_county:
            cells.append(w.place(str(values.get("county_code", ""))))
        column = values.get("column")
        cells += [
            table_name(str(values.get("table", ""))),
            _column_header(str(values.get("table", "")), column, w.lang),
            str(group[message].iloc[0]) if message in group else "",
            count(len(group)),
            actions,
            w.sep.join(examples),
        ]
        rows.append(tuple(cells))
    columns = ([w.t("col.county")] if by_county else []) + [
        w.t("col.table"),
        w.t("col.column"),
        w.t("col.message"),
        w.t("col.rows"),
        w.t("col.action"),
        w.t("col.examples"),
    ]
    numeric = tuple(c == w.t("col.rows") for c in columns)
    widths = (*((1.3,) if by_county else ()), 1.3, 1.3, 3.2, 0.8, 0.9, 3.6)
    return [Paragraph(w.t("quality.grouped"), "note"), Table(tuple(columns), tuple(rows), numeric, widths)]


def _column_header(table: str, column: object, lang: str) -> str:
    """A column of the data contract by its header in the report's language (as found otherwise)."""
    if column is None or _missing(column):
        return ""
    spec = TABLES.get(table)
    for col in spec.columns if spec is not None else ():
        if col.name == column:
            return col.zh if lang == "zh" else col.name.replace("_", " ")
    return str(column)


def facts_table(items: Sequence[tuple[str, str]]) -> Facts:
    return Facts(tuple((str(k), str(v)) for k, v in items))


def _yuan_sum(frame: pd.DataFrame | None, column: str = "amount_yuan") -> float:
    return float(frame[column].sum()) if frame is not None and column in frame and len(frame) else 0.0


# --- the county report -------------------------------------------------------------------------


def county_basics(insp: CountyInspection) -> list[Block]:
    """一、基本情况: offices, contracts and positions, staff by month, the roll, payments, funds."""
    w = insp.wording
    t = insp.tables
    blocks: list[Block] = []
    divisions = insp._divisions
    offices = divisions
    if "level" in offices and "parent_code" in offices:
        offices = offices[(offices["level"] == "township") & (offices["parent_code"] == insp.county)]
    blocks.append(Paragraph(w.t("basics.offices", n=count(len(offices)))))
    contracts = t["contracts"]
    if contracts is not None:
        blocks.append(
            Paragraph(
                w.t(
                    "basics.contracts",
                    n=count(len(contracts)),
                    positions=count(contracts["positions"].sum()),
                    yuan=yuan(_yuan_sum(contracts)),
                )
            )
        )
    else:
        blocks.append(Paragraph(w.t("basics.no_data", table=insp._table_name("contracts"))))
    staff = t["staff"]
    if staff is not None:
        blocks.append(Paragraph(w.t("basics.staff", n=count(len(staff)), months=_in_post_text(staff, insp))))
        codes = sorted(set(offices["division_code"])) if len(offices) else []
        if codes:
            from audit.inspection import coverage  # late: inspection imports this module

            covered = coverage(staff, codes, insp.params.audit_year)
            full = int((covered.min(axis=1) >= 1).sum())
            blocks.append(
                Paragraph(w.t("basics.coverage", covered=count(full), gaps=count(len(codes) - full)))
            )
    roll = t["beneficiaries"]
    if roll is not None and len(roll):
        by = roll.groupby("programme", sort=True).agg(
            h=("household_id", "nunique"), p=("person_id", "nunique")
        )
        items = w.comma.join(
            w.t("basics.roll_item", programme=p, households=count(r.h), persons=count(r.p))
            for p, r in by.iterrows()
        )
        blocks.append(Paragraph(w.t("basics.roll", items=items)))
    payments = t["relief_payments"]
    if payments is not None:
        blocks.append(
            Paragraph(w.t("basics.payments", n=count(len(payments)), yuan=yuan(_yuan_sum(payments))))
        )
    funds = _funds_text(t["fund_allocations"], t["fund_payments"], payments, w)
    if funds:
        blocks.append(Paragraph(w.t("basics.funds", items=funds)))
    return blocks


def _in_post_text(staff: pd.DataFrame, insp: CountyInspection) -> str:
    year = insp.params.audit_year
    counts: list[tuple[str, int]] = []
    for month in range(1, 13):
        day = pd.Timestamp(year=year, month=month, day=15)
        hired = staff["hired_on"] <= day
        left = staff["left_on"].isna() | (staff["left_on"] >= day)
        counts.append((f"{year}-{month:02d}", int((hired & left).sum())))
    runs: list[list[Any]] = []
    for month, n in counts:
        if runs and runs[-1][1] == n:
            runs[-1][0].append(month)
        else:
            runs.append([[month], n])
    w = insp.wording
    return w.comma.join(
        w.t(
            "basics.month_item",
            month=months_text(ms, w.lang).removesuffix("月") if w.lang == "zh" else months_text(ms, "en"),
            n=n,
        )
        for ms, n in runs
    )


def _funds_text(
    allocations: pd.DataFrame | None, spending: pd.DataFrame | None, relief: pd.DataFrame | None, w: Wording
) -> str:
    if allocations is None or allocations.empty:
        return ""
    items = []
    for (fund, purpose), rows in allocations.groupby(["fund", "purpose"], sort=True):
        spent = 0.0
        if spending is not None and len(spending):
            mine = spending[(spending["fund"] == fund) & (spending["purpose"] == purpose)]
            spent = _yuan_sum(mine)
        if spent == 0.0 and purpose == RELIEF and fund == SPECIAL_FUND:
            spent = _yuan_sum(relief)
        items.append(
            w.t(
                "basics.fund_item",
                fund=fund,
                purpose=purpose,
                allocated=yuan(_yuan_sum(rows)),
                spent=yuan(spent),
            )
        )
    return w.sep.join(items)


def method_blocks(
    insp: _Inspection, results: pd.DataFrame, sample_households: int | None, counties: Sequence[str]
) -> list[Block]:
    """二、检查依据和方法: documents, data received, rules run and not run, the sample and its seed."""
    w = insp.wording
    blocks: list[Block] = []
    documents = insp.params.report.documents
    if documents:
        blocks.append(Paragraph(w.t("method.documents")))
        blocks += [Paragraph(f"{n}. {d}", "item") for n, d in enumerate(documents, 1)]
    else:
        blocks.append(Paragraph(w.t("method.no_documents")))
    received = _received(insp, counties)
    if received:
        rows, quarantined_yuan = received
        total = [sum(r[i] for r in rows) for i in (1, 2)]
        blocks.append(
            Paragraph(
                w.t(
                    "method.data",
                    tables=count(len(rows)),
                    read=count(total[0] + total[1]),
                    loaded=count(total[0]),
                    quarantined=count(total[1]),
                )
            )
        )
        if quarantined_yuan > 0:
            blocks.append(Paragraph(w.t("method.quarantined_yuan", yuan=yuan(quarantined_yuan))))
        blocks.append(
            Table(
                (
                    w.t("col.table"),
                    w.t("col.rows_loaded"),
                    w.t("col.rows_quarantined"),
                    w.t("col.amount_yuan"),
                ),
                tuple(
                    (insp._table_name(r[0]), count(r[1]), count(r[2]), yuan(r[3]) if r[3] else "")
                    for r in rows
                ),
                (False, True, True, True),
                (2.0, 1.2, 1.2, 1.4),
            )
        )
    status = results["status"] if not results.empty else pd.Series(dtype=str)
    fired, clean = int((status == "fired").sum()), int((status == "clean").sum())
    blocks.append(
        Paragraph(w.t("method.approach", run=count(fired + clean), fired=count(fired), clean=count(clean)))
    )
    not_run = results[status == "not_run"] if not results.empty else results
    if len(not_run):
        blocks.append(Paragraph(w.t("method.not_run", n=len(not_run))))
        reason = f"reason_{w.lang}"
        for _, row in not_run.iterrows():
            rule = f"{row['rule_id']} {rule_meta(str(row['rule_id']), w.lang)['title']}"
            blocks.append(
                Paragraph(w.t("method.not_run_item", rule=rule, reason=row.get(reason, "")), "item")
            )
    if sample_households is not None:
        blocks.append(Paragraph(w.t("method.sample", n=count(sample_households), seed=insp.seed)))
    return blocks


def _received(
    insp: _Inspection, counties: Sequence[str]
) -> tuple[list[tuple[str, int, int, float]], float] | None:
    """Per table: rows loaded and quarantined for ``counties``, and the yuan the quarantined rows hold."""
    rows = []
    unaudited = insp.store.unaudited(list(counties))  # quarantined rows and their yuan, by table and county
    total_yuan = 0.0
    for table in TABLES:
        if not insp.store.has(table):
            continue
        spec = TABLES[table]
        if spec.reference:
            continue
        loaded = insp.store.read(table, counties=list(counties), columns=["county_code"])
        n_loaded = len(loaded) if loaded is not None else 0
        mine = unaudited[unaudited["table"] == table] if len(unaudited) else unaudited
        n_quarantined = int(mine["rows"].sum()) if len(mine) else 0
        q_yuan = float(mine["yuan"].fillna(0).sum()) if len(mine) else 0.0
        total_yuan += q_yuan
        rows.append((table, n_loaded, n_quarantined, q_yuan))
    return (rows, total_yuan) if rows else None


def sample_table(sample: pd.DataFrame, w: Wording, pii: str) -> Table:
    """附件3: the households to visit."""
    shown = mask_frame(sample, pii)
    columns = [
        ("township_code", w.t("col.township")),
        ("programme", w.t("col.programme")),
        ("household_id", w.t("col.household_id")),
        ("persons", w.t("col.persons")),
        ("selection", w.t("col.selection")),
        ("rule_ids", w.t("col.rule_ids")),
    ]
    columns = [c for c in columns if c[0] in shown]
    rows = []
    for _, row in shown.iterrows():
        cells = []
        for key, _ in columns:
            value = row[key]
            if key == "township_code":
                cells.append(w.place(str(value)))
            elif key == "selection":
                cells.append(w.t(f"selection.{value}") if has_label(f"selection.{value}") else str(value))
            elif key == "persons":
                cells.append(count(value))
            elif isinstance(value, list | tuple):
                cells.append(w.comma.join(map(str, value)))
            else:
                cells.append("" if value is None or _missing(value) else str(value))
        rows.append(tuple(cells))
    return Table(tuple(c[1] for c in columns), tuple(rows), tuple(k == "persons" for k, _ in columns))


def appendix_section(n: int, title: str, blocks: Sequence[Block], w: Wording) -> Section:
    """An attachment: 附件n：title, not numbered with the body's headings."""
    return Section(w.t("doc.appendix_title", n=n, title=title), tuple(blocks), level=1, numbered=False)


def part(name: str, blocks: Sequence[Block], lang: str, area: str | None = None, title: str = "") -> Part:
    return Part(name, tuple(blocks), area, title, lang)


# --- the city roll-up -----------------------------------------------------------------------------


def city_overview(insp: CityInspection) -> list[Block]:
    """The bureau head's summary: totals, counties by money and by high findings, city-wide problems."""
    w = insp.wording
    frame = insp._by_county()
    own = insp.register
    total_n = int(frame["total"].sum()) + len(own)
    high = (
        int(frame["high"].sum()) + int((own["severity"] == "high").sum())
        if len(own)
        else int(frame["high"].sum())
    )
    money = float(frame["amount_yuan"].sum()) + float(own["amount_yuan"].fillna(0).sum() if len(own) else 0.0)
    blocks: list[Block] = [
        Paragraph(
            w.t(
                "overview.lead",
                counties=count(len(frame)),
                n=count(total_n),
                high=count(high),
                yuan=yuan(money),
            )
        )
    ]
    if insp.spec.excluded:  # counties whose store files are damaged: named, not silently missing
        places = w.comma.join(insp._place(c) for c in sorted(insp.spec.excluded))
        blocks.append(Paragraph(w.t("city.excluded", counties=places), "banner"))
    columns = (
        w.t("col.rank"),
        w.t("col.county"),
        w.t("col.n_findings"),
        w.t("col.high"),
        w.t("col.amount_yuan"),
    )
    # the same counties ranked twice: by money at stake, then by high-severity findings
    for title, order in (
        ("overview.by_amount", ["amount_yuan", "high", "county_code"]),
        ("overview.by_high", ["high", "amount_yuan", "county_code"]),
    ):
        ranked = frame.sort_values(order, ascending=[False, False, True])
        rows = tuple(
            (str(i), r.county, count(r.total), count(r.high), yuan(r.amount_yuan))
            for i, r in enumerate(ranked.itertuples(), 1)
        )
        table = Table(columns, rows, (True, False, True, True, True), (0.6, 2.6, 1.0, 1.2, 1.6))
        blocks.append(Section(w.t(title), (table,), level=2))
    city_wide: list[Block] = []
    for section in problem_subsections(own, w, insp.spec.pii, by_county=True, max_rows=5):
        city_wide.append(Section(section.title, section.blocks, level=3))
    if not city_wide:
        city_wide.append(Paragraph(w.t("doc.no_problems")))
    blocks.append(Section(w.t("overview.city_wide"), tuple(city_wide), level=2))
    return blocks


def city_rule_detail(insp: CityInspection) -> list[Block]:
    """Per-rule detail across the counties: which counties, how many, how much."""
    w = insp.wording
    findings = insp.county_findings
    if findings.empty:
        return [Paragraph(w.t("doc.no_problems"))]
    out: list[Block] = []
    for rule_id in fired_rules(findings):
        rows = findings[findings["rule_id"] == rule_id]
        meta = rule_meta(rule_id, w.lang, w.params)
        by = rows.groupby("county_code", sort=True).agg(
            n=("rule_id", "size"), amount=("amount_yuan", lambda s: float(s.fillna(0).sum()))
        )
        by = by.sort_values(["amount", "n"], ascending=False)
        amount = float(rows["amount_yuan"].fillna(0).sum())
        text = w.t("overview.rule_counties", n=len(by), counties=w.comma.join(w.place(c) for c in by.index))
        blocks: list[Block] = [
            Paragraph(
                text + (w.t("doc.problem_amount", yuan=yuan(amount)).lstrip("，, ") if amount > 0 else "")
            )
        ]
        if meta["recommendation"]:
            blocks.append(Paragraph(meta["recommendation"], label=w.t("doc.recommendation")))
        has_money = bool((by["amount"] > 0).any())
        columns = (
            w.t("col.county"),
            w.t("col.n_findings"),
            *((w.t("col.amount_yuan"),) if has_money else ()),
        )
        blocks.append(
            Table(
                columns,
                tuple(
                    (w.place(c), count(r.n), *((yuan(r.amount),) if has_money else ()))
                    for c, r in by.iterrows()
                ),
                (False, True, *((True,) if has_money else ())),
            )
        )
        heading = f"{meta['title']}（{rule_id}）" if w.lang == "zh" else f"{meta['title']} ({rule_id})"
        out.append(Section(heading, tuple(blocks), level=2))
    return out


def figure(svg: str, alt: str) -> Figure:
    return Figure(svg, alt, alt)

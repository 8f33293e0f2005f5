"""The Markdown documentation of the data contract, generated from the contract and the schemas.

``python -m audit.datacontract_doc > docs/data-contract.md`` writes it; a test fails when the
committed file differs from a fresh render, so the documentation cannot drift.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable

from audit import checks, limits, schemas
from audit.datacontract import TABLES, Kind, Table
from audit.ingest.discovery import FILE_NAME_RULE, SUBMITTED_TABLES

_ON_FAILURE = {
    schemas.QUARANTINE: "quarantine the row",
    schemas.FLAG: "flag (row kept)",
}


def _cell(value: object) -> str:
    """Text safe inside a Markdown table cell."""
    return str(value).replace("|", "\\|").replace("\n", " ")


def _table(header: Iterable[str], rows: Iterable[Iterable[object]]) -> list[str]:
    header = list(header)
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in rows]
    return lines


def _yes(flag: bool) -> str:
    return "yes" if flag else ""


def _number(value: float) -> str:
    return f"{value:g}"


def _on_failure(action: str, rule: str | None) -> str:
    if rule is not None:
        return f"left to rule {rule} (row kept, flagged)"
    return _ON_FAILURE[action]


def _messages(table: Table, column: str, check: str, statistics: dict) -> tuple[str, str]:
    return checks.message(check, **schemas.message_fields(table, check, statistics))


def _check_rows(table: Table) -> list[tuple[str, ...]]:
    schema = schemas.SCHEMAS[table.name]
    statistics = {
        (name, check.name): check.statistics for name, col in schema.columns.items() for check in col.checks
    }
    statistics |= {(check.statistics["columns"][-1], check.name): check.statistics for check in schema.checks}
    rows = []
    for column, check, action, rule in schemas.check_actions(table.name):
        stats = statistics.get((column, check), {})
        en, zh = _messages(table, column, check, stats)
        compared = " vs ".join(stats["columns"]) if "columns" in stats else column
        rows.append((compared, check, en, zh, _on_failure(action, rule)))
    return rows


def _allowed(col_choices: tuple[str, ...], minimum: float | None) -> str:
    parts = []
    if col_choices:
        parts.append(" · ".join(col_choices))
    if minimum is not None:
        parts.append(f">= {_number(minimum)}")
    return "; ".join(parts)


def _render_table(table: Table) -> list[str]:
    lines = [f"## `{table.name}` ({table.zh})", "", table.description]
    if table.reference:
        lines += [
            "",
            "A reference list the auditor brings from another department; it is not partitioned by county.",
        ]
    if table.key:
        lines += ["", "Entity key: " + ", ".join(f"`{k}`" for k in table.key) + "."]
    lines += [""]
    lines += _table(
        (
            "column",
            "中文表头",
            "kind",
            "dtype",
            "required",
            "may be empty",
            "unique",
            "allowed",
            "meaning",
            "also read",
        ),
        (
            (
                f"`{col.name}`",
                col.zh,
                col.kind.value,
                schemas.DTYPES[col.kind],
                _yes(col.required),
                _yes(col.nullable),
                _yes(col.unique),
                _allowed(col.choices, col.minimum),
                col.description,
                "、".join(col.aliases),
            )
            for col in table.columns
        ),
    )
    lines += ["", "Checks:", ""]
    lines += _table(("column", "check", "message", "中文提示", "on failure"), _check_rows(table))
    for note in table.notes:
        lines += ["", note]
    return [*lines, ""]


def _render_references() -> list[str]:
    lines = [
        "## Checks across tables",
        "",
        "Run by `audit.schemas.referential_failures` once every table is loaded. Each only flags:",
        "the register a value points to may itself be the stale side, and quarantining the row",
        "would hide people and money from the rules.",
        "",
    ]
    rows = []
    for ref in schemas.REFERENCES:
        en, zh = checks.message(ref.check)
        where = f" (where {ref.only_where[0]} is {ref.only_where[1]})" if ref.only_where else ""
        on_failure = _on_failure(schemas.FLAG, ref.rule)
        rows.append(
            (f"`{ref.table}.{ref.column}`{where}", ref.target_text, ref.check, en, zh, on_failure, ref.why)
        )
    lines += _table(
        ("value", "must be", "check", "message", "中文提示", "on failure", "why not quarantined"), rows
    )
    return [*lines, ""]


def _render_files() -> list[str]:
    return [
        "## Submission files",
        "",
        FILE_NAME_RULE,
        "A full audit needs " + ", ".join(f"`{t}`" for t in SUBMITTED_TABLES) + ": `audit ingest` and",
        "`audit validate` stop on a missing one, naming the file likely meant; `--leave-out TABLE`",
        "makes a partial audit that says what it leaves out. Every other file is listed as ignored with",
        "the reason. Text may be UTF-8 (with or without BOM), GB18030/GBK or UTF-16 with its BOM,",
        "comma- or tab-separated (noted in the log); a file whose bytes are another format than its",
        "suffix says is named as such. An amount headed in 万元 (`金额(万元)`) is converted to yuan with",
        "a note; two columns naming one field keep one with a note when they agree on every row, and",
        "the file is rejected, naming both, when they differ. File, sheet and column names are shown",
        "with control characters, line breaks and bidirectional marks escaped (`\\x1b`, `\\u202e`).",
        "",
    ]


def _render_limits() -> list[str]:
    lines = [
        "## Limits",
        "",
        "What reading one file may cost is bounded (`audit.limits`). Before a workbook is opened its",
        "archive is unpacked once, without keeping anything, and checked: a file past any limit is",
        "rejected, like any unreadable file, with a message naming it and the limit. CSV and Parquet",
        "files are read in blocks of rows, so their size costs time, not memory.",
        "",
    ]
    lines += _table(
        ("limit", "value", "what it bounds"), ((f"`{n}`", f"{v:,}", what) for n, v, what in limits.LIMITS)
    )
    return [*lines, ""]


def render() -> str:
    """The Markdown documentation of every table of the contract."""
    lines = [
        "# Data contract",
        "",
        "<!-- Generated from audit.datacontract and audit.schemas; do not edit by hand. -->",
        "<!-- Regenerate: python -m audit.datacontract_doc > docs/data-contract.md -->",
        "",
        "What a county submission holds, column by column, as the package checks it after ingest.",
        "A header may be the column name, its Chinese header or one of the headers under *also read*.",
        "Every table may carry extra columns; ingest adds `county_code` where a file lacks it and",
        "`src_file`, `src_sheet`, `src_row` to every row.",
        "",
        "Column types after ingest, by kind:",
        "",
    ]
    lines += _table(("kind", "dtype"), ((kind.value, schemas.DTYPES[kind]) for kind in Kind))
    lines += [
        "",
        "What a failure does:",
        "",
        "- *quarantine the row*: the row is set aside in `quarantine/<table>.parquet` and the",
        "  data-quality log says why; the rules never see it.",
        "- *flag (row kept)*: the row is loaded and the data-quality log notes the problem.",
        "- *left to rule X*: the problem is that rule's finding; the row is loaded, flagged in",
        "  the log, and the rule reports it.",
        "- A required column that is missing, or a column of the wrong type, stops the whole table;",
        "  its row checks are not run.",
        "",
    ]
    for table in TABLES.values():
        lines += _render_table(table)
    lines += _render_references()
    lines += _render_files()
    lines += _render_limits()
    return "\n".join(lines)


def main() -> int:
    """Write the documentation to standard output as UTF-8."""
    sys.stdout.buffer.write(render().encode("utf-8"))
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

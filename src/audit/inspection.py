"""The facade the notebooks call: open a county (or the city), run its rules, show its sections.

A notebook holds its parameters and one call per cell::

    insp = audit.inspection.open_county(county, store=store, params=params, out=out,
                                        lang=lang, pii=pii, seed=seed, run_id=run_id)
    insp.title_block()
    insp.summary()
    insp.findings_section("C")
    insp.chart("contracts")
    ...
    insp.save_findings("C")

Each section is a :class:`~audit.presentation.Fragment`: escaped HTML in the chosen language,
with personal data masked unless ``pii="full"``, and tagged with its section so
:mod:`audit.reports` can put a county's three area notebooks together into one report. The
summary, data-quality, sample and provenance sections cover the whole county in every area
notebook (the rules of all areas run once per notebook: cheap for one county), so each
notebook also reads well on its own.
"""

from __future__ import annotations

import datetime as dt
import functools
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from audit import __version__, charts, kept_runs
from audit import presentation as P
from audit.datacontract import TABLES
from audit.findings import combine_registers, write_register
from audit.i18n import has_label, label
from audit.manifest import code_revision, package_versions
from audit.params import Params, load_params, params_digest
from audit.privacy import mask_findings, mask_frame, mask_quality
from audit.rules.registry import RULES
from audit.runspec import DEFAULTS, RunSpec, project_root, validate_spec
from audit.store import Store
from audit.tracking import CLOSABLE, REOPENED, SHOWN_LABELS, STATUSES, follow_up, read_snapshot
from audit.visit_sample import draw_sample
from audit.vocabulary import AREAS, PURCHASE, RELIEF, SEVERITIES, SPECIAL_FUND

CHARTS: dict[str, str] = {"contracts": "C", "coverage": "S", "relief": "F", "counties": "city"}
"""Chart names and the section (area letter, or the city roll-up) each belongs to."""
MAX_ROWS_PER_RULE = 200
"""Findings of one rule shown in a report; the register has them all."""
MAX_QUALITY_ROWS = 100


def open_county(
    county: str = DEFAULTS["county"],
    *,
    store: str | Path = DEFAULTS["store"],
    params: str | Path = DEFAULTS["params"],
    out: str | Path = DEFAULTS["out"],
    lang: str = DEFAULTS["lang"],
    pii: str = DEFAULTS["pii"],
    seed: int | None = DEFAULTS["seed"],
    run_id: str = DEFAULTS["run_id"],
    rules_from: str | Path | None = DEFAULTS["rules_from"],
) -> CountyInspection:
    """Check the parameters and open one county of the store for inspection."""
    # the parameters, exactly as named in the notebooks' parameters cell, are all the locals here
    return CountyInspection(validate_spec(dict(locals()), scope="county"))


def open_city(
    county: str = "540100",
    *,
    store: str | Path = DEFAULTS["store"],
    params: str | Path = DEFAULTS["params"],
    out: str | Path = DEFAULTS["out"],
    lang: str = DEFAULTS["lang"],
    pii: str = DEFAULTS["pii"],
    seed: int | None = DEFAULTS["seed"],
    run_id: str = DEFAULTS["run_id"],
    rules_from: str | Path | None = DEFAULTS["rules_from"],
    counties: list[str] | None = DEFAULTS["counties"],
    excluded: list[str] | None = DEFAULTS["excluded"],
) -> CityInspection:
    """Check the parameters and open the whole store for the city roll-up (or only ``counties``)."""
    return CityInspection(validate_spec(dict(locals()), scope="city"))


class _Inspection:
    """What the county and city inspections share: store, parameters, labels, provenance."""

    def __init__(self, spec: RunSpec) -> None:
        self.spec = spec
        self.lang = spec.lang
        self.params: Params = load_params(spec.params)
        self.store = Store.open(spec.store)
        self.started = dt.datetime.now().astimezone()
        self._clock = time.perf_counter()

    # --- helpers ---------------------------------------------------------------------------

    def _t(self, key: str, **fields: object) -> str:
        return label(key, self.lang, **fields)

    @property
    def seed(self) -> int:
        """The sample's seed: the run's, or the parameters file's when the run gives none."""
        return self.spec.seed if self.spec.seed is not None else self.params.verification_sample.seed

    @property
    def masked(self) -> bool:
        """Whether personal data are masked in what this inspection shows."""
        return self.spec.pii == "masked"

    @functools.cached_property
    def _made_from(self) -> dict[str, str]:
        return kept_runs.made_from(self.store, self.spec.params)  # hashed once, whatever the units read

    def _kept(self, unit: str) -> Any:
        """``unit``'s rule run kept by the batch in ``rules_from``; None when not given or not there."""
        if self.spec.rules_from is None:
            return None
        expected = {"unit": unit, **self._made_from}
        if unit == kept_runs.CITY and self.spec.excluded:
            expected["excluded"] = ",".join(sorted(self.spec.excluded))
        return kept_runs.load(kept_runs.folder(self.spec.rules_from, unit), expected)

    @functools.cached_property
    def _tracked(self) -> Mapping[str, Any] | None:
        """The follow-up states a batch given ``--track`` kept beside its rule runs; None without."""
        if self.spec.rules_from is None:
            return None
        return read_snapshot(Path(self.spec.rules_from))

    def _follow_up_columns(self, shown: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, str]]:
        """``shown`` with each finding's follow-up status, owner and deadline, and their headers."""
        if self._tracked is None or shown.empty:
            return shown, {}
        view = follow_up(self._tracked, shown["finding_id"].tolist()).set_index("finding_id")
        view = view.loc[shown["finding_id"]]
        words = SHOWN_LABELS[self.lang]
        status = [
            words[REOPENED] if r else words[s] for s, r in zip(view["status"], view["reopened"], strict=True)
        ]
        shown = shown.assign(
            followup_status=status,
            followup_unit=view["unit"].to_numpy(),
            followup_deadline=view["deadline"].to_numpy(),
        )
        headers = {
            "followup_status": self._t("col.followup"),
            "followup_unit": self._t("col.owner"),
            "followup_deadline": self._t("col.deadline"),
        }
        return shown, headers

    def _read(self, table: str, counties: list[str] | None) -> pd.DataFrame | None:
        if not self.store.has(table):
            return None
        return self.store.read(table, counties=None if TABLES[table].reference else counties)

    @functools.cached_property
    def _divisions(self) -> pd.DataFrame:
        frame = self._read("divisions", None)
        return frame if frame is not None else pd.DataFrame(columns=["division_code", "name"])

    @functools.cached_property
    def _names(self) -> dict[str, str]:
        names: dict[str, str] = {}
        for code, name in zip(self._divisions["division_code"], self._divisions["name"], strict=True):
            if pd.notna(code) and pd.notna(name):
                names.setdefault(str(code), str(name))  # the register's first row for a code, as before
        return names

    def division_name(self, code: str) -> str:
        """The register's name of a county or township, or its code when the register lacks it."""
        return self._names.get(code, code)

    def _table_name(self, table: object) -> str:
        name = str(table)
        return TABLES[name].zh if self.lang == "zh" and name in TABLES else name

    def _fragment(self, html: str, section: str, area: str | None = None, **meta: str) -> P.Fragment:
        return P.Fragment(html, section, area, meta)

    def _title_fragment(self, title: str, code: str) -> P.Fragment:
        year = self.params.audit_year
        where = "report.city" if code == self.params.city_code else "report.county"
        facts = [
            (self._t(where), self._place(code)),
            (
                self._t("report.period"),
                self._t("report.period_value", start=f"{year}-01-01", end=f"{year}-12-31"),
            ),
            (self._t("report.run_id"), self.spec.run_id),
            (self._t("report.date"), self.started.date().isoformat()),
        ]
        notice = (
            P.banner(self._t("report.pii_full"))
            if not self.masked
            else P.paragraph(self._t("report.masked"), "audit-note")
        )
        html = P.heading(title, 1) + notice + P.definition_list(facts)
        return self._fragment(html, "title", title=f"{title} {self._place(code)}")  # the page's <title>

    def _place(self, code: str) -> str:
        name = self.division_name(code)
        if name == code:
            return code
        return f"{name}（{code}）" if self.lang == "zh" else f"{name} ({code})"

    def _findings_table(self, findings: pd.DataFrame, *, county_column: bool = False) -> str:
        """Findings grouped by rule: a heading with the rule's title and severity, then its rows."""
        if findings.empty:
            return P.paragraph(self._t("summary.no_findings"))
        shown = mask_findings(findings, self.spec.pii)
        shown["township_code"] = [
            self.division_name(c) if isinstance(c, str) and c else "" for c in shown["township_code"]
        ]
        desc = f"description_{self.lang}"
        headers = {
            **({"county_code": self._t("col.county")} if county_column else {}),
            "township_code": self._t("col.township"),
            "entity_id": self._t("col.entity_id"),
            "amount_yuan": self._t("col.amount_yuan"),
            desc: self._t("col.description"),
            "evidence": self._t("col.evidence"),
        }
        shown, tracked = self._follow_up_columns(shown)
        headers.update(tracked)
        parts = []
        for rule_id, rows in shown.groupby("rule_id", sort=False):
            title = _rule_title(str(rule_id), self.lang)
            severity = self._t(f"severity.{rows['severity'].iloc[0]}")
            parts.append(
                P.heading(
                    f"{rule_id} {title}（{severity}）"
                    if self.lang == "zh"
                    else f"{rule_id} {title} ({severity})",
                    3,
                )
            )
            rows = rows.assign(evidence=[P.evidence_text(e, self.lang) for e in rows["evidence"]])
            parts.append(
                P.table(
                    rows,
                    headers,
                    formats={"amount_yuan": P.yuan},
                    cell_classes={desc: "audit-text", "evidence": "audit-evidence"},
                    max_rows=MAX_ROWS_PER_RULE,
                )
            )
            if len(rows) > MAX_ROWS_PER_RULE:
                parts.append(
                    P.paragraph(
                        self._t("area.truncated", shown=MAX_ROWS_PER_RULE, total=len(rows)), "audit-note"
                    )
                )
        return "".join(parts)

    def _results_table(self, results: pd.DataFrame) -> str:

        frame = results.copy()
        frame["title"] = [_rule_title(str(r), self.lang) for r in frame["rule_id"]]
        frame["status_text"] = [self._t(f"status.{s}") for s in frame["status"]]
        headers = {
            "rule_id": self._t("col.rule_id"),
            "title": self._t("col.title"),
            "status_text": self._t("col.status"),
            "n_findings": self._t("col.n_findings"),
            "amount_yuan": self._t("col.amount_yuan"),
            f"reason_{self.lang}": self._t("col.reason"),
        }
        return P.table(frame, headers, formats={"amount_yuan": P.yuan, "n_findings": P.count})

    def _quality_html(self, issues: pd.DataFrame, *, by_county: bool = False) -> str:
        html = P.heading(self._t("quality.heading"), 2)
        if issues is None or issues.empty:
            return html + P.paragraph(self._t("quality.none"))
        issues = mask_quality(issues, self.spec.pii)
        keys = [c for c in ("county_code", "table", "column", "check", "action") if c in issues]
        if not by_county:
            keys = [k for k in keys if k != "county_code"]
        message = f"message_{self.lang}"
        summary = (
            issues.groupby(keys, dropna=False, sort=True)
            .agg(rows=("action", "size"), message=(message, "first"))
            .reset_index()
        )
        summary["action"] = [self._t(f"action.{a}") if pd.notna(a) else "" for a in summary["action"]]
        summary["table"] = [self._table_name(t) for t in summary["table"]]
        headers = {k: self._t(f"col.{k if k != 'county_code' else 'county'}") for k in keys}
        headers |= {"rows": self._t("col.rows"), "message": self._t("col.message")}
        html += P.heading(self._t("quality.summary"), 3)
        html += P.table(summary, headers, formats={"rows": P.count}, cell_classes={"message": "audit-text"})
        if by_county:
            return html
        # what was taken out of the data first, then what was changed, then mere flags
        rank = issues["action"].map({"quarantined": 0, "repaired": 1, "flagged": 2}).fillna(3)
        detail = issues.assign(_rank=rank).sort_values("_rank", kind="stable").head(MAX_QUALITY_ROWS).copy()
        detail["action"] = [self._t(f"action.{a}") if pd.notna(a) else "" for a in detail["action"]]
        detail_headers = {
            c: self._t(f"col.{c}") for c in ("file", "sheet", "row", "column", "value") if c in detail
        }
        detail_headers |= {message: self._t("col.message"), "action": self._t("col.action")}
        html += P.heading(self._t("quality.rows", shown=len(detail), total=len(issues)), 3)
        return html + P.table(detail, detail_headers, cell_classes={message: "audit-text"})

    def _provenance_html(self) -> str:
        t = self._t
        root = project_root()
        store = self.spec.store
        shown_store = store.relative_to(root) if store.is_relative_to(root) else store
        params_file = self.spec.params
        shown_params = params_file.relative_to(root) if params_file.is_relative_to(root) else params_file
        html = P.heading(t("provenance.heading"), 2)
        html += P.paragraph(t("provenance.store", store=shown_store))
        sources = pd.DataFrame(self.store.manifest.get("sources", []))
        if not sources.empty:
            if "path" in sources and "file" not in sources:
                sources = sources.rename(columns={"path": "file"})  # ingest names it path
            wanted = ("file", "table", "rows_read", "rows_loaded", "rows_quarantined", "rows_skipped")
            wanted += ("sha256",)
            headers = {c: t(f"col.{c}") for c in wanted if c in sources}
            formats = {c: P.count for c in headers if c.startswith("rows_")}
            html += P.heading(t("provenance.inputs"), 3)
            html += P.table(sources, headers, formats=formats, cell_classes={"sha256": "audit-hash"})
        html += P.heading(t("provenance.params"), 3)
        html += P.paragraph(t("provenance.params_file", file=shown_params, sha256=params_digest(params_file)))
        values = _flatten(self.params.model_dump())
        html += P.table(
            pd.DataFrame({"parameter": list(values), "value": [_value_text(v) for v in values.values()]}),
            {"parameter": t("col.parameter"), "value": t("col.value")},
        )
        run = {
            "county": self.spec.county,
            "lang": self.spec.lang,
            "pii": self.spec.pii,
            "seed": str(self.seed),
            "run_id": self.spec.run_id,
        }
        html += P.table(
            pd.DataFrame({"parameter": list(run), "value": list(run.values())}),
            {"parameter": t("col.parameter"), "value": t("col.value")},
        )
        versions = {"audit": _audit_version(), **package_versions()}
        html += P.heading(t("provenance.packages"), 3)
        html += P.table(
            pd.DataFrame({"package": list(versions), "version": list(versions.values())}),
            {"package": t("col.package"), "version": t("col.version")},
        )
        revision = code_revision(root)
        text = str(revision.get("revision", "unknown"))
        if revision.get("dirty"):
            text += t("provenance.dirty")
        html += P.paragraph(t("provenance.revision", revision=text))
        seconds = f"{time.perf_counter() - self._clock:.1f}"
        html += P.paragraph(
            t("provenance.run_time", start=self.started.isoformat(timespec="seconds"), seconds=seconds)
        )
        return html

    def provenance(self) -> P.Fragment:
        """Appendix: input file hashes, parameters, package versions, code revision, run time."""
        return self._fragment(self._provenance_html(), "provenance")

    def _unaudited_table(self, counties: list[str] | None) -> str:
        """Money no rule saw: quarantined rows and their yuan by table and county (``Store.unaudited``)."""
        t = self._t
        frame = self.store.unaudited(counties)
        html = P.heading(t("summary.unaudited"), 3)
        if frame.empty:
            return html + P.paragraph(t("summary.unaudited_none"), "audit-note")
        frame = frame.assign(table=[self._table_name(n) for n in frame["table"]])
        headers = {"table": t("col.table"), "county_code": t("col.county"), "rows": t("col.rows")}
        headers |= {"yuan": t("col.yuan")}
        return html + P.table(frame, headers, formats={"rows": P.count, "yuan": P.yuan})

    def _write_results(self, results: pd.DataFrame, stem: str) -> Path:
        out = self.spec.out
        out.mkdir(parents=True, exist_ok=True)
        path = out / f"{stem}.parquet"
        partial = path.with_name(f".{path.name}.partial")
        results.to_parquet(partial, index=False)
        partial.replace(path)
        return path


class CountyInspection(_Inspection):
    """One county: its tables, its rule run over every area, and the report's sections."""

    @property
    def county(self) -> str:
        """The county's code."""
        return self.spec.county

    @functools.cached_property
    def tables(self) -> Mapping[str, pd.DataFrame | None]:
        """Every table of the contract for this county (reference lists whole); None if not supplied."""
        return kept_runs.county_tables(self.store, self.county)

    @functools.cached_property
    def run(self) -> Any:
        """The county's rule run, every area (``.findings`` and ``.results``): the batch's, or run here."""
        kept = self._kept(self.county)
        return kept if kept is not None else kept_runs.run_county(self.tables, self.params, self.county)

    def findings(self, area: str | None = None) -> pd.DataFrame:
        """The county's findings (full values: for the register, not for display)."""
        frame = self.run.findings
        if area is None:
            return frame
        return frame[frame["area"] == _area(area)].reset_index(drop=True)

    def results(self, area: str | None = None) -> pd.DataFrame:
        """The county's rule results: fired, clean or not run, with the reason."""
        frame = self.run.results
        if area is None:
            return frame
        return frame[frame["area"] == _area(area)].reset_index(drop=True)

    def follow_up(self) -> pd.DataFrame:
        """Each finding's follow-up (status, owner, deadline, reopened, closable); empty without ``--track``.

        Findings of the county the journal knows and this run no longer shows come last, closable.
        """
        return follow_up(self._tracked, self.findings()["finding_id"].tolist(), self.county)

    def _follow_up_rows(self, view: pd.DataFrame) -> str:
        words = SHOWN_LABELS[self.lang]
        rows = view.assign(
            rule=[self._rule_of(f) for f in view["finding_id"]],
            shown_status=[
                words[REOPENED] if r else words[s]
                for s, r in zip(view["status"], view["reopened"], strict=True)
            ],
        )
        headers = {
            "finding_id": self._t("col.finding_id"),
            "rule": self._t("col.rule_id"),
            "shown_status": self._t("col.followup"),
            "unit": self._t("col.owner"),
            "deadline": self._t("col.deadline"),
        }
        return P.table(rows, headers, max_rows=MAX_ROWS_PER_RULE)

    def _rule_of(self, finding: str) -> str:
        known = self.findings().set_index("finding_id")["rule_id"]
        if finding in known.index:
            rule_id = str(known.loc[finding])
        else:
            state = (self._tracked or {}).get(finding)
            rule_id = getattr(state, "rule_id", "")
        return f"{rule_id} {_rule_title(rule_id, self.lang)}" if rule_id else ""

    def title_block(self) -> P.Fragment:
        """Title, county, audit period, run id, date; a warning banner when personal data show in full.

        With a follow-up journal, findings reported rectified that this run still finds
        (整改未到位) are flagged here, at the top of the report.
        """
        fragment = self._title_fragment(self._t("report.title"), self.county)
        if self._tracked is None:
            return fragment
        reopened = self.follow_up().query("reopened")
        if reopened.empty:
            return fragment
        html = P.banner(self._t("followup.reopened", n=len(reopened))) + self._follow_up_rows(reopened)
        return self._fragment(fragment.html + html, "title", **dict(fragment.meta))

    def summary(self) -> P.Fragment:
        """Findings by severity and area, money at stake, every rule's result, and the follow-up."""
        t = self._t
        findings = self.findings()
        html = P.heading(t("summary.heading"), 2)
        html += P.heading(t("summary.by_severity"), 3)
        html += _severity_area_table(findings, self.lang)
        html += self._unaudited_table([self.county])
        html += P.heading(t("summary.rules"), 3) + self._results_table(self.results())
        if self._tracked is not None:
            html += self._follow_up_html()
        return self._fragment(html, "summary")

    def _follow_up_html(self) -> str:
        t, words = self._t, SHOWN_LABELS[self.lang]
        view = self.follow_up()
        flags = zip(view["status"], view["reopened"], view["closable"], strict=True)
        shown = [words[REOPENED] if r else words[CLOSABLE] if c else words[s] for s, r, c in flags]
        order = [words[s] for s in (*STATUSES, REOPENED, CLOSABLE)]
        counts = pd.Series(shown, dtype="str").value_counts()
        table = pd.DataFrame(
            {
                "status": [w for w in order if w in counts.index],
                "n": [int(counts[w]) for w in order if w in counts.index],
            }
        )
        html = P.heading(t("followup.heading"), 3) + P.heading(t("followup.by_status"), 4)
        html += P.table(table, {"status": t("col.followup"), "n": t("col.n_findings")})
        closable = view.query("closable")
        if closable.empty:
            return html + P.paragraph(t("followup.none_closable"), "audit-note")
        return html + P.paragraph(t("followup.closable", n=len(closable))) + self._follow_up_rows(closable)

    def findings_section(self, area: str) -> P.Fragment:
        """One area's heading and findings, grouped by rule (masked unless pii is full)."""
        letter = _area(area)
        html = P.heading(f"{letter} {self._t(f'area.{letter}')}", 2)
        html += self._findings_table(self.findings(letter))
        return self._fragment(html, "area", letter)

    def chart(self, kind: str) -> P.Fragment:
        """A chart of the county: ``contracts`` (C), ``coverage`` (S) or ``relief`` (F)."""
        if kind not in ("contracts", "coverage", "relief"):
            raise ValueError(f"unknown chart {kind!r}; allowed: contracts, coverage, relief")
        html = getattr(self, f"_chart_{kind}")()
        return self._fragment(html, "area", CHARTS[kind])

    def _no_data(self, table: str) -> str:
        return P.paragraph(self._t("chart.no_data", table=self._table_name(table)), "audit-note")

    def _chart_contracts(self) -> str:
        contracts = self.tables["contracts"]
        if contracts is None or contracts.empty:
            return self._no_data("contracts")
        frame = contracts[["contract_id", "positions", "amount_yuan"]].sort_values("contract_id")
        frame = frame.assign(
            expected_yuan=frame["positions"].astype(float) * float(self.params.purchase.unit_cost_yuan)
        )
        budget = _allocated(self.tables["fund_allocations"], purpose=PURCHASE)
        svg = charts.contracts(frame.reset_index(drop=True), budget, self.lang)
        return P.figure_html(svg, self._t("chart.contracts"))

    def _chart_coverage(self) -> str:
        staff = self.tables["staff"]
        if staff is None:
            return self._no_data("staff")
        townships = self._divisions
        if "level" in townships:
            townships = townships[
                (townships["level"] == "township") & (townships["parent_code"] == self.county)
            ]
        codes = sorted(set(townships["division_code"])) or sorted(
            set(staff["post_code"]) - {self.params.city_code}
        )
        covered = coverage(staff, codes, self.params.audit_year)
        covered.index = [self.division_name(c) for c in covered.index]
        return P.figure_html(charts.coverage(covered, self.lang), self._t("chart.coverage"))

    def _chart_relief(self) -> str:
        payments = self.tables["relief_payments"]
        if payments is None:
            return self._no_data("relief_payments")
        months = [f"{self.params.audit_year}-{m:02d}" for m in range(1, 13)]
        paid = payments.groupby("period")["amount_yuan"].sum().reindex(months, fill_value=0.0)
        allocation = _allocated(self.tables["fund_allocations"], purpose=RELIEF, fund=SPECIAL_FUND)
        return P.figure_html(charts.relief(paid, allocation, self.lang), self._t("chart.relief"))

    def quality_section(self) -> P.Fragment:
        """What ingest quarantined, repaired or flagged for this county, and why."""
        return self._fragment(self._quality_html(self.store.quality(counties=[self.county])), "quality")

    @functools.cached_property
    def sample(self) -> pd.DataFrame:
        """The seeded field-verification sample (full values)."""
        roll = self.tables["beneficiaries"]
        if roll is None:
            return pd.DataFrame()
        payments = None
        if self.params.verification_sample.method == "monetary_unit":  # drawn by amount (issue 19)
            payments = self.tables["relief_payments"]
        return draw_sample(roll, self.findings(), self.params, seed=self.seed, payments=payments)

    def sample_section(self) -> P.Fragment:
        """The households drawn for home visits, and the seed that draws them again."""
        t = self._t
        html = P.heading(t("sample.heading"), 2) + P.paragraph(t("sample.seed", seed=self.seed))
        sample = self.sample
        if sample.empty:
            return self._fragment(html + P.paragraph(t("sample.none")), "sample")
        shown = mask_frame(sample, self.spec.pii)
        if "township_code" in shown:
            shown["township_code"] = [self.division_name(str(c)) for c in shown["township_code"]]
        if "selection" in shown:
            shown["selection"] = [
                t(f"selection.{v}") if has_label(f"selection.{v}") else v for v in shown["selection"]
            ]
        wanted = ("township_code", "programme", "household_id", "persons", "selection", "rule_ids")
        headers = {c: t(f"col.{c}" if c != "township_code" else "col.township") for c in wanted if c in shown}
        html += P.paragraph(t("sample.size", n=_households(sample)))
        return self._fragment(html + P.table(shown, headers), "sample")

    def save_findings(self, area: str) -> dict[str, Path]:
        """Write the area's findings register (full values: restricted) and rule results to ``out``."""
        letter = _area(area)
        written = dict(write_register(self.findings(letter), self.spec.out, f"findings-{letter}"))
        written["results"] = self._write_results(self.results(letter), f"results-{letter}")
        return written


class CityInspection(_Inspection):
    """The city roll-up: every county's findings, the city-wide rules, links to the county reports."""

    @functools.cached_property
    def tables(self) -> Mapping[str, pd.DataFrame | None]:
        """Every table of the contract for the whole city; None if not supplied (read only when needed)."""
        return kept_runs.city_tables(self.store, self.spec.excluded or ())

    @functools.cached_property
    def counties(self) -> list[str]:
        """The counties the roll-up covers (the run's, else the store's, but the excluded), in code order."""
        listed = self.spec.counties or self.store.counties()
        left_out = {self.params.city_code, *(self.spec.excluded or ())}
        return sorted(str(c) for c in listed if str(c) not in left_out)

    @functools.cached_property
    def own_run(self) -> Any:
        """The roll-up's own rule run: city-wide and cross-county rules, and the city bureau's rows."""
        kept = self._kept(kept_runs.CITY)
        return kept if kept is not None else kept_runs.run_city(self.tables, self.params)

    @property
    def register(self) -> pd.DataFrame:
        """The roll-up's own register: city-wide and cross-county findings, and the city bureau's."""
        return self.own_run.findings

    @functools.cached_property
    def county_findings(self) -> pd.DataFrame:
        """Every county's county-scope findings, one register (each county's kept run, or run here)."""
        runs = []
        for county in self.counties:
            kept = self._kept(county)
            runs.append(kept if kept is not None else kept_runs.run_county(self.tables, self.params, county))
        return combine_registers(r.findings for r in runs) if runs else self.register.iloc[0:0]

    def title_block(self) -> P.Fragment:
        """Title, city, audit period, run id, date; a warning banner when personal data show in full."""
        return self._title_fragment(self._t("report.city_title"), self.spec.county)

    def _by_county(self) -> pd.DataFrame:
        findings = self.county_findings
        counts = (
            pd.crosstab(findings["county_code"], findings["severity"])
            if not findings.empty
            else pd.DataFrame()
        )
        counts = counts.reindex(index=self.counties, columns=list(SEVERITIES), fill_value=0)
        money = (
            findings.groupby("county_code")["amount_yuan"].sum()
            if not findings.empty
            else pd.Series(dtype=float)
        )
        counts.index.name = "county_code"
        frame = counts.reset_index()
        frame["total"] = counts.sum(axis=1).to_numpy()
        frame["amount_yuan"] = money.reindex(self.counties).fillna(0.0).to_numpy()
        frame["county"] = [self._place(c) for c in frame["county_code"]]
        return frame

    def summary(self) -> P.Fragment:
        """Findings by county and severity, and the city-wide rules' results."""
        t = self._t
        frame = self._by_county()
        headers = {"county": t("col.county")}
        headers |= {s: t(f"severity.{s}") for s in SEVERITIES}
        headers |= {"total": t("col.total"), "amount_yuan": t("col.amount_yuan")}
        formats = {s: P.count for s in (*SEVERITIES, "total")} | {"amount_yuan": P.yuan}
        html = P.heading(t("summary.heading"), 2) + P.heading(t("city.by_county"), 3)
        if self.spec.excluded:  # counties whose store files are damaged: named, not silently missing
            places = "、".join(self._place(c) for c in sorted(self.spec.excluded))
            html += P.paragraph(t("city.excluded", counties=places), "audit-banner")
        html += P.table(frame, headers, formats=formats)
        html += self._unaudited_table(None)
        html += P.heading(t("summary.rules"), 3) + self._results_table(self.own_run.results)
        return self._fragment(html, "summary")

    def city_findings(self) -> P.Fragment:
        """The findings only the whole city shows: cross-county and city-wide rules."""
        html = P.heading(self._t("city.cross_county"), 2)
        html += self._findings_table(self.register, county_column=True)
        return self._fragment(html, "city")

    def chart(self, kind: str = "counties") -> P.Fragment:
        """County comparison: findings by severity and money at stake, county by county."""
        if kind != "counties":
            raise ValueError(f"unknown chart {kind!r}; the roll-up has: counties")
        frame = self._by_county().set_index("county")
        html = P.heading(self._t("city.comparison"), 2)
        svg = charts.counties(frame[list(SEVERITIES)], frame["amount_yuan"], self.lang)
        return self._fragment(html + P.figure_html(svg, self._t("chart.counties")), "city")

    def county_reports(self) -> P.Fragment:
        """Relative links to every county's report (``../<code>/report.html``)."""
        frame = pd.DataFrame({"county": [self._place(c) for c in self.counties]})
        frame["html"] = [P.link(f"../{c}/report.html", "report.html") for c in self.counties]
        frame["pdf"] = [P.link(f"../{c}/report.pdf", "report.pdf") for c in self.counties]
        headers = {"county": self._t("col.county"), "html": "HTML", "pdf": "PDF"}
        html = P.heading(self._t("city.reports"), 2) + P.table(frame, headers, raw_html=("html", "pdf"))
        return self._fragment(html, "city")

    def quality_section(self) -> P.Fragment:
        """Data-quality problems by county, table and check."""
        return self._fragment(self._quality_html(self.store.quality(), by_county=True), "quality")

    def save_findings(self) -> dict[str, Path]:
        """Write the city-scope findings register (full values: restricted) and results to ``out``."""
        written = dict(write_register(self.register, self.spec.out, "findings-city"))
        written["results"] = self._write_results(self.own_run.results, "results-city")
        return written


# --- computations the charts and tables need ------------------------------------------------


def _area(area: str) -> str:
    letter = {"contracts": "C", "staffing": "S", "relief": "F"}.get(area, area)
    if letter not in AREAS:
        raise ValueError(f"unknown area {area!r}; allowed: C, S, F (or contracts, staffing, relief)")
    return letter


def coverage(staff: pd.DataFrame, townships: list[str], year: int) -> pd.DataFrame:
    """Township × month of ``year``: 1.0 where some staff member was in post on every day of the month.

    The same reading as rule S1: days are covered by anyone in post (hired_on to left_on, both
    included), so a handover on the 15th/16th keeps the month covered.
    """
    days = np.arange(
        np.datetime64(f"{year}-01-01"), np.datetime64(f"{year + 1}-01-01"), dtype="datetime64[D]"
    )
    hired = staff["hired_on"].to_numpy(dtype="datetime64[D]")[:, None]
    left = staff["left_on"].to_numpy(dtype="datetime64[D]")[:, None]
    # NaT compares False, so a member still in post (no left_on) needs its own test
    in_post = (hired <= days) & (np.isnat(left) | (left >= days))
    by_post = pd.DataFrame(in_post, columns=days).groupby(staff["post_code"].to_numpy()).any()
    by_post = by_post.reindex(townships, fill_value=False)
    months = pd.PeriodIndex(days, freq="M").astype(str)
    return by_post.T.groupby(months).all().T.astype(float)


def _allocated(allocations: pd.DataFrame | None, *, purpose: str, fund: str | None = None) -> float | None:
    if allocations is None:
        return None
    rows = allocations[allocations["purpose"] == purpose]
    if fund is not None:
        rows = rows[rows["fund"] == fund]
    return float(rows["amount_yuan"].sum()) if len(rows) else None


def _severity_area_table(findings: pd.DataFrame, lang: str) -> str:
    counts = pd.crosstab(findings["severity"], findings["area"]) if not findings.empty else pd.DataFrame()
    counts = counts.reindex(index=list(SEVERITIES), columns=list(AREAS), fill_value=0)
    money = findings.groupby("area")["amount_yuan"].sum() if not findings.empty else pd.Series(dtype=float)
    money = money.reindex(list(AREAS)).fillna(0.0)
    frame = counts.reset_index(drop=True)
    frame.insert(0, "severity", [label(f"severity.{s}", lang) for s in SEVERITIES])
    frame["total"] = counts.sum(axis=1).to_numpy()
    totals = {
        "severity": label("summary.total", lang),
        **counts.sum().to_dict(),
        "total": int(counts.to_numpy().sum()),
    }
    money_row = {
        "severity": label("summary.money", lang),
        **{a: money[a] for a in AREAS},
        "total": float(money.sum()),
    }
    frame = pd.concat([frame, pd.DataFrame([totals])], ignore_index=True)
    headers = {"severity": label("col.severity", lang)}
    headers |= {a: f"{a} {label(f'area.{a}', lang)}" for a in AREAS}
    headers |= {"total": label("col.total", lang)}
    formats = {c: P.count for c in (*AREAS, "total")}
    html = P.table(frame, headers, formats=formats)
    money_frame = pd.DataFrame([money_row])
    return html + P.table(money_frame, headers, formats={c: P.yuan for c in (*AREAS, "total")})


def _flatten(values: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in values.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out |= _flatten(value, f"{name}.")
        else:
            out[name] = value
    return out


def _rule_title(rule_id: str, lang: str) -> str:
    return getattr(RULES[rule_id], f"title_{lang}") if rule_id in RULES else ""


def _audit_version() -> str:
    return __version__


def _value_text(value: object) -> str:
    if value is None:
        return "—"
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return str(value)


def _households(sample: pd.DataFrame) -> int:
    return int(sample["household_id"].nunique()) if "household_id" in sample else len(sample)

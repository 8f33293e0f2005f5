"""The facade the notebooks call: open a county (or the city), run its rules, show its sections.

A notebook holds its parameters and one call per cell::

    insp = audit.inspection.open_county(county, store=store, params=params, out=out,
                                        lang=lang, pii=pii, seed=seed, run_id=run_id)
    insp.title_block()
    insp.basic_facts()
    insp.chart("contracts")
    insp.basis_and_method()
    insp.problems()
    ...
    insp.save_findings("C")

Each call returns a :class:`~audit.document.Part` of the report's content model, built by
:mod:`audit.chapters` in the chosen language with personal data masked unless ``pii="full"``,
and tagged with its place so :mod:`audit.reports` can put a county's three area notebooks
together into one report document that every format renders. Every part but the charts
covers the whole county (the rules of all areas run once per notebook: cheap for one county),
so each notebook also reads well on its own.
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

from audit import __version__, chapters, charts, kept_runs
from audit.chapters import Wording
from audit.datacontract import TABLES
from audit.document import Block, Facts, Paragraph, Part, Section, Table
from audit.findings import combine_registers, write_register
from audit.i18n import label
from audit.manifest import code_revision, package_versions
from audit.params import Params, load_params, params_digest
from audit.runspec import DEFAULTS, RunSpec, project_root, validate_spec
from audit.store import Store
from audit.tracking import CLOSABLE, REOPENED, SHOWN_LABELS, STATUSES, follow_up, read_snapshot
from audit.visit_sample import draw_sample
from audit.vocabulary import AREAS, PURCHASE, RELIEF, SEVERITIES, SPECIAL_FUND

CHARTS: dict[str, str] = {"contracts": "C", "coverage": "S", "relief": "F", "counties": "city"}
"""Chart names and the section (area letter, or the city roll-up) each belongs to."""


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
    county: str | None = None,
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
    """Check the parameters and open the whole store for the city roll-up (or only ``counties``).

    Without ``county`` the unit is the parameters file's city code.
    """
    if county is None:
        county = load_params(params).city_code
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

    @functools.cached_property
    def wording(self) -> Wording:
        """Values and evidence as text in the report's language, places by their register names."""
        return Wording(self.lang, self.division_name, self.params)

    def _part(self, name: str, blocks: list[Block], area: str | None = None, title: str = "") -> Part:
        return chapters.part(name, blocks, self.lang, area, title)

    def _section(self, key: str, blocks: list[Block]) -> Section:
        return Section(self._t(key), tuple(blocks), level=1)

    def _title_part(self, title: str, code: str) -> Part:
        year = self.params.audit_year
        where = "report.city" if code == self.params.city_code else "report.county"
        facts = [
            (self._t(where), self._place(code)),
            (
                self._t("report.period"),
                self._t(
                    "report.period_value",
                    start=chapters.date_text(f"{year}-01-01", self.lang),
                    end=chapters.date_text(f"{year}-12-31", self.lang),
                ),
            ),
            (self._t("report.run_id"), self.spec.run_id),
            (self._t("report.date"), chapters.date_text(self.started.date().isoformat(), self.lang)),
        ]
        notice = (
            Paragraph(self._t("report.pii_full"), "banner")
            if not self.masked
            else Paragraph(self._t("report.masked"), "note")
        )
        part = Part(
            "title",
            (Facts(tuple(facts)), notice),
            None,
            title,
            self.lang,
            {"page_title": f"{title} {self._place(code)}"},
        )
        return part

    def _place(self, code: str) -> str:
        name = self.division_name(code)
        if name == code:
            return code
        return f"{name}（{code}）" if self.lang == "zh" else f"{name} ({code})"

    def _provenance_blocks(self) -> list[Block]:
        t = self._t
        root = project_root()
        store = self.spec.store
        shown_store = store.relative_to(root) if store.is_relative_to(root) else store
        params_file = self.spec.params
        shown_params = params_file.relative_to(root) if params_file.is_relative_to(root) else params_file
        blocks: list[Block] = [Paragraph(t("provenance.store", store=shown_store), "note")]
        sources = pd.DataFrame(self.store.manifest.get("sources", []))
        if not sources.empty:
            if "path" in sources and "file" not in sources:
                sources = sources.rename(columns={"path": "file"})  # ingest names it path
            wanted = [
                c
                for c in ("file", "table", "rows_read", "rows_loaded", "rows_quarantined", "sha256")
                if c in sources
            ]
            rows = []
            for _, row in sources.iterrows():
                cells = []
                for c in wanted:
                    value = row[c]
                    if c.startswith("rows_"):
                        cells.append(chapters.count(value))
                    elif c == "table":
                        cells.append(self._table_name(value))
                    else:
                        cells.append(
                            ""
                            if value is None or (not isinstance(value, str) and pd.isna(value))
                            else str(value)
                        )
                rows.append(tuple(cells))
            widths = {
                "file": 2.2,
                "table": 1.3,
                "rows_read": 1.0,
                "rows_loaded": 1.0,
                "rows_quarantined": 1.0,
                "sha256": 3.6,
            }
            blocks.append(Paragraph(t("provenance.inputs"), "label"))
            blocks.append(
                Table(
                    tuple(t(f"col.{c}") for c in wanted),
                    tuple(rows),
                    tuple(c.startswith("rows_") for c in wanted),
                    tuple(widths[c] for c in wanted),
                )
            )
        blocks.append(
            Paragraph(
                t("provenance.params_file", file=shown_params, sha256=params_digest(params_file)), "note"
            )
        )
        run = [
            (t("report.run_id"), self.spec.run_id),
            (t("col.seed"), str(self.seed)),
            (t("col.pii"), t(f"pii.{self.spec.pii}")),
        ]
        blocks.append(Table((t("col.parameter"), t("col.value")), tuple(run), (False, False), (1.0, 2.0)))
        versions = {"audit": _audit_version(), **package_versions()}
        blocks.append(Paragraph(t("provenance.packages"), "label"))
        blocks.append(
            Table((t("col.package"), t("col.version")), tuple(versions.items()), (False, False), (1.0, 2.0))
        )
        revision = code_revision(root)
        text = str(revision.get("revision", "unknown"))
        if revision.get("dirty"):
            text += t("provenance.dirty")
        blocks.append(Paragraph(t("provenance.revision", revision=text), "note"))
        seconds = f"{time.perf_counter() - self._clock:.1f}"
        blocks.append(
            Paragraph(
                t("provenance.run_time", start=self.started.isoformat(timespec="seconds"), seconds=seconds),
                "note",
            )
        )
        return blocks

    def _appendix(self, name: str, n: int, title_key: str, blocks: list[Block]) -> Part:
        return self._part(name, [chapters.appendix_section(n, self._t(title_key), blocks, self.wording)])

    def provenance(self) -> Part:
        """Attachment: input file hashes, the parameters file, package versions, code revision, run time."""
        return self._appendix(
            "provenance", self._provenance_number, "provenance.heading", self._provenance_blocks()
        )

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
        """Every table of the contract for this county (reference lists whole); None if not supplied.

        Only the county's own rows: the rows of other partitions the rules join are read for a
        rule run (:attr:`run`), never counted here.
        """
        return kept_runs.county_tables(self.store, self.county, joins=False)

    @functools.cached_property
    def run(self) -> Any:
        """The county's rule run, every area (``.findings`` and ``.results``): the batch's, or run here."""
        kept = self._kept(self.county)
        if kept is not None:
            return kept
        return kept_runs.run_county(
            kept_runs.county_tables(self.store, self.county), self.params, self.county
        )

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

    def _follow_up_table(self, view: pd.DataFrame) -> Table:
        words = SHOWN_LABELS[self.lang]
        rows = tuple(
            (
                str(f),
                self._rule_of(str(f)),
                words[REOPENED] if r else words[s],
                "" if u is None or (not isinstance(u, str) and pd.isna(u)) else str(u),
                chapters.date_text(d, self.lang)
                if d is not None and not (not isinstance(d, str) and pd.isna(d))
                else "",
            )
            for f, s, r, u, d in zip(
                view["finding_id"],
                view["status"],
                view["reopened"],
                view["unit"],
                view["deadline"],
                strict=True,
            )
        )
        columns = tuple(
            self._t(k) for k in ("col.finding_id", "col.rule_id", "col.followup", "col.owner", "col.deadline")
        )
        return Table(columns, rows, (), (1.6, 2.6, 1.2, 1.6, 1.2))

    def _rule_of(self, finding: str) -> str:
        known = self.findings().set_index("finding_id")["rule_id"]
        if finding in known.index:
            rule_id = str(known.loc[finding])
        else:
            state = (self._tracked or {}).get(finding)
            rule_id = getattr(state, "rule_id", "")
        return f"{rule_id} {chapters.rule_meta(rule_id, self.lang, self.params)['title']}" if rule_id else ""

    def _follow_up_blocks(self) -> list[Block]:
        """整改跟踪情况: findings by follow-up status, and those that may be closed (可销号)."""
        t, words = self._t, SHOWN_LABELS[self.lang]
        view = self.follow_up()
        flags = zip(view["status"], view["reopened"], view["closable"], strict=True)
        shown = [words[REOPENED] if r else words[CLOSABLE] if c else words[s] for s, r, c in flags]
        order = [words[s] for s in (*STATUSES, REOPENED, CLOSABLE)]
        counts = pd.Series(shown, dtype="str").value_counts()
        table = Table(
            (t("col.followup"), t("col.n_findings")),
            tuple((w, chapters.count(counts[w])) for w in order if w in counts.index),
            (False, True),
            (2.0, 1.0),
        )
        blocks: list[Block] = [table]
        closable = view.query("closable")
        if closable.empty:
            blocks.append(Paragraph(t("followup.none_closable"), "note"))
        else:
            blocks += [Paragraph(t("followup.closable", n=len(closable))), self._follow_up_table(closable)]
        return [Section(t("followup.heading"), tuple(blocks), level=2)]

    def _follow_up_of(self, findings: pd.DataFrame) -> dict[str, tuple[str, str, str]] | None:
        """Finding id -> (status, owner, deadline) as a reader sees them; None without a journal."""
        if self._tracked is None or findings.empty:
            return None
        shown, _ = self._follow_up_columns(findings)
        return {
            str(f): (
                str(s),
                "" if u is None or (not isinstance(u, str) and pd.isna(u)) else str(u),
                ""
                if d is None or (not isinstance(d, str) and pd.isna(d))
                else chapters.date_text(d, self.lang),
            )
            for f, s, u, d in zip(
                shown["finding_id"],
                shown["followup_status"],
                shown["followup_unit"],
                shown["followup_deadline"],
                strict=True,
            )
        }

    def title_block(self) -> Part:
        """Title, county, audit period, run id, date; a warning banner when personal data show in full.

        With a follow-up journal, findings reported rectified that this run still finds
        (整改未到位) are flagged here, at the top of the report.
        """
        part = self._title_part(self._t("report.title"), self.county)
        if self._tracked is None:
            return part
        reopened = self.follow_up().query("reopened")
        if reopened.empty:
            return part
        extra = (
            Paragraph(self._t("followup.reopened", n=len(reopened)), "banner"),
            self._follow_up_table(reopened),
        )
        return Part(part.part, part.blocks + extra, part.area, part.title, part.lang, part.meta)

    def basic_facts(self) -> Part:
        """一、基本情况: offices, contracts and positions, staff by month, the roll, payments, funds."""
        return self._part("basics", [self._section("doc.basics", chapters.county_basics(self))])

    def basis_and_method(self) -> Part:
        """二、检查依据和方法: documents, data received, rules run and not run, the sample and its seed."""
        sample = self.sample
        households = _households(sample) if not sample.empty else None
        blocks = chapters.method_blocks(self, self.results(), households, [self.county])
        return self._part("method", [self._section("doc.method", blocks)])

    def problems(self) -> Part:
        """三、发现的主要问题: one subsection per rule that fired, by severity then money at stake."""
        subsections = chapters.problem_subsections(self.findings(), self.wording, self.spec.pii)
        blocks: list[Block] = list(subsections) or [Paragraph(self._t("doc.no_problems"))]
        return self._part("problems", [self._section("doc.problems", blocks)])

    def recommendations(self) -> Part:
        """四、整改意见汇总: one measure per rule that fired, with the money at stake."""
        items: list[Block] = list(chapters.recommendation_items(self.findings(), self.wording))
        if self._tracked is not None:
            items += self._follow_up_blocks()
        return self._part(
            "recommendations",
            [self._section("doc.recommendations", items or [Paragraph(self._t("doc.no_problems"))])],
        )

    def findings_list(self) -> Part:
        """Attachment 1: every finding of the county, its evidence as labelled fields."""
        findings = self.findings()
        table = chapters.findings_list(
            findings, self.wording, self.spec.pii, follow=self._follow_up_of(findings)
        )
        blocks: list[Block] = [table] if table.rows else [Paragraph(self._t("summary.no_findings"))]
        return self._appendix("findings", 1, "doc.findings_list", blocks)

    def chart(self, kind: str) -> Part:
        """A chart of the county: ``contracts`` (C), ``coverage`` (S) or ``relief`` (F), in 基本情况."""
        if kind not in ("contracts", "coverage", "relief"):
            raise ValueError(f"unknown chart {kind!r}; allowed: contracts, coverage, relief")
        block = getattr(self, f"_chart_{kind}")()
        return self._part("basics", [block], CHARTS[kind])

    def _no_data(self, table: str) -> Paragraph:
        return Paragraph(self._t("chart.no_data", table=self._table_name(table)), "note")

    def _chart_contracts(self) -> Block:
        contracts = self.tables["contracts"]
        if contracts is None or contracts.empty:
            return self._no_data("contracts")
        frame = contracts[["contract_id", "positions", "amount_yuan"]].sort_values("contract_id")
        frame = frame.assign(
            expected_yuan=frame["positions"].astype(float) * float(self.params.purchase.unit_cost_yuan)
        )
        budget = _allocated(self.tables["fund_allocations"], purpose=PURCHASE)
        svg = charts.contracts(frame.reset_index(drop=True), budget, self.lang)
        return chapters.figure(svg, self._t("chart.contracts"))

    def _chart_coverage(self) -> Block:
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
        return chapters.figure(charts.coverage(covered, self.lang), self._t("chart.coverage"))

    def _chart_relief(self) -> Block:
        payments = self.tables["relief_payments"]
        if payments is None:
            return self._no_data("relief_payments")
        months = [f"{self.params.audit_year}-{m:02d}" for m in range(1, 13)]
        paid = payments.groupby("period")["amount_yuan"].sum().reindex(months, fill_value=0.0)
        allocation = _allocated(self.tables["fund_allocations"], purpose=RELIEF, fund=SPECIAL_FUND)
        return chapters.figure(charts.relief(paid, allocation, self.lang), self._t("chart.relief"))

    def quality_section(self) -> Part:
        """Attachment 2: what ingest quarantined, repaired or flagged here, grouped, with examples."""
        blocks = chapters.quality_blocks(
            self.store.quality(counties=[self.county]), self.wording, self.spec.pii, self._table_name
        )
        return self._appendix("quality", 2, "quality.heading", blocks)

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

    def sample_section(self) -> Part:
        """Attachment 3: the households drawn for home visits, and the seed that draws them again."""
        t = self._t
        blocks: list[Block] = [Paragraph(t("sample.seed", seed=self.seed))]
        sample = self.sample
        if sample.empty:
            blocks.append(Paragraph(t("sample.none")))
        else:
            blocks.append(Paragraph(t("sample.size", n=_households(sample))))
            blocks.append(chapters.sample_table(sample, self.wording, self.spec.pii))
        return self._appendix("sample", 3, "sample.heading", blocks)

    _provenance_number = 4

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

    def title_block(self) -> Part:
        """Title, city, audit period, run id, date; a warning banner when personal data show in full."""
        return self._title_part(self._t("report.city_title"), self.spec.county)

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
        frame["county"] = [self.division_name(c) for c in frame["county_code"]]
        return frame

    def overview(self) -> Part:
        """一、总体情况: totals, counties ranked by money and by high findings, the city-wide problems."""
        return self._part("overview", [self._section("doc.overview", chapters.city_overview(self))])

    def chart(self, kind: str = "counties") -> Part:
        """County comparison: findings by severity and money at stake, county by county."""
        if kind != "counties":
            raise ValueError(f"unknown chart {kind!r}; the roll-up has: counties")
        frame = self._by_county().set_index("county")
        svg = charts.counties(frame[list(SEVERITIES)], frame["amount_yuan"], self.lang)
        return self._part("overview", [chapters.figure(svg, self._t("chart.counties"))], "city")

    def problems(self) -> Part:
        """二、各类问题情况: each rule that fired in some county, with the counties, counts and money."""
        return self._part("problems", [self._section("doc.rule_detail", chapters.city_rule_detail(self))])

    def county_reports(self) -> Part:
        """Attachment 1: relative links to every county's report in each format."""
        formats = (("html", "HTML"), ("pdf", "PDF"), ("docx", "Word"))
        rows = tuple((self._place(c), *(f"report.{ext}" for ext, _ in formats)) for c in self.counties)
        links = tuple(("", *(f"../{c}/report.{ext}" for ext, _ in formats)) for c in self.counties)
        table = Table(
            (self._t("col.county"), *(name for _, name in formats)),
            rows,
            (),
            (2.4, 1.0, 1.0, 1.0),
            links=links,
        )
        return self._appendix("reports", 1, "city.reports", [table])

    def quality_section(self) -> Part:
        """Attachment 2: data-quality problems by county, table, column and check."""
        blocks = chapters.quality_blocks(
            self.store.quality(), self.wording, self.spec.pii, self._table_name, by_county=True
        )
        return self._appendix("quality", 2, "quality.heading", blocks)

    _provenance_number = 3

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


def _audit_version() -> str:
    return __version__


def _households(sample: pd.DataFrame) -> int:
    return int(sample["household_id"].nunique()) if "household_id" in sample else len(sample)

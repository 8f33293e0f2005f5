"""The audit parameters: a YAML file validated into a typed, frozen object before anything runs.

Thresholds and years live in ``params/*.yaml``, never in code. A missing key, an unknown
key or a value of the wrong type raises :class:`~audit.exceptions.ParameterError` naming
the key, so a typo cannot silently fall back to a default.
"""

from __future__ import annotations

import hashlib
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from audit.datacontract import BUSINESS_ROLES, CONTRACTOR_TYPES, EDUCATION_LEVELS, PROGRAMMES
from audit.exceptions import ParameterError


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=False)


class PlannedPositions(_Frozen):
    """Positions the programme plans to buy."""

    township: int = Field(ge=0)
    city: int = Field(ge=0)


class Purchase(_Frozen):
    """Thresholds of the purchased-service programme (rules C and S)."""

    approved_budget_yuan: Decimal = Field(ge=0)
    unit_cost_yuan: Decimal = Field(ge=0)
    planned_positions: PlannedPositions
    special_fund_cap_share: float = Field(ge=0, le=1)
    contract_amount_tolerance_yuan: Decimal = Field(ge=0)
    max_contract_term_days: int = Field(ge=1)
    eligible_contractor_types: tuple[str, ...]
    min_education: str
    allowed_vacancy_days: int = Field(ge=0)
    # C10: the day the purchase plan (方案) was approved; None: C10 says "not run".
    plan_approved_on: date | None = None

    @model_validator(mode="after")
    def _known_values(self) -> Purchase:
        if self.min_education not in EDUCATION_LEVELS:
            raise ValueError(f"min_education must be one of {', '.join(EDUCATION_LEVELS)}")
        unknown = set(self.eligible_contractor_types) - set(CONTRACTOR_TYPES)
        if unknown:
            raise ValueError(
                f"eligible_contractor_types has unknown {sorted(unknown)}; "
                f"allowed: {', '.join(CONTRACTOR_TYPES)}"
            )
        return self


class Standard(_Frozen):
    """One relief standard: yuan per person per month or per year."""

    yuan: Decimal = Field(ge=0)
    per: Literal["month", "year"]

    @property
    def monthly_yuan(self) -> Decimal:
        """The standard per person per month, rounded to the fen."""
        value = self.yuan if self.per == "month" else self.yuan / 12
        return value.quantize(Decimal("0.01"))


class AreaStandards(_Frozen):
    """A programme's standard in street offices (urban) and townships (rural)."""

    urban: Standard
    rural: Standard


class Published(_Frozen):
    """Figures the release published for one programme (F9)."""

    households: int | None = Field(default=None, ge=0)
    persons: int | None = Field(default=None, ge=0)


class Assets(_Frozen):
    """Asset disqualifiers (F12-F14): what a household on the roll may not hold."""

    vehicle_value_yuan: Decimal = Field(ge=0)  # a vehicle worth more than this
    real_estate_m2_per_person: float = Field(ge=0)  # registered floor area per household member above this
    business_roles: tuple[str, ...]  # registrations that disqualify
    business_capital_yuan: Decimal = Field(ge=0)  # ... when their registered capital is above this

    @model_validator(mode="after")
    def _known_roles(self) -> Assets:
        unknown = set(self.business_roles) - set(BUSINESS_ROLES)
        if unknown:
            raise ValueError(
                f"business_roles has unknown {sorted(unknown)}; allowed: {', '.join(BUSINESS_ROLES)}"
            )
        return self


class Income(_Frozen):
    """Income from other departments' lists counted against the standard (F15)."""

    housing_fund_base_share: float = Field(ge=0, le=1)  # share of the contribution base counted as income


class NearDuplicates(_Frozen):
    """Suspected duplicate people on the roll (F18)."""

    severity: Literal["info", "low"]
    max_name_edits: int = Field(ge=0, le=2)  # names this many characters apart still match
    match_pinyin: bool  # names that sound the same (same pinyin, tones ignored) match


class Relief(_Frozen):
    """Thresholds of relief-fund use (rules F)."""

    payment_deadline_day: int = Field(ge=1, le=28)
    amount_tolerance_yuan: Decimal = Field(ge=0)
    unspent_allocation_tolerance_share: float = Field(ge=0, le=1)
    standards: dict[str, AreaStandards]
    published_statistics: dict[str, Published]
    # None: F9 counts everyone on the roll; a date: only those enrolled on that day.
    published_statistics_as_of: date | None
    benford_min_payments: int = Field(ge=1)
    benford_mad_threshold: float = Field(gt=0)
    round_amount_share_threshold: float = Field(gt=0, le=1)
    round_amount_unit_yuan: Decimal = Field(gt=0)
    # Optional blocks: a rule whose block is absent says "not run" rather than invent a threshold.
    assets: Assets | None = None
    income: Income | None = None
    # F17: groups of programmes (of the roll or of other_programmes) that exclude each other.
    exclusive_programmes: tuple[tuple[str, ...], ...] | None = None
    near_duplicates: NearDuplicates | None = None

    @model_validator(mode="after")
    def _known_programmes(self) -> Relief:
        for key in (*self.standards, *self.published_statistics):
            if key not in PROGRAMMES:
                raise ValueError(f"unknown programme {key!r}; allowed: {', '.join(PROGRAMMES)}")
        for group in self.exclusive_programmes or ():
            if len(set(group)) < 2:
                raise ValueError("each group of exclusive_programmes needs at least two programmes")
        return self


class Numbering(_Frozen):
    """Sequence checks of document numbers (C11, F19)."""

    min_series_length: int = Field(ge=2)  # numbers sharing a prefix before they count as a series
    min_pattern_share: float = Field(gt=0, le=1)  # share of a table's numbers that must follow the pattern
    max_gaps_listed: int = Field(ge=1)  # missing ranges written into the evidence


class MonetaryUnit(_Frozen):
    """Monetary-unit sampling of payments (probability proportional to amount)."""

    confidence: float = Field(gt=0, lt=1)
    tolerable_misstatement_yuan: Decimal = Field(gt=0)


class VerificationSample(_Frozen):
    """The field-verification (走访入户) sample."""

    seed: int = Field(ge=0)
    per_stratum: int = Field(ge=0)
    method: Literal["stratified", "monetary_unit"] = "stratified"
    monetary_unit: MonetaryUnit | None = None

    @model_validator(mode="after")
    def _method_has_its_parameters(self) -> VerificationSample:
        if self.method == "monetary_unit" and self.monetary_unit is None:
            raise ValueError(
                "method monetary_unit needs a monetary_unit block (confidence, tolerable_misstatement_yuan)"
            )
        return self


class Cited(_Frozen):
    """A name or a document as a report cites it, in Chinese and in English."""

    zh: str = Field(min_length=1)
    en: str = Field(min_length=1)


class Sources(_Frozen):
    """Names and documents the findings cite: the city's own, and the rules in force that year.

    The rules' bases quote these (and the figures of ``purchase``), so that a parameters file
    alone carries everything that names a city, a year or a document.
    """

    city: Cited
    plan: Cited
    plan_approved_on: date
    funding_documents: Cited
    purchase_rules: Cited
    relief_rules: Cited
    dibao_rules: Cited
    standards: Cited
    statistics: Cited


QUOTED = (
    *(name for name in Sources.model_fields),
    "audit_year",
    "unit_cost",
    "budget",
    "budget_wan",
    "cap_share",
    "township_positions",
    "city_positions",
    "eligible_contractors",
    "min_education",
    "max_term_days",
    "allowed_vacancy_days",
)
"""The words a rule's title, basis or recommendation may quote as ``{name}`` (:meth:`Params.quoted`)."""


class Report(_Frozen):
    """What the inspection report cites and how its Word file looks."""

    # the documents the inspection rests on, cited in 二、检查依据和方法
    documents: tuple[str, ...] = ()
    # a .docx whose styles, margins and letterhead the Word report takes (relative to the
    # parameters file); None: the package's GB/T 9704-2012 layout
    docx_template: str | None = None


class Params(_Frozen):
    """Every parameter of an audit run."""

    audit_year: int = Field(ge=2000, le=2100)
    city_code: str = Field(pattern=r"^\d{6}$")
    sources: Sources
    purchase: Purchase
    relief: Relief
    verification_sample: VerificationSample
    numbering: Numbering | None = None
    report: Report = Report()

    def quoted(self, lang: Literal["zh", "en"]) -> dict[str, str]:
        """The words a rule's texts quote (``{plan}``, ``{unit_cost}``, ...), in ``lang``.

        Amounts are in yuan with thousands separators and no trailing ``.00``; ``budget_wan``
        is the budget in 万元 as Chinese documents write it; ``cap_share`` is a percentage.
        """
        s, p = self.sources, self.purchase
        words = {
            name: getattr(getattr(s, name), lang)
            for name in Sources.model_fields
            if name != "plan_approved_on"
        }
        sep = "、" if lang == "zh" else ", "
        words.update(
            plan_approved_on=s.plan_approved_on.isoformat(),
            audit_year=str(self.audit_year),
            unit_cost=_yuan(p.unit_cost_yuan),
            budget=_yuan(p.approved_budget_yuan),
            budget_wan=_plain(p.approved_budget_yuan / 10000),
            cap_share=_plain(Decimal(str(p.special_fund_cap_share)) * 100) + "%",
            township_positions=str(p.planned_positions.township),
            city_positions=str(p.planned_positions.city),
            eligible_contractors=sep.join(p.eligible_contractor_types),
            min_education=p.min_education,
            max_term_days=str(p.max_contract_term_days),
            allowed_vacancy_days=str(p.allowed_vacancy_days),
        )
        return words


def _plain(value: Decimal) -> str:
    """A decimal without trailing zeros or exponent: 12.3456, 4, 5.5."""
    return format(value.normalize(), "f")


def _yuan(value: Decimal) -> str:
    """An amount with thousands separators, fen only when there are some: 12,345 or 1,234.50."""
    return f"{value:,.0f}" if value == value.to_integral_value() else f"{value:,.2f}"


def load_params(path: str | Path) -> Params:
    """Read and validate a parameters file; raise ParameterError naming the bad key."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ParameterError(
            f"{path}: parameters file not found; pass --params params/lhasa-2020.yaml"
        ) from None
    except yaml.YAMLError as exc:
        raise ParameterError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise ParameterError(f"{path}: expected a mapping of parameter names to values")
    try:
        return Params.model_validate(raw)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            key = ".".join(str(p) for p in err["loc"]) or "(top level)"
            msg = err["msg"]
            if err["type"] == "extra_forbidden":
                msg = "unknown key (check the spelling against params/lhasa-2020.yaml)"
            elif err["type"] == "missing":
                msg = "required key is missing"
            problems.append(f"{key}: {msg}")
        raise ParameterError(f"{path}: invalid parameters:\n  " + "\n  ".join(problems)) from None


def params_digest(path: str | Path) -> str:
    """SHA-256 of the parameters file as written, for provenance."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()

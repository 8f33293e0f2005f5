"""The parameters file: read into typed values; every error names the key."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from audit.exceptions import ParameterError
from audit.params import QUOTED, Params, load_params, params_digest
from fixtures import PARAMS_FILE


def test_the_lhasa_file_loads_with_the_catalogue_defaults():
    p = load_params(PARAMS_FILE)
    assert isinstance(p, Params)
    assert (p.audit_year, p.city_code) == (2020, "540100")
    assert p.purchase.approved_budget_yuan == Decimal("6280816.00")
    assert p.purchase.unit_cost_yuan == Decimal("79504.00")
    assert (p.purchase.planned_positions.township, p.purchase.planned_positions.city) == (71, 8)
    assert p.purchase.special_fund_cap_share == 0.04
    assert p.purchase.min_education == "本科"
    assert p.purchase.allowed_vacancy_days == 60
    assert p.relief.payment_deadline_day == 15
    assert p.relief.unspent_allocation_tolerance_share == 0.05
    assert "孤儿" not in p.relief.standards
    assert p.relief.published_statistics["城市低保"].households == 5409
    assert p.relief.published_statistics_as_of is None
    assert p.relief.round_amount_unit_yuan == Decimal("100")


def test_sources_and_the_words_rules_quote():
    p = load_params(PARAMS_FILE)
    assert p.sources.plan.zh == "拉萨市2020年政府购买基层社会救助服务方案"
    assert p.sources.plan_approved_on == dt.date(2020, 1, 9)
    zh, en = p.quoted("zh"), p.quoted("en")
    assert set(zh) == set(en) == set(QUOTED)
    assert (zh["unit_cost"], zh["budget"], zh["budget_wan"], zh["cap_share"]) == (
        "79,504",
        "6,280,816",
        "628.0816",
        "4%",
    )
    assert (zh["city"], en["city"], zh["township_positions"], zh["city_positions"]) == (
        "拉萨市",
        "Lhasa",
        "71",
        "8",
    )
    assert zh["eligible_contractors"] == "社会组织、劳务公司"
    assert en["eligible_contractors"] == "社会组织, 劳务公司"
    assert en["standards"] == "Tibet's 2020 standards"


def test_quoted_amounts_keep_fen_and_odd_shares(tmp_path):
    def change(raw):
        raw["purchase"].update(
            unit_cost_yuan="66000.50", approved_budget_yuan="1234567.80", special_fund_cap_share=0.055
        )

    zh = load_params(_write(tmp_path, change)).quoted("zh")
    assert (zh["unit_cost"], zh["budget"], zh["budget_wan"], zh["cap_share"]) == (
        "66,000.50",
        "1,234,567.80",
        "123.45678",
        "5.5%",
    )


def test_monthly_standards_to_the_fen():
    s = load_params(PARAMS_FILE).relief.standards
    assert s["城市低保"].urban.monthly_yuan == Decimal("847.00")
    assert s["农村低保"].rural.monthly_yuan == Decimal("392.75")
    assert s["特困分散供养"].urban.monthly_yuan == Decimal("1101.08")
    assert s["特困分散供养"].rural.monthly_yuan == Decimal("589.17")


def _write(tmp_path: Path, change) -> Path:
    raw = yaml.safe_load(PARAMS_FILE.read_text(encoding="utf-8"))
    change(raw)
    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return path


def test_as_of_date_is_read_as_a_date(tmp_path):
    path = _write(tmp_path, lambda r: r["relief"].update(published_statistics_as_of=dt.date(2020, 5, 7)))
    assert load_params(path).relief.published_statistics_as_of == dt.date(2020, 5, 7)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda r: r["relief"].pop("round_amount_unit_yuan"),
            "relief.round_amount_unit_yuan: required key is missing",
        ),
        (
            lambda r: r["relief"].pop("published_statistics_as_of"),
            "relief.published_statistics_as_of: required",
        ),
        (lambda r: r["purchase"].update(allowed_vacancy_day=60), "purchase.allowed_vacancy_day: unknown key"),
        (lambda r: r["purchase"].update(special_fund_cap_share="four"), "purchase.special_fund_cap_share"),
        (lambda r: r["purchase"].update(special_fund_cap_share=4), "purchase.special_fund_cap_share"),
        (lambda r: r["relief"].update(round_amount_unit_yuan=0), "relief.round_amount_unit_yuan"),
        (
            lambda r: r["relief"].update(published_statistics_as_of="soon"),
            "relief.published_statistics_as_of",
        ),
        (lambda r: r["purchase"].update(min_education="小学"), "min_education must be one of"),
        (
            lambda r: r["relief"]["standards"].update(低保=r["relief"]["standards"]["城市低保"]),
            "unknown programme '低保'",
        ),
        (lambda r: r["verification_sample"].update(seed=-1), "verification_sample.seed"),
    ],
)
def test_errors_name_the_key(tmp_path, change, message):
    with pytest.raises(ParameterError, match=message.replace("(", "\\(")):
        load_params(_write(tmp_path, change))


def test_missing_file_and_non_mapping(tmp_path):
    with pytest.raises(ParameterError, match="not found"):
        load_params(tmp_path / "none.yaml")
    (tmp_path / "list.yaml").write_text("- 1\n", encoding="utf-8")
    with pytest.raises(ParameterError, match="expected a mapping"):
        load_params(tmp_path / "list.yaml")


def test_digest_is_of_the_bytes(tmp_path):
    (tmp_path / "a.yaml").write_bytes(b"x: 1\n")
    assert (
        params_digest(tmp_path / "a.yaml")
        == "d09edadd173a8bbc233d47dcafc30cc876af2fb569812f2bbe0e92a1905bbce8"
    )

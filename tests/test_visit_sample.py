"""The field-verification sample: stratified, seeded, high-risk households always in."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from audit.exceptions import ParameterError
from audit.findings import empty_register, to_register
from audit.params import MonetaryUnit
from audit.rules.evidence import finding_rows
from audit.visit_sample import SAMPLE_COLUMNS, draw_sample, monetary_unit_payments, mus_sample_size
from fixtures.rule_tables import TOWN, TOWN2, frame, params

P = params(verification_sample={"seed": 7, "per_stratum": 2, "method": "stratified"})


def _roll():
    rows = []
    for town in (TOWN, TOWN2):
        for programme in ("城市低保", "农村低保"):
            for i in range(10):
                hh = f"{town[-1]}{programme[0]}{i:02d}"
                rows.append(
                    {
                        "person_id": f"{hh}-a",
                        "household_id": hh,
                        "division_code": town,
                        "programme": programme,
                    }
                )
                rows.append(
                    {
                        "person_id": f"{hh}-b",
                        "household_id": hh,
                        "division_code": town,
                        "programme": programme,
                    }
                )
    # a stratum with one household only, and an exited household that is never drawn at random
    rows.append({"person_id": "solo", "household_id": "SOLO", "division_code": TOWN, "programme": "孤儿"})
    gone = {"person_id": "gone", "household_id": "GONE", "division_code": TOWN, "exited_on": "2020-02-01"}
    rows.append({**gone, "programme": "特困集中供养"})
    return frame("beneficiaries", *rows)


def _findings(rule_id, **evidence):
    raw = finding_rows(county_code="540102", entity_id=["x"], description_zh=["d"], description_en=["d"],
                       evidence=[evidence])  # fmt: skip
    return to_register(raw, rule_id=rule_id, area=rule_id[0], severity="high", entity_type="payment")


def test_per_stratum_households_drawn_and_the_seed_recorded():
    sample = draw_sample(_roll(), empty_register(), P)
    assert tuple(sample.columns) == SAMPLE_COLUMNS
    per = sample.groupby(["township_code", "programme"]).size().to_dict()
    assert per == {
        (TOWN, "农村低保"): 2,
        (TOWN, "城市低保"): 2,
        (TOWN, "孤儿"): 1,
        (TOWN2, "农村低保"): 2,
        (TOWN2, "城市低保"): 2,
    }
    assert set(sample["selection"]) == {"random"}
    assert "GONE" not in set(sample["household_id"])
    assert set(sample["persons"]) == {1, 2}
    assert set(sample["seed"]) == {7} and sample.attrs["seed"] == 7


def test_same_seed_same_households_other_seed_others():
    a = draw_sample(_roll(), empty_register(), P)
    b = draw_sample(_roll(), empty_register(), P)
    pd.testing.assert_frame_equal(a, b)
    draws = {tuple(draw_sample(_roll(), empty_register(), P, seed=s)["household_id"]) for s in range(5)}
    assert len(draws) > 1
    assert draw_sample(_roll(), empty_register(), P, seed=3).attrs["seed"] == 3


def test_high_risk_households_are_always_in_and_do_not_use_the_quota():
    findings = pd.concat(
        [
            _findings("F3", household_id="1城03"),
            _findings("F7", household_ids=["1城04", "GONE"]),
            _findings("S7", household_id="2农05"),
            _findings("C1", household_id="1城06"),  # not a household rule: ignored
        ],
        ignore_index=True,
    )
    sample = draw_sample(_roll(), findings, P)
    risky = sample.loc[sample["selection"] == "high_risk"].set_index("household_id")["rule_ids"].to_dict()
    assert risky == {"1城03": "F3", "1城04": "F7", "GONE": "F7", "2农05": "S7"}
    random = sample.loc[sample["selection"] == "random"]
    assert (random.groupby(["township_code", "programme"]).size() <= 2).all()
    assert len(random) == 9
    assert "1城06" not in set(risky)


def test_rule_ids_list_f_rules_then_s7():
    findings = pd.concat([_findings("S7", household_id="1城03"), _findings("F10", household_id="1城03"),
                          _findings("F2", household_id="1城03")])  # fmt: skip
    sample = draw_sample(_roll(), findings, P)
    assert sample.set_index("household_id").at["1城03", "rule_ids"] == "F2,F10,S7"
    assert json.loads(findings["evidence"].iloc[0]) == {"household_id": "1城03"}


def test_an_empty_roll_gives_an_empty_sample_with_the_seed():
    sample = draw_sample(frame("beneficiaries"), empty_register(), P)
    assert sample.empty and tuple(sample.columns) == SAMPLE_COLUMNS
    assert sample.attrs["seed"] == 7


# monetary-unit sampling ----------------------------------------------------------------------------

MUS = {"confidence": 0.95, "tolerable_misstatement_yuan": 500000.0}


def _payments(amounts):
    rows = [
        {"payment_id": f"P{i:03d}", "person_id": f"{h}-a", "household_id": h, "amount_yuan": a}
        for i, (h, a) in enumerate(amounts)
    ]
    return frame("relief_payments", *rows)


def test_mus_sample_size_from_confidence_and_tolerable_misstatement():
    mus = MonetaryUnit(**MUS)
    assert mus_sample_size(1_000_000, mus) == 6  # 1,000,000 x 2.996 / 500,000 = 5.99
    assert mus_sample_size(500_000, mus) == 3  # 2.996
    assert mus_sample_size(0, mus) == 0
    assert mus_sample_size(1_000_000, MonetaryUnit(confidence=0.9, tolerable_misstatement_yuan=500000)) == 5


def test_mus_draws_in_proportion_to_amount_and_always_takes_a_payment_above_the_interval():
    # 1,000,000 in all: n = 6, interval 166,666.67; the 400,000 payment spans it twice or three times
    amounts = [("1城00", 400000.0), ("1城01", 100.0), ("1城02", 100.0)] + [("1城03", 59980.0)] * 10
    drawn = monetary_unit_payments(_payments(amounts), MonetaryUnit(**MUS), seed=7)
    assert "P000" in set(drawn["payment_id"])
    assert int(drawn.loc[drawn["payment_id"] == "P000", "hits"].iloc[0]) in (2, 3)
    assert int(drawn["hits"].sum()) == 6
    small = {"P001", "P002"}
    seen = set()
    for seed in range(200):  # 100 yuan of 1,000,000: each seed's chance is 0.06 %
        seen |= small & set(
            monetary_unit_payments(_payments(amounts), MonetaryUnit(**MUS), seed)["payment_id"]
        )
    assert len(seen) <= 1


def test_mus_is_seeded_and_an_option_of_the_sample():
    amounts = [(f"{t}{p}{i:02d}", 300.0 + i) for t in "12" for p in "城农" for i in range(10)]
    p = params(
        verification_sample={"seed": 7, "per_stratum": 2, "method": "monetary_unit",
                             "monetary_unit": {"confidence": 0.95, "tolerable_misstatement_yuan": 5000.0}}
    )  # fmt: skip
    a = draw_sample(_roll(), empty_register(), p, payments=_payments(amounts))
    b = draw_sample(_roll(), empty_register(), p, payments=_payments(amounts))
    pd.testing.assert_frame_equal(a, b)
    assert set(a["selection"]) == {"monetary_unit"}
    # 12,180 x 2.996 / 5,000 = 7.3: 8 points 1,522.50 apart, each on another household's payment
    assert len(a) == 8
    assert tuple(a.columns) == SAMPLE_COLUMNS
    other = draw_sample(_roll(), empty_register(), p, payments=_payments(amounts), seed=8)
    assert set(other["household_id"]) != set(a["household_id"])
    stratified = draw_sample(_roll(), empty_register(), p, payments=_payments(amounts), method="stratified")
    assert set(stratified["selection"]) == {"random"}


def test_mus_needs_payments_and_its_parameters():
    p = params(
        verification_sample={"seed": 7, "per_stratum": 2, "method": "stratified", "monetary_unit": None}
    )
    with pytest.raises(ParameterError, match="monetary_unit"):
        draw_sample(
            _roll(), empty_register(), p, method="monetary_unit", payments=_payments([("1城00", 1.0)])
        )
    with pytest.raises(ParameterError, match="relief payments"):
        draw_sample(_roll(), empty_register(), params(), method="monetary_unit")

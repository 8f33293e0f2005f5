"""run_rules: scopes, partitions, not-run reasons, results and the register's shape."""

from __future__ import annotations

import pandas as pd
import pytest

from audit.exceptions import ParameterError, RuleError
from audit.findings import REGISTER_COLUMNS
from audit.rules import RESULT_COLUMNS, run_rule, run_rules
from fixtures.rule_tables import CITY, COUNTY, OTHER, frame, params

P = params()


def _contracts():
    return frame(
        "contracts",
        {"contract_id": "A", "contractor_type": "其他"},
        {"contract_id": "B", "county_code": OTHER, "contractor_type": "其他"},
    )


def test_county_run_gives_one_result_per_county_rule_of_the_area():
    run = run_rules({"contracts": _contracts()}, P, scope="county", area="C", county=COUNTY)
    assert run.results["rule_id"].tolist() == ["C1", "C2", "C3", "C4", "C6", "C7", "C8", "C9", "C10", "C11"]
    assert list(run.results.columns) == list(RESULT_COLUMNS)
    status = dict(zip(run.results["rule_id"], run.results["status"], strict=True))
    assert status == {
        "C1": "fired",
        "C2": "clean",
        "C3": "clean",
        "C4": "not_run",
        "C6": "not_run",
        "C7": "not_run",
        "C8": "not_run",
        "C9": "fired",
        "C10": "fired",  # the default contract is signed before the plan's approval
        "C11": "not_run",
    }
    c7 = run.results.set_index("rule_id").loc["C7"]
    assert c7["reason_en"] == "not run: no staff table, fund payments table supplied"
    assert c7["reason_zh"] == "未运行：未提供购买服务人员表、资金支付表"
    assert set(run.results["county_code"]) == {COUNTY}
    assert set(run.results["scope"]) == {"county"}


def test_county_run_sees_only_its_county():
    run = run_rules({"contracts": _contracts()}, P, scope="county", area="C", county=OTHER)
    assert set(run.findings["entity_id"]) == {"B"}
    assert set(run.findings["county_code"]) == {OTHER}


def test_county_is_inferred_when_the_tables_hold_one():
    run = run_rule(
        "C1", {"contracts": frame("contracts", {"contract_id": "A", "contractor_type": "其他"})}, P
    )
    assert run.county == COUNTY


def test_county_must_be_named_when_the_tables_hold_several():
    with pytest.raises(ParameterError, match="540102, 540103"):
        run_rules({"contracts": _contracts()}, P, scope="county")


def test_city_run_runs_the_city_parts_only():
    run = run_rules({"contracts": _contracts()}, P, scope="city")
    assert run.results["rule_id"].tolist() == ["C4", "C5", "S3", "S5", "S9", "F4", "F7", "F9"]
    assert set(run.results["county_code"]) == {CITY}
    with pytest.raises(ParameterError, match="county must be None"):
        run_rules({}, P, scope="city", county=COUNTY)


def test_params_must_be_validated_params():
    with pytest.raises(ParameterError, match="load_params"):
        run_rules({}, {"audit_year": 2020}, scope="city")


def test_a_rule_without_a_part_in_the_scope_is_refused():
    with pytest.raises(RuleError, match="C5 has no county-scope part"):
        run_rule("C5", {}, P, scope="county", county=COUNTY)


def test_findings_have_the_register_columns_and_dtypes_and_fired_counts():
    run = run_rules({"contracts": _contracts()}, P, scope="county", area="C", county=COUNTY)
    f = run.findings
    assert tuple(f.columns) == REGISTER_COLUMNS
    assert f["rule_id"].tolist() == ["C1", "C9", "C10"]
    assert f["amount_yuan"].dtype == "float64"
    assert all(f[c].dtype == "str" for c in REGISTER_COLUMNS if c != "amount_yuan")
    c1 = run.results.set_index("rule_id").loc["C1"]
    assert (c1["n_findings"], c1["amount_yuan"], c1["reason_en"]) == (1, 79504.0, "1 finding")
    assert run.results["n_findings"].dtype == "int64"


def test_empty_run_has_an_empty_register():
    run = run_rules({}, P, scope="county", county=COUNTY)
    assert run.findings.empty and tuple(run.findings.columns) == REGISTER_COLUMNS
    assert set(run.results["status"]) == {"not_run"}
    assert len(run.results) == 36  # every rule with a county part


def test_same_inputs_same_findings():
    a = run_rules({"contracts": _contracts()}, P, scope="county", county=COUNTY).findings
    b = run_rules({"contracts": _contracts()}, P, scope="county", county=COUNTY).findings
    pd.testing.assert_frame_equal(a, b)

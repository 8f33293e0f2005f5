"""Rules S1-S10 on hand-made staff, offices and divisions: each fires, each near miss does not."""

from __future__ import annotations

import json

import pytest

from audit.rules import run_rule
from fixtures.rule_tables import CITY, COUNTY, OTHER, TOWN, TOWN2, frame, one_township, params, resident_id

P = params()
OTHER_TOWN = "540103001"


def run(rule_id, scope="county", county=None, p=P, **tables):
    if scope == "county" and county is None:
        county = COUNTY
    return run_rule(rule_id, tables, p, scope=scope, county=county)


def found(rule_id, scope="county", p=P, **tables):
    return run(rule_id, scope=scope, p=p, **tables).findings


def evidence(findings, i=0):
    return json.loads(findings["evidence"].iloc[i])


def towns(*codes):
    return frame("divisions", *[one_township(c) for c in codes])


# S1 ------------------------------------------------------------------------------------------


def test_s1_handover_on_consecutive_days_keeps_every_month_covered():
    staff = frame(
        "staff",
        {"staff_id": "A", "left_on": "2020-03-15"},
        {"staff_id": "B", "hired_on": "2020-03-16"},
    )
    assert found("S1", divisions=towns(TOWN), staff=staff).empty


def test_s1_lists_the_months_with_a_day_uncovered():
    staff = frame(
        "staff",
        {"staff_id": "A", "hired_on": "2020-01-02", "left_on": "2020-03-15"},
        {"staff_id": "B", "hired_on": "2020-03-17", "left_on": "2020-11-30"},
    )
    f = found("S1", divisions=towns(TOWN), staff=staff)
    assert f[["entity_type", "entity_id", "township_code"]].values.tolist() == [["office", TOWN, TOWN]]
    assert evidence(f)["uncovered_months"] == ["2020-01", "2020-03", "2020-12"]


def test_s1_office_without_staff_has_twelve_months_and_city_posts_do_not_count():
    staff = frame("staff", {"staff_id": "A"}, {"staff_id": "C", "post_code": CITY})
    f = found("S1", divisions=towns(TOWN, TOWN2), staff=staff)
    assert f["entity_id"].tolist() == [TOWN2]
    assert len(evidence(f)["uncovered_months"]) == 12


# S2 ------------------------------------------------------------------------------------------


def test_s2_successor_starting_the_next_day_is_clean():
    staff = frame(
        "staff",
        {"staff_id": "A", "left_on": "2020-06-30"},
        {"staff_id": "B", "hired_on": "2020-07-01"},
        {"staff_id": "C1", "post_code": CITY},
        {"staff_id": "C2", "post_code": CITY},  # the city bureau has several posts
    )
    assert found("S2", divisions=towns(TOWN), staff=staff).empty


@pytest.mark.parametrize(("first", "second"), [("A", "B"), ("B", "A")])
def test_s2_one_common_day_is_two_staff_at_once(first, second):
    staff = frame(
        "staff",
        {"staff_id": first, "left_on": "2020-06-30"},
        {"staff_id": second, "hired_on": "2020-06-30"},
    )
    f = found("S2", divisions=towns(TOWN), staff=staff)
    assert f["entity_id"].tolist() == [TOWN]
    assert evidence(f)["problems"] == ["concurrent_staff"]
    assert evidence(f)["concurrent_pairs"] == [["A", "B"]]


def test_s2_post_code_not_in_the_register():
    staff = frame("staff", {"staff_id": "A", "post_code": "540102999"})
    f = found("S2", divisions=towns(TOWN), staff=staff)
    assert f["entity_id"].tolist() == ["540102999"]
    assert evidence(f)["problems"] == ["post_not_in_register"]


# S3 ------------------------------------------------------------------------------------------


def _city_staff(n, **extra):
    return [{"staff_id": f"C{i}", "post_code": CITY, "county_code": CITY, **extra} for i in range(n)]


def test_s3_eight_city_posts_with_a_replacement_is_clean():
    rows = [
        *_city_staff(7),
        {"staff_id": "C7", "post_code": CITY, "county_code": CITY, "left_on": "2020-06-30"},
        {"staff_id": "C8", "post_code": CITY, "county_code": CITY, "hired_on": "2020-07-01"},
    ]
    assert found("S3", scope="city", staff=frame("staff", *rows)).empty


@pytest.mark.parametrize("n", [7, 9])
def test_s3_other_than_eight_fires(n):
    f = found("S3", scope="city", staff=frame("staff", *_city_staff(n)))
    assert f[["entity_type", "entity_id", "county_code", "severity"]].values.tolist() == [
        ["city", CITY, CITY, "low"]
    ]
    assert evidence(f)["most_in_post"] == n


# S4 ------------------------------------------------------------------------------------------


def test_s4_below_bachelor_fires_bachelor_and_above_pass():
    staff = frame(
        "staff",
        {"staff_id": "A", "education": "本科"},
        {"staff_id": "B", "education": "硕士研究生"},
        {"staff_id": "C", "education": "大专"},
        {"staff_id": "D", "education": "高中", "post_code": CITY},
    )
    f = found("S4", staff=staff)
    assert f["entity_id"].tolist() == ["C", "D"]
    assert f["township_code"].isna().tolist() == [False, True]  # the city bureau is no township


def test_s4_threshold_comes_from_the_parameters():
    staff = frame("staff", {"staff_id": "C", "education": "大专"})
    assert found("S4", p=params(purchase={"min_education": "大专"}), staff=staff).empty


# S5 ------------------------------------------------------------------------------------------


def test_s5_invalid_id_number_fires_as_staff():
    good = resident_id(seq="001")
    bad = good[:17] + ("0" if good[17] != "0" else "1")
    staff = frame("staff", {"staff_id": "A", "id_number": good}, {"staff_id": "B", "id_number": bad})
    f = found("S5", staff=staff)
    assert f[["entity_type", "entity_id"]].values.tolist() == [["staff", "B"]]


def test_s5_id_born_after_the_audit_year_is_invalid():
    staff = frame("staff", {"staff_id": "A", "id_number": resident_id(birth="20210101")})
    assert found("S5", staff=staff)["entity_id"].tolist() == ["A"]


def test_s5_same_person_in_two_concurrent_posts_fires_as_person():
    pid = resident_id(seq="002")
    staff = frame(
        "staff",
        {"staff_id": "A", "id_number": pid},
        {"staff_id": "B", "id_number": pid, "post_code": TOWN2, "hired_on": "2020-12-31"},
    )
    f = found("S5", staff=staff)
    assert f[["entity_type", "entity_id"]].values.tolist() == [["person", pid]]
    assert evidence(f)["staff"] == ["A", "B"]


def test_s5_same_person_moving_posts_is_clean():
    pid = resident_id(seq="002")
    staff = frame(
        "staff",
        {"staff_id": "A", "id_number": pid, "left_on": "2020-06-30"},
        {"staff_id": "B", "id_number": pid, "post_code": TOWN2, "hired_on": "2020-07-01"},
    )
    assert found("S5", staff=staff).empty


def test_s5_two_counties_run_city_wide_one_row_per_county():
    pid = resident_id(seq="003")
    staff = frame(
        "staff",
        {"staff_id": "A", "id_number": pid},
        {"staff_id": "B", "id_number": pid, "post_code": OTHER_TOWN, "county_code": OTHER},
    )
    assert found("S5", staff=staff).empty  # a county run sees only its own post
    f = found("S5", scope="city", staff=staff)
    assert f[["county_code", "entity_type", "entity_id"]].values.tolist() == [
        [COUNTY, "person", pid],
        [OTHER, "person", pid],
    ]
    assert f["finding_id"].nunique() == 2
    assert evidence(f)["counties"] == [COUNTY, OTHER]


# S6 ------------------------------------------------------------------------------------------


def test_s6_staff_on_the_public_payroll():
    on, off = resident_id(seq="004"), resident_id(seq="005")
    staff = frame("staff", {"staff_id": "A", "id_number": on}, {"staff_id": "B", "id_number": off})
    payroll = frame("public_employees", {"person_id": on, "employer": "某乡人民政府"})
    f = found("S6", staff=staff, public_employees=payroll)
    assert f["entity_id"].tolist() == ["A"]
    assert evidence(f)["public_employment"] == [{"employer": "某乡人民政府", "since": "2015-07-01"}]


def test_s6_not_run_without_the_payroll():
    result = run("S6", staff=frame("staff", {"staff_id": "A"})).results.iloc[0]
    assert (result["status"], result["reason_en"]) == ("not_run", "not run: no public-employee list supplied")
    assert result["reason_zh"] == "未运行：未提供财政供养人员名单"


# S7 ------------------------------------------------------------------------------------------


def test_s7_staff_on_the_roll_of_their_own_township():
    mine, elsewhere = resident_id(seq="006"), resident_id(seq="007")
    staff = frame(
        "staff",
        {"staff_id": "A", "id_number": mine},
        {"staff_id": "B", "id_number": elsewhere},
    )
    roll = frame(
        "beneficiaries",
        {"person_id": mine, "household_id": "H1"},
        {"person_id": resident_id(seq="008"), "household_id": "H1"},
        {"person_id": elsewhere, "household_id": "H2", "division_code": TOWN2},
    )
    f = found("S7", staff=staff, beneficiaries=roll)
    assert f["entity_id"].tolist() == ["A"]
    assert evidence(f)["household_id"] == "H1"
    assert evidence(f)["household_members_on_roll"] == 2


# S8 ------------------------------------------------------------------------------------------


def test_s8_office_with_all_four_haves_is_clean():
    assert found("S8", offices=frame("offices", {}), divisions=towns(TOWN)).empty


@pytest.mark.parametrize(
    ("row", "problem"),
    [
        ({"dedicated_officer": False}, "no_dedicated_officer"),
        ({"office_area_m2": 0.0}, "no_office_area"),
        ({"has_equipment": False}, "no_equipment"),
        ({"budgeted_funds_yuan": 0.0}, "no_budget"),
    ],
)
def test_s8_each_missing_have_fires(row, problem):
    f = found("S8", offices=frame("offices", row))
    assert f["entity_id"].tolist() == [TOWN]
    assert evidence(f)["problems"] == [problem]


def test_s8_township_without_an_office_row_fires_when_the_register_is_given():
    offices = frame("offices", {})
    f = found("S8", offices=offices, divisions=towns(TOWN, TOWN2))
    assert f["entity_id"].tolist() == [TOWN2]
    assert evidence(f)["problems"] == ["no_office_record"]
    assert found("S8", offices=frame("offices", {"office_area_m2": 0.01})).empty


# S9 ------------------------------------------------------------------------------------------


def test_s9_plan_against_the_register():
    p = params(purchase={"planned_positions": {"township": 2, "city": 8}})
    county_row = {"division_code": COUNTY, "level": "county", "kind": "区", "parent_code": CITY}
    two = frame("divisions", one_township(TOWN), one_township(OTHER_TOWN, county=OTHER), county_row)
    assert found("S9", scope="city", p=p, divisions=two).empty
    three = frame(
        "divisions", one_township(TOWN), one_township(TOWN2), one_township(OTHER_TOWN, county=OTHER)
    )
    f = found("S9", scope="city", p=p, divisions=three)
    assert f[["entity_type", "entity_id", "severity"]].values.tolist() == [["city", CITY, "info"]]
    assert evidence(f)["by_county"] == {COUNTY: 2, OTHER: 1}


# S10 -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("hired", "fires"), [("2020-05-01", False), ("2020-05-02", True)])
def test_s10_vacancy_of_sixty_days_passes_sixty_one_fails(hired, fires):
    staff = frame(
        "staff",
        {"staff_id": "A", "left_on": "2020-03-01"},  # vacant from 2 March
        {"staff_id": "B", "hired_on": hired},
    )
    f = found("S10", staff=staff)
    assert (not f.empty) is fires
    if fires:
        assert evidence(f)["vacancies"] == [
            {
                "after_staff_id": "A",
                "next_staff_id": "B",
                "vacant_days": 61,
                "vacant_from": "2020-03-02",
                "vacant_to": "2020-05-01",
            }
        ]


@pytest.mark.parametrize(("left", "fires"), [("2020-11-01", False), ("2020-10-31", True)])
def test_s10_vacancy_running_to_the_year_end(left, fires):
    f = found("S10", staff=frame("staff", {"staff_id": "A", "left_on": left}))
    assert (not f.empty) is fires


def test_s10_measures_from_the_latest_end_and_ignores_the_first_hire():
    staff = frame(
        "staff",
        {"staff_id": "A", "hired_on": "2020-04-01", "left_on": "2020-06-30"},  # a late first hire: S1's
        {"staff_id": "B", "hired_on": "2020-05-01", "left_on": "2020-05-31"},  # inside A's time
        {"staff_id": "C", "hired_on": "2020-09-01"},
        {"staff_id": "K", "post_code": CITY, "left_on": "2020-01-31"},  # city posts are not offices
    )
    f = found("S10", staff=staff)
    assert f["entity_id"].tolist() == [TOWN]
    (gap,) = evidence(f)["vacancies"]
    assert (gap["after_staff_id"], gap["vacant_days"]) == ("A", 62)


def test_s5_an_invalid_number_twice_is_two_staff_findings_not_a_person():
    bad = resident_id(seq="009")[:17] + ("0" if resident_id(seq="009")[17] != "0" else "1")
    staff = frame(
        "staff", {"staff_id": "A", "id_number": bad}, {"staff_id": "B", "id_number": bad, "post_code": TOWN2}
    )
    f = found("S5", staff=staff)
    assert f[["entity_type", "entity_id"]].values.tolist() == [["staff", "A"], ["staff", "B"]]


def test_s2_overlap_before_the_audit_year_does_not_count():
    staff = frame(
        "staff",
        {"staff_id": "A", "hired_on": "2019-01-01", "left_on": "2019-12-31"},
        {"staff_id": "B", "hired_on": "2019-06-01"},
    )
    assert found("S2", divisions=towns(TOWN), staff=staff).empty


# Across partitions ----------------------------------------------------------------------------


def test_s6_a_worker_filed_in_another_countys_partition_is_found_once_where_filed():
    # Posted in a township of OTHER, so filed there; paid under COUNTY's contract HT-1.
    staff = frame("staff", {"staff_id": "A", "county_code": OTHER, "post_code": OTHER_TOWN})
    tables = {
        "staff": staff,
        "contracts": frame("contracts", {}),
        "public_employees": frame("public_employees", {"person_id": resident_id()}),
    }
    assert run("S6", county=COUNTY, **tables).findings.empty  # COUNTY reads the worker for C7 only
    f = run("S6", county=OTHER, **tables).findings
    assert f[["county_code", "entity_id", "township_code"]].values.tolist() == [[OTHER, "A", OTHER_TOWN]]


def test_s7_the_roll_of_a_post_in_another_countys_partition():
    # Filed under COUNTY (its own county code), posted in OTHER's township, on OTHER's roll there
    # with another member of the household.
    staff = frame("staff", {"staff_id": "A", "county_code": COUNTY, "post_code": OTHER_TOWN})
    roll = frame(
        "beneficiaries",
        {"person_id": resident_id(), "household_id": "H9", "division_code": OTHER_TOWN, "county_code": OTHER},
        {"person_id": resident_id(seq="456"), "household_id": "H9", "division_code": OTHER_TOWN,
         "county_code": OTHER},
        {"person_id": resident_id(seq="789"), "household_id": "H8", "division_code": OTHER_TOWN,
         "county_code": OTHER},
    )  # fmt: skip
    tables = {"staff": staff, "beneficiaries": roll}
    f = run("S7", county=COUNTY, **tables).findings
    assert f[["county_code", "entity_id", "township_code"]].values.tolist() == [[COUNTY, "A", OTHER_TOWN]]
    assert evidence(f)["household_members_on_roll"] == 2
    assert run("S7", county=OTHER, **tables).findings.empty  # the worker is COUNTY's: found once


def test_the_post_rules_judge_a_worker_filed_in_another_county_where_the_post_is():
    # A is filed under COUNTY (its own county code) but posted in OTHER's township until March;
    # C, filed in OTHER, follows there in May. COUNTY's own office is covered by B all year.
    staff = frame(
        "staff",
        {"staff_id": "A", "county_code": COUNTY, "post_code": OTHER_TOWN, "left_on": "2020-03-31"},
        {"staff_id": "B"},
        {"staff_id": "C", "county_code": OTHER, "post_code": OTHER_TOWN, "hired_on": "2020-05-01"},
    )
    divisions = frame("divisions", one_township(TOWN), one_township(OTHER_TOWN, "街道", OTHER))
    tables = {"staff": staff, "divisions": divisions}
    for rule in ("S1", "S2", "S10"):  # the post is in the register, and COUNTY's office is covered
        assert run(rule, county=COUNTY, **tables).findings.empty, rule
    s1 = run("S1", county=OTHER, **tables).findings
    assert s1[["county_code", "entity_id"]].values.tolist() == [[OTHER, OTHER_TOWN]]
    assert evidence(s1)["uncovered_months"] == ["2020-04"]  # A covered January to March
    assert evidence(s1)["staff"] == ["A", "C"]
    assert run("S10", county=OTHER, **tables).findings.empty  # 30 days between A and C
    twice = frame(
        "staff",
        {"staff_id": "A", "county_code": COUNTY, "post_code": OTHER_TOWN},
        {"staff_id": "B"},
        {"staff_id": "C", "county_code": OTHER, "post_code": OTHER_TOWN},
    )
    s2 = run("S2", county=OTHER, staff=twice, divisions=divisions).findings
    assert s2[["county_code", "entity_id"]].values.tolist() == [[OTHER, OTHER_TOWN]]
    assert evidence(s2)["concurrent_pairs"] == [["A", "C"]]
    assert run("S2", county=COUNTY, staff=twice, divisions=divisions).findings.empty

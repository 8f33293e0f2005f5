"""Tests of the pandera schemas built from the contract, of validate() and of the checks across tables."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import pandera.pandas as pa
import pytest

from audit import schemas
from audit.datacontract import TABLES, Kind

# Written out here rather than taken from schemas.DTYPES, so a change there shows as a failure.
DTYPE_OF_KIND = {
    "code": "str",
    "id_number": "str",
    "uscc": "str",
    "text": "str",
    "key": "str",
    "choice": "str",
    "month": "str",
    "account": "str",
    "date": "datetime64[us]",
    "amount": "float64",
    "number": "float64",
    "count": "int64",
    "flag": "bool",
}

ACCOUNT = "6222020200012345670"  # passes Luhn
ACCOUNT_NO_LUHN = "6222020200012345671"


def frame(table: str, rows: list[dict], index: list | None = None) -> pd.DataFrame:
    """A frame of hand-written rows with the dtypes ingest gives each kind; unknown columns stay as given."""
    df = pd.DataFrame(rows, index=index)
    for name in df.columns:
        try:
            kind = TABLES[table].column(name).kind.value
        except KeyError:
            continue
        dtype = DTYPE_OF_KIND[kind]
        if dtype == "datetime64[us]":
            df[name] = pd.to_datetime(df[name]).astype(dtype)
        else:
            df[name] = df[name].astype(dtype)
    return df


VALID: dict[str, list[dict]] = {
    "divisions": [
        {
            "division_code": "540102",
            "name": "城关区",
            "level": "county",
            "kind": "区",
            "parent_code": "540100",
        },
        {
            "division_code": "540102001",
            "name": "八廓街道",
            "level": "township",
            "kind": "街道",
            "parent_code": "540102",
        },
        {
            "division_code": "540121",
            "name": "林周县",
            "level": "county",
            "kind": "县",
            "parent_code": "540100",
        },
        {
            "division_code": "540121100",
            "name": "甘丹曲果镇",
            "level": "township",
            "kind": "镇",
            "parent_code": "540121",
        },
    ],
    "offices": [
        {
            "division_code": "540102001",
            "dedicated_officer": True,
            "office_area_m2": 45.5,
            "has_equipment": False,
            "budgeted_funds_yuan": 20000.0,
            "county_code": "540102",
        }
    ],
    "contracts": [
        {
            "contract_id": "HT-2020-001",
            "county_code": "540102",
            "contractor_name": "拉萨市城关区社会工作服务中心",
            "contractor_uscc": "52540102MJY123456C",
            "contractor_type": "社会组织",
            "contractor_registered_on": "2018-03-01",
            "signed_on": "2019-12-20",
            "service_start": "2020-01-01",
            "service_end": "2020-12-31",
            "positions": 12,
            "amount_yuan": 954048.0,
        }
    ],
    "staff": [
        {
            "staff_id": "S001",
            "name": "扎西",
            "id_number": "540102198507150017",
            "education": "本科",
            "contract_id": "HT-2020-001",
            "post_code": "540102001",
            "hired_on": "2020-01-01",
            "left_on": None,
            "county_code": "540102",
        },
        {
            "staff_id": "S002",
            "name": "卓玛",
            "id_number": "54012119601231004X",
            "education": "硕士研究生",
            "contract_id": "HT-2020-001",
            "post_code": "540100",
            "hired_on": "2020-02-01",
            "left_on": "2020-06-30",
            "county_code": "540100",
        },
    ],
    "fund_allocations": [
        {
            "allocation_id": "藏财社〔2020〕1号",
            "county_code": "540102",
            "fund": "社会救助专项资金",
            "purpose": "救助金",
            "amount_yuan": 1000000.0,
            "allocated_on": "2020-01-15",
        }
    ],
    "fund_payments": [
        {
            "voucher_no": "PZ-001",
            "county_code": "540102",
            "fund": "社会救助专项资金",
            "purpose": "购买服务",
            "contract_id": "HT-2020-001",
            "amount_yuan": 79504.0,
            "paid_on": "2020-02-10",
            "covers_month": "2020-01",
        },
        {
            "voucher_no": "PZ-002",
            "county_code": "540102",
            "fund": "县级财政",
            "purpose": "其他",
            "contract_id": None,
            "amount_yuan": 1200.5,
            "paid_on": "2020-03-05",
            "covers_month": "2020-02",
        },
    ],
    "beneficiaries": [
        {
            "person_id": "540125197203010031",
            "name": "次仁",
            "household_id": "H001",
            "division_code": "540102001",
            "programme": "城市低保",
            "household_size": 3,
            "enrolled_on": "2019-05-01",
            "exited_on": None,
            "bank_account": ACCOUNT,
        }
    ],
    "relief_payments": [
        {
            "payment_id": "P0001",
            "person_id": "540125197203010031",
            "household_id": "H001",
            "programme": "城市低保",
            "period": "2020-01",
            "amount_yuan": 847.0,
            "paid_on": "2020-02-10",
            "bank_account": ACCOUNT,
            "county_code": "540102",
        }
    ],
    "deaths": [{"person_id": "540102194910010059", "died_on": "2020-06-01"}],
    "public_employees": [
        {"person_id": "54012119601231004X", "employer": "林周县财政局", "since": "1985-07-01"}
    ],
    "vehicles": [
        {
            "person_id": "540125197203010031",
            "plate": "藏A12345",
            "registered_on": "2018-04-02",
            "value_yuan": 86000.0,
        }
    ],
    "real_estate": [{"person_id": "540125197203010031", "area_m2": 96.5, "registered_on": "2015-06-01"}],
    "business_registrations": [
        {
            "person_id": "540125197203010031",
            "role": "个体工商户",
            "registered_on": "2019-03-01",
            "capital_yuan": 50000.0,
        }
    ],
    "pensions": [{"person_id": "540102194910010059", "monthly_yuan": 2350.0, "from": "2009-11-01"}],
    "housing_fund": [{"person_id": "54012119601231004X", "monthly_base_yuan": 6800.0, "from": "2010-01-01"}],
    "case_workers": [
        {
            "person_id": "54012119601231004X",
            "role": "民政经办人员",
            "division_code": "540121001",
            "household_id": None,
        }
    ],
    "relatives_filed": [
        {
            "person_id": "540125197203010031",
            "worker_person_id": "54012119601231004X",
            "filed_on": "2019-04-20",
        }
    ],
    "relatives": [
        {
            "person_id": "54012119601231004X",
            "relative_person_id": "540125197203010031",
            "relation": "兄弟姐妹",
        }
    ],
    "other_programmes": [
        {
            "person_id": "540125197203010031",
            "programme": "残疾人生活补贴",
            "period": "2020-01",
            "amount_yuan": 100.0,
        }
    ],
}


def _rows(failures: pd.DataFrame, *columns: str) -> list[tuple]:
    return [
        tuple(None if pd.isna(v) else v for v in row)
        for row in failures[list(columns)].itertuples(index=False)
    ]


# --- the schemas themselves ----------------------------------------------------------------------


def test_there_is_a_valid_example_for_every_table() -> None:
    assert set(VALID) == set(TABLES) == set(schemas.SCHEMAS)


@pytest.mark.parametrize("table", list(TABLES))
def test_schema_is_built_from_the_contract(table: str) -> None:
    schema = schemas.SCHEMAS[table]
    assert list(schema.columns) == list(TABLES[table].names)
    for col in TABLES[table].columns:
        built = schema.columns[col.name]
        assert (built.title, built.description) == (col.zh, col.description)
        assert (built.nullable, built.unique, built.required) == (col.nullable, col.unique, col.required)
        assert schemas.DTYPES[col.kind] == DTYPE_OF_KIND[col.kind.value]
    assert not schema.strict


def test_checks_of_a_column_follow_its_kind() -> None:
    names = {
        (table, name): [c.name for c in col.checks]
        for table, schema in schemas.SCHEMAS.items()
        for name, col in schema.columns.items()
    }
    assert names[("relief_payments", "person_id")] == ["resident_id"]
    assert names[("relief_payments", "period")] == ["month"]
    assert names[("relief_payments", "amount_yuan")] == ["cents", "at_least"]
    assert names[("relief_payments", "bank_account")] == ["digits", "luhn"]
    assert names[("relief_payments", "programme")] == ["one_of"]
    assert names[("contracts", "contractor_uscc")] == ["uscc"]
    assert names[("contracts", "positions")] == ["at_least"]
    assert names[("offices", "office_area_m2")] == ["finite", "at_least"]
    assert names[("staff", "post_code")] == ["division_code"]
    assert names[("staff", "name")] == []


@pytest.mark.parametrize("table", list(TABLES))
def test_valid_example_has_no_failures(table: str) -> None:
    df = frame(table, VALID[table])
    result = schemas.validate(table, df)
    assert result.failures.empty, result.failures.to_string()
    assert list(result.failures.columns) == list(schemas.FAILURE_COLUMNS)
    assert result.quarantined() == frozenset()
    assert result.usable


@pytest.mark.parametrize("table", list(TABLES))
def test_pandera_accepts_the_valid_examples(table: str) -> None:
    schemas.SCHEMAS[table].validate(frame(table, VALID[table]), lazy=True)


def test_extra_columns_and_a_missing_optional_column_are_allowed() -> None:
    rows = [
        {**r, "src_file": "relief.xlsx", "src_sheet": "城关区", "src_row": 3}
        for r in VALID["relief_payments"]
    ]
    df = frame("relief_payments", rows).drop(columns="county_code")
    assert schemas.validate("relief_payments", df).failures.empty


# --- bad values ----------------------------------------------------------------------------------


def _bad_payments() -> pd.DataFrame:
    good = VALID["relief_payments"][0]
    rows = [
        good,
        {**good, "payment_id": "P0002", "person_id": "540125197203010032"},  # check digit wrong
        {**good, "payment_id": "P0003", "period": "2020-13"},
        {**good, "payment_id": "P0004", "amount_yuan": 847.005},
        {**good, "payment_id": "P0005", "amount_yuan": -1.0},
        {**good, "payment_id": "P0006", "programme": "低保"},
        {**good, "payment_id": "P0007", "bank_account": "6222 0202"},
        {**good, "payment_id": "P0001"},  # the first row's payment id again
        {**good, "payment_id": "P0009", "household_id": None},
        {**good, "payment_id": "P0010", "bank_account": ACCOUNT_NO_LUHN},
    ]
    return frame("relief_payments", rows, index=list(range(100, 110)))


def test_each_kind_of_bad_value_is_reported_with_its_check_and_action() -> None:
    result = schemas.validate("relief_payments", _bad_payments())
    assert _rows(result.failures, "index", "column", "check", "value", "action") == [
        (100, "payment_id", "unique", "P0001", "quarantine"),
        (107, "payment_id", "unique", "P0001", "quarantine"),
        (101, "person_id", "resident_id", "540125197203010032", "quarantine"),
        (108, "household_id", "not_null", None, "quarantine"),
        (105, "programme", "one_of", "低保", "quarantine"),
        (102, "period", "month", "2020-13", "quarantine"),
        (103, "amount_yuan", "cents", "847.005", "quarantine"),
        (104, "amount_yuan", "at_least", "-1.0", "quarantine"),
        (106, "bank_account", "digits", "6222 0202", "quarantine"),
        (109, "bank_account", "luhn", ACCOUNT_NO_LUHN, "flag"),
    ]
    assert result.quarantined() == frozenset({100, 101, 102, 103, 104, 105, 106, 107, 108})
    assert result.failures["index"].dtype == "Int64"


def test_messages_are_bilingual_and_filled_in() -> None:
    failures = schemas.validate("relief_payments", _bad_payments()).failures
    messages = {(r.column, r.check): (r.message_en, r.message_zh) for r in failures.itertuples()}
    assert messages[("programme", "one_of")] == (
        "Not one of the allowed values: 城市低保 | 农村低保 | 特困集中供养 | 特困分散供养 | 孤儿.",
        "不是允许的取值之一：城市低保 | 农村低保 | 特困集中供养 | 特困分散供养 | 孤儿。",
    )
    assert messages[("amount_yuan", "at_least")] == ("Less than 0.", "小于 0。")
    assert messages[("person_id", "resident_id")] == (
        "Invalid resident ID number (GB 11643): wrong length, characters, check digit or birth date.",
        "身份证号无效（GB 11643）：位数、字符、校验码或出生日期不符。",
    )


def test_identifier_failures_a_rule_names_are_flagged_not_quarantined() -> None:
    staff = VALID["staff"]
    rows = [
        {**staff[0], "id_number": "540102198507150018"},  # S5's finding
        {**staff[1], "staff_id": "S003", "id_number": None},  # S5's finding too
        {**staff[0], "staff_id": "S004", "left_on": "2019-12-31"},  # left before hired: no rule names it
        {**staff[0], "staff_id": "S005", "education": "大学"},
    ]
    result = schemas.validate("staff", frame("staff", rows))
    assert _rows(result.failures, "index", "column", "check", "action") == [
        (1, "id_number", "not_null", "flag"),
        (0, "id_number", "resident_id", "flag"),
        (3, "education", "one_of", "quarantine"),
        (2, "left_on", "dates_ordered", "quarantine"),
    ]
    assert result.failures["message_en"].iloc[1].endswith("Kept in the data: rule S5 reports it.")
    assert result.failures["message_zh"].iloc[1].endswith("保留在数据中：由规则 S5 报告。")
    assert result.failures["value"].iloc[3] == "hired_on=2020-01-01; left_on=2019-12-31"
    assert result.failures["message_en"].iloc[3] == "left_on is before hired_on."
    assert result.quarantined() == frozenset({2, 3})


def test_contract_checks_left_to_rules_c1_and_c2() -> None:
    good = VALID["contracts"][0]
    rows = [
        {**good, "contractor_uscc": "52540102MJY123456D"},
        {**good, "contract_id": "HT-2", "service_end": "2019-12-31"},
        {**good, "contract_id": "HT-3", "positions": 0},
    ]
    result = schemas.validate("contracts", frame("contracts", rows))
    assert _rows(result.failures, "index", "column", "check", "value", "action") == [
        (0, "contractor_uscc", "uscc", "52540102MJY123456D", "flag"),
        (2, "positions", "at_least", "0", "quarantine"),
        (1, "service_end", "dates_ordered", "service_start=2020-01-01; service_end=2019-12-31", "flag"),
    ]
    assert "rule C2" in result.failures["message_en"].iloc[2]
    assert result.quarantined() == frozenset({2})


def test_division_checks() -> None:
    rows = [
        {
            "division_code": "540102001",
            "name": "八廓街道",
            "level": "township",
            "kind": "街道",
            "parent_code": "540103",
        },
        {
            "division_code": "540103",
            "name": "堆龙德庆区",
            "level": "township",
            "kind": "区",
            "parent_code": "540100",
        },
        {"division_code": "54010", "name": "?", "level": "county", "kind": "区", "parent_code": "540100"},
        {
            "division_code": "540104",
            "name": "达孜区",
            "level": "county",
            "kind": "区",
            "parent_code": "540102",
        },
    ]
    result = schemas.validate("divisions", frame("divisions", rows))
    assert _rows(result.failures, "index", "column", "check", "value") == [
        (2, "division_code", "division_code", "54010"),
        (0, "parent_code", "division_parent", "division_code=540102001; parent_code=540103"),
        (2, "parent_code", "division_parent", "division_code=54010; parent_code=540100"),
        (3, "parent_code", "division_parent", "division_code=540104; parent_code=540102"),
        (1, "level", "division_level", "division_code=540103; level=township"),
    ]
    assert set(result.failures["action"]) == {"quarantine"}


def test_beneficiary_dates_and_counts() -> None:
    good = VALID["beneficiaries"][0]
    rows = [good, {**good, "programme": "农村低保", "household_size": 0, "exited_on": "2019-01-31"}]
    result = schemas.validate("beneficiaries", frame("beneficiaries", rows))
    assert _rows(result.failures, "index", "column", "check", "action") == [
        (1, "household_size", "at_least", "quarantine"),
        (1, "exited_on", "dates_ordered", "quarantine"),
    ]


# --- problems of the whole table -----------------------------------------------------------------


def test_missing_required_column_and_wrong_dtypes_are_reported_not_raised() -> None:
    rows = [VALID["relief_payments"][0], {**VALID["relief_payments"][0], "payment_id": "P0002"}]
    df = frame("relief_payments", rows).drop(columns="period")
    df["person_id"] = df["person_id"].astype(object)
    df["paid_on"] = df["paid_on"].astype("datetime64[ns]")
    df["amount_yuan"] = df["amount_yuan"].astype("int64")
    result = schemas.validate("relief_payments", df)
    assert _rows(result.failures, "index", "column", "check", "value", "action") == [
        (None, "person_id", "dtype", "object", "quarantine"),
        (None, "period", "column_missing", None, "quarantine"),
        (None, "amount_yuan", "dtype", "int64", "quarantine"),
        (None, "paid_on", "dtype", "datetime64[ns]", "quarantine"),
    ]
    assert result.failures["message_en"].iloc[1] == "Required column period is missing."
    assert result.failures["message_zh"].iloc[3] == "列类型为 datetime64[ns]，数据规范要求 datetime64[us]。"
    assert not result.usable
    assert len(result.table_failures) == 4
    assert result.quarantined() == frozenset()


def test_table_and_row_problems_share_one_frame_of_text_columns() -> None:
    df = _bad_payments().drop(columns="period")
    failures = schemas.validate("relief_payments", df).failures
    assert failures["index"].dtype == "Int64"
    assert failures["index"].isna().tolist() == [True] + [False] * (len(failures) - 1)
    assert failures["index"].iloc[1:].tolist() == [100, 107, 101, 108, 105, 103, 104, 106, 109]
    assert all(failures[c].dtype == "str" for c in schemas.FAILURE_COLUMNS[1:])
    assert pd.isna(failures["value"].iloc[0])  # a missing column has no value
    assert failures["check"].tolist()[:3] == ["column_missing", "unique", "unique"]
    # Labels that are not integers are kept as they are.
    labelled = schemas.validate("relief_payments", df.set_axis([f"r{i}" for i in df.index])).failures
    assert labelled["index"].dtype == object
    assert labelled["index"].iloc[1:].tolist() == [f"r{i}" for i in failures["index"].iloc[1:]]
    pd.testing.assert_frame_equal(labelled.drop(columns="index"), failures.drop(columns="index"))


def test_cross_column_check_is_skipped_when_a_column_is_unusable() -> None:
    df = frame("staff", VALID["staff"]).drop(columns="hired_on")
    result = schemas.validate("staff", df)
    assert _rows(result.failures, "column", "check") == [("hired_on", "column_missing")]


def test_unknown_table_is_a_key_error() -> None:
    with pytest.raises(KeyError, match="no table 'staf'"):
        schemas.validate("staf", pd.DataFrame())


def test_threaded_and_serial_validation_agree(monkeypatch: pytest.MonkeyPatch) -> None:
    df = pd.concat([_bad_payments()] * 100, ignore_index=True)
    df["payment_id"] = ("P" + pd.Series(range(len(df))).astype("str")).astype("str")
    monkeypatch.setattr(schemas, "WORKERS", 2)
    monkeypatch.setattr(schemas, "THREADED_ROWS", 10)
    threaded = schemas.validate("relief_payments", df).failures
    monkeypatch.setattr(schemas, "WORKERS", 1)
    serial = schemas.validate("relief_payments", df).failures
    pd.testing.assert_frame_equal(threaded, serial)
    # Every 10 rows: one failure each for rows 101-106, 108 and 109 (Luhn).
    assert len(serial) == 100 * 8


def test_threads_are_started_once_and_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(schemas, "WORKERS", 2)
    monkeypatch.setattr(schemas, "THREADED_ROWS", 1)
    df = _bad_payments()
    first = schemas.validate("relief_payments", df).failures
    pool = schemas._pool(1)
    assert schemas.validate("relief_payments", df).failures.equals(first)
    assert schemas._pool(1) is pool


def test_a_block_without_failures_gets_a_frame_of_its_own() -> None:
    df = frame("relief_payments", VALID["relief_payments"])
    first = schemas.validate("relief_payments", df).failures
    first.loc[0] = [1, "x", "x", "x", "x", "x", "x"]  # changing one result leaves the next alone
    again = schemas.validate("relief_payments", df).failures
    assert again.empty
    assert again["index"].dtype == "Int64"
    assert list(again.columns) == list(schemas.FAILURE_COLUMNS)


def test_actions_listed_per_check() -> None:
    actions = {(c, k): (a, r) for c, k, a, r in schemas.check_actions("staff")}
    assert actions[("id_number", "resident_id")] == ("flag", "S5")
    assert actions[("left_on", "dates_ordered")] == ("quarantine", None)
    assert actions[("staff_id", "unique")] == ("quarantine", None)
    luhn = {(c, k): a for c, k, a, _ in schemas.check_actions("beneficiaries")}[("bank_account", "luhn")]
    assert luhn == "flag"


# --- pandera itself on the same schema -----------------------------------------------------------


def _bad_staff() -> pd.DataFrame:
    staff = VALID["staff"]
    rows = [
        {**staff[0], "id_number": "540102198507150018"},
        {**staff[1], "staff_id": "S003", "id_number": None},
        {**staff[0], "staff_id": "S004", "left_on": "2019-12-31", "education": "大学"},
    ]
    return frame("staff", rows)


def _bad_divisions() -> pd.DataFrame:
    rows = [
        {
            "division_code": "540102001",
            "name": "八廓街道",
            "level": "county",
            "kind": "街道",
            "parent_code": "540103",
        },
        {
            "division_code": "540102001",
            "name": "八廓街道",
            "level": "township",
            "kind": "乡",
            "parent_code": "5401",
        },
    ]
    return frame("divisions", rows)


@pytest.mark.parametrize(
    ("table", "make"),
    [("relief_payments", _bad_payments), ("staff", _bad_staff), ("divisions", _bad_divisions)],
)
def test_pandera_finds_the_same_row_failures(table: str, make: Callable[[], pd.DataFrame]) -> None:
    df = make()
    schema = schemas.SCHEMAS[table]
    with pytest.raises(pa.errors.SchemaErrors) as caught:
        schema.validate(df, lazy=True)
    cases = caught.value.failure_cases
    names = {"not_nullable": "not_null", "field_uniqueness": "unique"}
    names |= {check.error: check.name for col in schema.columns.values() for check in col.checks}
    # pandera reports a check across columns once per column of the row; ours names its last column.
    last = {check.error: (check.name, check.statistics["columns"][-1]) for check in schema.checks}
    theirs = set()
    for index, column, check in zip(cases["index"], cases["column"], cases["check"], strict=True):
        name, column = last.get(check, (names.get(check), column))
        theirs.add((int(index), column, name))
    ours = set(_rows(schemas.validate(table, df).failures, "index", "column", "check"))
    assert theirs == ours
    assert len(ours) >= 4


# --- checks across tables ------------------------------------------------------------------------


def _tables() -> dict[str, pd.DataFrame]:
    return {name: frame(name, rows) for name, rows in VALID.items()}


def test_valid_examples_refer_to_each_other() -> None:
    out = schemas.referential_failures(_tables())
    assert out.empty
    assert list(out.columns) == list(schemas.REFERENCE_COLUMNS)


def test_unknown_references_are_flagged() -> None:
    tables = _tables()
    tables["staff"] = frame(
        "staff",
        [
            {**VALID["staff"][0], "post_code": "540102009", "contract_id": "HT-9"},
            VALID["staff"][1],  # posted at the city bureau, 540100
        ],
    )
    tables["offices"] = frame("offices", [{**VALID["offices"][0], "division_code": "540102"}])
    tables["beneficiaries"] = frame(
        "beneficiaries", [{**VALID["beneficiaries"][0], "division_code": "540103001"}]
    )
    tables["fund_payments"] = frame(
        "fund_payments",
        [
            {**VALID["fund_payments"][0], "contract_id": "HT-9"},
            {**VALID["fund_payments"][1], "contract_id": "HT-8"},  # purpose 其他: not a contract payment
        ],
    )
    tables["relief_payments"] = frame(
        "relief_payments", [{**VALID["relief_payments"][0], "person_id": "540102198507150017"}]
    )
    out = schemas.referential_failures(tables)
    assert _rows(out, "table", "index", "column", "check", "value", "action") == [
        ("staff", 0, "post_code", "post_known", "540102009", "flag"),
        ("staff", 0, "contract_id", "contract_known", "HT-9", "flag"),
        ("offices", 0, "division_code", "township_known", "540102", "flag"),
        ("beneficiaries", 0, "division_code", "township_known", "540103001", "flag"),
        ("fund_payments", 0, "contract_id", "contract_known", "HT-9", "flag"),
        ("relief_payments", 0, "person_id", "on_roll", "540102198507150017", "flag"),
    ]
    assert (
        out["message_en"].iloc[5]
        == "Person not on the roll of beneficiaries. Kept in the data: rule F1 reports it."
    )
    assert out["message_zh"].iloc[3] == "不是行政区划表中的乡镇。"


def test_reference_checks_are_skipped_without_their_tables() -> None:
    tables = {"relief_payments": frame("relief_payments", VALID["relief_payments"])}
    assert schemas.referential_failures(tables).empty


def test_every_reference_names_contract_columns() -> None:
    for ref in schemas.REFERENCES:
        TABLES[ref.table].column(ref.column)
        assert ref.check in schemas.checks.REFERENCE_CHECKS
    for table, specs in schemas.CROSS_COLUMN_CHECKS.items():
        for _, columns in specs:
            assert all(TABLES[table].column(c).kind in (Kind.DATE, Kind.CODE, Kind.CHOICE) for c in columns)
    for table, owned in schemas.RULE_OWNED.items():
        for column, _ in owned:
            TABLES[table].column(column)

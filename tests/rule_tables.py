"""Builders of small canonical tables for the rule tests: one row per dict, defaults for the rest.

Columns and dtypes follow docs/architecture.md (text ``str``, dates ``datetime64[us]``,
amounts and numbers ``float64``, counts ``int64``, flags ``bool``), with the ``src_*``
columns ingest adds, so a rule sees exactly what it sees on a real store.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from audit.contract import TABLES, Kind
from audit.params import Params, load_params

ROOT = Path(__file__).resolve().parents[1]
PARAMS_FILE = ROOT / "params" / "lhasa-2020.yaml"
COUNTY = "540102"
OTHER = "540103"
TOWN = "540102001"  # a street office (街道): urban
TOWN2 = "540102002"  # a township (乡): rural
CITY = "540100"

_DTYPES = {
    Kind.DATE: "datetime64[us]",
    Kind.AMOUNT: "float64",
    Kind.NUMBER: "float64",
    Kind.COUNT: "int64",
    Kind.FLAG: "bool",
}


def resident_id(area: str = "540102", birth: str = "19900101", seq: str = "123") -> str:
    """A resident ID with a correct GB 11643 check character."""
    body = area + birth + seq
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    total = sum(int(c) * w for c, w in zip(body, weights, strict=True))
    return body + "10X98765432"[total % 11]


def credit_code(body: str = "52540102MJ000001") -> str:
    """A unified social credit code (17 characters given) with its GB 32100 check character."""
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    weights = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
    body = body + "0" * (17 - len(body))
    total = sum(alphabet.index(c) * w for c, w in zip(body, weights, strict=True))
    return body + alphabet[(31 - total % 31) % 31]


DEFAULTS: dict[str, dict[str, Any]] = {
    "divisions": {
        "name": "某地",
        "level": "township",
        "kind": "街道",
        "parent_code": COUNTY,
        "county_code": COUNTY,
    },
    "offices": {
        "division_code": TOWN,
        "dedicated_officer": True,
        "office_area_m2": 40.0,
        "has_equipment": True,
        "budgeted_funds_yuan": 20000.0,
        "county_code": COUNTY,
    },
    "contracts": {
        "contract_id": "HT-1",
        "county_code": COUNTY,
        "contractor_name": "拉萨市某社会工作服务中心",
        "contractor_uscc": credit_code("52540102MJ000001"),
        "contractor_type": "社会组织",
        "contractor_registered_on": "2018-03-01",
        "signed_on": "2019-12-20",
        "service_start": "2020-01-01",
        "service_end": "2020-12-31",
        "positions": 1,
        "amount_yuan": 79504.0,
    },
    "staff": {
        "name": "扎西",
        "id_number": resident_id(),
        "education": "本科",
        "contract_id": "HT-1",
        "post_code": TOWN,
        "hired_on": "2020-01-01",
        "left_on": None,
        "county_code": COUNTY,
    },
    "fund_allocations": {
        "county_code": COUNTY,
        "fund": "社会救助专项资金",
        "purpose": "救助金",
        "amount_yuan": 0.0,
        "allocated_on": "2020-01-15",
    },
    "fund_payments": {
        "county_code": COUNTY,
        "fund": "社会救助专项资金",
        "purpose": "购买服务",
        "contract_id": "HT-1",
        "amount_yuan": 0.0,
        "paid_on": "2020-02-05",
        "covers_month": "2020-01",
    },
    "beneficiaries": {
        "name": "卓玛",
        "household_id": "H1",
        "division_code": TOWN,
        "programme": "城市低保",
        "household_size": 1,
        "enrolled_on": "2019-01-01",
        "exited_on": None,
        "bank_account": "6217000000000001",
        "county_code": COUNTY,
    },
    "relief_payments": {
        "household_id": "H1",
        "programme": "城市低保",
        "period": "2020-01",
        "amount_yuan": 847.0,
        "paid_on": "2020-02-10",
        "bank_account": "6217000000000001",
        "county_code": COUNTY,
    },
    "deaths": {"died_on": "2020-03-15"},
    "public_employees": {"employer": "某县财政局", "since": "2015-07-01"},
}


def frame(table: str, *rows: dict[str, Any]) -> pd.DataFrame:
    """Table ``table`` with one row per dict over the defaults, in canonical dtypes."""
    spec = TABLES[table]
    names = [
        *spec.names,
        *(["county_code"] if not spec.reference and "county_code" not in spec.names else []),
    ]
    data = [{**DEFAULTS[table], **row} for row in rows]
    out = pd.DataFrame({n: [r.get(n) for r in data] for n in names})
    for col in spec.columns:
        out[col.name] = out[col.name].astype(_DTYPES.get(col.kind, "str"))
    if "county_code" in out:
        out["county_code"] = out["county_code"].astype("str")
    out["src_file"] = pd.Series([f"{table}.xlsx"] * len(out), dtype="str")
    out["src_sheet"] = pd.Series(["Sheet1"] * len(out), dtype="str")
    out["src_row"] = pd.Series(range(2, len(out) + 2), dtype="int64")
    return out


def params(**changes: Any) -> Params:
    """The Lhasa 2020 parameters with ``section={key: value}`` changes, validated again."""
    raw = load_params(PARAMS_FILE).model_dump()
    for section, values in changes.items():
        raw[section] = {**raw[section], **values} if isinstance(values, dict) else values
    return Params.model_validate(raw)


def one_township(code: str = TOWN, kind: str = "街道", county: str = COUNTY) -> dict[str, Any]:
    """A division row for a township office."""
    return {"division_code": code, "kind": kind, "parent_code": county, "county_code": county}

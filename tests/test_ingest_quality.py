"""The data-quality log of an ingest (:mod:`audit.ingest.quality`)."""

from __future__ import annotations

import types

import numpy as np
import pandas as pd
import pyarrow as pa

from audit import repairs
from audit.ingest import quality


def test_log_entries_built_in_arrow_have_the_layout_of_those_built_from_frames():
    rows = np.array([7, 3, 5])
    values = ["x", "", "2020-01-31"]
    built = quality.log_part(
        rows,
        pa.array(values, type=pa.large_string()),
        table="relief_payments",
        county_code=None,
        file="p.csv",
        sheet="",
        column=quality.words(["账号", None, "账号"], np.array([0, 1, 2])),
        check="luhn",
        message_zh="校验位不符",
        message_en="check digit wrong",
        action="flagged",
    )
    entries = {"table": "relief_payments", "county_code": None, "file": "p.csv", "sheet": "", "row": rows}
    entries |= {"column": ["账号", None, "账号"], "value": values, "check": "luhn"}
    entries |= {"message_zh": "校验位不符", "message_en": "check digit wrong", "action": "flagged"}
    expected = quality.compact_log(pd.DataFrame(entries))
    assert built.schema == expected.schema  # so that the parts of the log concatenate
    assert built.to_pylist() == expected.to_pylist()
    # Each word once, as dictionary_encode has it: the log is sorted by the ranks of the words.
    assert built.column("column").chunk(0).dictionary.to_pylist() == ["账号"]


def test_schema_failures_are_logged_in_their_order_with_values_as_found():
    raw = pd.DataFrame({"payment_id": ["P1", "P2", "P3"], "bank_account": ["6222", None, "6333"]})
    raw = raw.astype("str")
    store = raw.assign(
        paid_on=np.array(["2020-01-31", "2020-02-01T12:30", "NaT"], dtype="datetime64[us]"),
        county_code=pd.Series(["540102", None, "540103"], dtype="str"),
        src_row=np.array([2, 3, 5]),
    )
    failures = [  # index, column, check, value, action
        (2, "bank_account", "luhn", "6333", "flag"),
        (0, "paid_on", "dates_ordered", "x", "quarantine"),
        (1, "bank_account", "luhn", pd.NA, "flag"),
        (0, "payment_id", "unique", "P1", "flag"),
        (1, "amount_yuan", "cents", "12.345", "quarantine"),
        (1, "paid_on", "dates_ordered", "y", "quarantine"),
    ]
    found = pd.DataFrame(failures, columns=["index", "column", "check", "value", "action"]).astype("str")
    found["index"] = found["index"].astype("Int64")
    found["message_en"], found["message_zh"] = found["check"] + " failed", found["check"] + "不符"
    logged: list[pa.Table] = []
    log = types.SimpleNamespace(add=logged.append, flagged=set())
    mapping = repairs.HeaderMapping({}, {"bank_account": "银行账号"}, (), ())
    data = types.SimpleNamespace(file="p.csv", sheet="")
    quality.QualityLog.schema_cells(log, "relief_payments", data, mapping, raw, store, found)
    (part,) = logged
    shown = ("row", "county_code", "column", "value", "check", "action")
    got = [tuple(entry[c] for c in shown) for entry in part.to_pylist()]
    assert got == [
        (5, "540103", "银行账号", "6333", "luhn", "flagged"),
        (2, "540102", "paid_on", "2020-01-31", "dates_ordered", "quarantined"),
        (3, "", "银行账号", "", "luhn", "flagged"),
        (2, "540102", "payment_id", "P1", "unique", "flagged"),
        (3, "", "amount_yuan", "12.345", "cents", "quarantined"),  # in neither frame: as the check saw it
        (3, "", "paid_on", "2020-02-01 12:30:00", "dates_ordered", "quarantined"),
    ]
    assert part.column("message_en").to_pylist()[4] == "cents failed"
    assert log.flagged == {("p.csv", "", 2, "payment_id", "unique")}  # flags on keys, for the later checks

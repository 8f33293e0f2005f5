"""Money in fen and calendar months."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pandas as pd

from audit.rules.measures import deadlines, fen, fen_of, in_units, month_bounds, months_between, year_months


def test_fen_is_exact_for_amounts_rounded_to_the_fen():
    assert fen(pd.Series([0.01, 0.29, 1101.08, 79504.0, np.nan])).tolist() == [1, 29, 110108, 7950400, 0]
    assert fen_of(Decimal("6625.335")) == 662534
    assert fen_of(0.04) == 4


def test_in_units_rounds_half_up():
    assert in_units(np.array([149, 150, 151, 100]), 100).tolist() == [1, 2, 2, 1]
    assert in_units(np.array([5, 6]), 1).tolist() == [5, 6]


def test_month_bounds_and_deadlines():
    periods = pd.Series(["2020-02", "2020-12", None, "2020-02", "bad"], dtype="str")
    start, end = month_bounds(periods)
    assert start.dt.strftime("%Y-%m-%d").tolist()[:2] == ["2020-02-01", "2020-12-01"]
    assert end.dt.strftime("%Y-%m-%d").tolist()[:2] == ["2020-02-29", "2020-12-31"]
    assert start.isna().tolist() == [False, False, True, False, True]
    assert start.dtype == "datetime64[us]"
    due = deadlines(periods, 15)
    assert due.dt.strftime("%Y-%m-%d").tolist()[:2] == ["2020-03-15", "2021-01-15"]
    assert due.isna().tolist() == [False, False, True, False, True]


def test_months_between_counts_months_touched():
    start = pd.Series(pd.to_datetime(["2020-01-15", "2020-01-01", "2020-06-01", None])).astype(
        "datetime64[us]"
    )
    end = pd.Series(pd.to_datetime(["2020-03-01", "2020-12-31", "2020-05-31", "2020-05-31"])).astype(
        "datetime64[us]"
    )
    assert months_between(start, end).tolist() == [3, 12, 0, 0]


def test_year_months():
    assert year_months(2020)[0] == "2020-01" and year_months(2020)[-1] == "2020-12"
    assert len(year_months(2020)) == 12

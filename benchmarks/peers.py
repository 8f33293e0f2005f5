"""The tools a user would pick instead of ``audit.schemas.validate``: Great Expectations and pandera.

Both peers check the relief payments the way their documentation suggests, on the frame the
store gives back (pandas ``str`` columns): column types, not-null, payment_id unique, the
resident ID's pattern and check digit, programme in the contract's set, period ``YYYY-MM``,
amount at least 0, account digits, county code pattern. Neither has a GB 11643 check, so
both call :func:`resident_id_ok` once per value, as a user's own check would. Ours also
checks amounts to the fen and accounts with Luhn; the peers skip those two, which only flatters them.

Every peer's ``validate(frame)`` returns the number of failing values per check, so the suite
can show that the peers found what ours found before it compares their speed.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
from typing import Any

import pandas as pd

from audit.datacontract import TABLES

TABLE = "relief_payments"
PROGRAMMES = list(TABLES[TABLE].column("programme").choices)
ID_PATTERN = r"^[0-9]{17}[0-9X]$"
MONTH_PATTERN = r"^[0-9]{4}-(0[1-9]|1[0-2])$"
DIGITS_PATTERN = r"^[0-9]+$"
COUNTY_PATTERN = r"^[0-9]{6}([0-9]{3})?$"
TEXT_COLUMNS = (
    "payment_id",
    "person_id",
    "household_id",
    "programme",
    "period",
    "bank_account",
    "county_code",
)
REQUIRED = (*TEXT_COLUMNS, "amount_yuan", "paid_on")
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"


def resident_id_ok(value: object, today: dt.date | None = None) -> bool:
    """Whether one value is a GB 11643 resident ID: shape, check character, a past birth day."""
    if not isinstance(value, str) or len(value) != 18 or not value.isascii() or not value[:17].isdigit():
        return False
    if _CHECK[sum(int(c) * w for c, w in zip(value[:17], _WEIGHTS, strict=True)) % 11] != value[17]:
        return False
    try:
        born = dt.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return False
    return born <= (today or dt.date.today())


# --- Great Expectations ------------------------------------------------------------------------


@functools.cache
def _ge_resident_id_expectation() -> type:
    """The custom column map expectation for the check digit (GE has none), registered once."""
    from great_expectations.execution_engine import PandasExecutionEngine
    from great_expectations.expectations.expectation import ColumnMapExpectation
    from great_expectations.expectations.metrics import ColumnMapMetricProvider, column_condition_partial

    class ColumnValuesResidentIdValid(ColumnMapMetricProvider):
        """GB 11643 check per value (the metric behind the expectation)."""

        condition_metric_name = "column_values.resident_id_valid"

        @column_condition_partial(engine=PandasExecutionEngine)
        def _pandas(cls, column: pd.Series, **kwargs: Any) -> pd.Series:
            today = dt.date.today()
            return column.map(lambda value: resident_id_ok(value, today)).astype(bool)

    class ExpectColumnValuesToBeValidResidentIds(ColumnMapExpectation):
        """Expect column values to be valid GB 11643 resident ID numbers."""

        map_metric = "column_values.resident_id_valid"
        success_keys = ("mostly",)

    return ExpectColumnValuesToBeValidResidentIds


class GreatExpectations:
    """Great Expectations 1.x: ephemeral context, pandas data source, whole-dataframe batch, one suite.

    Without ``check_digit`` the suite checks the ID's pattern only: what GE can do on its own.
    """

    name = "Great Expectations"

    def __init__(self, check_digit: bool = True, result_format: str = "SUMMARY") -> None:
        import great_expectations as gx
        import great_expectations.expectations as gxe
        from great_expectations.data_context.types.base import ProgressBarsConfig

        logging.getLogger("great_expectations").setLevel(logging.ERROR)
        self.version = gx.__version__
        self.result_format = result_format  # SUMMARY is GE's default: counts and a few examples
        context = gx.get_context(mode="ephemeral")
        context.variables.progress_bars = ProgressBarsConfig(globally=False)
        asset = context.data_sources.add_pandas("bench").add_dataframe_asset(TABLE)
        self.batch_definition = asset.add_batch_definition_whole_dataframe("whole")
        suite = context.suites.add(gx.ExpectationSuite(f"{TABLE}-bench"))
        for column in TEXT_COLUMNS:
            suite.add_expectation(gxe.ExpectColumnValuesToBeOfType(column=column, type_="str"))
        suite.add_expectation(gxe.ExpectColumnValuesToBeOfType(column="amount_yuan", type_="float64"))
        suite.add_expectation(gxe.ExpectColumnValuesToBeOfType(column="paid_on", type_="datetime64[us]"))
        for column in REQUIRED:
            suite.add_expectation(gxe.ExpectColumnValuesToNotBeNull(column=column))
        suite.add_expectation(gxe.ExpectColumnValuesToBeUnique(column="payment_id"))
        suite.add_expectation(gxe.ExpectColumnValuesToMatchRegex(column="person_id", regex=ID_PATTERN))
        if check_digit:
            suite.add_expectation(_ge_resident_id_expectation()(column="person_id"))
        suite.add_expectation(gxe.ExpectColumnValuesToBeInSet(column="programme", value_set=PROGRAMMES))
        suite.add_expectation(gxe.ExpectColumnValuesToMatchRegex(column="period", regex=MONTH_PATTERN))
        suite.add_expectation(gxe.ExpectColumnValuesToBeBetween(column="amount_yuan", min_value=0))
        suite.add_expectation(gxe.ExpectColumnValuesToMatchRegex(column="bank_account", regex=DIGITS_PATTERN))
        suite.add_expectation(gxe.ExpectColumnValuesToMatchRegex(column="county_code", regex=COUNTY_PATTERN))
        self.suite = suite
        self.checks = len(suite.expectations)

    def validate(self, frame: pd.DataFrame) -> dict[str, int]:
        """Failing values per expectation (``type:column``); a failed type expectation counts 1."""
        batch = self.batch_definition.get_batch(batch_parameters={"dataframe": frame})
        result = batch.validate(self.suite, result_format=self.result_format)
        counts: dict[str, int] = {}
        for item in result.results:
            config = item.expectation_config
            if item.exception_info and item.exception_info.get("raised_exception"):
                raise RuntimeError(f"{config.type} raised: {item.exception_info.get('exception_message')}")
            key = f"{config.type}:{config.kwargs.get('column')}"
            counts[key] = int(item.result.get("unexpected_count") or (0 if item.success else 1))
        return counts


# --- pandera, element-wise ---------------------------------------------------------------------


class PanderaElementWise:
    """pandera with built-in checks and the check digit as an ``element_wise=True`` custom check."""

    name = "pandera, element-wise check digit"

    def __init__(self) -> None:
        import pandera
        import pandera.pandas as pa

        self.version = pandera.__version__
        today = dt.date.today()

        def text(*checks: pa.Check, unique: bool = False) -> pa.Column:
            return pa.Column("str", checks=list(checks), nullable=False, unique=unique)

        self.schema = pa.DataFrameSchema(
            {
                "payment_id": text(unique=True),
                "person_id": text(
                    pa.Check.str_matches(ID_PATTERN),
                    pa.Check(
                        lambda value: resident_id_ok(value, today), element_wise=True, name="resident_id"
                    ),
                ),
                "household_id": text(),
                "programme": text(pa.Check.isin(PROGRAMMES)),
                "period": text(pa.Check.str_matches(MONTH_PATTERN)),
                "amount_yuan": pa.Column("float64", pa.Check.ge(0), nullable=False),
                "paid_on": pa.Column("datetime64[us]", nullable=False),
                "bank_account": text(pa.Check.str_matches(DIGITS_PATTERN)),
                "county_code": text(pa.Check.str_matches(COUNTY_PATTERN)),
            },
            strict=False,
            coerce=False,
        )
        self.checks = sum(len(c.checks) + 1 + c.unique for c in self.schema.columns.values())

    def validate(self, frame: pd.DataFrame) -> dict[str, int]:
        """Failing values per check (``check:column``), from a lazy validation."""
        return pandera_failures(self.schema, frame)


def pandera_failures(schema: Any, frame: pd.DataFrame) -> dict[str, int]:
    """Run a pandera schema lazily and count its failure cases per ``check:column``."""
    from pandera.errors import SchemaErrors

    try:
        schema.validate(frame, lazy=True)
    except SchemaErrors as exc:
        cases = exc.failure_cases
        keys = cases["check"].astype(str) + ":" + cases["column"].astype(str)
        return {key: int(n) for key, n in keys.value_counts().items()}
    return {}

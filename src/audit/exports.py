"""CSV and xlsx writing that is safe to open in Excel and byte-identical run to run.

Text that a spreadsheet could take for a formula (starting with ``= + - @``, a tab or a
carriage return) gets a leading apostrophe, so a name or account typed as ``=HYPERLINK(...)``
in a county's submission cannot run in the inspector's Excel. Text columns are always
written as text, so 18-digit IDs and codes never turn into numbers and lose digits.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xlsxwriter

_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
FIXED_CREATED = dt.datetime(2000, 1, 1)
"""The creation date written into every xlsx: a real one would change the bytes of each run."""


def neutralise(value: str) -> str:
    """``value`` with a leading apostrophe if a spreadsheet could read it as a formula."""
    return "'" + value if value.startswith(_TRIGGERS) else value


def neutralise_text(series: pd.Series) -> pd.Series:
    """Every value of a text series neutralised; missing values stay missing."""
    text = series.astype("str")
    risky = text.str.startswith(_TRIGGERS).fillna(False).astype(bool)
    return text.mask(risky, "'" + text)


def _is_numeric(series: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)


def _as_text(series: pd.Series) -> pd.Series:
    """A non-numeric column as neutralised text (dates as ISO days, flags as true/false)."""
    if pd.api.types.is_datetime64_any_dtype(series):
        return series.dt.strftime("%Y-%m-%d").astype("str")
    if pd.api.types.is_bool_dtype(series):
        return series.map({True: "true", False: "false"}).astype("str")
    return neutralise_text(series)


def write_csv(frame: pd.DataFrame, path: str | Path, *, float_format: str = "%.2f") -> Path:
    """Write ``frame`` as UTF-8 CSV with a BOM (so Excel reads Chinese), text neutralised."""
    path = Path(path)
    out = frame.copy()
    for name in out.columns:
        if not _is_numeric(out[name]):
            out[name] = _as_text(out[name])
    # CRLF and a fixed float format keep the bytes the same on every platform and run.
    out.to_csv(path, index=False, encoding="utf-8-sig", lineterminator="\r\n", float_format=float_format)
    return path


def write_xlsx(
    sheets: Mapping[str, pd.DataFrame],
    path: str | Path,
    *,
    number_format: str = "#,##0.00",
    widths: Mapping[str, float] | None = None,
    created: dt.datetime = FIXED_CREATED,
    number_formats: Mapping[str, str] | None = None,
    sheet_setup: Callable[[Any, Any, str], None] | None = None,
) -> Path:
    """Write one sheet per frame: text cells as strings (neutralised), numbers with ``number_format``.

    ``number_formats`` gives some numeric columns their own format (``"0"`` for a row number);
    ``sheet_setup(workbook, worksheet, sheet_name)`` is called after a sheet's cells are
    written, to add validation or a print layout.
    """
    path = Path(path)
    options = {
        "strings_to_numbers": False,  # an ID stays text: "540102..." must not become 5.40102E+17
        "strings_to_formulas": False,
        "strings_to_urls": False,
        "nan_inf_to_errors": False,
    }
    workbook = xlsxwriter.Workbook(str(path), options)
    workbook.set_properties({"created": created})
    header = workbook.add_format({"bold": True, "text_wrap": True, "valign": "top", "bg_color": "#DDEBF7"})
    number = workbook.add_format({"num_format": number_format, "valign": "top"})
    text = workbook.add_format({"valign": "top", "text_wrap": True})
    widths = dict(widths or {})
    own = {
        name: workbook.add_format({"num_format": f, "valign": "top"})
        for name, f in (number_formats or {}).items()
    }
    for sheet_name, frame in sheets.items():
        sheet = workbook.add_worksheet(sheet_name)
        for col, name in enumerate(frame.columns):
            sheet.write_string(0, col, neutralise(str(name)), header)
            sheet.set_column(col, col, widths.get(str(name), 14))
        for col, name in enumerate(frame.columns):
            series = frame[name]
            if _is_numeric(series):
                values = series.to_numpy(dtype="float64", na_value=np.nan)
                style = own.get(str(name), number)
                for row, value in enumerate(values, start=1):
                    if np.isfinite(value):
                        sheet.write_number(row, col, float(value), style)
            else:
                for row, value in enumerate(_as_text(series).tolist(), start=1):
                    if isinstance(value, str):
                        sheet.write_string(row, col, value, text)
        sheet.freeze_panes(1, 0)
        if len(frame.columns):
            sheet.autofilter(0, 0, max(len(frame), 1), len(frame.columns) - 1)
        if sheet_setup is not None:
            sheet_setup(workbook, sheet, sheet_name)
    workbook.close()
    return path

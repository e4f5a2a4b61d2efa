"""Exported cells that never execute: text is never a formula, numbers stay numbers.

A reason typed by an organiser, a round name or a question text may begin with ``=``; written
as is, Excel (or LibreOffice) runs it as a formula when the leader opens the file, and
``=HYPERLINK("http://evil.example", "open")`` sends whoever clicks to that site.  Following OWASP's
"CSV injection" rule, text that begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is
prefixed with a single quote in CSV files and in the Excel report, and every Excel writer is told
to store strings as strings (xlsxwriter's ``strings_to_formulas`` off, openpyxl cells typed as text).
"""

from __future__ import annotations

import pandas as pd

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# For xlsxwriter, directly or through pandas (engine_kwargs={"options": XLSXWRITER_OPTIONS}).
XLSXWRITER_OPTIONS = {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False}


def neutralised(value):
    """``value`` with a leading quote if it is text a spreadsheet would run as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def neutralised_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy whose text cells and headers are neutralised; numeric columns are left as they are."""
    out = frame.copy()
    for column in out.columns:
        if not (pd.api.types.is_numeric_dtype(out[column]) or pd.api.types.is_datetime64_any_dtype(out[column])):
            out[column] = out[column].map(neutralised)
    out.columns = [neutralised(c) for c in out.columns]
    return out


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """The frame as CSV in UTF-8 with BOM (Chinese Excel opens it as is), neutralised."""
    return neutralised_frame(frame).to_csv(index=False).encode("utf-8-sig")


def text_cell(cell, value) -> None:
    """Set an openpyxl cell so that text stays text (openpyxl makes a formula of any '=…' string)."""
    cell.value = value
    if isinstance(value, str):
        cell.data_type = "s"

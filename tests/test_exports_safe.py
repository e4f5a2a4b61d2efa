"""Exports that never execute: a HYPERLINK formula typed as an exclusion reason, a round name or a
question text comes out of the Excel report and the CSV as text, on both writers (xlsxwriter for the
report and the paper files, pandas' CSV), while numbers stay numbers."""

from __future__ import annotations

import csv
import io

import openpyxl
import pandas as pd
import pytest

from reports.safe_cells import FORMULA_STARTS, csv_bytes, neutralised

PAYLOAD = '=HYPERLINK("http://evil.example","open")'


@pytest.mark.parametrize("start", FORMULA_STARTS)
def test_every_dangerous_start_is_quoted(start):
    assert neutralised(start + "1+1") == "'" + start + "1+1"
    assert neutralised("合格" + start) == "合格" + start
    assert neutralised(-3) == -3 and neutralised(2.5) == 2.5


def test_csv_keeps_text_as_text_and_numbers_as_numbers():
    frame = pd.DataFrame({"区域": [PAYLOAD, "@SUM(A1)", "城东区"], "比率": [-0.25, 0.5, 1.0], "人数": [1, 2, 3]})
    rows = list(csv.reader(io.StringIO(csv_bytes(frame).decode("utf-8-sig"))))
    assert rows[1][0] == "'" + PAYLOAD and rows[2][0] == "'@SUM(A1)" and rows[3][0] == "城东区"
    assert [r[1] for r in rows[1:]] == ["-0.25", "0.5", "1.0"]


def test_excel_report_writes_the_payload_as_a_string(tmp_path):
    from analysis import round_results
    from reports.excel import round_report_xlsx

    areas = pd.DataFrame({"id": [1, 2], "code": ["CD", "CD01"], "name_zh": [PAYLOAD, "街道"], "name_en": [PAYLOAD, "s"],
                          "level": ["district", "street"], "parent_id": [None, 1], "street_id": [None, 2],
                          "district_id": [1, 1]})
    areas = pd.concat([areas, pd.DataFrame({"id": [3], "code": ["CD0101"], "name_zh": ["=1+1"], "name_en": ["c"],
                                            "level": ["community"], "parent_id": [2], "street_id": [2],
                                            "district_id": [1]})], ignore_index=True)
    tally = pd.DataFrame({"community_id": [3, 3], "indicator": ["support", "support"], "item": ["", "q1"],
                          "respondents": [10, 10], "valid": [10, 10], "positive": [9, 9], "valid_sq": [10, 10],
                          "positive_sq": [9, 9], "valid_positive": [9, 9]})
    results = round_results(tally, areas, {"support": 0.9})
    exclusions = pd.DataFrame({"reason": [PAYLOAD], "responses": [3]})
    data = round_report_xlsx(results, round_name=PAYLOAD, question_text=lambda code: PAYLOAD, method="wilson",
                             confidence=0.95, scope_name="全市", exclusions=exclusions)
    book = openpyxl.load_workbook(io.BytesIO(data))
    formulas, texts, numbers = [], [], []
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if cell.data_type == "f":
                    formulas.append(cell.value)
                elif isinstance(cell.value, str) and "HYPERLINK" in cell.value:
                    texts.append(cell.value)
                elif isinstance(cell.value, (int, float)):
                    numbers.append(cell.value)
    assert formulas == []
    assert "'" + PAYLOAD in texts and all(text.startswith("'") for text in texts)
    assert numbers  # rates, counts and intervals are still numbers


def test_rejected_paper_rows_keep_a_typed_formula_as_text():
    from data.paper import PaperImport
    from reports.paper_template import rejected_rows_xlsx

    frame = pd.DataFrame({"问卷编号": [PAYLOAD], "行号": [2], "错误": ["x"]})
    data = rejected_rows_xlsx(PaperImport(records=[], errors=pd.DataFrame(), rejected_rows=frame, valid_count=0,
                                          total_count=1))
    cell = openpyxl.load_workbook(io.BytesIO(data)).worksheets[0]["A2"]
    assert cell.data_type == "s" and cell.value == PAYLOAD  # typed text, given back as typed, never run

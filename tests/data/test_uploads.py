"""Hostile uploads: each gets a clear refusal and costs the server seconds, not its memory or stack.

The files are the ones of issue 18: a 546-byte "billion laughs" YAML, a list nested 5,000 deep,
a 5,000-digit number, a workbook padded to many rows; and the worker's own budget is tested with
readers that try to take 4 GB or to run for ever.
"""

from __future__ import annotations

import io
import time

import openpyxl
import pytest

from data import questionnaire_versions as qv
from data import uploads
from data.paper import PaperFileError
from questionnaires.xlsform import MAX_SHEET_ROWS, write_xlsform
from questionnaires import load_default

LAUGHS = ('a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n' + "".join(
    f"{c}: &{c} [*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p}]\n" for p, c in zip("abcdefgh", "bcdefghi")))


def _hog_memory(gigabytes: int) -> int:
    blocks = [bytearray(256 * 1024 * 1024) for _ in range(gigabytes * 4)]
    return len(blocks)


def _run_for_ever() -> None:
    while True:
        time.sleep(0.05)


def _raise_paper_error() -> None:
    raise PaperFileError("坏文件 / bad file")


def test_billion_laughs_is_refused_without_expanding():
    assert len(LAUGHS.encode()) < 546
    questionnaire, messages = qv.check_upload("laughs.yaml", (LAUGHS + "\n" * 200).encode())
    assert questionnaire is None
    assert len(messages) == 1 and "200,000" in messages[0] and "aliases" in messages[0]
    assert "lol" not in messages[0]  # nothing of the structure is echoed back


@pytest.mark.parametrize("text, expected", [
    ("code: x\nq: " + "[" * 5000 + "]" * 5000, "nested deeper than"),
    ("code: x\nversion: " + "9" * 5000, "longer than 30 characters"),
    ("a: &a [*a]\n", "refers to itself"),
])
def test_deep_or_huge_yaml_is_refused(text, expected):
    questionnaire, messages = qv.check_upload("bad.yaml", text.encode())
    assert questionnaire is None and expected in messages[0]


def test_oversized_files_are_refused_before_reading():
    _, messages = qv.check_upload("big.yaml", b"#" * (uploads.UPLOAD_LIMITS["questionnaire_yaml"].max_bytes + 1))
    assert "larger than 1 MB" in messages[0]
    _, messages = qv.check_upload("big.xlsx", b"P" * (uploads.UPLOAD_LIMITS["questionnaire_xlsx"].max_bytes + 1))
    assert "larger than 5 MB" in messages[0]


def test_a_padded_xlsform_is_refused_at_the_row_limit():
    book = openpyxl.load_workbook(io.BytesIO(write_xlsform(load_default())))
    survey = book["survey"]
    for row in range(survey.max_row + 1, MAX_SHEET_ROWS + 50):
        survey.cell(row=row, column=1, value="note")
    out = io.BytesIO()
    book.save(out)
    questionnaire, messages = qv.check_upload("padded.xlsx", out.getvalue())
    assert questionnaire is None and any(f"more than {MAX_SHEET_ROWS} rows" in m for m in messages)


def test_a_good_questionnaire_still_passes_through_the_worker():
    source = load_default()
    for name, data in (("q.xlsx", write_xlsform(source)), ("q.yaml", qv.to_yaml(source).encode())):
        questionnaire, messages = qv.check_upload(name, data)
        assert messages == [] and questionnaire.content_hash() == source.content_hash()


def test_the_worker_stops_a_reader_that_takes_too_much_memory():
    with pytest.raises(PaperFileError, match="too complex"):
        uploads.read_limited("paper", PaperFileError, _hog_memory, 4)


def test_the_worker_stops_a_reader_that_runs_too_long(monkeypatch):
    monkeypatch.setitem(uploads.UPLOAD_LIMITS, "paper", uploads.UploadLimit(1, seconds=2))
    started = time.monotonic()
    with pytest.raises(PaperFileError, match="2 s"):
        uploads.read_limited("paper", PaperFileError, _run_for_ever)
    assert time.monotonic() - started < 30  # stopped by its budget, not left running


def test_the_readers_own_refusals_come_back_as_they_are():
    with pytest.raises(PaperFileError, match="bad file"):
        uploads.read_limited("paper", PaperFileError, _raise_paper_error)

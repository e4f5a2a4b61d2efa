"""What the paper template and its reader share: sheet names, limits, the fixed columns and the
question columns, the stable response id of a paper form."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from data.models import USERNAME_LENGTH
from questionnaires import Question, Questionnaire

PAPER_NAMESPACE = uuid.UUID("6f1d3c2a-8b57-5e0c-9a41-2f7e6d0c5b18")

ENTRY_SHEET = {"zh": "问卷录入", "en": "Entry"}
INSTRUCTIONS_SHEET = {"zh": "填写说明", "en": "Instructions"}
LISTS_SHEET = "选项"  # hidden; holds the drop-down lists
TEMPLATE_ROWS = 5000  # rows that carry the drop-downs and checks
MAX_ROWS = 20000
MAX_BYTES = 30 * 1024 * 1024
MAX_FORM_NUMBER = 64
MAX_INTERVIEWER = USERNAME_LENGTH  # response.interviewer
MAX_COLUMNS = 400  # the template has 4 + one per question (+ 2 in a rejected-rows file)
EARLIEST_DATE = date(2000, 1, 1)

# The fixed columns before the questions: key -> (zh header, en header).
FIXED_COLUMNS = {
    "form": ("问卷编号", "Form number"),
    "community": ("社区编码", "Community code"),
    "interviewer": ("调查员编号", "Interviewer ID"),
    "date": ("调查日期", "Survey date"),
}
# Columns that rejected-row files add; ignored when such a file is uploaded again.
ROW_COLUMN, ERROR_COLUMN = "行号", "错误"
EXTRA_COLUMNS = {"zh": (ROW_COLUMN, ERROR_COLUMN), "en": ("Row", "Errors")}
ERROR_FRAME_COLUMNS = ["行号", "列", "问题"]
ERROR_FRAME_COLUMNS_EN = {"行号": "Row", "列": "Column", "问题": "Problem"}


# "、" and "," also occur inside labels (电视、广播), which the reader resolves against the labels.

class PaperFileError(ValueError):
    """The file as a whole cannot be read or imported; the message is in Chinese and English."""


def _msg(lang: str, zh: str, en: str) -> str:
    return en if lang == "en" else zh


def _lang(lang: str) -> str:
    return "en" if lang == "en" else "zh"


def paper_response_id(round_code: str, form_number: str) -> str:
    """The stable response id of paper form ``form_number`` in round ``round_code``."""
    return str(uuid.uuid5(PAPER_NAMESPACE, f"{round_code}\x1f{form_number}"))


# ----------------------------------------------------------------------------------- columns


@dataclass(frozen=True)
class _Column:
    key: str  # form / community / interviewer / date / q:<question code>
    headers: tuple[str, str]  # (zh, en)
    question: Question | None = None
    number: int | None = None  # question number, 1-based

    def header(self, lang: str) -> str:
        return self.headers[1] if lang == "en" else self.headers[0]


def _columns(questionnaire: Questionnaire) -> list[_Column]:
    columns = [_Column(key, headers) for key, headers in FIXED_COLUMNS.items()]
    numbers = questionnaire.question_numbers()  # notes have no column: they hold no answer
    for question in questionnaire.answered_questions():
        number = numbers[question.code]
        headers = (f"{number}. {_one_line(question.text('zh'))}", f"{number}. {_one_line(question.text('en'))}")
        columns.append(_Column(f"q:{question.code}", headers, question, number))
    return columns


def _one_line(text: str) -> str:
    return " ".join(str(text).split())

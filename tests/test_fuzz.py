"""Fuzzing every reader of untrusted input: each answers with a clear refusal or an acceptance,
never another exception (a traceback for the user, or a crash of the server process).

Covered: the questionnaire YAML loader, the XLSForm reader, the condition parser (and evaluation),
the paper and population readers, and ``submit`` on a real SQLite file.  Examples are few and
deadlines off, so the whole suite stays well under a minute; hypothesis keeps the failing cases
it finds in .hypothesis/ and tries them first next time.
"""

from __future__ import annotations

import io
import string
import tempfile
from datetime import datetime, timedelta
from functools import lru_cache

import openpyxl
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from data import paper
from reports.paper_template import paper_template
from data.areas import areas_frame
from data.questionnaire_versions import save_questionnaire
from data.responses import SubmissionRefused, new_response_id, submit_response
from data.rounds import create_round, round_by_code
from data.db import make_engine, read_session, upgrade_database, write_session
from data.demo import DEFAULT_TARGETS, build_city
from data.population import PopulationFileError, PopulationImport, read_population_file
from questionnaires import Questionnaire, QuestionnaireError, load_default
from questionnaires.loader import default_questionnaire_path, parse_questionnaire_text
from questionnaires.logic import Condition, ConditionError, parse_condition
from questionnaires.xlsform import XLSFormError, read_xlsform, write_xlsform

FAST = settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck))
QUICK = settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck))
QUESTIONNAIRE = load_default()
DEFAULT_YAML = default_questionnaire_path().read_text(encoding="utf-8")

# Anything a forged form or a hostile file may hold.
nasty_text = st.text(alphabet=st.characters(codec=None, exclude_categories=()), max_size=40)
nasty_scalar = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(10**400), max_value=10**400),
    st.floats(allow_nan=True, allow_infinity=True), nasty_text,
    st.sampled_from(["=HYPERLINK(\"http://x\")", "\ud800", "1e400", "-0", "18_29", "female", "yes", "" , " "]),
)
# What a spreadsheet cell can hold (openpyxl cannot save 10**400 or a lone surrogate).
cell_scalar = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(10**15), max_value=10**15),
    st.floats(allow_nan=False, allow_infinity=False), st.text(alphabet=string.printable + "中文、；，—", max_size=40),
    st.sampled_from(["=HYPERLINK(\"http://x\")", "1e400", "inf", "-0", "18_29", "female", "yes", "", " "]),
)
nasty_value = st.recursive(nasty_scalar, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                                 st.dictionaries(nasty_text, inner, max_size=3)),
                           max_leaves=8)


@given(st.data())
@FAST
def test_yaml_loader_refuses_or_accepts(data):
    lines = DEFAULT_YAML.splitlines()
    choice = data.draw(st.sampled_from(["mutate", "text"]))
    if choice == "text":
        text = data.draw(st.text(alphabet=string.printable + "&*[]{}:-!|>中文\ud800", max_size=300))
    else:
        for _ in range(data.draw(st.integers(1, 4))):
            at = data.draw(st.integers(0, len(lines) - 1))
            lines[at] = data.draw(st.sampled_from([
                "", lines[at] + " &a", lines[at].replace(":", ": *a"), "  " + lines[at], lines[at][: len(lines[at]) // 2],
                "x: " + "9" * 50, lines[at] + " [[[[", "<<: *a", lines[at].upper(), "- " + lines[at]]))
        text = "\n".join(lines)
    try:
        assert isinstance(parse_questionnaire_text(text, "fuzz.yaml"), Questionnaire)
    except QuestionnaireError as refused:
        assert refused.errors and all(isinstance(m, str) and len(m) < 5000 for m in refused.errors)


@lru_cache(maxsize=1)
def _xlsform_bytes() -> bytes:
    return write_xlsform(QUESTIONNAIRE)


@given(st.data())
@FAST
def test_xlsform_reader_refuses_or_accepts(data):
    if data.draw(st.booleans()):
        blob = data.draw(st.binary(max_size=200))
        if data.draw(st.booleans()):
            blob = b"PK\x03\x04" + blob
    else:
        book = openpyxl.load_workbook(io.BytesIO(_xlsform_bytes()))
        for _ in range(data.draw(st.integers(1, 5))):
            sheet = book[data.draw(st.sampled_from(book.sheetnames))]
            row = data.draw(st.integers(1, sheet.max_row + 1))
            column = data.draw(st.integers(1, sheet.max_column + 1))
            value = data.draw(st.one_of(cell_scalar,
                                        st.sampled_from([". <= " + "9" * 5000, "(" * 2000 + "${age_group} = '18_29'",
                                                         "select_one nowhere", "begin group", "string-length(.) <= 0"])))
            try:
                sheet.cell(row=row, column=column, value=value)
            except Exception:  # noqa: BLE001 - openpyxl refuses to write it: not a file anyone can make
                pass
        out = io.BytesIO()
        book.save(out)
        blob = out.getvalue()
    try:
        assert isinstance(read_xlsform(blob, "fuzz.xlsx"), Questionnaire)
    except XLSFormError as refused:
        assert refused.errors


condition_pieces = st.sampled_from(["${age_group}", "${sex}", "${years_in_city}", "'18_29'", "1", "-2.5", "9" * 40,
                                    "=", "!=", "<", ">=", "and", "or", "not", "(", ")", ",", "selected", "$", "'",
                                    "${", "__import__", "\ud800", " "])


@given(st.one_of(st.lists(condition_pieces, max_size=30).map(" ".join), st.text(max_size=60),
                 st.integers(1, 3000).map(lambda n: "(" * n + "${a} = 1" + ")" * n)),
       st.dictionaries(st.sampled_from(["age_group", "sex", "years_in_city", "a"]), nasty_value, max_size=4))
@QUICK
def test_condition_parser_refuses_or_accepts_and_evaluation_never_raises(text, answers):
    try:
        condition = parse_condition(text)
    except ConditionError as refused:
        assert str(refused)
        return
    assert isinstance(condition, Condition)
    assert condition.evaluate(answers) in (True, False)


@lru_cache(maxsize=1)
def _areas() -> pd.DataFrame:
    engine = _engine()
    with read_session(engine) as session:
        return areas_frame(session)


@lru_cache(maxsize=1)
def _template() -> bytes:
    return paper_template(QUESTIONNAIRE, _areas(), scope=paper.CITY)


@given(st.lists(st.lists(cell_scalar, min_size=1, max_size=8), min_size=1, max_size=4), st.booleans())
@FAST
def test_paper_reader_refuses_or_accepts(rows, broken_headers):
    book = openpyxl.load_workbook(io.BytesIO(_template()))
    sheet = book.worksheets[0]
    if broken_headers:
        try:
            sheet.cell(row=1, column=2, value=rows[0][0])
        except Exception:  # noqa: BLE001 - openpyxl refuses to write it (a control character, say)
            pass
    for r, values in enumerate(rows, start=2):
        for c, value in enumerate(values, start=1):
            try:
                sheet.cell(row=r, column=c * 3 - 2, value=value)
            except Exception:  # noqa: BLE001 - openpyxl refuses to write it
                pass
    out = io.BytesIO()
    book.save(out)
    try:
        checked = paper.read_paper_file(out.getvalue(), QUESTIONNAIRE, _areas())
    except paper.PaperFileError as refused:
        assert str(refused)
        return
    assert checked.valid_count + len(set(checked.errors["行号"])) == checked.total_count


@given(st.one_of(
    st.binary(max_size=300),
    st.lists(st.tuples(st.sampled_from(["CD", "CX", "XX", "", "=1", "城东区"]),
                       st.sampled_from(["18_29", "18-29岁", "", "60_plus", "\u00a0"]),
                       st.sampled_from(["female", "女", "男", "x"]),
                       st.one_of(st.sampled_from(["inf", "1e30", "9.3e18", "-5", "1,200", "nan", ""]),
                                 st.integers(-10**30, 10**30).map(str))), max_size=6)
    .map(lambda rows: ("区域编码,年龄段,性别,人口\n" + "".join(",".join(r) + "\n" for r in rows)).encode("gb18030"))),
    st.sampled_from(["p.csv", "p.xlsx"]))
@FAST
def test_population_reader_refuses_or_accepts(data, name):
    try:
        imported = read_population_file(data, name, _areas(), QUESTIONNAIRE)
    except PopulationFileError as refused:
        assert str(refused)
        return
    assert isinstance(imported, PopulationImport)
    assert imported.rows.empty or imported.rows["population"].between(0, 10**9).all()


@lru_cache(maxsize=1)
def _engine():
    engine = make_engine(f"sqlite:///{tempfile.mkdtemp(prefix='fuzz')}/fuzz.sqlite3")
    upgrade_database(engine)
    with write_session(engine) as session:
        version = save_questionnaire(session, QUESTIONNAIRE)
        build_city(session)
        create_round(session, "F1", "fuzz", version, DEFAULT_TARGETS,
                          opens_at=datetime.now() - timedelta(days=1), closes_at=datetime.now() + timedelta(days=1))
    return engine


codes = [q.code for q in QUESTIONNAIRE.questions]


@given(st.dictionaries(st.one_of(st.sampled_from(codes), nasty_text), nasty_value, max_size=12),
       st.one_of(st.integers(-(10**30), 10**30), st.sampled_from([1, 5, 60]), nasty_scalar),
       st.sampled_from(["self", "interview", "paper", "bogus"]))
@QUICK
def test_submit_refuses_or_stores(answers, community, channel):
    engine = _engine()
    try:
        with write_session(engine) as session:
            result = submit_response(session, response_id=new_response_id(), channel=channel,
                                          survey_round=round_by_code(session, "F1"), questionnaire=QUESTIONNAIRE,
                                          community_id=community, answers=answers, interviewer="fuzz")
    except SubmissionRefused as refused:
        assert refused.messages
        return
    assert result.stored

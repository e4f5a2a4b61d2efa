"""Reports, exports and the sample-size planner through the real app, and the export files themselves."""

from __future__ import annotations

import io

import pandas as pd
import pyreadstat
from openpyxl import load_workbook

from data.areas import areas_frame
from data.db import make_engine, read_session
from data.questionnaire_versions import load_questionnaire_version
from data.reads import round_responses
from data.results import load_snapshot
from data.rounds import round_by_code
from reports.excel import round_report_xlsx
from reports.printable import printable_report_html
from reports.results import results_for
from reports.spss import responses_sav
from tests.pages.conftest import create_staff, log_in


def test_report_page_offers_every_export_within_scope(app, demo_url):
    create_staff(demo_url, "bs", "analyst", area_code="BS")
    log_in(app, "bs")
    app.switch_page("pages/report.py").run()
    assert not app.exception
    labels = [b.label for b in app.get("download_button")]
    assert any("Excel" in label for label in labels) and any("CSV" in label for label in labels)
    app.toggle(key="report.spss").set_value(True).run()
    assert not app.exception
    assert any("SPSS" in b.label for b in app.get("download_button"))


def test_planner_page_gives_the_published_zero_failure_answer(app, demo_url):
    create_staff(demo_url, "ana", "analyst")
    log_in(app, "ana")
    app.switch_page("pages/planner.py").run()
    app.number_input[0].set_value(100.0)
    app.number_input[1].set_value(99.0)
    app.selectbox[1].set_value("clopper-pearson")
    app.selectbox[2].set_value("one")
    next(b for b in app.button if b.label == "样本量规划").click().run()
    assert not app.exception
    assert app.metric[0].value == "299"


def test_excel_report_sheets_headers_and_numbers(demo_url):
    engine = make_engine(demo_url)
    snapshot = load_snapshot(engine, "2026-R2")
    results = results_for(snapshot)
    data = round_report_xlsx(results, round_name="第二轮", question_text=lambda c: c, method="wilson",
                             confidence=0.95, scope_name="全市")
    book = load_workbook(io.BytesIO(data))
    assert book.sheetnames == ["说明", "全市", "区县", "街道", "社区", "题目明细"]
    districts = pd.read_excel(io.BytesIO(data), sheet_name="区县")
    assert list(districts.columns[:6]) == ["区域", "上级区域", "指标", "受访人数", "有效回答", "比率"]
    ours = results.indicators[results.indicators["level"] == "district"]
    assert districts["比率"].round(12).tolist() == ours["rate"].round(12).tolist()
    assert book["区县"]["F2"].number_format == "0.0%"
    engine.dispose()


def test_spss_file_has_chinese_value_labels(demo_url):
    engine = make_engine(demo_url)
    with read_session(engine) as session:
        survey_round = round_by_code(session, "2026-R2")
        responses = round_responses(session, survey_round.id)
        questionnaire = load_questionnaire_version(session, survey_round.questionnaire_id)
        areas = areas_frame(session)
    data = responses_sav(responses, questionnaire, areas)
    import tempfile, os
    handle, name = tempfile.mkstemp(suffix=".sav")
    os.write(handle, data)
    os.close(handle)
    frame, meta = pyreadstat.read_sav(name)
    os.remove(name)
    assert len(frame) == len(responses)
    assert meta.variable_value_labels["sat_traffic_order"][1.0] == "满意"
    assert "交通" in meta.column_names_to_labels["sat_traffic_order"]
    satisfied = sum(a.get("sat_traffic_order") == "very_satisfied" for a in responses["answers"])
    assert (frame["sat_traffic_order"] == 1).sum() == satisfied
    engine.dispose()


def test_printable_report_names_every_district(demo_url):
    engine = make_engine(demo_url)
    results = results_for(load_snapshot(engine, "2026-R2"))
    page = printable_report_html(results, round_name="第二轮", scope_name="全市", question_text=lambda c: c,
                                 method="wilson", confidence=0.95)
    assert all(name in page for name in ["城东区", "城西区", "高新区", "滨江区", "北山县"])
    assert "短板" in page
    engine.dispose()


def test_insights_page_ranks_finds_weak_items_and_breaks_down(app, demo_url):
    create_staff(demo_url, "ana", "analyst")
    log_in(app, "ana")
    app.switch_page("pages/insights.py").run()
    assert not app.exception
    ranking, weak, by_age = (element.value for element in app.dataframe[:3])
    assert len(ranking) == 5 and ranking["名次"].iloc[0] == 1
    assert (weak["拖累（百分点）"].diff().dropna() <= 0).groupby(weak["区域"]).all().all() or len(weak) > 0
    assert set(by_age["年龄段"]) == {"18_29", "30_39", "40_49", "50_59", "60_plus"}


def test_street_scoped_reader_gets_no_district_breakdown(app, demo_url):
    create_staff(demo_url, "street", "analyst", area_code="CD01")
    log_in(app, "street")
    app.switch_page("pages/insights.py").run()
    assert not app.exception
    assert any("区（县）及以上" in i.value for i in app.info)


def test_excel_report_carries_the_suggestions_sheet_and_never_a_formula(demo_url):
    from data.comments import round_comments
    from questionnaires.comment_themes import load_comment_themes
    from reports.comments import comments_export_frame

    engine = make_engine(demo_url)
    snapshot = load_snapshot(engine, "2026-R2")
    with read_session(engine) as session:
        comments = round_comments(session, snapshot.round_id, snapshot.questionnaire)
    areas = snapshot.areas.set_index("id")
    comments["street_id"] = comments["community_id"].map(areas["street_id"])
    comments["district_id"] = comments["community_id"].map(areas["district_id"])
    comments.loc[0, "text"] = '=HYPERLINK("http://evil.example","open")'
    frame = comments_export_frame(comments, snapshot.areas, snapshot.questionnaire, load_comment_themes())
    data = round_report_xlsx(results_for(snapshot), round_name="第二轮", question_text=lambda c: c, method="wilson",
                             confidence=0.95, scope_name="全市", comments=frame)
    book = load_workbook(io.BytesIO(data))
    assert book.sheetnames[-1] == "居民意见"
    sheet = book["居民意见"]
    assert [c.value for c in sheet[1]] == ["区（县）", "街道（乡镇）", "社区（村）", "年龄段", "性别", "意见和建议",
                                         "涉及主题", "提交时间"]
    assert sheet.max_row == len(comments) + 1
    assert all(cell.data_type != "f" for row in sheet.iter_rows(min_row=2) for cell in row)
    assert sheet["F2"].value.startswith("'=HYPERLINK")
    assert {c.value for c in sheet["A"][1:]} <= set(snapshot.areas["name_zh"])
    engine.dispose()

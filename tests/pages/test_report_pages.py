"""Reports, exports and the sample-size planner through the real app, and the export files themselves."""

from __future__ import annotations

import io

import pandas as pd
import pytest
import pyreadstat
from openpyxl import load_workbook

from data.scope import CITY
from data.areas import areas_frame, child_areas
from data.questionnaire_versions import load_questionnaire_version
from data.reads import round_responses
from data.rounds import round_by_code
from data.db import make_engine, read_session
from reports.snapshot import load_snapshot
from reports.results import results_for
from reports.excel import round_report_xlsx
from reports.printable import printable_report_html
from reports.spss import responses_sav
from analysis.rates import DEFAULT_RULE
from reports.excel import indicator_frame
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
    # The form starts from the round's rule (one-sided 95 % Clopper-Pearson): nothing else to pick.
    assert app.selectbox(key="planner.2026-R2.method").value == "clopper-pearson"
    assert app.selectbox(key="planner.2026-R2.sided").value == "one"
    app.number_input[0].set_value(100.0)
    app.number_input[1].set_value(99.0)
    next(b for b in app.button if b.label == "样本量规划").click().run()
    assert not app.exception
    assert app.metric[0].value == "299"
    assert not app.warning  # the form's rule is the round's


def test_planner_undecided_table_follows_the_form(app, demo_url):
    create_staff(demo_url, "ana", "analyst")
    log_in(app, "ana")
    app.switch_page("pages/planner.py").run()
    official = len(app.dataframe[0].value)
    app.selectbox(key="planner.2026-R2.sided").set_value("two")
    app.selectbox(key="planner.2026-R2.confidence").set_value(0.99)
    next(b for b in app.button if b.label == "样本量规划").click().run()
    assert not app.exception
    # A stricter rule (two-sided 99 %) leaves more areas undecided, and the page says it is not the round's rule.
    assert len(app.dataframe[0].value) > official
    assert any("不同于本轮判定规则" in w.value for w in app.warning)


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


def test_excel_report_carries_the_forecast_of_the_official_evaluation(demo_url):
    from reports.results import forecast_for

    engine = make_engine(demo_url)
    snapshot = load_snapshot(engine, "2026-R2")
    results = results_for(snapshot)
    forecast, gains = forecast_for(snapshot, results)
    data = round_report_xlsx(results, round_name="第二轮", question_text=lambda c: c, method="wilson",
                             confidence=0.95, scope_name="全市", forecast=forecast, gains=gains)
    engine.dispose()
    book = load_workbook(io.BytesIO(data))
    assert book.sheetnames == ["说明", "全市", "区县", "街道", "社区", "达标概率", "题目明细"]
    sheet = pd.read_excel(io.BytesIO(data), sheet_name="达标概率")
    areas = sheet[sheet["题目"].isna() & sheet["达标概率"].notna()]
    assert len(areas) == (1 + 5) * 4
    city = areas[(areas["区域"] == "全市") & (areas["指标"] == "知晓率")].iloc[0]
    ours = forecast[(forecast["level"] == "city") & (forecast["indicator"] == "awareness")].iloc[0]
    assert city["达标概率"] == pytest.approx(ours["pass_probability"], rel=1e-12)
    assert city["正式测评访问人数（估计）"] == 600 and city["判定"] in {"达标", "未达标", "待定"}
    weak = sheet[sheet["题目"].notna() & sheet["达标概率提高"].notna()]
    assert len(weak) == len(gains[gains["area_id"].isin(forecast["area_id"])]) and (weak["达标概率提高"] >= 0).all()
    assert any("贝塔-二项" in str(v) for v in sheet["区域"])  # the note under the table
    assert book["达标概率"]["H2"].number_format == "0.0%"


def test_spss_file_has_chinese_value_labels(demo_url):
    engine = make_engine(demo_url)
    with read_session(engine) as session:
        survey_round = round_by_code(session, "2026-R2")
        responses = round_responses(session, survey_round.id, scope=CITY)
        questionnaire = load_questionnaire_version(session, survey_round.questionnaire_id)
        areas = areas_frame(session)
    data = responses_sav(responses, questionnaire, areas, rule=DEFAULT_RULE)
    import tempfile, os
    handle, name = tempfile.mkstemp(suffix=".sav")
    os.write(handle, data)
    os.close(handle)
    frame, meta = pyreadstat.read_sav(name)
    os.remove(name)
    assert len(frame) == len(responses)
    assert meta.file_label == "Clopper–Pearson，单侧 95%"  # the official rule travels with the data
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
    assert set(by_age["年龄段"]) == {"18—29岁", "30—39岁", "40—49岁", "50—59岁", "60岁及以上"}  # words, not codes


def test_street_scoped_reader_gets_no_district_breakdown(app, demo_url):
    create_staff(demo_url, "street", "analyst", area_code="CD01")
    log_in(app, "street")
    app.switch_page("pages/insights.py").run()
    assert not app.exception
    assert any("区（县）及以上" in i.value for i in app.info)


def test_a_district_offices_reports_say_its_district_never_the_whole_city(demo_url):
    """Issue 15 item 3: a district analyst's figures were labelled 全市 in the Excel and printable reports."""
    from reports.results import scope_name

    engine = make_engine(demo_url)
    with read_session(engine) as session:
        district = next(a for a in child_areas(session, None, "district") if a.code == "CD")
    snapshot = load_snapshot(engine, "2026-R2", district.id)
    results = results_for(snapshot)
    assert scope_name(snapshot) == "城东区"
    top = results.indicators[results.indicators["level"] == "city"]
    assert set(top["area_label_zh"]) == {"城东区"}
    data = round_report_xlsx(results, round_name="第二轮", question_text=lambda c: c, method="Wilson 得分区间",
                             confidence=0.95, scope_name=scope_name(snapshot))
    book = load_workbook(io.BytesIO(data))
    assert "全市" not in book.sheetnames and book.sheetnames[1] == "城东区"
    overview = pd.read_excel(io.BytesIO(data), sheet_name="城东区")
    assert set(overview["区域"]) == {"城东区"}
    page = printable_report_html(results, round_name="第二轮", scope_name=scope_name(snapshot),
                                 question_text=lambda c: c, method="Wilson 得分区间", confidence=0.95)
    assert "全市" not in page and "各街道（乡镇）情况" in page
    assert all(street in page for street in ("东门街道", "南湖街道", "新华街道"))
    engine.dispose()


def test_every_export_names_the_rounds_rule(demo_url):
    engine = make_engine(demo_url)
    snapshot = load_snapshot(engine, "2026-R2")
    results = results_for(snapshot)
    data = round_report_xlsx(results, round_name="第二轮", question_text=lambda c: c, scope_name="全市",
                             rule=snapshot.rule)
    about = pd.read_excel(io.BytesIO(data), sheet_name="说明").set_index("项目")["内容"]
    assert about["判定规则"] == snapshot.rule.explain("zh") and about["区间的双侧置信水平"] == "90%"
    districts = pd.read_excel(io.BytesIO(data), sheet_name="区县")
    assert set(districts["判定规则"]) == {"Clopper–Pearson，单侧 95%"}
    csv = indicator_frame(results.indicators, "district", "en", snapshot.rule)
    assert set(csv["Verdict rule"]) == {"Clopper–Pearson, one-sided 95%"}
    page = printable_report_html(results, round_name="第二轮", scope_name="全市", question_text=lambda c: c,
                                 rule=snapshot.rule)
    assert "单侧 95% 置信下限不低于目标" in page
    engine.dispose()


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

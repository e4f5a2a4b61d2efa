"""Reports and exports of a round: Excel for leaders, CSV for Chinese Excel, SPSS, a printable page.
Every export holds only the user's area scope and is written to the audit log."""


import streamlit as st

from analysis import METHODS
from data.db import database_url, read_session
from data.reads import round_responses
from questionnaires.comment_themes import load_comment_themes
from reports.comments import comments_export_frame
from reports.excel import indicator_frame, round_report_xlsx
from reports.printable import printable_report_html
from reports.results import results_for
from reports.spss import responses_sav
from ui import audit, auth, cached
from ui.i18n import lang, language_switch, register_texts, t
from ui.pickers import round_names, round_picker
from ui.state import engine

language_switch()

register_texts({
    "report_help": ("导出内容只包含您有权查看的区域。每次导出都记入操作日志。",
                    "Exports hold only the areas you may see; every export is written to the audit log."),
    "excel_report": ("Excel 报告（各层级一张表，含题目明细）", "Excel report (one sheet per level, with items)"),
    "csv_table": ("CSV（UTF-8 带 BOM，中文 Excel 可直接打开）", "CSV (UTF-8 with BOM for Chinese Excel)"),
    "spss_file": ("SPSS 数据文件（.sav，含中文值标签）", "SPSS data (.sav with Chinese value labels)"),
    "printable": ("可打印报告（HTML，浏览器打开后打印或另存为 PDF）", "Printable report (HTML; print or save as PDF)"),
    "preview": ("报告预览", "Preview"),
    "comments_csv": ("居民意见（CSV，个人信息已隐去）", "Residents' suggestions (CSV, personal details masked)"),
})

staff = auth.require_page("report")
language = lang()
url = database_url()
st.title(t("page_report"))
st.caption(t("report_help"))

rounds = cached.rounds(url)
names = round_names(rounds)
controls = st.columns(3)
round_code = round_picker(rounds, "report.round", controls[0])
method = controls[1].selectbox(t("method"), [m for m in METHODS if m != "wald"], key="report.method")
confidence = controls[2].selectbox(t("confidence"), [0.90, 0.95, 0.99], index=1, key="report.confidence",
                                   format_func=lambda c: f"{c:.0%}")
snapshot = cached.snapshot(url, round_code, staff.area_id)
results = results_for(snapshot, method, confidence)
scope = snapshot.areas[snapshot.areas["id"] == staff.area_id]
scope_name = t("whole_city") if scope.empty else scope["name_en" if language == "en" else "name_zh"].iloc[0]


def question_text(code: str) -> str:
    try:
        return snapshot.questionnaire.question(code).text(language)
    except (KeyError, LookupError):
        return code


comments = comments_export_frame(cached.comments(url, round_code, staff.area_id, snapshot.tally_version),
                                 snapshot.areas, snapshot.questionnaire, load_comment_themes(), language)
excel = round_report_xlsx(results, round_name=names[round_code], question_text=question_text, method=method,
                          confidence=confidence, scope_name=scope_name, exclusions=snapshot.exclusions, lang=language,
                          comments=comments)
st.download_button(t("excel_report"), excel, file_name=f"{round_code}_report.xlsx", key="report.xlsx",
                   mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                   on_click=audit.export, args=(staff.username, round_code, "excel report", len(results.indicators)))
csv = indicator_frame(results.indicators, "district" if staff.area_id is None else snapshot.scope_level, language)
st.download_button(t("csv_table"), csv.to_csv(index=False).encode("utf-8-sig"), file_name=f"{round_code}.csv",
                   mime="text/csv", key="report.csv",
                   on_click=audit.export, args=(staff.username, round_code, "csv", len(csv)))

st.download_button(t("comments_csv"), comments.to_csv(index=False).encode("utf-8-sig"),
                   file_name=f"{round_code}_suggestions.csv", mime="text/csv", key="report.comments_csv",
                   on_click=audit.export, args=(staff.username, round_code, "suggestions csv", len(comments)))

if st.toggle(t("spss_file"), key="report.spss"):
    # Built only on request: it reads every response of the round (within the scope).
    with read_session(engine()) as session:
        responses = round_responses(session, snapshot.round_id)
    communities = snapshot.areas.loc[snapshot.areas["level"] == "community", "id"]
    responses = responses[responses["community_id"].isin(communities) & responses["eligible"]]
    st.download_button(t("spss_file"), responses_sav(responses, snapshot.questionnaire, snapshot.areas, language),
                       file_name=f"{round_code}.sav", mime="application/octet-stream", key="report.sav",
                       on_click=audit.export, args=(staff.username, round_code, "spss", len(responses)))

page = printable_report_html(results, round_name=names[round_code], scope_name=scope_name,
                             question_text=question_text, method=method, confidence=confidence, lang=language)
st.download_button(t("printable"), page.encode("utf-8"), file_name=f"{round_code}_report.html", mime="text/html",
                   key="report.html", on_click=audit.export, args=(staff.username, round_code, "printable", 1))
with st.expander(t("preview")):
    st.html(page)

"""Reports and exports of a round: Excel for leaders, CSV for Chinese Excel, SPSS, a printable page.
Every export holds only the user's area scope and is written to the audit log."""


import streamlit as st

from data.reads import round_responses
from data.db import database_url, read_session
from reports.results import forecast_for, results_for, scope_name as scope_name_of
from questionnaires.comment_themes import load_comment_themes
from reports.comments import comments_export_frame
from reports.excel import indicator_frame, round_report_xlsx
from reports.safe_cells import csv_bytes
from reports.printable import printable_report_html
from reports.spss import responses_sav
from ui import audit, auth, cached
from ui.scope import scope_for
from ui.i18n import lang, language_switch, register_texts, t
from ui.state import engine
from ui.pickers import round_names, round_picker
from ui.verdict_rule import show_rule

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
round_code = round_picker(rounds, "report.round")
snapshot = cached.snapshot(url, round_code, staff.area_id)
# Reports hold the official verdicts only: the round's own rule, never an exploration.
rule = snapshot.rule
show_rule(rule)
results = results_for(snapshot)
scope = scope_name_of(snapshot, language)


def question_text(code: str) -> str:
    try:
        return snapshot.questionnaire.question(code).text(language)
    except (KeyError, LookupError):
        return code


forecast, gains = forecast_for(snapshot, results)
comments = comments_export_frame(cached.comments(url, round_code, staff.area_id, snapshot.tally_version),
                                 snapshot.areas, snapshot.questionnaire, load_comment_themes(), language)
excel = round_report_xlsx(results, round_name=names[round_code], question_text=question_text, rule=rule,
                          scope_name=scope, exclusions=snapshot.exclusions, lang=language, forecast=forecast,
                          gains=gains, comments=comments)
st.download_button(t("excel_report"), excel, file_name=f"{round_code}_report.xlsx", key="report.xlsx",
                   mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                   on_click=audit.export, args=(staff.username, round_code, "excel report", len(results.indicators)))
csv = indicator_frame(results.indicators, "district" if staff.area_id is None else snapshot.scope_level, language,
                      rule, percent_text=True)
st.download_button(t("csv_table"), csv_bytes(csv), file_name=f"{round_code}.csv",
                   mime="text/csv", key="report.csv",
                   on_click=audit.export, args=(staff.username, round_code, "csv", len(csv)))

st.download_button(t("comments_csv"), comments.to_csv(index=False).encode("utf-8-sig"),
                   file_name=f"{round_code}_suggestions.csv", mime="text/csv", key="report.comments_csv",
                   on_click=audit.export, args=(staff.username, round_code, "suggestions csv", len(comments)))

if st.toggle(t("spss_file"), key="report.spss"):
    # Built only on request: it reads every response of the round (within the scope).
    with read_session(engine()) as session:
        responses = round_responses(session, snapshot.round_id, scope=scope_for(staff))
    communities = snapshot.areas.loc[snapshot.areas["level"] == "community", "id"]
    responses = responses[responses["community_id"].isin(communities) & responses["eligible"]]
    st.download_button(t("spss_file"), responses_sav(responses, snapshot.questionnaire, snapshot.areas, language, rule),
                       file_name=f"{round_code}.sav", mime="application/octet-stream", key="report.sav",
                       on_click=audit.export, args=(staff.username, round_code, "spss", len(responses)))

page = printable_report_html(results, round_name=names[round_code], scope_name=scope,
                             question_text=question_text, rule=rule, lang=language)
st.download_button(t("printable"), page.encode("utf-8"), file_name=f"{round_code}_report.html", mime="text/html",
                   key="report.html", on_click=audit.export, args=(staff.username, round_code, "printable", 1))
with st.expander(t("preview")):
    st.html(page)

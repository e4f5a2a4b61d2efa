"""Organisers and interviewers' supervisors: type in paper questionnaires through an Excel template."""

import streamlit as st

from data import paper
from reports.paper_template import paper_template, rejected_rows_xlsx
from data.responses import SubmissionRefused
from data.rounds import round_by_code
from data.db import database_url, write_session
from data.scope import OutOfScope
from data.uploads import UPLOAD_LIMITS, read_limited
from ui import auth, cached
from ui.plain import plain
from ui.scope import scope_for
from ui.i18n import in_language, lang, language_switch, register_texts, t
from ui.state import engine
from ui.pickers import round_picker
from ui.tables import show_table

language_switch()

register_texts({
    "paper_help": ("1. 下载本轮问卷的 Excel 模板（中文表头、下拉选项）；2. 每份纸质问卷填一行；3. 上传。"
                   "系统逐行检查，有错误时列出行号和原因；默认全部正确才导入，也可以只导入正确的行并下载被拒的行修改后再传。"
                   "同一文件重复上传不会重复计数。",
                   "1. Download the round's Excel template (Chinese headers, drop-down lists); 2. one row per paper "
                   "questionnaire; 3. upload. Every row is checked and errors are listed by row; by default nothing "
                   "is imported unless the whole file is valid, or import only the valid rows and download the "
                   "rejected ones to fix. Uploading the same file twice never counts it twice."),
    "download_template": ("下载 Excel 模板", "Download the Excel template"),
    "upload_filled": ("上传填好的文件（.xlsx）", "Upload the filled file (.xlsx)"),
    "rows_checked": ("共 {total} 行，{valid} 行正确，{bad} 行有错误。", "{total} rows: {valid} valid, {bad} with errors."),
    "import_all": ("导入（必须全部正确）", "Import (only if all rows are valid)"),
    "import_valid_only": ("只导入正确的行", "Import only the valid rows"),
    "imported": ("已导入 {n} 份新问卷。", "{n} new responses imported."),
    "download_rejected": ("下载被拒的行（含错误说明）", "Download the rejected rows (with errors)"),
})

staff = auth.require_page("paper")
scope = scope_for(staff)
language = lang()
url = database_url()
st.title(t("page_paper"))
st.caption(t("paper_help"))

rounds = [r for r in cached.rounds(url) if r.accepting]
if not rounds:
    st.info(t("no_open_round"))
    st.stop()
round_code = round_picker(rounds, "paper.round")
survey_round = next(r for r in rounds if r.code == round_code)
questionnaire = cached.questionnaire(url, survey_round.questionnaire_id)
areas = cached.areas(url)

st.download_button(t("download_template"), paper_template(questionnaire, areas, language, scope=scope),
                   file_name=f"{round_code}_paper_template.xlsx",
                   mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")

upload = st.file_uploader(t("upload_filled"), type=["xlsx"], key="paper.upload",
                          help=t("upload_limit", mb=UPLOAD_LIMITS["paper"].megabytes, rows=paper.MAX_ROWS))
if upload is None:
    st.stop()
try:
    checked = read_limited("paper", paper.PaperFileError, paper.read_paper_file, upload.getvalue(), questionnaire, areas,
                           language, scope=scope)
except paper.PaperFileError as problem:
    st.error(plain(in_language(problem)))
    st.stop()
bad = checked.total_count - checked.valid_count
st.write(t("rows_checked", total=checked.total_count, valid=checked.valid_count, bad=bad))
if bad:
    show_table(checked.errors_for_display(), hide_index=True, width="stretch")
    st.download_button(t("download_rejected"), rejected_rows_xlsx(checked), file_name=f"{round_code}_rejected.xlsx",
                       mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
buttons = st.columns(2)
import_all = buttons[0].button(t("import_all"), type="primary", disabled=bad > 0)
import_valid = buttons[1].button(t("import_valid_only"), disabled=checked.valid_count == 0 or bad == 0)
if import_all or import_valid:
    try:
        with write_session(engine()) as session:
            added = paper.import_paper(session, round_by_code(session, round_code), questionnaire, checked,
                                       only_valid=bool(import_valid), actor=staff.username, scope=scope)
    except (paper.PaperFileError, SubmissionRefused, OutOfScope) as problem:
        st.error(plain(in_language(problem)))
    else:
        st.success(t("imported", n=added))

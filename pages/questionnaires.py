"""Organisers: the questionnaire versions.

List the stored versions; upload an edited questionnaire (YAML or XLSForm) — every problem is shown
before anything is stored, a valid file shows what changed against the latest version and is saved
as a new version; download any version as YAML or XLSForm; preview a version on a phone-sized screen
exactly as a citizen sees it; compare any two versions.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from data import accounts
from data import questionnaire_versions as qv
from data.db import read_session, write_session
from data.uploads import UPLOAD_LIMITS
from questionnaires import Questionnaire
from questionnaires.diff import describe_condition, diff_questionnaires, diff_table
from questionnaires.paging import survey_steps
from questionnaires.piping import pipe
from ui import auth
from ui.i18n import lang, language_switch, register_texts, t
from ui.question_widgets import choice_limits, question_widget
from ui.state import engine
from ui.tables import show_table

register_texts({
    "page_questionnaires": ("问卷管理", "Questionnaires"),
    "qv_tab_versions": ("版本列表", "Versions"),
    "qv_tab_upload": ("上传新版本", "Upload a new version"),
    "qv_tab_preview": ("手机预览", "Phone preview"),
    "qv_tab_compare": ("比较版本", "Compare versions"),
    "qv_none": ("还没有任何问卷。请在“上传新版本”中上传一个 YAML 或 XLSForm 文件。",
                "No questionnaire yet. Upload a YAML or XLSForm file under “Upload a new version”."),
    "qv_col_code": ("问卷代码", "Code"),
    "qv_col_version": ("版本", "Version"),
    "qv_col_title": ("标题", "Title"),
    "qv_col_created": ("创建时间", "Created"),
    "qv_col_rounds": ("使用的轮次", "Rounds using it"),
    "qv_col_responses": ("答卷数", "Responses"),
    "qv_version_label": ("{code} · 第 {version} 版 · {title}", "{code} · version {version} · {title}"),
    "qv_download_heading": ("下载", "Download"),
    "qv_download_version": ("要下载的版本", "Version to download"),
    "qv_download_yaml": ("下载 YAML", "Download YAML"),
    "qv_download_xlsform": ("下载 XLSForm（Excel）", "Download XLSForm (Excel)"),
    "qv_upload_help": ("上传 YAML（.yaml）或 XLSForm（.xlsx）问卷文件。文件先经过检查，只有点击“保存为新版本”后才会保存。"
                       "修改正在使用的问卷会生成新版本，已收集的答卷仍然对应原来的版本。",
                       "Upload a questionnaire as YAML (.yaml) or XLSForm (.xlsx). The file is checked first and "
                       "stored only when you press “Save as a new version”. Editing a questionnaire in use creates a "
                       "new version; responses already collected keep the version they answered."),
    "qv_upload_file": ("问卷文件（YAML 或 XLSForm Excel）", "Questionnaire file (YAML or XLSForm Excel)"),
    "qv_upload_invalid": ("文件有 {n} 个问题，未保存任何内容。请修改后重新上传：",
                          "The file has {n} problem(s); nothing was saved. Fix them and upload it again:"),
    "qv_upload_valid": ("文件检查通过：{code}，共 {n} 题。", "The file is valid: {code}, {n} questions."),
    "qv_upload_warnings": ("导入时有 {n} 处调整，请确认：", "{n} things were adjusted on import; please check them:"),
    "qv_same_as": ("内容与已保存的第 {version} 版完全相同，无需保存。",
                   "Its content is identical to the stored version {version}; there is nothing to save."),
    "qv_new_code": ("这是一份新问卷（代码 {code}），将保存为第 1 版。",
                    "This is a new questionnaire (code {code}); it will be saved as version 1."),
    "qv_diff_against": ("与最新的第 {version} 版相比的变化：", "Changes against the latest version {version}:"),
    "qv_will_be": ("将保存为第 {version} 版（文件中写的版本号 {given} 不影响编号）。",
                   "It will be saved as version {version} (the version number {given} in the file does not matter)."),
    "qv_no_changes": ("没有变化。", "No changes."),
    "qv_not_comparable": ("以下指标题与上一版不可直接比较（指标或计分选项变了），看板不会跨版本比较它们：",
                          "These indicator items are not directly comparable with the previous version (indicator or "
                          "scoring options changed); the dashboard will not compare them across versions:"),
    "qv_all_comparable": ("两版共有的指标题计分方式相同，结果可以跨版本比较。",
                          "Items in both versions are scored the same way; their results can be compared across versions."),
    "qv_save": ("保存为新版本", "Save as a new version"),
    "qv_saved": ("已保存为 {code} 第 {version} 版。", "Saved as {code} version {version}."),
    "qv_save_failed": ("保存失败：{reason}", "Could not save: {reason}"),
    "qv_preview_version": ("预览的版本", "Version to preview"),
    "qv_preview_uploaded": ("刚上传的文件（未保存）：{code}", "The uploaded file (not saved): {code}"),
    "qv_preview_step": ("部分", "Part"),
    "qv_preview_note": ("预览与市民在手机上看到的一致；这里的回答不会保存。为便于检查，跳题的问题也都显示出来，并注明显示条件。",
                        "The preview is what a citizen sees on a phone; answers here are not stored. Conditional "
                        "questions are all shown, each with the condition under which citizens see it."),
    "qv_shown_only_if": ("仅当 {condition} 时显示", "Shown only if {condition}"),
    "qv_screening_note": ("筛选题：选择 {codes} 以外的答案将结束访问", "Screening: any answer other than {codes} ends the interview"),
    "qv_compare_old": ("旧版本", "Older version"),
    "qv_compare_new": ("新版本", "Newer version"),
    "qv_compare_same": ("请选择两个不同的版本。", "Choose two different versions."),
    "qv_comparable_heading": ("指标题的可比性", "Comparability of indicator items"),
    "qv_col_item": ("题目代码", "Item"),
    "qv_col_indicator_old": ("旧版指标", "Indicator (old)"),
    "qv_col_indicator_new": ("新版指标", "Indicator (new)"),
    "qv_col_comparable": ("可比较", "Comparable"),
    "qv_col_reason": ("原因", "Reason"),
})

language_switch()
staff = auth.require_page("questionnaires")
language = lang()
STATE = "qv"  # every key of this page's session state starts with it

st.title(t("page_questionnaires"))
flash = st.session_state.pop(f"{STATE}.flash", None)
if flash:
    st.success(flash)


def in_language(message: str) -> str:
    return qv.message_in(message, language)


def plain(text: str) -> str:
    """Text shown as is in markdown elements (conditions contain `$`, codes contain `_`)."""
    return "".join("\\" + c if c in "\\`*_[]<>|$~" else c for c in text)


def load(version_id: int) -> Questionnaire:
    with read_session(engine()) as session:
        return qv.load_version(session, version_id)


def record_export(version_id: int, code: str, version: int, what: str) -> None:
    with write_session(engine()) as session:
        accounts.record(session, staff.username, "export", code, what=f"questionnaire {what}", version=version,
                        version_id=version_id)


with read_session(engine()) as session:
    versions = qv.list_versions(session)
labels = {
    int(row.id): t("qv_version_label", code=row.code, version=int(row.version),
                   title=row.title_en if language == "en" else row.title)
    for row in versions.itertuples()
}
ids = list(labels)

tab_versions, tab_upload, tab_preview, tab_compare = st.tabs(
    [t("qv_tab_versions"), t("qv_tab_upload"), t("qv_tab_preview"), t("qv_tab_compare")]
)

# --- upload (checked first: the preview can show the uploaded file) -----------------------------
uploaded_questionnaire: Questionnaire | None = None
with tab_upload:
    st.caption(t("qv_upload_help"))
    upload = st.file_uploader(t("qv_upload_file"), type=["yaml", "yml", "xlsx", "xls"], key=f"{STATE}.upload",
                              help=t("qv_upload_limits", yaml=UPLOAD_LIMITS["questionnaire_yaml"].megabytes,
                                     xlsx=UPLOAD_LIMITS["questionnaire_xlsx"].megabytes))
    if upload is not None:
        uploaded_questionnaire, messages = qv.check_upload(upload.name, upload.getvalue())
        if messages:
            st.error(t("qv_upload_invalid", n=len(messages)))
            for message in messages:
                st.error(plain(in_language(message)))
        else:
            q = uploaded_questionnaire
            st.success(t("qv_upload_valid", code=q.code, n=len(set(q.question_numbers().values()))))  # notes aside
            warnings = qv.upload_warnings(upload.name, upload.getvalue())
            if warnings:
                st.warning(t("qv_upload_warnings", n=len(warnings)))
                for warning in warnings:
                    st.warning(plain(in_language(warning)))
            with read_session(engine()) as session:
                same = qv.same_content_version(session, q)
                latest_row = qv.latest_version(session, q.code)
                latest = qv.questionnaire_of(latest_row) if latest_row is not None else None
            if same is not None:
                st.info(t("qv_same_as", version=same.version))
            else:
                if latest is None:
                    st.info(t("qv_new_code", code=q.code))
                else:
                    st.markdown(t("qv_diff_against", version=latest.version))
                    changes = diff_questionnaires(latest, q)
                    if changes:
                        show_table(diff_table(changes, language), hide_index=True, width="stretch")
                    else:
                        st.caption(t("qv_no_changes"))
                    comparable = qv.comparable_items(latest, q)
                    broken = comparable[~comparable["comparable"]]
                    if len(broken):
                        st.warning(t("qv_not_comparable") + "\n\n" + "\n".join(
                            f"- {plain(item)}: {plain(in_language(reason))}"
                            for item, reason in zip(broken["item"], broken["reason"])))
                    else:
                        st.caption(t("qv_all_comparable"))
                    st.caption(t("qv_will_be", version=latest.version + 1, given=q.version))
                if st.button(t("qv_save"), type="primary", key=f"{STATE}.save"):
                    try:
                        with write_session(engine()) as session:
                            stored, created = qv.save_new_version(session, staff.username, q)
                            code, number = stored.code, stored.version
                    except Exception as error:  # e.g. two organisers saving the same code at once
                        st.error(t("qv_save_failed", reason=plain(in_language(str(error)))))
                    else:
                        st.session_state[f"{STATE}.flash"] = (
                            t("qv_saved", code=code, version=number) if created else t("qv_same_as", version=number)
                        )
                        st.rerun()

# --- versions and downloads ---------------------------------------------------------------------
with tab_versions:
    if versions.empty:
        st.info(t("qv_none"))
    else:
        show_table(pd.DataFrame({
            t("qv_col_code"): versions["code"],
            t("qv_col_version"): versions["version"],
            t("qv_col_title"): versions["title_en" if language == "en" else "title"],
            t("qv_col_created"): versions["created_at"],
            t("qv_col_rounds"): versions["rounds"],
            t("qv_col_responses"): versions["responses"],
        }), hide_index=True, width="stretch")
        st.subheader(t("qv_download_heading"))
        chosen = st.selectbox(t("qv_download_version"), ids, index=len(ids) - 1, format_func=labels.get,
                              key=f"{STATE}.download_version")
        questionnaire = load(chosen)
        columns = st.columns(2)
        columns[0].download_button(
            t("qv_download_yaml"), qv.to_yaml(questionnaire).encode("utf-8"),
            file_name=qv.export_name(questionnaire, "yaml"), mime="application/x-yaml", key=f"{STATE}.download_yaml",
            on_click=record_export, args=(chosen, questionnaire.code, questionnaire.version, "yaml"),
        )
        columns[1].download_button(
            t("qv_download_xlsform"), qv.to_xlsform(questionnaire), file_name=qv.export_name(questionnaire, "xlsx"),
            mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", key=f"{STATE}.download_xlsx",
            on_click=record_export, args=(chosen, questionnaire.code, questionnaire.version, "xlsform"),
        )


# --- phone preview ------------------------------------------------------------------------------
def preview(questionnaire: Questionnaire, key: str) -> None:
    steps = survey_steps(questionnaire)
    numbers = questionnaire.question_numbers()
    # Labels made now: a format_func may be called outside this run (where the language is unknown).
    step_labels = [t("step_of", k=i + 1, n=len(steps)) + " · " + ", ".join(q.code for q in step)
                   for i, step in enumerate(steps)]
    step_index = st.selectbox(t("qv_preview_step"), list(range(len(steps))), key=f"{STATE}.preview_step.{key}",
                              format_func=step_labels.__getitem__)
    with st.container(width=400, border=True, key=f"{STATE}.phone"):
        st.markdown(f"### {t('app_title')}")
        if step_index == 0 and questionnaire.intro:
            st.caption(plain(questionnaire.intro.get(language) or questionnaire.intro.get("zh")))
        st.progress(step_index / len(steps), text=t("step_of", k=step_index + 1, n=len(steps)))
        for question in steps[step_index]:
            mark = "" if question.is_note else t("required_mark") if question.required else t("optional_mark")
            # No answers in a preview: a piped ${code} shows as "…", as it does before it is answered.
            question_widget(question, numbers.get(question.code), None, f"{STATE}.preview.{key}.{question.code}",
                            language, mark, t("select_all_that_apply"),
                            text=pipe(question.text(language), {}, questionnaire, language),
                            limits=choice_limits(question, language))
            if question.randomize:
                st.caption("🔀 " + t("options_shuffled"))
            if question.relevant and question.other_of is None:
                st.caption("↳ " + plain(t("qv_shown_only_if",
                                          condition=describe_condition(questionnaire, question.relevant, language))))
            if question.screening_eligible is not None:
                codes = "、".join(question.option_label(c, language) for c in question.option_codes
                                 if c in question.screening_eligible)
                st.caption("⛔ " + plain(t("qv_screening_note", codes=codes)))
        last = step_index == len(steps) - 1
        columns = st.columns(2)
        columns[0].button(t("back"), disabled=True, width="stretch", key=f"{STATE}.preview_back.{key}")
        columns[1].button(t("submit") if last else t("next"), type="primary", disabled=True, width="stretch",
                          key=f"{STATE}.preview_next.{key}")


with tab_preview:
    st.caption(t("qv_preview_note"))
    choices: list = list(ids)
    preview_labels = dict(labels)
    if uploaded_questionnaire is not None:
        choices.append("uploaded")
        preview_labels["uploaded"] = t("qv_preview_uploaded", code=uploaded_questionnaire.code)
    if choices:
        shown = st.selectbox(t("qv_preview_version"), choices, index=len(choices) - 1, format_func=preview_labels.get,
                             key=f"{STATE}.preview_version")
        if shown == "uploaded":
            preview(uploaded_questionnaire, "uploaded")
        else:
            preview(load(shown), str(shown))
    else:
        st.info(t("qv_none"))

# --- compare two versions -----------------------------------------------------------------------
with tab_compare:
    if len(ids) < 2:
        st.info(t("qv_compare_same"))
    else:
        columns = st.columns(2)
        old_id = columns[0].selectbox(t("qv_compare_old"), ids, index=len(ids) - 2, format_func=labels.get,
                                      key=f"{STATE}.compare_old")
        new_id = columns[1].selectbox(t("qv_compare_new"), ids, index=len(ids) - 1, format_func=labels.get,
                                      key=f"{STATE}.compare_new")
        if old_id == new_id:
            st.info(t("qv_compare_same"))
        else:
            old, new = load(old_id), load(new_id)
            changes = diff_questionnaires(old, new)
            if changes:
                show_table(diff_table(changes, language), hide_index=True, width="stretch")
            else:
                st.caption(t("qv_no_changes"))
            comparable = qv.comparable_items(old, new)
            if len(comparable):
                st.markdown(f"#### {t('qv_comparable_heading')}")
                show_table(pd.DataFrame({
                    t("qv_col_item"): comparable["item"],
                    t("qv_col_indicator_old"): comparable["indicator_old"],
                    t("qv_col_indicator_new"): comparable["indicator_new"],
                    t("qv_col_comparable"): comparable["comparable"],
                    t("qv_col_reason"): [in_language(r) if r else "" for r in comparable["reason"]],
                }), hide_index=True, width="stretch")

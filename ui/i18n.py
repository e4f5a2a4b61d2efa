"""Interface texts in Simplified Chinese (default) and English.

Questionnaire texts are not here: they live, bilingual, in the questionnaire files.
"""

from __future__ import annotations

import logging

from questionnaires.bilingual import message_in

# Streamlit is imported inside the functions that need a session: the text table and ``text`` serve
# the light citizen page (citizen_web/) too, which runs without Streamlit.

logger = logging.getLogger(__name__)

LANGUAGES = {"zh": "中文", "en": "English"}

TEXTS: dict[str, tuple[str, str]] = {
    "app_title": ("文明城市创建问卷调查", "Civilized-city survey"),
    "language": ("语言", "Language"),
    "page_survey": ("填写问卷", "Questionnaire"),
    "page_dashboard": ("结果看板", "Results dashboard"),
    "page_methods": ("指标与方法说明", "Indicators and methods"),
    "page_login": ("工作人员登录", "Staff login"),
    "page_interview": ("入户/拦截访问", "Interview"),
    "page_rounds": ("调查轮次", "Survey rounds"),
    "page_fieldwork": ("实地进度", "Fieldwork progress"),
    "page_links": ("链接与二维码", "Links and QR codes"),
    "page_paper": ("纸质问卷录入", "Paper questionnaires"),
    "page_quality": ("数据质量", "Data quality"),
    "page_questionnaires": ("问卷管理", "Questionnaires"),
    "page_report": ("报告与导出", "Reports and exports"),
    "page_planner": ("样本量规划", "Sample-size planner"),
    "page_insights": ("深入分析", "Deeper analysis"),
    "page_weighting": ("加权分析", "Weighting"),
    "page_compare": ("轮次比较", "Round comparison"),
    "page_drilldown": ("逐级下钻", "Drill-down"),
    "page_logout": ("退出登录", "Log out"),
    "page_account": ("工作人员账号", "Staff account"),
    "page_users": ("用户管理", "Users"),
    "page_audit": ("操作日志", "Audit log"),
    "page_comments": ("居民意见", "Residents' suggestions"),
    "page_needs_login": ("“{page}”需要工作人员登录后查看。", "“{page}” is for staff: please log in first."),
    "page_not_for_role": ("您的账号（{role}）没有“{page}”这一页。请从左侧菜单选择。",
                          "Your account ({role}) has no page “{page}”. Please choose from the menu on the left."),
    "not_allowed": ("您没有权限查看此页面，请使用有权限的账号登录。", "You are not allowed to see this page. Please log in with an account that is."),
    "username": ("用户名", "User name"),
    "password": ("密码", "Password"),
    "password_again": ("再次输入密码", "Password again"),
    "login": ("登录", "Log in"),
    "logged_in_as": ("已登录：{name}（{role}）", "Logged in: {name} ({role})"),
    "login_failed": ("用户名或密码不正确。", "Wrong user name or password."),
    "login_locked": ("失败次数过多，请 {seconds} 秒后再试。", "Too many failed attempts; try again in {seconds} s."),
    "login_inactive": ("该账号已停用，请联系管理员。", "This account is disabled; please contact the administrator."),
    "session_expired": ("长时间未操作，已自动退出，请重新登录。", "You were logged out after a period of inactivity. Please log in again."),
    "logged_out": ("您已退出登录。", "You have logged out."),
    "setup_title": ("首次使用：创建管理员账号", "First start: create the administrator"),
    "setup_help": ("系统中还没有任何工作人员账号。请设置第一个管理员的用户名和密码（至少 10 位，包含字母和数字）。",
                   "There are no staff accounts yet. Choose the first administrator's user name and password (10+ characters, letters and digits)."),
    "setup_create": ("创建管理员", "Create administrator"),
    "passwords_differ": ("两次输入的密码不一致。", "The two passwords differ."),
    "role": ("角色", "Role"),
    "role_admin": ("管理员", "Administrator"),
    "role_organiser": ("组织者", "Organiser"),
    "role_analyst": ("分析员", "Analyst"),
    "role_interviewer": ("调查员", "Interviewer"),
    "scope": ("数据范围", "Data scope"),
    "whole_city": ("全市", "Whole city"),
    "display_name": ("姓名或备注", "Display name"),
    "active": ("启用", "Active"),
    "new_user": ("新建用户", "New user"),
    "edit_user": ("修改用户", "Edit user"),
    "save": ("保存", "Save"),
    "saved": ("已保存。", "Saved."),
    "new_password_optional": ("新密码（不修改请留空）", "New password (leave empty to keep)"),
    "audit_actor": ("操作人", "Who"),
    "audit_action": ("操作", "Action"),
    "audit_since": ("起始日期", "From"),
    "audit_until": ("截止日期", "To"),
    "audit_at": ("时间", "When"),
    "audit_target": ("对象", "What"),
    "audit_detail": ("详情", "Details"),
    "all": ("全部", "All"),
    "scope_note": ("您的数据范围：{area}", "Your data scope: {area}"),
    # survey
    "no_open_round": ("当前没有正在进行的问卷调查，感谢您的关注。", "No survey is open at the moment. Thank you for your interest."),
    "unknown_round": ("链接中的调查轮次无效或未开放，已为您打开当前进行中的调查。",
                      "The survey round in this link is unknown or closed; the current survey is shown instead."),
    "unknown_community": ("链接中的社区编号无效，请在下方选择您所在的社区。",
                          "The community in this link is not valid. Please choose your community below."),
    "your_community": ("您所在的社区", "Your community"),
    "choose_district": ("所在区（县）", "District / county"),
    "choose_street": ("所在街道（乡镇）", "Street / township"),
    "choose_community": ("所在社区（村）", "Community / village"),
    "choose_placeholder": ("请选择", "Please choose"),
    "choose_community_first": ("请先选择您所在的社区，再开始答题。", "Please choose your community before you start."),
    "step_of": ("第 {k} / {n} 步", "Step {k} of {n}"),
    "next": ("下一步", "Next"),
    "back": ("上一步", "Back"),
    "submit": ("提交问卷", "Submit"),
    "fix_errors": ("还有 {n} 道题需要补充或修改，请查看标红的提示。", "{n} answer(s) need your attention; see the messages in red."),
    "required_mark": ("（必答）", "(required)"),
    "optional_mark": ("（选答）", "(optional)"),
    "thanks_title": ("提交成功，感谢您的参与！", "Submitted. Thank you for taking part!"),
    "not_eligible": ("感谢您的配合！本次调查面向在本市居住满 6 个月的 18 岁以上居民，您的回答不计入统计。",
                     "Thank you! This survey is for residents aged 18+ who have lived here 6 months or more; your answers are not counted."),
    "invitation_needed": ("本轮调查凭邀请码参加，请扫描您收到的邀请二维码。",
                          "This round is by invitation; please scan the QR code on your invitation."),
    "quota_cell_full": ("该受访者所属的年龄性别配额已满，请向受访者致谢并结束本次访问（不计入统计）。",
                        "The quota for this person's age group and sex is full: thank them and end the interview (not counted)."),
    "submit_failed": ("提交未成功：{reason}", "Could not submit: {reason}"),
    "select_all_that_apply": ("（可多选）", "(select all that apply)"),
    "choose_at_most": ("最多选 {n} 项", "Choose at most {n}"),
    "choose_alone": ("选“{label}”时不能再选其他项", "“{label}” cannot be combined with other options"),
    # the light citizen page (citizen_web/, /q)
    "light_switch_language": ("English", "中文"),
    "light_choose_community": ("请选择您所在的社区（村）", "Please choose your community or village"),
    "light_start": ("开始答题", "Start"),
    "light_state_broken": ("这份问卷的内容无法核对（可能已被改动或已失效），已填写的答案没有保存。请重新打开问卷链接填写。",
                           "This form could not be verified (it was changed or is no longer valid); nothing was saved. "
                           "Please open the survey link again."),
    "light_bad_request": ("无法读取提交的内容（过大、格式不对或编码不对），已填写的答案没有保存。请重新打开问卷链接填写。",
                          "The form that was sent could not be read (too large, malformed or not UTF-8); nothing was "
                          "saved. Please open the survey link again."),
    "light_restart": ("重新打开问卷", "Open the survey again"),
    "options_shuffled": ("选项对每位受访者随机排序（纸质问卷按原顺序）",
                         "options shuffled for each respondent (paper keeps the declared order)"),
    # dashboard
    "round": ("调查轮次", "Survey round"),
    "level": ("统计层级", "Area level"),
    "level_city": ("全市", "Whole city"),
    "level_district": ("区（县）", "District"),
    "level_street": ("街道（乡镇）", "Street"),
    "level_community": ("社区（村）", "Community"),
    "method": ("置信区间方法", "Interval method"),
    "confidence": ("置信水平", "Confidence level"),
    "indicator": ("指标", "Indicator"),
    "awareness": ("知晓率", "Awareness"),
    "support": ("支持率", "Support"),
    "participation": ("参与率", "Participation"),
    "satisfaction": ("满意率", "Satisfaction"),
    "area": ("区域", "Area"),
    "parent": ("上级区域", "Parent area"),
    "respondents": ("受访人数", "Respondents"),
    "valid": ("有效回答", "Valid answers"),
    "rate": ("比率", "Rate"),
    "ci": ("置信区间", "Confidence interval"),
    "ci_low": ("区间下限", "CI low"),
    "ci_high": ("区间上限", "CI high"),
    "target": ("目标", "Target"),
    "gap": ("差距", "Gap"),
    "verdict": ("判定", "Verdict"),
    "deff": ("设计效应", "Design effect"),
    "extra_needed": ("还需访问人数", "More interviews needed"),
    "met": ("达标", "Met"),
    "not_met": ("未达标", "Not met"),
    "undecided": ("待定", "Undecided"),
    "no_data": ("无数据", "No data"),
    "table_empty": ("（暂无记录）", "(nothing yet)"),
    "no_target": ("未设目标", "No target"),
    "too_small": ("样本过少", "Too few"),
    "item": ("题目", "Question"),
    "items_title": ("题目明细（短板在前）", "Items (weakest first)"),
    "items_for_area": ("查看哪个区域的题目", "Items of which area"),
    "city_overview": ("全市总体", "Whole city"),
    "no_rounds": ("还没有任何调查轮次。", "There are no survey rounds yet."),
    "no_responses": ("本轮还没有有效回答。", "This round has no valid responses yet."),
    "download_csv": ("下载本表（CSV，Excel 可直接打开）", "Download this table (CSV for Excel)"),
    "excluded_note": ("组织者已排除 {n} 份问卷，不计入以上比率：{reasons}", "{n} responses were excluded by the organisers and are not in these rates: {reasons}"),
    "verdict_help": ("达标：置信区间下限不低于目标；未达标：上限低于目标；待定：区间跨过目标，需要更多样本。",
                     "Met: the interval's lower bound is at or above the target; not met: its upper bound is below; undecided: the interval straddles the target."),
    # --- citizen ---
    "submitted": ("提交成功！", "Submitted!"),
    "already_answered_here": ("这部手机已经填写过本轮问卷，感谢您的参与！每人填写一次即可。",
                              "This phone has already answered this round's questionnaire. Thank you! Once per person is enough."),
    "answer_for_someone_else": ("家人或朋友用这部手机填写", "Someone else answers on this phone"),
    # --- journeys ---
    # Used by several pages, so defined here rather than by the page that happens to run first.
    "completes": ("已完成", "Completes"),
    "quota": ("配额", "Quota"),
    "area_code": ("编号", "Code"),
    "public_url_unset": ("尚未设置 SURVEY_PUBLIC_URL：下面的链接和二维码指向 {url}，市民的手机打不开。请在部署时设置市民访问的网址后再打印海报。",
                         "SURVEY_PUBLIC_URL is not set: these links and QR codes point to {url}, which citizens' phones "
                         "cannot reach. Set the public address before printing posters."),
    "links_round_note": ("同时有多个轮次在进行：这里的链接和二维码都指向“{round}”。",
                         "Several rounds are open: these links and QR codes go to “{round}”."),
    "method_wilson": ("Wilson 得分区间", "Wilson score"),
    "method_clopper-pearson": ("Clopper–Pearson 精确区间", "Clopper–Pearson (exact)"),
    "method_jeffreys": ("Jeffreys 区间", "Jeffreys"),
    "method_wald": ("Wald 区间", "Wald"),
    "toast_saved": ("已保存。", "Saved."),
    "toast_round_created": ("已创建轮次“{name}”（草稿）。", "Round “{name}” created as a draft."),
    "toast_round_opened": ("轮次“{name}”已开放。", "Round “{name}” is open."),
    "toast_round_closed": ("轮次“{name}”已结束。", "Round “{name}” is closed."),
    "toast_round_saved": ("轮次“{name}”的设置已保存。", "The settings of round “{name}” are saved."),
    "toast_user_created": ("已创建用户 {name}。", "User {name} created."),
    "toast_user_saved": ("用户 {name} 的修改已保存。", "Changes to user {name} saved."),
    "toast_excluded": ("已排除 {n} 份问卷，所有比率随之更新。", "{n} responses excluded; every rate follows."),
    "toast_included": ("已恢复计入 {n} 份问卷，所有比率随之更新。", "{n} responses included again; every rate follows."),
    "second_round_warning": ("已有轮次“{other}”正在进行。再开放本轮后两轮同时进行，没有指定轮次的链接和二维码会进入较新的轮次。",
                             "Round “{other}” is already open. With this one open too, links and QR codes that name no "
                             "round go to the newer round."),
    "confirm_second_round": ("我已了解，仍然开放本轮", "I understand; open this round anyway"),
    "audit_download": ("下载日志（CSV）", "Download the log (CSV)"),
    "choose_rows_hint": ("在表格左侧勾选要处理的问卷（可多选），填写原因后排除或恢复。",
                         "Tick the responses to act on at the left of the table, give a reason, then exclude or include them."),
    "chosen_count": ("已选 {n} 份问卷", "{n} responses chosen"),
    "choose_some": ("请先在表格中勾选问卷。", "Tick some responses in the table first."),
    "community": ("社区（村）", "Community"),
    "submitted_at": ("提交时间", "Submitted"),
    "duration": ("用时", "Time taken"),
    "n_eff_help": ("有效样本量按有效回答计（每位受访者回答本指标的多道题），再按同一人各题答案的相关和权重不均折算，所以可以多于受访人数；加权区间按它计算。",
                   "The effective sample size counts answers (each respondent answers several items of an indicator), "
                   "discounted for the correlation of one person's answers and for uneven weights, so it can exceed "
                   "the respondents; weighted intervals use it."),
    "trend_by_area": ("各区域走势", "Trend by area"),
    "trend_areas": ("显示哪些区域", "Areas shown"),
    "audit_action_login": ("登录", "Log in"),
    "audit_action_logout": ("退出登录", "Log out"),
    "audit_action_login.failed": ("登录失败", "Failed login"),
    "audit_action_user.create": ("新建用户", "User created"),
    "audit_action_user.update": ("修改用户", "User changed"),
    "audit_action_round.create": ("新建轮次", "Round created"),
    "audit_action_round.status": ("轮次状态变更", "Round status changed"),
    "audit_action_round.update": ("修改轮次设置", "Round settings changed"),
    "audit_action_response.exclude": ("排除问卷", "Responses excluded"),
    "audit_action_response.include": ("恢复计入问卷", "Responses included"),
    "audit_action_import.paper": ("导入纸质问卷", "Paper forms imported"),
    "audit_action_import.population": ("导入人口数据", "Population imported"),
    "audit_action_questionnaire.version": ("保存问卷版本", "Questionnaire version saved"),
    "audit_action_invitation.create": ("生成邀请码", "Invitations created"),
    "audit_action_export": ("导出", "Export"),
    "audit_key_role": ("角色", "role"),
    "audit_key_area_id": ("数据范围", "scope"),
    "audit_key_reason": ("原因", "reason"),
    "audit_key_wait_seconds": ("等待秒数", "wait (s)"),
    "audit_key_count": ("数量", "count"),
    "audit_key_rows": ("行数", "rows"),
    "audit_key_rejected": ("被拒行数", "rejected rows"),
    "audit_key_what": ("内容", "what"),
    "audit_key_version": ("版本", "version"),
    "audit_key_before": ("原状态", "before"),
    "audit_key_after": ("新状态", "after"),
    "audit_key_targets": ("目标", "targets"),
    "audit_key_quotas": ("配额", "quotas"),
    "audit_key_responses": ("问卷数", "responses"),
    "audit_key_active": ("启用", "active"),
    "audit_key_password": ("密码", "password"),
    "audit_key_closes_at": ("结束时间", "closes"),
    "audit_key_failures": ("连续失败次数", "failures in a row"),
    "audit_key_source": ("来源地址", "source address"),
    "audit_source_unknown": ("未知", "unknown"),
    "audit_reason_bad password": ("密码错误", "wrong password"),
    "audit_reason_unknown user": ("用户名不存在", "no such user"),
    "audit_reason_inactive": ("账号已停用", "account disabled"),
    "self_filled": ("（市民自填）", "(self-filled)"),
    "status_draft": ("草稿", "Draft"),
    "status_open": ("进行中", "Open"),
    "status_closed": ("已结束", "Closed"),
    "yes": ("是", "yes"),
    "no": ("否", "no"),
    # --- verdict --- (used by pages beside ui/verdict_rule.py, which registers the rest)
    "verdict_rule": ("判定规则", "Verdict rule"),
    "explore_no_download": ("探索模式下不提供下载：导出总是本轮的正式结果。",
                            "No downloads in exploration mode: exports always hold the round's official results."),
    # --- auth ---
    "sidebar_scope": ("范围：{scope}", "Scope: {scope}"),
    # --- harden ---
    "upload_limit": ("最大 {mb} MB、{rows} 行；文件在限时限内存的独立进程中读取。",
                     "At most {mb} MB and {rows} rows; the file is read in a separate process with a time and memory budget."),
    "qv_upload_limits": ("YAML 最大 {yaml} MB，XLSForm 最大 {xlsx} MB（每表最多 5000 行）；文件在限时限内存的独立进程中读取。",
                         "YAML at most {yaml} MB, XLSForm at most {xlsx} MB (5,000 rows per sheet); the file is read in a "
                         "separate process with a time and memory budget."),
    "unexpected_error": ("抱歉，页面出错了。请稍后重试；如果问题持续，请把参考编号 {reference} 告诉管理员。",
                         "Sorry, something went wrong on this page. Try again later; if it persists, give the "
                         "administrator the reference {reference}."),
}


def register_texts(texts: dict[str, tuple[str, str]]) -> None:
    """Add a feature's own (zh, en) texts; a page module calls this at import time."""
    clashes = {key for key, value in texts.items() if key in TEXTS and TEXTS[key] != value}
    if clashes:
        raise ValueError(f"text keys already used differently: {sorted(clashes)}")
    TEXTS.update(texts)


def lang() -> str:
    import streamlit as st

    value = st.session_state.get("lang", "zh")
    return value if value in LANGUAGES else "zh"


_reported_missing: set[str] = set()


def t(key: str, **values) -> str:
    """The text of ``key`` in the user's language (``text`` in this session's language)."""
    return text(key, lang(), **values)


def text(key: str, language: str, **values) -> str:
    """The text of ``key`` in ``language`` ("en", otherwise Chinese), without Streamlit.

    Never raises: a page must not die of a missing or mistyped text (a key registered only by
    another page once did exactly that on a fresh server).  A missing key logs once and shows the
    key itself, which the browser suite and tests/ui/test_i18n.py catch."""
    pair = TEXTS.get(key)
    if pair is None:
        if key not in _reported_missing:
            _reported_missing.add(key)
            logger.error("text key %r is missing from ui/i18n.py TEXTS", key)
        return key
    chosen = pair[1] if language == "en" else pair[0]
    if not values:
        return chosen
    try:
        return chosen.format(**values)
    except (KeyError, IndexError, ValueError):
        logger.error("text key %r does not take the values %s", key, sorted(values))
        return chosen


def in_language(problem: object) -> str:
    """A refusal from storage, import or analysis ("中文 / English", see questionnaires/bilingual.py)
    in the user's language only; a message that is not bilingual is shown as it is."""
    return message_in(str(problem), lang())


def _switch_language() -> None:
    import streamlit as st

    st.session_state["lang"] = st.session_state["lang_switch"]


def language_switch() -> None:
    """The 中文 / English switch at the top of a page (on a phone the sidebar is folded away).

    Each page draws it first thing: a widget drawn by the entry file does not survive a change of
    page, and the choice itself is kept under its own key ("lang") for the same reason.  Being the
    first call of every page, it also sends a visit that skipped the entry file through it.
    """
    import streamlit as st

    from ui.entry import ensure_entry_run
    from ui.notices import show_pending

    ensure_entry_run()
    show_pending()
    st.radio(TEXTS["language"][0], options=list(LANGUAGES), format_func=LANGUAGES.get, key="lang_switch",
             index=list(LANGUAGES).index(lang()), horizontal=True, label_visibility="collapsed",
             on_change=_switch_language)


def uploader_in_chinese(max_megabytes: int) -> str:
    """A style sheet that shows Streamlit's file uploader's own English words ("Upload", "200MB per
    file • XLSX") in Chinese: the words are hidden and Chinese drawn in their place (the label above
    each uploader says which file type)."""
    button = '[data-testid="stFileUploaderDropzone"] button [data-testid="stMarkdownContainer"] p'
    limit = '[data-testid="stFileUploaderDropzoneInstructions"] span'
    return (f"<style>{button}, {limit} {{ font-size: 0; }}"
            f'{button}::after {{ content: "选择文件"; font-size: 0.875rem; }}'
            f'{limit}::after {{ content: "单个文件不超过 {int(max_megabytes)} MB"; font-size: 0.875rem; }}</style>')

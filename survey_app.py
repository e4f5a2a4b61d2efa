"""The Streamlit entry: page set-up, the language switch and the navigation, nothing else.

    streamlit run survey_app.py

Which pages a visitor sees is decided here, from their role (ui.auth.PAGES_BY_ROLE).  A page left
out of the navigation cannot be opened by URL; staff pages also check the role themselves.
"""

import streamlit as st

from ui import auth
from ui.entry import mark_entry_run
from ui.i18n import LANGUAGES, t

st.set_page_config(page_title="文明城市创建问卷调查", page_icon=":material/location_city:", layout="centered")

if "lang" not in st.session_state:
    requested = st.query_params.get("lang")
    st.session_state["lang"] = requested if requested in LANGUAGES else "zh"

staff = auth.current_user()
PAGE_FILES = {
    "survey": ("pages/survey.py", ":material/edit_note:"),
    "interview": ("pages/interview.py", ":material/record_voice_over:"),
    "dashboard": ("pages/dashboard.py", ":material/monitoring:"),
    "rounds": ("pages/rounds.py", ":material/event:"),
    "fieldwork": ("pages/fieldwork.py", ":material/directions_walk:"),
    "links": ("pages/links.py", ":material/qr_code_2:"),
    "paper": ("pages/paper.py", ":material/description:"),
    "quality": ("pages/quality.py", ":material/fact_check:"),
    "questionnaires": ("pages/questionnaires.py", ":material/library_books:"),
    "report": ("pages/report.py", ":material/print:"),
    "insights": ("pages/insights.py", ":material/insights:"),
    "comments": ("pages/comments.py", ":material/forum:"),
    "drilldown": ("pages/drilldown.py", ":material/account_tree:"),
    "compare": ("pages/compare.py", ":material/compare_arrows:"),
    "weighting": ("pages/weighting.py", ":material/balance:"),
    "planner": ("pages/planner.py", ":material/calculate:"),
    "users": ("pages/users.py", ":material/group:"),
    "audit": ("pages/audit.py", ":material/receipt_long:"),
    "methods": ("pages/methods.py", ":material/menu_book:"),
    "account": ("pages/account.py", ":material/key:"),
}
allowed = auth.PAGES_BY_ROLE[staff.role if staff else None]
pages = [
    # The first page of the role is its landing page.
    st.Page(PAGE_FILES[name][0], title=t(f"page_{name}"), icon=PAGE_FILES[name][1], url_path=name,
            default=index == 0)
    for index, name in enumerate(allowed)
]
page = st.navigation(pages)
mark_entry_run()
page.run()

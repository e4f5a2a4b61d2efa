"""The Streamlit entry: page set-up, the language switch and the navigation, nothing else.

    streamlit run survey_app.py

Which pages a visitor sees is decided here, from their role (ui.auth.PAGES_BY_ROLE).  A page left
out of the navigation cannot be opened by URL; staff pages also check the role themselves.
"""

import streamlit as st

from ui import auth
from ui.i18n import LANGUAGES, t

st.set_page_config(page_title="文明城市创建问卷调查", page_icon="🏙️", layout="centered")

if "lang" not in st.session_state:
    requested = st.query_params.get("lang")
    st.session_state["lang"] = requested if requested in LANGUAGES else "zh"

staff = auth.current_user()
PAGE_FILES = {
    "survey": ("pages/survey.py", "📝"),
    "interview": ("pages/interview.py", "🎙️"),
    "dashboard": ("pages/dashboard.py", "📊"),
    "rounds": ("pages/rounds.py", "🗓️"),
    "fieldwork": ("pages/fieldwork.py", "📈"),
    "links": ("pages/links.py", "🔗"),
    "paper": ("pages/paper.py", "📄"),
    "quality": ("pages/quality.py", "🔍"),
    "questionnaires": ("pages/questionnaires.py", "🗂️"),
    "report": ("pages/report.py", "🖨️"),
    "insights": ("pages/insights.py", "🔎"),
    "planner": ("pages/planner.py", "🧮"),
    "users": ("pages/users.py", "👥"),
    "audit": ("pages/audit.py", "🧾"),
    "methods": ("pages/methods.py", "📖"),
    "account": ("pages/account.py", "🔑"),
}
allowed = auth.PAGES_BY_ROLE[staff.role if staff else None]
pages = [
    # The first page of the role is its landing page.
    st.Page(PAGE_FILES[name][0], title=t(f"page_{name}"), icon=PAGE_FILES[name][1], url_path=name,
            default=index == 0)
    for index, name in enumerate(allowed)
]
page = st.navigation(pages)
page.run()

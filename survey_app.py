"""The Streamlit entry: page set-up, the language switch and the navigation, nothing else.

    streamlit run serve.py        # with the routes that keep staff logged in (serve.py)
    streamlit run survey_app.py   # without them

Which pages a visitor sees is decided here, from their role (ui.auth.PAGES_BY_ROLE).  A page outside
the role's menu cannot be opened by URL: its address shows a short note instead (log in first, or
not for this role) and the page's file never runs; staff pages also check the role themselves.
"""

import streamlit as st

from ui import auth
from ui.entry import mark_entry_run
from ui.errors import run_page
from ui.i18n import LANGUAGES, t, uploader_in_chinese

staff = auth.current_user()
# Citizens read on phones (centred column); staff read wide tables and charts on office screens.
st.set_page_config(page_title="文明城市创建问卷调查", page_icon=":material/location_city:",
                   layout="wide" if staff else "centered")

if "lang" not in st.session_state:
    requested = st.query_params.get("lang")
    st.session_state["lang"] = requested if requested in LANGUAGES else "zh"

if staff and st.session_state["lang"] == "zh":
    # Streamlit's file uploader writes "Upload" and "30MB per file" in English and has no parameter
    # for them; staff upload on three pages (paper forms, questionnaires, populations).
    st.html(uploader_in_chinese(st.get_option("server.maxUploadSize")))
auth.sidebar(staff)  # who is logged in, their scope; the session cookie's images
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
menu = [
    # The first page of the role is its landing page.
    # No icons for visitors: Material icons are a 375 kB font, a third of a citizen's first visit.
    st.Page(PAGE_FILES[name][0], title=t(f"page_{name}"), icon=PAGE_FILES[name][1] if staff else None,
            url_path=name, default=index == 0)
    for index, name in enumerate(allowed)
]
outside_menu = [
    # Every other page's address still answers (a bookmark, a link from a colleague), in the user's
    # language, without running that page (ui.auth.page_outside_menu).
    st.Page(auth.page_outside_menu(name), title=t(f"page_{name}"), url_path=name, visibility="hidden")
    for name in PAGE_FILES if name not in allowed
]
page = st.navigation(menu + outside_menu, expanded=True)  # every page listed: no "View more" link (English) to open
mark_entry_run()
auth.land_after_login(menu)
run_page(page)  # an unexpected error shows a short message and a reference, never a traceback

"""Staff account: log in, see who is logged in, log out; on a database without any staff account,
the one-time set-up of the first admin."""

import streamlit as st

from data import accounts
from data.db import write_session
from ui import auth
from ui.charts import load_chart_scripts_early
from ui.i18n import in_language, language_switch, t
from ui.plain import plain
from ui.state import engine

language_switch()

if not auth.has_any_user():
    st.title(t("setup_title"))
    st.write(t("setup_help"))
    with st.form("setup"):
        username = st.text_input(t("username"), max_chars=60)
        password = st.text_input(t("password"), type="password")
        again = st.text_input(t("password_again"), type="password")
        create = st.form_submit_button(t("setup_create"), type="primary")
    if create:
        if password != again:
            st.error(t("passwords_differ"))
            st.stop()
        try:
            with write_session(engine()) as session:
                created = accounts.create_first_admin(session, username, password)
        except ValueError as problem:
            st.error(plain(in_language(problem)))
            st.stop()
        if created is not None:  # else someone else set up first: this page now asks for a login
            auth.login(username, password)
        st.rerun()
    st.stop()

staff = auth.current_user()
if staff is not None:
    st.title(t("page_account"))
    st.write(t("logged_in_as", name=staff.display_name, role=t(f"role_{staff.role}")))
    if st.button(t("page_logout"), type="primary"):
        auth.logout()
        st.session_state["auth_notice"] = "logged_out"
        st.rerun()
    st.stop()

st.title(t("page_login"))
notice = st.session_state.pop("auth_notice", None)
if notice == "expired":
    st.info(t("session_expired"))
elif notice == "logged_out":
    st.info(t("logged_out"))
with st.form("login"):
    username = st.text_input(t("username"), max_chars=60)
    password = st.text_input(t("password"), type="password")
    submitted = st.form_submit_button(t("login"), type="primary")
if submitted:
    outcome = auth.login(username, password)
    if outcome.staff is not None:
        st.rerun()
    elif outcome.refused == "throttled":
        st.error(t("login_locked", seconds=outcome.wait_seconds))
    elif outcome.refused == "inactive":
        st.error(t("login_inactive"))
    else:
        st.error(t("login_failed"))
load_chart_scripts_early()

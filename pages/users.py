"""Admin: staff accounts, their roles and their area scope."""

import pandas as pd
import streamlit as st

from data import accounts
from data.area_labels import area_labels
from data.db import database_url, read_session, write_session
from data.models import ROLES
from ui import auth, cached
from ui.i18n import in_language, lang, language_switch, t
from ui.plain import plain
from ui.notices import confirm
from ui.state import engine
from ui.tables import show_table

language_switch()

admin = auth.require_page("users")
language = lang()
st.title(t("page_users"))

areas = cached.areas(database_url())
scopes = areas[areas["level"].isin(["district", "street"])]
labels = area_labels(areas, language)
scope_names = {None: t("whole_city"), **{i: labels[i] for i in scopes["id"]}}

with read_session(engine()) as session:
    users = [(u.id, u.username, u.display_name, u.role, u.area_id, u.active, u.last_login_at)
             for u in accounts.list_users(session)]
show_table(pd.DataFrame({
    t("username"): [u[1] for u in users],
    t("display_name"): [u[2] for u in users],
    t("role"): [t(f"role_{u[3]}") for u in users],
    t("scope"): [scope_names.get(u[4], u[4]) for u in users],
    t("active"): [t("yes") if u[5] else t("no") for u in users],
}), hide_index=True, width="stretch")

role_label = {role: t(f"role_{role}") for role in ROLES}

with st.expander(t("new_user"), expanded=len(users) <= 1):
    with st.form("users.new", clear_on_submit=True):
        username = st.text_input(t("username"), max_chars=60)
        display_name = st.text_input(t("display_name"), max_chars=100)
        password = st.text_input(t("password"), type="password")
        role = st.selectbox(t("role"), ROLES, index=2, format_func=role_label.get)
        scope = st.selectbox(t("scope"), list(scope_names), format_func=scope_names.get)
        create = st.form_submit_button(t("save"), type="primary")
    if create:
        try:
            with write_session(engine()) as session:
                accounts.create_user(session, admin.username, username, password, role, area_id=scope,
                                     display_name=display_name)
        except ValueError as problem:
            st.error(plain(in_language(problem)))
        else:
            confirm(t("toast_user_created", name=username))
            st.rerun()

if users:
    with st.expander(t("edit_user")):
        names = {u[0]: u[1] for u in users}
        user_id = st.selectbox(t("username"), list(names), format_func=names.get, key="users.edit.who")
        current = next(u for u in users if u[0] == user_id)
        with st.form("users.edit"):
            role = st.selectbox(t("role"), ROLES, index=ROLES.index(current[3]), format_func=role_label.get)
            scope = st.selectbox(t("scope"), list(scope_names), format_func=scope_names.get,
                                 index=list(scope_names).index(current[4]) if current[4] in scope_names else 0)
            active = st.checkbox(t("active"), value=current[5])
            password = st.text_input(t("new_password_optional"), type="password")
            save = st.form_submit_button(t("save"), type="primary")
        if save:
            try:
                with write_session(engine()) as session:
                    # The user's other sessions end; an admin changing themselves stays logged in here.
                    accounts.update_user(session, admin.username, user_id, role=role, area_id=scope, active=active,
                                         password=password or None,
                                         keep_session=auth.current_session_id() if user_id == admin.id else None)
            except ValueError as problem:
                st.error(plain(in_language(problem)))
            else:
                confirm(t("toast_user_saved", name=names[user_id]))
                st.rerun()

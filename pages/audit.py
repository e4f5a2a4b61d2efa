"""Admin: read and filter the audit log."""

from datetime import datetime, time, timedelta

import pandas as pd
import streamlit as st

from data import accounts
from data.db import read_session
from ui import auth
from ui.i18n import language_switch, t
from ui.state import engine

language_switch()

auth.require_page("audit")
st.title(t("page_audit"))

with read_session(engine()) as session:
    actions = accounts.audit_actions(session)
columns = st.columns(4)
actor = columns[0].text_input(t("audit_actor"), key="audit.actor").strip() or None
action = columns[1].selectbox(t("audit_action"), [None, *actions], key="audit.action",
                              format_func=lambda a: t("all") if a is None else a)
since = columns[2].date_input(t("audit_since"), value=datetime.now().date() - timedelta(days=30), key="audit.since")
until = columns[3].date_input(t("audit_until"), value=datetime.now().date(), key="audit.until")

with read_session(engine()) as session:
    events = accounts.audit_events(
        session, actor=actor, action=action, since=datetime.combine(since, time.min),
        until=datetime.combine(until, time.min) + timedelta(days=1),
    )
st.dataframe(pd.DataFrame({
    t("audit_at"): events["at"],
    t("audit_actor"): events["actor"],
    t("audit_action"): events["action"],
    t("audit_target"): events["target"],
    t("audit_detail"): [", ".join(f"{k}={v}" for k, v in (d or {}).items()) for d in events["detail"]],
}), hide_index=True, width="stretch")

"""Admin: read and filter the audit log."""

from datetime import datetime, time, timedelta

import pandas as pd
import streamlit as st

from data import accounts
from data.area_labels import area_labels
from data.db import database_url, read_session
from ui import auth
from ui import cached
from ui.i18n import TEXTS, lang, language_switch, t
from ui.state import engine
from ui.tables import show_table

language_switch()


def action_name(action: str) -> str:
    key = f"audit_action_{action}"
    return t(key) if key in TEXTS else action


def _value_text(key: str, value) -> str:
    if key == "area_id":
        return scope_names.get(value, str(value))
    if key == "role" and isinstance(value, str) and f"role_{value}" in TEXTS:
        return t(f"role_{value}")
    if key in ("before", "after") and isinstance(value, str) and f"status_{value}" in TEXTS:
        return t(f"status_{value}")
    if key in ("source", "reason") and isinstance(value, str) and f"audit_{key}_{value}" in TEXTS:
        return t(f"audit_{key}_{value}")
    if isinstance(value, bool):
        return t("yes") if value else t("no")
    if isinstance(value, list) and len(value) == 2:  # a change: [before, after]
        return f"{_value_text(key, value[0])} → {_value_text(key, value[1])}"
    return "—" if value is None else str(value)


def detail_text(detail) -> str:
    """The details of one event in words (角色：分析员 → 组织者；原因：…), whole, not cut off."""
    parts = []
    for key, value in (detail or {}).items():
        name = t(f"audit_key_{key}") if f"audit_key_{key}" in TEXTS else key
        parts.append(f"{name}：{_value_text(key, value)}")
    return "；".join(parts)

auth.require_page("audit")
st.title(t("page_audit"))
# Round statuses are named by the rounds page; the audit log must read well on a fresh server too.
scope_names = {None: t("whole_city"), **area_labels(cached.areas(database_url()), lang())}

with read_session(engine()) as session:
    actions = accounts.audit_actions(session)
columns = st.columns(4)
actor = columns[0].text_input(t("audit_actor"), key="audit.actor").strip() or None
action = columns[1].selectbox(t("audit_action"), [None, *actions], key="audit.action",
                              format_func=lambda a: t("all") if a is None else action_name(a))
since = columns[2].date_input(t("audit_since"), value=datetime.now().date() - timedelta(days=30), key="audit.since")
until = columns[3].date_input(t("audit_until"), value=datetime.now().date(), key="audit.until")

with read_session(engine()) as session:
    events = accounts.audit_events(
        session, actor=actor, action=action, since=datetime.combine(since, time.min),
        until=datetime.combine(until, time.min) + timedelta(days=1),
    )
log = pd.DataFrame({
    t("audit_at"): pd.to_datetime(events["at"]).dt.strftime("%Y-%m-%d %H:%M:%S"),
    t("audit_actor"): events["actor"].fillna("—"),
    t("audit_action"): [action_name(a) for a in events["action"]],
    t("audit_target"): events["target"],
    t("audit_detail"): [detail_text(d) for d in events["detail"]],
})
show_table(log, hide_index=True, width="stretch",
             column_config={t("audit_detail"): st.column_config.TextColumn(width="large")})
st.download_button(t("audit_download"), log.to_csv(index=False).encode("utf-8-sig"),
                   file_name=f"audit_{since:%Y%m%d}_{until:%Y%m%d}.csv", mime="text/csv", key="audit.download")

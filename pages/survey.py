"""The citizen's questionnaire: phone-first, one short form per step, one submit.

URL parameters (what a poster's QR code carries): ``community`` (community code), ``round``
(round code), ``lang`` (zh | en), ``token`` (a single-use invitation, for rounds that need one).  Anything forged or unknown gets a message, never a crash.
"""

import streamlit as st

from data.area_labels import area_labels
from data.db import database_url
from ui import cached, phone
from ui import questionnaire_runner as runner
from ui.i18n import lang, language_switch, t
from ui.plain import plain

language_switch()

STATE = "survey"  # every key of this page's session state starts with it

url = database_url()
language = lang()
st.title(t("app_title"))

# --- which round --------------------------------------------------------------------------------
accepting = [r for r in cached.rounds(url) if r.accepting]
wanted_round = st.query_params.get("round")
survey_round = next((r for r in accepting if r.code == wanted_round), None)
if survey_round is None:
    if wanted_round is not None:
        st.warning(t("unknown_round"))
    survey_round = accepting[-1] if accepting else None
if survey_round is None:
    st.info(t("no_open_round"))
    st.stop()
questionnaire = cached.questionnaire(url, survey_round.questionnaire_id)
st.caption(plain(survey_round.name_en if language == "en" else survey_round.name_zh))

invitation = st.query_params.get("token")
if survey_round.requires_invitation and not invitation:
    st.warning(t("invitation_needed"))
    st.stop()

# --- which community ----------------------------------------------------------------------------
areas = cached.areas(url)
communities = areas[areas["level"] == "community"]
wanted_community = st.query_params.get("community")
from_link = communities[communities["code"] == wanted_community] if wanted_community else communities.iloc[0:0]
name_column = "name_en" if language == "en" else "name_zh"
if wanted_community and from_link.empty:
    st.warning(t("unknown_community"))
if not from_link.empty:
    community_id = int(from_link["id"].iloc[0])
    # The shortest end of 区 › 街道 › 社区 no other community shares: names repeat across districts.
    st.markdown(f"{t('your_community')}：**{plain(area_labels(areas, language)[community_id])}**")
else:
    def pick(label_key, frame):
        names = dict(zip(frame["id"], frame[name_column]))
        return st.selectbox(t(label_key), list(names), index=None, format_func=names.get,
                            placeholder=t("choose_placeholder"), key=f"{STATE}.{label_key}")

    district = pick("choose_district", areas[areas["level"] == "district"])
    street = pick("choose_street", areas[(areas["level"] == "street") & (areas["parent_id"] == district)]) \
        if district is not None else None
    community_id = pick("choose_community", communities[communities["parent_id"] == street]) \
        if street is not None else None
    if community_id is None:
        st.info(t("choose_community_first"))
        st.stop()
    community_id = int(community_id)

# The community stays out of the state's identity: a citizen who corrects it keeps their answers.
state = runner.questionnaire_state(STATE, survey_round.code)
if runner.show_outcome(state, questionnaire):
    if state["done"] == "stored":
        phone.remember_answered(survey_round.code)  # so that a refresh says so (see ui/phone.py)
    st.stop()
# A phone that answered this round before (the marker holds nothing but the round): say so rather
# than show a blank questionnaire; a family member may still answer on the same phone.
if phone.answered_on_this_phone(survey_round.code) and not state.get("someone_else"):
    st.success(t("already_answered_here"))
    if st.button(t("answer_for_someone_else"), key=f"{STATE}.someone_else"):
        state["someone_else"] = True
        st.rerun()
    st.stop()
runner.run_questionnaire(state, survey_round.code, questionnaire, community_id, channel="self",
                         invitation_token=invitation)

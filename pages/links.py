"""Organisers: a self-fill link and QR code per community, printable posters, invitation tokens."""

import io

import pandas as pd
import streamlit as st

from data import accounts
from data.db import database_url, write_session
from data.results import restrict_to_area
from ui import auth, cached
from ui.i18n import lang, language_switch, register_texts, t
from data.area_labels import label_column
from ui.posters import poster_sheet_html, public_base_url, public_url_is_set, qr_png, survey_link
from ui.state import engine
from ui.pickers import round_names, round_picker
from ui.tables import show_table

language_switch()

register_texts({
    "links_help": ("每个社区一个链接和二维码，扫码即进入该社区的问卷，无需选择社区。链接的网址取自 SURVEY_PUBLIC_URL。",
                   "One link and QR code per community: scanning opens the questionnaire for that community. "
                   "The address comes from SURVEY_PUBLIC_URL."),
    "poster_heading": ("文明城市创建 市民问卷", "Civilized-city survey"),
    "poster_note": ("请用手机扫码填写，约需 5 分钟", "Scan with your phone; about 5 minutes"),
    "download_qr": ("下载二维码图片（PNG）", "Download the QR code (PNG)"),
    "download_posters": ("下载可打印的海报页（HTML，浏览器打开后打印）", "Download printable posters (HTML; open and print)"),
    "posters_for": ("为哪些社区生成海报", "Posters for which communities"),
    "invitations": ("一次性邀请码", "Single-use invitations"),
    "invitation_help": ("为凭邀请码参加的轮次生成邀请码：每个码只能提交一次，系统只保存其加密摘要，明文只在此下载一次。",
                        "For invitation-only rounds: each code is accepted once; only a keyed hash is stored, so "
                        "download the clear codes now — they cannot be shown again."),
    "how_many": ("生成数量", "How many"),
    "generate": ("生成", "Generate"),
    "community_for_invites": ("邀请码对应的社区", "Community of these invitations"),
    "download_invitations": ("下载邀请码（CSV）与邀请函（HTML）", "Download invitations (CSV) and letters (HTML)"),
    "link": ("链接", "Link"),
})

staff = auth.require_page("links")
language = lang()
url = database_url()
st.title(t("page_links"))
st.caption(t("links_help"))

rounds = [r for r in cached.rounds(url) if r.status != "closed"]
if not rounds:
    st.info(t("no_rounds"))
    st.stop()
round_code = round_picker(rounds, "links.round")
names_of_rounds = round_names(rounds)
survey_round = next(r for r in rounds if r.code == round_code)

areas = cached.areas(url)
if staff.area_id is not None:
    areas, _, _ = restrict_to_area(areas, pd.DataFrame({"community_id": []}), staff.area_id)
communities = areas[areas["level"] == "community"]
names = dict(zip(communities["code"], label_column(communities["id"], areas, language)))
base = public_base_url()
if not public_url_is_set():
    st.warning(t("public_url_unset", url=base))
open_rounds = [r for r in rounds if r.status == "open"]
if len(open_rounds) > 1:
    # A poster names its round, so printed codes keep going to the round they were made for.
    st.info(t("links_round_note", round=names_of_rounds[round_code]))
table = pd.DataFrame({
    t("area_code"): communities["code"], t("area"): list(names.values()),
    t("link"): [survey_link(base, code, round_code) for code in communities["code"]],
})
show_table(table, hide_index=True, width="stretch",
             column_config={t("link"): st.column_config.LinkColumn()})

labels = {code: f"{name}（{code}）" for code, name in names.items()}
one = st.selectbox(t("area"), list(labels), format_func=labels.get, key="links.one")
link = survey_link(base, one, round_code)
st.image(qr_png(link), caption=link, width=220)
st.download_button(t("download_qr"), qr_png(link, box_size=16), file_name=f"{round_code}_{one}.png", mime="image/png")

chosen = st.multiselect(t("posters_for"), list(labels), default=list(labels)[:8], format_func=labels.get,
                        placeholder=t("choose_placeholder"), key="links.posters")
if chosen:
    posters = [{"heading": t("poster_heading"), "subheading": names[code],
                "link": survey_link(base, code, round_code), "note": t("poster_note")} for code in chosen]
    st.download_button(t("download_posters"), poster_sheet_html(posters, t("poster_heading")).encode("utf-8"),
                       file_name=f"{round_code}_posters.html", mime="text/html")

if survey_round.requires_invitation:
    st.subheader(t("invitations"))
    st.caption(t("invitation_help"))
    with st.form("links.invitations"):
        community = st.selectbox(t("community_for_invites"), list(labels), format_func=labels.get)
        count = st.number_input(t("how_many"), min_value=1, max_value=2000, value=50, step=10)
        generate = st.form_submit_button(t("generate"), type="primary")
    if generate:
        with write_session(engine()) as session:
            tokens = accounts.create_invitations(session, staff.username, survey_round.id, int(count))
        links = [survey_link(base, community, round_code, token) for token in tokens]
        csv = io.StringIO()
        pd.DataFrame({"token": tokens, "link": links}).to_csv(csv, index=False)
        st.session_state["links.generated"] = (csv.getvalue().encode("utf-8-sig"), poster_sheet_html(
            [{"heading": t("poster_heading"), "subheading": names[community], "link": link,
              "note": t("poster_note")} for link in links], t("invitations")).encode("utf-8"))
    generated = st.session_state.get("links.generated")
    if generated:
        st.write(t("download_invitations"))
        columns = st.columns(2)
        columns[0].download_button("CSV", generated[0], file_name=f"{round_code}_invitations.csv", mime="text/csv")
        columns[1].download_button("HTML", generated[1], file_name=f"{round_code}_invitations.html", mime="text/html")

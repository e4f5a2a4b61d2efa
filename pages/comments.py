"""What residents say: their suggestions, the terms they use most, and the themes (and so the
satisfaction items) they write about, for the reader's area scope."""

import pandas as pd
import plotly.express as px
import streamlit as st

from analysis.comments import filter_comments, phrase_counts, term_counts, theme_summary
from data.db import database_url
from data.results import levels_below
from questionnaires.comment_themes import load_comment_themes
from questionnaires.privacy import count_masks
from reports.comments import comments_export_frame
from reports.results import results_for
from ui import audit, auth, cached
from ui.i18n import lang, language_switch, register_texts, t
from ui.pickers import round_picker
from ui.tables import show_table

language_switch()

register_texts({
    "cm_help": ("居民在问卷最后写下的意见和建议（手机号、身份证号、邮箱和车牌在保存前已隐去）。区域按满意率从低到高排列。",
                "What residents wrote in the questionnaire's last box (phone and ID numbers, e-mail addresses "
                "and plates were masked before storing). Areas are listed from the lowest satisfaction rate up."),
    "cm_all_areas": ("全部", "All"),
    "cm_area": ("区域（满意率从低到高）", "Area (lowest satisfaction first)"),
    "cm_search": ("搜索意见（可输入多个词，用空格分开）", "Search (several words separated by spaces)"),
    "cm_item": ("只看对某一题的回答", "Only residents who answered an item"),
    "cm_any_item": ("不限", "Any"),
    "cm_negative_of": ("对“{item}”不满意或否定的居民", "Residents negative on “{item}”"),
    "cm_ages": ("年龄段", "Age groups"),
    "cm_count": ("条意见", "suggestions"),
    "cm_share": ("写了意见的受访者", "of respondents wrote one"),
    "cm_masked": ("处个人信息已隐去", "personal details masked"),
    "cm_tab_terms": ("高频词", "Frequent terms"),
    "cm_tab_themes": ("主题与短板", "Themes and weak items"),
    "cm_tab_texts": ("意见原文", "The suggestions"),
    "cm_term": ("词语", "Term"),
    "cm_phrase": ("短语", "Phrase"),
    "cm_comments": ("提到的意见数", "Suggestions using it"),
    "cm_share_of_comments": ("占意见比例", "Share of suggestions"),
    "cm_theme": ("主题", "Theme"),
    "cm_item_rate": ("该题满意率", "Item's satisfaction rate"),
    "cm_examples": ("有代表性的原话", "Representative suggestions"),
    "cm_none": ("所选范围内没有居民写意见。", "No resident in this selection wrote a suggestion."),
    "cm_download": ("下载意见（CSV）", "Download the suggestions (CSV)"),
    "cm_terms_help": ("按“有多少条意见用到这个词”计数，一条意见里重复的词只算一次。",
                      "Counted as the number of suggestions using a term; a term repeated in one suggestion counts once."),
    "cm_themes_help": ("一条意见包含主题的任一关键词即算提到该主题；关键词表在 questionnaires/themes/comment_themes.yaml，可以修改。",
                       "A suggestion mentions a theme when it holds any of its keywords; the keyword lists are in "
                       "questionnaires/themes/comment_themes.yaml and can be edited."),
})

staff = auth.require_page("comments")
language = lang()
name = "name_en" if language == "en" else "name_zh"
url = database_url()
st.title(t("page_comments"))
st.caption(t("cm_help"))
rounds = cached.rounds(url)
if not rounds:
    st.info(t("no_rounds"))
    st.stop()

round_code = round_picker(rounds, "comments.round", st.columns([2, 3])[0])
snapshot = cached.snapshot(url, round_code, staff.area_id)
questionnaire = snapshot.questionnaire
comments = cached.comments(url, round_code, staff.area_id, snapshot.tally_version)
themes = load_comment_themes()

# Areas one level below the reader's scope, weakest satisfaction first: the first choice is where to look.
below = levels_below(snapshot.scope_level)
level = below[0] if snapshot.scope_level == "city" else below[min(1, len(below) - 1)]
rates = pd.DataFrame(columns=["area_id", "rate"])
if not snapshot.tally.empty:
    indicators = results_for(snapshot).indicators
    rates = indicators[(indicators["level"] == level) & (indicators["indicator"] == "satisfaction")]
    rates = rates.sort_values("rate", kind="stable")[["area_id", "rate"]]
area_names = snapshot.areas.set_index("id")[name]
options = [None, *rates["area_id"].tolist()]
area_id = st.pills(
    t("cm_area"), options, selection_mode="single", key="comments.area",
    format_func=lambda a: t("cm_all_areas") if a is None else
    f"{area_names.get(a, a)} {rates.set_index('area_id')['rate'].get(a, float('nan')):.1%}",
)

filters = st.columns([3, 3, 2])
search = filters[0].text_input(t("cm_search"), key="comments.search")
items = [q for q in questionnaire.questions if q.indicator == "satisfaction" and q.type != "multiple_choice"]
item_code = filters[1].selectbox(t("cm_item"), [None, *[q.code for q in items]], key="comments.item",
                                 format_func=lambda c: t("cm_any_item") if c is None else
                                 t("cm_negative_of", item=questionnaire.question(c).text(language)))
age_question = next((q for q in questionnaire.questions if q.demographic == "age_group"), None)
age_labels = {} if age_question is None else {o.code: o.text(language) for o in age_question.options}
ages = filters[2].multiselect(t("cm_ages"), [c for c in age_labels if c != "under_18"], key="comments.ages",
                              format_func=age_labels.get, placeholder=t("cm_any_item"))
negative = None
if item_code:
    question = questionnaire.question(item_code)
    negative = [o.code for o in question.options if o.code not in question.positive and o.code not in question.invalid]
chosen = filter_comments(comments, search=search, area_level=level if area_id is not None else None,
                         area_id=area_id, item=item_code, answers=negative, age_groups=ages)

respondents = snapshot.tally.loc[snapshot.tally["item"] == "", ["community_id", "indicator", "respondents"]]
respondents = respondents[respondents["indicator"] == "satisfaction"]
if area_id is not None:
    inside = snapshot.areas.loc[snapshot.areas[f"{level}_id" if level != "community" else "id"] == area_id, "id"]
    respondents = respondents[respondents["community_id"].isin(inside)]
metrics = st.columns(3)
metrics[0].metric(t("cm_count"), f"{len(chosen):,}")
total = int(respondents["respondents"].sum())
metrics[1].metric(t("cm_share"), f"{len(chosen) / total:.0%}" if total and not (search or item_code or ages) else "—")
metrics[2].metric(t("cm_masked"), f"{sum(count_masks(x) for x in chosen['text']):,}")
if chosen.empty:
    st.info(t("cm_none"))
    st.stop()

terms_tab, themes_tab, texts_tab = st.tabs([t("cm_tab_terms"), t("cm_tab_themes"), t("cm_tab_texts")])
with terms_tab:
    st.caption(t("cm_terms_help"))
    terms = term_counts(chosen["terms"].tolist(), top=40)
    columns = st.columns([3, 2])
    bars = terms.head(20).iloc[::-1]
    figure = px.bar(bars, x="comments", y="term", orientation="h",
                    labels={"comments": t("cm_comments"), "term": ""}, color_discrete_sequence=["#B71C1C"])
    figure.update_layout(height=520, margin={"l": 10, "r": 10, "t": 10, "b": 10})
    columns[0].plotly_chart(figure, width="stretch", key="comments.bars")
    treemap = px.treemap(terms, path=["term"], values="comments", color="comments", color_continuous_scale="Reds")
    treemap.update_layout(height=520, margin={"l": 0, "r": 0, "t": 0, "b": 0}, coloraxis_showscale=False)
    treemap.update_traces(hovertemplate="%{label}: %{value}<extra></extra>")
    columns[1].plotly_chart(treemap, width="stretch", key="comments.treemap")
    phrases = phrase_counts(chosen["terms"].tolist(), top=15)
    if not phrases.empty:
        show_table(pd.DataFrame({t("cm_phrase"): phrases["term"], t("cm_comments"): phrases["comments"],
                                   t("cm_share_of_comments"): [f"{s:.1%}" for s in phrases["share"]]}),
                     hide_index=True, width="stretch")

with themes_tab:
    st.caption(t("cm_themes_help"))
    summary = theme_summary(chosen["text"].tolist(), chosen["terms"].tolist(), themes)
    item_rates = {}
    if not snapshot.tally.empty:
        items_frame = results_for(snapshot).items
        if area_id is not None:
            where = (items_frame["level"] == level) & (items_frame["area_id"] == area_id)
        else:
            where = items_frame["level"] == snapshot.scope_level
        item_rates = items_frame[where].groupby("item")["rate"].first().to_dict()

    def item_text(code):
        try:
            return questionnaire.question(code).text(language) if code else ""
        except (KeyError, LookupError):
            return code

    show_table(pd.DataFrame({
        t("cm_theme"): [r.label_en if language == "en" and r.label_en else r.label_zh for r in summary.itertuples()],
        t("item"): [item_text(code) for code in summary["item"]],
        t("cm_item_rate"): [f"{item_rates[c]:.1%}" if c in item_rates else "—" for c in summary["item"]],
        t("cm_comments"): summary["comments"],
        t("cm_share_of_comments"): [f"{s:.1%}" for s in summary["share"]],
        t("cm_examples"): [" ｜ ".join(e) for e in summary["examples"]],
    }), hide_index=True, width="stretch")

with texts_tab:
    table = comments_export_frame(chosen, snapshot.areas, questionnaire, themes, language)
    show_table(table, hide_index=True, width="stretch", height=480)
    st.download_button(t("cm_download"), table.to_csv(index=False).encode("utf-8-sig"),
                       file_name=f"{round_code}_suggestions.csv", mime="text/csv", key="comments.csv",
                       on_click=audit.export, args=(staff.username, round_code, "suggestions csv", len(table)))

"""Terms, phrases and themes of residents' suggestions."""

from __future__ import annotations

import jieba
import pytest
import rjieba

from analysis.comments import (
    phrase_counts,
    representative,
    segment,
    stop_words,
    term_counts,
    terms_of,
    theme_matches,
    theme_summary,
    theme_terms,
)
from data.demo_comments import COMMENTS_BY_ITEM
from questionnaires import load_default
from questionnaires.comment_themes import CommentTheme, load_comment_themes

CORPUS = [text for bank in COMMENTS_BY_ITEM.values() for text in bank]


def test_rjieba_cuts_like_jieba_without_hmm():
    """rjieba is used for speed; it must cut as the jieba package does with the same dictionary."""
    reference = jieba.Tokenizer()
    fast = rjieba.Jieba()
    for text in CORPUS:
        assert fast.cut(text, False) == reference.lcut(text, HMM=False), text


def test_campaign_terms_stay_whole_and_stop_words_go():
    terms = terms_of("背街小巷的路灯坏了，老旧小区希望加装电梯，新时代文明实践站没有活动，希望加强管理。")
    assert {"背街小巷", "老旧小区", "加装电梯", "新时代文明实践站"} <= set(terms)
    assert not set(terms) & {"的", "希望", "加强", "没有", "，"}
    assert all(len(t) >= 2 for t in terms)


def test_masks_are_no_terms():
    assert terms_of("请联系〔电话已隐去〕或〔邮箱已隐去〕") == []


def test_term_counts_count_comments_not_repetitions():
    tokens = segment(["停车难停车难停车难", "停车难，垃圾桶太少", "垃圾桶太少"])
    table = term_counts(tokens)
    counts = dict(zip(table["term"], table["comments"]))
    assert counts["停车难"] == 2 and counts["垃圾桶"] == 2
    assert table["share"].iloc[0] == pytest.approx(2 / 3)
    by_group = term_counts(tokens, groups=["a", "a", "b"])
    assert dict(zip(zip(by_group["group"], by_group["term"]), by_group["comments"]))[("a", "停车难")] == 2
    assert dict(zip(zip(by_group["group"], by_group["term"]), by_group["share"]))[("b", "垃圾桶")] == 1.0


def test_term_counts_against_a_plain_count():
    tokens = segment(CORPUS)
    table = term_counts(tokens, top=10_000)
    for term, comments in zip(table["term"], table["comments"]):
        assert comments == sum(term in set(t) for t in tokens)


def test_phrases_need_two_comments():
    tokens = segment(["停车收费太贵", "停车收费不合理", "垃圾清运不及时"])
    phrases = phrase_counts(tokens)
    assert list(phrases["term"]) == ["停车收费"]
    assert phrases["comments"].tolist() == [2]


def test_themes_match_keywords_and_link_to_items():
    themes = load_comment_themes()
    questionnaire = load_default()
    satisfaction_items = {q.code for q in questionnaire.questions if q.indicator == "satisfaction"}
    linked = {t.item for t in themes if t.item}
    assert linked <= satisfaction_items
    assert len(linked) >= 6
    texts = ["农贸市场地面湿滑", "背街小巷的路灯坏了", "点赞"]
    matches = theme_matches(texts, themes)
    assert matches["farmers_markets"].tolist() == [True, False, False]
    assert matches["back_streets"].tolist() == [False, True, False]
    summary = theme_summary(texts, segment(texts, theme_terms(themes)), themes, respondents=10)
    row = summary.set_index("theme").loc["farmers_markets"]
    assert row["comments"] == 1 and row["share"] == pytest.approx(1 / 3)
    assert row["share_of_respondents"] == pytest.approx(0.1)
    assert row["examples"] == ["农贸市场地面湿滑"]


def test_representative_comments_are_distinct_and_typical():
    texts = ["停车难，车位太少", "停车难，车位太少！", "停车难", "晚上停车难，车位不够", "广场舞太吵"]
    chosen = representative(texts, segment(texts), k=2)
    assert len(chosen) == 2
    assert not {"停车难，车位太少", "停车难，车位太少！"} <= set(chosen)


def test_theme_file_is_validated(tmp_path):
    bad = tmp_path / "themes.yaml"
    bad.write_text("themes:\n  - code: x\n    label: {zh: 测试}\n    keywords: []\n", encoding="utf-8")
    with pytest.raises(ValueError, match="keywords"):
        load_comment_themes(bad)
    assert isinstance(load_comment_themes()[0], CommentTheme)


def test_stop_words_are_loaded():
    assert {"的", "希望", "建议"} <= stop_words()

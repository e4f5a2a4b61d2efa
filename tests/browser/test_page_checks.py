"""The every-page walk's detectors on texts taken from issue 15 (no browser needed)."""

from __future__ import annotations

from tests.browser.page_checks import raw_codes, repeated, repeated_rows


def test_codes_from_the_issue_are_found():
    text = ("年龄段 18_29 60_plus 置信区间方法 wilson 上级区域 None code district_id awareness_p_adj "
            "原因：选择了 very_satisfied Choose options Select 8 matches 操作 import.paper")
    found = raw_codes(text, codes={"very_satisfied"})
    for code in ("18_29", "60_plus", "wilson", "None", "code", "district_id", "awareness_p_adj", "very_satisfied",
                 "options", "matches", "import.paper"):
        assert code in found, code


def test_words_people_read_are_not_codes():
    text = ("Wilson 得分区间 Clopper–Pearson 下载本表（CSV，Excel 可直接打开） 2026-R2 第二轮 CD0101 97.3% 12:30 "
            "2026-12-02 SURVEY_PUBLIC_URL UTF-8 95% – 99% Q17 SPSS 数据文件（.sav）")
    assert raw_codes(text) == []


def test_english_interface_allows_english_words_but_not_codes():
    assert raw_codes("Choose the round Undecided 60_plus None", chinese=False) == ["60_plus", "None"]


def test_repeated_labels_and_rows():
    assert repeated(["95%", "96%", "96%", "97%", "97%"]) == ["96%", "97%"]
    assert repeated(["城东区 › 东门街道 › 和平社区", "城西区 › 东门街道 › 和平社区", ""]) == []
    header = ["区域", "指标", "比率"]
    assert repeated_rows(header, [["东门街道和平社区", "知晓率", "90%"], ["东门街道和平社区", "知晓率", "95%"]]) == [
        "东门街道和平社区 / 知晓率"]
    assert repeated_rows(header, [["东门街道和平社区", "知晓率", "90%"], ["东门街道和平社区", "满意率", "95%"]]) == []
    assert repeated_rows(["用户名"], [["a"], ["a"]]) == []


def test_links_may_carry_their_parameters():
    assert raw_codes("链接 http://localhost:8501/?community=CD0101&round=2026-R2 已复制") == []


def test_streamlits_hidden_skip_link_is_not_ours():
    from tests.browser.page_checks import raw_codes

    assert raw_codes("Skip to main content 结果看板") == []
    assert raw_codes("Skip to main content 方法：wilson") == ["wilson"]

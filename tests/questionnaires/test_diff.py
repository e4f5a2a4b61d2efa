"""diff_questionnaires reports every known change between two versions, and nothing else."""

from __future__ import annotations

from questionnaires import load_default, parse_questionnaire_text
from questionnaires.diff import Change, describe_condition, diff_questionnaires, diff_table

OLD = """
code: quick
version: 1
title: {zh: 问卷, en: Survey}
sections:
  - {code: about, title: {zh: 基本情况, en: About you}}
  - {code: campaign, title: {zh: 创建工作, en: Campaign}}
questions:
  - code: resident
    section: about
    type: yes_no
    label: {zh: 您是否在本市居住满半年？, en: "Lived here six months?"}
    screening: {eligible: [yes]}
  - code: aware
    section: campaign
    type: yes_no
    indicator: awareness
    label: {zh: 您知道创建工作吗？, en: "Do you know the campaign?"}
    options:
      - {code: yes, label: {zh: 知道, en: "Yes"}}
      - {code: no, label: {zh: 不知道, en: "No"}}
  - code: support
    section: campaign
    type: single_choice
    indicator: support
    label: {zh: 您支持吗？, en: "Do you support it?"}
    options:
      - {code: support, label: {zh: 支持, en: "Yes"}}
      - {code: oppose, label: {zh: 不支持, en: "No"}}
      - {code: unsure, label: {zh: 说不清, en: "Can't say"}}
    positive: [support]
    invalid: [unsure]
  - code: channels
    section: campaign
    type: multiple_choice
    required: false
    label: {zh: 您通过哪些渠道了解？, en: "How did you hear?"}
    relevant: "${aware} = 'yes'"
    options:
      - {code: tv, label: {zh: 电视, en: TV}}
      - {code: online, label: {zh: 网络, en: Online}}
  - code: years
    section: about
    type: number
    label: {zh: 居住年数, en: Years}
    min: 0
    max: 100
  - code: suggestion
    section: campaign
    type: text
    required: false
    label: {zh: 建议, en: Suggestions}
"""

# Changes: title.en; aware: label.zh, new option dont_know (invalid); support: option 'unsure' relabelled
# (zh) and positive widened; channels: required, relevant, option online removed, option poster added;
# years: moved to the front (order) and its max; suggestion removed; new question overall added;
# resident: label.en.
NEW = """
code: quick
version: 2
title: {zh: 问卷, en: Resident survey}
sections:
  - {code: about, title: {zh: 基本情况, en: About you}}
  - {code: campaign, title: {zh: 创建工作, en: Campaign}}
questions:
  - code: years
    section: about
    type: number
    label: {zh: 居住年数, en: Years}
    min: 0
    max: 120
  - code: resident
    section: about
    type: yes_no
    label: {zh: 您是否在本市居住满半年？, en: "Have you lived here six months or more?"}
    screening: {eligible: [yes]}
  - code: aware
    section: campaign
    type: yes_no
    indicator: awareness
    label: {zh: 您是否知道我市正在创建文明城市？, en: "Do you know the campaign?"}
    options:
      - {code: yes, label: {zh: 知道, en: "Yes"}}
      - {code: no, label: {zh: 不知道, en: "No"}}
      - {code: dont_know, label: {zh: 不清楚, en: Not sure}}
    invalid: [dont_know]
  - code: support
    section: campaign
    type: single_choice
    indicator: support
    label: {zh: 您支持吗？, en: "Do you support it?"}
    options:
      - {code: support, label: {zh: 支持, en: "Yes"}}
      - {code: oppose, label: {zh: 不支持, en: "No"}}
      - {code: unsure, label: {zh: 说不好, en: "Can't say"}}
    positive: [support, unsure]
  - code: channels
    section: campaign
    type: multiple_choice
    required: true
    label: {zh: 您通过哪些渠道了解？, en: "How did you hear?"}
    relevant: "${aware} != 'no'"
    options:
      - {code: tv, label: {zh: 电视, en: TV}}
      - {code: poster, label: {zh: 宣传栏, en: Posters}}
  - code: overall
    section: campaign
    type: satisfaction
    indicator: satisfaction
    label: {zh: 总体满意吗？, en: "Satisfied overall?"}
"""


def test_every_known_change_is_reported_and_nothing_else():
    old, new = parse_questionnaire_text(OLD, "old.yaml"), parse_questionnaire_text(NEW, "new.yaml")
    changes = diff_questionnaires(old, new)
    assert set(changes) == {
        Change("changed", None, "title.en", "Survey", "Resident survey"),
        Change("moved", "years", "order", 5, 1),
        Change("changed", "years", "max", 100, 120),
        Change("changed", "resident", "label.en", "Lived here six months?", "Have you lived here six months or more?"),
        Change("changed", "aware", "label.zh", "您知道创建工作吗？", "您是否知道我市正在创建文明城市？"),
        Change("added", "aware", "options.dont_know", None, "不清楚"),
        Change("changed", "aware", "invalid", (), ("dont_know",)),
        Change("changed", "support", "options.unsure.label.zh", "说不清", "说不好"),
        Change("changed", "support", "positive", ("support",), ("support", "unsure")),
        Change("changed", "support", "invalid", ("unsure",), ()),
        Change("removed", "channels", "options.online", "网络", None),
        Change("added", "channels", "options.poster", None, "宣传栏"),
        Change("changed", "channels", "required", False, True),
        Change("changed", "channels", "relevant", "${aware} = 'yes'", "${aware} != 'no'"),
        Change("added", "overall", None, None, "总体满意吗？"),
        Change("removed", "suggestion", None, "建议", None),
    }
    assert len(changes) == len(set(changes))  # nothing reported twice


def test_identical_questionnaires_have_no_changes_and_inserting_moves_nothing():
    old = parse_questionnaire_text(OLD)
    assert diff_questionnaires(old, old) == []
    inserted = OLD.replace("  - code: years\n", "  - code: extra\n    section: about\n    type: text\n"
                           "    label: {zh: 新题}\n  - code: years\n")
    changes = diff_questionnaires(old, parse_questionnaire_text(inserted))
    assert changes == [Change("added", "extra", None, None, "新题")]


def test_type_section_indicator_and_option_order_changes():
    old = parse_questionnaire_text(OLD)
    new = parse_questionnaire_text(
        OLD.replace("    section: campaign\n    type: single_choice\n    indicator: support",
                    "    section: about\n    type: single_choice\n    indicator: participation")
        .replace("      - {code: tv, label: {zh: 电视, en: TV}}\n      - {code: online, label: {zh: 网络, en: Online}}",
                 "      - {code: online, label: {zh: 网络, en: Online}}\n      - {code: tv, label: {zh: 电视, en: TV}}")
        .replace("    type: text\n", "    type: number\n")
    )
    assert set(diff_questionnaires(old, new)) == {
        Change("changed", "support", "section", "campaign", "about"),
        Change("changed", "support", "indicator", "support", "participation"),
        Change("moved", "channels", "options", ("tv", "online"), ("online", "tv")),
        Change("changed", "suggestion", "type", "text", "number"),
    }


def test_diff_table_in_chinese_by_default_and_in_english():
    old, new = parse_questionnaire_text(OLD), parse_questionnaire_text(NEW)
    changes = diff_questionnaires(old, new)
    zh = diff_table(changes)
    assert list(zh.columns) == ["变化", "问题", "字段", "原来", "现在"]
    assert len(zh) == len(changes)
    row = zh[(zh["问题"] == "support") & (zh["字段"] == "正面选项")].iloc[0]
    assert (row["变化"], row["原来"], row["现在"]) == ("修改", "support", "support, unsure")
    assert "选项 unsure 文字（中文）" in zh["字段"].tolist()
    required = zh[(zh["问题"] == "channels") & (zh["字段"] == "必答")]
    assert required[["原来", "现在"]].values.tolist() == [["否", "是"]]
    en = diff_table(changes, "en")
    assert list(en.columns) == ["Change", "Question", "Field", "Before", "After"]
    assert set(en["Change"]) == {"added", "removed", "changed", "moved"}
    assert diff_table([], "zh").empty


def test_skip_logic_in_words():
    default = load_default()
    relevant = default.question("learn_channels").relevant
    assert describe_condition(default, relevant) == "第5题“您知道我市正在创建全国文明城市吗？” 选 “知道”"
    assert describe_condition(default, relevant, "en").startswith("Q5 “Do you know")

"""Typed answers (paper forms, spreadsheets): labels, codes and option numbers read back as the runner's answers."""
from questionnaires import load_default
from questionnaires.typed_answers import option_lookup, read_typed_answer, typed_number

Q = load_default()


def read(code, value, lang="zh"):
    question = Q.question(code)
    return read_typed_answer(question, value, option_lookup(question), lang)


def test_labels_codes_numbers_and_separators():
    assert read("aware_campaign", "知道") == ("yes", None)
    assert read("aware_campaign", 1) == ("yes", None)
    assert read("aware_campaign", "Yes") == ("yes", None)
    assert read("learn_channels", "1;3；8")[0] == ["tv_radio", "online", "other"]
    assert read("learn_channels", "电视、广播、网站、微信、微博、短视频等网络平台、其他")[0] == ["tv_radio", "online", "other"]
    assert read("age_group", "18-29岁") == ("18_29", None)


def test_unknown_option_and_not_a_number_are_named_in_the_users_language():
    assert "火星" in read("aware_campaign", "火星")[1]
    value, message = read("years_in_city", "abc", "en")
    assert value is None and "is not a number" in message
    assert typed_number("１２") == 12 and typed_number("1,000.5") == 1000.5 and typed_number(True) is None

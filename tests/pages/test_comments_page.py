"""The residents' suggestions page through the real app on the demo database."""

from __future__ import annotations

from tests.pages.conftest import area_id, create_staff, log_in

PAGE = "pages/comments.py"


def open_page(app, demo_url, username="words_analyst", area_code=None):
    create_staff(demo_url, username, "analyst", area_code=area_code)
    log_in(app, username)
    app.switch_page(PAGE).run()
    assert not app.exception, app.exception
    return app


def suggestions_table(app):
    return next(frame.value for frame in app.dataframe if "意见和建议" in frame.value.columns)


def test_weakest_district_is_first_and_one_click_shows_what_its_residents_say(staff_app, demo_url):
    app = open_page(staff_app, demo_url)
    assert [t.value for t in app.title] == ["居民意见"]
    area = app.button_group(key="comments.area")
    options = area.options
    # The first choice after 全部 is the district with the lowest satisfaction rate (北山县 in the demo).
    assert options[0] == "全部"
    assert options[1].startswith("北山县")
    everything = len(suggestions_table(app))
    area.set_value(area_id(demo_url, "BS")).run()
    assert not app.exception
    table = suggestions_table(app)
    assert 0 < len(table) < everything
    assert set(table["区（县）"]) == {"北山县"}
    terms = next(frame.value for frame in app.dataframe if "短语" in frame.value.columns or "主题" in frame.value.columns)
    assert len(terms) > 0


def test_filters_by_an_items_answer_and_search(staff_app, demo_url):
    app = open_page(staff_app, demo_url)
    before = len(suggestions_table(app))
    app.selectbox(key="comments.item").set_value("sat_farmers_markets").run()
    negative = suggestions_table(app)
    assert 0 < len(negative) < before
    app.text_input(key="comments.search").input("农贸市场 菜市场").run()
    searched = suggestions_table(app)
    assert len(searched) and searched["意见和建议"].str.contains("农贸市场|菜市场").all()


def test_themes_link_suggestions_to_satisfaction_items(staff_app, demo_url):
    app = open_page(staff_app, demo_url)
    themes = next(frame.value for frame in app.dataframe if "主题" in frame.value.columns
                  and "有代表性的原话" in frame.value.columns)
    linked = themes[themes["题目"] != ""]
    assert (linked["提到的意见数"] > 0).any()
    assert linked["该题满意率"].str.endswith("%").any()


def test_masked_details_are_counted_and_never_shown(staff_app, demo_url):
    app = open_page(staff_app, demo_url)
    masked = next(m for m in app.metric if m.label == "处个人信息已隐去")
    assert int(masked.value.replace(",", "")) >= 1
    texts = " ".join(suggestions_table(app)["意见和建议"])
    assert "138 1234 5678" not in texts and "浙A12345" not in texts
    assert "〔电话已隐去〕" in texts


def test_a_district_analyst_reads_only_their_district(staff_app, demo_url):
    app = open_page(staff_app, demo_url, "cx_words", area_code="CX")
    table = suggestions_table(app)
    assert set(table["区（县）"]) == {"城西区"}
    options = app.button_group(key="comments.area").options
    assert all(o == "全部" or o.startswith("城西区") for o in options)
    assert len(options) == 4  # 全部 and the district's three streets


def test_weak_items_show_how_many_residents_wrote_about_them(staff_app, demo_url):
    create_staff(demo_url, "weak_reader", "analyst")
    log_in(staff_app, "weak_reader")
    staff_app.switch_page("pages/insights.py").run()
    assert not staff_app.exception
    weak = next(frame.value for frame in staff_app.dataframe if "居民意见提及" in frame.value.columns)
    assert (weak["居民意见提及"] > 0).any()
    assert any(e.label.startswith("居民怎么说") for e in staff_app.expander)
    assert any(text.value.startswith("“") for text in staff_app.text)

"""The organisers' questionnaire page (versions, upload, downloads, phone preview, diff) through AppTest
on a real demo database (which holds civilized_city_standard version 1, used by two rounds)."""

from __future__ import annotations

from sqlalchemy import select

from data import accounts
from data import questionnaire_versions as qv
from data.db import make_engine, read_session
from data.models import QuestionnaireVersion
from questionnaires import load_default, parse_questionnaire_text
from tests.pages.conftest import create_staff, log_in

PAGE = "pages/questionnaires.py"
DEFAULT = load_default()

BROKEN_YAML = """\
code: civilized_city_standard
version: 2
title: {zh: 问卷}
questions:
  - code: aware_campaign
    type: yes_no
    indicator: awareness
    label: {zh: 您知道我市正在创建全国文明城市吗？}
    positive: [maybe]
  - code: learn_channels
    type: multiple_choice
    label: {zh: 您通过哪些渠道了解？}
    relevant: "${aware_campaign} = 'perhaps'"
    options:
      - {code: tv, label: {zh: 电视}}
"""


def edited_default_yaml() -> str:
    """The default questionnaire with one label reworded and one option added (the file still says version 1)."""
    data = qv.yaml_data(DEFAULT)
    for question in data["questions"]:
        if question["code"] == "aware_campaign":
            question["label"] = {"zh": "您是否知道我市正在创建全国文明城市？", "en": question["label"]["en"]}
        if question["code"] == "learn_channels":
            question["options"].append({"code": "outdoor_screen", "label": {"zh": "户外大屏", "en": "Outdoor screens"}})
    import yaml

    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


def open_as(app, url, role="organiser", language="zh"):
    create_staff(url, "admin", "admin")
    if role != "admin":
        create_staff(url, role, role)
    log_in(app, role)
    if language != "zh":
        app.radio(key="lang_switch").set_value(language).run()
    app.switch_page(PAGE).run()
    assert not app.exception, app.exception
    return app


def stored_versions(url):
    engine = make_engine(url)
    with read_session(engine) as session:
        rows = [(v.code, v.version) for v in session.scalars(select(QuestionnaireVersion).order_by(QuestionnaireVersion.id))]
        events = accounts.audit_events(session)
    engine.dispose()
    return rows, events


def tables(app, column: str):
    """The dataframes shown that have this column."""
    return [d.value for d in app.dataframe if column in d.value.columns]


def errors(app) -> list[str]:
    """Error messages as the user reads them (the page escapes markdown characters such as _ and $)."""
    return [e.value.replace("\\", "") for e in app.error]


def test_organiser_sees_versions_preview_and_downloads(app, demo_url):
    open_as(app, demo_url)
    assert [t.value for t in app.title] == ["问卷管理"]
    versions = app.dataframe[0].value
    assert list(versions.columns) == ["问卷代码", "版本", "标题", "创建时间", "使用的轮次", "答卷数"]
    assert versions["问卷代码"].tolist() == ["civilized_city_standard"]
    assert versions["使用的轮次"].iloc[0] == "2026-R1, 2026-R2"
    assert versions["答卷数"].iloc[0] > 0

    # The downloads give the questionnaire back, and each click is audited.
    yaml_button = app.get("download_button")[0]
    assert yaml_button.label == "下载 YAML"
    yaml_button.click().run()
    assert not app.exception
    _, events = stored_versions(demo_url)
    exports = events[events["action"] == "export"]
    assert len(exports) == 1 and exports["target"].iloc[0] == "civilized_city_standard"
    assert parse_questionnaire_text(qv.to_yaml(DEFAULT)).content_hash() == DEFAULT.content_hash()

    # Phone preview: the first part, then the participation part with the skip-logic note.
    radios = [r for r in app.radio if r.key and r.key.startswith("qv.preview.")]
    assert radios[0].label.startswith("**1. 您在本市居住")
    step_box = app.selectbox(key="qv.preview_step." + str(app.selectbox(key="qv.preview_version").value))
    step_box.select_index(next(i for i, label in enumerate(step_box.options) if "learn_channels" in label)).run()
    assert not app.exception
    notes = [c.value for c in app.caption if "仅当" in c.value]
    assert any("您知道我市正在创建全国文明城市吗" in note and "知道" in note for note in notes), notes
    assert any(c.key and c.key.startswith("qv.preview.") and "learn_channels" in c.key for c in app.checkbox)


def test_broken_upload_lists_every_problem_and_stores_nothing(app, demo_url):
    open_as(app, demo_url)
    app.file_uploader(key="qv.upload").set_value(("edited.yaml", BROKEN_YAML.encode("utf-8"), "application/x-yaml")).run()
    assert not app.exception
    shown = errors(app)
    assert shown[0].startswith("文件有 2 个问题")
    assert any("aware_campaign" in e and "positive" in e and "maybe 不存在" in e for e in shown), shown
    assert any("learn_channels" in e and "relevant" in e and "perhaps" in e for e in shown), shown
    assert not any(" / " in e for e in shown)  # Chinese only, in the Chinese interface
    assert not [b for b in app.button if b.label == "保存为新版本"]
    rows, _ = stored_versions(demo_url)
    assert rows == [("civilized_city_standard", 1)]


def test_broken_upload_in_english(app, demo_url):
    open_as(app, demo_url, language="en")
    assert [t.value for t in app.title] == ["Questionnaires"]
    app.file_uploader(key="qv.upload").set_value(("edited.yaml", BROKEN_YAML.encode("utf-8"), "application/x-yaml")).run()
    shown = errors(app)
    assert any("edited.yaml" in e and "option 'maybe' does not exist" in e for e in shown), shown
    assert not any("不存在" in e for e in shown)


def test_valid_upload_shows_its_diff_and_saves_version_2(app, demo_url):
    open_as(app, demo_url)
    app.file_uploader(key="qv.upload").set_value(("edited.yaml", edited_default_yaml().encode("utf-8"), "text/yaml")).run()
    assert not app.exception
    assert not errors(app)
    diff = tables(app, "变化")[0]
    assert set(map(tuple, diff[["变化", "问题", "字段"]].values.tolist())) == {
        ("修改", "aware_campaign", "题目（中文）"),
        ("新增", "learn_channels", "选项 outdoor_screen"),
    }
    assert any("将保存为第 2 版" in c.value for c in app.caption)
    next(b for b in app.button if b.label == "保存为新版本").click().run()
    assert not app.exception
    assert any("已保存为 civilized_city_standard 第 2 版" in s.value for s in app.success)
    rows, events = stored_versions(demo_url)
    assert rows == [("civilized_city_standard", 1), ("civilized_city_standard", 2)]
    saved = events[events["action"] == "questionnaire.version"]
    assert saved["actor"].tolist() == ["organiser"] and saved["detail"].iloc[0]["version"] == 2
    assert tables(app, "答卷数")[0]["版本"].tolist() == [1, 2]

    # The same file again: nothing to save.
    assert any("第 2 版完全相同" in i.value for i in app.info)
    assert not [b for b in app.button if b.label == "保存为新版本"]

    # Compare tab: version 1 against version 2 by default.
    compare = tables(app, "变化")[0]
    assert len(compare) == 2
    comparable = tables(app, "可比较")[0]
    assert comparable["可比较"].all()


def test_an_analyst_cannot_open_the_page(app, demo_url):
    create_staff(demo_url, "admin", "admin")
    create_staff(demo_url, "analyst", "analyst")
    log_in(app, "analyst")
    try:
        app.switch_page(PAGE).run()
    except Exception:  # not in the analyst's navigation at all
        app.run()
    assert not app.exception
    assert "问卷管理" not in [t.value for t in app.title]
    assert not app.get("file_uploader")
    assert not app.get("download_button")


def test_preview_of_an_uploaded_questionnaire_with_the_new_constructs(app, demo_url):
    from pathlib import Path

    content = (Path(__file__).parents[1] / "questionnaires" / "constructs.yaml").read_bytes()
    open_as(app, demo_url)
    app.file_uploader(key="qv.upload").set_value(("constructs.yaml", content, "text/yaml")).run()
    assert not app.exception and not errors(app)
    app.selectbox(key="qv.preview_version").set_value("uploaded").run()
    assert not app.exception
    # The consent note as text, the limits under the channels question, its "please specify" box, the
    # shuffled quiz said so.
    assert "本问卷不记名，回答仅用于统计。" in [m.value for m in app.markdown]
    captions = [c.value for c in app.caption]
    assert "最多选 2 项；选“以上都没有”时不能再选其他项" in captions
    assert "🔀 选项对每位受访者随机排序（纸质问卷按原顺序）" in captions
    boxes = [w for w in app.text_input if w.key and w.key.startswith("qv.preview.uploaded.")]
    assert [w.label for w in boxes] == ["其他（请注明） （必答）", "其他地方（请注明） （选答）"]
    assert [r.label for r in app.radio if r.key and r.key.startswith("qv.preview.uploaded.")][0].startswith("**2. 社会主义")

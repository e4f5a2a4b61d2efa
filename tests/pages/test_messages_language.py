"""A refusal from storage reaches the page in the user's language only, never as "中文 / English"."""

from __future__ import annotations

import re

import pytest

from tests.pages.conftest import PASSWORD, log_in

CJK = re.compile(r"[\u4e00-\u9fff]")
ENGLISH_WORD = re.compile(r"[A-Za-z]{3,}")


def _refusals(app, language: str) -> list[str]:
    """The admin's two refused saves on the users page: a name that exists, the last admin disabled."""
    log_in(app, "admin")
    if language == "en":
        app.radio(key="lang_switch").set_value("en").run()
    app.switch_page("pages/users.py").run()
    assert not app.exception
    app.text_input[0].input("admin")
    app.text_input[2].input(PASSWORD)
    save = "Save" if language == "en" else "保存"
    next(b for b in app.button if b.label == save).click().run()
    shown = [e.value for e in app.error]
    next(c for c in app.checkbox if c.label in ("启用", "Active")).uncheck()  # the only admin, disabled
    buttons = [b for b in app.button if b.label == save]
    buttons[-1].click().run()
    assert not app.exception
    return shown + [e.value for e in app.error]


@pytest.mark.parametrize("language", ["zh", "en"])
def test_storage_refusals_are_shown_in_the_users_language_only(staff_app, language):
    shown = _refusals(staff_app, language)
    assert len(shown) == 2, shown
    for message in shown:
        assert " / " not in message and "/ " not in message, message
        if language == "zh":
            assert CJK.search(message) and not ENGLISH_WORD.search(message.replace("admin", "")), message
        else:
            assert not CJK.search(message) and ENGLISH_WORD.search(message), message
    if language == "zh":
        assert "已存在" in shown[0] and "管理员" in shown[1]
    else:
        assert "already exists" in shown[0] and "admin" in shown[1]

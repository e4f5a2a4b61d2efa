"""Who can and cannot see what: every page × every role, through the real app."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from data import accounts
from data.db import make_engine, read_session
from data.models import User
from data.models import ROLES
from tests.pages.conftest import PASSWORD, area_id, create_staff, log_in
from ui.auth import PAGES_BY_ROLE
from ui.i18n import TEXTS


def t_zh(key: str) -> str:
    return TEXTS[key][0]

STAFF_PAGES = ["pages/dashboard.py", "pages/users.py", "pages/audit.py"]
CAN_SEE = {
    "admin": {"pages/dashboard.py", "pages/users.py", "pages/audit.py"},
    "organiser": {"pages/dashboard.py"},
    "analyst": {"pages/dashboard.py"},
    "interviewer": set(),
}
PAGE_TITLES = {"pages/dashboard.py": "结果看板", "pages/users.py": "用户管理", "pages/audit.py": "操作日志"}


def page_titles(app) -> list[str]:
    return [title.value for title in app.title]


def try_page(app, page: str):
    """Open a page as by its URL; a page outside the role's navigation must show no data."""
    try:
        app.switch_page(page).run()
    except Exception:  # AppTest refuses pages that are not in the navigation at all
        app.run()
    assert not app.exception
    return app


def test_first_start_asks_for_the_first_admin_and_never_has_a_default_password(app, demo_url):
    app.run()
    app.switch_page("pages/account.py").run()
    assert page_titles(app) == ["首次使用：创建管理员账号"]
    app.text_input[0].input("chief")
    app.text_input[1].input("short")
    app.text_input[2].input("short")
    app.button[0].click().run()
    assert any("至少" in e.value for e in app.error)
    app.text_input[1].input("a good password 7")
    app.text_input[2].input("a good password 7")
    app.button[0].click().run()
    assert not app.exception
    engine = make_engine(demo_url)
    with read_session(engine) as session:
        users = session.scalars(select(User)).all()
    assert [(u.username, u.role) for u in users] == [("chief", "admin")]
    engine.dispose()


@pytest.mark.parametrize("page", STAFF_PAGES)
def test_anonymous_visitors_see_no_staff_page(staff_app, page):
    staff_app.run()
    try_page(staff_app, page)
    assert PAGE_TITLES[page] not in page_titles(staff_app)
    assert not staff_app.metric and not staff_app.dataframe


@pytest.mark.parametrize("role", sorted(CAN_SEE))
def test_each_role_sees_exactly_its_pages(staff_app, demo_url, role):
    create_staff(demo_url, f"user_{role}", role)
    log_in(staff_app, f"user_{role}")
    assert any("已登录" in m.value for m in staff_app.markdown)
    for page in STAFF_PAGES:
        try_page(staff_app, page)
        shown = PAGE_TITLES[page] in page_titles(staff_app)
        assert shown == (page in CAN_SEE[role]), (role, page)


EVERY_PAGE = sorted({name for names in PAGES_BY_ROLE.values() for name in names})


@pytest.mark.parametrize("role", [None, *ROLES])
def test_every_page_opens_for_its_roles_and_for_no_one_else(staff_app, demo_url, role):
    """The whole navigation table, page by page: allowed pages run without error and carry the
    language switch (which also routes a visit through the entry); the others show nothing."""
    if role:
        create_staff(demo_url, f"user_{role}", role)
        log_in(staff_app, f"user_{role}")
    else:
        staff_app.run()
    allowed = PAGES_BY_ROLE[role]
    for name in EVERY_PAGE:
        try_page(staff_app, f"pages/{name}.py")
        title = t_zh(f"page_{name}")
        if name in allowed:
            assert not staff_app.exception, (role, name, staff_app.exception)
            assert staff_app.radio(key="lang_switch"), (role, name)
            if name not in ("survey", "methods", "account"):
                assert title in page_titles(staff_app), (role, name, page_titles(staff_app))
            # An empty cell (a quota not set) reads "None" unless the table says otherwise.
            assert all(frame.proto.placeholder == "—" for frame in staff_app.dataframe), (role, name)
        elif name not in ("survey", "methods", "account"):
            assert title not in page_titles(staff_app), (role, name)
            assert not staff_app.metric and not staff_app.dataframe, (role, name)


def test_wrong_password_is_refused_and_audited(staff_app, demo_url):
    log_in(staff_app, "admin", "not the password")
    assert any("不正确" in e.value for e in staff_app.error)
    engine = make_engine(demo_url)
    with read_session(engine) as session:
        assert list(accounts.audit_events(session, action="login.failed")["actor"]) == ["admin"]
    engine.dispose()


def test_district_analyst_sees_only_their_district(staff_app, demo_url):
    create_staff(demo_url, "cx_office", "analyst", area_code="CX")
    log_in(staff_app, "cx_office")
    try_page(staff_app, "pages/dashboard.py")
    assert staff_app.selectbox(key="dashboard.level").options == ["区（县）", "街道（乡镇）", "社区（村）"]
    # A district office opens on its streets, named without the district every row would repeat.
    assert staff_app.selectbox(key="dashboard.level").value == "street"
    assert list(staff_app.dataframe[0].value["区域"]) == ["东门街道", "南湖街道", "新华街道"]
    assert "城西区" in [s.value for s in staff_app.subheader]  # the scope, never 全市
    staff_app.selectbox(key="dashboard.level").set_value("district").run()
    assert list(staff_app.dataframe[0].value["区域"]) == ["城西区"]
    staff_app.selectbox(key="dashboard.level").set_value("community").run()
    assert staff_app.dataframe[0].value["区域"].str.startswith(("东门", "南湖", "新华")).all()
    assert len(staff_app.dataframe[0].value) == 9


def test_logout_and_idle_expiry(staff_app, monkeypatch):
    log_in(staff_app, "admin")
    try_page(staff_app, "pages/users.py")
    assert "用户管理" in page_titles(staff_app)
    monkeypatch.setenv("SURVEY_IDLE_MINUTES", "0")
    staff_app.run()
    try_page(staff_app, "pages/users.py")
    assert "用户管理" not in page_titles(staff_app)


def test_admin_creates_a_scoped_user_and_it_is_audited(staff_app, demo_url):
    log_in(staff_app, "admin")
    try_page(staff_app, "pages/users.py")
    staff_app.text_input[0].input("new_analyst")
    staff_app.text_input[2].input(PASSWORD)
    staff_app.selectbox[1].set_value(area_id(demo_url, "CD"))
    next(b for b in staff_app.button if b.label == "保存").click().run()
    assert not staff_app.exception
    assert [e.value for e in staff_app.error] == []
    engine = make_engine(demo_url)
    with read_session(engine) as session:
        user = session.scalar(select(User).where(User.username == "new_analyst"))
        created = accounts.audit_events(session, action="user.create")
    assert user.role == "analyst" and user.area_id is not None
    assert "new_analyst" in list(created["target"])
    engine.dispose()


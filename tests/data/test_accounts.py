"""Staff accounts, login throttling, audit log and keyed hashes on both databases."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select, text

from data import accounts
from data.db import read_session, write_session
from data.demo import DEFAULT_TARGETS, build_city
from data.models import Invitation, User
from data.questionnaire_versions import save_questionnaire
from data.responses import new_response_id
from data.rounds import create_round
from questionnaires import load_default

PASSWORD = "correct horse 42"


def make_user(engine, username="ana", role="analyst", area_id=None):
    with write_session(engine) as session:
        return accounts.identity(accounts.create_user(session, "root", username, PASSWORD, role, area_id=area_id))


def login(engine, username, password, now=None):
    with write_session(engine) as session:
        return accounts.authenticate(session, username, password, now)


def test_password_is_stored_only_as_an_argon2_hash(engine):
    make_user(engine)
    with engine.connect() as connection:
        stored = connection.execute(text("select password_hash from app_user")).scalar_one()
    assert stored.startswith("$argon2id$") and PASSWORD not in stored


@pytest.mark.parametrize("weak", ["short1", "onlyletterslong", "12345678901", ""])
def test_weak_passwords_are_refused(engine, weak):
    with pytest.raises(ValueError), write_session(engine) as session:
        accounts.create_user(session, None, "weak", weak, "admin")
    with read_session(engine) as session:
        assert not accounts.has_users(session)


def test_login_succeeds_fails_and_is_audited(engine):
    make_user(engine)
    assert login(engine, "ana", PASSWORD).staff.role == "analyst"
    assert login(engine, "ANA", PASSWORD).staff is not None  # user names ignore case
    wrong = login(engine, "ana", "wrong password 1")
    assert wrong.staff is None and wrong.refused == "bad_credentials"
    assert login(engine, "nobody", PASSWORD).refused == "bad_credentials"  # same answer: no enumeration
    with read_session(engine) as session:
        events = accounts.audit_events(session)
    assert list(events["action"])[::-1] == ["user.create", "login", "login", "login.failed", "login.failed"]


def test_repeated_failures_slow_the_account_down(engine):
    make_user(engine)
    now = datetime(2026, 5, 1, 9, 0)
    outcomes = [login(engine, "ana", f"wrong password {k}", now) for k in range(accounts.FREE_FAILURES + 2)]
    assert [o.refused for o in outcomes[: accounts.FREE_FAILURES]] == ["bad_credentials"] * accounts.FREE_FAILURES
    assert outcomes[accounts.FREE_FAILURES].refused == "locked"
    assert outcomes[accounts.FREE_FAILURES].wait_seconds == 30
    # While locked even the right password is refused; afterwards it works and resets the counter.
    assert login(engine, "ana", PASSWORD, now + timedelta(seconds=10)).refused == "locked"
    assert login(engine, "ana", PASSWORD, now + timedelta(minutes=20)).staff is not None
    with read_session(engine) as session:
        assert session.scalar(select(User.failed_logins)) == 0


def test_disabled_account_cannot_log_in_and_last_admin_cannot_be_removed(engine):
    admin = make_user(engine, "boss", "admin")
    analyst = make_user(engine, "ana")
    with write_session(engine) as session:
        accounts.update_user(session, "boss", analyst.id, active=False)
    assert login(engine, "ana", PASSWORD).refused == "inactive"
    with read_session(engine) as session:
        assert accounts.still_allowed(session, analyst) is None
    with pytest.raises(ValueError, match="管理员"), write_session(engine) as session:
        accounts.update_user(session, "boss", admin.id, role="analyst")
    with read_session(engine) as session:
        changes = accounts.audit_events(session, action="user.update")
    assert list(changes["detail"]) == [{"active": [True, False]}]


def test_role_and_scope_changes_are_audited(engine):
    with write_session(engine) as session:
        district = build_city(session)[0].parent.parent
    make_user(engine, "boss", "admin")
    analyst = make_user(engine, "ana")
    with write_session(engine) as session:
        accounts.update_user(session, "boss", analyst.id, role="organiser", area_id=district.id)
    with read_session(engine) as session:
        staff = accounts.still_allowed(session, analyst)
        event = accounts.audit_events(session, action="user.update").iloc[0]
    assert (staff.role, staff.area_id) == ("organiser", district.id)
    assert event["actor"] == "boss" and event["detail"]["role"] == ["analyst", "organiser"]


def test_invitation_tokens_are_stored_only_as_keyed_hashes_and_accepted_once(engine):
    with write_session(engine) as session:
        version = save_questionnaire(session, load_default())
        build_city(session)
        round_id = create_round(session, "R1", "第一轮", version, DEFAULT_TARGETS).id
        tokens = accounts.create_invitations(session, "org", round_id, 5)
    with read_session(engine) as session:
        stored = set(session.scalars(select(Invitation.token_hash)))
    assert len(stored) == 5 and not stored & set(tokens)
    assert all(len(h) == 64 for h in stored)
    first, second = new_response_id(), new_response_id()
    with write_session(engine) as session:
        assert accounts.invitation_status(session, round_id, tokens[0]) == "unused"
        assert accounts.use_invitation(session, round_id, tokens[0], first)
        assert accounts.use_invitation(session, round_id, tokens[0], first)  # the same response again: fine
        assert not accounts.use_invitation(session, round_id, tokens[0], second)  # anyone else: refused
        assert accounts.invitation_status(session, round_id, tokens[0]) == "used"
        assert accounts.invitation_status(session, round_id, "forged-token-xyz") == "unknown"
        assert accounts.invitation_status(session, round_id + 1, tokens[1]) == "unknown"


def test_keyed_hash_depends_on_the_secret(monkeypatch):
    monkeypatch.setenv("SURVEY_SECRET_KEY", "one secret")
    first = accounts.keyed_hash("138 0013 8000")
    assert first == accounts.keyed_hash("13800138000")  # spacing does not matter
    monkeypatch.setenv("SURVEY_SECRET_KEY", "another secret")
    assert accounts.keyed_hash("13800138000") != first

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


@pytest.fixture(autouse=True)
def cheap_argon2(monkeypatch):
    """argon2 with its smallest cost: the rules under test do not depend on the cost, and the
    library's recommended cost takes seconds per hash on a busy 2-core machine.  The dummy hash is
    remade with the same cost, as in production (test_the_dummy_hash_costs_what_a_real_one_costs)."""
    from argon2 import PasswordHasher

    monkeypatch.setattr(accounts, "_HASHER", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    accounts._dummy_hash.cache_clear()
    yield
    accounts._dummy_hash.cache_clear()


def test_the_dummy_hash_costs_what_a_real_one_costs(monkeypatch):
    """An unknown name is verified against the dummy hash; with other argon2 parameters its time
    would tell unknown names from known ones."""
    from argon2 import PasswordHasher, extract_parameters

    monkeypatch.setattr(accounts, "_HASHER", PasswordHasher())  # the production parameters
    accounts._dummy_hash.cache_clear()
    real = accounts._HASHER.hash(PASSWORD)
    assert extract_parameters(accounts._dummy_hash()) == extract_parameters(real)


def make_user(engine, username="ana", role="analyst", area_id=None):
    with write_session(engine) as session:
        return accounts.identity(accounts.create_user(session, "root", username, PASSWORD, role, area_id=area_id))


def login(engine, username, password, now=None, *, source="192.0.2.10", device=None):
    with write_session(engine) as session:
        return accounts.authenticate(session, username, password, now, source=source, device=device)


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


def test_repeated_failures_slow_the_name_down_with_growing_waits(engine):
    make_user(engine)
    now = datetime(2026, 5, 1, 9, 0)
    free = accounts.NAME_FREE_FAILURES
    outcomes = [login(engine, "ana", f"wrong password {k}", now, source=f"10.0.0.{k}") for k in range(free + 1)]
    assert [o.refused for o in outcomes[:free]] == ["bad_credentials"] * free
    assert (outcomes[free].refused, outcomes[free].wait_seconds) == ("throttled", 30)
    # While waiting even the right password is refused (from a browser that never logged in as ana) ...
    assert login(engine, "ana", PASSWORD, now + timedelta(seconds=10), source="10.0.1.1").refused == "throttled"
    # ... each failure after a wait doubles the next wait, up to 15 minutes ...
    waits, moment = [], now + timedelta(seconds=31)
    for k in range(6):
        waits.append(login(engine, "ana", "wrong again 1", moment, source=f"10.0.2.{k}").wait_seconds)
        moment += timedelta(seconds=waits[-1] + 1)
    assert waits == [60, 120, 240, 480, 900, 900]
    # ... and once the wait is over the right password works and clears the name's failures.
    assert login(engine, "ana", PASSWORD, moment, source="10.0.3.1").staff is not None
    assert login(engine, "ana", "wrong again 2", moment, source="10.0.3.2").refused == "bad_credentials"


def test_unknown_names_get_the_same_answers_and_the_same_argon2_work(engine, monkeypatch):
    """Enumeration: step by step, a known and an unknown name get the same outcome and wait, and
    both pay one argon2 verification per checked attempt."""
    make_user(engine)
    verified = []
    real_verify = accounts._verify  # counted, and still run: the timing comes from the real argon2
    monkeypatch.setattr(accounts, "_verify", lambda *args: verified.append(1) or real_verify(*args))
    now = datetime(2026, 5, 1, 9, 0)

    def attempts(name):
        verified.clear()
        outcomes = [login(engine, name, f"wrong password {k}", now + timedelta(seconds=k), source=f"{name}-{k}")
                    for k in range(accounts.NAME_FREE_FAILURES + 3)]
        return [(o.refused, o.wait_seconds) for o in outcomes], len(verified)

    known, unknown = attempts("ana"), attempts("nobody_here")
    assert known == unknown
    assert known[1] == accounts.NAME_FREE_FAILURES + 1  # attempts refused while waiting cost no argon2


def test_a_stranger_cannot_keep_the_admin_out(engine):
    """A stranger hammering the admin's name waits longer and longer, from their own address and on
    that name, but the admin's own browser (its device cookie) still gets in with the password."""
    boss = make_user(engine, "boss", "admin")
    now = datetime(2026, 5, 1, 9, 0)
    device = accounts.device_cookie(boss.id, now - timedelta(days=3))  # set by an earlier login
    for k in range(40):
        outcome = login(engine, "boss", f"guess number {k}", now + timedelta(seconds=k), source="203.0.113.9")
    assert outcome.refused == "throttled" and outcome.wait_seconds > 0
    later = now + timedelta(minutes=1)
    assert login(engine, "boss", PASSWORD, later, source="203.0.113.9").refused == "throttled"  # their source
    assert login(engine, "boss", PASSWORD, later, source="198.51.100.7").refused == "throttled"  # a new browser
    assert login(engine, "boss", PASSWORD, later, source="198.51.100.7", device=device).staff is not None
    # A forged or someone else's device cookie is worth nothing.
    forged = device[:-1] + ("0" if device[-1] != "0" else "1")
    other = accounts.device_cookie(boss.id + 1, now)
    for value in (forged, other, "1.2.3", "", None):
        assert not accounts.device_is_trusted(value, boss.id, later)


def test_one_source_is_slowed_down_whatever_the_names(engine):
    make_user(engine)
    now = datetime(2026, 5, 1, 9, 0)
    outcomes = [login(engine, f"name{k}", "whatever 123", now, source="192.0.2.1")
                for k in range(accounts.SOURCE_FREE_FAILURES + 1)]
    assert [o.refused for o in outcomes[:-1]] == ["bad_credentials"] * accounts.SOURCE_FREE_FAILURES
    assert outcomes[-1].refused == "throttled"
    assert login(engine, "ana", PASSWORD, now, source="192.0.2.1").refused == "throttled"
    assert login(engine, "ana", PASSWORD, now, source="192.0.2.2").staff is not None  # others are not


def _everything_stored(engine) -> str:
    from data.models import Base

    with engine.connect() as connection:
        return "\n".join(repr(row) for table in Base.metadata.sorted_tables
                         for row in connection.execute(table.select()))


def test_nothing_typed_into_the_login_is_stored_unless_it_is_an_existing_user_name(engine):
    make_user(engine)
    login(engine, "My-Secret-Pass 2026", "ana")  # a password typed into the user-name field
    login(engine, "ana", "Another Secret 77")
    for k in range(accounts.NAME_FREE_FAILURES + 2):  # and into the throttle's tables
        login(engine, "My-Secret-Pass 2026", f"x{k}", source="192.0.2.50")
    stored = _everything_stored(engine)
    assert "My-Secret-Pass" not in stored and "Another Secret" not in stored
    with read_session(engine) as session:
        failed = accounts.audit_events(session, action="login.failed")
    assert set(failed["actor"].dropna()) == {"ana"}
    assert sorted(set(failed["target"])) == ["", "ana"]


def test_session_token_reaches_the_cookie_once_and_is_stored_only_as_a_keyed_hash(engine):
    ana = make_user(engine)
    now = datetime(2026, 5, 1, 9, 0)
    idle = timedelta(minutes=30)
    with write_session(engine) as session:
        session_id, code = accounts.start_session(session, ana, now)
    with read_session(engine) as session:
        pending = accounts.check_session(session, idle, session_id=session_id, now=now)
    assert pending.staff == ana and pending.cookie_pending
    with write_session(engine) as session:
        token, user_id = accounts.claim_handoff(session, code, now + timedelta(seconds=5))
        assert accounts.claim_handoff(session, code, now + timedelta(seconds=6)) is None  # single use
    assert user_id == ana.id
    stored = _everything_stored(engine)
    assert token not in stored and code not in stored
    with read_session(engine) as session:  # a new tab: found by the cookie
        by_cookie = accounts.check_session(session, idle, token=token, now=now + timedelta(minutes=10))
        forged = accounts.check_session(session, idle, token=token[:-1] + ("y" if token[-1] == "x" else "x"), now=now)
    assert (by_cookie.staff, by_cookie.session_id, by_cookie.cookie_pending) == (ana, session_id, False)
    assert by_cookie.stale and forged.staff is None
    with write_session(engine) as session:
        accounts.touch_session(session, session_id, now + timedelta(minutes=10))
    with read_session(engine) as session:
        assert accounts.check_session(session, idle, token=token, now=now + timedelta(minutes=39)).staff == ana
        idle_out = accounts.check_session(session, idle, token=token, now=now + timedelta(minutes=41))
        too_old = accounts.check_session(session, timedelta(days=9), token=token, now=now + timedelta(hours=13))
    assert idle_out.staff is None and idle_out.expired and idle_out.ended
    assert too_old.staff is None and too_old.expired
    with write_session(engine) as session:
        accounts.end_session(session, token=token)
    with read_session(engine) as session:
        assert accounts.check_session(session, idle, token=token, now=now).staff is None


def test_a_stale_handoff_code_is_refused(engine):
    ana = make_user(engine)
    now = datetime(2026, 5, 1, 9, 0)
    with write_session(engine) as session:
        _, code = accounts.start_session(session, ana, now)
    with write_session(engine) as session:
        assert accounts.claim_handoff(session, code, now + accounts.HANDOFF_TIME + timedelta(seconds=1)) is None
        assert accounts.claim_handoff(session, "not a code at all, forged", now) is None


@pytest.mark.parametrize("change", [{"password": "a new password 9"}, {"role": "organiser"}, {"active": False},
                                    {"area_id": None}])
def test_password_role_or_account_changes_end_the_user_s_sessions(engine, change):
    make_user(engine, "boss", "admin")
    ana = make_user(engine)
    idle = timedelta(minutes=30)
    with write_session(engine) as session:
        first, _ = accounts.start_session(session, ana)
        second, _ = accounts.start_session(session, ana)
        boss_session, _ = accounts.start_session(session, accounts.identity(session.get(User, 1)))
    if change == {"area_id": None}:  # a scope change: give a scope first, then take it away
        with write_session(engine) as session:
            district = build_city(session)[0].parent.parent
            accounts.update_user(session, "boss", ana.id, area_id=district.id)
            first, _ = accounts.start_session(session, ana)
            second, _ = accounts.start_session(session, ana)
    with write_session(engine) as session:
        accounts.update_user(session, "boss", ana.id, keep_session=second if "password" in change else None, **change)
    with read_session(engine) as session:
        remaining = {sid for sid in (first, second)
                     if accounts.check_session(session, idle, session_id=sid).session_id is not None}
        assert accounts.check_session(session, idle, session_id=boss_session).staff is not None
    assert remaining == ({second} if "password" in change else set())


def test_two_simultaneous_first_admin_set_ups_make_one_admin(engine):
    """The first set-up holds its transaction open while the second one runs; without the lock both
    would see an empty user table and both would create an admin."""
    import threading
    import time

    first_inside, results = threading.Event(), {}

    def first():
        with write_session(engine) as session:
            results["first"] = accounts.create_first_admin(session, "chief_one", PASSWORD)
            first_inside.set()
            time.sleep(1.0)  # still uncommitted while the second set-up starts

    def second():
        first_inside.wait(10)
        with write_session(engine) as session:
            results["second"] = accounts.create_first_admin(session, "chief_two", PASSWORD)

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert results["first"] is not None and results["second"] is None
    with read_session(engine) as session:
        assert [u.username for u in accounts.list_users(session)] == ["chief_one"]


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

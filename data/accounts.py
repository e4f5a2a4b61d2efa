"""Staff accounts, the audit log and keyed hashes: the security half of the storage.

Like every storage module, every function takes the session first and leaves committing to the caller,
so an action and its audit record are written in the same transaction or not at all.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from functools import lru_cache
from datetime import datetime, timedelta
from pathlib import Path

import pandas as pd
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, select, text, update
from sqlalchemy.orm import Session

from data.models import ROLES, Area, AuditEvent, Invitation, LoginThrottle, StaffSession, User

_HASHER = PasswordHasher()  # argon2id with the library's current recommended parameters


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    """Verifying against this when the user does not exist makes a wrong name cost as much time as
    a wrong password, so response times do not reveal which user names exist.  Made on first use:
    hashing takes a tenth of a second that no process should pay at import."""
    return _HASHER.hash(secrets.token_urlsafe(16))

MIN_PASSWORD_LENGTH = 10
SECRET_FILE = Path(__file__).resolve().parent / "secret.key"

# Login throttling (see authenticate).  A source is a client address; a name bucket holds every
# typed user name whose keyed hash falls in it, known or not, so both are slowed by the same rule.
SOURCE_FREE_FAILURES = 10  # failed logins from one address before it must wait
NAME_FREE_FAILURES = 3  # failed logins on one user name before browsers it never logged in from wait
FIRST_WAIT = timedelta(seconds=30)  # then twice as long after each further failure …
MAX_WAIT = timedelta(minutes=15)  # … up to this
QUIET_RESET = timedelta(minutes=15)  # failures are forgotten after this long without one (or a wait)
NAME_BUCKET_HEX = 5  # 20 bits: a bucket index that cannot give back what was typed
DEVICE_DAYS = 90  # a browser that logged in as a user skips that name's throttle for this long
FIRST_ADMIN_LOCK = 727_000_001  # PostgreSQL advisory lock id serialising the first-admin set-up

# Staff sessions (see start_session).
SESSION_LIFETIME = timedelta(hours=12)  # a login ends after this, however active
HANDOFF_TIME = timedelta(minutes=2)  # the one-time code must reach the server within this
TOUCH_EVERY = timedelta(seconds=60)  # activity is written at most this often


@dataclass(frozen=True)
class LoginOutcome:
    """The result of a login attempt.  Not an exception: a refused attempt must still commit its
    audit record and failure counter."""

    staff: StaffIdentity | None
    refused: str | None = None  # "bad_credentials" | "throttled" | "inactive"
    wait_seconds: int = 0


@dataclass(frozen=True)
class StaffIdentity:
    """What the app keeps about the logged-in user (no password hash)."""

    id: int
    username: str
    display_name: str
    role: str
    area_id: int | None


def identity(user: User) -> StaffIdentity:
    return StaffIdentity(user.id, user.username, user.display_name or user.username, user.role, user.area_id)


# ------------------------------------------------------------------------------------- audit


def record(session: Session, actor: str | None, action: str, target: str = "", **detail) -> None:
    session.add(AuditEvent(at=datetime.now(), actor=actor, action=action, target=target[:200], detail=detail))


def audit_events(
    session: Session,
    *,
    actor: str | None = None,
    action: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 1000,
) -> pd.DataFrame:
    query = select(AuditEvent.at, AuditEvent.actor, AuditEvent.action, AuditEvent.target, AuditEvent.detail)
    if actor:
        query = query.where(AuditEvent.actor == actor)
    if action:
        query = query.where(AuditEvent.action.startswith(action))
    if since:
        query = query.where(AuditEvent.at >= since)
    if until:
        query = query.where(AuditEvent.at < until)
    rows = session.execute(query.order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(limit)).all()
    return pd.DataFrame(rows, columns=["at", "actor", "action", "target", "detail"])


def audit_actions(session: Session) -> list[str]:
    return list(session.scalars(select(AuditEvent.action).distinct().order_by(AuditEvent.action)))


# ----------------------------------------------------------------------------------- accounts


def password_problem(password: str, lang: str = "zh") -> str | None:
    if not isinstance(password, str) or len(password) < MIN_PASSWORD_LENGTH:
        return (f"Password needs at least {MIN_PASSWORD_LENGTH} characters" if lang == "en"
                else f"密码至少需要 {MIN_PASSWORD_LENGTH} 个字符")
    if password.isdigit() or password.isalpha():
        return ("Password must mix letters with digits or symbols" if lang == "en"
                else "密码需要同时包含字母和数字或符号")
    return None


def has_users(session: Session) -> bool:
    return session.scalar(select(User.id).limit(1)) is not None


def create_user(
    session: Session,
    actor: str | None,
    username: str,
    password: str,
    role: str,
    *,
    area_id: int | None = None,
    display_name: str = "",
) -> User:
    username = (username or "").strip()
    if not username or len(username) > 60:
        raise ValueError("用户名不能为空且不超过 60 个字符 / user name must be 1–60 characters")
    if role not in ROLES:
        raise ValueError(f"未知角色 {role!r} / unknown role")
    problem = password_problem(password)
    if problem:
        raise ValueError(problem)
    if session.scalar(select(User.id).where(func.lower(User.username) == username.lower())) is not None:
        raise ValueError(f"用户名 {username} 已存在 / user name already exists")
    _check_area(session, area_id)
    user = User(username=username, display_name=display_name, password_hash=_HASHER.hash(password), role=role,
                area_id=area_id, active=True, failed_logins=0, created_at=datetime.now())
    session.add(user)
    session.flush()
    record(session, actor, "user.create", username, role=role, area_id=area_id)
    return user


def update_user(
    session: Session,
    actor: str,
    user_id: int,
    *,
    role: str | None = None,
    area_id: int | None | str = "unchanged",
    active: bool | None = None,
    password: str | None = None,
    keep_session: int | None = None,
) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise LookupError(f"user {user_id} not found")
    changes: dict = {}
    if role is not None and role != user.role:
        if role not in ROLES:
            raise ValueError(f"未知角色 {role!r} / unknown role")
        changes["role"] = [user.role, role]
        user.role = role
    if area_id != "unchanged" and area_id != user.area_id:
        _check_area(session, area_id)
        changes["area_id"] = [user.area_id, area_id]
        user.area_id = area_id
    if active is not None and active != user.active:
        changes["active"] = [user.active, active]
        user.active = active
    if password is not None:
        problem = password_problem(password)
        if problem:
            raise ValueError(problem)
        user.password_hash = _HASHER.hash(password)
        user.failed_logins, user.locked_until = 0, None
        changes["password"] = "changed"
    if user.role != "admin" or not user.active:
        _keep_an_admin(session, user)
    if changes:
        # A changed password, role, scope or a disabled account ends the user's open sessions in
        # every browser (but the one making the change, when users change themselves).
        ended = revoke_sessions(session, user.id, keep=keep_session)
        record(session, actor, "user.update", user.username, **changes, **({"sessions_ended": ended} if ended else {}))
    return user


def _keep_an_admin(session: Session, changed: User) -> None:
    session.flush()
    admins = session.scalar(select(func.count()).select_from(User).where(User.role == "admin", User.active.is_(True)))
    if not admins:
        raise ValueError("至少要保留一名启用的管理员 / at least one active admin must remain")


def _check_area(session: Session, area_id: int | None) -> None:
    if area_id is not None and session.get(Area, area_id) is None:
        raise ValueError(f"区域 {area_id} 不存在 / unknown area")


def list_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.username)))


def authenticate(
    session: Session,
    username: str,
    password: str,
    now: datetime | None = None,
    *,
    source: str = "unknown",
    device: str | None = None,
) -> LoginOutcome:
    """Check a login; every outcome is audited.

    Nothing in the answer, its timing or the audit log tells a stranger whether a user name exists:
    an unknown name is verified against a dummy argon2 hash, refused with the same words, and
    throttled by the same rule; the audit log keeps a typed name only when it is an existing user's
    (a password typed into the name field is never stored).

    Throttling never locks anyone out for a stranger: a source (client address) that fails
    SOURCE_FREE_FAILURES times must wait 30 s, doubling up to 15 minutes, which hurts only that
    source; a user name that fails NAME_FREE_FAILURES times makes *other* browsers wait the same
    way, but a browser that has logged in as that user before (``device``, a signed cookie, OWASP's
    "device cookie") is let through, so the admin's own browser still opens with the right password.
    """
    now = now or datetime.now()
    name = (username or "").strip()[:60] if isinstance(username, str) else ""
    user = session.scalar(select(User).where(func.lower(User.username) == name.lower())) if name else None
    known = user.username if user is not None else None
    source_key, name_key = _source_key(source), _name_key(name)
    trusted = user is not None and device_is_trusted(device, user.id, now)
    wait = max(_waiting(session, source_key, now), 0 if trusted else _waiting(session, name_key, now))
    if wait:
        record(session, known, "login.throttled", known or "", source=source, wait_seconds=wait)
        return LoginOutcome(None, "throttled", wait)
    if not _verify(user.password_hash if user is not None else _dummy_hash(), password) or user is None:
        wait = max(_count_failure(session, source_key, SOURCE_FREE_FAILURES, now),
                   _count_failure(session, name_key, NAME_FREE_FAILURES, now))
        if trusted:  # its own browser is not made to wait for what strangers did to the name
            wait = _waiting(session, source_key, now)
        record(session, known, "login.failed", known or "",
               reason="bad password" if user is not None else "unknown user", source=source)
        return LoginOutcome(None, "throttled" if wait else "bad_credentials", wait)
    if not user.active:
        record(session, user.username, "login.failed", user.username, reason="inactive", source=source)
        return LoginOutcome(None, "inactive")
    if _HASHER.check_needs_rehash(user.password_hash):
        user.password_hash = _HASHER.hash(password)
    session.execute(delete(LoginThrottle).where(LoginThrottle.key == name_key))
    user.failed_logins, user.locked_until, user.last_login_at = 0, None, now
    record(session, user.username, "login", user.username, source=source)
    return LoginOutcome(identity(user))


def _source_key(source: str) -> str:
    return "source:" + keyed_hash(f"login-source|{source}")


def _name_key(name: str) -> str:
    return "name:" + keyed_hash(f"login-name|{name.lower()}")[:NAME_BUCKET_HEX]


def _waiting(session: Session, key: str, now: datetime) -> int:
    """Seconds this key must still wait (0: none)."""
    row = session.get(LoginThrottle, key)
    if row is None or row.blocked_until is None or row.blocked_until <= now:
        return 0
    return int((row.blocked_until - now).total_seconds()) + 1


def _count_failure(session: Session, key: str, free: int, now: datetime) -> int:
    """Add a failure to the key; the seconds it must now wait (0 while under ``free``)."""
    # Row-locked on PostgreSQL (SQLite writers take turns anyway), so racing failures all count.
    session.execute(_insert_ignoring_conflict(session, LoginThrottle, key=key, failures=0, last_failure_at=now))
    row = session.scalar(select(LoginThrottle).where(LoginThrottle.key == key).with_for_update())
    # Forgotten after QUIET_RESET without a failure, counted from the end of the last wait, so
    # that the longest wait does not itself bring the free attempts back.
    if now - max(row.last_failure_at, row.blocked_until or row.last_failure_at) > QUIET_RESET:
        row.failures, row.blocked_until = 0, None
    row.failures += 1
    row.last_failure_at = now
    if row.failures <= free:
        return 0
    wait = min(FIRST_WAIT * 2 ** (row.failures - free - 1), MAX_WAIT)
    row.blocked_until = now + wait
    # Forgotten rows go with the next failure: the table holds only the last day's.
    session.execute(delete(LoginThrottle).where(LoginThrottle.last_failure_at < now - timedelta(days=1),
                                                LoginThrottle.key != key))
    return int(wait.total_seconds())


def _insert_ignoring_conflict(session: Session, model, **values):
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(model).values(**values).on_conflict_do_nothing()


def device_cookie(user_id: int, now: datetime | None = None) -> str:
    """The value of the signed "this browser has logged in as this user" cookie (nothing stored)."""
    issued = int((now or datetime.now()).timestamp())
    return f"{user_id}.{issued}.{keyed_hash(f'device|{user_id}|{issued}')[:32]}"


def device_is_trusted(value: str | None, user_id: int, now: datetime | None = None) -> bool:
    if not isinstance(value, str) or value.count(".") != 2 or len(value) > 100:
        return False
    owner, issued, mac = value.split(".")
    if not (owner.isdigit() and issued.isdigit()) or int(owner) != user_id:
        return False
    age = (now or datetime.now()).timestamp() - int(issued)
    if not 0 <= age <= DEVICE_DAYS * 86400:
        return False
    return hmac.compare_digest(mac, keyed_hash(f"device|{user_id}|{issued}")[:32])


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _HASHER.verify(password_hash, password if isinstance(password, str) else "")
    except (VerificationError, InvalidHashError):
        return False


def still_allowed(session: Session, staff: StaffIdentity) -> StaffIdentity | None:
    """The current role and scope of a logged-in user, or None if the account was disabled: a
    change by the admin takes effect at the user's next click, not at their next login."""
    user = session.get(User, staff.id)
    return identity(user) if user is not None and user.active else None


def create_first_admin(session: Session, username: str, password: str) -> User | None:
    """The one-time set-up of the first admin; None if some account exists already.

    Two people racing through set-up make one admin: on PostgreSQL the check and the insert run
    under a transaction-scoped advisory lock, on SQLite a writing transaction holds the database's
    single write lock from its first statement (BEGIN IMMEDIATE, data/db.py)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:lock)"), {"lock": FIRST_ADMIN_LOCK})
    if has_users(session):
        return None
    return create_user(session, None, username, password, "admin")


# ------------------------------------------------------------------------------ staff sessions


@dataclass(frozen=True)
class SessionCheck:
    """What a staff session is worth at this moment (found without writing anything)."""

    staff: StaffIdentity | None
    session_id: int | None = None
    ended: bool = False  # found but over: idle, too old, or its account disabled; to be deleted
    expired: bool = False  # over by the idle limit or the lifetime (say so to the user)
    cookie_pending: bool = False  # its token has not reached the browser's cookie yet
    stale: bool = False  # activity not written for TOUCH_EVERY: touch_session


def start_session(session: Session, staff: StaffIdentity, now: datetime | None = None) -> tuple[int, str]:
    """A new login session and the one-time code that moves its token into the browser.

    The token itself is made only when the browser presents the code (claim_handoff), so it never
    travels through the page, where scripts could read it: the cookie can be HttpOnly.  Every login
    makes a new session (rotation), and ended ones are swept away here."""
    now = now or datetime.now()
    session.execute(delete(StaffSession).where(StaffSession.created_at < now - SESSION_LIFETIME))
    code = secrets.token_urlsafe(32)
    row = StaffSession(user_id=staff.id, token_hash=None, handoff_hash=keyed_hash(f"handoff|{code}"),
                       created_at=now, last_seen_at=now)
    session.add(row)
    session.flush()
    return row.id, code


def claim_handoff(session: Session, code: str, now: datetime | None = None) -> tuple[str, int] | None:
    """Exchange a one-time code for the session's token (made here) and the user's id; None for an
    unknown, used or stale code."""
    now = now or datetime.now()
    if not isinstance(code, str) or not 20 <= len(code) <= 100:
        return None
    row = session.scalar(select(StaffSession).where(StaffSession.handoff_hash == keyed_hash(f"handoff|{code}"))
                         .with_for_update())
    if row is None or now - row.created_at > HANDOFF_TIME:
        return None
    token = secrets.token_urlsafe(32)
    row.token_hash, row.handoff_hash = keyed_hash(f"session|{token}"), None
    return token, row.user_id


def check_session(
    session: Session,
    idle: timedelta,
    *,
    session_id: int | None = None,
    token: str | None = None,
    now: datetime | None = None,
) -> SessionCheck:
    """The user of a session, found by its id (this browser tab) or by its cookie token (a new
    tab, a refresh), with the account re-read, so a disabled account or a changed role takes effect
    at once.  Only reads: the caller ends what is ``ended`` and touches what is ``stale``, in a
    writing transaction taken only then (a click must not queue behind citizens' submissions)."""
    now = now or datetime.now()
    if session_id is not None:
        row = session.get(StaffSession, session_id)
    elif isinstance(token, str) and 20 <= len(token) <= 100:
        row = session.scalar(select(StaffSession).where(StaffSession.token_hash == keyed_hash(f"session|{token}")))
    else:
        return SessionCheck(None)
    if row is None:
        return SessionCheck(None)
    if now - row.last_seen_at > idle or now - row.created_at > SESSION_LIFETIME:
        return SessionCheck(None, row.id, ended=True, expired=True)
    user = session.get(User, row.user_id)
    if user is None or not user.active:
        return SessionCheck(None, row.id, ended=True)
    return SessionCheck(identity(user), row.id, cookie_pending=row.token_hash is None,
                        stale=now - row.last_seen_at >= TOUCH_EVERY)


def touch_session(session: Session, session_id: int, now: datetime | None = None) -> None:
    session.execute(update(StaffSession).where(StaffSession.id == session_id)
                    .values(last_seen_at=now or datetime.now()))


def end_session(session: Session, *, session_id: int | None = None, token: str | None = None) -> None:
    """Log out: the session's token opens nothing any more, in any tab."""
    if session_id is not None:
        session.execute(delete(StaffSession).where(StaffSession.id == session_id))
    if isinstance(token, str) and token:
        session.execute(delete(StaffSession).where(StaffSession.token_hash == keyed_hash(f"session|{token}")))


def revoke_sessions(session: Session, user_id: int, keep: int | None = None) -> int:
    """End every session of a user (but ``keep``); the number ended."""
    query = delete(StaffSession).where(StaffSession.user_id == user_id)
    if keep is not None:
        query = query.where(StaffSession.id != keep)
    return session.execute(query).rowcount


# ------------------------------------------------------------------------ keyed hashes, tokens


def secret_key() -> bytes:
    """The server's secret for keyed hashes: SURVEY_SECRET_KEY, else a random key kept in
    data/secret.key (created on first use, never committed).  Every app instance sharing one
    database must be given the same SURVEY_SECRET_KEY."""
    configured = os.environ.get("SURVEY_SECRET_KEY", "").strip()
    if configured:
        return configured.encode()
    if not SECRET_FILE.exists():
        _create_secret_file(SECRET_FILE)
    return SECRET_FILE.read_text().strip().encode()


def _create_secret_file(path: Path) -> None:
    """Created readable by its owner only from the first byte (never world-readable, not even for
    the moment before a chmod); of two processes starting at once, one creates it, both read it."""
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    with os.fdopen(descriptor, "w") as file:
        file.write(secrets.token_hex(32))


def keyed_hash(value: str) -> str:
    """HMAC-SHA256 of a token or phone number: enough to recognise it again, useless to read it."""
    normalised = "".join(str(value).split())
    return hmac.new(secret_key(), normalised.encode(), hashlib.sha256).hexdigest()


def create_invitations(session: Session, actor: str, round_id: int, count: int) -> list[str]:
    """New single-use tokens; the clear tokens are returned once (to print) and never stored."""
    if not 1 <= count <= 10_000:
        raise ValueError("一次可生成 1 到 10000 个邀请码 / 1 to 10,000 invitations at a time")
    tokens = [secrets.token_urlsafe(12) for _ in range(count)]
    now = datetime.now()
    session.add_all(Invitation(token_hash=keyed_hash(token), round_id=round_id, created_at=now) for token in tokens)
    record(session, actor, "invitation.create", f"round {round_id}", count=count)
    return tokens


def invitation_status(session: Session, round_id: int, token: str) -> str:
    """'unused', 'used' or 'unknown' (also for a token of another round)."""
    if not isinstance(token, str) or not 8 <= len(token) <= 64:
        return "unknown"
    invitation = session.get(Invitation, keyed_hash(token))
    if invitation is None or invitation.round_id != round_id:
        return "unknown"
    return "used" if invitation.used_at else "unused"


def use_invitation(session: Session, round_id: int, token: str, response_id: str) -> bool:
    """Mark the token used by this response, atomically: of two responses racing with one token,
    exactly one wins.  Reusing it for the same response (a double click) is fine."""
    if invitation_status(session, round_id, token) == "unknown":
        return False
    token_hash = keyed_hash(token)
    claimed = session.execute(
        update(Invitation)
        .where(Invitation.token_hash == token_hash, Invitation.used_at.is_(None))
        .values(used_at=datetime.now(), response_id=response_id)
    ).rowcount
    if claimed:
        return True
    return session.scalar(select(Invitation.response_id).where(Invitation.token_hash == token_hash)) == response_id

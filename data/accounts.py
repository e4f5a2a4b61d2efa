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
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from data.models import ROLES, Area, AuditEvent, Invitation, User

_HASHER = PasswordHasher()  # argon2id with the library's current recommended parameters


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    """Verifying against this when the user does not exist makes a wrong name cost as much time as
    a wrong password, so response times do not reveal which user names exist.  Made on first use:
    hashing takes a tenth of a second that no process should pay at import."""
    return _HASHER.hash(secrets.token_urlsafe(16))

MIN_PASSWORD_LENGTH = 10
FREE_FAILURES = 3  # failed logins before the account is slowed down
MAX_LOCK = timedelta(minutes=15)
SECRET_FILE = Path(__file__).resolve().parent / "secret.key"


@dataclass(frozen=True)
class LoginOutcome:
    """The result of a login attempt.  Not an exception: a refused attempt must still commit its
    audit record and failure counter."""

    staff: StaffIdentity | None
    refused: str | None = None  # "bad_credentials" | "locked" | "inactive"
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
        record(session, actor, "user.update", user.username, **changes)
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


def authenticate(session: Session, username: str, password: str, now: datetime | None = None) -> LoginOutcome:
    """Check a login; every outcome is audited.  After FREE_FAILURES wrong passwords in a row the
    account waits 30 s, then twice as long after each further failure (at most 15 minutes)."""
    now = now or datetime.now()
    name = (username or "").strip()[:60]
    user = session.scalar(select(User).where(func.lower(User.username) == name.lower())) if name else None
    if user is None:
        _verify(_dummy_hash(), password)
        record(session, name or None, "login.failed", name, reason="unknown user")
        return LoginOutcome(None, "bad_credentials")
    if user.locked_until and user.locked_until > now:
        wait = int((user.locked_until - now).total_seconds()) + 1
        record(session, user.username, "login.failed", user.username, reason="locked", wait_seconds=wait)
        return LoginOutcome(None, "locked", wait)
    if not _verify(user.password_hash, password):
        user.failed_logins += 1
        wait = 0
        if user.failed_logins > FREE_FAILURES:
            wait = int(min(timedelta(seconds=30 * 2 ** (user.failed_logins - FREE_FAILURES - 1)), MAX_LOCK)
                       .total_seconds())
            user.locked_until = now + timedelta(seconds=wait)
        record(session, user.username, "login.failed", user.username, reason="bad password",
               failures=user.failed_logins)
        return LoginOutcome(None, "locked" if wait else "bad_credentials", wait)
    if not user.active:
        record(session, user.username, "login.failed", user.username, reason="inactive")
        return LoginOutcome(None, "inactive")
    if _HASHER.check_needs_rehash(user.password_hash):
        user.password_hash = _HASHER.hash(password)
    user.failed_logins, user.locked_until, user.last_login_at = 0, None, now
    record(session, user.username, "login", user.username)
    return LoginOutcome(identity(user))


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


# ------------------------------------------------------------------------ keyed hashes, tokens


def secret_key() -> bytes:
    """The server's secret for keyed hashes: SURVEY_SECRET_KEY, else a random key kept in
    data/secret.key (created on first use, never committed).  Every app instance sharing one
    database must be given the same SURVEY_SECRET_KEY."""
    configured = os.environ.get("SURVEY_SECRET_KEY", "").strip()
    if configured:
        return configured.encode()
    if not SECRET_FILE.exists():
        SECRET_FILE.write_text(secrets.token_hex(32))
        SECRET_FILE.chmod(0o600)
    return SECRET_FILE.read_text().strip().encode()


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
    from sqlalchemy import update

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

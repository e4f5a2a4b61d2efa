"""The database schema, as typed SQLAlchemy 2.0 models.

Responses keep their answers as one JSON document (hidden questions are simply absent), and every
submission adds its contribution to ``Tally`` rows in the same transaction.  The dashboard reads the
tally (a few thousand rows per round) instead of the responses (up to millions), so its numbers cost
the same whether a round holds a thousand or a million responses, and they always describe exactly
the set of responses committed so far.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from questionnaires.model import (DEMOGRAPHIC_CODE_LENGTH, QUESTION_CODE_LENGTH, QUESTIONNAIRE_CODE_LENGTH,
                                  QUESTIONNAIRE_TITLE_LENGTH)

USERNAME_LENGTH = 60  # app_user.username, and response.interviewer, which records an interviewer's user name

# Named constraints let Alembic alter them on SQLite (batch mode) as well as on PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Area(Base):
    """A node of the area tree: district (区/县) → street (街道/乡镇) → community (社区/村)."""

    __tablename__ = "area"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name_zh: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100), default="")
    level: Mapped[str] = mapped_column(String(12))  # district | street | community
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("area.id"), index=True)
    # Ancestors are stored on the row so that rolling a community up to its street or district
    # needs no recursive query.
    street_id: Mapped[int | None] = mapped_column(Integer)
    district_id: Mapped[int | None] = mapped_column(Integer)

    parent: Mapped[Area | None] = relationship(remote_side=[id])


class QuestionnaireVersion(Base):
    """One exact version of a questionnaire; a response always points at the version it answered."""

    __tablename__ = "questionnaire_version"
    __table_args__ = (UniqueConstraint("code", "version", name="uq_questionnaire_version_code_version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(QUESTIONNAIRE_CODE_LENGTH))
    version: Mapped[int] = mapped_column(Integer)
    title_zh: Mapped[str] = mapped_column(String(QUESTIONNAIRE_TITLE_LENGTH))
    definition: Mapped[dict] = mapped_column(JSON)
    content_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime)


class SurveyRound(Base):
    """A survey round (e.g. 第一轮模拟测评) with its questionnaire version, window and targets."""

    __tablename__ = "survey_round"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name_zh: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100), default="")
    questionnaire_id: Mapped[int] = mapped_column(ForeignKey("questionnaire_version.id"))
    status: Mapped[str] = mapped_column(String(12), default="draft")  # draft | open | closed
    opens_at: Mapped[datetime | None] = mapped_column(DateTime)
    closes_at: Mapped[datetime | None] = mapped_column(DateTime)
    # indicator -> target rate (e.g. {"awareness": 0.95, "satisfaction": 0.99}); None = no target.
    # Targets and quotas are the round's own copy and are frozen once the round opens, so an old
    # round's report never changes.
    targets: Mapped[dict] = mapped_column(JSON, default=dict)
    # {"districts": {district code: completes}, "cells": {"CODE|age_group|sex": completes}}
    quotas: Mapped[dict] = mapped_column(JSON, default=dict)
    # The verdict rule (analysis.rates.VerdictRule), frozen with the targets when the round opens, so
    # a verdict never depends on who looked.  One-sided 95 % Clopper-Pearson is the planner's rule.
    verdict_method: Mapped[str] = mapped_column(String(20), default="clopper-pearson")
    verdict_confidence: Mapped[float] = mapped_column(Float, default=0.95)
    verdict_sided: Mapped[str] = mapped_column(String(4), default="one")
    requires_invitation: Mapped[bool] = mapped_column(Boolean, default=False)
    # Interviews the official evaluation is expected to hold in the whole city: the sample whose
    # chance of reaching each target (达标概率) the dashboard forecasts.
    official_sample_size: Mapped[int] = mapped_column(Integer, default=600, server_default="600")
    # Raised in the same transaction as every change to the round's tallies, so a reader can tell
    # from one small row whether the numbers it computed before are still exactly current.
    tally_version: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime)

    questionnaire: Mapped[QuestionnaireVersion] = relationship()


class Response(Base):
    """One completed questionnaire.  The id is made by the client when the form opens, so a
    double click or a resubmit of the same form can never store it twice."""

    __tablename__ = "response"
    __table_args__ = (
        Index("ix_response_round_community", "round_id", "community_id"),
        Index("ix_response_round_submitted", "round_id", "submitted_at"),
        # The dashboard counts a round's excluded responses on every refresh: without this index that
        # count reads the whole round (seconds at a million responses).
        Index("ix_response_round_status", "round_id", "status"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("survey_round.id"))
    questionnaire_id: Mapped[int] = mapped_column(ForeignKey("questionnaire_version.id"))
    community_id: Mapped[int] = mapped_column(ForeignKey("area.id"))
    channel: Mapped[str] = mapped_column(String(12))  # self | interview | paper | import
    interviewer: Mapped[str | None] = mapped_column(String(USERNAME_LENGTH))
    started_at: Mapped[datetime | None] = mapped_column(DateTime)
    submitted_at: Mapped[datetime] = mapped_column(DateTime)
    eligible: Mapped[bool] = mapped_column(Boolean, default=True)
    age_group: Mapped[str | None] = mapped_column(String(DEMOGRAPHIC_CODE_LENGTH))
    sex: Mapped[str | None] = mapped_column(String(DEMOGRAPHIC_CODE_LENGTH))
    # included responses count in every rate; excluded ones are kept, never deleted.
    status: Mapped[str] = mapped_column(String(12), default="included")
    exclusion_reason: Mapped[str | None] = mapped_column(String(200))
    answers: Mapped[dict] = mapped_column(JSON)
    # The per-item outcome at submit time: {item: 1 | 0 | null}; what the tally was built from.
    scores: Mapped[dict] = mapped_column(JSON)


class TallySums:
    """The six sums kept per tally row (see Tally)."""

    respondents: Mapped[int] = mapped_column(Integer, default=0)
    valid: Mapped[int] = mapped_column(Integer, default=0)
    positive: Mapped[int] = mapped_column(Integer, default=0)
    valid_sq: Mapped[int] = mapped_column(BigInteger, default=0)
    positive_sq: Mapped[int] = mapped_column(BigInteger, default=0)
    valid_positive: Mapped[int] = mapped_column(BigInteger, default=0)


class Tally(TallySums, Base):
    """Per round × community × indicator × item sums over included, eligible responses.

    ``item`` is '' for the indicator's pooled row.  For a respondent i with x_i valid answers and
    y_i positive answers to the indicator's items the pooled row keeps n, Σx, Σy, Σx², Σy², Σxy,
    which is all the ratio estimator's variance needs (respondent as the unit).
    """

    __tablename__ = "tally"

    round_id: Mapped[int] = mapped_column(ForeignKey("survey_round.id"), primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("area.id"), primary_key=True)
    indicator: Mapped[str] = mapped_column(String(20), primary_key=True)
    item: Mapped[str] = mapped_column(String(QUESTION_CODE_LENGTH), primary_key=True)


class CellTally(TallySums, Base):
    """The same sums as ``Tally`` per round × district × age group × sex: what weighting to the
    district's population and the breakdowns by age and sex are computed from."""

    __tablename__ = "cell_tally"

    round_id: Mapped[int] = mapped_column(ForeignKey("survey_round.id"), primary_key=True)
    district_id: Mapped[int] = mapped_column(ForeignKey("area.id"), primary_key=True)
    age_group: Mapped[str] = mapped_column(String(DEMOGRAPHIC_CODE_LENGTH), primary_key=True)  # '' when unknown
    sex: Mapped[str] = mapped_column(String(DEMOGRAPHIC_CODE_LENGTH), primary_key=True)
    indicator: Mapped[str] = mapped_column(String(20), primary_key=True)
    item: Mapped[str] = mapped_column(String(QUESTION_CODE_LENGTH), primary_key=True)


class Population(Base):
    """An area's known population by age group and sex, for weighting."""

    __tablename__ = "population"

    area_id: Mapped[int] = mapped_column(ForeignKey("area.id"), primary_key=True)
    age_group: Mapped[str] = mapped_column(String(DEMOGRAPHIC_CODE_LENGTH), primary_key=True)
    sex: Mapped[str] = mapped_column(String(DEMOGRAPHIC_CODE_LENGTH), primary_key=True)
    population: Mapped[int] = mapped_column(BigInteger)


TALLY_SUMS = ("respondents", "valid", "positive", "valid_sq", "positive_sq", "valid_positive")


ROLES = ("admin", "organiser", "analyst", "interviewer")


class User(Base):
    """A staff member.  Citizens never have an account: they stay anonymous."""

    __tablename__ = "app_user"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(USERNAME_LENGTH), unique=True)
    display_name: Mapped[str] = mapped_column(String(100), default="")
    password_hash: Mapped[str] = mapped_column(String(200))  # argon2id, never the password
    role: Mapped[str] = mapped_column(String(12))
    # None: the whole city; else this area and everything under it.
    area_id: Mapped[int | None] = mapped_column(ForeignKey("area.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime)


class StaffSession(Base):
    """A staff member's login, shared by the tabs of one browser through a cookie.

    Only a keyed hash of the cookie's token is stored (as for invitations): a copy of the database
    opens no session.  ``handoff_hash`` is the one-time code that moves a fresh token into the
    browser's HttpOnly cookie (ui/session_routes.py); it is cleared when used."""

    __tablename__ = "staff_session"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), index=True)
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    handoff_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    last_seen_at: Mapped[datetime] = mapped_column(DateTime)


class LoginThrottle(Base):
    """Recent failed logins of one source (client address) or one user-name bucket.

    The key is a keyed hash: of the address, or of the typed name cut to 20 bits, so a password
    typed into the user-name field is never stored in a form that gives it back, while known and
    unknown names are throttled by the same rule."""

    __tablename__ = "login_throttle"

    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_failure_at: Mapped[datetime] = mapped_column(DateTime)
    blocked_until: Mapped[datetime | None] = mapped_column(DateTime)


class AuditEvent(Base):
    """Who did what, when: logins, user and round changes, imports, exports, exclusions."""

    __tablename__ = "audit_event"
    __table_args__ = (Index("ix_audit_event_at", "at"), Index("ix_audit_event_action", "action"))

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime)
    actor: Mapped[str | None] = mapped_column(String(60))
    action: Mapped[str] = mapped_column(String(40))
    target: Mapped[str] = mapped_column(String(200), default="")
    detail: Mapped[dict] = mapped_column(JSON, default=dict)


class Invitation(Base):
    """A single-use invitation for a round.  Only a keyed hash of the token is stored, so a copy
    of the database does not reveal a single usable token."""

    __tablename__ = "invitation"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("survey_round.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    used_at: Mapped[datetime | None] = mapped_column(DateTime)
    response_id: Mapped[str | None] = mapped_column(String(36))

"""The only way the rest of the app touches the database.

Every function takes the session first and never opens, commits or rolls back one itself: the
caller decides what one unit of work is (`data.db.write_session` / `data.db.read_session`).
"""

from __future__ import annotations

import gc
import uuid
from collections import abc, defaultdict
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache, wraps
from itertools import repeat
from operator import attrgetter, itemgetter
from typing import Callable, Iterable, Mapping

import numpy as np
import pandas as pd
from sqlalchemy import DateTime, bindparam, func, select, update
from sqlalchemy.dialects import sqlite
from sqlalchemy.orm import Session
from uuid6 import uuid7  # uuid.uuid7 arrives with Python 3.14

from analysis.rates import DEFAULT_RULE, VerdictRule
from data import accounts
from data.db import json_text
from data.models import TALLY_SUMS, Area, CellTally, QuestionnaireVersion, Response, SurveyRound, Tally
from data.scope import CITY, Scope, check_city_wide, check_communities, community_filter
from questionnaires import answers as _answers
from questionnaires import (
    Questionnaire,
    questionnaire_from_dict,
    validate_answers,
)

CHANNELS = ("self", "interview", "paper", "import")


class SubmissionRefused(ValueError):
    """A submission that must not be stored; ``messages`` maps a question code (or '_') to a
    message in the user's language."""

    def __init__(self, messages: Mapping[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in messages.items()))
        self.messages = dict(messages)


# ---------------------------------------------------------------------------------------- areas


def add_area(
    session: Session, code: str, name_zh: str, level: str, parent: Area | None = None, name_en: str = ""
) -> Area:
    if level not in ("district", "street", "community"):
        raise ValueError(f"unknown area level {level!r}")
    area = Area(code=code, name_zh=name_zh, name_en=name_en, level=level, parent=parent)
    session.add(area)
    session.flush()
    if level == "district":
        area.district_id = area.id
    elif level == "street":
        area.street_id, area.district_id = area.id, parent.id
    else:
        area.street_id, area.district_id = parent.id, parent.district_id
    return area


def areas_frame(session: Session) -> pd.DataFrame:
    """The whole area tree as a small frame (a city has ~1,100 areas)."""
    columns = ["id", "code", "name_zh", "name_en", "level", "parent_id", "street_id", "district_id"]
    rows = session.execute(select(*(getattr(Area, c) for c in columns)).order_by(Area.id)).all()
    return pd.DataFrame(rows, columns=columns)


def child_areas(session: Session, parent_id: int | None, level: str) -> list[Area]:
    query = select(Area).where(Area.level == level).order_by(Area.code)
    if parent_id is not None:
        query = query.where(Area.parent_id == parent_id)
    return list(session.scalars(query))


def community_by_code(session: Session, code: str) -> Area | None:
    """The community with this code, or None (also for codes of streets and districts)."""
    if not isinstance(code, str) or not code or len(code) > 40:
        return None
    return session.scalar(select(Area).where(Area.code == code, Area.level == "community"))


def area_by_id(session: Session, area_id: int) -> Area | None:
    return session.get(Area, area_id)


# ------------------------------------------------------------------------------ questionnaires


def save_questionnaire(session: Session, questionnaire: Questionnaire) -> QuestionnaireVersion:
    """Store a questionnaire version once; saving the identical version again returns the stored row.

    A different text under an existing code and version is refused: a version answered by
    respondents must never change under them.
    """
    stored = session.scalar(
        select(QuestionnaireVersion).where(
            QuestionnaireVersion.code == questionnaire.code,
            QuestionnaireVersion.version == questionnaire.version,
        )
    )
    digest = questionnaire.content_hash()
    if stored is not None:
        if stored.content_hash != digest:
            raise ValueError(
                f"问卷 {questionnaire.code} 第 {questionnaire.version} 版已存在且内容不同，请使用新的版本号 / "
                f"questionnaire {questionnaire.code} version {questionnaire.version} exists with different content"
            )
        return stored
    stored = QuestionnaireVersion(
        code=questionnaire.code,
        version=questionnaire.version,
        title_zh=questionnaire.title.get("zh", questionnaire.code),
        definition=questionnaire.to_dict(),
        content_hash=digest,
        created_at=datetime.now(),
    )
    session.add(stored)
    session.flush()
    return stored


def load_questionnaire_version(session: Session, version_id: int) -> Questionnaire:
    row = session.get(QuestionnaireVersion, version_id)
    if row is None:
        raise LookupError(f"questionnaire version {version_id} not found")
    return questionnaire_from_dict(row.definition)


# -------------------------------------------------------------------------------------- rounds


def create_round(
    session: Session,
    code: str,
    name_zh: str,
    questionnaire: QuestionnaireVersion,
    targets: Mapping[str, float | None],
    *,
    name_en: str = "",
    status: str = "open",
    opens_at: datetime | None = None,
    closes_at: datetime | None = None,
    quotas: Mapping | None = None,
    requires_invitation: bool = False,
    official_sample_size: int = 600,
    rule: VerdictRule = DEFAULT_RULE,
    scope: Scope = CITY,
) -> SurveyRound:
    check_city_wide(scope, "新建轮次", "creating a round")
    for value, column, zh in ((code, SurveyRound.code, "轮次编号"), (name_zh, SurveyRound.name_zh, "轮次名称"),
                              (name_en, SurveyRound.name_en, "英文名称")):
        limit = column.type.length
        if not isinstance(value, str) or len(value) > limit:
            raise ValueError(f"{zh}最多 {limit} 个字符 / {column.key} has at most {limit} characters")
    _check_round_settings(targets, quotas or {}, opens_at, closes_at)
    _check_official_sample_size(official_sample_size)
    if round_by_code(session, code) is not None:
        raise ValueError(f"轮次编号 {code} 已存在 / round code {code} already exists")
    survey_round = SurveyRound(
        code=code,
        name_zh=name_zh,
        name_en=name_en,
        questionnaire=questionnaire,
        status=status,
        opens_at=opens_at,
        closes_at=closes_at,
        targets=dict(targets),
        quotas=dict(quotas or {}),
        requires_invitation=requires_invitation,
        official_sample_size=int(official_sample_size),
        verdict_method=rule.method,
        verdict_confidence=rule.confidence,
        verdict_sided=rule.sided,
        created_at=datetime.now(),
    )
    session.add(survey_round)
    session.flush()
    return survey_round


def _check_round_settings(targets: Mapping, quotas: Mapping, opens_at, closes_at) -> None:
    for indicator, target in targets.items():
        if target is not None and not 0 < float(target) <= 1:
            raise ValueError(f"{indicator} 的目标须在 0 到 1 之间 / target for {indicator} must be a rate in (0, 1], got {target!r}")
    for kind in ("districts", "cells"):
        for key, value in (quotas.get(kind) or {}).items():
            if not isinstance(value, int) or value < 0:
                raise ValueError(f"配额 {key} 须为非负整数 / quota {key} must be a whole number ≥ 0")
    if opens_at and closes_at and closes_at <= opens_at:
        raise ValueError("结束时间须晚于开始时间 / the round must close after it opens")


def _check_official_sample_size(size) -> None:
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or not 1 <= size <= 1_000_000:
        raise ValueError(f"正式测评样本量须为 1 到 1,000,000 之间的整数 / the official sample size must be a whole "
                         f"number from 1 to 1,000,000, got {size!r}")


ROUND_TRANSITIONS = {"draft": ("open",), "open": ("closed",), "closed": ()}


def change_round_status(session: Session, actor: str | None, survey_round: SurveyRound, status: str, *,
                        scope: Scope) -> None:
    """draft → open → closed; a closed round never reopens, so its report never changes."""
    check_city_wide(scope, "开放或结束轮次", "opening or closing a round")
    if status not in ROUND_TRANSITIONS.get(survey_round.status, ()):
        raise ValueError(f"轮次不能从 {survey_round.status} 变为 {status} / a round cannot go from "
                         f"{survey_round.status} to {status}")
    previous, survey_round.status = survey_round.status, status
    if status == "closed" and (survey_round.closes_at is None or survey_round.closes_at > datetime.now()):
        survey_round.closes_at = datetime.now()
    accounts.record(session, actor, "round.status", survey_round.code, before=previous, after=status)


def update_round_settings(
    session: Session, actor: str | None, survey_round: SurveyRound, *, targets: Mapping | None = None,
    quotas: Mapping | None = None, opens_at: datetime | None = None, closes_at: datetime | None = None,
    requires_invitation: bool | None = None, official_sample_size: int | None = None,
    rule: VerdictRule | None = None, scope: Scope,
) -> None:
    """Change a draft round.  Once opened, targets, quotas and the verdict rule are frozen: they are
    what every report of the round is judged against.  Only the closing time of an open round may
    still move."""
    check_city_wide(scope, "修改轮次设置", "changing a round's settings")
    frozen = survey_round.status != "draft"
    if frozen and (targets is not None or quotas is not None or opens_at is not None or requires_invitation is not None
                   or official_sample_size is not None or rule is not None):
        raise ValueError("轮次已开放，目标、配额和判定规则不能再修改 / the round is open: targets, quotas and the "
                         "verdict rule are frozen")
    if survey_round.status == "closed":
        raise ValueError("轮次已结束，不能修改 / the round is closed")
    _check_round_settings(targets or survey_round.targets, quotas or survey_round.quotas,
                          opens_at or survey_round.opens_at, closes_at or survey_round.closes_at)
    if official_sample_size is not None:
        _check_official_sample_size(official_sample_size)
    changes = {}
    for name, value in (("targets", targets), ("quotas", quotas), ("opens_at", opens_at),
                        ("closes_at", closes_at), ("requires_invitation", requires_invitation),
                        ("official_sample_size", official_sample_size)):
        if value is not None and value != getattr(survey_round, name):
            changes[name] = str(value)
            setattr(survey_round, name, dict(value) if isinstance(value, Mapping) else value)
    if rule is not None and rule != round_rule(survey_round):
        changes["rule"] = rule.describe("en")
        survey_round.verdict_method, survey_round.verdict_confidence = rule.method, rule.confidence
        survey_round.verdict_sided = rule.sided
    if changes:
        accounts.record(session, actor, "round.update", survey_round.code, **changes)


def round_rule(survey_round: SurveyRound) -> VerdictRule:
    """The round's verdict rule (method, confidence level, sidedness)."""
    return VerdictRule(survey_round.verdict_method or DEFAULT_RULE.method,
                       float(survey_round.verdict_confidence or DEFAULT_RULE.confidence),
                       survey_round.verdict_sided or DEFAULT_RULE.sided)


def list_rounds(session: Session) -> list[SurveyRound]:
    return list(session.scalars(select(SurveyRound).order_by(SurveyRound.created_at, SurveyRound.id)))


def round_by_code(session: Session, code: str) -> SurveyRound | None:
    if not isinstance(code, str) or not code or len(code) > 40:
        return None
    return session.scalar(select(SurveyRound).where(SurveyRound.code == code))


def accepts_responses(survey_round: SurveyRound, now: datetime) -> bool:
    return (
        survey_round.status == "open"
        and (survey_round.opens_at is None or survey_round.opens_at <= now)
        and (survey_round.closes_at is None or now <= survey_round.closes_at)
    )


def current_open_round(session: Session, now: datetime | None = None) -> SurveyRound | None:
    """The newest round accepting responses now (what a poster's QR code without a round means)."""
    now = now or datetime.now()
    for survey_round in reversed(list_rounds(session)):
        if accepts_responses(survey_round, now):
            return survey_round
    return None


# ----------------------------------------------------------------------------------- responses


@dataclass(frozen=True)
class SubmitResult:
    response_id: str
    stored: bool  # False: this id was stored before (a double click or a resubmit)
    eligible: bool


def new_response_id() -> str:
    """A new form's id: a time-ordered UUID (version 7, RFC 9562).  Ids made one after another sort
    one after another, so a new response lands at the end of the primary-key index instead of at a
    random place of it (at a million responses a random place is rarely in memory, and every
    insert then dirties another page).  Ids of other versions (older forms, paper forms) stay valid."""
    return str(uuid7())


def is_response_id(value: object) -> bool:
    try:
        return isinstance(value, str) and str(uuid.UUID(value)) == value
    except ValueError:
        return False


def response_exists(session: Session, response_id: str) -> bool:
    return is_response_id(response_id) and session.get(Response, response_id) is not None


def submit_response(session: Session, *, deferred_sums: DeferredSums | None = None, **arguments) -> SubmitResult:
    """Validate and store one response and add it to the tally, all in the caller's transaction.

    ``arguments`` are those of ``prepare_submission`` (response_id, survey_round, questionnaire,
    community_id, answers, channel, interviewer, started_at, submitted_at, lang, invitation_token).
    Storing the same response id twice is a no-op that reports ``stored=False``, so a double click,
    a refresh or a resubmit can never count a response twice.  Anything invalid raises
    ``SubmissionRefused`` before a single row is written.  The work is done in two steps, which
    ``data.submissions`` calls separately: ``prepare_submission`` (no database) and
    ``store_submission``.
    """
    return store_submission(session, prepare_submission(**arguments), deferred_sums)


@dataclass(frozen=True)
class PreparedSubmission:
    """A submission checked and scored without the database: what ``store_submission`` writes."""

    survey_round: SurveyRound
    community_id: object
    channel: str
    lang: str
    invitation_token: str | None
    problems: dict  # answers that prevent storing, by question code (raised by store_submission)
    row: dict  # the response row
    sums: dict  # tally increments by (indicator, item); empty when not eligible

    @property
    def response_id(self) -> str:
        return self.row["id"]


def prepare_submission(
    *,
    response_id: str,
    survey_round: SurveyRound,
    questionnaire: Questionnaire,
    community_id: int,
    answers: Mapping,
    channel: str = "self",
    interviewer: str | None = None,
    started_at: datetime | None = None,
    submitted_at: datetime | None = None,
    lang: str = "zh",
    invitation_token: str | None = None,
    scope: Scope = CITY,
) -> PreparedSubmission:
    """The checks that need no database (raising ``SubmissionRefused``), the answer rules and the
    tally increments.  Done by the submitter's own thread, before its turn to write: on SQLite the
    write lock is taken at the first statement, and in a group (``data.submissions``) this work
    overlaps with the leader's writing."""
    submitted_at = submitted_at or datetime.now()
    if not is_response_id(response_id):
        raise SubmissionRefused({"_": _msg(lang, "无效的问卷编号", "invalid response id")})
    if channel not in CHANNELS:
        raise SubmissionRefused({"_": _msg(lang, "无效的填报方式", "invalid channel")})
    if not accepts_responses(survey_round, submitted_at):
        raise SubmissionRefused({"_": _msg(lang, "本轮调查未开放或已结束", "this survey round is not open")})
    if _is_area_id(community_id) and not 0 < community_id < 2**31:  # a forged id such as 10**30
        raise _no_community(lang)  # (other forged values are refused where the community is looked up)
    unstorable = _unstorable_answers(answers, lang)
    if unstorable:
        raise SubmissionRefused(unstorable)
    if not scope.allows_community(community_id):  # an interviewer limited to an area interviews only there
        raise SubmissionRefused({"_": _msg(lang, "该社区不在您的数据范围内", "this community is outside your data scope")})
    problems, row = _rules_for(questionnaire).row(
        response_id, survey_round.id, survey_round.questionnaire_id, community_id, answers,
        channel, interviewer, started_at, submitted_at, lang,
    )
    sums = _contributions([row], questionnaire, _no_key)[0] if row["eligible"] and not problems else {}
    return PreparedSubmission(survey_round, community_id, channel, lang, invitation_token, problems, row, sums)


def store_submission(session: Session, prepared: PreparedSubmission,
                     deferred_sums: DeferredSums | None = None) -> SubmitResult:
    """Store a prepared submission in the caller's transaction (see ``submit_response``).

    With ``deferred_sums`` the tally increments are collected there instead, for the caller to
    write once for several submissions (``DeferredSums.write``) before its commit."""
    survey_round, row, lang = prepared.survey_round, prepared.row, prepared.lang
    response_id, community_id = row["id"], prepared.community_id
    district_id = _district_of_community(session, community_id)
    if district_id is None:
        raise _no_community(lang)
    if prepared.problems:
        raise SubmissionRefused(prepared.problems)
    if survey_round.requires_invitation and accounts.invitation_status(
        session, survey_round.id, prepared.invitation_token or ""
    ) == "unknown":
        raise SubmissionRefused({"_": _msg(lang, "本轮调查需要有效的邀请码", "this round needs a valid invitation")})

    # Checks that must not run again for a resubmit (the quota now counts this very response, the
    # invitation is now used by it): answer as the first time did.  Otherwise the insert itself
    # tells a resubmit apart.
    needs_first_time_check = prepared.channel == "interview" or survey_round.requires_invitation
    if needs_first_time_check and session.get(Response, response_id) is not None:
        return SubmitResult(response_id, stored=False, eligible=row["eligible"])
    if prepared.channel == "interview" and row["eligible"] and quota_cell_full(
        session, survey_round, community_id, row["age_group"], row["sex"]
    ):
        raise SubmissionRefused({"_": _msg(lang, "该配额单元已满，本次访问不计入", "this quota cell is full")})
    if not _insert_response_if_new(session, row):
        return SubmitResult(response_id, stored=False, eligible=row["eligible"])
    if survey_round.requires_invitation and not accounts.use_invitation(
        session, survey_round.id, prepared.invitation_token, response_id
    ):
        # The insert above is rolled back with the caller's transaction.
        raise SubmissionRefused({"_": _msg(lang, "该邀请码已经使用过", "this invitation was already used")})
    _count_in_tally(session, prepared, district_id, deferred_sums)
    return SubmitResult(response_id, stored=True, eligible=row["eligible"])


LARGEST_ANSWER_NUMBER = 10**15  # beyond any real answer, and exactly representable as a float


def _unstorable_answers(answers: object, lang: str) -> dict[str, str]:
    """Answers that no database column or JSON document can hold, whatever the question: a number
    such as 10**400, a string with a lone surrogate (not UTF-8).  A forged form gets a refusal
    naming the answer instead of an error from the driver."""
    if not isinstance(answers, Mapping):
        return {}
    problems = {}
    for key, value in answers.items():
        values = value if isinstance(value, (list, tuple)) else [value]
        if any(not _storable(v) for v in values):
            name = key if isinstance(key, str) and _storable(key) else "_"
            problems[name] = _msg(lang, "无法保存的答案（数值过大或含有无效字符）",
                                  "an answer that cannot be stored (a number too large or an invalid character)")
    return problems


def _storable(value: object) -> bool:
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return False
        return True
    if isinstance(value, int) and not isinstance(value, bool):
        return -LARGEST_ANSWER_NUMBER <= value <= LARGEST_ANSWER_NUMBER
    return True


def _is_area_id(value: object) -> bool:
    """An int, not a bool (True == 1) nor anything a forged form might send instead."""
    return type(value) is int


def _no_community(lang: str) -> SubmissionRefused:
    return SubmissionRefused({"_": _msg(lang, "请选择所在社区", "please choose your community")})


def _count_in_tally(session: Session, prepared: PreparedSubmission, district_id: int,
                    deferred_sums: DeferredSums | None) -> None:
    if not prepared.sums:
        return
    row = prepared.row
    cell = (district_id, row["age_group"] or "", row["sex"] or "")
    community_sums = {(prepared.community_id, *key): v for key, v in prepared.sums.items()}
    cell_sums = {(*cell, *key): v for key, v in prepared.sums.items()}
    if deferred_sums is None:
        _add_sums(session, prepared.survey_round.id, community_sums, cell_sums)
    else:
        deferred_sums.add(prepared.survey_round.id, community_sums, cell_sums)


def stores_together(prepared: PreparedSubmission) -> bool:
    """Whether ``store_submissions_together`` can store this one: a citizen's own form in a round
    without invitations (no quota to check, no invitation to use)."""
    return prepared.channel != "interview" and not prepared.survey_round.requires_invitation


def store_submissions_together(session: Session, group: list[PreparedSubmission], deferred_sums: DeferredSums
                               ) -> list[tuple[SubmitResult | None, SubmissionRefused | None]]:
    """``store_submission`` for each of a group (all ``stores_together``) in the caller's
    transaction, with three statements for the whole group instead of two per submission: one
    query for the communities' districts, one insert of every new response (PostgreSQL), and the
    tally.  Each keeps its own outcome: a result, or the refusal ``store_submission`` would raise.
    A response id twice in the group is stored once (the later one reports ``stored=False``)."""
    districts = _districts_of_communities(session, [p.community_id for p in group])
    outcomes: list = [None] * len(group)
    first_of: dict[str, int] = {}
    for i, prepared in enumerate(group):
        if not _is_area_id(prepared.community_id) or districts.get(prepared.community_id) is None:
            outcomes[i] = (None, _no_community(prepared.lang))
        elif prepared.problems:
            outcomes[i] = (None, SubmissionRefused(prepared.problems))
        else:
            first_of.setdefault(prepared.response_id, i)
    inserted = _insert_responses_if_new(session, [group[i].row for i in first_of.values()])
    for i, prepared in enumerate(group):
        if outcomes[i] is None:
            stored = first_of[prepared.response_id] == i and prepared.response_id in inserted
            if stored:
                _count_in_tally(session, prepared, districts[prepared.community_id], deferred_sums)
            outcomes[i] = (SubmitResult(prepared.response_id, stored=stored, eligible=prepared.row["eligible"]), None)
    return outcomes


def _districts_of_communities(session: Session, community_ids: list) -> dict[int, int]:
    """{community id: district id} for those of the ids that are communities' (forged values are not)."""
    wanted = sorted({c for c in community_ids if _is_area_id(c)})
    if not wanted:
        return {}
    if session.get_bind().dialect.name == "postgresql":  # on the driver's cursor: a group's first statement
        with _driver_cursor(session) as cursor:
            cursor.execute("SELECT id, district_id FROM area WHERE id = ANY(%s) AND level = 'community'", (wanted,))
            return {community: district for community, district in cursor.fetchall() if district is not None}
    query = select(_AREA.c.id, _AREA.c.district_id).where(_AREA.c.id.in_(wanted), _AREA.c.level == "community")
    return {community: district for community, district in session.execute(query) if district is not None}


def _insert_responses_if_new(session: Session, rows: list[dict]) -> set[str]:
    """Insert the rows whose id is not stored yet, in id order, with one statement; the ids inserted."""
    if not rows:
        return set()
    if session.get_bind().dialect.name != "postgresql":  # no round trips to save on SQLite
        return {row["id"] for row in rows if _insert_response_if_new(session, row)}
    rows = sorted(rows, key=lambda row: row["id"])
    # Datetimes arrive as ISO text, answers and scores as JSON.
    sql = _recordset_insert_sql(Response.__table__, tuple(rows[0]), "ON CONFLICT (id) DO NOTHING RETURNING id")
    with _driver_cursor(session) as cursor:
        cursor.execute(sql, (json_text(rows),))
        return {found[0] for found in cursor.fetchall()}


@lru_cache(maxsize=16)
def _recordset_insert_sql(table, columns: tuple[str, ...], on_conflict: str) -> str:
    """PostgreSQL: INSERT INTO table (columns) SELECT … FROM json_to_recordset(one JSON array of
    rows) …: many rows in one statement, one parameter, no per-row work on the server's side."""
    from sqlalchemy.dialects import postgresql

    dialect = postgresql.dialect()
    names = ", ".join(columns)
    types = ", ".join(f"{name} {table.c[name].type.compile(dialect=dialect)}" for name in columns)
    return (f"INSERT INTO {table.name} ({names}) SELECT {names} FROM json_to_recordset(%s::json) AS rows({types}) "
            f"{on_conflict}")


class DeferredSums:
    """Tally increments of several submissions in one transaction, written with one upsert per
    table: a group of 16 submissions touches the same ~30 indicator and item rows of a few
    communities, which would otherwise be upserted 16 times."""

    def __init__(self) -> None:
        self._by_round: dict[int, tuple[dict, dict]] = {}

    def add(self, round_id: int, community_sums: Mapping[tuple, list[int]],
            cell_sums: Mapping[tuple, list[int]]) -> None:
        totals = self._by_round.setdefault(round_id, ({}, {}))
        for target, sums in zip(totals, (community_sums, cell_sums)):
            for key, values in sums.items():
                known = target.get(key)
                target[key] = list(values) if known is None else [a + b for a, b in zip(known, values)]

    def write(self, session: Session) -> None:
        """Write what was collected, in the caller's transaction, and forget it."""
        for round_id, (community_sums, cell_sums) in sorted(self._by_round.items()):
            _add_sums(session, round_id, community_sums, cell_sums)
        self._by_round.clear()


def _district_of_community(session: Session, community_id: object) -> int | None:
    """The district of this community, or None when it is not a community's id (a forged value)."""
    if not _is_area_id(community_id):
        return None
    cursor = _driver_execute(session, _DISTRICT_OF_COMMUNITY, [{"community_id": community_id}])
    found = cursor.fetchone()
    cursor.close()
    return None if found is None else found[0]


_AREA = Area.__table__
_DISTRICT_OF_COMMUNITY = select(_AREA.c.district_id).where(
    _AREA.c.id == bindparam("community_id"), _AREA.c.level == "community"
)


def answer_problems(questionnaire: Questionnaire, answers: Mapping, lang: str = "zh") -> dict[str, str]:
    """Messages for every answer that prevents storing, by question code."""
    errors = validate_answers(questionnaire, answers, lang)
    if screened_out(questionnaire, answers):
        # Someone screened out stops after the screening questions; only those must be valid.
        screening = {q.code for q in questionnaire.questions if q.screening_eligible is not None}
        errors = {code: message for code, message in errors.items() if code in screening}
    return errors


def screened_out(questionnaire: Questionnaire, answers: Mapping) -> bool:
    """True once a screening question has an answer that makes the respondent ineligible."""
    return any(
        q.screening_eligible is not None and answers.get(q.code) is not None
        # A forged list is no eligible answer (and must not raise "unhashable type").
        and not (isinstance(answers.get(q.code), str) and answers.get(q.code) in q.screening_eligible)
        for q in questionnaire.questions
    )


def _msg(lang: str, zh: str, en: str) -> str:
    return en if lang == "en" else zh


# Fields of a value's facts (``_AnswerRules._facts``).
_SCORE, _PLAIN, _ANSWER_TEXT, _SCORE_TEXT, _KEPT = (itemgetter(i) for i in (3, 6, 7, 8, 9))
_FACT_CACHE_LIMIT = 512  # distinct answer values remembered per question (free text is never cached)


def _is_mapping(value: object) -> bool:
    # collections.abc, not typing.Mapping: isinstance against the typing alias costs microseconds.
    return type(value) is dict or isinstance(value, abc.Mapping)


def _value_key(value: object):
    """A dict key telling 1, 1.0 and True apart, or None for values not worth remembering."""
    kind = type(value)
    if kind is str or value is None or kind is int:
        return kind, value
    if kind is float and value == value:
        return float, repr(value)  # repr tells -0.0 from 0.0
    if kind is list and all(type(v) is str for v in value):
        return list, tuple(value)
    return None


class _AnswerRules:
    """The rules of ``questionnaires.answers`` for one questionnaire, applied in a single pass.

    ``answer_problems`` and the ``questionnaires`` functions that make a response row normalise the
    answers and walk the skip logic eight times per response (validate, clean, eligibility,
    demographics, scores); at a million imported
    responses that was ~0.4 ms each, most of the import.  Here one walk does it all, and what a
    question makes of an answer value (normalised value, problem, score, screening outcome) and
    what a skip condition makes of the values it refers to are computed once per distinct value:
    real answers are option codes and small numbers that repeat from one respondent to the next.
    The per-value work is done by the very helpers ``questionnaires.answers`` uses, and a
    differential test (tests/test_bench.py) checks that the results equal ``answer_problems`` and
    the row those functions give, on ordinary and forged answers.
    """

    def __init__(self, questionnaire: Questionnaire):
        self.questionnaire = questionnaire
        self.demographic = [
            (kind, q.code, frozenset(q.option_codes))
            for kind in ("age_group", "sex")
            if (q := questionnaire.demographic_question(kind)) is not None
        ]
        self.screening_codes = {q.code for q in questionnaire.questions if q.is_screening}
        # The cleaned answers ``columns`` keeps column by column: those the skip logic and the
        # respondent's demographics read.
        self.kept_codes = {code for q in questionnaire.questions if q.condition for code in q.condition.references()}
        self.kept_codes |= {code for _, code, _ in self.demographic}
        self._plans: dict[str, list] = {}

    def _plan(self, lang: str) -> list:
        plan = self._plans.get(lang)
        if plan is None:
            plan = self._plans[lang] = [
                (q, q.code, q.condition, tuple(q.condition.references()) if q.condition else (),
                 {_UNSEEN: _UNSEEN_FACTS, None: self._facts(q, None, lang)}, {},
                 q.required, q.is_screening, bool(q.indicator), q.type == "text")
                for q in self.questionnaire.questions
            ]
        return plan

    @staticmethod
    def _facts(question, value, lang: str) -> tuple:
        normalised = _answers._normalise(question, value)
        empty = _answers._is_empty(normalised)
        present = None if empty else normalised
        problem = None if empty else _answers._answer_problem(question, normalised, lang)
        fails = _answers._fails_screening(question, present)
        screening_ok = isinstance(present, str) and question.is_screening and present in question.screening_eligible
        score = _answers._score(question, present) if question.indicator else None
        return (
            normalised,
            empty,
            problem,
            score,
            fails,
            screening_ok,
            # "plain": the answer is simply kept (and scored); nothing else to do for it
            not empty and not problem and not fails and (screening_ok or not question.is_screening),
            # the pieces of the stored JSON objects: ',"code":value' ('' when not kept), ',"code":score'
            "" if empty else _json_piece(question.code, normalised),
            _json_piece(question.code, score) if question.indicator else "",
            present,  # the value among the cleaned answers, None when left out
        )

    def _lookup(self, question, value, cache: dict, free_text: bool, lang: str) -> tuple:
        """The facts of this answer value, remembered in ``cache`` when worth it."""
        kind = type(value)
        # An option code (a str) is its own key; other values get a typed key (never a str).
        # Free text is never remembered, but an unanswered text question is.
        if kind is str:
            key = None if free_text else value
        else:
            key = _value_key(value)
        if key is None:
            return self._facts(question, value, lang)  # free text, forged values
        facts = cache.get(key)
        if facts is None:
            facts = self._facts(question, value, lang)
            if len(cache) < _FACT_CACHE_LIMIT:
                cache[key] = facts
        if kind is list:  # each response gets its own list, as clean_answers gives it
            facts = (list(facts[0]), *facts[1:])
        return facts

    @staticmethod
    def _shown(condition, references, cleaned: dict, memo: dict) -> bool:
        # A question shown after one choice question (the usual skip) is remembered by that
        # answer itself: a str or None, never equal to the tuples of the general case.
        value = cleaned.get(references[0]) if len(references) == 1 else ()
        if value is None or type(value) is str:
            key = value
        else:
            key = tuple(_value_key(cleaned.get(code)) for code in references)
            if None in key:  # a value not worth remembering: ask the condition itself
                return condition.evaluate(cleaned)
        shown = memo.get(key)
        if shown is None:
            shown = condition.evaluate(cleaned)
            if len(memo) < _FACT_CACHE_LIMIT:
                memo[key] = shown
        return shown

    def apply(self, answers: object, lang: str = "zh") -> tuple[dict, dict, bool, dict]:
        """(problems as ``validate_answers``, cleaned answers, eligible, scores of visible items)."""
        lang = lang if lang in ("zh", "en") else "zh"
        get = answers.get if _is_mapping(answers) else {}.get
        cleaned: dict = {}  # also the "seen" answers the skip logic reads: visible, non-empty ones
        problems: dict = {}
        scores: dict = {}
        eligible = True
        for (question, code, condition, references, cache, memo, required, screening, indicator,
             free_text) in self._plan(lang):
            if condition is not None and not self._shown(condition, references, cleaned, memo):
                continue
            try:
                value = get(code)
            except Exception:  # a forged mapping whose get() misbehaves
                value = None
            normalised, empty, problem, score, fails, screening_ok, *_ = self._lookup(
                question, value, cache, free_text, lang)
            if empty:
                if required:
                    problems[code] = _answers._message("required", lang)
            else:
                cleaned[code] = normalised
                if problem:
                    problems[code] = problem
            if screening and not screening_ok:
                eligible = False
            if indicator:
                scores[code] = score
            if fails:
                break
        return problems, cleaned, eligible, scores

    def columns(self, many_answers: list, lang: str = "zh") -> AnswerColumns:
        """What ``apply`` and ``row`` make of many responses, made for all of them at once, question
        by question, and given column by column (see ``AnswerColumns``; tested against ``apply``).

        An import spent ~20 µs a response in ``apply`` and in serialising its dicts, most of it
        building two dicts of ~27 entries per response.  Here each question's column of values is
        looked up in its memory with C-level maps, and a response's stored JSON is the join of the
        JSON pieces remembered with each value: no dict is built per response.  A question a
        response does not see (skip logic, or a failed screening question that ends its walk) reads
        the value ``_UNSEEN``, whose facts change nothing, so every column keeps every response.
        """
        lang = lang if lang in ("zh", "en") else "zh"
        count = len(many_answers)
        sources = [a if type(a) is dict else self._as_plain_dict(a) for a in many_answers]
        unseen_source = dict.fromkeys((q.code for q in self.questionnaire.questions), _UNSEEN)
        out = AnswerColumns(count, {}, [True] * count, [], [], {}, {})
        kept: dict[str, list] = {code: [None] * count for code in self.kept_codes}  # None: not kept
        answer_pieces: list[list[str]] = []
        score_pieces: list[list[str]] = []
        for (question, code, condition, references, cache, memo, required, screening, indicator,
             free_text) in self._plan(lang):
            values = list(map(dict.get, sources, repeat(code)))
            if condition is not None:
                shown = self._shown_column(condition, references, kept, values, memo)
                values = [value if seen else _UNSEEN for value, seen in zip(values, shown)]
            facts = self._column_facts(question, values, cache, free_text, lang)
            answer_pieces.append(list(map(_ANSWER_TEXT, facts)))
            if indicator:
                score_pieces.append(list(map(_SCORE_TEXT, facts)))
                out.scores[code] = list(map(_SCORE, facts))
            if code in kept:
                kept[code] = list(map(_KEPT, facts))
            if all(map(_PLAIN, facts)):
                continue
            for position, (_, empty, problem, _, fails, screening_ok, *_) in enumerate(facts):
                if empty:
                    if required:
                        out.problems.setdefault(position, {})[code] = _answers._message("required", lang)
                elif problem:
                    out.problems.setdefault(position, {})[code] = problem
                if screening and not screening_ok:
                    out.eligible[position] = False
                if fails:
                    sources[position] = unseen_source
        out.answers_json = _joined_objects(answer_pieces, count)
        out.scores_json = [text if ok else "{}" for text, ok in zip(_joined_objects(score_pieces, count), out.eligible)]
        for kind, code, options in self.demographic:
            out.person[kind] = [v if isinstance(v, str) and v in options else None for v in kept[code]]
        for position, found in out.problems.items():
            out.problems[position] = self._screened(found, many_answers[position])
        return out

    def _column_facts(self, question, values: list, cache: dict, free_text: bool, lang: str) -> list[tuple]:
        """``_lookup`` of each value of a column, the usual ones found with a C-level map: option
        codes are their own keys (a str subclass finds its equal str's facts), numbers' and lists'
        keys are made as ``_value_key`` makes them.  (A list's facts are not copied: here only the
        JSON pieces and the kept value are read, never changed.)"""
        kinds = set(map(type, values))
        keys = None
        if kinds <= _STR_KINDS:  # (free text is never remembered: its answers are not found)
            keys = values
        elif kinds <= _INT_KINDS:
            keys = list(zip(map(type, values), values))
        elif kinds <= _LIST_KINDS:
            keys = [(list, tuple(value)) if value is not _UNSEEN else value for value in values]
        facts = [None] * len(values) if keys is None else list(map(cache.get, keys))
        if keys is not None and None in facts:  # values not met before: each distinct one once
            first_of = {key: value for key, value, f in zip(keys, values, facts) if f is None}
            for value in first_of.values():
                if value is not _UNSEEN:
                    self._lookup(question, value, cache, free_text, lang)
            facts = list(map(cache.get, keys))
        if None in facts:  # values not remembered (free text, forged values, a full memory)
            facts = [
                f if f is not None else _UNSEEN_FACTS if value is _UNSEEN
                else self._lookup(question, value, cache, free_text, lang)
                for f, value in zip(facts, values)
            ]
        return facts

    def _shown_column(self, condition, references, kept: dict, values: list, memo: dict) -> list[bool]:
        """``_shown`` for each response (``values``: this question's), from the answers kept so far."""
        referenced = [kept[code] for code in references]
        shown = [None] * len(values)
        if len(references) == 1:  # the usual skip: remembered by the one answer itself (see _shown)
            try:
                shown = list(map(memo.get, referenced[0]))
            except TypeError:  # an unhashable answer (a list): one by one
                pass
        if None not in shown and _UNSEEN not in values:
            return shown

        def one(position: int) -> bool:
            if values[position] is _UNSEEN:  # its walk has ended
                return False
            if shown[position] is not None:
                return shown[position]
            cleaned = {code: column[position] for code, column in zip(references, referenced)
                       if column[position] is not None}
            return self._shown(condition, references, cleaned, memo)

        return list(map(one, range(len(values))))

    def _as_plain_dict(self, answers: object) -> dict:
        """What ``apply`` reads from answers that are not a plain dict: each question's value as the
        mapping's own ``get`` gives it (None when it misbehaves); nothing for a non-mapping."""
        if not _is_mapping(answers):
            return {}
        plain = {}
        for question in self.questionnaire.questions:
            try:
                plain[question.code] = answers.get(question.code)
            except Exception:
                plain[question.code] = None
        return plain

    def problems(self, answers: object, lang: str = "zh") -> dict[str, str]:
        """What ``answer_problems`` says about these answers."""
        return self._screened(self.apply(answers, lang)[0], answers)

    def _screened(self, problems: dict, answers: object) -> dict:
        if problems and screened_out(self.questionnaire, answers if _is_mapping(answers) else {}):
            return {code: message for code, message in problems.items() if code in self.screening_codes}
        return problems

    def row(
        self, response_id, round_id, questionnaire_id, community_id, answers, channel, interviewer,
        started_at, submitted_at, lang: str = "zh",
    ) -> tuple[dict, dict]:
        """(problems as ``answer_problems``, the response row as ``questionnaires`` defines its parts)."""
        problems, cleaned, eligible, scores = self.apply(answers, lang)
        person = {"age_group": None, "sex": None}
        for kind, code, options in self.demographic:
            value = cleaned.get(code)
            if isinstance(value, str) and value in options:
                person[kind] = value
        row = {
            "id": response_id,
            "round_id": round_id,
            "questionnaire_id": questionnaire_id,
            "community_id": community_id,
            "channel": channel,
            "interviewer": interviewer,
            "started_at": started_at,
            "submitted_at": submitted_at,
            "eligible": eligible,
            "age_group": person["age_group"],
            "sex": person["sex"],
            "status": "included",
            "answers": cleaned,
            "scores": scores if eligible else {},
        }
        return self._screened(problems, answers), row


@dataclass
class AnswerColumns:
    """Many responses' answers after the rules (``_AnswerRules.columns``), one entry per response:
    what ``apply``/``row`` give one by one, as columns."""

    count: int
    problems: dict[int, dict]  # by position, only responses with problems: what ``row`` says
    eligible: list[bool]
    answers_json: list[str]  # the cleaned answers as stored: ``json_text`` of ``apply``'s dict
    scores_json: list[str]  # the row's scores as stored ('{}' when not eligible)
    scores: dict[str, list]  # indicator item → its score per response (None: no valid answer, or not shown)
    person: dict[str, list]  # "age_group" / "sex" → per response, as ``row`` gives them


# What a response reads for a question it does not see, and the facts of that: nothing kept,
# scored or found wrong.
_UNSEEN = object()
_UNSEEN_FACTS = (None, False, None, None, False, True, True, "", "", None)
_STR_KINDS, _INT_KINDS, _LIST_KINDS = {str, type(None), object}, {int, type(None), object}, {list, object}
_NOT_JSON = object()  # a piece for a value JSON cannot hold: joining it fails loudly


def _json_piece(key: str, value: object) -> object:
    """',"key":value' as ``json_text`` writes the member inside an object (``_joined_objects`` takes
    the first comma off)."""
    try:
        return "," + json_text({key: value})[1:-1]
    except TypeError:  # a forged value (answers with such values are refused before they are stored)
        return _NOT_JSON


def _joined_objects(pieces: list[list[str]], count: int) -> list[str]:
    """JSON objects from columns of ',"key":value' pieces ('' for none), as orjson writes them:
    joined and the comma after the opening brace taken off, with C-level maps (a comprehension
    building each object was ~3 µs a response)."""
    joined = map("".join, zip(repeat("{"), *pieces, repeat("}"))) if pieces else repeat("{}", count)
    return list(map(str.replace, joined, repeat("{,"), repeat("{"), repeat(1)))


_RULES: dict[int, tuple[Questionnaire, _AnswerRules]] = {}


def _rules_for(questionnaire: Questionnaire) -> _AnswerRules:
    """The answer rules of this questionnaire object, kept for the next submission (pages keep
    their questionnaire object), so its per-value memory is not rebuilt every time."""
    cached = _RULES.get(id(questionnaire))
    if cached is None or cached[0] is not questionnaire:
        if len(_RULES) >= 32:
            _RULES.clear()
        cached = _RULES[id(questionnaire)] = (questionnaire, _AnswerRules(questionnaire))
    return cached[1]


def _insert_of(dialect: str) -> Callable:
    """The dialect's own insert (it has ON CONFLICT).  PostgreSQL's dialect package is imported on
    first use only: it is a tenth of a second of a new process's start on SQLite (the cold dashboard)."""
    if dialect == "postgresql":
        from sqlalchemy.dialects import postgresql

        return postgresql.insert
    return sqlite.insert


@contextmanager
def _driver_cursor(session: Session):
    """The driver's own cursor, in the session's transaction, closed afterwards."""
    cursor = session.connection().connection.driver_connection.cursor()
    try:
        yield cursor
    finally:
        cursor.close()


def _executemany(session: Session, statement, rows: list[dict]) -> None:
    """``session.execute(statement, rows)`` without SQLAlchemy's per-row and per-statement work."""
    if rows:
        _driver_execute(session, statement, rows).close()


def _driver_execute(session: Session, statement, rows: list[dict]):
    """Run ``statement`` for ``rows`` on the driver's own cursor, in the session's transaction, and
    return that cursor (or SQLAlchemy's result when the statement cannot be run that way).

    The statement is compiled once per statement, dialect and parameter names, and every row is
    bound with the columns' own bind processors (JSON serialised, dates formatted exactly as
    SQLAlchemy stores them), column by column.  SQLAlchemy's per-row parameter handling cost more
    than SQLite's own work for an import of 20,000 rows; and for one citizen's submission its
    per-statement work was most of the time the SQLite write lock is held, which every other
    submitter waits for.
    """
    return _driver_execute_columns(session, statement, {key: [row[key] for row in rows] for key in rows[0]})


def _driver_execute_columns(session: Session, statement, values_of: Mapping[str, list], ready: Iterable[str] = ()):
    """``_driver_execute`` for rows given column by column (``values_of[key][i]``: row i's value);
    the columns named in ``ready`` hold values already as the driver takes them (JSON as text)."""
    connection = session.connection()
    plan = _bind_plan(statement, connection.dialect, tuple(values_of))
    if plan is None and not ready:
        rows = [dict(zip(values_of, values)) for values in zip(*values_of.values())]
        return connection.execute(statement, rows if len(rows) > 1 else rows[0])
    if plan is None:
        raise ValueError("values ready for the driver need a statement the driver can run")
    sql, positional, binds = plan
    size = len(next(iter(values_of.values())))
    columns = []
    for _, key, process, constant in binds:  # one map() per column instead of a loop per value
        if key is None:
            columns.append([constant] * size)
        else:
            values = values_of[key]
            columns.append(values if process is None or key in ready else _processed_column(process, values))
    if positional:
        parameters = list(zip(*columns))
    else:
        names = [name for name, _, _, _ in binds]
        parameters = [dict(zip(names, values)) for values in zip(*columns)]
    cursor = connection.connection.driver_connection.cursor()
    if len(parameters) == 1:
        cursor.execute(sql, parameters[0])
    else:
        cursor.executemany(sql, parameters)
    return cursor


@lru_cache(maxsize=64)
def _bind_plan(statement, dialect, keys: tuple[str, ...]):
    """(SQL text, positional?, [(parameter, row key or None, bind processor, constant)]) for rows
    with these keys, or None when the statement's parameters are not these keys plus constants."""
    if dialect.paramstyle not in ("qmark", "format", "pyformat"):
        return None
    compiled = statement.compile(dialect=dialect, column_keys=list(keys))
    try:
        defaults = compiled.construct_params(params=dict.fromkeys(keys))
    except Exception:  # a parameter that is neither one of the keys nor a constant
        return None
    names = list(compiled.positiontup) if compiled.positional else list(defaults)
    if not set(keys) <= set(names):
        return None
    bind_of = {name: bind for bind, name in compiled.bind_names.items()}
    binds = []
    for name in names:
        bind_type = bind_of[name].type
        process = bind_type.dialect_impl(dialect).bind_processor(dialect)
        if process is not None and dialect.name == "sqlite" and isinstance(bind_type, DateTime):
            process = _sqlite_datetime_text(process)
        if name in keys:
            binds.append((name, name, process, None))
        else:  # a literal of the statement itself
            value = defaults[name]
            binds.append((name, None, None, process(value) if process else value))
    return compiled.string, compiled.positional, binds


def _processed_column(process: Callable, values: list) -> list:
    """The bind processor applied to a column of values (its own ``column`` when it has one)."""
    column = getattr(process, "column", None)
    return column(values) if column is not None else list(map(process, values))


def _sqlite_datetime_text(general: Callable):
    """SQLite's DateTime text exactly as SQLAlchemy writes it ('2026-11-23 09:30:00.000000'), made by
    ``datetime.isoformat`` for the usual naive datetime: SQLAlchemy's own formatting was a tenth of
    an import's time.  Anything else (None, dates, aware datetimes) goes to SQLAlchemy's."""
    def text(value):
        if type(value) is datetime and value.tzinfo is None:
            return value.isoformat(" ", "microseconds")
        return general(value)

    def column(values: list) -> list:
        # A column of naive datetimes only (an import's) in one C-level map: half the time.
        if set(map(type, values)) == {datetime} and not any(map(_TZINFO, values)):
            return list(map(datetime.isoformat, values, repeat(" "), repeat("microseconds")))
        return list(map(text, values))

    text.column = column
    return text


_TZINFO = attrgetter("tzinfo")


@lru_cache(maxsize=None)
def _statement(dialect: str, kind: str, table):
    """Statements built once per dialect and table (building an upsert costs a millisecond, a
    good part of one citizen's submission); SQLAlchemy caches their compiled form by identity."""
    statement = _insert_of(dialect)(table)
    if kind == "insert_if_new":
        return statement.on_conflict_do_nothing(index_elements=["id"]).returning(table.c.id)
    keys = [column.name for column in table.primary_key.columns]
    return statement.on_conflict_do_update(
        index_elements=keys, set_={name: table.c[name] + statement.excluded[name] for name in TALLY_SUMS}
    )


def _insert_response_if_new(session: Session, row: dict) -> bool:
    statement = _statement(session.get_bind().dialect.name, "insert_if_new", Response.__table__)
    cursor = _driver_execute(session, statement, [row])
    inserted = cursor.fetchone() is not None
    cursor.close()
    return inserted


def _contributions(
    rows: Iterable[dict], questionnaire: Questionnaire, *key_ofs: Callable[[dict], tuple]
) -> list[dict[tuple, list[int]]]:
    """Tally increments of eligible rows' scores, one dict per key function: keyed by
    key_of(row) + (indicator, item)."""
    if not isinstance(rows, list):
        rows = list(rows)
    if len(rows) >= _VECTOR_ROWS:
        return _contributions_vectorised(rows, questionnaire, *key_ofs)
    item_indicator = {q.code: q.indicator for q in questionnaire.indicator_items()}
    all_totals = []
    for key_of in key_ofs:
        totals: dict[tuple, list[int]] = defaultdict(lambda: [0] * len(TALLY_SUMS))
        for row in rows:
            prefix = key_of(row)
            per_indicator: dict[str, list[int]] = defaultdict(lambda: [0, 0])
            for item, score in row["scores"].items():
                if score is None or item not in item_indicator:
                    continue
                indicator = item_indicator[item]
                _accumulate(totals[(*prefix, indicator, item)], 1, score)
                per_indicator[indicator][0] += 1
                per_indicator[indicator][1] += score
            for indicator, (x, y) in per_indicator.items():
                _accumulate(totals[(*prefix, indicator, "")], x, y)
        all_totals.append(totals)
    return all_totals


_VECTOR_ROWS = 64  # from this many rows on, numpy sums faster than the loop above


def _contributions_vectorised(
    rows: list[dict], questionnaire: Questionnaire, *key_ofs: Callable[[dict], tuple]
) -> list[dict[tuple, list[int]]]:
    """The same sums as the loop in `_contributions`, with numpy: an import of 20,000 responses
    touches ~500,000 item scores, which the loop added one by one.  The scores are read into
    arrays once for all the key functions."""
    items = [(q.code, q.indicator) for q in questionnaire.indicator_items()]
    if not items:
        return [{} for _ in key_ofs]
    # nan: no valid answer (None) or an item the respondent never saw.
    scores = np.array([list(map(row["scores"].get, [code for code, _ in items])) for row in rows], dtype=np.float64)
    scores = scores.reshape(len(rows), len(items))
    all_totals = []
    for key_of in key_ofs:
        keys, groups = _group_index(list(map(key_of, rows)))
        group, indicator, item, sums = _group_sums(scores, items, groups, len(keys))
        all_totals.append({(*keys[g], k, i): s for g, k, i, s in zip(group, indicator, item, sums.tolist())})
    return all_totals


def _group_index(keys: list[tuple]) -> tuple[list[tuple], np.ndarray]:
    """(the distinct keys in order of first appearance, each key's index among them)."""
    distinct = list(dict.fromkeys(keys))
    index_of = dict(zip(distinct, range(len(distinct))))
    return distinct, np.fromiter(map(index_of.__getitem__, keys), np.int64, len(keys))


def _group_sums(scores: np.ndarray, items: list[tuple[str, str]], groups: np.ndarray, group_count: int
                ) -> tuple[list[int], list[str], list[str], np.ndarray]:
    """The tally sums (TALLY_SUMS) of responses' item scores per group, for every item and, pooled,
    every indicator (item ''), where the group has answers: (group index, indicator, item, sums
    array with one row each).  ``scores`` has one row per response and one column per item of
    ``items`` ((code, indicator)), nan where there is no score; ``groups`` is each row's group."""
    answered = ~np.isnan(scores)
    valid = answered.astype(np.int64)
    positive = np.where(answered, scores, 0).astype(np.int64)
    indicators = list(dict.fromkeys(indicator for _, indicator in items))
    columns = np.array([indicators.index(indicator) for _, indicator in items])
    pooled_valid = np.zeros((len(scores), len(indicators)), dtype=np.int64)  # x: valid answers per indicator
    pooled_positive = np.zeros_like(pooled_valid)  # y: positive ones
    for k in range(len(indicators)):
        pooled_valid[:, k] = valid[:, columns == k].sum(axis=1)
        pooled_positive[:, k] = positive[:, columns == k].sum(axis=1)

    def per_group(values: np.ndarray) -> np.ndarray:
        # Sums of each column per group: bincount adds in float64, exact for integers below 2**53.
        width = values.shape[1]
        flat = (groups[:, None] * width + np.arange(width)).ravel()
        out = np.bincount(flat, weights=values.ravel(), minlength=group_count * width)
        return out.astype(np.int64).reshape(group_count, width)

    n_item, y_item, yy_item = (per_group(a) for a in (valid, positive, positive * positive))
    x, y = pooled_valid, pooled_positive
    pooled = [per_group(a) for a in ((x > 0).astype(np.int64), x, y, x * x, y * y, x * y)]
    # An item is one answer: x = 1, so Σx = Σx² = n and Σxy = Σy.
    g_item, j_item = np.nonzero(n_item)
    n, p, pp = n_item[g_item, j_item], y_item[g_item, j_item], yy_item[g_item, j_item]
    item_sums = np.stack([n, n, p, n, pp, p], axis=1)
    g_pooled, k_pooled = np.nonzero(pooled[0])
    pooled_sums = np.stack([a[g_pooled, k_pooled] for a in pooled], axis=1)
    group = g_item.tolist() + g_pooled.tolist()
    indicator = [items[j][1] for j in j_item.tolist()] + [indicators[k] for k in k_pooled.tolist()]
    item = [items[j][0] for j in j_item.tolist()] + [""] * len(g_pooled)
    return group, indicator, item, np.concatenate([item_sums, pooled_sums]).reshape(-1, len(TALLY_SUMS))


def _accumulate(sums: list[int], x: int, y: int) -> None:
    sums[0] += 1
    sums[1] += x
    sums[2] += y
    sums[3] += x * x
    sums[4] += y * y
    sums[5] += x * y


def _community_key(row: dict) -> tuple:
    return (row["community_id"],)


def _no_key(_row: dict) -> tuple:
    return ()


def _update_tallies(
    session: Session, round_id: int, rows: list[dict], questionnaire: Questionnaire,
    district_of: Mapping[int, int], sign: int = 1,
) -> None:
    """Add (sign=1) or remove (sign=-1) eligible rows' contributions to both tallies."""
    rows = [row for row in rows if row["eligible"]]
    if not rows:
        return

    def cell_key(row: dict) -> tuple:
        return (district_of[row["community_id"]], row.get("age_group") or "", row.get("sex") or "")

    community_sums, cell_sums = _contributions(rows, questionnaire, _community_key, cell_key)
    _add_sums(session, round_id, community_sums, cell_sums, sign)


def _add_sums(session: Session, round_id: int, community_sums: Mapping[tuple, list[int]],
              cell_sums: Mapping[tuple, list[int]], sign: int = 1) -> None:
    _upsert_sums(session, Tally.__table__, ("community_id",), round_id, community_sums, sign)
    _upsert_sums(session, CellTally.__table__, ("district_id", "age_group", "sex"), round_id, cell_sums, sign)
    _touch_round(session, round_id)


def _touch_round(session: Session, round_id: int) -> None:
    """Raise the round's tally version, last in the transaction's writes: every writer takes the
    tally rows first (in key order) and this row last, so lock order stays the same everywhere."""
    _executemany(session, _RAISE_TALLY_VERSION, [{"round_id": round_id}])


_INSERT_RESPONSE = Response.__table__.insert()
_ROUND = SurveyRound.__table__
_RAISE_TALLY_VERSION = (
    update(_ROUND).where(_ROUND.c.id == bindparam("round_id")).values(tally_version=_ROUND.c.tally_version + 1)
)


def _upsert_sums(session: Session, table, key_columns: tuple[str, ...], round_id: int,
                 totals: Mapping[tuple, list[int]], sign: int) -> None:
    """Add the sums ({key + (indicator, item): TALLY_SUMS values}) to the table's rows."""
    if totals:
        keys, sums = zip(*totals.items())
        _upsert_sum_columns(session, table, key_columns, round_id, list(map(list, zip(*keys))), sums, sign)


def _upsert_sum_columns(session: Session, table, key_columns: tuple[str, ...], round_id: int,
                        key_values: list[list], sums, sign: int) -> None:
    """Add sums to the table's rows with one upsert: ``key_values`` holds one column per key column
    and (indicator, item), ``sums`` one row of TALLY_SUMS values per key (a list or an int array).
    On PostgreSQL rows go in key order, so that concurrent writers lock rows in the same order and
    cannot deadlock (SQLite has one writer at a time: no need)."""
    names = (*key_columns, "indicator", "item")
    if [c.name for c in table.primary_key.columns] != ["round_id", *names]:
        raise ValueError(f"{table.name}: the upsert key must be the primary key")
    columns = ("round_id", *names, *TALLY_SUMS)
    sums = np.asarray(sums, dtype=np.int64).reshape(-1, len(TALLY_SUMS)) * sign
    values = [[round_id] * len(sums), *key_values, *sums.T.tolist()]
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        # One statement for all rows, sent as one JSON document: executemany ran the upsert once per
        # row (a group of 16 submissions writes ~500 tally rows, an import of 20,000 responses
        # ~30,000), and the server's per-statement work was most of a group's time.  JSON, not
        # arrays: psycopg adapts arrays element by element in Python.
        rows = [dict(zip(columns, row)) for row in sorted(zip(*values))]
        added = ", ".join(f"{name} = {table.name}.{name} + excluded.{name}" for name in TALLY_SUMS)
        sql = _recordset_insert_sql(table, columns, f"ON CONFLICT ({', '.join(columns[:len(names) + 1])}) "
                                                    f"DO UPDATE SET {added}")
        with _driver_cursor(session) as cursor:
            cursor.execute(sql, (json_text(rows),))
        return
    _driver_execute_columns(session, _statement(dialect, "add_sums", table), dict(zip(columns, values))).close()


def _cyclic_gc_paused(function: Callable) -> Callable:
    """The function run with Python's cyclic garbage collector paused (reference counting still
    frees what it drops).  An import holds hundreds of thousands of containers (the records, their
    answers, its columns) and makes millions more: the collector kept walking them all, a sixth of
    an import's time, for cycles it does not make."""
    @wraps(function)
    def paused(*args, **kwargs):
        enabled = gc.isenabled()
        gc.disable()
        try:
            return function(*args, **kwargs)
        finally:
            if enabled:  # not if someone else had paused it
                gc.enable()
    return paused


@_cyclic_gc_paused
def bulk_import(
    session: Session,
    survey_round: SurveyRound,
    questionnaire: Questionnaire,
    records: Iterable[Mapping],
    *,
    channel: str = "import",
    check_window: bool = False,
    lang: str = "zh",
) -> int:
    """Store many responses in the caller's transaction: all of them or, on the first invalid
    record, none (``SubmissionRefused`` names the record).

    A record has ``community_id``, ``answers`` and optionally ``id``, ``interviewer``,
    ``started_at``, ``submitted_at``.  Records whose id is already stored are skipped, so
    re-running an import never doubles it.  Returns the number of new responses.

    The records are checked and stored column by column (``_AnswerRules.columns``, one insert, the
    tally sums with numpy): see docs/performance.md for what a million responses take.
    """
    now = datetime.now()
    district_of = dict(session.execute(select(Area.id, Area.district_id).where(Area.level == "community")).all())
    records = records if isinstance(records, list) else list(records)
    if not records:
        return 0
    answers = _rules_for(questionnaire).columns([record.get("answers") for record in records], lang)
    communities = [record.get("community_id") for record in records]
    submitted_at = [record.get("submitted_at") or now for record in records]
    known = [_is_area_id(community) and community in district_of for community in communities]
    in_window = [True] * len(records)
    if check_window:
        in_window = [accepts_responses(survey_round, at) for at in submitted_at]
    if answers.problems or not all(known) or not all(in_window):
        for position in range(len(records)):
            problems = answers.problems.get(position, {})
            if not known[position]:
                problems = {**problems, "_": _msg(lang, "社区不存在", "unknown community")}
            if not in_window[position]:
                problems = {**problems, "_": _msg(lang, "不在本轮调查时间内", "outside the round's window")}
            if problems:
                raise SubmissionRefused({f"#{position + 1} {k}": v for k, v in problems.items()})

    ids = [record.get("id") or new_response_id() for record in records]
    first_of = dict(zip(reversed(ids), range(len(ids) - 1, -1, -1)))  # the same form twice in a file counts once
    already = _existing_ids(session, list(first_of))
    new = [position for response_id, position in first_of.items() if response_id not in already]
    if not new:
        return 0
    new.sort()
    every_record = len(new) == len(records)

    def chosen(column: list) -> list:
        return column if every_record else [column[position] for position in new]

    count = len(new)
    eligible = chosen(answers.eligible)
    community = chosen(communities)
    _insert_response_columns(session, {
        "id": chosen(ids),
        "round_id": [survey_round.id] * count,
        "questionnaire_id": [survey_round.questionnaire_id] * count,
        "community_id": community,
        "channel": chosen([record.get("channel", channel) for record in records]),
        "interviewer": chosen([record.get("interviewer") for record in records]),
        "started_at": chosen([record.get("started_at") for record in records]),
        "submitted_at": chosen(submitted_at),
        "eligible": eligible,
        "age_group": chosen(answers.person["age_group"]),
        "sex": chosen(answers.person["sex"]),
        "status": ["included"] * count,
        "answers": chosen(answers.answers_json),
        "scores": chosen(answers.scores_json),
    })

    _add_imported_sums(session, survey_round.id, questionnaire, answers,
                       [position for position, ok in zip(new, eligible) if ok], communities, district_of)
    _touch_round(session, survey_round.id)
    return count


def _add_imported_sums(session: Session, round_id: int, questionnaire: Questionnaire, answers: AnswerColumns,
                       counted: list[int], communities: list, district_of: Mapping[int, int]) -> None:
    """Add the scores of the imported responses at ``counted`` (their positions in ``answers``) to
    both tallies, from the score columns, without a row per response."""
    items = [(q.code, q.indicator) for q in questionnaire.indicator_items()]
    if not items or not counted:
        return
    scores = np.array([answers.scores[code] for code, _ in items], dtype=np.float64).T[counted]
    community = [communities[p] for p in counted]
    cell = zip([district_of[c] for c in community], [answers.person["age_group"][p] or "" for p in counted],
               [answers.person["sex"][p] or "" for p in counted])
    for table, key_names, keys in (
        (Tally.__table__, ("community_id",), list(zip(community))),
        (CellTally.__table__, ("district_id", "age_group", "sex"), list(cell)),
    ):
        distinct, groups = _group_index(keys)
        group, indicator, item, sums = _group_sums(scores, items, groups, len(distinct))
        key_values = [list(column) for column in zip(*map(distinct.__getitem__, group))]
        _upsert_sum_columns(session, table, key_names, round_id, [*key_values, indicator, item], sums, 1)


def _insert_response_columns(session: Session, values_of: dict[str, list]) -> None:
    """Insert responses given column by column, answers and scores already JSON text.  On
    PostgreSQL with COPY: the server ingests rows several times faster than one INSERT per row (the
    import had run at a third of what the raw executemany managed).  COPY has no ON CONFLICT, like
    the plain INSERT it replaces: ids already stored were left out by the caller, and an id stored
    meanwhile by another instance fails the whole import, which writes nothing."""
    if session.get_bind().dialect.name != "postgresql":
        _driver_execute_columns(session, _INSERT_RESPONSE, values_of, ready=("answers", "scores")).close()
        return
    # psycopg writes str, int, bool, None and naive datetimes as this table's columns read them.
    with _driver_cursor(session) as cursor:
        with cursor.copy(f"COPY response ({', '.join(values_of)}) FROM STDIN") as copy:
            for row in zip(*values_of.values()):
                copy.write_row(row)


def _existing_ids(session: Session, ids: list[str]) -> set[str]:
    found: set[str] = set()
    connection = session.connection()
    if connection.dialect.name == "postgresql" and ids:
        # One query with an array, planned afresh each time: psycopg prepares a statement run
        # five times, and a generic plan made while the table was small (or never analysed)
        # scans the whole table for every batch, which made a large import crawl.
        with _driver_cursor(session) as cursor:
            cursor.execute("SELECT id FROM response WHERE id = ANY(%s)", (list(ids),), prepare=False)
            return {row[0] for row in cursor.fetchall()}
    with _driver_cursor(session) as cursor:
        for start in range(0, len(ids), 900):  # below SQLite's oldest limit of 999 parameters
            chunk = ids[start : start + 900]
            cursor.execute(f"SELECT id FROM response WHERE id IN ({','.join('?' * len(chunk))})", chunk)
            found.update(row[0] for row in cursor.fetchall())
    return found


def count_responses(session: Session, round_id: int, *, eligible_only: bool = True) -> int:
    query = select(func.count()).select_from(Response).where(
        Response.round_id == round_id, Response.status == "included"
    )
    if eligible_only:
        query = query.where(Response.eligible.is_(True))
    return session.scalar(query)


def round_tally(session: Session, round_id: int) -> pd.DataFrame:
    """The round's tally at community level: what every dashboard number is computed from."""
    columns = ["community_id", "indicator", "item", *TALLY_SUMS]
    rows = _plain_rows(session, select(*(getattr(Tally, c) for c in columns)).where(Tally.round_id == round_id))
    values = list(zip(*rows)) if rows else [()] * len(columns)
    data = {"community_id": np.array(values[0], dtype=np.int64)}
    for name, column in zip(("indicator", "item"), values[1:3]):
        data[name] = pd.array(np.array(column, dtype=object), dtype="str")
    for name, column in zip(TALLY_SUMS, values[3:]):
        data[name] = np.array(column, dtype=np.int64)
    return pd.DataFrame(data, columns=columns)


def _plain_rows(session: Session, statement) -> list[tuple]:
    """The rows of a query whose columns are plain integers and strings, as the driver's tuples.

    Runs on the session's own connection, so inside its transaction (and snapshot).  Skipping
    SQLAlchemy's Row objects and pandas' inference from them makes reading a round's tally
    (~25,000 rows for 1,000 communities) four times faster, most of the dashboard's time.
    """
    connection = session.connection()
    compiled = statement.compile(dialect=connection.dialect)
    parameters = compiled.params
    if compiled.positional:
        parameters = tuple(parameters[name] for name in compiled.positiontup)
    cursor = connection.connection.cursor()
    try:
        cursor.execute(compiled.string, parameters)
        return cursor.fetchall()
    finally:
        cursor.close()


def recount_tally(session: Session, survey_round: SurveyRound) -> pd.DataFrame:
    """The tally recomputed from the stored responses' scores, for checks and repairs."""
    questionnaire = load_questionnaire_version(session, survey_round.questionnaire_id)
    rows = session.execute(
        select(Response.community_id, Response.scores).where(
            Response.round_id == survey_round.id, Response.status == "included", Response.eligible.is_(True)
        )
    ).all()
    [totals] = _contributions(({"community_id": c, "scores": s} for c, s in rows), questionnaire, _community_key)
    columns = ["community_id", "indicator", "item", *TALLY_SUMS]
    return pd.DataFrame([(*key, *sums) for key, sums in totals.items()], columns=columns)


# ----------------------------------------------------------------- exclusions and fieldwork


def set_response_status(
    session: Session, actor: str | None, response_ids: Iterable[str], status: str, reason: str = "", *,
    scope: Scope,
) -> int:
    """Exclude or re-include responses.  Nothing is deleted: an excluded response keeps its answers,
    leaves every rate (both tallies lose exactly its contribution) and the change is audited.
    Returns the number of responses whose status changed."""
    if status not in ("included", "excluded"):
        raise ValueError(f"unknown status {status!r}")
    if status == "excluded" and not reason.strip():
        raise ValueError("排除问卷需要填写原因 / excluding needs a reason")
    ids = [i for i in dict.fromkeys(response_ids) if is_response_id(i)]
    responses = [r for r in (session.get(Response, i, with_for_update=True) for i in ids)
                 if r is not None and r.status != status]
    if not responses:
        return 0
    check_communities(scope, [r.community_id for r in responses])
    district_of = dict(session.execute(select(Area.id, Area.district_id).where(Area.level == "community")).all())
    by_round: dict[int, list[Response]] = defaultdict(list)
    for response in responses:
        by_round[response.round_id].append(response)
    for round_id, members in by_round.items():
        survey_round = session.get(SurveyRound, round_id)
        questionnaire = load_questionnaire_version(session, survey_round.questionnaire_id)
        rows = [{"community_id": r.community_id, "scores": r.scores, "eligible": r.eligible,
                 "age_group": r.age_group, "sex": r.sex} for r in members]
        _update_tallies(session, round_id, rows, questionnaire, district_of, sign=-1 if status == "excluded" else 1)
    for round_id in by_round:
        _touch_round(session, round_id)  # the exclusion summary changed even for ineligible responses
    for response in responses:
        response.status = status
        response.exclusion_reason = reason.strip()[:200] if status == "excluded" else None
        accounts.record(session, actor, "response.exclude" if status == "excluded" else "response.include",
                        response.id, reason=reason.strip()[:200])
    return len(responses)


def exclusion_summary(session: Session, round_id: int, *, scope: Scope) -> pd.DataFrame:
    """How many responses of the round (within the scope) are excluded, by reason (the dashboard says so)."""
    query = select(Response.exclusion_reason, func.count()).where(
        Response.round_id == round_id, Response.status == "excluded", community_filter(scope, Response.community_id)
    ).group_by(Response.exclusion_reason)
    return pd.DataFrame(session.execute(query).all(), columns=["reason", "responses"])


def round_responses(session: Session, round_id: int, *, scope: Scope, with_answers: bool = True) -> pd.DataFrame:
    """The round's responses within the scope with their areas, for data-quality checks and fieldwork views."""
    columns = [Response.id, Response.community_id, Area.street_id, Area.district_id, Response.interviewer,
               Response.channel, Response.started_at, Response.submitted_at, Response.eligible,
               Response.age_group, Response.sex, Response.status, Response.exclusion_reason]
    if with_answers:
        columns += [Response.answers, Response.scores]
    rows = session.execute(
        select(*columns).select_from(Response).join(Area, Area.id == Response.community_id)
        .where(Response.round_id == round_id, community_filter(scope, Response.community_id))
        .order_by(Response.submitted_at)
    ).all()
    return pd.DataFrame(rows, columns=[c.key for c in columns])


def completes(session: Session, round_id: int, by: str, *, scope: Scope, district_ids: Iterable[int] | None = None,
              community_ids: Iterable[int] | None = None) -> pd.DataFrame:
    """Completed (eligible, included) interviews counted in the database, by one of: district,
    community, interviewer, day, cell (district × age group × sex); only within the scope (a
    district office's or a street office's communities), and ``district_ids`` and
    ``community_ids`` when given."""
    groupings = {
        "district": [Area.district_id],
        "community": [Response.community_id],
        "interviewer": [Response.interviewer, Area.district_id],
        "day": [func.date(Response.submitted_at).label("day")],
        "cell": [Area.district_id, Response.age_group, Response.sex],
    }
    if by not in groupings:
        raise ValueError(f"unknown grouping {by!r}")
    keys = groupings[by]
    query = (
        select(*keys, func.count().label("completes")).select_from(Response)
        .join(Area, Area.id == Response.community_id)
        .where(Response.round_id == round_id, Response.eligible.is_(True), Response.status == "included",
               community_filter(scope, Response.community_id))
        .group_by(*keys).order_by(*keys)
    )
    if district_ids is not None:
        query = query.where(Area.district_id.in_(list(district_ids)))
    if community_ids is not None:
        query = query.where(Response.community_id.in_(list(community_ids)))
    result = session.execute(query)
    return pd.DataFrame(result.all(), columns=list(result.keys()))


def quota_cell_full(session: Session, survey_round: SurveyRound, community_id: int, age_group: str | None,
                    sex: str | None) -> bool:
    """True when the round has a quota for this person's district × age group × sex and it is met."""
    cells = (survey_round.quotas or {}).get("cells") or {}
    community = session.get(Area, community_id)
    if not cells or community is None or not age_group or not sex:
        return False
    district = session.get(Area, community.district_id)
    quota = cells.get(f"{district.code}|{age_group}|{sex}")
    if quota is None:
        return False
    done = session.scalar(
        select(func.count()).select_from(Response).join(Area, Area.id == Response.community_id).where(
            Response.round_id == survey_round.id, Response.eligible.is_(True), Response.status == "included",
            Area.district_id == district.id, Response.age_group == age_group, Response.sex == sex,
        )
    )
    return done >= quota


def round_cell_tally(session: Session, round_id: int) -> pd.DataFrame:
    """The round's sums by district × age group × sex (for weighting and breakdowns)."""
    columns = ["district_id", "age_group", "sex", "indicator", "item", *TALLY_SUMS]
    rows = _plain_rows(session, select(*(getattr(CellTally, c) for c in columns)).where(CellTally.round_id == round_id))
    return pd.DataFrame(rows, columns=columns).astype({name: "int64" for name in TALLY_SUMS})

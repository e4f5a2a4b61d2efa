"""Responses one at a time: a citizen's or an interviewer's submission checked, stored and counted
in the tally (``submit_response``, or its two steps ``prepare_submission`` / ``store_submission``
that ``data.submissions`` runs for groups), a group of citizens' forms stored together, quota
cells, and excluding or re-including responses.

The answer rules themselves (problems, cleaned answers, eligibility, scores) are
``questionnaires.answer_rules``; this module stores what they return.
Every function takes the session first and never commits (see ``data.areas``).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Iterable, Mapping

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session
from uuid6 import uuid7  # uuid.uuid7 arrives with Python 3.14

from data import accounts
from data import fast_paths as fast
from data import tallies
from data.db import json_text
from data.models import Area, Response, SurveyRound
from data.questionnaire_versions import load_questionnaire_version
from data.rounds import accepts_responses
from data.scope import CITY, Scope, check_communities
from questionnaires import Questionnaire


CHANNELS = ("self", "interview", "paper", "import")


class SubmissionRefused(ValueError):
    """A submission that must not be stored; ``messages`` maps a question code (or '_') to a
    message in the user's language."""

    def __init__(self, messages: Mapping[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in messages.items()))
        self.messages = dict(messages)


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


def submit_response(session: Session, *, deferred_sums: tallies.DeferredSums | None = None, **arguments) -> SubmitResult:
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
        raise SubmissionRefused({"_": in_language(lang, "无效的问卷编号", "invalid response id")})
    if channel not in CHANNELS:
        raise SubmissionRefused({"_": in_language(lang, "无效的填报方式", "invalid channel")})
    if not accepts_responses(survey_round, submitted_at):
        raise SubmissionRefused({"_": in_language(lang, "本轮调查未开放或已结束", "this survey round is not open")})
    if is_area_id(community_id) and not 0 < community_id < 2**31:  # a forged id such as 10**30
        raise _no_community(lang)  # (other forged values are refused where the community is looked up)
    unstorable = _unstorable_answers(answers, lang)
    if unstorable:
        raise SubmissionRefused(unstorable)
    if not scope.allows_community(community_id):  # an interviewer limited to an area interviews only there
        raise SubmissionRefused({"_": in_language(lang, "该社区不在您的数据范围内", "this community is outside your data scope")})
    problems, row = fast.rules_for(questionnaire).row(
        response_id, survey_round.id, survey_round.questionnaire_id, community_id, answers,
        channel, interviewer, started_at, submitted_at, lang,
    )
    sums = tallies.contributions([row], questionnaire, tallies.no_key)[0] if row["eligible"] and not problems else {}
    return PreparedSubmission(survey_round, community_id, channel, lang, invitation_token, problems, row, sums)


def store_submission(session: Session, prepared: PreparedSubmission,
                     deferred_sums: tallies.DeferredSums | None = None) -> SubmitResult:
    """Store a prepared submission in the caller's transaction (see ``submit_response``).

    With ``deferred_sums`` the tally increments are collected there instead, for the caller to
    write once for several submissions (``tallies.DeferredSums.write``) before its commit."""
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
        raise SubmissionRefused({"_": in_language(lang, "本轮调查需要有效的邀请码", "this round needs a valid invitation")})

    # Checks that must not run again for a resubmit (the quota now counts this very response, the
    # invitation is now used by it): answer as the first time did.  Otherwise the insert itself
    # tells a resubmit apart.
    needs_first_time_check = prepared.channel == "interview" or survey_round.requires_invitation
    if needs_first_time_check and session.get(Response, response_id) is not None:
        return SubmitResult(response_id, stored=False, eligible=row["eligible"])
    if prepared.channel == "interview" and row["eligible"] and quota_cell_full(
        session, survey_round, community_id, row["age_group"], row["sex"]
    ):
        raise SubmissionRefused({"_": in_language(lang, "该配额单元已满，本次访问不计入", "this quota cell is full")})
    if not _insert_response_if_new(session, row):
        return SubmitResult(response_id, stored=False, eligible=row["eligible"])
    if survey_round.requires_invitation and not accounts.use_invitation(
        session, survey_round.id, prepared.invitation_token, response_id
    ):
        # The insert above is rolled back with the caller's transaction.
        raise SubmissionRefused({"_": in_language(lang, "该邀请码已经使用过", "this invitation was already used")})
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
            problems[name] = in_language(lang, "无法保存的答案（数值过大或含有无效字符）",
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


def is_area_id(value: object) -> bool:
    """An int, not a bool (True == 1) nor anything a forged form might send instead."""
    return type(value) is int


def _no_community(lang: str) -> SubmissionRefused:
    return SubmissionRefused({"_": in_language(lang, "请选择所在社区", "please choose your community")})


def _count_in_tally(session: Session, prepared: PreparedSubmission, district_id: int,
                    deferred_sums: tallies.DeferredSums | None) -> None:
    if not prepared.sums:
        return
    row = prepared.row
    cell = (district_id, row["age_group"] or "", row["sex"] or "")
    community_sums = {(prepared.community_id, *key): v for key, v in prepared.sums.items()}
    cell_sums = {(*cell, *key): v for key, v in prepared.sums.items()}
    if deferred_sums is None:
        tallies.add_sums(session, prepared.survey_round.id, community_sums, cell_sums)
    else:
        deferred_sums.add(prepared.survey_round.id, community_sums, cell_sums)


def stores_together(prepared: PreparedSubmission) -> bool:
    """Whether ``store_submissions_together`` can store this one: a citizen's own form in a round
    without invitations (no quota to check, no invitation to use)."""
    return prepared.channel != "interview" and not prepared.survey_round.requires_invitation


def store_submissions_together(session: Session, group: list[PreparedSubmission], deferred_sums: tallies.DeferredSums
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
        if not is_area_id(prepared.community_id) or districts.get(prepared.community_id) is None:
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
    wanted = sorted({c for c in community_ids if is_area_id(c)})
    if not wanted:
        return {}
    if session.get_bind().dialect.name == "postgresql":  # on the driver's cursor: a group's first statement
        with fast.driver_cursor(session) as cursor:
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
    sql = fast.recordset_insert_sql(Response.__table__, tuple(rows[0]), "ON CONFLICT (id) DO NOTHING RETURNING id")
    with fast.driver_cursor(session) as cursor:
        cursor.execute(sql, (json_text(rows),))
        return {found[0] for found in cursor.fetchall()}


def _district_of_community(session: Session, community_id: object) -> int | None:
    """The district of this community, or None when it is not a community's id (a forged value)."""
    if not is_area_id(community_id):
        return None
    cursor = fast.driver_execute(session, _DISTRICT_OF_COMMUNITY, [{"community_id": community_id}])
    found = cursor.fetchone()
    cursor.close()
    return None if found is None else found[0]


_AREA = Area.__table__
_DISTRICT_OF_COMMUNITY = select(_AREA.c.district_id).where(
    _AREA.c.id == bindparam("community_id"), _AREA.c.level == "community"
)


def in_language(lang: str, zh: str, en: str) -> str:
    return en if lang == "en" else zh


def _insert_response_if_new(session: Session, row: dict) -> bool:
    statement = fast.prebuilt_statement(session.get_bind().dialect.name, "insert_if_new", Response.__table__)
    cursor = fast.driver_execute(session, statement, [row])
    inserted = cursor.fetchone() is not None
    cursor.close()
    return inserted


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
        tallies.update_tallies(session, round_id, rows, questionnaire, district_of, sign=-1 if status == "excluded" else 1)
    for round_id in by_round:
        tallies.touch_round(session, round_id)  # the exclusion summary changed even for ineligible responses
    for response in responses:
        response.status = status
        response.exclusion_reason = reason.strip()[:200] if status == "excluded" else None
        accounts.record(session, actor, "response.exclude" if status == "excluded" else "response.include",
                        response.id, reason=reason.strip()[:200])
    return len(responses)


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


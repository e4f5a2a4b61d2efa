"""Survey rounds: creating one, its settings (targets, quotas, window, invitations), its status
(draft → open → closed) and which round accepts responses now.

Every function takes the session first and never commits (see ``data.areas``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Mapping

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from data import accounts
from data.models import QuestionnaireVersion, SurveyRound
from data.scope import CITY, Scope, check_city_wide


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
    rule=None,
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
        **_rule_columns(rule),
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
    rule=None, scope: Scope,
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
    if rule is not None and _rule_columns(rule) != _rule_columns(survey_round):
        changes["rule"] = f"{rule.method}, {rule.sided}-sided, {rule.confidence:g}"
        for name, value in _rule_columns(rule).items():
            setattr(survey_round, name, value)
    if changes:
        accounts.record(session, actor, "round.update", survey_round.code, **changes)


def _rule_columns(rule) -> dict:
    """The stored columns of a verdict rule: ``rule`` is an ``analysis.rates.VerdictRule`` (checked
    when it was made), a round (its stored rule), or None for the columns' defaults (the planner's
    rule, one-sided 95 % Clopper-Pearson).  Only the values are stored here; what they mean is
    ``analysis``'s, and ``reports.snapshot.round_rule`` turns them back into a rule."""
    if rule is None:
        return {}
    if isinstance(rule, SurveyRound):
        return {"verdict_method": rule.verdict_method, "verdict_confidence": float(rule.verdict_confidence),
                "verdict_sided": rule.verdict_sided}
    return {"verdict_method": rule.method, "verdict_confidence": float(rule.confidence), "verdict_sided": rule.sided}


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


"""Questionnaire versions: uploading an edited questionnaire, listing versions, and which items of two
versions may be compared.

A version that respondents have answered never changes under them (``save_questionnaire``
refuses that).  An organiser who edits a questionnaire uploads the whole file again; if its content
differs from every stored version of the same code, it becomes a new version numbered one above the
highest stored one (whatever number the file carried), and responses keep pointing at the version they
answered.  Results stay comparable across versions through the stable question codes: an item whose
indicator and positive / invalid option codes are unchanged measures the same thing in both.

Every function takes the session first and never commits (see ``data.areas``).
"""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime
from pathlib import PurePath
from typing import Any

import pandas as pd
import yaml
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from data import accounts
from data.models import QuestionnaireVersion, Response, SurveyRound
from data.uploads import UPLOAD_LIMITS, read_limited, too_large_message
from questionnaires.bilingual import message_in  # noqa: F401  (pages show upload problems in one language)
from questionnaires import (
    Questionnaire,
    QuestionnaireError,
    parse_questionnaire,
    parse_questionnaire_text,
    questionnaire_from_dict,
)
from questionnaires.model import CHOICE_TYPES

UPLOAD_SUFFIXES = (".yaml", ".yml", ".xlsx", ".xls")


# ---------------------------------------------------------------------------------------- upload


def _read_xlsx(data: bytes, source: str) -> tuple[Questionnaire, list[str]]:
    from questionnaires.xlsform import import_xlsform

    return import_xlsform(data, source_name=source)


def _read_yaml(data: bytes, source: str) -> Questionnaire:
    try:
        content = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise QuestionnaireError([f"{source}: 文件不是 UTF-8 编码的文本 / the file is not UTF-8 text"]) from None
    return parse_questionnaire_text(content, source)


def check_upload(name: str, data: bytes) -> tuple[Questionnaire | None, list[str]]:
    """Validate an uploaded file (YAML or XLSForm .xlsx) without storing anything.

    Returns None and every problem found (bilingual "中文 / English" messages naming the file,
    question or sheet/row/column and field), or the questionnaire and no messages; see
    `upload_warnings` for what an XLSForm import ignored, defaulted or renamed.  The file is parsed
    in a worker process within the time and memory budget of ``data.uploads``.
    """
    return _check_upload(name, data)[:2]


def upload_warnings(name: str, data: bytes) -> list[str]:
    """What importing this (valid) XLSForm ignored, defaulted or renamed; [] for YAML and invalid files."""
    return _check_upload(name, data)[2]


def _check_upload(name: str, data: bytes) -> tuple[Questionnaire | None, list[str], list[str]]:
    source = PurePath(name or "upload").name
    suffix = PurePath(source).suffix.lower()
    kind = {".xlsx": "questionnaire_xlsx", ".xls": "questionnaire_xlsx", ".yaml": "questionnaire_yaml",
            ".yml": "questionnaire_yaml"}.get(suffix)
    if kind is not None:
        limit = UPLOAD_LIMITS[kind]
        if len(data) > limit.max_bytes:
            return None, [f"{source}: {too_large_message(limit)}"], []
        try:
            if kind == "questionnaire_xlsx":
                questionnaire, warnings = read_limited(
                    kind, lambda message: QuestionnaireError([f"{source}: {message}"]), _read_xlsx, bytes(data), source)
                return questionnaire, [], warnings
            return read_limited(kind, lambda message: QuestionnaireError([f"{source}: {message}"]), _read_yaml,
                                bytes(data), source), [], []
        except QuestionnaireError as error:
            return None, list(error.errors), []
    return None, [f"{source}: 只支持 YAML（.yaml / .yml）和 XLSForm（.xlsx / .xls）文件 / "
                  f"only YAML (.yaml, .yml) and XLSForm (.xlsx, .xls) files are supported"], []


# ---------------------------------------------------------------------------------------- versions


def _content_key(definition: dict[str, Any]) -> str:
    """The content of a questionnaire without its version number."""
    body = {k: v for k, v in definition.items() if k != "version"}
    return json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


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



def versions_of(session: Session, code: str) -> list[QuestionnaireVersion]:
    return list(session.scalars(
        select(QuestionnaireVersion).where(QuestionnaireVersion.code == code).order_by(QuestionnaireVersion.version)
    ))


def latest_version(session: Session, code: str) -> QuestionnaireVersion | None:
    found = versions_of(session, code)
    return found[-1] if found else None


def same_content_version(session: Session, questionnaire: Questionnaire) -> QuestionnaireVersion | None:
    """A stored version of the same code with exactly this content (the version number aside)."""
    # Compare through JSON so that the stored definition (read back from JSON) and the new one agree.
    wanted = _content_key(json.loads(json.dumps(questionnaire.to_dict(), ensure_ascii=False)))
    return next((v for v in versions_of(session, questionnaire.code) if _content_key(v.definition) == wanted), None)


def save_new_version(session: Session, actor: str | None, questionnaire: Questionnaire
                     ) -> tuple[QuestionnaireVersion, bool]:
    """Store an uploaded questionnaire as the next version of its code.

    Same content as a stored version of that code: that version is returned, ``created`` False.
    Otherwise it is stored as version = highest stored version + 1 (1 for a new code), whatever
    version number the file carried, and the change is audited.
    """
    existing = same_content_version(session, questionnaire)
    if existing is not None:
        return existing, False
    highest = session.scalar(
        select(func.max(QuestionnaireVersion.version)).where(QuestionnaireVersion.code == questionnaire.code)
    )
    number = (highest or 0) + 1
    renumbered = dataclasses.replace(questionnaire, version=number)
    # Re-check the renumbered questionnaire by the same rules as a file (and fail loudly if not valid).
    checked = parse_questionnaire(yaml_data(renumbered), f"{questionnaire.code} v{number}")
    if checked.content_hash() != renumbered.content_hash():
        raise QuestionnaireError([f"问卷 {questionnaire.code} 重新编号后内容发生变化 / "
                                  f"questionnaire {questionnaire.code} changed when renumbered"])
    stored = save_questionnaire(session, renumbered)
    accounts.record(session, actor, "questionnaire.version", questionnaire.code, version=number,
                    uploaded_version=questionnaire.version, content_hash=stored.content_hash)
    return stored, True


def list_versions(session: Session) -> pd.DataFrame:
    """Every stored version: id, code, version, title, created_at, rounds (codes using it), responses."""
    rows = session.execute(
        select(QuestionnaireVersion.id, QuestionnaireVersion.code, QuestionnaireVersion.version,
               QuestionnaireVersion.title_zh, QuestionnaireVersion.definition, QuestionnaireVersion.created_at)
        .order_by(QuestionnaireVersion.code, QuestionnaireVersion.version)
    ).all()
    rounds: dict[int, list[str]] = {}
    for version_id, round_code in session.execute(
        select(SurveyRound.questionnaire_id, SurveyRound.code).order_by(SurveyRound.code)
    ):
        rounds.setdefault(version_id, []).append(round_code)
    responses = dict(session.execute(
        select(Response.questionnaire_id, func.count()).group_by(Response.questionnaire_id)
    ).all())
    columns = ["id", "code", "version", "title", "title_en", "created_at", "rounds", "responses"]
    frame = pd.DataFrame(
        [
            (row.id, row.code, row.version, row.title_zh, (row.definition or {}).get("title", {}).get("en") or row.title_zh,
             row.created_at, ", ".join(rounds.get(row.id, [])), int(responses.get(row.id, 0)))
            for row in rows
        ],
        columns=columns,
    )
    return frame.astype({"id": "int64", "version": "int64", "responses": "int64"})


def load_version(session: Session, version_id: int) -> Questionnaire:
    return load_questionnaire_version(session, version_id)


# ---------------------------------------------------------------------------------------- export


def yaml_data(questionnaire: Questionnaire) -> dict[str, Any]:
    """The questionnaire as the plain data of a YAML file that loads back to exactly the same content.

    Defaults are written out (options, positive, invalid), so the file does not depend on the defaults
    of the version of the software that reads it.
    """
    full = questionnaire.to_dict()
    data: dict[str, Any] = {"code": full["code"], "version": full["version"], "title": full["title"]}
    for key in ("intro", "thanks"):
        if full[key]:
            data[key] = full[key]
    if full["sections"]:
        data["sections"] = full["sections"]
    questions = []
    # (to_dict leaves out the derived "please specify" text questions: `specify` makes them again)
    for question, raw in zip([q for q in questionnaire.questions if q.other_of is None], full["questions"]):
        out: dict[str, Any] = {"code": raw["code"]}
        if raw["section"] is not None:
            out["section"] = raw["section"]
        out["type"] = raw["type"]
        out["label"] = raw["label"]
        if raw["help"]:
            out["help"] = raw["help"]
        if question.is_note:
            if raw["relevant"]:
                out["relevant"] = raw["relevant"]
            questions.append(out)
            continue
        out["required"] = raw["required"]
        if question.type in CHOICE_TYPES:
            out["options"] = raw["options"]
            if raw["indicator"]:
                out["indicator"] = raw["indicator"]
            out["positive"] = raw["positive"]
            out["invalid"] = raw["invalid"]
            if raw["correct"]:
                out["correct"] = raw["correct"]
            if raw["screening"] is not None:
                out["screening"] = raw["screening"]
            if raw["demographic"]:
                out["demographic"] = raw["demographic"]
            for key in ("max_choices", "exclusive", "specify", "randomize"):
                if key in raw:
                    out[key] = raw[key]
        elif question.type == "number":
            for key in ("min", "max"):
                if raw[key] is not None:
                    out[key] = raw[key]
            out["integer"] = raw["integer"]
        elif raw["max_length"] is not None:
            out["max_length"] = raw["max_length"]
        for key in ("earliest", "latest"):  # a date question's bounds
            if key in raw:
                out[key] = raw[key]
        if raw["relevant"]:
            out["relevant"] = raw["relevant"]
        questions.append(out)
    data["questions"] = questions
    return data


def to_yaml(questionnaire: Questionnaire) -> str:
    """A YAML file of the questionnaire (codes such as yes / 18_29 are quoted for other YAML tools)."""
    header = (f"# {questionnaire.title.get('zh', questionnaire.code)}（第 {questionnaire.version} 版）\n"
              "# 格式说明见 questionnaires/README.md / format: see questionnaires/README.md\n")
    return header + yaml.safe_dump(yaml_data(questionnaire), allow_unicode=True, sort_keys=False, width=120)


def to_xlsform(questionnaire: Questionnaire) -> bytes:
    from questionnaires.xlsform import write_xlsform

    return write_xlsform(questionnaire)


def export_name(questionnaire: Questionnaire, suffix: str) -> str:
    return f"{questionnaire.code}_v{questionnaire.version}.{suffix}"


# ---------------------------------------------------------------------------------------- comparable items


def _msg(zh: str, en: str) -> str:
    return f"{zh} / {en}"


def comparable_items(q_old: Questionnaire, q_new: Questionnaire) -> pd.DataFrame:
    """Which indicator items' rates may be compared between two versions (matched by question code).

    One row per indicator item of either version: ``item``, ``indicator_old``, ``indicator_new``,
    ``comparable`` (present in both with the same indicator and the same positive and invalid option
    codes) and ``reason`` (bilingual, empty when comparable).
    """
    codes = [q.code for q in q_old.indicator_items()]
    codes += [q.code for q in q_new.indicator_items() if q.code not in codes]
    rows = []
    for code in codes:
        old = q_old.question(code) if q_old.has_question(code) else None
        new = q_new.question(code) if q_new.has_question(code) else None
        reasons = []
        if old is None:
            reasons.append(_msg("旧版本没有此题", "not in the old version"))
        elif new is None:
            reasons.append(_msg("新版本没有此题", "not in the new version"))
        else:
            if old.indicator != new.indicator:
                reasons.append(_msg(f"指标不同：{old.indicator or '无'} → {new.indicator or '无'}",
                                    f"different indicator: {old.indicator or 'none'} → {new.indicator or 'none'}"))
            for field, zh in (("positive", "正面选项"), ("invalid", "无效选项")):
                before, after = getattr(old, field), getattr(new, field)
                if before != after:
                    b = ", ".join(c for c in old.option_codes if c in before) or "-"
                    a = ", ".join(c for c in new.option_codes if c in after) or "-"
                    reasons.append(_msg(f"{zh}不同：{b} → {a}", f"different {field} options: {b} → {a}"))
        rows.append({
            "item": code,
            "indicator_old": old.indicator if old else None,
            "indicator_new": new.indicator if new else None,
            "comparable": not reasons,
            "reason": "；".join(r.split(" / ")[0] for r in reasons) + (
                " / " + "; ".join(r.split(" / ")[1] for r in reasons) if reasons else ""),
        })
    return pd.DataFrame(rows, columns=["item", "indicator_old", "indicator_new", "comparable", "reason"])


def questionnaire_of(row: QuestionnaireVersion) -> Questionnaire:
    return questionnaire_from_dict(row.definition)

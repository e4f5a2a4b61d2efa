"""``GET /q`` and ``POST /q``: the light citizen questionnaire, served by serve.py beside the app.

The same URL parameters as the Streamlit page (pages/survey.py), resolved the same way:
``community`` (community code), ``round`` (round code; unknown or closed: the newest open round, with
a notice), ``token`` (a single-use invitation), ``lang`` (``en``; Chinese otherwise).  ``GET`` opens
the first step with a fresh response id; every step is a ``POST`` carrying the signed state
(citizen_web.state) and the step's answers; the last one stores the response through
``data.submissions.submit`` as the Streamlit page does, once however often it is sent.

Whatever arrives may be hostile: a body over ``MAX_BODY`` bytes or ``MAX_FIELDS`` fields, one that is
not UTF-8 form data, or a state that fails its signature gets a short message in the citizen's
language and HTTP 400, never a 500; the cost of refusing is bounded by those limits.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime
from functools import lru_cache
from urllib.parse import parse_qsl, urlencode

from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from citizen_web.render import render, step_html
from citizen_web.state import FormState, sign, verify
from data import submissions
from data.area_labels import area_labels
from data.areas import area_by_id, areas_frame, community_by_code
from data.db import DatabaseNotWritable, database_url, read_session
from data.demo import open_app_database
from data.questionnaire_versions import load_questionnaire_version
from data.responses import SubmissionRefused, new_response_id
from data.rounds import accepts_responses, list_rounds, round_by_code
from questionnaires import Questionnaire, answer_rules, validate_answers
from questionnaires.bilingual import message_in
from questionnaires.paging import visible_steps
from ui.answered_marker import MARKER_DAYS, cookie_name, is_marked
from ui.i18n import text

logger = logging.getLogger(__name__)

MAX_BODY = 256 * 1024  # bytes of one step's form: the state of a long questionnaire fits many times over
MAX_FIELDS = 500
KEPT_PARAMETERS = ("community", "round", "token", "lang")
SECURITY_HEADERS = {
    # No script, no image, no font, nothing from elsewhere: the inline style sheet and forms to us.
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
                               "base-uri 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",  # the URL may hold an invitation token
    "Cache-Control": "no-store",  # the pages carry a citizen's answers (and the answered marker's effect)
}

_OPENING = threading.Lock()


@lru_cache(maxsize=4)
def _engine_for(url: str) -> Engine:
    # What the Streamlit app does at its first visit (ui.state): /q may be the first request a fresh
    # server gets, before anybody has opened the app.
    with _OPENING:
        return open_app_database(url)


@lru_cache(maxsize=32)
def _questionnaire(url: str, version_id: int) -> Questionnaire:
    """A stored questionnaire version never changes once saved, so it is read once."""
    with read_session(_engine_for(url)) as session:
        return load_questionnaire_version(session, version_id)


class Visit:
    """One request's language and the parameters it carries on to the next page."""

    def __init__(self, request: Request):
        params = request.query_params
        self.language = "en" if params.get("lang") == "en" else "zh"
        self.kept = {name: params[name] for name in KEPT_PARAMETERS if params.get(name)}
        self.secure = request.url.scheme == "https" or request.headers.get("x-forwarded-proto", "") == "https"
        self.cookies = request.cookies
        self.params = params

    def url(self, *, switch: bool = False, **extra) -> str:
        params = dict(self.kept, **extra)
        language = ("zh" if self.language == "en" else "en") if switch else self.language
        params.pop("lang", None)
        if language == "en":
            params["lang"] = "en"
        return "q" + (f"?{urlencode(params)}" if params else "")

    def t(self, key: str, **values) -> str:
        return text(key, self.language, **values)


def _page(html: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(html, status_code=status, headers=SECURITY_HEADERS)


def message_page(visit: Visit, messages: list[tuple[str, str]], status: int = 200, *, strong: str = "",
                 round_name: str = "", link: tuple[str, str] | None = None, communities=None) -> HTMLResponse:
    html = render("message.html", language=visit.language, messages=messages, strong=strong,
                  round_name=round_name, link=link, communities=communities,
                  keep=[(k, v) for k, v in visit.kept.items() if k != "community"],
                  switch_url=visit.url(switch=True))
    return _page(html, status)


def refused(visit: Visit, key: str) -> HTMLResponse:
    """A request that cannot be read or trusted: said plainly, 400, nothing stored."""
    return message_page(visit, [("bad", visit.t(key))], 400,
                        link=(visit.url(), visit.t("light_restart")))


def _round_name(visit: Visit, survey_round) -> str:
    return (survey_round.name_en or survey_round.name_zh) if visit.language == "en" else survey_round.name_zh


def _community_label(engine: Engine, community_id: int, language: str) -> str:
    """The community as the shortest end of 区 › 街道 › 社区 no other community of the city shares
    (data.area_labels), so a citizen can tell 城东区's 东门街道幸福社区 from 城西区's."""
    with read_session(engine) as session:
        return area_labels(areas_frame(session), language)[community_id]


def _community_groups(session, visit: Visit) -> list[tuple[str, list[tuple[str, str]]]]:
    """Communities grouped under 区 › 街道, for the one list a citizen without a link chooses from."""
    areas = areas_frame(session)
    name = "name_en" if visit.language == "en" else "name_zh"
    names = dict(zip(areas["id"], areas[name].where(areas[name].notna(), areas["name_zh"])))
    groups = []
    for street in areas[areas["level"] == "street"].itertuples():
        members = areas[(areas["level"] == "community") & (areas["parent_id"] == street.id)]
        if len(members):
            groups.append((f"{names.get(street.parent_id, '')} › {names[street.id]}",
                           [(row.code, names[row.id]) for row in members.itertuples()]))
    return groups


# ------------------------------------------------------------------------------------------ pages


def step_page(visit: Visit, questionnaire: Questionnaire, state: FormState, community_name: str, round_name: str,
              errors: dict | None = None, notices: list | None = None, status: int = 200) -> HTMLResponse:
    """The state's step (clamped to the steps the answers so far leave), with the errors under their
    questions."""
    steps = visible_steps(questionnaire, state.answers)
    state.step = min(state.step, len(steps) - 1)
    html = step_html(questionnaire, steps, state.step, state.answers, state.response_id, errors or {}, visit.language,
                     action=visit.url(), switch_action=visit.url(switch=True), round_name=round_name,
                     community_name=community_name, notices=notices or [], state=sign(state))
    return _page(html, status)


def show(request: Request) -> Response:
    """GET /q: the first step of a fresh questionnaire (or what stands in its way)."""
    visit = Visit(request)
    engine = _engine_for(database_url())
    now = datetime.now()
    with read_session(engine) as session:
        accepting = [r for r in list_rounds(session) if accepts_responses(r, now)]
        wanted_round = visit.params.get("round")
        survey_round = next((r for r in accepting if r.code == wanted_round), None)
        notices = []
        if survey_round is None:
            if wanted_round is not None:
                notices.append(("warn", visit.t("unknown_round")))
            survey_round = accepting[-1] if accepting else None
        if survey_round is None:
            return message_page(visit, [("info", visit.t("no_open_round"))])
        round_name = _round_name(visit, survey_round)
        if survey_round.requires_invitation and not visit.params.get("token"):
            return message_page(visit, [("warn", visit.t("invitation_needed"))], round_name=round_name)
        wanted = visit.params.get("community")
        community = community_by_code(session, wanted) if wanted else None
        if community is None or community.level != "community":
            if wanted:
                notices.append(("warn", visit.t("unknown_community")))
            return message_page(visit, notices or [("info", visit.t("choose_community_first"))],
                                round_name=round_name, communities=_community_groups(session, visit))
    questionnaire = _questionnaire(database_url(), survey_round.questionnaire_id)
    if is_marked(visit.cookies, survey_round.code) and visit.params.get("again") != "1":
        # As the Streamlit page: a phone that answered this round says so; a family member may still answer.
        return message_page(visit, [("ok", visit.t("already_answered_here"))], round_name=round_name,
                            link=(visit.url(again="1"), visit.t("answer_for_someone_else")))
    community_name = _community_label(engine, community.id, visit.language)
    state = FormState(survey_round.code, community.id, new_response_id(), now, token=visit.params.get("token"))
    return step_page(visit, questionnaire, state, community_name, round_name, notices=notices)


def read_form(body: bytes | None) -> dict[str, list[str]] | None:
    """The form's fields (name -> values), or None for what no browser's form sends: too large, too
    many fields, not UTF-8, a NUL character."""
    if body is None:
        return None
    try:
        pairs = parse_qsl(body.decode("ascii"), keep_blank_values=True, encoding="utf-8", errors="strict",
                          max_num_fields=MAX_FIELDS)
    except ValueError:  # UnicodeDecodeError included
        return None
    fields: dict[str, list[str]] = {}
    for name, value in pairs:
        if "\x00" in name or "\x00" in value:
            return None
        fields.setdefault(name, []).append(value)
    return fields


def step_answers(step, fields: dict[str, list[str]], answers: dict) -> None:
    """The step's answers from the form into ``answers`` (an emptied one is removed).  A choice is its
    option code(s), a number or text what was typed: the answer rules read and check them."""
    for question in step:
        if question.is_note:
            continue
        values = fields.get(question.code, [])
        if question.type == "multiple_choice":
            value = [v for v in values if v] or None
        else:
            value = values[0].strip() if values and values[0].strip() else None
        if value is None:
            answers.pop(question.code, None)
        else:
            answers[question.code] = value


def answer(request: Request, body: bytes | None) -> Response:
    """POST /q: take one step's answers; go back, stay with the problems, go on, or store."""
    visit = Visit(request)
    fields = read_form(body)
    if fields is None:
        return refused(visit, "light_bad_request")
    state = verify((fields.get("state") or [None])[0])
    if state is None:
        return refused(visit, "light_state_broken")
    engine = _engine_for(database_url())
    with read_session(engine) as session:
        survey_round = round_by_code(session, state.round_code)
        community = area_by_id(session, state.community_id)
    if survey_round is None or community is None:  # removed while the citizen was answering
        return message_page(visit, [("info", visit.t("no_open_round"))])
    questionnaire = _questionnaire(database_url(), survey_round.questionnaire_id)
    round_name = _round_name(visit, survey_round)
    community_name = _community_label(engine, community.id, visit.language)
    page = lambda errors=None, notices=None: step_page(  # noqa: E731 - the step as it now stands
        visit, questionnaire, state, community_name, round_name, errors, notices)

    steps = visible_steps(questionnaire, state.answers)
    state.step = min(state.step, len(steps) - 1)
    step = steps[state.step]
    step_answers(step, fields, state.answers)
    go = (fields.get("go") or ["next"])[0]
    if go == "back":
        state.step = max(state.step - 1, 0)
        return page()
    if go == "language":  # the answers so far kept, nothing checked
        return page()
    step_codes = {q.code for q in step}
    problems = {code: message for code, message in validate_answers(questionnaire, state.answers, visit.language).items()
                if code in step_codes}
    if problems:
        return page(problems)
    # This step's answers may show a later question (a condition on a date just given): count the steps again.
    last = state.step >= len(visible_steps(questionnaire, state.answers)) - 1
    if not last and not answer_rules.screened_out(questionnaire, state.answers):
        state.step += 1
        return page()
    try:
        result = submissions.submit(
            engine, response_id=state.response_id, survey_round=survey_round, questionnaire=questionnaire,
            community_id=state.community_id, answers=state.answers, channel="self", started_at=state.started_at,
            lang=visit.language, invitation_token=state.token,
        )
    except SubmissionRefused as refusal:
        shown = visible_steps(questionnaire, state.answers)
        errors = {code: message for code, message in refusal.messages.items() if any(q.code == code for s in shown for q in s)}
        if errors:  # back to the first answer that needs attention
            state.step = next(i for i, s in enumerate(shown) if any(q.code in errors for q in s))
            return page(errors)
        return page(notices=[("bad", visit.t("submit_failed", reason="；".join(refusal.messages.values())))])
    if not result.eligible:
        return message_page(visit, [("info", visit.t("not_eligible"))], round_name=round_name)
    # A double tap or a resubmit finds this very response stored (result.stored is False): for the
    # citizen that is the same success, and it is counted once.
    thanks = (questionnaire.thanks or {}).get(visit.language) or (questionnaire.thanks or {}).get("zh")
    response = message_page(visit, [("ok", thanks or visit.t("thanks_title"))], round_name=round_name,
                            strong=visit.t("submitted") if thanks else "")
    response.set_cookie(cookie_name(survey_round.code), "1", max_age=MARKER_DAYS * 86400, path="/",
                        httponly=True, samesite="lax", secure=visit.secure)
    return response


async def _bounded_body(request: Request) -> bytes | None:
    """The request's form body, or None when it is not a form or longer than MAX_BODY (read no further)."""
    if not request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        return None
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY:
        return None
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


async def questionnaire_endpoint(request: Request) -> Response:
    """Reading the body needs the event loop; everything else (the database, rendering) runs in
    Starlette's worker threads, as a plain sync endpoint would."""
    try:
        if request.method == "POST":
            body = await _bounded_body(request)
            return await run_in_threadpool(answer, request, body)
        return await run_in_threadpool(show, request)
    except DatabaseNotWritable as problem:
        visit = Visit(request)
        return message_page(visit, [("bad", message_in(str(problem), visit.language))], 503)


ROUTES = [Route("/q", questionnaire_endpoint, methods=["GET", "POST"])]

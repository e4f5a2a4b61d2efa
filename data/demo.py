"""The demo city the app opens on, and synthetic respondents with known true rates.

The same generator feeds the demo, the benchmark and the tests, so "known true rates" means the
same thing everywhere.
"""

from __future__ import annotations

import os
from datetime import date, datetime, timedelta
from typing import Mapping

import numpy as np
from sqlalchemy import Engine, select

from data.areas import add_area
from data.db import write_session
from data.demo_comments import demo_comment
from data.imports import bulk_import
from data.models import Area
from data.questionnaire_versions import save_questionnaire
from data.rounds import create_round
from questionnaires import INDICATORS, Questionnaire, load_default
from questionnaires.model import DATE_TYPES

DEFAULT_TARGETS = {"awareness": 0.95, "support": 0.95, "participation": 0.80, "satisfaction": 0.99}

# District code, Chinese name, English name, true rates in round 1 and round 2.  Chosen so that the
# demo shows districts that pass, fail and stay undecided, and improvement between rounds.
DEMO_DISTRICTS = [
    ("CD", "城东区", "Chengdong District", (0.97, 0.98, 0.84, 0.992), (0.985, 0.99, 0.88, 0.997)),
    ("CX", "城西区", "Chengxi District", (0.90, 0.95, 0.70, 0.965), (0.93, 0.96, 0.76, 0.978)),
    ("GX", "高新区", "Gaoxin District", (0.95, 0.97, 0.80, 0.985), (0.96, 0.98, 0.83, 0.99)),
    ("BJ", "滨江区", "Binjiang District", (0.985, 0.99, 0.90, 0.995), (0.99, 0.995, 0.92, 0.998)),
    ("BS", "北山县", "Beishan County", (0.86, 0.93, 0.62, 0.95), (0.91, 0.95, 0.72, 0.97)),
]
DEMO_STREETS = [("01", "东门街道", "Dongmen Street"), ("02", "南湖街道", "Nanhu Street"), ("03", "新华街道", "Xinhua Street")]
DEMO_COMMUNITIES = [("01", "幸福社区", "Xingfu Community"), ("02", "和平社区", "Heping Community"),
                    ("03", "团结社区", "Tuanjie Community")]

AGE_WEIGHTS = {"18_29": 0.18, "30_39": 0.2, "40_49": 0.2, "50_59": 0.18, "60_plus": 0.24}


def synthetic_answers(
    questionnaire: Questionnaire, rng: np.random.Generator, rates: Mapping[str, float], invalid_share: float = 0.02
) -> dict:
    """Answers of one plausible, eligible respondent: each indicator item is answered positively
    with the indicator's rate in ``rates``, sometimes with a "no valid answer" option."""
    answers: dict = {}
    for question in questionnaire.questions:
        codes = [option.code for option in question.options]
        allowed = [c for c in codes if question.screening_eligible is None or c in question.screening_eligible]
        if question.demographic == "age_group":
            groups = [g for g in AGE_WEIGHTS if g in allowed] or allowed
            weights = np.array([AGE_WEIGHTS.get(g, 1.0) for g in groups])
            answers[question.code] = groups[rng.choice(len(groups), p=weights / weights.sum())]
        elif question.screening_eligible is not None:
            answers[question.code] = sorted(question.screening_eligible)[0]
        elif question.indicator:
            answers[question.code] = _indicator_answer(question, codes, rng, rates[question.indicator], invalid_share)
        elif question.type == "multiple_choice":
            picked = [c for c in codes if rng.random() < 0.4] or codes[:1]
            if len(picked) > 1:  # an exclusive option (以上都没有) goes alone; at most max_choices
                picked = [c for c in picked if c not in question.exclusive] or picked[:1]
            answers[question.code] = picked[: question.max_choices or None]
        elif codes:
            answers[question.code] = codes[rng.integers(len(codes))]
        elif question.type == "number":
            low = int(question.min if question.min is not None else 0)
            high = int(question.max if question.max is not None else 50)
            answers[question.code] = int(rng.integers(low, min(high, low + 40) + 1))
        elif question.type in DATE_TYPES:
            answers[question.code] = _moment(question, rng)
    return answers


def _moment(question, rng: np.random.Generator) -> str:
    """A date, time or date-time as the questionnaire stores it: within the question's bounds, else in
    the last year; times between 07:00 and 21:59."""
    first = date.fromisoformat(question.earliest) if question.earliest else date.today() - timedelta(days=365)
    last = date.fromisoformat(question.latest) if question.latest else max(first, date.today())
    day = first + timedelta(days=int(rng.integers(0, (last - first).days + 1)))
    clock = f"{int(rng.integers(7, 22)):02d}:{int(rng.integers(0, 60)):02d}"
    return {"date": day.isoformat(), "time": clock, "datetime": f"{day.isoformat()}T{clock}"}[question.type]


def _indicator_answer(question, codes, rng, rate, invalid_share):
    invalid = [c for c in codes if c in question.invalid]
    positive = [c for c in codes if c in question.positive]
    negative = [c for c in codes if c not in question.positive and c not in question.invalid]
    draw = rng.random()
    if invalid and draw < invalid_share:
        choice = invalid[rng.integers(len(invalid))]
    elif rng.random() < rate or not negative:
        choice = positive[rng.integers(len(positive))]
    else:
        choice = negative[rng.integers(len(negative))]
    return [choice] if question.type == "multiple_choice" else choice


def build_city(session, districts=DEMO_DISTRICTS, streets=DEMO_STREETS, communities=DEMO_COMMUNITIES) -> list[Area]:
    """Create the area tree; returns the communities."""
    created = []
    for d_code, d_zh, d_en, *_ in districts:
        district = add_area(session, d_code, d_zh, "district", name_en=d_en)
        for s_code, s_zh, s_en in streets:
            street = add_area(session, f"{d_code}{s_code}", f"{d_zh}{s_zh}", "street", district, name_en=s_en)
            for c_code, c_zh, c_en in communities:
                created.append(
                    add_area(
                        session, f"{d_code}{s_code}{c_code}", f"{s_zh}{c_zh}", "community", street,
                        name_en=f"{c_en}, {s_en}",
                    )
                )
    return created


def load_demo(engine: Engine, *, seed: int = 2026, per_community=(34, 40), now: datetime | None = None) -> bool:
    """Fill an empty database with the demo city, the default questionnaire and two mock rounds.

    Does nothing (returns False) when the database already holds areas, so it is safe at every start.
    """
    now = now or datetime.now()
    with write_session(engine) as session:
        if session.scalar(select(Area.id).limit(1)) is not None:
            return False
        questionnaire = load_default()
        version = save_questionnaire(session, questionnaire)
        communities = build_city(session)
        rounds = [
            create_round(
                session, "2026-R1", "第一轮模拟测评", version, DEFAULT_TARGETS, name_en="Mock round 1",
                status="open", opens_at=now - timedelta(days=60), closes_at=now,
            ),
            create_round(
                session, "2026-R2", "第二轮模拟测评", version, DEFAULT_TARGETS, name_en="Mock round 2",
                status="open", opens_at=now - timedelta(days=7), closes_at=now + timedelta(days=30),
            ),
        ]
        rng = np.random.default_rng(seed)
        # Suggestions drawn from a generator of their own, so the answers stay what they always were.
        comment_rng = np.random.default_rng(seed + 1)
        text_codes = [q.code for q in questionnaire.questions if q.type == "text"]
        positive_of = {q.code: q.positive for q in questionnaire.questions if q.indicator == "satisfaction"}
        district_rates = {code: (r1, r2) for code, _, _, r1, r2 in DEMO_DISTRICTS}
        for index, survey_round in enumerate(rounds):
            records = []
            for community in communities:
                district_code = community.code[:2]
                rates = dict(zip(INDICATORS, district_rates[district_code][index]))
                for k in range(per_community[index]):
                    start = survey_round.opens_at + timedelta(minutes=int(rng.integers(0, 60 * 24 * 6)))
                    answers = synthetic_answers(questionnaire, rng, rates)
                    comment = demo_comment(comment_rng, answers, positive_of)
                    if comment and text_codes:
                        answers[text_codes[0]] = comment
                    records.append({
                        "community_id": community.id,
                        "answers": answers,
                        "channel": "interview",
                        "interviewer": f"{district_code}-{1 + k % 4:02d}",
                        "started_at": start,
                        "submitted_at": start + timedelta(seconds=int(rng.integers(240, 900))),
                    })
            bulk_import(session, survey_round, questionnaire, records)
        rounds[0].status = "closed"
    return True


def open_app_database(url: str | None = None) -> Engine:
    """What the app does at its start, for every way in (the Streamlit app's ``ui.state.engine``, the
    light citizen page): create or upgrade the database (``db.open_database``, which raises
    ``DatabaseNotWritable``) and, unless ``SURVEY_DEMO=0``, fill an empty one with the demo city, so
    a newcomer never opens on an empty screen; a real deployment starts from its own areas and
    questionnaire."""
    from data.db import open_database

    engine = open_database(url)
    if os.environ.get("SURVEY_DEMO", "1") != "0":
        load_demo(engine)
    return engine

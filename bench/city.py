"""The benchmark's synthetic city and its respondents, with known true rates per district.

The city is 10 districts × 10 streets × 10 communities (1,110 areas), built through the
storage modules like any real city.  Respondents are drawn column by column with numpy, by the same
rules as ``data.demo.synthetic_answers`` (which draws one respondent at a time and would take
minutes for a million), so every response is an independent draw, not a copy of another one:

* in district d, every indicator item gets a "no valid answer" option (不了解/说不清) with
  probability ``INVALID_SHARE`` where the item has one, else a positive option with probability
  ``DISTRICT_RATES[d][indicator]``, else a negative one; the true rate of every indicator and
  every item of district d, among valid answers, is therefore exactly that rate;
* ``SCREENED_OUT_SHARE`` of respondents answer the residence screening question "no" (they are
  stored as ineligible and count in no rate), everybody else is eligible;
* age groups follow ``data.demo.AGE_WEIGHTS``, other choice questions are uniform, multiple-choice
  options are ticked with probability 0.4 each, numbers are uniform in their range.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Iterator

import numpy as np
from sqlalchemy import Engine

import data.rounds
from data.areas import add_area
from data.db import write_session
from data.demo import AGE_WEIGHTS, DEFAULT_TARGETS
from data.models import Area, SurveyRound
from data.questionnaire_versions import save_questionnaire
from data.rounds import create_round
from questionnaires import INDICATORS, Questionnaire, load_default

DISTRICTS, STREETS, COMMUNITIES = 10, 10, 10
INVALID_SHARE = 0.02
SCREENED_OUT_SHARE = 0.02

# True rates (awareness, support, participation, satisfaction) per district: some clearly meet
# the default targets (0.95, 0.95, 0.80, 0.99), some clearly miss them, some sit close to them.
DISTRICT_RATES = [
    (0.97, 0.98, 0.84, 0.995),
    (0.90, 0.95, 0.70, 0.965),
    (0.95, 0.97, 0.80, 0.985),
    (0.985, 0.99, 0.90, 0.996),
    (0.86, 0.93, 0.62, 0.95),
    (0.96, 0.96, 0.82, 0.990),
    (0.93, 0.94, 0.78, 0.980),
    (0.99, 0.995, 0.92, 0.998),
    (0.88, 0.92, 0.66, 0.960),
    (0.955, 0.965, 0.81, 0.992),
]

BENCH_ROUND = "BENCH-R1"
LIVE_ROUND = "BENCH-LIVE"
ONE_BY_ONE_ROUND = "BENCH-LIVE-1TX"  # the same submissions, each in its own transaction, for comparison


def build_city(engine: Engine, districts: int = DISTRICTS, streets: int = STREETS, communities: int = COMMUNITIES):
    """Areas, the default questionnaire and two open rounds: ``BENCH-R1`` (the bulk import) and
    ``BENCH-LIVE`` (the concurrent citizen submissions).  Returns (community ids in code order,
    district index of each community, {round code: SurveyRound})."""
    now = datetime.now()
    community_ids, district_index = [], []
    with write_session(engine) as session:
        questionnaire = save_questionnaire(session, load_default())
        for d in range(districts):
            district = add_area(session, f"D{d + 1:02d}", f"第{d + 1}区", "district", name_en=f"District {d + 1}")
            for s in range(streets):
                street = add_area(
                    session, f"{district.code}S{s + 1:02d}", f"{district.name_zh}第{s + 1}街道", "street", district,
                    name_en=f"Street {s + 1}, {district.name_en}",
                )
                for c in range(communities):
                    community = add_area(
                        session, f"{street.code}C{c + 1:02d}", f"{street.name_zh}第{c + 1}社区", "community",
                        street, name_en=f"Community {c + 1}, {street.name_en}",
                    )
                    community_ids.append(community.id)
                    district_index.append(d)
        rounds = {
            code: create_round(
                session, code, name, questionnaire, DEFAULT_TARGETS, name_en=code, status="open",
                opens_at=now - timedelta(days=7), closes_at=now + timedelta(days=30),
            )
            for code, name in ((BENCH_ROUND, "基准测试轮"), (LIVE_ROUND, "并发提交轮"),
                               (ONE_BY_ONE_ROUND, "并发提交轮（逐条事务）"))
        }
    return np.array(community_ids), np.array(district_index), rounds


def true_rates(district: int) -> dict[str, float]:
    return dict(zip(INDICATORS, DISTRICT_RATES[district % len(DISTRICT_RATES)]))


class Generator:
    """Respondents in batches, reproducible from the seed: batch k is the same whatever was drawn
    before it, so the raw baseline and the real import can load exactly the same rows."""

    def __init__(self, questionnaire: Questionnaire, community_ids: np.ndarray, district_index: np.ndarray,
                 seed: int = 2026, opens_at: datetime | None = None, random_ids: bool = False):
        self.questionnaire = questionnaire
        self.random_ids = random_ids  # version 4 ids, as paper forms' (hashed) ids are: no order
        self.community_ids = community_ids
        self.district_index = district_index
        self.seed = seed
        self.opens_at = opens_at or datetime.now() - timedelta(days=7)
        self.rates = np.array([DISTRICT_RATES[d % len(DISTRICT_RATES)] for d in range(district_index.max() + 1)])

    def batch(self, k: int, size: int, of: int = 1) -> list[dict]:
        """Batch k of ``of``: ``size`` records for ``bulk_import`` (id, community_id, answers,
        times), started within the k-th of ``of`` equal slices of the round's first six days, so
        that batches in turn arrive in time order, as a week's responses do."""
        rng = np.random.default_rng([self.seed, k])
        which = rng.integers(len(self.community_ids), size=size)
        district = self.district_index[which]
        columns, codes = [], []
        for question in self.questionnaire.questions:
            column = self._column(question, rng, district, size)
            if column is not None:
                codes.append(question.code)
                columns.append(column)
        answers = [dict(zip(codes, values)) for values in zip(*columns)]
        window_ms = 6 * 24 * 3600 * 1000 // of
        start_ms = int(self.opens_at.replace(microsecond=0).timestamp()) * 1000 + (k % of) * window_ms
        started_ms = start_ms + rng.integers(0, window_ms, size=size)
        submitted_ms = started_ms + rng.integers(120_000, 900_000, size=size)
        ids = _uuid4_strings(rng, size) if self.random_ids else _uuid7_strings(started_ms, rng)
        started_at = [datetime.fromtimestamp(ms // 1000) for ms in started_ms.tolist()]
        submitted_at = [datetime.fromtimestamp(ms // 1000) for ms in submitted_ms.tolist()]
        community = self.community_ids[which].tolist()
        return [
            {"id": i, "community_id": c, "answers": a, "started_at": s, "submitted_at": t}
            for i, c, a, s, t in zip(ids, community, answers, started_at, submitted_at)
        ]

    def batches(self, n: int, size: int) -> Iterator[list[dict]]:
        count = -(-n // size)
        for k, start in enumerate(range(0, n, size)):
            yield self.batch(k, min(size, n - start), of=count)

    def _column(self, question, rng, district, size) -> list | None:
        codes = [option.code for option in question.options]
        if question.screening_eligible is not None and question.demographic != "age_group":
            eligible = sorted(question.screening_eligible)[0]
            others = [c for c in codes if c not in question.screening_eligible]
            if not others:
                return [eligible] * size
            out = np.full(size, eligible, dtype=object)
            out[rng.random(size) < SCREENED_OUT_SHARE] = others[0]
            return out.tolist()
        if question.demographic == "age_group":
            groups = [g for g in AGE_WEIGHTS if g in codes] or codes
            weights = np.array([AGE_WEIGHTS.get(g, 1.0) for g in groups])
            return np.array(groups, dtype=object)[rng.choice(len(groups), size=size, p=weights / weights.sum())].tolist()
        if question.indicator:
            return self._indicator_column(question, codes, rng, district, size)
        if question.type == "multiple_choice":
            ticked = rng.random((size, len(codes))) < 0.4
            return [[c for c, t in zip(codes, row) if t] or codes[:1] for row in ticked.tolist()]
        if codes:
            return np.array(codes, dtype=object)[rng.integers(len(codes), size=size)].tolist()
        if question.type == "number":
            low = int(question.min if question.min is not None else 0)
            high = int(question.max if question.max is not None else 50)
            return rng.integers(low, min(high, low + 40) + 1, size=size).tolist()
        return None  # free text: left empty, as synthetic_answers does

    def _indicator_column(self, question, codes, rng, district, size) -> list:
        invalid = [c for c in codes if c in question.invalid]
        positive = [c for c in codes if c in question.positive]
        negative = [c for c in codes if c not in question.positive and c not in question.invalid]
        rate = self.rates[district, list(INDICATORS).index(question.indicator)]
        is_invalid = (rng.random(size) < INVALID_SHARE) if invalid else np.zeros(size, dtype=bool)
        is_positive = (rng.random(size) < rate) | (not negative)
        out = np.empty(size, dtype=object)
        pick = lambda options, count: np.array(options, dtype=object)[rng.integers(len(options), size=count)]  # noqa: E731
        mask_pos = ~is_invalid & is_positive
        mask_neg = ~is_invalid & ~is_positive
        out[mask_pos] = pick(positive, int(mask_pos.sum()))
        if negative:
            out[mask_neg] = pick(negative, int(mask_neg.sum()))
        if invalid:
            out[is_invalid] = pick(invalid, int(is_invalid.sum()))
        values = out.tolist()
        return [[v] for v in values] if question.type == "multiple_choice" else values


def _uuid7_strings(unix_ms: np.ndarray, rng: np.random.Generator) -> list[str]:
    """Time-ordered ids (UUID version 7, RFC 9562) for forms opened at these times, as
    ``data.responses.new_response_id`` makes them when a form opens."""
    raw = rng.integers(0, 256, size=(len(unix_ms), 16), dtype=np.uint8)
    raw[:, :6] = (unix_ms.astype(">u8").view(np.uint8).reshape(-1, 8))[:, 2:]  # 48-bit milliseconds
    return _uuid_strings(raw, version=7)


def _uuid4_strings(rng: np.random.Generator, size: int) -> list[str]:
    return _uuid_strings(rng.integers(0, 256, size=(size, 16), dtype=np.uint8), version=4)


def _uuid_strings(raw: np.ndarray, version: int) -> list[str]:
    raw[:, 6] = (raw[:, 6] & 0x0F) | (version << 4)
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80  # RFC 9562 variant
    hexes = [bytes(row).hex() for row in raw]
    return [f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}" for h in hexes]


def round_by_code(engine: Engine, code: str) -> SurveyRound:
    with write_session(engine) as session:
        return data.rounds.round_by_code(session, code)


def district_codes(engine: Engine) -> dict[int, str]:
    from sqlalchemy import select

    with write_session(engine) as session:
        return dict(session.execute(select(Area.id, Area.code).where(Area.level == "district")).all())

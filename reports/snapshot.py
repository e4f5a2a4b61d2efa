"""A round's numbers as of now, cut to the reader's area scope: the one way into results.

``load_snapshot`` reads, in one database snapshot, what every results view needs (areas, tallies,
questionnaire, exclusions, district × age × sex cells) through ``data``, and composes it with what
``analysis`` derives from the whole round before any cut: the round's verdict rule as a
``VerdictRule`` and each indicator's within-respondent correlation, so that neither depends on who
looks.  ``reports.results.results_for`` then computes the tables.  This composition sits above both
layers: ``data`` stores and reads, ``analysis`` computes, neither imports the other.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field

import pandas as pd
from sqlalchemy import Engine, func, select

from analysis.rates import DEFAULT_RULE, VerdictRule
from analysis.rollup import round_correlations
from data.areas import areas_frame
from data.db import read_session
from data.models import Area, SurveyRound
from data.questionnaire_versions import load_questionnaire_version
from data.reads import exclusion_summary
from data.results import official_shares, restrict_to_area
from data.rounds import round_by_code
from data.scope import scope_of
from data.tallies import round_cell_tally, round_tally
from questionnaires import Questionnaire


def round_rule(survey_round: SurveyRound) -> VerdictRule:
    """The round's verdict rule (method, confidence level, sidedness), as stored with the round."""
    return VerdictRule(survey_round.verdict_method or DEFAULT_RULE.method,
                       float(survey_round.verdict_confidence or DEFAULT_RULE.confidence),
                       survey_round.verdict_sided or DEFAULT_RULE.sided)


@dataclass(frozen=True)
class RoundSnapshot:
    round_id: int
    round_code: str
    round_name_zh: str
    round_name_en: str
    targets: dict
    questionnaire: Questionnaire
    areas: pd.DataFrame
    tally: pd.DataFrame
    scope_area_id: int | None = None
    scope_level: str = "city"  # the level of the scope's own area
    exclusions: pd.DataFrame | None = None  # reason, responses: what the organisers excluded
    # Sums by district × age group × sex.  Kept at district grain, so a reader scoped to a street
    # or community gets none (they would reveal the rest of the district).
    cells: pd.DataFrame | None = None
    tally_version: int = 0
    # Interviews the official evaluation is expected to hold in the city (the forecast's sample).
    official_sample_size: int = 600
    # district id -> its share of the official sample (from the round's district quotas, else from
    # the whole round's respondents); only the districts in the reader's scope.
    official_shares: dict = field(default_factory=dict)
    # The round's verdict rule, and each indicator's within-respondent correlation estimated from the
    # whole round before any cut to a scope, so that neither depends on who looks.
    rule: VerdictRule = DEFAULT_RULE
    correlations: dict = field(default_factory=dict)
    # Results already computed from this snapshot, by (method, confidence).  Shared read-only.
    computed: dict = field(default_factory=dict, compare=False, repr=False)


_SNAPSHOTS: OrderedDict[tuple, RoundSnapshot] = OrderedDict()
_SNAPSHOTS_LOCK = threading.Lock()
_SNAPSHOTS_KEPT = 64


def load_snapshot(engine: Engine, round_code: str, scope_area_id: int | None = None) -> RoundSnapshot:
    """The round's numbers as of now.

    Every change to a round's tallies raises its ``tally_version`` in the same transaction, so when
    the version (and the area tree) is what this process saw last time, the snapshot it built then
    is still exactly current and is returned without reading the tallies again.  The frames of a
    snapshot are shared: callers must not modify them.
    """
    with read_session(engine) as session:
        survey_round = round_by_code(session, round_code)
        if survey_round is None:
            raise LookupError(f"未找到调查轮次 {round_code!r} / no round {round_code!r}")
        area_state = tuple(session.execute(select(func.count(Area.id), func.max(Area.id))).one())
        key = (engine.url.render_as_string(hide_password=True), survey_round.id, scope_area_id)
        with _SNAPSHOTS_LOCK:
            known = _SNAPSHOTS.get(key)
        if known is not None and known[0] == (survey_round.tally_version, area_state):
            return known[1]
        areas = areas_frame(session)
        tally = round_tally(session, survey_round.id)
        questionnaire = load_questionnaire_version(session, survey_round.questionnaire_id)
        rule = round_rule(survey_round)
        correlations = round_correlations(tally)
        scope_level = "city"
        shares = official_shares(areas, tally, survey_round.quotas or {})
        if scope_area_id is not None:
            areas, tally, scope_level = restrict_to_area(areas, tally, scope_area_id)
        exclusions = exclusion_summary(session, survey_round.id, scope=scope_of(session, scope_area_id))
        cells = round_cell_tally(session, survey_round.id)
    if scope_level in ("street", "community"):
        cells = cells.iloc[0:0]
    elif scope_level == "district":
        cells = cells[cells["district_id"] == scope_area_id].reset_index(drop=True)
    snapshot = RoundSnapshot(
        round_id=survey_round.id, round_code=survey_round.code, round_name_zh=survey_round.name_zh,
        round_name_en=survey_round.name_en or survey_round.name_zh, targets=dict(survey_round.targets),
        questionnaire=questionnaire, areas=areas, tally=tally, scope_area_id=scope_area_id,
        scope_level=scope_level, exclusions=exclusions, cells=cells, tally_version=survey_round.tally_version,
        official_sample_size=survey_round.official_sample_size,
        official_shares={d: share for d, share in shares.items() if d in set(areas["id"])},
        rule=rule, correlations=correlations,
    )
    with _SNAPSHOTS_LOCK:
        _SNAPSHOTS[key] = ((survey_round.tally_version, area_state), snapshot)
        _SNAPSHOTS.move_to_end(key)
        while len(_SNAPSHOTS) > _SNAPSHOTS_KEPT:
            _SNAPSHOTS.popitem(last=False)
    return snapshot

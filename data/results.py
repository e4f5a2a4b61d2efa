"""What every results view needs, read from one database snapshot and cut to the reader's area
scope (``reports.results.results_for`` hands it to `analysis`).  Pages, exports and the command line
all go through `load_snapshot`, so a district office can never see another district's numbers by
any of them.  The snapshot carries the round's verdict rule (``analysis.rates.VerdictRule``, a
value stored with the round) and the round-wide correlations (``analysis.rollup``), read before
any cut to a scope; nothing else of ``analysis`` is used here."""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field

import pandas as pd
from sqlalchemy import Engine, func, select

from analysis.rates import DEFAULT_RULE, VerdictRule
from analysis.rollup import round_correlations
from data.areas import areas_frame
from data.questionnaire_versions import load_questionnaire_version
from data.reads import exclusion_summary
from data.rounds import round_by_code, round_rule
from data.tallies import round_cell_tally, round_tally
from data.db import read_session
from data.models import Area
from data.scope import scope_of
from questionnaires import Questionnaire


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
        official_shares = _official_shares(areas, tally, survey_round.quotas or {})
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
        official_shares={d: share for d, share in official_shares.items() if d in set(areas["id"])},
        rule=rule, correlations=correlations,
    )
    with _SNAPSHOTS_LOCK:
        _SNAPSHOTS[key] = ((survey_round.tally_version, area_state), snapshot)
        _SNAPSHOTS.move_to_end(key)
        while len(_SNAPSHOTS) > _SNAPSHOTS_KEPT:
            _SNAPSHOTS.popitem(last=False)
    return snapshot


def _official_shares(areas: pd.DataFrame, tally: pd.DataFrame, quotas: dict) -> dict:
    """Each district's share of the official sample: its share of the round's district quotas when
    the round has them, else its share of the round's respondents (read before any scope cut, so a
    district office's forecast uses the same share as the city's)."""
    districts = areas[areas["level"] == "district"]
    by_code = {code: quota for code, quota in (quotas.get("districts") or {}).items() if quota}
    if by_code:
        counts = {int(i): float(by_code.get(code, 0)) for i, code in zip(districts["id"], districts["code"])}
    else:
        pooled = tally[tally["item"] == ""]
        district_of = dict(zip(areas["id"], areas["district_id"]))
        # People per community: the most respondents of any indicator (some skip a whole indicator).
        people = pooled.groupby("community_id")["respondents"].max()
        per_district = people.groupby(people.index.map(district_of)).sum()
        counts = {int(i): float(per_district.get(i, 0)) for i in districts["id"]}
    total = sum(counts.values())
    return {i: c / total for i, c in counts.items()} if total > 0 else {}


def restrict_to_area(areas: pd.DataFrame, tally: pd.DataFrame, area_id: int) -> tuple[pd.DataFrame, pd.DataFrame, str]:
    """The area and everything under it, nothing else (an unknown area leaves nothing)."""
    match = areas[areas["id"] == area_id]
    if match.empty:
        return areas.iloc[0:0], tally.iloc[0:0], "community"
    level = match["level"].iloc[0]
    if level == "district":
        keep = areas["district_id"] == area_id
    elif level == "street":
        keep = areas["street_id"] == area_id
    else:
        keep = areas["id"] == area_id
    inside = areas[keep]
    return inside.reset_index(drop=True), tally[tally["community_id"].isin(inside["id"])].reset_index(drop=True), level


def levels_below(scope_level: str) -> list[str]:
    """The area levels a reader with this scope can break results down by."""
    order = ["district", "street", "community"]
    return order if scope_level == "city" else order[order.index(scope_level):]

"""What every results view needs, read from one database snapshot and cut to the reader's area
scope (``reports.results.results_for`` hands it to `analysis`).  Pages, exports and the command line
all go through `load_snapshot`, so a district office can never see another district's numbers by
any of them."""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field

import pandas as pd
from sqlalchemy import Engine, func, select

from data.areas import areas_frame
from data.db import read_session
from data.models import Area
from data.questionnaire_versions import load_questionnaire_version
from data.reads import exclusion_summary
from data.rounds import round_by_code
from data.tallies import round_cell_tally, round_tally
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
        scope_level = "city"
        if scope_area_id is not None:
            areas, tally, scope_level = restrict_to_area(areas, tally, scope_area_id)
        in_scope = None if scope_area_id is None else areas.loc[areas["level"] == "community", "id"].tolist()
        exclusions = exclusion_summary(session, survey_round.id, in_scope)
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
    )
    with _SNAPSHOTS_LOCK:
        _SNAPSHOTS[key] = ((survey_round.tally_version, area_state), snapshot)
        _SNAPSHOTS.move_to_end(key)
        while len(_SNAPSHOTS) > _SNAPSHOTS_KEPT:
            _SNAPSHOTS.popitem(last=False)
    return snapshot


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

"""Respondent rows for a clustered design add up to the stored tallies, on SQLite and PostgreSQL."""

from __future__ import annotations

import numpy as np

from data.questionnaire_versions import load_questionnaire_version
from data.rounds import round_by_code
from data.tallies import round_tally
from data.db import read_session
from data.demo import load_demo
from data.design import design_rows


def test_design_rows_add_up_to_the_tally(engine):
    load_demo(engine, per_community=(3, 4))
    with read_session(engine) as session:
        survey_round = round_by_code(session, "2026-R2")
        questionnaire = load_questionnaire_version(session, survey_round.questionnaire_id)
        rows = design_rows(session, survey_round.id, questionnaire)
        tally = round_tally(session, survey_round.id)
        district = int(rows["district_id"].iloc[0])
        one = design_rows(session, survey_round.id, questionnaire, district_ids=[district])
    pooled = tally[tally["item"] == ""].groupby(["community_id", "indicator"])[
        ["respondents", "valid", "positive", "valid_sq", "positive_sq", "valid_positive"]].sum()
    ours = rows.assign(respondents=1, valid_sq=rows["valid"] ** 2, positive_sq=rows["positive"] ** 2,
                       valid_positive=rows["valid"] * rows["positive"]).groupby(["community_id", "indicator"])[
        list(pooled.columns)].sum()
    assert ours.sort_index().equals(pooled.sort_index().astype(ours.dtypes.to_dict()))
    assert set(one["district_id"]) == {district} and len(one) == (rows["district_id"] == district).sum()
    # Every respondent is in exactly one cluster: an interviewer's, or a cluster of one.
    assert not rows["interviewer"].isna().any()
    assert np.all(rows.groupby("response_id")["interviewer"].nunique() == 1)

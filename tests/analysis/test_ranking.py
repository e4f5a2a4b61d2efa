"""Weak items, red/black lists and breakdowns, on small frames whose answers are known by hand."""

import numpy as np
import pandas as pd

from analysis.rates import add_indicator_rates
from analysis.ranking import breakdown, red_black_list, weak_items


def test_weak_items_weigh_the_shortfall_by_the_items_share():
    indicators = pd.DataFrame({"level": ["district"], "area_id": [1], "indicator": ["satisfaction"], "valid": [1000]})
    items = pd.DataFrame({
        "level": "district", "area_id": 1, "indicator": "satisfaction", "item": ["rare", "common", "fine"],
        "valid": [50, 500, 450], "rate": [0.80, 0.97, 0.995], "target": 0.99,
    })
    result = weak_items(items, indicators)
    # common: 0.5 × 0.02 = 0.010 ; rare: 0.05 × 0.19 = 0.0095 ; fine is above target: 0
    assert result["item"].tolist() == ["common", "rare", "fine"]
    np.testing.assert_allclose(result["cost"], [0.010, 0.0095, 0.0])


def test_red_black_list_ranks_only_areas_that_can_be_judged():
    indicators = pd.DataFrame({
        "level": "district", "area_id": [1, 2, 3, 4], "indicator": "awareness",
        "rate": [0.99, 0.90, 0.96, 1.0], "respondents": [400, 400, 400, 12],
        "verdict": ["met", "not_met", "undecided", "met"],
    })
    ranked = red_black_list(indicators, "district", "awareness")
    assert ranked["area_id"].tolist() == [1, 3, 2, 4]
    assert ranked["rank"].tolist()[:3] == [1, 2, 3] and pd.isna(ranked["rank"].iloc[3])
    assert ranked["list"].tolist() == ["red", "", "black", ""]


def test_breakdown_pools_districts_and_equals_a_direct_computation():
    rng = np.random.default_rng(3)
    rows = []
    for district in (1, 2):
        for age in ("18_29", "60_plus"):
            for sex in ("male", "female"):
                x = rng.integers(1, 4, 50)
                y = rng.binomial(x, 0.9)
                rows.append({"district_id": district, "age_group": age, "sex": sex, "indicator": "awareness",
                             "item": "", "respondents": 50, "valid": x.sum(), "positive": y.sum(),
                             "valid_sq": (x * x).sum(), "positive_sq": (y * y).sum(), "valid_positive": (x * y).sum()})
    cells = pd.DataFrame(rows)
    by_age = breakdown(cells, ["age_group"])
    assert by_age["respondents"].tolist() == [200, 200]
    direct = add_indicator_rates(cells.groupby(["age_group", "indicator"], as_index=False)[
        ["respondents", "valid", "positive", "valid_sq", "positive_sq", "valid_positive"]].sum())
    pd.testing.assert_frame_equal(by_age, direct)
    only_one = breakdown(cells, ["sex"], district_ids=[2])
    assert only_one["respondents"].tolist() == [100, 100]

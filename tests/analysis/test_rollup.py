
import numpy as np
import pandas as pd
import pytest

from analysis import (
    LEVELS,
    RoundResults,
    add_indicator_rates,
    extra_interviews_needed,
    proportion_ci,
    roll_up,
    round_results,
)

SUMS = ["respondents", "valid", "positive", "valid_sq", "positive_sq", "valid_positive"]

# 2 districts, 3 streets, 5 communities; 社区E has no interviews.
#   1 东区 ── 11 东街道 ── 111 社区A, 112 社区B
#          └─ 12 南街道 ── 121 社区C
#   2 西区 ── 21 西街道 ── 211 社区D, 212 社区E
AREAS = pd.DataFrame(
    [
        (1, "D1", "东区", "East", "district", None, None, 1),
        (2, "D2", "西区", "West", "district", None, None, 2),
        (11, "D1S1", "东街道", "East St", "street", 1, 11, 1),
        (12, "D1S2", "南街道", "South St", "street", 1, 12, 1),
        (21, "D2S1", "西街道", "West St", "street", 2, 21, 2),
        (111, "D1S1C1", "社区A", "Comm A", "community", 11, 11, 1),
        (112, "D1S1C2", "社区B", "Comm B", "community", 11, 11, 1),
        (121, "D1S2C1", "社区C", "Comm C", "community", 12, 12, 1),
        (211, "D2S1C1", "社区D", "Comm D", "community", 21, 21, 2),
        (212, "D2S1C2", "社区E", "Comm E", "community", 21, 21, 2),
    ],
    columns=["id", "code", "name_zh", "name_en", "level", "parent_id", "street_id", "district_id"],
)

# Each respondent: answers to awareness items A1, A2 (1 positive, 0 negative,
# None not valid) and satisfaction item S1.
RAW = {
    111: [(1, 1, 1), (1, 0, 1), (1, 1, 1)],
    112: [(0, 0, 1), (1, None, 0)],
    121: [(1, 1, 1), (1, 1, 1), (1, 1, 0), (None, None, 1)],
    211: [(1, 1, 1)],
}
ITEMS = {"A1": "awareness", "A2": "awareness", "S1": "satisfaction"}


def _tally_from_raw(raw):
    rows = []
    for community, answers in raw.items():
        a = np.array([[np.nan if v is None else v for v in r] for r in answers], dtype=float)
        cols = {"A1": a[:, 0], "A2": a[:, 1], "S1": a[:, 2]}
        for indicator, codes in (("awareness", ["A1", "A2"]), ("satisfaction", ["S1"])):
            block = np.column_stack([cols[c] for c in codes])
            x = (~np.isnan(block)).sum(axis=1)
            y = np.nansum(block, axis=1)
            for item, xi, yi in [("", x, y)] + [(c, (~np.isnan(cols[c])).astype(int), np.nan_to_num(cols[c])) for c in codes]:
                rows.append({
                    "community_id": community, "indicator": indicator, "item": item,
                    "respondents": int((xi > 0).sum()), "valid": int(xi.sum()), "positive": int(yi.sum()),
                    "valid_sq": int((xi * xi).sum()), "positive_sq": int((yi * yi).sum()),
                    "valid_positive": int((xi * yi).sum()),
                })
    return pd.DataFrame(rows)


TALLY = _tally_from_raw(RAW)
TARGETS = {"awareness": 0.95, "satisfaction": 0.99, "support": None}


def _row(df, area_id, indicator, item=None):
    sel = (df["area_id"] == area_id) & (df["indicator"] == indicator)
    if item is not None:
        sel &= df["item"] == item
    assert sel.sum() == 1
    return df.loc[sel].iloc[0]


def test_tally_fixture_by_hand():
    # 社区A awareness: x = (2, 2, 2), y = (2, 1, 2).
    a = _row(TALLY.rename(columns={"community_id": "area_id"}), 111, "awareness", "")
    assert a[SUMS].tolist() == [3, 6, 5, 12, 9, 10]


def test_roll_up_sums_by_hand():
    district = roll_up(TALLY, AREAS, "district")
    east = _row(district, 1, "awareness", "")
    # 社区A (6 valid, 5 pos), 社区B (x=(2,1), y=(0,1)), 社区C (x=(2,2,2,0), y=(2,2,2,0)).
    assert east[["respondents", "valid", "positive"]].tolist() == [3 + 2 + 3, 6 + 3 + 6, 5 + 1 + 6]
    assert east["valid_sq"] == 12 + (4 + 1) + 12
    assert east["positive_sq"] == 9 + 1 + 12
    assert east["valid_positive"] == 10 + 1 + 12
    assert (east["area_code"], east["area_name_zh"], east["parent_name_zh"], east["parent_name_en"]) == (
        "D1", "东区", "全市", "Whole city",
    )
    s1 = _row(district, 2, "satisfaction", "S1")
    assert s1[["respondents", "valid", "positive"]].tolist() == [1, 1, 1]

    street = roll_up(TALLY, AREAS, "street")
    assert _row(street, 11, "awareness", "A1")[["valid", "positive"]].tolist() == [5, 4]
    assert _row(street, 12, "awareness", "A1")["parent_name_en"] == "East"

    city = roll_up(TALLY, AREAS, "city")
    assert set(city["area_id"]) == {0}
    assert (city["area_code"].iloc[0], city["area_name_zh"].iloc[0], city["area_name_en"].iloc[0]) == (
        "city", "全市", "Whole city",
    )
    # Every level adds up to the same city total.
    for level in LEVELS:
        got = roll_up(TALLY, AREAS, level).groupby(["indicator", "item"])[SUMS].sum()
        want = TALLY.groupby(["indicator", "item"])[SUMS].sum()
        pd.testing.assert_frame_equal(got, want, check_dtype=False)


def test_roll_up_keeps_empty_areas():
    community = roll_up(TALLY, AREAS, "community")
    keys = TALLY[["indicator", "item"]].drop_duplicates()
    assert len(community) == 5 * len(keys)
    empty = community[community["area_id"] == 212]
    assert len(empty) == len(keys) and (empty[SUMS] == 0).all().all()
    assert empty["parent_name_zh"].eq("西街道").all()
    # A street with no communities at all still appears.
    areas = pd.concat([AREAS, pd.DataFrame([(22, "D2S2", "北街道", "North St", "street", 2, 22, 2)],
                                           columns=AREAS.columns)])
    street = roll_up(TALLY, areas, "street")
    assert (street.loc[street["area_id"] == 22, SUMS] == 0).all().all()
    assert street["area_id"].drop_duplicates().tolist() == [11, 12, 21, 22]  # code order


def test_roll_up_ignores_unknown_communities_and_bad_level():
    stray = TALLY.iloc[[0]].assign(community_id=999)
    city = roll_up(pd.concat([TALLY, stray]), AREAS, "city")
    assert _row(city, 0, "awareness", "")["valid"] == TALLY.query("item == '' and indicator == 'awareness'")["valid"].sum()
    with pytest.raises(ValueError, match="level"):
        roll_up(TALLY, AREAS, "province")


def test_round_results_indicators():
    res = round_results(TALLY, AREAS, TARGETS)
    assert isinstance(res, RoundResults)
    ind = res.indicators
    assert list(ind.columns) == [
        "level", "area_id", "area_code", "area_name_zh", "area_name_en", "parent_name_zh", "parent_name_en",
        "indicator", "respondents", "valid", "positive", "rate", "se", "deff", "n_eff", "ci_low", "ci_high",
        "target", "verdict", "extra_needed", "too_small",
    ]
    # 1 city + 2 districts + 3 streets + 5 communities, 3 indicators each: support
    # is named in the targets but nobody was asked, so it shows as no data.
    assert len(ind) == 11 * 3
    assert ind["level"].drop_duplicates().tolist() == list(LEVELS)
    assert ind.loc[ind["area_id"] == 1, "indicator"].tolist() == ["awareness", "support", "satisfaction"]
    assert (ind.loc[ind["indicator"] == "support", "verdict"] == "no_data").all()

    east = _row(ind, 1, "awareness")
    want = add_indicator_rates(roll_up(TALLY, AREAS, "district")).pipe(_row, 1, "awareness", "")
    for col in ["rate", "se", "deff", "n_eff", "ci_low", "ci_high"]:
        assert east[col] == pytest.approx(want[col], nan_ok=True)
    assert east["rate"] == pytest.approx(12 / 15)
    assert east["target"] == 0.95 and east["too_small"]

    empty = _row(ind, 212, "awareness")
    assert empty["verdict"] == "no_data" and np.isnan(empty["rate"]) and np.isnan(empty["extra_needed"])
    assert (ind.loc[ind["verdict"].isin(["met", "not_met"]), "extra_needed"] == 0).all()
    undecided = ind[ind["verdict"] == "undecided"]
    assert len(undecided) > 0
    np.testing.assert_array_equal(
        undecided["extra_needed"],
        extra_interviews_needed(undecided["rate"], undecided["n_eff"], undecided["respondents"], undecided["target"]),
    )
    assert (ind["too_small"] == (ind["respondents"] < 30)).all()


def test_round_results_items_sorted_weakest_first():
    items = round_results(TALLY, AREAS, TARGETS, method="jeffreys", levels=("district", "community")).items
    assert list(items.columns) == [
        "level", "area_id", "area_code", "area_name_zh", "area_name_en", "parent_name_zh", "parent_name_en",
        "indicator", "item", "valid", "positive", "rate", "ci_low", "ci_high", "target", "gap", "verdict",
    ]
    assert (items["item"] != "").all()
    assert items["level"].drop_duplicates().tolist() == ["district", "community"]
    east = items[(items["level"] == "district") & (items["area_id"] == 1)]
    # Counted by hand over 社区A-C: A1 = 1,1,1,0,1,1,1,1 -> 7/8; A2 = 1,0,1,0,1,1,1 -> 5/7; S1 -> 7/9.
    assert east["item"].tolist() == ["A2", "S1", "A1"]
    assert east["rate"].tolist() == pytest.approx([5 / 7, 7 / 9, 7 / 8])
    assert east["target"].tolist() == [0.95, 0.99, 0.95]
    assert east["gap"].tolist() == pytest.approx([5 / 7 - 0.95, 7 / 9 - 0.99, 7 / 8 - 0.95])
    low, high = proportion_ci(5, 7, "jeffreys")
    assert (east["ci_low"].iloc[0], east["ci_high"].iloc[0]) == pytest.approx((low, high))
    # Areas in code order within a level; empty items last with no_data.
    community = items[items["level"] == "community"]
    assert community["area_code"].drop_duplicates().tolist() == ["D1S1C1", "D1S1C2", "D1S2C1", "D2S1C1", "D2S1C2"]
    assert (community.loc[community["area_id"] == 212, "verdict"] == "no_data").all()


def test_round_results_empty_tally_shows_every_area():
    res = round_results(TALLY.iloc[:0], AREAS, TARGETS, levels=("city", "district"))
    assert res.indicators["area_code"].tolist() == ["city"] * 3 + ["D1"] * 3 + ["D2"] * 3
    assert (res.indicators["verdict"] == "no_data").all() and res.items.empty
    with pytest.raises(ValueError, match="levels"):
        round_results(TALLY, AREAS, TARGETS, levels=())


def test_round_results_indicator_order_and_missing_target():
    extra = TALLY[TALLY["indicator"] == "awareness"].assign(indicator="trust")
    support = TALLY[TALLY["indicator"] == "satisfaction"].assign(indicator="support", item=lambda d: d["item"].str.replace("S1", "P1"))
    tally = pd.concat([extra, TALLY, support])
    ind = round_results(tally, AREAS, TARGETS, levels=("city",)).indicators
    assert ind["indicator"].tolist() == ["awareness", "support", "satisfaction", "trust"]
    assert ind.set_index("indicator").loc[["support", "trust"], "verdict"].tolist() == ["no_target", "no_target"]


def _big_fixture(n_districts=10, streets_per=10, communities_per=10, seed=1):
    rng = np.random.default_rng(seed)
    rows, cid = [], 0
    for d in range(n_districts):
        did = 1 + d
        rows.append((did, f"D{d:02d}", f"区{d}", f"District {d}", "district", None, None, did))
        for s in range(streets_per):
            sid = 1000 + d * 100 + s
            rows.append((sid, f"D{d:02d}S{s:02d}", f"街道{s}", f"Street {s}", "street", did, sid, did))
            for c in range(communities_per):
                cid = 100000 + d * 10000 + s * 100 + c
                rows.append((cid, f"D{d:02d}S{s:02d}C{c:02d}", f"社区{c}", f"Community {c}", "community", sid, sid, did))
    areas = pd.DataFrame(rows, columns=AREAS.columns)
    communities = areas.loc[areas["level"] == "community", "id"].to_numpy()
    keys = [(ind, "") for ind in ("awareness", "support", "participation", "satisfaction")]
    keys += [("awareness", f"A{i}") for i in range(8)] + [("support", "P0"), ("participation", "Q0")]
    keys += [("satisfaction", f"S{i:02d}") for i in range(15)]
    n = len(communities) * len(keys)
    resp = rng.integers(20, 60, n)
    valid = resp * rng.integers(1, 4, n)
    positive = np.minimum(valid, np.round(valid * rng.uniform(0.85, 1.0, n))).astype(int)
    tally = pd.DataFrame({
        "community_id": np.repeat(communities, len(keys)),
        "indicator": [k[0] for k in keys] * len(communities),
        "item": [k[1] for k in keys] * len(communities),
        "respondents": resp, "valid": valid, "positive": positive,
        "valid_sq": valid * valid // resp + 1, "positive_sq": positive * positive // resp + 1,
        "valid_positive": valid * positive // resp + 1,
    })
    return tally, areas


def test_round_results_covers_a_whole_city():
    # Speed is measured by bench/, not here; this checks the shape at full city size.
    tally, areas = _big_fixture()
    targets = {"awareness": 0.95, "support": 0.9, "participation": 0.8, "satisfaction": 0.99}
    res = round_results(tally, areas, targets)
    assert len(res.indicators) == (1 + 10 + 100 + 1000) * 4
    assert len(res.items) == (1 + 10 + 100 + 1000) * 25


def test_roll_up_accepts_missing_item_codes_and_float_sums():
    # Weighted tallies carry float sums; a None item code is the pooled row.
    tally = TALLY.assign(item=TALLY["item"].replace("", None), valid=TALLY["valid"] * 1.0)
    got = roll_up(tally, AREAS, "district")
    want = roll_up(TALLY, AREAS, "district")
    assert got["valid"].dtype == float and got["positive"].dtype == np.int64
    pd.testing.assert_frame_equal(got, want, check_dtype=False)


def test_round_results_with_no_areas_in_scope():
    # data.results.restrict_to_area hands over empty frames for an unknown scope.
    res = round_results(TALLY.iloc[0:0], AREAS.iloc[0:0], TARGETS)
    assert res.indicators["level"].tolist() == ["city"] * 3
    assert (res.indicators["verdict"] == "no_data").all() and res.items.empty

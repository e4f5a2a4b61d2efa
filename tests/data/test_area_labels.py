"""Area labels: unique within their level, as short as that allows, never repeating a name."""

from __future__ import annotations

import pandas as pd

from data.area_labels import area_labels, label_column
from data.demo import DEMO_COMMUNITIES, DEMO_DISTRICTS, DEMO_STREETS
from data.results import restrict_to_area


def demo_areas() -> pd.DataFrame:
    """The demo city's tree, named the way data/demo.py names it (parents glued in front)."""
    rows, next_id = [], 1
    for d_code, d_zh, d_en, *_ in DEMO_DISTRICTS:
        district = next_id
        rows.append((district, d_code, d_zh, d_en, "district", None, None, district))
        next_id += 1
        for s_code, s_zh, s_en in DEMO_STREETS:
            street = next_id
            rows.append((street, d_code + s_code, d_zh + s_zh, s_en, "street", district, street, district))
            next_id += 1
            for c_code, c_zh, c_en in DEMO_COMMUNITIES:
                rows.append((next_id, d_code + s_code + c_code, s_zh + c_zh, f"{c_en}, {s_en}", "community",
                             street, street, district))
                next_id += 1
    return pd.DataFrame(rows, columns=["id", "code", "name_zh", "name_en", "level", "parent_id", "street_id",
                                       "district_id"])


def by_code(areas, labels):
    return dict(zip(areas["code"], (labels[i] for i in areas["id"])))


def test_whole_city_labels_are_unique_per_level_and_show_the_path():
    areas = demo_areas()
    for language in ("zh", "en"):
        labels = area_labels(areas, language)
        for level, group in areas.groupby("level"):
            shown = [labels[i] for i in group["id"]]
            assert len(set(shown)) == len(shown), (language, level)
    zh = by_code(areas, area_labels(areas, "zh"))
    assert zh["CD"] == "城东区"
    assert zh["CD01"] == "城东区 › 东门街道"
    assert zh["CD0102"] == "城东区 › 东门街道 › 和平社区"
    assert zh["CX0102"] == "城西区 › 东门街道 › 和平社区"
    en = by_code(areas, area_labels(areas, "en"))
    assert en["CD0102"] == "Chengdong District › Dongmen Street › Heping Community"


def test_a_district_scope_drops_the_district_from_paths():
    areas, _, _ = restrict_to_area(demo_areas(), pd.DataFrame({"community_id": []}), 1)
    zh = by_code(areas, area_labels(areas, "zh"))
    assert zh["CD01"] == "东门街道"
    assert zh["CD0102"] == "东门街道 › 和平社区"


def test_names_unique_on_their_own_stay_short():
    areas = pd.DataFrame({
        "id": [1, 2, 3, 4], "code": ["A", "A1", "A2", "A11"], "name_zh": ["甲区", "一街道", "二街道", "晨光社区"],
        "name_en": ["A", "One", "Two", "Dawn"], "level": ["district", "street", "street", "community"],
        "parent_id": [None, 1, 1, 2],
    })
    assert area_labels(areas) == {1: "甲区", 2: "一街道", 3: "二街道", 4: "晨光社区"}


def test_identical_paths_still_differ_by_code():
    areas = pd.DataFrame({
        "id": [1, 2, 3], "code": ["A", "A1", "A1b"], "name_zh": ["甲区", "一街道", "一街道"],
        "name_en": ["A", "One", "One"], "level": ["district", "street", "street"], "parent_id": [None, 1, 1],
    })
    labels = area_labels(areas)
    assert labels[2] != labels[3] and labels[2].endswith("(A1)")
    assert label_column([3, 99], areas, missing="—") == [labels[3], "—"]

"""Area labels people can tell apart: the one labelling function behind every chart, table, picker,
list, link table and poster.

Real cities reuse names: every district has its 东门街道 and many streets a 和平社区.  An area is
labelled by the shortest end of its path 区 › 街道 › 社区 that no other area of the same level
(among the areas given, usually the reader's scope) shares: 城东区 › 东门街道 › 和平社区 in the whole
city, 东门街道 › 和平社区 for an analyst of 城东区, 和平社区 where it is the only one.

Names stored with their parent's name in front (the demo's 城东区东门街道, 东门街道和平社区) or, in
English, behind (Heping Community, Dongmen Street) are shortened first, so the path never repeats
a name.  Pure pandas, no Streamlit and no database.
"""

from __future__ import annotations

from collections import Counter

import pandas as pd

SEPARATOR = " › "
LEVEL_ORDER = ("district", "street", "community")


def _own_name(name: str, parent_name: str | None) -> str:
    """The area's name without its parent's name glued to the front (zh) or the end (en)."""
    name = str(name).strip()
    if not parent_name:
        return name
    parent_name = str(parent_name).strip()
    if name.startswith(parent_name) and len(name) > len(parent_name):
        return name[len(parent_name):].lstrip(" ,，·")
    for glue in (", ", ",", " "):
        if name.endswith(glue + parent_name) and len(name) > len(glue + parent_name):
            return name[: -len(glue + parent_name)].rstrip()
    return name


def area_labels(areas: pd.DataFrame, language: str = "zh") -> dict[int, str]:
    """Area id → a label unique among the areas of its level in ``areas``.

    Parameters
    ----------
    areas : DataFrame
        Columns ``id, level, parent_id, name_zh, name_en`` (as ``data.areas.areas_frame`` returns).
        Parents missing from the frame (outside the reader's scope) are simply not part of paths.
    language : {"zh", "en"}

    Returns
    -------
    dict
        Every id of ``areas`` to its label.
    """
    if areas.empty:
        return {}
    column = "name_en" if language == "en" else "name_zh"
    ids = areas["id"].tolist()
    raw = dict(zip(ids, areas[column].fillna(areas["name_zh"]).astype(str)))
    parents = {i: (None if pd.isna(p) else int(p)) for i, p in zip(ids, areas["parent_id"])}
    levels = dict(zip(ids, areas["level"]))
    codes = dict(zip(ids, areas["code"])) if "code" in areas else dict(zip(ids, ids))

    short: dict[int, str] = {}

    def own(area_id: int) -> str:
        if area_id not in short:
            parent = parents.get(area_id)
            name = raw[area_id]
            if parent in raw:
                # The parent's full name glued on (城东区东门街道), or its own short name (东门街道和平社区).
                name = _own_name(name, raw[parent])
                name = _own_name(name, own(parent))
            short[area_id] = name
        return short[area_id]

    def path(area_id: int) -> list[str]:
        names = []
        current = area_id
        while current is not None and current in raw:
            names.append(own(current))
            current = parents.get(current)
        return names[::-1]

    labels: dict[int, str] = {}
    for level in set(levels.values()):
        members = [i for i in ids if levels[i] == level]
        paths = {i: path(i) for i in members}
        depth = max((len(p) for p in paths.values()), default=1)
        # How many areas of the level end in each suffix of each length.
        shared = Counter(tuple(full[-k:]) for full in paths.values() for k in range(1, depth + 1))
        for area_id, full in paths.items():
            for k in range(1, len(full) + 1):
                if shared[tuple(full[-k:])] == 1 or k == len(full):
                    labels[area_id] = SEPARATOR.join(full[-k:])
                    break
        # Two areas with the very same path (a data-entry slip) still differ by their code.
        repeated = Counter(labels[i] for i in members)
        for area_id in members:
            if repeated[labels[area_id]] > 1:
                labels[area_id] = f"{labels[area_id]} ({codes[area_id]})"
    return labels


def label_column(area_ids, areas: pd.DataFrame, language: str = "zh", missing: str = "") -> list[str]:
    """Labels for a sequence of area ids (ids outside ``areas`` get ``missing``)."""
    labels = area_labels(areas, language)
    return [labels.get(int(i), missing) if not pd.isna(i) else missing for i in area_ids]

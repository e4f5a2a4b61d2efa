"""The tallies: sums of scores per round × community (``tally``) and per round × district × age
group × sex (``cell_tally``), from which every dashboard number is computed without reading a
response.  Here: the sums a set of scored rows adds (a loop for a few rows, numpy for many), the
upserts that add them, the round's tally version raised with every change, and the reads.

A submission adds its own increments, an import adds a batch's, an exclusion takes a response's
back out; ``recount_tally`` recomputes everything from the stored responses for checks.
Every function takes the session first and never commits (see ``data.areas``).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Callable, Iterable, Mapping

import numpy as np
import pandas as pd
from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from data import fast_paths as fast
from data.db import json_text
from data.models import TALLY_SUMS, CellTally, Response, SurveyRound, Tally
from data.questionnaire_versions import load_questionnaire_version
from questionnaires import Questionnaire


class DeferredSums:
    """Tally increments of several submissions in one transaction, written with one upsert per
    table: a group of 16 submissions touches the same ~30 indicator and item rows of a few
    communities, which would otherwise be upserted 16 times."""

    def __init__(self) -> None:
        self._by_round: dict[int, tuple[dict, dict]] = {}

    def add(self, round_id: int, community_sums: Mapping[tuple, list[int]],
            cell_sums: Mapping[tuple, list[int]]) -> None:
        totals = self._by_round.setdefault(round_id, ({}, {}))
        for target, sums in zip(totals, (community_sums, cell_sums)):
            for key, values in sums.items():
                known = target.get(key)
                target[key] = list(values) if known is None else [a + b for a, b in zip(known, values)]

    def write(self, session: Session) -> None:
        """Write what was collected, in the caller's transaction, and forget it."""
        for round_id, (community_sums, cell_sums) in sorted(self._by_round.items()):
            add_sums(session, round_id, community_sums, cell_sums)
        self._by_round.clear()


def contributions(
    rows: Iterable[dict], questionnaire: Questionnaire, *key_ofs: Callable[[dict], tuple]
) -> list[dict[tuple, list[int]]]:
    """Tally increments of eligible rows' scores, one dict per key function: keyed by
    key_of(row) + (indicator, item)."""
    if not isinstance(rows, list):
        rows = list(rows)
    if len(rows) >= VECTOR_ROWS:
        return contributions_vectorised(rows, questionnaire, *key_ofs)
    item_indicator = {q.code: q.indicator for q in questionnaire.indicator_items()}
    all_totals = []
    for key_of in key_ofs:
        totals: dict[tuple, list[int]] = defaultdict(lambda: [0] * len(TALLY_SUMS))
        for row in rows:
            prefix = key_of(row)
            per_indicator: dict[str, list[int]] = defaultdict(lambda: [0, 0])
            for item, score in row["scores"].items():
                if score is None or item not in item_indicator:
                    continue
                indicator = item_indicator[item]
                _accumulate(totals[(*prefix, indicator, item)], 1, score)
                per_indicator[indicator][0] += 1
                per_indicator[indicator][1] += score
            for indicator, (x, y) in per_indicator.items():
                _accumulate(totals[(*prefix, indicator, "")], x, y)
        all_totals.append(totals)
    return all_totals


VECTOR_ROWS = 64  # from this many rows on, numpy sums faster than the loop above


def contributions_vectorised(
    rows: list[dict], questionnaire: Questionnaire, *key_ofs: Callable[[dict], tuple]
) -> list[dict[tuple, list[int]]]:
    """The same sums as the loop in `contributions`, with numpy: an import of 20,000 responses
    touches ~500,000 item scores, which the loop added one by one.  The scores are read into
    arrays once for all the key functions."""
    items = [(q.code, q.indicator) for q in questionnaire.indicator_items()]
    if not items:
        return [{} for _ in key_ofs]
    # nan: no valid answer (None) or an item the respondent never saw.
    scores = np.array([list(map(row["scores"].get, [code for code, _ in items])) for row in rows], dtype=np.float64)
    scores = scores.reshape(len(rows), len(items))
    all_totals = []
    for key_of in key_ofs:
        keys, groups = group_index(list(map(key_of, rows)))
        group, indicator, item, sums = group_sums(scores, items, groups, len(keys))
        all_totals.append({(*keys[g], k, i): s for g, k, i, s in zip(group, indicator, item, sums.tolist())})
    return all_totals


def group_index(keys: list[tuple]) -> tuple[list[tuple], np.ndarray]:
    """(the distinct keys in order of first appearance, each key's index among them)."""
    distinct = list(dict.fromkeys(keys))
    index_of = dict(zip(distinct, range(len(distinct))))
    return distinct, np.fromiter(map(index_of.__getitem__, keys), np.int64, len(keys))


def group_sums(scores: np.ndarray, items: list[tuple[str, str]], groups: np.ndarray, group_count: int
                ) -> tuple[list[int], list[str], list[str], np.ndarray]:
    """The tally sums (TALLY_SUMS) of responses' item scores per group, for every item and, pooled,
    every indicator (item ''), where the group has answers: (group index, indicator, item, sums
    array with one row each).  ``scores`` has one row per response and one column per item of
    ``items`` ((code, indicator)), nan where there is no score; ``groups`` is each row's group."""
    answered = ~np.isnan(scores)
    valid = answered.astype(np.int64)
    positive = np.where(answered, scores, 0).astype(np.int64)
    indicators = list(dict.fromkeys(indicator for _, indicator in items))
    columns = np.array([indicators.index(indicator) for _, indicator in items])
    pooled_valid = np.zeros((len(scores), len(indicators)), dtype=np.int64)  # x: valid answers per indicator
    pooled_positive = np.zeros_like(pooled_valid)  # y: positive ones
    for k in range(len(indicators)):
        pooled_valid[:, k] = valid[:, columns == k].sum(axis=1)
        pooled_positive[:, k] = positive[:, columns == k].sum(axis=1)

    def per_group(values: np.ndarray) -> np.ndarray:
        # Sums of each column per group: bincount adds in float64, exact for integers below 2**53.
        width = values.shape[1]
        flat = (groups[:, None] * width + np.arange(width)).ravel()
        out = np.bincount(flat, weights=values.ravel(), minlength=group_count * width)
        return out.astype(np.int64).reshape(group_count, width)

    n_item, y_item, yy_item = (per_group(a) for a in (valid, positive, positive * positive))
    x, y = pooled_valid, pooled_positive
    pooled = [per_group(a) for a in ((x > 0).astype(np.int64), x, y, x * x, y * y, x * y)]
    # An item is one answer: x = 1, so Σx = Σx² = n and Σxy = Σy.
    g_item, j_item = np.nonzero(n_item)
    n, p, pp = n_item[g_item, j_item], y_item[g_item, j_item], yy_item[g_item, j_item]
    item_sums = np.stack([n, n, p, n, pp, p], axis=1)
    g_pooled, k_pooled = np.nonzero(pooled[0])
    pooled_sums = np.stack([a[g_pooled, k_pooled] for a in pooled], axis=1)
    group = g_item.tolist() + g_pooled.tolist()
    indicator = [items[j][1] for j in j_item.tolist()] + [indicators[k] for k in k_pooled.tolist()]
    item = [items[j][0] for j in j_item.tolist()] + [""] * len(g_pooled)
    return group, indicator, item, np.concatenate([item_sums, pooled_sums]).reshape(-1, len(TALLY_SUMS))


def _accumulate(sums: list[int], x: int, y: int) -> None:
    sums[0] += 1
    sums[1] += x
    sums[2] += y
    sums[3] += x * x
    sums[4] += y * y
    sums[5] += x * y


def community_key(row: dict) -> tuple:
    return (row["community_id"],)


def no_key(_row: dict) -> tuple:
    return ()


def update_tallies(
    session: Session, round_id: int, rows: list[dict], questionnaire: Questionnaire,
    district_of: Mapping[int, int], sign: int = 1,
) -> None:
    """Add (sign=1) or remove (sign=-1) eligible rows' contributions to both tallies."""
    rows = [row for row in rows if row["eligible"]]
    if not rows:
        return

    def cell_key(row: dict) -> tuple:
        return (district_of[row["community_id"]], row.get("age_group") or "", row.get("sex") or "")

    community_sums, cell_sums = contributions(rows, questionnaire, community_key, cell_key)
    add_sums(session, round_id, community_sums, cell_sums, sign)


def add_sums(session: Session, round_id: int, community_sums: Mapping[tuple, list[int]],
              cell_sums: Mapping[tuple, list[int]], sign: int = 1) -> None:
    _upsert_sums(session, Tally.__table__, ("community_id",), round_id, community_sums, sign)
    _upsert_sums(session, CellTally.__table__, ("district_id", "age_group", "sex"), round_id, cell_sums, sign)
    touch_round(session, round_id)


def touch_round(session: Session, round_id: int) -> None:
    """Raise the round's tally version, last in the transaction's writes: every writer takes the
    tally rows first (in key order) and this row last, so lock order stays the same everywhere."""
    fast.executemany(session, _RAISE_TALLY_VERSION, [{"round_id": round_id}])



_ROUND = SurveyRound.__table__
_RAISE_TALLY_VERSION = (
    update(_ROUND).where(_ROUND.c.id == bindparam("round_id")).values(tally_version=_ROUND.c.tally_version + 1)
)


def _upsert_sums(session: Session, table, key_columns: tuple[str, ...], round_id: int,
                 totals: Mapping[tuple, list[int]], sign: int) -> None:
    """Add the sums ({key + (indicator, item): TALLY_SUMS values}) to the table's rows."""
    if totals:
        keys, sums = zip(*totals.items())
        upsert_sum_columns(session, table, key_columns, round_id, list(map(list, zip(*keys))), sums, sign)


def upsert_sum_columns(session: Session, table, key_columns: tuple[str, ...], round_id: int,
                        key_values: list[list], sums, sign: int) -> None:
    """Add sums to the table's rows with one upsert: ``key_values`` holds one column per key column
    and (indicator, item), ``sums`` one row of TALLY_SUMS values per key (a list or an int array).
    On PostgreSQL rows go in key order, so that concurrent writers lock rows in the same order and
    cannot deadlock (SQLite has one writer at a time: no need)."""
    names = (*key_columns, "indicator", "item")
    if [c.name for c in table.primary_key.columns] != ["round_id", *names]:
        raise ValueError(f"{table.name}: the upsert key must be the primary key")
    columns = ("round_id", *names, *TALLY_SUMS)
    sums = np.asarray(sums, dtype=np.int64).reshape(-1, len(TALLY_SUMS)) * sign
    values = [[round_id] * len(sums), *key_values, *sums.T.tolist()]
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        # One statement for all rows, sent as one JSON document: executemany ran the upsert once per
        # row (a group of 16 submissions writes ~500 tally rows, an import of 20,000 responses
        # ~30,000), and the server's per-statement work was most of a group's time.  JSON, not
        # arrays: psycopg adapts arrays element by element in Python.
        rows = [dict(zip(columns, row)) for row in sorted(zip(*values))]
        added = ", ".join(f"{name} = {table.name}.{name} + excluded.{name}" for name in TALLY_SUMS)
        sql = fast.recordset_insert_sql(table, columns, f"ON CONFLICT ({', '.join(columns[:len(names) + 1])}) "
                                                    f"DO UPDATE SET {added}")
        with fast.driver_cursor(session) as cursor:
            cursor.execute(sql, (json_text(rows),))
        return
    fast.driver_execute_columns(session, fast.prebuilt_statement(dialect, "add_sums", table), dict(zip(columns, values))).close()



def round_tally(session: Session, round_id: int) -> pd.DataFrame:
    """The round's tally at community level: what every dashboard number is computed from."""
    columns = ["community_id", "indicator", "item", *TALLY_SUMS]
    rows = fast.plain_rows(session, select(*(getattr(Tally, c) for c in columns)).where(Tally.round_id == round_id))
    values = list(zip(*rows)) if rows else [()] * len(columns)
    data = {"community_id": np.array(values[0], dtype=np.int64)}
    for name, column in zip(("indicator", "item"), values[1:3]):
        data[name] = pd.array(np.array(column, dtype=object), dtype="str")
    for name, column in zip(TALLY_SUMS, values[3:]):
        data[name] = np.array(column, dtype=np.int64)
    return pd.DataFrame(data, columns=columns)



def recount_tally(session: Session, survey_round: SurveyRound) -> pd.DataFrame:
    """The tally recomputed from the stored responses' scores, for checks and repairs."""
    questionnaire = load_questionnaire_version(session, survey_round.questionnaire_id)
    rows = session.execute(
        select(Response.community_id, Response.scores).where(
            Response.round_id == survey_round.id, Response.status == "included", Response.eligible.is_(True)
        )
    ).all()
    [totals] = contributions(({"community_id": c, "scores": s} for c, s in rows), questionnaire, community_key)
    columns = ["community_id", "indicator", "item", *TALLY_SUMS]
    return pd.DataFrame([(*key, *sums) for key, sums in totals.items()], columns=columns)


def round_cell_tally(session: Session, round_id: int) -> pd.DataFrame:
    """The round's sums by district × age group × sex (for weighting and breakdowns)."""
    columns = ["district_id", "age_group", "sex", "indicator", "item", *TALLY_SUMS]
    rows = fast.plain_rows(session, select(*(getattr(CellTally, c) for c in columns)).where(CellTally.round_id == round_id))
    return pd.DataFrame(rows, columns=columns).astype({name: "int64" for name in TALLY_SUMS})

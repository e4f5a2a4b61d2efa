"""A round's results: a snapshot from ``data.results`` run through ``analysis``, computed once per
snapshot, with the area labels, the forecast and the weak items built on them.  It sits here, above
both, because storage must not depend on the statistics (and the statistics know nothing of
storage): pages, exports, the command line and the benchmark call this.
"""

from __future__ import annotations

import pandas as pd

from analysis import RoundResults, round_results
from analysis.forecast import official_forecast, weak_item_gains
from analysis.ranking import weak_items
from analysis.rollup import CITY
from data.area_labels import area_labels
from reports.snapshot import RoundSnapshot


def forecast_for(snapshot: RoundSnapshot, results: RoundResults, top: int = 3) -> tuple[pd.DataFrame, pd.DataFrame]:
    """达标概率 of the city (unscoped readers only) and each district in scope, and the weak items'
    gains: (forecast, gains) as :func:`analysis.forecast.official_forecast` and
    :func:`analysis.forecast.weak_item_gains` return them.  A scoped reader's "city" row is their
    own area, not the city, so it is left out; streets and communities get no forecast."""
    indicators = results.indicators
    if snapshot.scope_area_id is not None:
        indicators = indicators[indicators["level"] == "district"]
    forecast = official_forecast(indicators, snapshot.official_sample_size, shares=snapshot.official_shares)
    return forecast, weak_item_gains(forecast, weak_items(results.items, results.indicators), top=top)


def results_for(snapshot: RoundSnapshot, method: str | None = None, confidence: float | None = None) -> RoundResults:
    """All levels × indicators × items with intervals and verdicts, computed once per snapshot.

    Without ``method`` and ``confidence`` these are the official results: the round's verdict rule,
    whose bounds are the ends of the two-sided interval at ``rule.interval_confidence``.  A
    ``method`` or ``confidence`` given is an exploration (two-sided interval at ``confidence``) and
    must be labelled so wherever it is shown; reports and exports never use one.
    """
    if method is None and confidence is None:
        method, confidence = snapshot.rule.method, snapshot.rule.interval_confidence
    method = method or snapshot.rule.method
    confidence = snapshot.rule.interval_confidence if confidence is None else confidence
    key = (method, float(confidence))
    if key not in snapshot.computed:
        results = round_results(snapshot.tally, snapshot.areas, snapshot.targets, method=method,
                                confidence=confidence, correlations=snapshot.correlations)
        snapshot.computed[key] = RoundResults(with_area_labels(results.indicators, snapshot),
                                              with_area_labels(results.items, snapshot))
    return snapshot.computed[key]


def official_results(snapshot: RoundSnapshot) -> RoundResults:
    """The round's results under its own verdict rule: what reports, exports and the dashboard show."""
    return results_for(snapshot)


def scope_name(snapshot: RoundSnapshot, language: str = "zh") -> str:
    """What the reader's figures cover: 全市, or their own area (城东区), never 全市 for a scope."""
    if snapshot.scope_area_id is None:
        return CITY["area_name_en" if language == "en" else "area_name_zh"]
    own = snapshot.areas[snapshot.areas["id"] == snapshot.scope_area_id]
    if own.empty:
        return ""
    return str(own["name_en" if language == "en" else "name_zh"].iloc[0] or own["name_zh"].iloc[0])


def with_area_labels(rows: pd.DataFrame, snapshot: RoundSnapshot) -> pd.DataFrame:
    """``rows`` with ``area_label_zh/en`` and ``parent_label_zh/en``: names people can tell apart
    (data.area_labels), and the reader's scope rather than 全市 on the top row."""
    rows = rows.copy()
    parents = dict(zip(snapshot.areas["id"], snapshot.areas["parent_id"]))
    for language in ("zh", "en"):
        labels = area_labels(snapshot.areas, language)
        top = scope_name(snapshot, language)
        labels[CITY["area_id"]] = top
        rows[f"area_label_{language}"] = [labels.get(i, "") for i in rows["area_id"]]
        rows[f"parent_label_{language}"] = [
            "" if i == CITY["area_id"] else labels.get(parents.get(i), top) for i in rows["area_id"]]
    return rows


def weak_items_for(snapshot: RoundSnapshot, level: str, method: str = "wilson", confidence: float = 0.95) -> pd.DataFrame:
    """The items that cost their indicator something at ``level``, costliest first within each area;
    computed once per snapshot like ``results_for`` (about 1.2 s a rerun of 深入分析 before)."""
    key = ("weak_items", level, method, float(confidence))
    if key not in snapshot.computed:
        results = results_for(snapshot, method, confidence)
        weak = weak_items(results.items[results.items["level"] == level],
                          results.indicators[results.indicators["level"] == level])
        snapshot.computed[key] = weak[weak["cost"] > 0].reset_index(drop=True)
    return snapshot.computed[key]

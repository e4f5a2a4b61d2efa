"""Fieldwork quality checks: flag responses an organiser should look at.

Each rule is one function that takes a round's responses and returns a
DataFrame of flagged responses with columns
:data:`~analysis.quality_common.FLAG_COLUMNS` (``response_id``, ``rule``,
``reason_zh``, ``reason_en``), one row per flagged response and rule.
:func:`flag_responses` runs every rule and concatenates the results; a
response may appear once per rule that flags it. A flag is a reason to look,
never a verdict: the organiser decides whether to exclude a response.

The input every rule takes (``responses``, ``questions``), the thresholds
(:class:`~analysis.quality_common.QualitySettings`) and the helpers the rules
share are in :mod:`analysis.quality_common`.

Rules (see each function for details)
-------------------------------------
1. :func:`speeders` – interview much faster than the round's median.
2. :func:`straight_lining` – the same option on every item of a scale block.
3. :func:`duplicate_answer_vectors` – the same full answer vector as another response.
4. :func:`link_bursts` – many self-filled responses from one community link within minutes.
5. :func:`~analysis.interviewer_checks.interviewer_effects` – an interviewer's rate differs
   significantly from the rest of the district (Fisher exact or two-proportion z-test,
   Benjamini–Hochberg); in :mod:`analysis.interviewer_checks`.
6. :func:`~analysis.interviewer_checks.all_positive_interviewers` – every scored answer of an
   interviewer is positive; in :mod:`analysis.interviewer_checks`.

Two tables, not flags: :func:`~analysis.interviewer_checks.interviewer_summary`
(per interviewer and indicator: rates and p-values) and :func:`suspicious_areas`
(districts and communities at exactly 100 % on an indicator).
"""

from __future__ import annotations

import json
import math
from typing import Any, Iterable, Mapping

import numpy as np
import pandas as pd

from .interviewer_checks import all_positive_interviewers, interviewer_effects
from .proportion import proportion_ci
from .quality_common import (FLAG_COLUMNS, QualitySettings, _area_name, _empty_flags, _flags, _fmt_int, _ids,
                             _indicator_zh, _is_empty, _option_names, _pct, _questions_frame,
                             _respondent_indicator_sums, _rounds)

__all__ = [
    "RULES",
    "SUSPICIOUS_COLUMNS",
    "duplicate_answer_vectors",
    "flag_responses",
    "link_bursts",
    "speeders",
    "straight_lining",
    "suspicious_areas",
]

SUSPICIOUS_COLUMNS = [
    "level", "area_id", "indicator", "respondents", "valid", "positive", "rate",
    "ci_low", "ci_high", "reason_zh", "reason_en",
]
CHOICE_TYPES = frozenset({"single_choice", "multiple_choice", "yes_no", "satisfaction", "quiz"})


# ----------------------------------------------------------------------------- rule 1


def _durations(responses: pd.DataFrame) -> np.ndarray:
    """Seconds from start to submission; NaN when the start is missing or after the submission."""
    started = pd.to_datetime(responses["started_at"])
    submitted = pd.to_datetime(responses["submitted_at"])
    d = (submitted - started).dt.total_seconds().to_numpy(dtype=float, na_value=np.nan)
    with np.errstate(invalid="ignore"):
        return np.where(d < 0, np.nan, d)  # a clock error is not judged


def _speeder_mask(responses: pd.DataFrame, settings: QualitySettings):
    d = _durations(responses)
    judged = responses["channel"].isin(settings.speed_channels).to_numpy() & ~np.isnan(d)
    rounds = _rounds(responses)
    median = np.full(len(responses), np.nan)
    for r in np.unique(rounds):
        sel = (rounds == r) & judged
        if sel.any():
            median[rounds == r] = np.median(d[sel])
    relative = settings.speed_fraction * median
    with np.errstate(invalid="ignore"):
        slow_rel = d < relative
        slow_abs = d < settings.speed_floor_seconds
    return judged & (slow_rel | slow_abs), d, median, slow_rel


def speeders(responses: pd.DataFrame, settings: QualitySettings = QualitySettings()) -> pd.DataFrame:
    """Rule 1: responses completed implausibly fast.

    Duration is ``submitted_at - started_at`` in seconds. A response is
    flagged when its duration is below ``speed_fraction`` (0.3) × the round's
    median duration, or below ``speed_floor_seconds`` (60 s). The median is
    over the round's responses of ``speed_channels`` with a duration. A
    missing start (NaT), a negative duration or a channel outside
    ``speed_channels`` (paper, import) is not judged.
    """
    if _is_empty(responses):
        return _empty_flags()
    flagged, d, median, slow_rel = _speeder_mask(responses, settings)
    idx = np.flatnonzero(flagged)
    zh, en = [], []
    frac = _fmt_int(100 * settings.speed_fraction)
    floor = _fmt_int(settings.speed_floor_seconds)
    for i in idx:
        if slow_rel[i]:
            zh.append(f"用时 {_fmt_int(d[i])} 秒，不到本轮中位数 {_fmt_int(median[i])} 秒的 {frac}%")
            en.append(f"took {_fmt_int(d[i])} s, under {frac} % of the round's median {_fmt_int(median[i])} s")
        else:
            zh.append(f"用时 {_fmt_int(d[i])} 秒，不到最低用时 {floor} 秒（本轮中位数 {_fmt_int(median[i])} 秒）")
            en.append(f"took {_fmt_int(d[i])} s, under the minimum of {floor} s "
                      f"(round median {_fmt_int(median[i])} s)")
    return _flags(_ids(responses)[idx], "speeders", zh, en)


# ----------------------------------------------------------------------------- rule 2


def _scale_blocks(questions, settings: QualitySettings) -> list[list[str]]:
    q = _questions_frame(questions)
    q = q[q["type"].isin(settings.straightline_types) & (q["options"].map(len) > 0)]
    blocks = []
    for _, grp in q.groupby([q["type"], q["options"]], sort=False):
        if len(grp) >= settings.straightline_min_items:
            blocks.append(grp["code"].tolist())
    return blocks


def straight_lining(responses: pd.DataFrame, questions, settings: QualitySettings = QualitySettings()) -> pd.DataFrame:
    """Rule 2: the same option on every item of a scale block.

    Scale questions are those of ``straightline_types`` (default the
    ``satisfaction`` type), grouped into blocks by type and option list. A
    response of ``straightline_channels`` (self-filled or interviewer-led) is
    flagged when it answered at least ``straightline_min_items`` (8) questions
    of a block and chose the same option on all of them.

    Straight-lining alone is a weak signal: all 满意 is common in real
    civilized-city data, and the reason text says so. Set
    ``straightline_only_when_speeder=True`` to flag only straight-liners that
    are also speeders (rule 1), a much stronger combination.
    """
    if _is_empty(responses):
        return _empty_flags()
    blocks = _scale_blocks(questions, settings)
    if not blocks:
        return _empty_flags()
    eligible = responses["channel"].isin(settings.straightline_channels).to_numpy()
    if settings.straightline_only_when_speeder:
        eligible = eligible & _speeder_mask(responses, settings)[0]
    ids = _ids(responses)
    answers = responses["answers"].to_numpy()
    option_names = _option_names(questions)
    out_ids, zh, en = [], [], []
    for i in np.flatnonzero(eligible):
        a = answers[i] if isinstance(answers[i], dict) else {}
        for block in blocks:
            vals = [a.get(c) for c in block]
            vals = [v for v in vals if isinstance(v, str) and v != ""]
            if len(vals) >= settings.straightline_min_items and len(set(vals)) == 1:
                out_ids.append(ids[i])
                n = len(vals)
                speed_zh = "，且用时过短" if settings.straightline_only_when_speeder else ""
                speed_en = ", and was a speeder" if settings.straightline_only_when_speeder else ""
                label_zh, label_en = option_names.get(vals[0], (vals[0], vals[0]))
                zh.append(f"{n} 道量表题全部选择“{label_zh}”{speed_zh}（单独出现只是弱信号：真实数据中全部满意很常见）")
                en.append(f"chose '{label_en}' on all {n} scale items{speed_en} "
                          f"(on its own a weak signal: all-satisfied answers are common in real data)")
                break
    return _flags(out_ids, "straight_lining", zh, en)


# ----------------------------------------------------------------------------- rule 3


def _canonical(value) -> Any:
    """Canonical JSON-able form of an answer, or None for an empty one."""
    if value is None:
        return None
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        if math.isnan(value):
            return None
        return int(value) if float(value).is_integer() else float(value)
    if isinstance(value, str):
        v = value.strip()
        return v or None
    if isinstance(value, (list, tuple, set, frozenset, np.ndarray)):
        items = sorted({str(v).strip() for v in value if v is not None and str(v).strip()})
        return items or None
    return None  # dicts and other objects: not part of the vector


def _answer_key(answers, choice_codes: frozenset, text_codes: frozenset) -> tuple[str | None, int]:
    if not isinstance(answers, dict):
        return None, 0
    canon = {}
    for code, value in answers.items():
        code = str(code)
        if code in text_codes:
            continue
        if isinstance(value, str) and choice_codes and code not in choice_codes:
            continue  # a string for a non-choice question is free text
        v = _canonical(value)
        if v is not None:
            canon[code] = v
    return json.dumps(canon, sort_keys=True, ensure_ascii=False), len(canon)


def duplicate_answer_vectors(responses: pd.DataFrame, questions=None,
                             settings: QualitySettings = QualitySettings()) -> pd.DataFrame:
    """Rule 3: responses whose full answer vector equals another response's in the round.

    The vector holds every answered question except free text: option codes
    of choice questions (multiple-choice lists sorted, surrounding blanks
    stripped), numbers (``3`` and ``3.0`` are equal) and nothing else;
    timestamps are not answers. A string answer to a code that is not a
    choice question in ``questions`` is free text and left out (without
    ``questions`` every string is kept, which can only make matches rarer).
    Vectors with fewer than ``duplicate_min_answers`` answers are not
    compared; with ``duplicate_within`` only responses sharing that column
    are compared. Every member of a duplicate group is flagged; the reason names
    the group size and up to three of the other ids.
    """
    if _is_empty(responses):
        return _empty_flags()
    q = _questions_frame(questions)
    choice = frozenset(q.loc[q["type"].isin(CHOICE_TYPES), "code"])
    text = frozenset(q.loc[q["type"] == "text", "code"])
    keys, sizes = zip(*(_answer_key(a, choice, text) for a in responses["answers"]))
    scope = np.zeros(len(responses), dtype=np.int64)
    if settings.duplicate_within is not None:
        col = responses[settings.duplicate_within]
        scope = pd.factorize(col, use_na_sentinel=True)[0]  # missing (e.g. no interviewer): not compared
    frame = pd.DataFrame({
        "round": _rounds(responses), "scope": scope, "key": keys, "n": sizes, "id": _ids(responses),
    })
    frame = frame[frame["key"].notna() & (frame["n"] >= settings.duplicate_min_answers) & (frame["scope"] >= 0)]
    frame = frame[frame.duplicated(["round", "scope", "key"], keep=False)]
    out_ids, zh, en = [], [], []
    for _, grp in frame.groupby(["round", "scope", "key"], sort=False):
        members = grp["id"].tolist()
        size = len(members)
        for m in members:
            others = [o for o in members if o != m]
            shown = others[:3]
            more_zh = " 等" if len(others) > 3 else ""
            more_en = " and others" if len(others) > 3 else ""
            out_ids.append(m)
            zh.append(f"全部答案与另外 {len(others)} 份问卷（{'、'.join(shown)}{more_zh}）完全相同，重复组共 {size} 份")
            en.append(f"all answers identical to {len(others)} other response(s) ({', '.join(shown)}{more_en}); "
                      f"duplicate group of {size}")
    return _flags(out_ids, "duplicate_answer_vectors", zh, en)


# ----------------------------------------------------------------------------- rule 4


def link_bursts(responses: pd.DataFrame, settings: QualitySettings = QualitySettings(),
                area_names: Mapping[int, tuple[str, str]] | None = None) -> pd.DataFrame:
    """Rule 4: bursts of self-filled responses from one community's link.

    For self-filled responses (``channel == "self"``) of each community (and
    round), sorted by ``submitted_at``, a sliding window starts at every
    submission and spans ``burst_window`` (10 minutes, inclusive). A window
    holding more than ``burst_count`` (10) submissions is a burst; every
    response inside a burst window is flagged. Overlapping burst windows are
    merged, and the reason gives the merged burst's size and time span.
    """
    if _is_empty(responses):
        return _empty_flags()
    window = pd.Timedelta(settings.burst_window).value
    sub = pd.DataFrame({
        "round": _rounds(responses),
        "community": responses["community_id"].to_numpy(),
        "t": pd.to_datetime(responses["submitted_at"]),
        "id": _ids(responses),
    })
    sub = sub[(responses["channel"] == "self").to_numpy() & sub["t"].notna().to_numpy()]
    minutes = pd.Timedelta(settings.burst_window).total_seconds() / 60.0
    win = f"{minutes:g}"
    out_ids, zh, en = [], [], []
    for (_, community), grp in sub.groupby(["round", "community"], sort=False):
        if len(grp) <= settings.burst_count:
            continue
        grp = grp.sort_values("t", kind="stable")
        times = grp["t"]
        t = times.to_numpy().astype("datetime64[ns]").astype(np.int64) if times.dt.tz is None \
            else times.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy().astype("datetime64[ns]").astype(np.int64)
        start = np.arange(len(t))
        end = np.searchsorted(t, t + window, side="right")
        hot = (end - start) > settings.burst_count
        if not hot.any():
            continue
        cover = np.zeros(len(t) + 1, dtype=np.int64)
        np.add.at(cover, start[hot], 1)
        np.add.at(cover, end[hot], -1)
        covered = np.cumsum(cover[:-1]) > 0
        # Runs of covered positions are the merged bursts.
        edges = np.flatnonzero(np.diff(np.r_[0, covered.astype(np.int8), 0]))
        ids = grp["id"].to_numpy()
        for a, b in zip(edges[::2], edges[1::2]):
            first, last = times.iloc[a], times.iloc[b - 1]
            span = (last - first).total_seconds() / 60.0
            n = b - a
            text_zh = (f"社区 {_area_name(community, area_names)} 的自填链接在 {first:%Y-%m-%d %H:%M}–{last:%H:%M}（{span:.1f} 分钟）内"
                       f"收到 {n} 份问卷，超过 {win} 分钟内 {settings.burst_count} 份的阈值")
            text_en = (f"community {_area_name(community, area_names, True)}'s self-fill link received {n} responses between "
                       f"{first:%Y-%m-%d %H:%M} and {last:%H:%M} ({span:.1f} min), more than "
                       f"{settings.burst_count} within {win} min")
            out_ids.extend(ids[a:b])
            zh.extend([text_zh] * n)
            en.extend([text_en] * n)
    return _flags(out_ids, "link_bursts", zh, en)


# ----------------------------------------------------------------------------- tables and the whole run


def suspicious_areas(responses: pd.DataFrame, questions=None,
                     settings: QualitySettings = QualitySettings(),
                     area_names: Mapping[int, tuple[str, str]] | None = None) -> pd.DataFrame:
    """Districts and communities at exactly 100 % on an indicator, for the organiser's attention.

    Not flags: a table with one row per level (``district`` / ``community``),
    area and indicator where every valid answer is positive and at least
    ``suspicious_min_n`` (30) respondents gave a valid answer. Columns
    :data:`SUSPICIOUS_COLUMNS`; ``ci_low``/``ci_high`` is the Wilson interval
    with the respondent as the unit (at 100 % the design effect carries no
    information, so ``n = respondents``), i.e. how high the true rate could
    plausibly be. Without ``questions``, each scored item is its own
    "indicator".
    """
    if _is_empty(responses):
        return pd.DataFrame(columns=SUSPICIOUS_COLUMNS)
    if questions is None:
        items = sorted({str(k) for sc in responses["scores"] if isinstance(sc, dict) for k in sc})
        questions = [{"code": k, "type": "single_choice", "options": (), "indicator": k} for k in items]
    per_resp = _respondent_indicator_sums(responses, questions)
    if per_resp.empty:
        return pd.DataFrame(columns=SUSPICIOUS_COLUMNS)
    per_resp = per_resp.join(pd.DataFrame({"district": responses["district_id"].to_numpy(),
                                           "community": responses["community_id"].to_numpy()}), on="pos")
    parts = []
    for level, col in (("district", "district"), ("community", "community")):
        g = per_resp.groupby([col, "indicator"], as_index=False, sort=True).agg(
            respondents=("x", "size"), valid=("x", "sum"), positive=("y", "sum"))
        g = g[(g["positive"] == g["valid"]) & (g["respondents"] >= settings.suspicious_min_n)]
        g = g.rename(columns={col: "area_id"}).assign(level=level)
        parts.append(g)
    out = pd.concat(parts, ignore_index=True)
    if out.empty:
        return pd.DataFrame(columns=SUSPICIOUS_COLUMNS)
    out["rate"] = 1.0
    out["ci_low"], out["ci_high"] = proportion_ci(out["respondents"].to_numpy(float),
                                                  out["respondents"].to_numpy(float))
    lvl_zh = {"district": "区县", "community": "社区"}
    out["reason_zh"] = [
        f"{lvl_zh[r.level]} {_area_name(r.area_id, area_names)} 的{_indicator_zh(r.indicator)}为 100%（{r.respondents} 人、{r.valid:.0f} 个有效作答"
        f"全部为正面），95% 区间下限 {_pct(r.ci_low)}，请核实"
        for r in out.itertuples()]
    out["reason_en"] = [
        f"{r.level} {_area_name(r.area_id, area_names, True)}: {r.indicator} at 100 % ({r.respondents} respondents, all {r.valid:.0f} valid "
        f"answers positive; 95 % lower bound {_pct(r.ci_low)}), worth checking"
        for r in out.itertuples()]
    out["respondents"] = out["respondents"].astype(int)
    return out[SUSPICIOUS_COLUMNS].reset_index(drop=True)


RULES = ("speeders", "straight_lining", "duplicate_answer_vectors", "link_bursts",
         "interviewer_effects", "all_positive_interviewers")


def flag_responses(responses: pd.DataFrame, questions=None,
                   settings: QualitySettings = QualitySettings(),
                   rules: Iterable[str] = RULES,
                   area_names: Mapping[int, tuple[str, str]] | None = None) -> pd.DataFrame:
    """Run the quality rules and concatenate their flags.

    ``area_names`` (area id → (zh, en) label) names districts and communities in the reasons;
    without it they are shown by id.

    Returns a DataFrame with columns :data:`~analysis.quality_common.FLAG_COLUMNS`, in rule order and,
    within a rule, in response order. A response flagged by several rules
    has one row per rule. An empty ``responses`` gives an empty frame with
    these columns. ``rules`` selects a subset of :data:`RULES`.
    """
    if _is_empty(responses):
        return _empty_flags()
    unknown = set(rules) - set(RULES)
    if unknown:
        raise ValueError(f"unknown quality rule(s) {sorted(unknown)}; choose from {', '.join(RULES)}")
    run = {
        "speeders": lambda: speeders(responses, settings),
        "straight_lining": lambda: straight_lining(responses, questions, settings),
        "duplicate_answer_vectors": lambda: duplicate_answer_vectors(responses, questions, settings),
        "link_bursts": lambda: link_bursts(responses, settings, area_names),
        "interviewer_effects": lambda: interviewer_effects(responses, questions, settings, area_names),
        "all_positive_interviewers": lambda: all_positive_interviewers(responses, settings),
    }
    parts = [f for f in (run[r]() for r in RULES if r in set(rules)) if not f.empty]
    if not parts:
        return _empty_flags()
    return pd.concat(parts, ignore_index=True)[FLAG_COLUMNS]

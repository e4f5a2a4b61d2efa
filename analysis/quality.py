"""Fieldwork quality checks: flag responses an organiser should look at.

Each rule is one function that takes a round's responses and returns a
DataFrame of flagged responses with columns :data:`FLAG_COLUMNS`
(``response_id``, ``rule``, ``reason_zh``, ``reason_en``), one row per flagged
response and rule. :func:`flag_responses` runs every rule and concatenates the
results; a response may appear once per rule that flags it. A flag is a reason
to look, never a verdict: the organiser decides whether to exclude a response.

Input
-----
``responses`` has one row per response, columns

* ``id`` (str), ``community_id`` (int), ``district_id`` (int),
* ``interviewer`` (str, or None for self-filled responses),
* ``channel``: ``"self"``, ``"interview"``, ``"paper"`` or ``"import"``,
* ``started_at`` (may be NaT), ``submitted_at`` (datetimes),
* ``answers``: dict question code -> option code / list of codes / number / text,
* ``scores``: dict item code -> 1 / 0 / None (positive / not positive / no valid answer),
* optionally ``round_id``: when present, "the round" in the rules below means
  the rows sharing a ``round_id``; otherwise the whole frame is one round.

``questions`` describes the questionnaire's choice questions: a DataFrame, a
list of dicts, a list of :class:`questionnaires.model.Question` objects or an
object with a ``questions`` attribute, each with ``code``, ``type``,
``options`` (option codes, or objects/dicts with a ``code``, in scale order)
and ``indicator`` (or None). Non-choice questions may be included; they are
only used to recognise free text.

Rules (see each function for details)
-------------------------------------
1. :func:`speeders` – interview much faster than the round's median.
2. :func:`straight_lining` – the same option on every item of a scale block.
3. :func:`duplicate_answer_vectors` – the same full answer vector as another response.
4. :func:`link_bursts` – many self-filled responses from one community link within minutes.
5. :func:`interviewer_effects` – an interviewer's rate differs significantly from
   the rest of the district (Fisher exact or two-proportion z-test, Benjamini–Hochberg).
6. :func:`all_positive_interviewers` – every scored answer of an interviewer is positive.

Two tables, not flags: :func:`interviewer_summary` (per interviewer and
indicator: rates and p-values) and :func:`suspicious_areas` (districts and
communities at exactly 100 % on an indicator).

Why one module of ~900 lines: the six rules share the input contract described
above and its helpers (questions frame, durations, effective counts); split
apart, each part would need that contract repeated. Each rule is one function
readable on its own; the tests are per rule (tests/analysis/test_quality.py).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Iterable, Mapping

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import proportions_ztest

from .proportion import proportion_ci

__all__ = [
    "FLAG_COLUMNS",
    "RULES",
    "SUSPICIOUS_COLUMNS",
    "QualitySettings",
    "all_positive_interviewers",
    "benjamini_hochberg",
    "duplicate_answer_vectors",
    "flag_responses",
    "interviewer_effects",
    "interviewer_summary",
    "link_bursts",
    "speeders",
    "straight_lining",
    "suspicious_areas",
    "two_proportion_ztest",
]

FLAG_COLUMNS = ["response_id", "rule", "reason_zh", "reason_en"]
SUSPICIOUS_COLUMNS = [
    "level", "area_id", "indicator", "respondents", "valid", "positive", "rate",
    "ci_low", "ci_high", "reason_zh", "reason_en",
]
INDICATOR_ZH = {"awareness": "知晓率", "support": "支持率", "participation": "参与率", "satisfaction": "满意率"}
CHOICE_TYPES = frozenset({"single_choice", "multiple_choice", "yes_no", "satisfaction", "quiz"})


@dataclass(frozen=True)
class QualitySettings:
    """Thresholds of the quality rules.

    Attributes
    ----------
    speed_fraction : float
        Rule 1: a response is a speeder when its duration is below this
        fraction of the round's median duration. Default 0.3.
    speed_floor_seconds : float
        Rule 1: ... or below this absolute floor in seconds. Default 60.
    speed_channels : tuple of str
        Rule 1: channels whose duration measures the interview itself.
        Default ``("self", "interview")``: for ``paper`` and ``import`` the
        timestamps measure data entry, not the interview, and are not judged.
        The median is taken over these channels' responses with a duration.
    straightline_min_items : int
        Rule 2: a respondent must have answered at least this many items of a
        scale block, all with the same option. Default 8.
    straightline_types : tuple of str
        Rule 2: question types that are scales. Questions of these types are
        grouped into blocks by (type, option list); a block with fewer than
        ``straightline_min_items`` questions is never judged. Default
        ``("satisfaction",)``; add ``"single_choice"`` to judge Likert blocks
        declared as plain single-choice questions with a shared option list.
    straightline_channels : tuple of str
        Rule 2: channels judged (interviewer-led or self-filled). Default
        ``("self", "interview")``.
    straightline_only_when_speeder : bool
        Rule 2: flag straight-liners only when they are also speeders (rule 1).
        Default False. Straight-lining alone is a weak signal: a resident who
        is satisfied with everything truthfully ticks 满意 on every item, and
        in civilized-city surveys that is common.
    duplicate_min_answers : int
        Rule 3: answer vectors with fewer non-empty answers than this are not
        compared (two screened-out respondents legitimately share a one-answer
        vector). Default 5.
    duplicate_within : str or None
        Rule 3: compare answer vectors only among responses sharing this
        column (e.g. ``"interviewer"`` or ``"community_id"``); None (default)
        compares across the whole round. In a large round many honest
        respondents of the same age group and sex answer 满意 to everything,
        so round-wide identical vectors are expected with a short
        questionnaire; within one interviewer's work they are far rarer.
    burst_count : int
        Rule 4: more than this many self-filled submissions ... Default 10.
    burst_window : timedelta
        Rule 4: ... from one community within this window. Default 10 minutes.
    min_interviews : int
        Rules 5 and 6: interviewers with fewer responses are not judged. Default 20.
    fdr : float
        Rule 5: Benjamini–Hochberg false discovery rate over all
        interviewer × indicator tests. Default 0.05.
    interviewer_test : str
        Rule 5: ``"fisher"`` (default) for Fisher's exact test
        (``scipy.stats.fisher_exact``, two-sided) or ``"z"`` for the pooled
        two-proportion z-test (:func:`two_proportion_ztest`). Rates near 1
        leave an interviewer with a handful of non-positive answers (60
        answers at 95 % expect 3), where the normal approximation is poor and
        the z-test flags honest interviewers too often; the exact test is
        conservative, the right side to err on before questioning someone's
        work.
    cluster_adjust : bool
        Rule 5: divide each side's pooled item answers by its design effect
        (respondent as the unit, as for the indicator's confidence interval)
        before the test. One respondent answers several items of an
        indicator and those answers are correlated, so pooling them as
        independent overstates the evidence. Default True.
    suspicious_min_n : int
        :func:`suspicious_areas`: only areas with at least this many
        respondents with a valid answer are listed. Default 30.
    """

    speed_fraction: float = 0.3
    speed_floor_seconds: float = 60.0
    speed_channels: tuple = ("self", "interview")
    straightline_min_items: int = 8
    straightline_types: tuple = ("satisfaction",)
    straightline_channels: tuple = ("self", "interview")
    straightline_only_when_speeder: bool = False
    duplicate_min_answers: int = 5
    duplicate_within: str | None = None
    burst_count: int = 10
    burst_window: timedelta = timedelta(minutes=10)
    min_interviews: int = 20
    fdr: float = 0.05
    interviewer_test: str = "fisher"
    cluster_adjust: bool = True
    suspicious_min_n: int = 30


# ----------------------------------------------------------------------------- helpers


def _empty_flags() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in FLAG_COLUMNS})


def _flags(ids, rule: str, zh, en) -> pd.DataFrame:
    ids = list(ids)
    if not ids:
        return _empty_flags()
    return pd.DataFrame(
        {"response_id": [str(i) for i in ids], "rule": rule, "reason_zh": list(zh), "reason_en": list(en)},
        columns=FLAG_COLUMNS,
    )


def _is_empty(responses) -> bool:
    return responses is None or len(responses) == 0


def _attr(obj, name, default=None):
    if isinstance(obj, dict):
        return obj.get(name, default)
    return getattr(obj, name, default)


def _option_code(o) -> str:
    if isinstance(o, str):
        return o
    return str(_attr(o, "code", o))


def _questions_frame(questions) -> pd.DataFrame:
    """Normalise the questionnaire description to code, type, options (tuple), indicator."""
    cols = ["code", "type", "options", "indicator"]
    if questions is None:
        return pd.DataFrame(columns=cols)
    if not isinstance(questions, (pd.DataFrame, list, tuple)) and hasattr(questions, "questions"):
        questions = questions.questions
    rows = questions.to_dict("records") if isinstance(questions, pd.DataFrame) else list(questions)
    out = []
    for q in rows:
        opts = _attr(q, "options", ()) or ()
        if isinstance(opts, float) and math.isnan(opts):
            opts = ()
        ind = _attr(q, "indicator")
        if ind is not None and not isinstance(ind, str) and pd.isna(ind):
            ind = None
        out.append({
            "code": str(_attr(q, "code")),
            "type": _attr(q, "type"),
            "options": tuple(_option_code(o) for o in opts),
            "indicator": ind,
        })
    return pd.DataFrame(out, columns=cols)


def _rounds(responses: pd.DataFrame) -> np.ndarray:
    """Round key of every row (all zeros without a ``round_id`` column)."""
    if "round_id" in responses.columns:
        return pd.factorize(responses["round_id"], use_na_sentinel=False)[0]
    return np.zeros(len(responses), dtype=np.int64)


def _ids(responses: pd.DataFrame) -> np.ndarray:
    return responses["id"].astype(str).to_numpy()


def _fmt_int(x: float) -> str:
    return f"{x:.0f}"


def _pct(r: float) -> str:
    return f"{100.0 * r:.1f}%"


def _fmt_p(p: float) -> str:
    if p < 0.0001:
        return f"{p:.1e}"
    return f"{p:.4f}"


def _indicator_zh(ind: str) -> str:
    return INDICATOR_ZH.get(ind, ind)


def _option_names(questions) -> dict[str, tuple[str, str]]:
    """Option code → (zh, en) label, for reasons people read (``very_satisfied`` → 非常满意)."""
    if questions is not None and not isinstance(questions, (pd.DataFrame, list, tuple)) and hasattr(questions, "questions"):
        questions = questions.questions
    names = {}
    for question in (questions if isinstance(questions, (list, tuple)) else []):
        for option in (_attr(question, "options", ()) or ()):
            if hasattr(option, "text"):
                names.setdefault(option.code, (option.text("zh"), option.text("en")))
    return names


def _area_name(area_id, area_names, english: bool = False) -> str:
    """An area's name from ``area_names`` (id → (zh, en)), else its id."""
    try:
        pair = (area_names or {}).get(int(area_id))
    except (TypeError, ValueError):
        pair = None
    return str(area_id) if pair is None else pair[1 if english else 0]


def _has_interviewer(responses: pd.DataFrame) -> np.ndarray:
    s = responses["interviewer"]
    return (s.notna() & (s.astype(str).str.strip() != "")).to_numpy()


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


# ----------------------------------------------------------------------------- rules 5 and 6


def two_proportion_ztest(x1, n1, x2, n2):
    """Two-sided pooled two-proportion z-test; returns ``(z, p)``, element by element for arrays.

    The test is ``statsmodels.stats.proportion.proportions_ztest([x1, x2], [n1, n2])`` (pooled
    variance; as ``z² = χ²``, ``scipy.stats.chi2_contingency`` without Yates' correction). Counts
    may be fractional (effective counts). What statsmodels leaves undefined is decided here: when
    both rates are 0 or both are 1 there is no evidence of a difference, ``z = 0``, ``p = 1``;
    empty groups give NaN.
    """
    x1, n1, x2, n2 = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (x1, n1, x2, n2)))
    z, p = np.full(x1.shape, np.nan), np.full(x1.shape, np.nan)
    for i in np.ndindex(x1.shape):
        if not (n1[i] > 0 and n2[i] > 0):
            continue
        pooled = (x1[i] + x2[i]) / (n1[i] + n2[i])
        if pooled <= 0 or pooled >= 1:
            z[i], p[i] = 0.0, 1.0
        else:
            z[i], p[i] = proportions_ztest([x1[i], x2[i]], [n1[i], n2[i]])
    if z.ndim == 0:
        return float(z), float(p)
    return z, p


def _fisher_p(x1: float, n1: float, x2: float, n2: float) -> float:
    """Two-sided Fisher exact p-value of positives x out of n in two groups.

    Fractional (effective) counts are rounded to the nearest integer, at
    least one answer per group.
    """
    n1r, n2r = max(round(n1), 1), max(round(n2), 1)
    a, c = min(round(x1), n1r), min(round(x2), n2r)
    return float(stats.fisher_exact([[a, n1r - a], [c, n2r - c]]).pvalue)


def benjamini_hochberg(pvalues) -> np.ndarray:
    """Benjamini–Hochberg adjusted p-values (step-up, FDR control):
    ``statsmodels.stats.multitest.multipletests(p, method="fdr_bh")[1]``, with NaN p-values left
    out of the number of tests and kept NaN."""
    p = np.asarray(pvalues, dtype=float).ravel()
    out = np.full(p.shape, np.nan)
    ok = ~np.isnan(p)
    if ok.any():
        out[ok] = multipletests(p[ok], method="fdr_bh")[1]
    return out


def _effective(respondents, sx, sy, sxx, syy, sxy):
    """Rate and effective (design-effect adjusted) number of answers, respondent as the unit.

    Same estimator as :func:`analysis.rates.add_indicator_rates`: the ratio
    ``r = Σy/Σx``, its linearised variance ``v``, and ``n_eff = r(1-r)/v``
    clipped to ``[respondents, Σx]``; ``n_eff = respondents`` when ``r`` is 0
    or 1 or there is a single respondent.
    """
    n = np.asarray(respondents, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.where(sx > 0, sy / sx, np.nan)
        resid = np.maximum(syy - 2.0 * r * sxy + r * r * sxx, 0.0)
        v = np.where(n >= 2, n / (n - 1.0) * resid / (sx * sx), np.nan)
        n_eff = np.clip(r * (1.0 - r) / v, n, sx)
    degenerate = ~((r > 0) & (r < 1) & (n >= 2))
    n_eff = np.where(degenerate, n, n_eff)
    n_eff = np.where(sx > 0, n_eff, 0.0)
    return r, n_eff


def _respondent_indicator_sums(responses: pd.DataFrame, questions) -> pd.DataFrame:
    """One row per response × indicator: ``pos`` (row position), ``indicator``, ``x`` (valid), ``y`` (positive)."""
    q = _questions_frame(questions)
    q = q[q["indicator"].notna()]
    item_ind = dict(zip(q["code"], q["indicator"]))
    pos, ind, val = [], [], []
    for i, sc in enumerate(responses["scores"].to_numpy()):
        if not isinstance(sc, dict):
            continue
        for item, s in sc.items():
            indicator = item_ind.get(str(item))
            if indicator is None or s is None or (isinstance(s, float) and math.isnan(s)):
                continue
            pos.append(i)
            ind.append(indicator)
            val.append(1.0 if float(s) > 0 else 0.0)
    long = pd.DataFrame({"pos": np.asarray(pos, dtype=np.int64), "indicator": pd.Series(ind, dtype=object),
                         "y": np.asarray(val, dtype=float)})
    long["x"] = 1.0
    return long.groupby(["pos", "indicator"], as_index=False, sort=False)[["x", "y"]].sum()


_SUMS = ["respondents", "sx", "sy", "sxx", "syy", "sxy"]


def _group_sums(per_resp: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    t = per_resp.assign(respondents=1.0, sx=per_resp["x"], sy=per_resp["y"], sxx=per_resp["x"] ** 2,
                        syy=per_resp["y"] ** 2, sxy=per_resp["x"] * per_resp["y"])
    return t.groupby(keys, as_index=False, sort=True)[_SUMS].sum()


def _interviewer_tests(responses: pd.DataFrame, questions, settings: QualitySettings) -> pd.DataFrame:
    """Long table: interviewer, district_id, indicator, interviews, own and rest-of-district rates, p, p_adj."""
    cols = ["interviewer", "district_id", "indicator", "interviews", "valid", "positive", "rate",
            "district_valid", "district_positive", "district_rate", "n_eff", "district_n_eff",
            "z", "p_value", "p_adjusted", "tested", "flagged"]
    if _is_empty(responses):
        return pd.DataFrame(columns=cols)
    has = _has_interviewer(responses)
    resp = responses.loc[has]
    if resp.empty:
        return pd.DataFrame(columns=cols)
    units = pd.DataFrame({"interviewer": resp["interviewer"].astype(str).to_numpy(),
                          "district_id": resp["district_id"].to_numpy()})
    interviews = units.groupby(["interviewer", "district_id"]).size().rename("interviews").reset_index()
    per_resp = _respondent_indicator_sums(resp, questions)
    if per_resp.empty:
        return pd.DataFrame(columns=cols)
    per_resp = per_resp.join(units, on="pos")
    own = _group_sums(per_resp, ["interviewer", "district_id", "indicator"])
    dist = _group_sums(per_resp, ["district_id", "indicator"])
    t = own.merge(dist, on=["district_id", "indicator"], suffixes=("", "_all"))
    rest = {c: (t[f"{c}_all"] - t[c]).to_numpy() for c in _SUMS}
    t = t.merge(interviews, on=["interviewer", "district_id"], how="left")

    r_own, ne_own = _effective(*(t[c].to_numpy() for c in _SUMS))
    r_rest, ne_rest = _effective(*(rest[c] for c in _SUMS))
    if not settings.cluster_adjust:
        ne_own, ne_rest = t["sx"].to_numpy(), rest["sx"]
    tested = (t["interviews"].to_numpy() >= settings.min_interviews) & (t["sx"].to_numpy() > 0) & (rest["sx"] > 0)
    x_own, x_rest = r_own * ne_own, r_rest * ne_rest
    z, p = two_proportion_ztest(x_own, ne_own, x_rest, ne_rest)
    z, p = np.where(tested, z, np.nan), np.where(tested, p, np.nan)
    if settings.interviewer_test == "fisher":
        p = np.full(len(t), np.nan)
        for i in np.flatnonzero(tested):
            p[i] = _fisher_p(x_own[i], ne_own[i], x_rest[i], ne_rest[i])
    elif settings.interviewer_test != "z":
        raise ValueError(f"unknown interviewer_test {settings.interviewer_test!r}; choose 'fisher' or 'z'")
    p_adj = benjamini_hochberg(p)
    out = pd.DataFrame({
        "interviewer": t["interviewer"], "district_id": t["district_id"], "indicator": t["indicator"],
        "interviews": t["interviews"].astype(int), "valid": t["sx"], "positive": t["sy"], "rate": r_own,
        "district_valid": rest["sx"], "district_positive": rest["sy"], "district_rate": r_rest,
        "n_eff": ne_own, "district_n_eff": ne_rest, "z": z, "p_value": p, "p_adjusted": p_adj,
        "tested": tested,
    })
    with np.errstate(invalid="ignore"):
        out["flagged"] = tested & (p_adj <= settings.fdr)
    return out[cols]


def interviewer_effects(responses: pd.DataFrame, questions,
                        settings: QualitySettings = QualitySettings(),
                        area_names: Mapping[int, tuple[str, str]] | None = None) -> pd.DataFrame:
    """Rule 5: interviewers whose rate on an indicator differs from the rest of their district.

    The unit is an interviewer within a district (an interviewer normally
    works one district; one who worked two is judged in each separately).
    For each unit with at least ``min_interviews`` (20) responses and each
    indicator, the interviewer's pooled rate (positive / valid over the
    indicator's item scores of their responses) is compared with the pooled
    rate of all other interviewers' responses in the same district
    (self-filled responses are not part of the comparison) by a two-sided
    test: Fisher's exact test by default, or with ``interviewer_test="z"``
    the pooled two-proportion z-test (:func:`two_proportion_ztest`, equal to
    the χ² test without continuity correction). With ``cluster_adjust`` (default)
    each side's answers are first shrunk to their effective number by the
    respondent-level design effect, see :func:`_effective`. The p-values of
    all interviewer × indicator tests of the round are adjusted by
    Benjamini–Hochberg (:func:`benjamini_hochberg`); tests with an adjusted
    p-value at or below ``fdr`` (0.05) flag every response of the
    interviewer in that district. A response's reason lists every
    significant indicator.

    Caveat: interviewers are seldom randomly assigned to neighbourhoods, so a
    difference can be the neighbourhood's, not the interviewer's.
    """
    tests = _interviewer_tests(responses, questions, settings)
    hits = tests[tests["flagged"]]
    if hits.empty:
        return _empty_flags()
    reasons: dict[tuple, tuple[list, list]] = {}
    for h in hits.itertuples(index=False):
        side_zh = "高于" if h.rate > h.district_rate else "低于"
        side_en = "above" if h.rate > h.district_rate else "below"
        zh = (f"调查员 {h.interviewer} 的{_indicator_zh(h.indicator)} {_pct(h.rate)}，{side_zh}同区（{_area_name(h.district_id, area_names)}）"
              f"其他调查员的 {_pct(h.district_rate)}（{h.interviews} 份问卷，BH 校正后 p = {_fmt_p(h.p_adjusted)}）")
        en = (f"interviewer {h.interviewer}: {h.indicator} rate {_pct(h.rate)}, {side_en} the "
              f"{_pct(h.district_rate)} of the other interviewers in district {_area_name(h.district_id, area_names, True)} "
              f"({h.interviews} responses, BH-adjusted p = {_fmt_p(h.p_adjusted)})")
        z_, e_ = reasons.setdefault((h.interviewer, h.district_id), ([], []))
        z_.append(zh)
        e_.append(en)
    has = _has_interviewer(responses)
    key = list(zip(responses["interviewer"].astype(str), responses["district_id"]))
    ids = _ids(responses)
    out_ids, zh, en = [], [], []
    for i in np.flatnonzero(has):
        r = reasons.get(key[i])
        if r:
            out_ids.append(ids[i])
            zh.append("；".join(r[0]))
            en.append("; ".join(r[1]))
    return _flags(out_ids, "interviewer_effects", zh, en)


def interviewer_summary(responses: pd.DataFrame, questions,
                        settings: QualitySettings = QualitySettings()) -> pd.DataFrame:
    """Per interviewer and district: interviews, and per indicator the rates and p-values.

    One row per (interviewer, district_id), columns ``interviewer``,
    ``district_id``, ``interviews``, then for each indicator ``<ind>_rate``
    (the interviewer's pooled rate), ``<ind>_district_rate`` (the other
    interviewers of the district), ``<ind>_p`` (the z-test p-value) and
    ``<ind>_p_adjusted`` (Benjamini–Hochberg over all tests), and
    ``all_positive`` (every scored answer positive). p-values are NaN for
    interviewers below ``min_interviews`` or alone in their district.
    Sorted by district, then interviewer.
    """
    base = ["interviewer", "district_id", "interviews"]
    if _is_empty(responses) or not _has_interviewer(responses).any():
        return pd.DataFrame(columns=base + ["all_positive"])
    resp = responses.loc[_has_interviewer(responses)]
    counts = (pd.DataFrame({"interviewer": resp["interviewer"].astype(str).to_numpy(),
                            "district_id": resp["district_id"].to_numpy()})
              .groupby(["interviewer", "district_id"]).size().rename("interviews").reset_index())
    tests = _interviewer_tests(responses, questions, settings)
    out = counts
    if not tests.empty:
        wide = tests.pivot_table(index=["interviewer", "district_id"], columns="indicator",
                                 values=["rate", "district_rate", "p_value", "p_adjusted"], dropna=False)
        names = {"rate": "rate", "district_rate": "district_rate", "p_value": "p", "p_adjusted": "p_adjusted"}
        indicators = list(dict.fromkeys(tests["indicator"]))
        order = [(v, ind) for ind in indicators for v in names]
        wide = wide.reindex(columns=pd.MultiIndex.from_tuples(order))
        wide.columns = [f"{ind}_{names[v]}" for v, ind in order]
        out = out.merge(wide.reset_index(), on=["interviewer", "district_id"], how="left")
        allpos = tests.groupby(["interviewer", "district_id"]).apply(
            lambda g: bool((g["valid"] > 0).any() and (g["positive"] == g["valid"]).all()), include_groups=False
        ).rename("all_positive").reset_index()
        out = out.merge(allpos, on=["interviewer", "district_id"], how="left")
        out["all_positive"] = out["all_positive"].fillna(False).astype(bool)
    else:
        out["all_positive"] = False
    return out.sort_values(["district_id", "interviewer"], kind="stable").reset_index(drop=True)


def all_positive_interviewers(responses: pd.DataFrame, settings: QualitySettings = QualitySettings()) -> pd.DataFrame:
    """Rule 6: interviewers whose every scored answer is positive.

    An interviewer with at least ``min_interviews`` (20) responses (over all
    districts), at least one scored item, and every non-missing score equal
    to 1 — 100 % on every indicator — has all their responses flagged.
    Scores of every item count, whether or not the item belongs to an
    indicator.
    """
    if _is_empty(responses):
        return _empty_flags()
    has = _has_interviewer(responses)
    if not has.any():
        return _empty_flags()
    who = responses["interviewer"].astype(str).to_numpy()
    stats_: dict[str, list[int]] = {}  # interviewer -> [responses, scored, non-positive]
    for i in np.flatnonzero(has):
        s = stats_.setdefault(who[i], [0, 0, 0])
        s[0] += 1
        sc = responses["scores"].iat[i]
        if isinstance(sc, dict):
            for v in sc.values():
                if v is None or (isinstance(v, float) and math.isnan(v)):
                    continue
                s[1] += 1
                s[2] += float(v) <= 0
    bad = {k: v for k, v in stats_.items() if v[0] >= settings.min_interviews and v[1] > 0 and v[2] == 0}
    if not bad:
        return _empty_flags()
    ids = _ids(responses)
    idx = [i for i in np.flatnonzero(has) if who[i] in bad]
    zh = [f"该调查员（{who[i]}）的全部 {bad[who[i]][0]} 份问卷所有指标均为 100%（{bad[who[i]][1]} 个有效作答全部为正面）"
          for i in idx]
    en = [f"every indicator is at 100 % in all {bad[who[i]][0]} responses of interviewer {who[i]} "
          f"({bad[who[i]][1]} valid answers, all positive)" for i in idx]
    return _flags(ids[idx], "all_positive_interviewers", zh, en)


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

    Returns a DataFrame with columns :data:`FLAG_COLUMNS`, in rule order and,
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

"""What every data-quality check shares: its input, its thresholds, its flags.

The checks are in :mod:`analysis.quality` (the rules over responses, the table of suspicious areas
and :func:`~analysis.quality.flag_responses`, which runs every rule) and
:mod:`analysis.interviewer_checks` (interviewers against the rest of their district). Both take the
input described here, are tuned by :class:`QualitySettings` and return flags with the columns
:data:`FLAG_COLUMNS`, built with the helpers below.

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
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta

import numpy as np
import pandas as pd

__all__ = ["FLAG_COLUMNS", "QualitySettings"]

FLAG_COLUMNS = ["response_id", "rule", "reason_zh", "reason_en"]
INDICATOR_ZH = {"awareness": "知晓率", "support": "支持率", "participation": "参与率", "satisfaction": "满意率"}


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
        two-proportion z-test (:func:`~analysis.interviewer_checks.two_proportion_ztest`). Rates near 1
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
        :func:`~analysis.quality.suspicious_areas`: only areas with at least this many
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

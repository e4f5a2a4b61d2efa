"""Data-quality checks on interviewers: rates against the rest of the district, and all-positive work.

Rule 5, :func:`interviewer_effects`, flags the responses of an interviewer whose rate on an
indicator differs significantly from the other interviewers of the same district (Fisher's exact
test or the two-proportion z-test on effective counts, Benjamini–Hochberg over all tests); rule 6,
:func:`all_positive_interviewers`, those of an interviewer whose every scored answer is positive.
:func:`interviewer_summary` is the table behind both, per interviewer and indicator. Input,
settings and flags are those of every quality check (:mod:`analysis.quality_common`);
:func:`analysis.quality.flag_responses` runs these rules with the others.
"""

from __future__ import annotations

import math
from typing import Mapping

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import proportions_ztest

from .quality_common import (QualitySettings, _area_name, _empty_flags, _flags, _fmt_p, _has_interviewer, _ids,
                             _indicator_zh, _is_empty, _pct, _respondent_indicator_sums)

__all__ = [
    "all_positive_interviewers",
    "benjamini_hochberg",
    "interviewer_effects",
    "interviewer_summary",
    "two_proportion_ztest",
]


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

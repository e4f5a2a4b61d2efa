import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import proportions_ztest

from analysis.interviewer_checks import (
    all_positive_interviewers,
    benjamini_hochberg,
    interviewer_effects,
    interviewer_summary,
    two_proportion_ztest,
)
from analysis.quality import (
    SUSPICIOUS_COLUMNS,
    duplicate_answer_vectors,
    flag_responses,
    link_bursts,
    speeders,
    straight_lining,
    suspicious_areas,
)
from analysis.quality_common import FLAG_COLUMNS, QualitySettings

SAT_OPTIONS = ["satisfied", "fairly_satisfied", "neutral", "fairly_dissatisfied", "dissatisfied", "dont_know"]
SAT_ITEMS = [f"sat_{i}" for i in range(9)]
QUESTIONS = (
    [{"code": "age_group", "type": "single_choice", "options": ["18_29", "30_39", "40_49", "60_plus"],
      "indicator": None},
     {"code": "sex", "type": "single_choice", "options": ["male", "female"], "indicator": None},
     {"code": "support", "type": "yes_no", "options": ["yes", "no"], "indicator": "support"},
     {"code": "channels", "type": "multiple_choice", "options": ["tv", "web", "poster"], "indicator": None},
     {"code": "suggestion", "type": "text", "options": [], "indicator": None}]
    + [{"code": c, "type": "satisfaction", "options": SAT_OPTIONS, "indicator": "satisfaction"} for c in SAT_ITEMS]
)
T0 = pd.Timestamp("2024-05-06 09:00")


def _frame(rows):
    base = {"community_id": 1, "district_id": 1, "interviewer": None, "channel": "self",
            "started_at": T0, "answers": {}, "scores": {}}
    df = pd.DataFrame([{**base, **r} for r in rows])
    df["started_at"] = pd.to_datetime(df["started_at"])
    df["submitted_at"] = pd.to_datetime(df["submitted_at"])
    return df


def _varied_answers(rng, i=0):
    return {
        "age_group": ["18_29", "30_39", "40_49", "60_plus"][i % 4],
        "sex": ["male", "female"][i % 2],
        "support": "yes",
        "channels": ["tv", "web"],
        "suggestion": f"建议 {i}",
        **{c: SAT_OPTIONS[int(rng.integers(0, 3))] for c in SAT_ITEMS},
    }


# ----------------------------------------------------------------------------- rule 1


def test_speeder_flagged_normal_not_missing_start_not():
    rng = np.random.default_rng(1)
    durations = rng.normal(400, 60, size=40).clip(200)
    rows = [{"id": f"r{i}", "submitted_at": T0 + pd.Timedelta(seconds=float(d))} for i, d in enumerate(durations)]
    rows.append({"id": "fast", "submitted_at": T0 + pd.Timedelta(seconds=38)})
    rows.append({"id": "nostart", "started_at": pd.NaT, "submitted_at": T0 + pd.Timedelta(seconds=5)})
    df = _frame(rows)
    flags = speeders(df)
    assert list(flags.columns) == FLAG_COLUMNS
    assert flags["response_id"].tolist() == ["fast"]
    med = np.median(np.r_[durations, 38.0])
    assert flags["reason_zh"].iat[0] == f"用时 38 秒，不到本轮中位数 {med:.0f} 秒的 30%"
    assert flags["reason_en"].iat[0] == f"took 38 s, under 30 % of the round's median {med:.0f} s"
    assert (flags["rule"] == "speeders").all()


def test_speeder_absolute_floor_and_paper_not_judged():
    rows = [{"id": f"r{i}", "submitted_at": T0 + pd.Timedelta(seconds=150)} for i in range(10)]
    rows.append({"id": "floor", "submitted_at": T0 + pd.Timedelta(seconds=50)})  # 50 > 0.3 * 150
    rows.append({"id": "paper", "channel": "paper", "submitted_at": T0 + pd.Timedelta(seconds=20)})
    flags = speeders(_frame(rows))
    assert flags["response_id"].tolist() == ["floor"]
    assert "60" in flags["reason_en"].iat[0] and "50 s" in flags["reason_en"].iat[0]


# ----------------------------------------------------------------------------- rule 2


def test_straight_liner_flagged_varied_not():
    rng = np.random.default_rng(2)
    straight = _varied_answers(rng) | {c: "satisfied" for c in SAT_ITEMS}
    varied = _varied_answers(rng) | {c: "satisfied" for c in SAT_ITEMS[:-1]} | {SAT_ITEMS[-1]: "neutral"}
    paper = dict(straight)
    df = _frame([
        {"id": "s", "answers": straight, "submitted_at": T0 + pd.Timedelta(minutes=7)},
        {"id": "v", "answers": varied, "submitted_at": T0 + pd.Timedelta(minutes=7)},
        {"id": "p", "answers": paper, "channel": "paper", "submitted_at": T0 + pd.Timedelta(minutes=7)},
        {"id": "i", "answers": straight, "channel": "interview", "interviewer": "A1",
         "submitted_at": T0 + pd.Timedelta(minutes=7)},
    ])
    flags = straight_lining(df, QUESTIONS)
    assert flags["response_id"].tolist() == ["s", "i"]
    assert "9" in flags["reason_zh"].iat[0] and "弱信号" in flags["reason_zh"].iat[0]
    assert "weak signal" in flags["reason_en"].iat[0]
    # too few items answered: not judged
    short = _frame([{"id": "x", "answers": {c: "satisfied" for c in SAT_ITEMS[:7]},
                     "submitted_at": T0 + pd.Timedelta(minutes=7)}])
    assert straight_lining(short, QUESTIONS).empty


def test_straight_lining_only_when_speeder():
    straight = {c: "satisfied" for c in SAT_ITEMS}
    rows = [{"id": f"n{i}", "answers": {}, "submitted_at": T0 + pd.Timedelta(minutes=7)} for i in range(10)]
    rows += [{"id": "slow", "answers": straight, "submitted_at": T0 + pd.Timedelta(minutes=7)},
             {"id": "fast", "answers": straight, "submitted_at": T0 + pd.Timedelta(seconds=30)}]
    df = _frame(rows)
    assert straight_lining(df, QUESTIONS)["response_id"].tolist() == ["slow", "fast"]
    only = straight_lining(df, QUESTIONS, QualitySettings(straightline_only_when_speeder=True))
    assert only["response_id"].tolist() == ["fast"]


# ----------------------------------------------------------------------------- rule 3


def test_duplicate_vectors_group_of_two_and_near_duplicates_not():
    rng = np.random.default_rng(3)
    a = _varied_answers(rng, 0)
    dup = dict(a, suggestion="完全不同的文字", channels=["web", "tv"], years=3.0)
    a = dict(a, years=3)
    b = _varied_answers(rng, 1)
    near = dict(b)
    near[SAT_ITEMS[0]] = "dissatisfied" if b[SAT_ITEMS[0]] != "dissatisfied" else "satisfied"
    df = _frame([
        {"id": "a", "answers": a, "submitted_at": T0},
        {"id": "a2", "answers": dup, "submitted_at": T0 + pd.Timedelta(hours=1)},
        {"id": "b", "answers": b, "submitted_at": T0},
        {"id": "b2", "answers": near, "submitted_at": T0},
    ])
    flags = duplicate_answer_vectors(df, QUESTIONS)
    assert sorted(flags["response_id"]) == ["a", "a2"]
    row = flags.set_index("response_id").loc["a"]
    assert "重复组共 2 份" in row["reason_zh"] and "a2" in row["reason_zh"]
    assert "duplicate group of 2" in row["reason_en"]


def test_duplicate_reason_lists_first_three_others():
    ans = {c: "satisfied" for c in SAT_ITEMS}
    df = _frame([{"id": f"d{i}", "answers": ans, "submitted_at": T0} for i in range(5)])
    flags = duplicate_answer_vectors(df, QUESTIONS)
    assert len(flags) == 5
    r = flags.set_index("response_id").loc["d0", "reason_en"]
    assert "(d1, d2, d3 and others)" in r and "group of 5" in r


def test_duplicates_within_interviewer():
    ans = {c: "satisfied" for c in SAT_ITEMS}
    df = _frame([{"id": "a1", "interviewer": "A", "channel": "interview", "answers": ans, "submitted_at": T0},
                 {"id": "a2", "interviewer": "A", "channel": "interview", "answers": ans, "submitted_at": T0},
                 {"id": "b1", "interviewer": "B", "channel": "interview", "answers": ans, "submitted_at": T0},
                 {"id": "s1", "answers": ans, "submitted_at": T0}])
    assert len(duplicate_answer_vectors(df, QUESTIONS)) == 4
    within = duplicate_answer_vectors(df, QUESTIONS, QualitySettings(duplicate_within="interviewer"))
    assert sorted(within["response_id"]) == ["a1", "a2"]


def test_short_vectors_not_compared():
    df = _frame([{"id": f"u{i}", "answers": {"age_group": "under_18"}, "submitted_at": T0} for i in range(3)])
    assert duplicate_answer_vectors(df, QUESTIONS).empty


# ----------------------------------------------------------------------------- rule 4


def test_link_burst_flagged_spread_not():
    rng = np.random.default_rng(4)
    burst = np.sort(rng.uniform(0, 300, size=15))  # 15 within 5 minutes
    spread = np.arange(15) * 86400 / 15 + rng.uniform(0, 60, size=15)  # one per ~1.6 hours
    rows = [{"id": f"b{i}", "community_id": 7, "submitted_at": T0 + pd.Timedelta(seconds=float(s)),
             "started_at": pd.NaT} for i, s in enumerate(burst)]
    rows += [{"id": f"s{i}", "community_id": 8, "submitted_at": T0 + pd.Timedelta(seconds=float(s)),
              "started_at": pd.NaT} for i, s in enumerate(spread)]
    # interviews in the burst community at the same time are not self-fills
    rows += [{"id": f"i{i}", "community_id": 8, "channel": "interview", "interviewer": "A",
              "submitted_at": T0 + pd.Timedelta(seconds=i)} for i in range(15)]
    flags = link_bursts(_frame(rows))
    assert sorted(flags["response_id"]) == sorted(f"b{i}" for i in range(15))
    assert "15 responses" in flags["reason_en"].iat[0] and "社区 7" in flags["reason_zh"].iat[0]


def test_link_burst_threshold_is_more_than_count():
    rows = [{"id": f"b{i}", "submitted_at": T0 + pd.Timedelta(seconds=10 * i)} for i in range(10)]
    assert link_bursts(_frame(rows)).empty
    rows.append({"id": "b10", "submitted_at": T0 + pd.Timedelta(seconds=101)})
    rows.append({"id": "late", "submitted_at": T0 + pd.Timedelta(hours=2)})
    flags = link_bursts(_frame(rows))
    assert sorted(flags["response_id"]) == sorted(f"b{i}" for i in range(11))


# ----------------------------------------------------------------------------- rules 5 and 6


def _interview_round(seed=5, biased_rate=0.99, n_unbiased=(8, 8), rate=0.85, n=60, items=9):
    """District 1: one biased interviewer B + unbiased ones; district 2: unbiased only."""
    rng = np.random.default_rng(seed)
    rows = []
    plan = [("B", 1, biased_rate)] if biased_rate is not None else []
    plan += [(f"U1_{k}", 1, rate) for k in range(n_unbiased[0])]
    plan += [(f"U2_{k}", 2, rate) for k in range(n_unbiased[1])]
    for who, district, p in plan:
        for j in range(n):
            sat = (rng.random(items) < p).astype(int)
            scores = {c: int(s) for c, s in zip(SAT_ITEMS, sat)}
            scores["support"] = int(rng.random() < 0.95)
            rows.append({"id": f"{who}-{j}", "interviewer": who, "district_id": district, "channel": "interview",
                         "community_id": district * 100 + j % 5, "scores": scores,
                         "submitted_at": T0 + pd.Timedelta(minutes=7, seconds=j)})
    return _frame(rows)


def test_biased_interviewer_flagged_unbiased_not():
    df = _interview_round()
    flags = interviewer_effects(df, QUESTIONS)
    assert set(flags["response_id"]) == {f"B-{j}" for j in range(60)}
    reason = flags["reason_en"].iat[0]
    assert "interviewer B" in reason and "satisfaction" in reason and "BH-adjusted p" in reason
    assert "调查员 B 的满意率" in flags["reason_zh"].iat[0]
    summary = interviewer_summary(df, QUESTIONS)
    row = summary.set_index("interviewer").loc["B"]
    assert row["interviews"] == 60 and row["district_id"] == 1
    assert row["satisfaction_rate"] > 0.97 and 0.8 < row["satisfaction_district_rate"] < 0.9
    assert row["satisfaction_p_adjusted"] < 0.05
    others = summary[summary["interviewer"] != "B"]
    assert (others["satisfaction_p_adjusted"] > 0.05).all()
    assert {"support_rate", "support_p", "all_positive"} <= set(summary.columns)


@pytest.mark.parametrize("seed", [11, 12, 13])
def test_no_bias_no_flags(seed):
    df = _interview_round(seed=seed, biased_rate=None)
    assert interviewer_effects(df, QUESTIONS).empty


def test_min_interviews_and_cluster_adjust_off():
    df = _interview_round(n=15)  # below min_interviews
    assert interviewer_effects(df, QUESTIONS).empty
    assert interviewer_summary(df, QUESTIONS)["satisfaction_p"].isna().all()
    df = _interview_round()
    flags = interviewer_effects(df, QUESTIONS, QualitySettings(cluster_adjust=False, interviewer_test="z"))
    sat = flags[flags["reason_en"].str.contains("satisfaction")]
    assert set(sat["response_id"]) == {f"B-{j}" for j in range(60)}
    # The z-test also flags U1_6 on support: 53/60 vs 464/480 with a true 95 % for both, a chance
    # extreme that the normal approximation over-rates with only ~3 expected failures. Fisher
    # (the default, test above) does not; this is why it is the default.
    extra = set(flags["response_id"]) - set(sat["response_id"])
    assert extra == {f"U1_6-{j}" for j in range(60)}


def _pooled(df, who, items=SAT_ITEMS):
    sat = lambda sub: np.array([[sc[c] for c in items] for sc in sub["scores"]])
    district = df.loc[df["interviewer"] == who, "district_id"].iat[0]
    own = sat(df[df["interviewer"] == who])
    rest = sat(df[(df["interviewer"] != who) & (df["district_id"] == district)])
    return own, rest


@pytest.mark.parametrize("who", ["B", "U1_3", "U2_5"])
def test_interviewer_pvalue_matches_references_without_cluster_adjust(who):
    df = _interview_round()
    own, rest = _pooled(df, who)
    table = [[own.sum(), own.size - own.sum()], [rest.sum(), rest.size - rest.sum()]]
    z_set = QualitySettings(cluster_adjust=False, interviewer_test="z")
    s = interviewer_summary(df, QUESTIONS, z_set).set_index("interviewer")
    z, p = proportions_ztest([own.sum(), rest.sum()], [own.size, rest.size])
    assert s.loc[who, "satisfaction_p"] == pytest.approx(p, rel=1e-10)
    chi2 = stats.chi2_contingency(table, correction=False)
    assert s.loc[who, "satisfaction_p"] == pytest.approx(chi2.pvalue, rel=1e-8)
    f_set = QualitySettings(cluster_adjust=False)  # Fisher exact is the default
    s = interviewer_summary(df, QUESTIONS, f_set).set_index("interviewer")
    assert s.loc[who, "satisfaction_p"] == pytest.approx(stats.fisher_exact(table).pvalue, rel=1e-12)
    assert s.loc[who, "satisfaction_rate"] == pytest.approx(own.mean())
    assert s.loc[who, "satisfaction_district_rate"] == pytest.approx(rest.mean())


def test_cluster_adjust_shrinks_evidence_for_correlated_answers():
    # Each respondent answers all items alike (perfect correlation): 60 respondents, not 540 answers.
    rng = np.random.default_rng(7)
    rows = []
    for who, p in [("B", 0.97)] + [(f"U{k}", 0.85) for k in range(6)]:
        for j in range(60):
            s = int(rng.random() < p)
            rows.append({"id": f"{who}-{j}", "interviewer": who, "channel": "interview",
                         "scores": {c: s for c in SAT_ITEMS}, "submitted_at": T0 + pd.Timedelta(minutes=7)})
    df = _frame(rows)
    adj = interviewer_summary(df, QUESTIONS).set_index("interviewer")
    raw = interviewer_summary(df, QUESTIONS, QualitySettings(cluster_adjust=False)).set_index("interviewer")
    assert adj.loc["B", "satisfaction_p"] > 100 * raw.loc["B", "satisfaction_p"]
    # with perfect correlation the effective counts are the respondent counts
    own, rest = _pooled(df, "B")
    table = [[own[:, 0].sum(), 60 - own[:, 0].sum()], [rest[:, 0].sum(), 360 - rest[:, 0].sum()]]
    assert adj.loc["B", "satisfaction_p"] == pytest.approx(stats.fisher_exact(table).pvalue, rel=1e-12)


@pytest.mark.parametrize("x1,n1,x2,n2", [(59, 60, 51, 60), (480, 540, 3900, 4320), (12.5, 20.3, 30.2, 40.1),
                                         (5, 50, 0, 50)])
def test_two_proportion_ztest_matches_statsmodels(x1, n1, x2, n2):
    z, p = two_proportion_ztest(x1, n1, x2, n2)
    z_ref, p_ref = proportions_ztest([x1, x2], [n1, n2])
    assert z == pytest.approx(z_ref, rel=1e-12)
    assert p == pytest.approx(p_ref, rel=1e-10)


def test_two_proportion_ztest_degenerate():
    assert two_proportion_ztest(60, 60, 100, 100) == (0.0, 1.0)
    z, p = two_proportion_ztest(0, 0, 5, 10)
    assert np.isnan(z) and np.isnan(p)


def test_benjamini_hochberg_matches_statsmodels():
    rng = np.random.default_rng(6)
    p = np.r_[rng.uniform(size=40), rng.uniform(0, 0.002, size=10), [0.5, 0.5, 1.0]]
    rng.shuffle(p)
    ref = multipletests(p, alpha=0.05, method="fdr_bh")[1]
    np.testing.assert_allclose(benjamini_hochberg(p), ref, rtol=1e-14)
    with_nan = np.r_[p[:5], np.nan, p[5:]]
    got = benjamini_hochberg(with_nan)
    assert np.isnan(got[5])
    np.testing.assert_allclose(np.delete(got, 5), ref[:5].tolist() + list(multipletests(p, method="fdr_bh")[1][5:]))


def test_interviewer_effects_use_bh_over_all_tests():
    df = _interview_round()
    s = interviewer_summary(df, QUESTIONS)
    p = s[["satisfaction_p", "support_p"]].to_numpy().ravel()
    adj = s[["satisfaction_p_adjusted", "support_p_adjusted"]].to_numpy().ravel()
    ok = ~np.isnan(p)
    np.testing.assert_allclose(adj[ok], multipletests(p[ok], method="fdr_bh")[1], rtol=1e-12)


def test_all_positive_interviewer_flagged():
    df = _interview_round(biased_rate=0.85)
    perfect = [{"id": f"P-{j}", "interviewer": "P", "district_id": 2, "channel": "interview",
                "scores": {**{c: 1 for c in SAT_ITEMS}, "support": 1, SAT_ITEMS[0]: None if j == 0 else 1},
                "submitted_at": T0 + pd.Timedelta(minutes=9)} for j in range(25)]
    df = pd.concat([df, _frame(perfect)], ignore_index=True)
    flags = all_positive_interviewers(df)
    assert sorted(flags["response_id"]) == sorted(f"P-{j}" for j in range(25))
    assert "该调查员（P）的全部 25 份问卷所有指标均为 100%" in flags["reason_zh"].iat[0]
    assert "all 25 responses" in flags["reason_en"].iat[0]
    assert bool(interviewer_summary(df, QUESTIONS).set_index("interviewer").loc["P", "all_positive"])
    # fewer than min_interviews: not judged
    assert all_positive_interviewers(_frame(perfect[:10])).empty


# ----------------------------------------------------------------------------- tables and the whole run


def test_suspicious_areas():
    rows = []
    for j in range(40):  # district 1, community 11: 100 % satisfaction, 40 respondents
        rows.append({"id": f"a{j}", "district_id": 1, "community_id": 11, "submitted_at": T0,
                     "scores": {**{c: 1 for c in SAT_ITEMS}, "support": int(j % 10 != 0)}})
    for j in range(20):  # community 12: 100 % but only 20 respondents
        rows.append({"id": f"b{j}", "district_id": 1, "community_id": 12, "submitted_at": T0,
                     "scores": {c: 1 for c in SAT_ITEMS}})
    for j in range(40):  # district 2: not at 100 %
        rows.append({"id": f"c{j}", "district_id": 2, "community_id": 21, "submitted_at": T0,
                     "scores": {c: int(j != 3) for c in SAT_ITEMS}})
    t = suspicious_areas(_frame(rows), QUESTIONS)
    assert list(t.columns) == SUSPICIOUS_COLUMNS
    got = set(zip(t["level"], t["area_id"], t["indicator"]))
    assert got == {("district", 1, "satisfaction"), ("community", 11, "satisfaction")}
    d = t.set_index("level").loc["district"]
    assert d["respondents"] == 60 and d["valid"] == 540
    lo, _ = stats.binomtest(60, 60).proportion_ci(method="wilson")
    assert d["ci_low"] == pytest.approx(lo, rel=1e-9)
    assert "100%" in d["reason_zh"]
    # without questions each item is checked on its own
    t2 = suspicious_areas(_frame(rows))
    assert ("community", 11, SAT_ITEMS[0]) in set(zip(t2["level"], t2["area_id"], t2["indicator"]))


def test_flag_responses_empty_and_combined():
    empty = flag_responses(pd.DataFrame(), QUESTIONS)
    assert list(empty.columns) == FLAG_COLUMNS and empty.empty
    empty2 = flag_responses(_frame([{"id": "x", "submitted_at": T0}]).iloc[:0], QUESTIONS)
    assert list(empty2.columns) == FLAG_COLUMNS and empty2.empty
    assert suspicious_areas(pd.DataFrame(), QUESTIONS).columns.tolist() == SUSPICIOUS_COLUMNS

    df = _interview_round()
    fast = _frame([{"id": "fast", "interviewer": "U2_0", "district_id": 2, "channel": "interview",
                    "started_at": T0, "submitted_at": T0 + pd.Timedelta(seconds=30),
                    "answers": {c: "satisfied" for c in SAT_ITEMS}}])
    df = pd.concat([df, fast], ignore_index=True)
    flags = flag_responses(df, QUESTIONS)
    assert list(flags.columns) == FLAG_COLUMNS
    by_rule = flags.groupby("rule")["response_id"].apply(set).to_dict()
    assert by_rule["speeders"] == {"fast"}
    assert by_rule["straight_lining"] == {"fast"}
    assert by_rule["interviewer_effects"] == {f"B-{j}" for j in range(60)}
    with pytest.raises(ValueError):
        flag_responses(df, QUESTIONS, rules=["nope"])


# ----------------------------------------------------------------------------- readable reasons


def test_reasons_name_options_and_areas_in_words_not_codes():
    """Issue 15 item 9: reasons showed option codes (very_satisfied) and area ids."""
    from questionnaires import load_default

    questionnaire = load_default()
    scale = [q for q in questionnaire.questions if q.type == "satisfaction"]
    option = scale[0].options[0]
    answers = {q.code: option.code for q in scale}
    df = _frame([{"id": "s", "answers": answers, "submitted_at": T0 + pd.Timedelta(minutes=7)}])
    flags = straight_lining(df, questionnaire)
    assert flags["response_id"].tolist() == ["s"]
    assert f"“{option.text('zh')}”" in flags["reason_zh"].iat[0] and option.code not in flags["reason_zh"].iat[0]
    assert option.text("en") in flags["reason_en"].iat[0]

    rows = [{"id": f"b{i}", "community_id": 7, "submitted_at": T0 + pd.Timedelta(seconds=10 * i)} for i in range(30)]
    bursts = link_bursts(_frame(rows), area_names={7: ("城东区 › 东门街道 › 和平社区", "Heping, Dongmen, Chengdong")})
    assert not bursts.empty
    assert bursts["reason_zh"].str.contains("城东区 › 东门街道 › 和平社区").all()
    assert bursts["reason_en"].str.contains("Heping, Dongmen, Chengdong").all()
    assert not link_bursts(_frame(rows))["reason_zh"].str.contains("和平社区").any()  # no names: ids as before

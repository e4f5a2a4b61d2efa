import warnings

import numpy as np
import pandas as pd
import pytest

from analysis.proportion import proportion_ci
from analysis.rates import add_indicator_rates
from analysis.weighted_rates import weighted_rates_by_group, weighted_rates_from_cell_sums, weighted_ratio
from analysis.weighting import (
    EmptyCellError,
    population_weights,
    effective_sample_size,
    kish_deff,
    poststratification_weights,
    raking_weights,
)

# ----------------------------------------------------------------------------- fixtures


def _respondents(rng, n, items, p, rho):
    """Per-respondent valid (x) and positive (y) answers with correlated items."""
    a, b = p * (1 - rho) / rho, (1 - p) * (1 - rho) / rho
    prop = rng.beta(a, b, size=n)
    answered = rng.random((n, items)) < 0.85
    answered[:, 0] = True
    positive = (rng.random((n, items)) < prop[:, None]) & answered
    return answered.sum(axis=1).astype(float), positive.sum(axis=1).astype(float)


@pytest.fixture(scope="module")
def people():
    """Respondents in two districts with age × sex cells and cell weights."""
    rng = np.random.default_rng(2024)
    rows = []
    for district, n in ((1, 300), (2, 180)):
        x, y = _respondents(rng, n, 4, 0.9, 0.3)
        rows.append(pd.DataFrame({
            "district_id": district,
            "age_group": rng.choice(["18_39", "40_59", "60_plus"], n, p=[0.2, 0.3, 0.5]),
            "sex": rng.choice(["male", "female"], n, p=[0.4, 0.6]),
            "valid": x, "positive": y,
        }))
    df = pd.concat(rows, ignore_index=True)
    cell_w = {("18_39", "male"): 2.4, ("18_39", "female"): 1.9, ("40_59", "male"): 1.2,
              ("40_59", "female"): 0.9, ("60_plus", "male"): 0.7, ("60_plus", "female"): 0.45}
    df["weight"] = [cell_w[(a, s)] for a, s in zip(df["age_group"], df["sex"])]
    # A few respondents with no valid answer: outside the indicator's domain.
    df.loc[[5, 17, 301], ["valid", "positive"]] = 0.0
    return df


def _cell_sums(df, cells):
    d = df[df["valid"] > 0].assign(
        respondents=1.0, valid_sq=lambda f: f["valid"] ** 2, positive_sq=lambda f: f["positive"] ** 2,
        valid_positive=lambda f: f["valid"] * f["positive"],
    )
    sums = d.groupby(cells, as_index=False)[
        ["respondents", "valid", "positive", "valid_sq", "positive_sq", "valid_positive"]].sum()
    w = d.groupby(cells, as_index=False)["weight"].first()
    return sums.merge(w, on=cells)


# ----------------------------------------------------------------------------- post-stratification


def test_poststratification_weights_hand_example():
    sample = pd.DataFrame({"age_group": ["young", "young", "old", "old"],
                           "sex": ["male", "female", "male", "female"], "n": [10, 30, 20, 40]})
    pop = pd.DataFrame({"age_group": ["old", "old", "young", "young"],
                        "sex": ["female", "male", "female", "male"],
                        "population": [300, 200, 250, 250]})
    out = poststratification_weights(sample, pop)
    got = out.set_index(["age_group", "sex"])["weight"]
    # population share / sample share, n = 100, N = 1000
    assert got[("young", "male")] == pytest.approx(0.25 / 0.10, rel=1e-15)
    assert got[("young", "female")] == pytest.approx(0.25 / 0.30, rel=1e-15)
    assert got[("old", "male")] == pytest.approx(0.20 / 0.20, rel=1e-15)
    assert got[("old", "female")] == pytest.approx(0.30 / 0.40, rel=1e-15)
    assert (out["n"] * out["weight"]).sum() == pytest.approx(100.0, rel=1e-14)
    # The weighted sample reproduces the population shares.
    shares = out["n"] * out["weight"] / 100.0
    assert np.allclose(shares, out["population"] / 1000.0, rtol=1e-14)


def test_poststratification_missing_population_cell_is_named_in_both_languages():
    sample = pd.DataFrame({"age_group": ["18_39", "60_plus"], "sex": ["female", "female"], "n": [5, 7]})
    pop = pd.DataFrame({"age_group": ["18_39"], "sex": ["female"], "population": [100]})
    with pytest.raises(ValueError) as err:
        poststratification_weights(sample, pop)
    msg = str(err.value)
    assert "人口数据缺少单元 age_group=60_plus, sex=female" in msg
    assert "population has no cell age_group=60_plus, sex=female" in msg


def test_poststratification_cell_without_sample_is_named():
    sample = pd.DataFrame({"age_group": ["18_39", "60_plus"], "sex": ["female", "male"], "n": [5, 0]})
    pop = pd.DataFrame({"age_group": ["18_39", "60_plus"], "sex": ["female", "male"], "population": [100, 50]})
    with pytest.raises(ValueError, match="sample has no respondents in cell age_group=60_plus, sex=male"):
        poststratification_weights(sample, pop)
    assert "样本缺少单元 age_group=60_plus, sex=male" in str(
        pytest.raises(ValueError, poststratification_weights, sample, pop).value)
    # A cell with population 0 but respondents is also unweightable.
    pop0 = pop.assign(population=[100, 0])
    sample1 = sample.assign(n=[5, 3])
    with pytest.raises(ValueError, match="population has no cell age_group=60_plus, sex=male"):
        poststratification_weights(sample1, pop0)


def test_poststratification_rejects_duplicate_cells():
    sample = pd.DataFrame({"age_group": ["a", "a"], "sex": ["m", "m"], "n": [1, 2]})
    pop = pd.DataFrame({"age_group": ["a"], "sex": ["m"], "population": [10]})
    with pytest.raises(ValueError, match="more than once"):
        poststratification_weights(sample, pop)


# ----------------------------------------------------------------------------- raking


def _two_by_two():
    sample = pd.DataFrame({"sex": ["male", "male", "female", "female"],
                           "age_group": ["young", "old", "young", "old"], "n": [40.0, 10.0, 20.0, 30.0]})
    margins = {"sex": pd.Series({"male": 480.0, "female": 520.0}),
               "age_group": pd.Series({"young": 350.0, "old": 650.0})}
    return sample, margins


def test_raking_two_by_two_meets_margins_and_keeps_odds_ratio():
    sample, margins = _two_by_two()
    w = raking_weights(sample, margins, tol=1e-13, max_iter=1000)
    t = sample["n"] * w  # raked cell totals on the sample scale (Σ = 100)
    assert t.sum() == pytest.approx(100.0, rel=1e-13)
    assert abs(t[0] + t[1] - 48.0) < 1e-10 and abs(t[2] + t[3] - 52.0) < 1e-10
    assert abs(t[0] + t[2] - 35.0) < 1e-10 and abs(t[1] + t[3] - 65.0) < 1e-10
    # Hand check: raking multiplies rows and columns, so the raked 2x2 table keeps
    # the sample odds ratio (40*30)/(10*20) = 6. With row sums 48/52 and column
    # sums 35/65, t11 solves t11 (17 + t11) = 6 (48 - t11)(35 - t11), the root in
    # (0, 35): 5 t11^2 - 515 t11 + 10080 = 0.
    t11 = (515 - np.sqrt(515**2 - 4 * 5 * 10080)) / 10
    assert t[0] == pytest.approx(t11, abs=1e-10)
    assert (t[0] * t[3]) / (t[1] * t[2]) == pytest.approx(6.0, rel=1e-9)


def test_raking_per_respondent_rows_equal_cell_rows():
    sample, margins = _two_by_two()
    per_person = sample.loc[sample.index.repeat(sample["n"].astype(int))].drop(columns="n")
    w_cells = raking_weights(sample, margins, tol=1e-12)
    w_people = raking_weights(per_person, margins, tol=1e-12)
    assert np.allclose(w_people.to_numpy(), w_cells.loc[per_person.index].to_numpy(), rtol=1e-10)
    assert w_people.index.equals(per_person.index)


def test_raking_equals_poststratification_when_the_cross_tables_are_independent():
    # Sample and population both independent tables: the population/sample
    # ratio factorises, so the margins alone determine the cross-table.
    s_sex, s_age = np.array([0.3, 0.7]), np.array([0.5, 0.2, 0.3])
    p_sex, p_age = np.array([0.49, 0.51]), np.array([0.35, 0.40, 0.25])
    sexes, ages = ["male", "female"], ["18_39", "40_59", "60_plus"]
    rows = [(s, a) for s in sexes for a in ages]
    sample = pd.DataFrame(rows, columns=["sex", "age_group"])
    sample["n"] = [200 * s_sex[i] * s_age[j] for i in range(2) for j in range(3)]
    pop = pd.DataFrame(rows, columns=["sex", "age_group"])
    pop["population"] = [1e6 * p_sex[i] * p_age[j] for i in range(2) for j in range(3)]
    margins = {"sex": pop.groupby("sex")["population"].sum(), "age_group": pop.groupby("age_group")["population"].sum()}
    raked = raking_weights(sample, margins, tol=1e-13)
    post = poststratification_weights(sample, pop, cells=("sex", "age_group"))
    merged = sample.assign(raked=raked).merge(post[["sex", "age_group", "weight"]], on=["sex", "age_group"])
    assert np.allclose(merged["raked"], merged["weight"], rtol=1e-11)


def test_raking_equals_poststratification_when_the_ratio_factorises():
    # Non-independent tables, but population = sample x row factor x column factor.
    n = np.array([[40.0, 10.0, 5.0], [20.0, 30.0, 25.0]])
    pop_tab = n * np.array([[1.5], [0.8]]) * np.array([[2.0, 1.0, 3.0]]) * 1000
    sample = pd.DataFrame([(i, j, n[i, j]) for i in range(2) for j in range(3)], columns=["sex", "age_group", "n"])
    pop = pd.DataFrame([(i, j, pop_tab[i, j]) for i in range(2) for j in range(3)],
                       columns=["sex", "age_group", "population"])
    margins = {"sex": pop.groupby("sex")["population"].sum(), "age_group": pop.groupby("age_group")["population"].sum()}
    raked = raking_weights(sample, margins, tol=1e-13, max_iter=500)
    post = poststratification_weights(sample, pop, cells=("sex", "age_group"))
    assert np.allclose(raked.to_numpy(), post["weight"].to_numpy(), rtol=1e-10)


def test_raking_with_trimming_keeps_weights_within_bounds_and_meets_margins():
    rng = np.random.default_rng(3)
    n = 600
    sample = pd.DataFrame({
        "sex": rng.choice(["m", "f"], n, p=[0.3, 0.7]),
        "age": rng.choice(["a", "b", "c", "d"], n, p=[0.05, 0.15, 0.3, 0.5]),
        "edu": rng.choice(["low", "high"], n, p=[0.3, 0.7]),
    })
    margins = {"sex": pd.Series({"m": 0.5, "f": 0.5}),
               "age": pd.Series({"a": 0.12, "b": 0.25, "c": 0.3, "d": 0.33}),
               "edu": pd.Series({"low": 0.6, "high": 0.4})}
    untrimmed = raking_weights(sample, margins, tol=1e-10)
    assert untrimmed.max() > 4.0  # the trimming below must bind
    lower, upper = 0.4, 4.0
    w = raking_weights(sample, margins, tol=1e-10, max_iter=2000, trim=(lower, upper))
    mean = w.mean()
    assert mean == pytest.approx(1.0, abs=1e-9)
    assert w.min() >= lower and w.max() <= upper
    assert w.max() == upper and w.min() == lower  # both bounds are active
    for var, margin in margins.items():
        share = w.groupby(sample[var]).sum() / w.sum()
        assert np.allclose(share[margin.index], margin / margin.sum(), atol=1e-9)
    # An open lower bound: only the large weights are capped.
    capped = raking_weights(sample, margins, tol=1e-10, max_iter=2000, trim=(None, 3.0))
    assert capped.max() == 3.0 and capped.max() < untrimmed.max()
    for var, margin in margins.items():
        share = capped.groupby(sample[var]).sum() / capped.sum()
        assert np.allclose(share[margin.index], margin / margin.sum(), atol=1e-9)


def test_raking_errors():
    sample, margins = _two_by_two()
    with pytest.raises(ValueError, match="sample has no respondents in category age_group=middle"):
        raking_weights(sample, {**margins, "age_group": pd.Series({"young": 1.0, "middle": 1.0, "old": 1.0})})
    with pytest.raises(ValueError, match="no target for sample category sex=female"):
        raking_weights(sample, {**margins, "sex": pd.Series({"male": 1.0})})
    with pytest.raises(ValueError, match="did not converge"):
        raking_weights(sample, margins, max_iter=1, tol=1e-12)
    # A single trimmed cell cannot carry 5x its share with weights capped at 1.5.
    with pytest.raises(ValueError, match="trimming bounds may be too tight"):
        raking_weights(sample, margins, trim=(0.9, 1.1), max_iter=200)
    with pytest.raises(ValueError, match="trim bounds"):
        raking_weights(sample, margins, trim=(1.2, 3.0))


# ----------------------------------------------------------------------------- Kish


def test_kish_design_effect_hand_example():
    w = [1.0, 1.0, 2.0, 4.0]  # Σw = 8, Σw² = 22
    assert kish_deff(w) == pytest.approx(4 * 22 / 64, rel=1e-15)
    assert effective_sample_size(w) == pytest.approx(64 / 22, rel=1e-15)
    # Per-cell weights with counts equal the repeated per-respondent weights.
    assert kish_deff([1.0, 2.0], counts=[3, 1]) == pytest.approx(4 * 7 / 25, rel=1e-15)
    assert kish_deff([1.0, 2.0], counts=[3, 1]) == pytest.approx(kish_deff([1, 1, 1, 2]), rel=1e-15)
    assert effective_sample_size([1.0, 2.0], counts=[3, 1]) == pytest.approx(25 / 7, rel=1e-15)
    assert kish_deff([3.0] * 10) == pytest.approx(1.0)
    # deff = 1 + CV² of the weights (population CV).
    w = np.random.default_rng(0).lognormal(size=500)
    assert kish_deff(w) == pytest.approx(1 + w.var() / w.mean() ** 2, rel=1e-12)


# ----------------------------------------------------------------------------- weighted ratio


def _hand_ratio(y, x, w):
    """Independent, loop-based version of the with-replacement linearised variance."""
    keep = [i for i in range(len(x)) if x[i] > 0]
    n = len(keep)
    num = sum(w[i] * y[i] for i in keep)
    den = sum(w[i] * x[i] for i in keep)
    r = num / den
    z = [w[i] * (y[i] - r * x[i]) / den for i in keep]  # linearised scores
    zbar = sum(z) / n  # = 0 at the ratio, kept for the textbook form
    v = n / (n - 1) * sum((zi - zbar) ** 2 for zi in z)
    return r, v


def test_weighted_ratio_matches_hand_coded_linearisation(people):
    d = people[people["district_id"] == 1]
    res = weighted_ratio(d["positive"], d["valid"], d["weight"], rho=0.3)
    r, v = _hand_ratio(d["positive"].tolist(), d["valid"].tolist(), d["weight"].tolist())
    assert res.rate == pytest.approx(r, rel=1e-13)
    assert res.variance == pytest.approx(v, rel=1e-10)
    assert res.se == pytest.approx(np.sqrt(v), rel=1e-10)
    assert res.respondents == int((d["valid"] > 0).sum())
    # Kish: deff = (weighting) n Σw²/(Σw)² × (clustering) 1 + (m̄ - 1) rho, over respondents with answers.
    answered = d[d["valid"] > 0]
    n, sx, w = len(answered), answered["valid"].sum(), answered["weight"]
    deff = n * (w * w).sum() / w.sum() ** 2 * (1 + (sx / n - 1) * 0.3)
    assert res.n_eff == pytest.approx(sx / deff, rel=1e-10)
    assert res.deff == pytest.approx(deff, rel=1e-10)


def test_weighted_ratio_is_invariant_to_the_scale_of_the_weights(people):
    d = people[people["district_id"] == 2]
    a = weighted_ratio(d["positive"], d["valid"], d["weight"])
    b = weighted_ratio(d["positive"], d["valid"], d["weight"] * 1234.5)
    assert np.allclose(a[:5], b[:5], rtol=1e-12)


def _samplics():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # samplics is archived and warns on import
        try:
            from samplics.estimation import TaylorEstimator
            from samplics.utils.types import PopParam
        except ImportError:
            pytest.skip("samplics not installed")
    return TaylorEstimator, PopParam


def test_weighted_ratio_matches_samplics_ratio(people):
    TaylorEstimator, PopParam = _samplics()
    d = people[(people["district_id"] == 1) & (people["valid"] > 0)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = TaylorEstimator(PopParam.ratio)
        est.estimate(y=d["positive"].to_numpy(), x=d["valid"].to_numpy(), samp_weight=d["weight"].to_numpy())
    res = weighted_ratio(d["positive"], d["valid"], d["weight"])
    assert res.rate == pytest.approx(est.point_est, rel=1e-12)
    assert res.se == pytest.approx(est.stderror, rel=1e-9)


def test_weighted_single_item_matches_samplics_proportion():
    TaylorEstimator, PopParam = _samplics()
    rng = np.random.default_rng(11)
    n = 250
    y = (rng.random(n) < 0.93).astype(float)
    w = rng.choice([0.4, 0.8, 1.5, 2.6], n)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = TaylorEstimator(PopParam.prop)
        est.estimate(y=y, samp_weight=w)
    res = weighted_ratio(y, np.ones(n), w)
    assert res.rate == pytest.approx(est.point_est[1.0], rel=1e-12)
    assert res.se == pytest.approx(est.stderror[1.0], rel=1e-9)


def test_weighted_ratio_with_rate_one_uses_kish_effective_size():
    w = np.array([1.0, 1.0, 2.0, 4.0])
    res = weighted_ratio(np.ones(4), np.ones(4), w)
    assert res.rate == 1.0 and res.se == 0.0
    assert res.n_eff == pytest.approx(64 / 22)
    assert res.deff == pytest.approx(4 / (64 / 22))


def test_unit_weights_reproduce_the_unweighted_indicator_rates(people):
    d = people.assign(weight=1.0)
    sums = _cell_sums(d, ["district_id"]).drop(columns="weight")
    unweighted = add_indicator_rates(sums)
    weighted = weighted_rates_by_group(d, ["district_id"])
    for col in ("rate", "se", "n_eff", "deff", "ci_low", "ci_high"):
        assert np.allclose(weighted[col], unweighted[col], rtol=1e-10), col


# ----------------------------------------------------------------------------- grouped forms


def test_grouped_rates_equal_per_group_weighted_ratio(people):
    out = weighted_rates_by_group(people, ["district_id"], method="jeffreys", confidence=0.9, rho=0.3)
    for _, row in out.iterrows():
        d = people[people["district_id"] == row["district_id"]]
        res = weighted_ratio(d["positive"], d["valid"], d["weight"], rho=0.3)
        assert row["rate"] == pytest.approx(res.rate, rel=1e-13)
        assert row["se"] == pytest.approx(res.se, rel=1e-12)
        assert row["n_eff"] == pytest.approx(res.n_eff, rel=1e-12)
        assert row["respondents"] == res.respondents
        low, high = proportion_ci(res.rate * res.n_eff, res.n_eff, "jeffreys", 0.9)
        assert (row["ci_low"], row["ci_high"]) == pytest.approx((low, high), rel=1e-12)


def test_cell_sums_give_the_same_result_as_raw_respondents(people):
    cells = _cell_sums(people, ["district_id", "age_group", "sex"])
    for groups in (["district_id"], ["sex"], ["district_id", "age_group"], []):
        # The correlation is given: estimated by default, it would pool residuals within groups in one
        # function and within cells in the other.
        raw = weighted_rates_by_group(people, groups, rho=0.25)
        agg = weighted_rates_from_cell_sums(cells, groups, rho=0.25)
        assert list(raw.columns) == list(agg.columns)
        for col in groups:
            assert raw[col].tolist() == agg[col].tolist()
        for col in ("respondents", "valid", "positive"):
            assert raw[col].tolist() == agg[col].tolist(), col
        for col in ("rate", "se", "deff", "n_eff", "ci_low", "ci_high"):
            np.testing.assert_allclose(agg[col], raw[col], rtol=1e-12, atol=0, err_msg=col)


def test_cell_sums_with_empty_cells_and_missing_weights():
    cells = pd.DataFrame({
        "g": ["a", "a", "b"], "respondents": [3, 0, 0], "valid": [3, 0, 0], "positive": [2, 0, 0],
        "valid_sq": [3, 0, 0], "positive_sq": [2, 0, 0], "valid_positive": [2, 0, 0],
        "weight": [1.5, np.nan, np.nan],
    })
    out = weighted_rates_from_cell_sums(cells, ["g"]).set_index("g")
    assert out.loc["a", "rate"] == pytest.approx(2 / 3)
    assert np.isnan(out.loc["b", "rate"]) and out.loc["b", "n_eff"] == 0
    assert np.isnan(out.loc["b", "ci_low"])
    with pytest.raises(ValueError, match="weight"):
        weighted_rates_from_cell_sums(cells.assign(respondents=[3, 1, 0]), ["g"])


def test_weighted_interval_is_wider_than_treating_weights_as_counts():
    # Regression guard for the bug the issue warns about: feeding Σw·y and Σw·x
    # into a binomial interval pretends the weights are interviews.
    rng = np.random.default_rng(5)
    n = 400
    y = (rng.random(n) < 0.96).astype(float)
    w = rng.choice([0.3, 0.6, 1.2, 3.0], n, p=[0.3, 0.3, 0.25, 0.15])
    w = w / w.mean()  # mean 1: Σw equals the number of interviews
    frame = pd.DataFrame({"g": 1, "positive": y, "valid": 1.0, "weight": w})
    out = weighted_rates_by_group(frame, ["g"]).iloc[0]
    naive_low, naive_high = proportion_ci((w * y).sum(), w.sum(), "wilson", 0.95)
    assert out["ci_low"] < naive_low and out["ci_high"] > naive_high
    assert out["n_eff"] < n and out["deff"] > 1.0
    # The weighting loss is of the order of Kish's factor.
    assert out["n_eff"] == pytest.approx(effective_sample_size(w), rel=0.35)


def test_invalid_answers_are_rejected():
    with pytest.raises(ValueError, match="positive <= valid"):
        weighted_ratio([2.0], [1.0], [1.0])
    with pytest.raises(ValueError, match="non-negative"):
        weighted_ratio([1.0, 0.0], [1.0, 1.0], [1.0, -1.0])


# ----------------------------------------------------------------------------- weights on the population's scale


def _issue_example():
    """Issue 14's example: district 1 has 100 interviews and 90 % of the population, district 2 has 400
    interviews and 10 %; the single item's true rate is 0.90 in district 1 and 0.99 in district 2."""
    ages, sexes = ["18_39", "60_plus"], ["female", "male"]
    sample_share = {("18_39", "female"): 0.2, ("18_39", "male"): 0.1, ("60_plus", "female"): 0.4,
                    ("60_plus", "male"): 0.3}
    # population = sample × age factor × sex factor: the ratio factorises, so raking on the two
    # margins meets the cross-table exactly.
    age_factor, sex_factor = {"18_39": 3.0, "60_plus": 1.0}, {"female": 1.0, "male": 1.2}
    rows, people = [], []
    for district, n, pop_total, rate in ((1, 100, 900_000, 0.90), (2, 400, 100_000, 0.99)):
        raw = {c: sample_share[c] * age_factor[c[0]] * sex_factor[c[1]] for c in sample_share}
        for (age, sex), share in sample_share.items():
            count = n * share
            rows.append({"district_id": district, "age_group": age, "sex": sex, "n": count,
                         "positive": count * rate})
            people.append({"district_id": district, "age_group": age, "sex": sex,
                           "population": pop_total * raw[(age, sex)] / sum(raw.values())})
    return pd.DataFrame(rows), pd.DataFrame(people)


def _single_item_cells(sample, weights):
    cells = sample.merge(weights[["district_id", "age_group", "sex", "weight"]], on=["district_id", "age_group", "sex"])
    return cells.assign(respondents=cells["n"], valid=cells["n"], valid_sq=cells["n"],
                        positive_sq=cells["positive"], valid_positive=cells["positive"])


def test_city_rate_is_weighted_by_population_for_both_schemes():
    sample, people = _issue_example()
    truth = 0.9 * 0.90 + 0.1 * 0.99  # 0.909
    for scheme in ("poststratification", "raking"):
        weights = population_weights(sample, people, scheme=scheme)
        # Each district's weights add up to its population.
        totals = (weights["n"] * weights["weight"]).groupby(weights["district_id"]).sum()
        np.testing.assert_allclose(totals.to_numpy(), [900_000, 100_000], rtol=1e-9)
        city = weighted_rates_from_cell_sums(_single_item_cells(sample, weights), []).iloc[0]
        assert city["rate"] == pytest.approx(truth, abs=1e-9), scheme
        districts = weighted_rates_from_cell_sums(_single_item_cells(sample, weights), ["district_id"])
        np.testing.assert_allclose(districts["rate"], [0.90, 0.99], rtol=1e-12)
    # The old way: each district raked to mean weight 1 and pooled as it is weights the city by
    # interviews, (100 × 0.90 + 400 × 0.99) / 500 = 0.972, the bug issue 14 reports.
    relative = pd.concat([
        part.assign(weight=raking_weights(part.reset_index(drop=True), {
            "age_group": people[people["district_id"] == d].groupby("age_group")["population"].sum(),
            "sex": people[people["district_id"] == d].groupby("sex")["population"].sum()}).to_numpy())
        for d, part in sample.groupby("district_id")])
    old = weighted_rates_from_cell_sums(_single_item_cells(sample, relative), []).iloc[0]
    assert old["rate"] == pytest.approx(0.972, abs=1e-9)


def test_raking_on_the_crossed_margin_equals_poststratification(people):
    # Cells of the `people` fixture with a population whose ratio to the sample does NOT factorise:
    # raking on the two margins differs from post-stratification, raking on the crossed margin does not.
    sample = people.groupby(["district_id", "age_group", "sex"], as_index=False).size().rename(columns={"size": "n"})
    rng = np.random.default_rng(8)
    population = sample[["district_id", "age_group", "sex"]].assign(
        population=rng.integers(5_000, 60_000, len(sample)).astype(float))
    post = population_weights(sample, population, "poststratification")
    crossed = population_weights(sample, population, "raking", margins=[("age_group", "sex")])
    separate = population_weights(sample, population, "raking")
    np.testing.assert_allclose(crossed["weight"], post["weight"], rtol=1e-7)
    assert not np.allclose(separate["weight"], post["weight"], rtol=1e-3)
    # Post-stratification weights are N_c / n_c: the population per interview of the cell.
    np.testing.assert_allclose(post["weight"], population["population"] / sample["n"], rtol=1e-12)
    # And the whole city from per-respondent rows agrees with the per-cell sums.
    rows = people.merge(post[["district_id", "age_group", "sex", "weight"]].rename(columns={"weight": "w"}),
                        on=["district_id", "age_group", "sex"]).drop(columns="weight").rename(columns={"w": "weight"})
    city = weighted_rates_by_group(rows, [])
    cells = weighted_rates_from_cell_sums(_cell_sums(rows, ["district_id", "age_group", "sex"]), [])
    np.testing.assert_allclose(city["rate"], cells["rate"], rtol=1e-12)


def test_empty_weighting_cell_names_the_district_and_the_remedy():
    sample, people = _issue_example()
    sample = sample[~((sample["district_id"] == 2) & (sample["age_group"] == "60_plus") & (sample["sex"] == "male"))]
    with pytest.raises(EmptyCellError) as err:
        population_weights(sample, people, "poststratification")
    assert err.value.kind == "no_sample"
    assert err.value.cells.to_dict("records") == [{"district_id": 2, "age_group": "60_plus", "sex": "male"}]
    assert "请与相邻单元合并" in str(err.value) and "merge it with a neighbouring cell" in str(err.value)
    # Raking still works with one empty cell: the margins are met through the other cells.
    population_weights(sample, people, "raking")
    # A whole empty age group cannot be raked either.
    sample = sample[~((sample["district_id"] == 2) & (sample["age_group"] == "60_plus"))]
    with pytest.raises(EmptyCellError) as err:
        population_weights(sample, people, "raking")
    assert err.value.cells.to_dict("records") == [{"district_id": 2, "age_group": "60_plus"}]
    assert "请与相邻类别合并" in str(err.value)
    # A district with respondents but no population at all.
    with pytest.raises(EmptyCellError) as err:
        population_weights(sample, people[people["district_id"] == 1], "poststratification")
    assert err.value.kind == "no_population" and err.value.cells["district_id"].tolist() == [2]

"""Stratified and clustered designs against R's survey package (values committed beside the R script).

tests/analysis/reference/design_reference.R made design_sample.csv and design_reference.csv with
survey 4.1.1 (svydesign + svyratio / svymean / svyby / svyciprop(method = "beta")); R is not needed here.
"""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.design import design_rates
from analysis.weighted_rates import weighted_rates_by_group

REFERENCE = Path(__file__).parent / "reference"
DESIGNS = {  # name in the R script -> (strata, clusters)
    "none": (None, None),
    "strata": ("district", None),
    "strata_community": ("district", "community"),
    "strata_interviewer": ("district", "interviewer"),
    "community": (None, "community"),
}


@pytest.fixture(scope="module")
def sample():
    return pd.read_csv(REFERENCE / "design_sample.csv")


@pytest.fixture(scope="module")
def reference():
    return pd.read_csv(REFERENCE / "design_reference.csv", dtype={"domain": str})


def _ours(sample, design, estimate, by, confidence=0.95):
    strata, clusters = DESIGNS[design]
    frame = sample if estimate == "ratio" else sample.assign(valid=1, positive=sample["item1"])
    return design_rates(frame, by, strata=strata, clusters=clusters, method="clopper-pearson",
                        confidence=confidence)


@pytest.mark.parametrize("design", list(DESIGNS))
@pytest.mark.parametrize("estimate", ["ratio", "item1"])
def test_rates_and_standard_errors_equal_r_survey(sample, reference, design, estimate):
    ref = reference[(reference["design"] == design)
                    & reference["estimate"].isin([estimate, f"{estimate}_95"])].set_index("domain")
    city = _ours(sample, design, estimate, []).iloc[0]
    assert city["rate"] == pytest.approx(ref.loc["all", "rate"], rel=1e-12)
    assert city["se"] == pytest.approx(ref.loc["all", "se"], rel=1e-10)
    if estimate == "item1":  # the ratio's domain leaves out the respondent with no valid answer
        assert city["df"] == ref.loc["all", "df"]
    districts = _ours(sample, design, estimate, ["district"])
    for row in districts.itertuples():
        assert row.rate == pytest.approx(ref.loc[str(row.district), "rate"], rel=1e-12)
        assert row.se == pytest.approx(ref.loc[str(row.district), "se"], rel=1e-10)


@pytest.mark.parametrize("design", list(DESIGNS))
@pytest.mark.parametrize("confidence", [0.95, 0.90])
def test_single_item_interval_equals_svyciprop_beta(sample, reference, design, confidence):
    ref = reference[(reference["design"] == design)
                    & (reference["estimate"] == f"item1_{round(confidence * 100)}")].iloc[0]
    city = _ours(sample, design, "item1", [], confidence).iloc[0]
    assert city["ci_low"] == pytest.approx(ref["ci_low"], rel=1e-9)
    assert city["ci_high"] == pytest.approx(ref["ci_high"], rel=1e-9)


def test_clusters_change_the_interval_and_no_design_is_the_simple_path(sample):
    # A district as its own stratum with every respondent a cluster has the simple weighted path's rate
    # and variance.  Its effective size is the design's r(1-r)/v (as R's svyciprop takes it), where the
    # simple path's verdicts use the monotone size of the respondent-correlation model (issue 14 item 2).
    answered = sample[sample["valid"] > 0]
    simple = weighted_rates_by_group(answered, ["district"])
    plain = design_rates(answered, ["district"], strata="district")
    for col in ("rate", "se"):
        np.testing.assert_allclose(plain[col], simple[col], rtol=1e-11, err_msg=col)
    np.testing.assert_allclose(plain["n_eff"], plain["rate"] * (1 - plain["rate"]) / plain["se"] ** 2, rtol=1e-11)
    clustered = design_rates(sample, [], strata="district", clusters="community").iloc[0]
    flat = design_rates(sample, []).iloc[0]
    assert clustered["se"] > 1.5 * flat["se"] and clustered["n_eff"] < flat["n_eff"]
    assert clustered["ci_high"] - clustered["ci_low"] > flat["ci_high"] - flat["ci_low"]


def test_a_lonely_cluster_adds_nothing_and_domains_without_answers_are_empty(sample):
    lonely = sample.assign(community=np.where(sample["district"] == 3, "one", sample["community"]))
    out = design_rates(lonely, ["district"], strata="district", clusters="community").set_index("district")
    assert out.loc[3, "se"] == 0 and out.loc[3, "df"] == 0
    empty = design_rates(sample.assign(valid=0, positive=0), [], strata="district", clusters="community").iloc[0]
    assert np.isnan(empty["rate"]) and empty["n_eff"] == 0

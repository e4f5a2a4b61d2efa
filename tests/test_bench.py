"""The benchmark (bench/run.py) computes the right things: at a small N on a SQLite file, the
import stores every response once, concurrent submissions are neither lost nor doubled, the tally
equals a recount, and the dashboard's numbers equal the naive computation from the responses at
every level.  Timings are never asserted: they belong to the benchmark, not to the tests.

Also here: the single-pass answer rules that make the import fast (``questionnaires.answer_rules.AnswerRules``)
give exactly what ``answer_problems`` and ``reference_row`` (the ``questionnaires`` functions) give,
on ordinary and forged answers.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest

from bench.city import DISTRICT_RATES, Generator, build_city
from bench.run import compare, concurrent_submissions, naive_results, render, run_backend
from data.areas import areas_frame
from data.db import json_text, make_engine, read_session, upgrade_database
from reports.snapshot import load_snapshot
from data.tallies import VECTOR_ROWS, community_key, contributions, contributions_vectorised
from questionnaires import clean_answers, demographics, is_eligible, load_default, score_answers
from questionnaires.answer_rules import FACT_CACHE_LIMIT, AnswerRules, answer_problems
from reports.results import results_for


@pytest.fixture(scope="module")
def small_run(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('bench') / 'bench.sqlite3'}"
    return url, run_backend(url, 2000, batch=700, writers=2, submissions=60, repeat=1, log=lambda *_: None)


def test_the_import_stores_every_response_once(small_run):
    _, r = small_run
    assert r["imported"] == 2000
    # ~2 % answer the residence screening question "no": stored, but not eligible.
    assert 1900 <= r["eligible_stored"] < 2000


def test_concurrent_submissions_are_neither_lost_nor_doubled(small_run):
    _, r = small_run
    assert r["expected"] == 60
    assert r["stored"] == r["expected"] == r["stored_reported"]
    assert r["lost"] == 0 and r["duplicated"] == 0
    assert r["checksum_ok"] and r["tally_ok"]
    assert not r["errors"]
    assert r["attempts"] > r["expected"]  # the resubmits did happen


def test_the_dashboard_equals_the_naive_computation(small_run):
    _, r = small_run
    assert r["comparison"]["equal"], r["comparison"]["differences"]
    assert r["comparison"]["rows_compared"] > 1000
    assert r["cold"]["indicator_rows"] == r["indicator_rows"]
    assert r["cold"]["item_rows"] == r["item_rows"]


def test_the_table_names_every_figure(small_run):
    _, r = small_run
    table = render([r], "python -m bench.run --n 2000")
    for words in ("bulk import throughput", "raw ÷ import", "p50 / p95 / p99", "dashboard warm", "dashboard cold",
                  "right after new responses", "naive ÷ recompute", "peak RSS", "dashboard == naive", "python -m bench.run --n 2000"):
        assert words in table


def test_the_comparison_notices_a_wrong_number(small_run):
    url, _ = small_run
    engine = make_engine(url)
    results = results_for(load_snapshot(engine, "BENCH-R1"))
    naive = naive_results(engine, "BENCH-R1")
    assert compare(results, naive)["equal"]
    indicators, items = naive["district"]
    broken = indicators.copy()
    broken.loc[broken.index[0], "positive"] += 1
    naive["district"] = (broken, items)
    assert not compare(results, naive)["equal"]
    engine.dispose()


def test_generated_rates_are_the_stated_true_rates():
    questionnaire = load_default()
    generator = Generator(questionnaire, np.arange(1, 21), np.repeat(np.arange(2), 10))
    records = generator.batch(0, 6000)
    rules = AnswerRules(questionnaire)
    items = {q.code: q.indicator for q in questionnaire.indicator_items()}
    for district in (0, 1):
        valid = positive = 0
        for record in records:
            if (record["community_id"] - 1) // 10 != district:
                continue
            _, row = rules.row("x", 1, 1, record["community_id"], record["answers"], "import", None, None, None)
            scores = [s for item, s in row["scores"].items() if items[item] == "awareness" and s is not None]
            valid, positive = valid + len(scores), positive + sum(scores)
        assert abs(positive / valid - DISTRICT_RATES[district][0]) < 0.01


def test_the_benchmark_city_has_the_issue_s_shape(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'city.sqlite3'}")
    upgrade_database(engine)
    communities, districts, rounds = build_city(engine)
    assert len(communities) == 1000 and len(set(districts.tolist())) == 10
    with read_session(engine) as session:
        areas = areas_frame(session)
    assert areas["level"].value_counts().to_dict() == {"community": 1000, "street": 100, "district": 10}
    assert set(rounds) == {"BENCH-R1", "BENCH-LIVE", "BENCH-LIVE-1TX"}
    engine.dispose()


# ------------------------------------------------------------- the import's single-pass rules


def _forged_variants(answers: dict, rng: np.random.Generator) -> list[dict]:
    """Answers as a phone, a spreadsheet or an attacker might send them."""
    out = []
    codes = list(answers)
    for _ in range(6):
        forged = copy.deepcopy(answers)
        for code in rng.choice(codes, size=3, replace=False):
            values = [None, "", "  yes ", " no", "x", 1, 1.0, True, 7.5, "12", " 3 ", float("nan"), 0.0, -0.0,
                      ["online", " online", ""], ["yes"], [], {"a": 1}, -1, 10**6, "a" * 600]
            forged[str(code)] = values[rng.integers(len(values))]
        if rng.random() < 0.3:
            forged.pop(str(rng.choice(codes)), None)
        out.append(forged)
    return out


def test_single_pass_rules_equal_the_reference_rules():
    questionnaire = load_default()
    generator = Generator(questionnaire, np.arange(1, 11), np.arange(10))
    rng = np.random.default_rng(7)
    rules = AnswerRules(questionnaire)
    samples = [record["answers"] for record in generator.batch(3, 300)]
    samples += [variant for answers in samples[:150] for variant in _forged_variants(answers, rng)]
    samples += [{}, {"resident": "no"}, {"resident": "yes"}, {"resident": "no", "age_group": "18_29"},
                {"resident": "yes", "age_group": "under_18", "sex": "male"}, {"suggestion": " 好 "}]
    for answers in samples:
        for lang in ("zh", "en"):
            problems, row = rules.row("id", 1, 2, 3, answers, "self", None, None, None, lang)
            assert problems == answer_problems(questionnaire, answers, lang), answers
            assert row == reference_row("id", 1, 2, questionnaire, 3, answers, "self", None, None, None), answers
    # The memory of values and conditions stays bounded whatever the input.
    for plan in rules._plans.values():
        assert all(len(step[4]) <= FACT_CACHE_LIMIT and len(step[5]) <= FACT_CACHE_LIMIT for step in plan)


class _MisbehavingAnswers(dict):
    """A forged mapping whose get() fails for one question."""

    def get(self, key, default=None):
        if key == "sex":
            raise RuntimeError("forged")
        return super().get(key, default)


def test_answer_columns_equal_the_rules_response_by_response():
    """The import's column-by-column rules give what ``row`` gives each response: problems, the
    stored JSON text of answers and scores, eligibility, demographics, score columns; with the
    ordinary and forged answers mixed in one batch, on a cold and on a warm memory, both languages."""
    questionnaire = load_default()
    generator = Generator(questionnaire, np.arange(1, 11), np.arange(10))
    rng = np.random.default_rng(11)
    samples = [record["answers"] for record in generator.batch(4, 300)]
    samples += [variant for answers in samples[:100] for variant in _forged_variants(answers, rng)]
    samples += [{}, {"resident": "no"}, {"resident": "yes"}, {"resident": "no", "age_group": "18_29"},
                {"resident": "yes", "age_group": "under_18", "sex": "male"}, {"suggestion": " 好 "},
                None, ["resident"], "yes", _MisbehavingAnswers(samples[0]), dict(samples[1], learn_channels="tv_radio"),
                # text that looks like the joints of the stored JSON, first in its object and later
                {"suggestion": '{,"a":1},{'}, {"resident": "{,"}, dict(samples[2], suggestion='{,"x":"}{,')]
    order = rng.permutation(len(samples))
    samples = [samples[i] for i in order]
    items = [q.code for q in questionnaire.indicator_items()]
    for lang in ("zh", "en"):
        rules = AnswerRules(questionnaire)
        for attempt in ("cold", "warm"):
            columns = rules.columns(samples, lang)
            assert columns.count == len(samples)
            for i, answers in enumerate(samples):
                problems, row = AnswerRules(questionnaire).row("id", 1, 2, 3, answers, "self", None, None, None, lang)
                assert columns.problems.get(i, {}) == problems, (attempt, answers)
                assert columns.answers_json[i] == json_text(row["answers"]), (attempt, answers)
                assert columns.scores_json[i] == json_text(row["scores"]), (attempt, answers)
                assert columns.eligible[i] == row["eligible"]
                assert (columns.person["age_group"][i], columns.person["sex"][i]) == (row["age_group"], row["sex"])
                if row["eligible"]:
                    assert {code: columns.scores[code][i] for code in items if code in row["scores"]} == row["scores"]
                    assert all(columns.scores[code][i] is None for code in items if code not in row["scores"])
    assert any(columns.problems) and not all(columns.eligible)  # the samples do exercise both
    assert rules.columns([], "zh").count == 0


def test_vectorised_tally_sums_equal_the_loop():
    questionnaire = load_default()
    generator = Generator(questionnaire, np.arange(1, 31), np.arange(30) % 3)
    rules = AnswerRules(questionnaire)
    rows = [rules.row(r["id"], 1, 1, r["community_id"], r["answers"], "import", None, None, None)[1]
            for r in generator.batch(5, 500)]
    rows = [row for row in rows if row["eligible"]]
    loop = contributions(rows[: VECTOR_ROWS - 1], questionnaire, community_key)[0]
    assert loop  # the loop path

    def by_district(row):  # a second grouping, as the cell tally's
        return (row["community_id"] % 3, row["age_group"] or "")

    for part in (rows[: VECTOR_ROWS - 1], rows):
        vectorised = contributions_vectorised(part, questionnaire, community_key, by_district)
        for key_of, sums_of_part in zip((community_key, by_district), vectorised):
            looped: dict = {}
            for row in part:  # one row at a time always takes the loop
                for key, sums in contributions([row], questionnaire, key_of)[0].items():
                    looped[key] = [a + b for a, b in zip(looped.get(key, [0] * 6), sums)]
            assert sums_of_part == looped


def test_concurrent_submissions_on_a_fresh_round_of_its_own(tmp_path):
    """The writers' check also holds when every writer resubmits every form (all resends)."""
    engine = make_engine(f"sqlite:///{tmp_path / 'w.sqlite3'}")
    upgrade_database(engine)
    communities, districts, rounds = build_city(engine, districts=2, streets=2, communities=2)
    generator = Generator(load_default(), communities, districts)
    out = concurrent_submissions(engine, generator, rounds["BENCH-LIVE"], writers=3, submissions=30, resend_every=1)
    assert out["stored"] == out["expected"] == 30 and out["lost"] == 0 and out["duplicated"] == 0
    assert out["checksum_ok"] and out["tally_ok"] and not out["errors"]
    engine.dispose()


def reference_row(
    response_id, round_id, questionnaire_id, questionnaire, community_id, answers, channel, interviewer,
    started_at, submitted_at,
) -> dict:
    """The response row as the ``questionnaires`` functions define its parts, one walk each: what
    the single-pass answer rules must give."""
    cleaned = clean_answers(questionnaire, answers)
    eligible = is_eligible(questionnaire, cleaned)
    person = demographics(questionnaire, cleaned)
    return {
        "id": response_id, "round_id": round_id, "questionnaire_id": questionnaire_id,
        "community_id": community_id, "channel": channel, "interviewer": interviewer,
        "started_at": started_at, "submitted_at": submitted_at, "eligible": eligible,
        "age_group": person.get("age_group"), "sex": person.get("sex"), "status": "included",
        "answers": cleaned, "scores": score_answers(questionnaire, cleaned) if eligible else {},
    }

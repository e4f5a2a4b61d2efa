"""The answer rules: what a questionnaire makes of a respondent's answers, as the database stores it.

One pass over the questions gives the problems that prevent storing (as ``validate_answers`` and
``answer_problems`` say), the cleaned answers, eligibility, the respondent's demographics and the
scores of the indicator items, for one response (``AnswerRules.apply`` / ``row``) or for many at
once, column by column (``AnswerRules.columns``, what an import uses).  Pure functions over plain
data: no session, no Streamlit.  The runner, the submission path, the paper import and the exports
all go through here or through ``questionnaires.answers``, whose helpers do the per-value work;
``data`` only stores what these return.
"""

from __future__ import annotations

from collections import abc
from dataclasses import dataclass
from itertools import repeat
from operator import itemgetter
from typing import Mapping

import orjson

from . import answers as _answers
from .answers import validate_answers
from .model import Questionnaire


def stored_json(value) -> str:
    """JSON text as a JSON column stores it (``data.db.json_text``, the engine's serialiser, is the
    same call; tests/test_bench.py checks the two agree on what this module writes)."""
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


def answer_problems(questionnaire: Questionnaire, answers: Mapping, lang: str = "zh") -> dict[str, str]:
    """Messages for every answer that prevents storing, by question code."""
    errors = validate_answers(questionnaire, answers, lang)
    if screened_out(questionnaire, answers):
        # Someone screened out stops after the screening questions; only those must be valid.
        screening = {q.code for q in questionnaire.questions if q.screening_eligible is not None}
        errors = {code: message for code, message in errors.items() if code in screening}
    return errors


def screened_out(questionnaire: Questionnaire, answers: Mapping) -> bool:
    """True once a screening question has an answer that makes the respondent ineligible."""
    return any(
        q.screening_eligible is not None and answers.get(q.code) is not None
        # A forged list is no eligible answer (and must not raise "unhashable type").
        and not (isinstance(answers.get(q.code), str) and answers.get(q.code) in q.screening_eligible)
        for q in questionnaire.questions
    )


# Fields of a value's facts (``AnswerRules._facts``).
_SCORE, _PLAIN, _ANSWER_TEXT, _SCORE_TEXT, _KEPT = (itemgetter(i) for i in (3, 6, 7, 8, 9))
FACT_CACHE_LIMIT = 512  # distinct answer values remembered per question (free text is never cached)


def _is_mapping(value: object) -> bool:
    # collections.abc, not typing.Mapping: isinstance against the typing alias costs microseconds.
    return type(value) is dict or isinstance(value, abc.Mapping)


def _value_key(value: object):
    """A dict key telling 1, 1.0 and True apart, or None for values not worth remembering."""
    kind = type(value)
    if kind is str or value is None or kind is int:
        return kind, value
    if kind is float and value == value:
        return float, repr(value)  # repr tells -0.0 from 0.0
    if kind is list and all(type(v) is str for v in value):
        return list, tuple(value)
    return None


class AnswerRules:
    """The rules of ``questionnaires.answers`` for one questionnaire, applied in a single pass.

    ``answer_problems`` and the ``questionnaires`` functions that make a response row normalise the
    answers and walk the skip logic eight times per response (validate, clean, eligibility,
    demographics, scores); at a million imported
    responses that was ~0.4 ms each, most of the import.  Here one walk does it all, and what a
    question makes of an answer value (normalised value, problem, score, screening outcome) and
    what a skip condition makes of the values it refers to are computed once per distinct value:
    real answers are option codes and small numbers that repeat from one respondent to the next.
    The per-value work is done by the very helpers ``questionnaires.answers`` uses, and a
    differential test (tests/test_bench.py) checks that the results equal ``answer_problems`` and
    the row those functions give, on ordinary and forged answers.
    """

    def __init__(self, questionnaire: Questionnaire):
        self.questionnaire = questionnaire
        self.demographic = [
            (kind, q.code, frozenset(q.option_codes))
            for kind in ("age_group", "sex")
            if (q := questionnaire.demographic_question(kind)) is not None
        ]
        self.screening_codes = {q.code for q in questionnaire.questions if q.is_screening}
        # The cleaned answers ``columns`` keeps column by column: those the skip logic and the
        # respondent's demographics read.
        self.kept_codes = {code for q in questionnaire.questions if q.condition for code in q.condition.references()}
        self.kept_codes |= {code for _, code, _ in self.demographic}
        self._plans: dict[str, list] = {}

    def _plan(self, lang: str) -> list:
        plan = self._plans.get(lang)
        if plan is None:
            plan = self._plans[lang] = [
                (q, q.code, q.condition, tuple(q.condition.references()) if q.condition else (),
                 {_UNSEEN: _UNSEEN_FACTS, None: self._facts(q, None, lang)}, {},
                 q.required, q.is_screening, bool(q.indicator), q.type == "text")
                for q in self.questionnaire.questions
            ]
        return plan

    @staticmethod
    def _facts(question, value, lang: str) -> tuple:
        normalised = _answers._normalise(question, value)
        empty = _answers._is_empty(normalised)
        present = None if empty else normalised
        problem = None if empty else _answers._answer_problem(question, normalised, lang)
        fails = _answers._fails_screening(question, present)
        screening_ok = isinstance(present, str) and question.is_screening and present in question.screening_eligible
        score = _answers._score(question, present) if question.indicator else None
        return (
            normalised,
            empty,
            problem,
            score,
            fails,
            screening_ok,
            # "plain": the answer is simply kept (and scored); nothing else to do for it
            not empty and not problem and not fails and (screening_ok or not question.is_screening),
            # the pieces of the stored JSON objects: ',"code":value' ('' when not kept), ',"code":score'
            "" if empty else _json_piece(question.code, normalised),
            _json_piece(question.code, score) if question.indicator else "",
            present,  # the value among the cleaned answers, None when left out
        )

    def _lookup(self, question, value, cache: dict, free_text: bool, lang: str) -> tuple:
        """The facts of this answer value, remembered in ``cache`` when worth it."""
        kind = type(value)
        # An option code (a str) is its own key; other values get a typed key (never a str).
        # Free text is never remembered, but an unanswered text question is.
        if kind is str:
            key = None if free_text else value
        else:
            key = _value_key(value)
        if key is None:
            return self._facts(question, value, lang)  # free text, forged values
        facts = cache.get(key)
        if facts is None:
            facts = self._facts(question, value, lang)
            if len(cache) < FACT_CACHE_LIMIT:
                cache[key] = facts
        if kind is list and facts[0] is not None:  # each response gets its own list, as clean_answers gives it
            facts = (list(facts[0]), *facts[1:])  # (a note drops whatever it is sent: None)
        return facts

    @staticmethod
    def _shown(condition, references, cleaned: dict, memo: dict) -> bool:
        # A question shown after one choice question (the usual skip) is remembered by that
        # answer itself: a str or None, never equal to the tuples of the general case.
        value = cleaned.get(references[0]) if len(references) == 1 else ()
        if value is None or type(value) is str:
            key = value
        else:
            key = tuple(_value_key(cleaned.get(code)) for code in references)
            if None in key:  # a value not worth remembering: ask the condition itself
                return condition.evaluate(cleaned)
        shown = memo.get(key)
        if shown is None:
            shown = condition.evaluate(cleaned)
            if len(memo) < FACT_CACHE_LIMIT:
                memo[key] = shown
        return shown

    def apply(self, answers: object, lang: str = "zh") -> tuple[dict, dict, bool, dict]:
        """(problems as ``validate_answers``, cleaned answers, eligible, scores of visible items)."""
        lang = lang if lang in ("zh", "en") else "zh"
        get = answers.get if _is_mapping(answers) else {}.get
        cleaned: dict = {}  # also the "seen" answers the skip logic reads: visible, non-empty ones
        problems: dict = {}
        scores: dict = {}
        eligible = True
        for (question, code, condition, references, cache, memo, required, screening, indicator,
             free_text) in self._plan(lang):
            if condition is not None and not self._shown(condition, references, cleaned, memo):
                continue
            try:
                value = get(code)
            except Exception:  # a forged mapping whose get() misbehaves
                value = None
            normalised, empty, problem, score, fails, screening_ok, *_ = self._lookup(
                question, value, cache, free_text, lang)
            if empty:
                if required:
                    problems[code] = _answers._required_message(question, lang)
            else:
                cleaned[code] = normalised
                if problem:
                    problems[code] = problem
            if screening and not screening_ok:
                eligible = False
            if indicator:
                scores[code] = score
            if fails:
                break
        return problems, cleaned, eligible, scores

    def columns(self, many_answers: list, lang: str = "zh") -> AnswerColumns:
        """What ``apply`` and ``row`` make of many responses, made for all of them at once, question
        by question, and given column by column (see ``AnswerColumns``; tested against ``apply``).

        An import spent ~20 µs a response in ``apply`` and in serialising its dicts, most of it
        building two dicts of ~27 entries per response.  Here each question's column of values is
        looked up in its memory with C-level maps, and a response's stored JSON is the join of the
        JSON pieces remembered with each value: no dict is built per response.  A question a
        response does not see (skip logic, or a failed screening question that ends its walk) reads
        the value ``_UNSEEN``, whose facts change nothing, so every column keeps every response.
        """
        lang = lang if lang in ("zh", "en") else "zh"
        count = len(many_answers)
        sources = [a if type(a) is dict else self._as_plain_dict(a) for a in many_answers]
        unseen_source = dict.fromkeys((q.code for q in self.questionnaire.questions), _UNSEEN)
        out = AnswerColumns(count, {}, [True] * count, [], [], {}, {})
        kept: dict[str, list] = {code: [None] * count for code in self.kept_codes}  # None: not kept
        answer_pieces: list[list[str]] = []
        score_pieces: list[list[str]] = []
        for (question, code, condition, references, cache, memo, required, screening, indicator,
             free_text) in self._plan(lang):
            values = list(map(dict.get, sources, repeat(code)))
            if condition is not None:
                shown = self._shown_column(condition, references, kept, values, memo)
                values = [value if seen else _UNSEEN for value, seen in zip(values, shown)]
            facts = self._column_facts(question, values, cache, free_text, lang)
            answer_pieces.append(list(map(_ANSWER_TEXT, facts)))
            if indicator:
                score_pieces.append(list(map(_SCORE_TEXT, facts)))
                out.scores[code] = list(map(_SCORE, facts))
            if code in kept:
                kept[code] = list(map(_KEPT, facts))
            if all(map(_PLAIN, facts)):
                continue
            for position, (_, empty, problem, _, fails, screening_ok, *_) in enumerate(facts):
                if empty:
                    if required:
                        out.problems.setdefault(position, {})[code] = _answers._required_message(question, lang)
                elif problem:
                    out.problems.setdefault(position, {})[code] = problem
                if screening and not screening_ok:
                    out.eligible[position] = False
                if fails:
                    sources[position] = unseen_source
        out.answers_json = _joined_objects(answer_pieces, count)
        out.scores_json = [text if ok else "{}" for text, ok in zip(_joined_objects(score_pieces, count), out.eligible)]
        out.person = {"age_group": [None] * count, "sex": [None] * count}  # (a questionnaire may ask neither)
        for kind, code, options in self.demographic:
            out.person[kind] = [v if isinstance(v, str) and v in options else None for v in kept[code]]
        for position, found in out.problems.items():
            out.problems[position] = self._screened(found, many_answers[position])
        return out

    def _column_facts(self, question, values: list, cache: dict, free_text: bool, lang: str) -> list[tuple]:
        """``_lookup`` of each value of a column, the usual ones found with a C-level map: option
        codes are their own keys (a str subclass finds its equal str's facts), numbers' and lists'
        keys are made as ``_value_key`` makes them.  (A list's facts are not copied: here only the
        JSON pieces and the kept value are read, never changed.)"""
        kinds = set(map(type, values))
        keys = None
        if kinds <= _STR_KINDS:  # (free text is never remembered: its answers are not found)
            keys = values
        elif kinds <= _INT_KINDS:
            keys = list(zip(map(type, values), values))
        elif kinds <= _LIST_KINDS:
            keys = [(list, tuple(value)) if value is not _UNSEEN else value for value in values]
        facts = [None] * len(values) if keys is None else list(map(cache.get, keys))
        if keys is not None and None in facts:  # values not met before: each distinct one once
            first_of = {key: value for key, value, f in zip(keys, values, facts) if f is None}
            for value in first_of.values():
                if value is not _UNSEEN:
                    self._lookup(question, value, cache, free_text, lang)
            facts = list(map(cache.get, keys))
        if None in facts:  # values not remembered (free text, forged values, a full memory)
            facts = [
                f if f is not None else _UNSEEN_FACTS if value is _UNSEEN
                else self._lookup(question, value, cache, free_text, lang)
                for f, value in zip(facts, values)
            ]
        return facts

    def _shown_column(self, condition, references, kept: dict, values: list, memo: dict) -> list[bool]:
        """``_shown`` for each response (``values``: this question's), from the answers kept so far."""
        referenced = [kept[code] for code in references]
        shown = [None] * len(values)
        if len(references) == 1:  # the usual skip: remembered by the one answer itself (see _shown)
            try:
                shown = list(map(memo.get, referenced[0]))
            except TypeError:  # an unhashable answer (a list): one by one
                pass
        if None not in shown and _UNSEEN not in values:
            return shown

        def one(position: int) -> bool:
            if values[position] is _UNSEEN:  # its walk has ended
                return False
            if shown[position] is not None:
                return shown[position]
            cleaned = {code: column[position] for code, column in zip(references, referenced)
                       if column[position] is not None}
            return self._shown(condition, references, cleaned, memo)

        return list(map(one, range(len(values))))

    def _as_plain_dict(self, answers: object) -> dict:
        """What ``apply`` reads from answers that are not a plain dict: each question's value as the
        mapping's own ``get`` gives it (None when it misbehaves); nothing for a non-mapping."""
        if not _is_mapping(answers):
            return {}
        plain = {}
        for question in self.questionnaire.questions:
            try:
                plain[question.code] = answers.get(question.code)
            except Exception:
                plain[question.code] = None
        return plain

    def problems(self, answers: object, lang: str = "zh") -> dict[str, str]:
        """What ``answer_problems`` says about these answers."""
        return self._screened(self.apply(answers, lang)[0], answers)

    def _screened(self, problems: dict, answers: object) -> dict:
        if problems and screened_out(self.questionnaire, answers if _is_mapping(answers) else {}):
            return {code: message for code, message in problems.items() if code in self.screening_codes}
        return problems

    def row(
        self, response_id, round_id, questionnaire_id, community_id, answers, channel, interviewer,
        started_at, submitted_at, lang: str = "zh",
    ) -> tuple[dict, dict]:
        """(problems as ``answer_problems``, the response row as ``questionnaires`` defines its parts)."""
        problems, cleaned, eligible, scores = self.apply(answers, lang)
        person = {"age_group": None, "sex": None}
        for kind, code, options in self.demographic:
            value = cleaned.get(code)
            if isinstance(value, str) and value in options:
                person[kind] = value
        row = {
            "id": response_id,
            "round_id": round_id,
            "questionnaire_id": questionnaire_id,
            "community_id": community_id,
            "channel": channel,
            "interviewer": interviewer,
            "started_at": started_at,
            "submitted_at": submitted_at,
            "eligible": eligible,
            "age_group": person["age_group"],
            "sex": person["sex"],
            "status": "included",
            "answers": cleaned,
            "scores": scores if eligible else {},
        }
        return self._screened(problems, answers), row


@dataclass
class AnswerColumns:
    """Many responses' answers after the rules (``AnswerRules.columns``), one entry per response:
    what ``apply``/``row`` give one by one, as columns."""

    count: int
    problems: dict[int, dict]  # by position, only responses with problems: what ``row`` says
    eligible: list[bool]
    answers_json: list[str]  # the cleaned answers as stored: ``stored_json`` of ``apply``'s dict
    scores_json: list[str]  # the row's scores as stored ('{}' when not eligible)
    scores: dict[str, list]  # indicator item → its score per response (None: no valid answer, or not shown)
    person: dict[str, list]  # "age_group" / "sex" → per response, as ``row`` gives them


# What a response reads for a question it does not see, and the facts of that: nothing kept,
# scored or found wrong.
_UNSEEN = object()
_UNSEEN_FACTS = (None, False, None, None, False, True, True, "", "", None)
_STR_KINDS, _INT_KINDS, _LIST_KINDS = {str, type(None), object}, {int, type(None), object}, {list, object}
_NOT_JSON = object()  # a piece for a value JSON cannot hold: joining it fails loudly


def _json_piece(key: str, value: object) -> object:
    """',"key":value' as ``stored_json`` writes the member inside an object (``_joined_objects`` takes
    the first comma off)."""
    try:
        return "," + stored_json({key: value})[1:-1]
    except TypeError:  # a forged value (answers with such values are refused before they are stored)
        return _NOT_JSON


def _joined_objects(pieces: list[list[str]], count: int) -> list[str]:
    """JSON objects from columns of ',"key":value' pieces ('' for none), as orjson writes them: each
    response's pieces joined, its first comma taken off.  (A C-level ``map`` with ``str.replace`` of
    "{," was measured no faster than this on 2026-12-02: 13–21 µs a response against 9–19 µs (20,000
    responses of 27 questions, on the loaded VM), so it was dropped.)"""
    if not pieces:
        return ["{}"] * count
    return ["{" + "".join(row)[1:] + "}" for row in zip(*pieces)]

"""The in-memory questionnaire: frozen dataclasses plus their canonical dict form.

A questionnaire is stored with every response batch (as `to_dict()` JSON), so the dict form is
canonical and complete: defaults are expanded, nothing depends on the code version that wrote it.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, Mapping

INDICATORS = ("awareness", "support", "participation", "satisfaction")
QUESTION_TYPES = ("single_choice", "multiple_choice", "yes_no", "satisfaction", "quiz", "number", "text", "date", "time",
                  "datetime", "note")
# Types whose answer is exactly one option code.
SINGLE_CODE_TYPES = frozenset({"single_choice", "yes_no", "satisfaction", "quiz"})
CHOICE_TYPES = SINGLE_CODE_TYPES | {"multiple_choice"}
# Types whose answer is ISO text: `YYYY-MM-DD`, `HH:MM`, `YYYY-MM-DDTHH:MM` (questionnaires/dates.py).
DATE_TYPES = frozenset({"date", "time", "datetime"})
DEMOGRAPHICS = ("age_group", "sex")
LANGUAGES = ("zh", "en")
# A choice question's "other, please specify" option (`specify`) brings a text answer stored under
# `<code>_other` (XLSForm's own name for it): a derived question of its own (see `specify_question`).
OTHER_SUFFIX = "_other"
OTHER_MAX_LENGTH = 100
# Types that may shuffle their options (`randomize`) and that may carry a `specify` option.
RANDOMIZABLE_TYPES = frozenset({"single_choice", "multiple_choice", "quiz"})
SPECIFY_TYPES = frozenset({"single_choice", "multiple_choice"})

# The one definition of the lengths that reach database columns: data/models.py sizes its columns
# with these, and the loader refuses a questionnaire beyond them, so a database never refuses what
# validation accepted (PostgreSQL enforces varchar lengths, SQLite does not).
QUESTIONNAIRE_CODE_LENGTH = 60  # questionnaire_version.code
QUESTIONNAIRE_TITLE_LENGTH = 200  # questionnaire_version.title_zh
QUESTION_CODE_LENGTH = 60  # tally.item, cell_tally.item: an indicator item is its question's code
DEMOGRAPHIC_CODE_LENGTH = 12  # response.age_group / sex, cell_tally and population keys: option codes


class QuestionnaireError(ValueError):
    """A questionnaire file (or dict) is not valid; `.errors` lists every problem found."""

    def __init__(self, errors: list[str]):
        self.errors = list(errors)
        super().__init__("\n".join(self.errors))

    def __reduce__(self):  # so that it crosses from the parsing worker process intact
        return type(self), (self.errors,)


def text(label: Mapping[str, str] | None, lang: str = "zh") -> str:
    """The label in `lang`, falling back to Chinese, which every label must have."""
    if not label:
        return ""
    return label.get(lang) or label.get("zh") or ""


@dataclass(frozen=True)
class Option:
    code: str
    label: dict

    def text(self, lang: str = "zh") -> str:
        return text(self.label, lang)


@dataclass(frozen=True)
class Section:
    code: str
    title: dict

    def text(self, lang: str = "zh") -> str:
        return text(self.title, lang)


@dataclass(frozen=True)
class Question:
    code: str
    type: str
    label: dict
    help: dict | None = None
    required: bool = True
    section: str | None = None
    options: tuple[Option, ...] = ()
    indicator: str | None = None
    positive: frozenset = frozenset()
    invalid: frozenset = frozenset()
    correct: frozenset = frozenset()
    screening_eligible: frozenset | None = None
    demographic: str | None = None
    min: float | int | None = None
    max: float | int | None = None
    integer: bool = False
    max_length: int | None = None
    relevant: str | None = None
    # multiple_choice: at most this many options; options chosen only on their own (以上都没有)
    max_choices: int | None = None
    exclusive: frozenset = frozenset()
    # single/multiple choice: the option that asks "please specify" (其他（请注明）)
    specify: str | None = None
    # quiz and choice questions: each respondent sees the options in a shuffled order
    randomize: bool = False
    # set on the derived text question that holds a `specify` option's text: the choice question's code
    other_of: str | None = None
    # date only: the earliest and latest dates allowed, ISO text (`2024-01-01`)
    earliest: str | None = None
    latest: str | None = None

    def text(self, lang: str = "zh") -> str:
        return text(self.label, lang)

    def help_text(self, lang: str = "zh") -> str:
        return text(self.help, lang)

    @property
    def option_codes(self) -> tuple[str, ...]:
        return tuple(o.code for o in self.options)

    def option_order(self, seed: str) -> list[str]:
        """The option codes in the order one respondent sees them: as declared, or, with `randomize`,
        shuffled by `seed` (the same seed, e.g. the response id, always gives the same order). Options
        that close a list stay where they are: "please specify", the exclusive ones (以上都没有) and
        those that are no valid answer (说不清)."""
        codes = list(self.option_codes)
        if not self.randomize:
            return codes
        import random

        anchored = {self.specify, *self.exclusive, *self.invalid}
        movable = [i for i, code in enumerate(codes) if code not in anchored]
        shuffled = [codes[i] for i in movable]
        random.Random(f"{seed}\x1f{self.code}").shuffle(shuffled)
        for i, code in zip(movable, shuffled):
            codes[i] = code
        return codes

    def option(self, code: str) -> Option | None:
        return next((o for o in self.options if o.code == code), None)

    def option_label(self, code: str, lang: str = "zh") -> str:
        """Label of an option; an unknown code is shown as itself rather than failing a report."""
        option = self.option(code)
        return option.text(lang) if option else str(code)

    @property
    def is_note(self) -> bool:
        """A text shown to the respondent (consent, a section's introduction): no answer, never counted."""
        return self.type == "note"

    @property
    def is_screening(self) -> bool:
        return self.screening_eligible is not None

    @property
    def condition(self):
        """The parsed `relevant` condition (cached by the parser), or None when always shown."""
        if not self.relevant:
            return None
        from .logic import parse_condition

        return parse_condition(self.relevant)

    def to_dict(self) -> dict[str, Any]:
        ordered = lambda codes: [c for c in self.option_codes if c in codes]  # noqa: E731 - keep option order
        return {
            "code": self.code,
            "type": self.type,
            "label": dict(self.label),
            "help": dict(self.help) if self.help else None,
            "required": self.required,
            "section": self.section,
            "options": [{"code": o.code, "label": dict(o.label)} for o in self.options],
            "indicator": self.indicator,
            "positive": ordered(self.positive),
            "invalid": ordered(self.invalid),
            "correct": ordered(self.correct),
            "screening": None if self.screening_eligible is None else {"eligible": ordered(self.screening_eligible)},
            "demographic": self.demographic,
            "min": self.min,
            "max": self.max,
            "integer": self.integer,
            "max_length": self.max_length,
            "relevant": self.relevant,
            # Newer fields are written only when used, so the content hash of every questionnaire
            # stored before they existed stays the same.
            **({"max_choices": self.max_choices} if self.max_choices is not None else {}),
            **({"exclusive": ordered(self.exclusive)} if self.exclusive else {}),
            **({"specify": self.specify} if self.specify is not None else {}),
            **({"randomize": True} if self.randomize else {}),
            **({"earliest": self.earliest} if self.earliest is not None else {}),
            **({"latest": self.latest} if self.latest is not None else {}),
        }


def specify_label(option: Option) -> dict:
    """The label of the text box under a "please specify" option: the option's own words, with
    （请注明） / (please specify) added when they do not say so already."""
    zh = option.label.get("zh") or option.code
    en = option.label.get("en") or ""
    label = {"zh": zh if "请注明" in zh else f"{zh}（请注明）"}
    if en:
        label["en"] = en if "specify" in en.lower() else f"{en} (please specify)"
    return label


def specify_question(question: Question) -> Question:
    """The text question that holds what a respondent wrote after choosing `question.specify`: code
    `<code>_other`, shown (and kept) only while that option is chosen."""
    option = question.option(question.specify) or Option(question.specify, {"zh": str(question.specify)})
    return Question(
        code=f"{question.code}{OTHER_SUFFIX}",
        type="text",
        label=specify_label(option),
        required=question.required,
        section=question.section,
        max_length=OTHER_MAX_LENGTH,
        relevant=f"selected(${{{question.code}}}, '{question.specify}')",
        other_of=question.code,
    )


def _with_specify_questions(questions: tuple) -> tuple:
    """Each question with a `specify` option followed by its derived text question (made here, so a
    questionnaire built from a file, a stored dict or by hand always has it, exactly once)."""
    if not any(q.specify for q in questions):
        return tuple(questions)
    out = []
    for question in questions:
        if question.other_of is not None:
            continue  # made again below, from its choice question
        out.append(question)
        if question.specify:
            out.append(specify_question(question))
    return tuple(out)


@dataclass(frozen=True)
class Questionnaire:
    code: str
    version: int
    title: dict
    intro: dict | None = None
    thanks: dict | None = None
    sections: tuple[Section, ...] = ()
    questions: tuple[Question, ...] = ()
    _by_code: dict = field(default=None, init=False, repr=False, compare=False, hash=False)

    def __post_init__(self):
        object.__setattr__(self, "questions", _with_specify_questions(self.questions))
        object.__setattr__(self, "_by_code", {q.code: q for q in self.questions})

    def question(self, code: str) -> Question:
        try:
            return self._by_code[code]
        except (KeyError, TypeError):
            raise KeyError(f"问卷 {self.code} 没有问题 {code} / questionnaire {self.code} has no question {code!r}") from None

    def has_question(self, code: str) -> bool:
        return isinstance(code, str) and code in self._by_code

    def section(self, code: str) -> Section | None:
        return next((s for s in self.sections if s.code == code), None)

    def questions_in_section(self, code: str) -> list[Question]:
        return [q for q in self.questions if q.section == code]

    def indicator_items(self, indicator: str | None = None) -> list[Question]:
        return [q for q in self.questions if q.indicator and (indicator is None or q.indicator == indicator)]

    def indicators(self) -> list[str]:
        present = {q.indicator for q in self.questions}
        return [i for i in INDICATORS if i in present]

    def demographic_question(self, kind: str) -> Question | None:
        return next((q for q in self.questions if q.demographic == kind), None)

    def screening_questions(self) -> list[Question]:
        return [q for q in self.questions if q.is_screening]

    def answered_questions(self) -> list[Question]:
        """The questions whose answers are stored (every one but the notes): the columns of exports,
        the paper template and SPSS."""
        return [q for q in self.questions if not q.is_note]

    def question_numbers(self) -> dict[str, int]:
        """The number a respondent sees before each question: notes have none, and the text box of a
        "please specify" option has its choice question's number."""
        numbers: dict[str, int] = {}
        n = 0
        for question in self.questions:
            if question.is_note:
                continue
            if question.other_of is not None and question.other_of in numbers:
                numbers[question.code] = numbers[question.other_of]
                continue
            n += 1
            numbers[question.code] = n
        return numbers

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "version": self.version,
            "title": dict(self.title),
            "intro": dict(self.intro) if self.intro else None,
            "thanks": dict(self.thanks) if self.thanks else None,
            "sections": [{"code": s.code, "title": dict(s.title)} for s in self.sections],
            # The text questions of "please specify" options are derived (see specify_question), not stored.
            "questions": [q.to_dict() for q in self.questions if q.other_of is None],
        }

    def canonical_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, sort_keys=True, separators=(",", ":"))

    def content_hash(self) -> str:
        """Identifies the exact content, so storage can tell two different 'version 1' files apart."""
        return hashlib.sha256(self.canonical_json().encode("utf-8")).hexdigest()


def _codes(values) -> frozenset:
    return frozenset(values or ())


def questionnaire_from_dict(d: Mapping[str, Any]) -> Questionnaire:
    """Rebuild a questionnaire from `Questionnaire.to_dict()` output (e.g. JSON read back from the database).

    The dict was produced from an already validated questionnaire, so it is trusted and not re-validated;
    a dict of the wrong shape still fails with QuestionnaireError rather than a bare KeyError.
    """
    try:
        questions = []
        for qd in d["questions"]:
            screening = qd.get("screening")
            questions.append(
                Question(
                    code=qd["code"],
                    type=qd["type"],
                    label=dict(qd["label"]),
                    help=dict(qd["help"]) if qd.get("help") else None,
                    required=bool(qd.get("required", True)),
                    section=qd.get("section"),
                    options=tuple(Option(o["code"], dict(o["label"])) for o in qd.get("options") or ()),
                    indicator=qd.get("indicator"),
                    positive=_codes(qd.get("positive")),
                    invalid=_codes(qd.get("invalid")),
                    correct=_codes(qd.get("correct")),
                    screening_eligible=None if screening is None else _codes(screening["eligible"]),
                    demographic=qd.get("demographic"),
                    min=qd.get("min"),
                    max=qd.get("max"),
                    integer=bool(qd.get("integer", False)),
                    max_length=qd.get("max_length"),
                    relevant=qd.get("relevant"),
                    max_choices=qd.get("max_choices"),
                    exclusive=_codes(qd.get("exclusive")),
                    specify=qd.get("specify"),
                    randomize=bool(qd.get("randomize", False)),
                    earliest=qd.get("earliest"),
                    latest=qd.get("latest"),
                )
            )
        return Questionnaire(
            code=d["code"],
            version=d["version"],
            title=dict(d["title"]),
            intro=dict(d["intro"]) if d.get("intro") else None,
            thanks=dict(d["thanks"]) if d.get("thanks") else None,
            sections=tuple(Section(s["code"], dict(s["title"])) for s in d.get("sections") or ()),
            questions=tuple(questions),
        )
    except (KeyError, TypeError, AttributeError) as exc:
        raise QuestionnaireError(
            [f"存储的问卷格式不对 / stored questionnaire has the wrong shape: {type(exc).__name__}: {exc}"]
        ) from exc

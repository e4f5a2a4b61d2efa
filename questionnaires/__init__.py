"""Questionnaires for civilized-city (文明城市) resident surveys: data files, validation, skip logic
and answer semantics. See README.md in this folder for the file format organisers write."""
from .answers import (
    clean_answers,
    demographics,
    is_eligible,
    score_answers,
    validate_answers,
    visible_questions,
)
from .loader import (
    bundled_questionnaire_paths,
    default_questionnaire_path,
    load_default,
    load_questionnaire,
    load_yaml,
    parse_questionnaire,
    parse_questionnaire_text,
)
from .logic import Condition, ConditionError, parse_condition
from .paging import survey_steps
from .model import (
    DEMOGRAPHICS,
    INDICATORS,
    QUESTION_TYPES,
    Option,
    Question,
    Questionnaire,
    QuestionnaireError,
    Section,
    questionnaire_from_dict,
    text,
)

__all__ = [
    "INDICATORS",
    "QUESTION_TYPES",
    "DEMOGRAPHICS",
    "Option",
    "Section",
    "Question",
    "Questionnaire",
    "QuestionnaireError",
    "text",
    "questionnaire_from_dict",
    "load_questionnaire",
    "parse_questionnaire",
    "parse_questionnaire_text",
    "load_yaml",
    "default_questionnaire_path",
    "bundled_questionnaire_paths",
    "load_default",
    "Condition",
    "ConditionError",
    "parse_condition",
    "visible_questions",
    "clean_answers",
    "validate_answers",
    "score_answers",
    "is_eligible",
    "demographics",
    "survey_steps",
]

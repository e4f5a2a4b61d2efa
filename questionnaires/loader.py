"""Reading and validating questionnaire files.

Validation runs in two passes and reports every problem of a file at once, so an organiser fixes a
file in one go: the JSON Schema (schema.json) checks the structure, then the semantic checks below
check what a schema cannot say well (cross references, type-dependent fields, skip-logic conditions).
Each message names the file, the question and the field, in Chinese and in English.
"""
from __future__ import annotations

import copy
import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable

import jsonschema
import yaml

from . import dates
from .logic import ConditionError, parse_condition
from .model import (
    CHOICE_TYPES,
    DATE_TYPES,
    OTHER_SUFFIX,
    RANDOMIZABLE_TYPES,
    SPECIFY_TYPES,
    Option,
    Question,
    Questionnaire,
    QuestionnaireError,
    Section,
)
from .model import DEMOGRAPHIC_CODE_LENGTH, QUESTION_CODE_LENGTH, QUESTIONNAIRE_CODE_LENGTH, QUESTIONNAIRE_TITLE_LENGTH

PACKAGE_DIR = Path(__file__).resolve().parent
SCHEMA_PATH = PACKAGE_DIR / "schema.json"

DEFAULT_OPTIONS = {
    "yes_no": (
        Option("yes", {"zh": "是", "en": "Yes"}),
        Option("no", {"zh": "否", "en": "No"}),
    ),
    "satisfaction": (
        Option("very_satisfied", {"zh": "满意", "en": "Satisfied"}),
        Option("satisfied", {"zh": "比较满意", "en": "Fairly satisfied"}),
        Option("neutral", {"zh": "一般", "en": "Neutral"}),
        Option("dissatisfied", {"zh": "不太满意", "en": "Fairly dissatisfied"}),
        Option("very_dissatisfied", {"zh": "不满意", "en": "Dissatisfied"}),
        Option("unknown", {"zh": "不了解/说不清", "en": "Don't know"}),
    ),
}
DEFAULT_POSITIVE = {"yes_no": ("yes",), "satisfaction": ("very_satisfied", "satisfied")}
DEFAULT_INVALID = {"satisfaction": ("unknown",)}
OPTION_CODE_FIELDS = ("positive", "invalid", "correct")
NUMBER_ONLY_FIELDS = ("min", "max", "integer")
NO_OPTION_TYPES = ("number", "text", "date", "time", "datetime", "note")
DATE_BOUND_FIELDS = ("earliest", "latest")

_TYPE_NAMES = {
    "string": ("文字", "a string"),
    "integer": ("整数", "an integer"),
    "number": ("数字", "a number"),
    "boolean": ("true 或 false", "true or false"),
    "object": ("键值对（映射）", "a mapping"),
    "array": ("列表", "a list"),
    "null": ("空值", "null"),
}


# ---------------------------------------------------------------------------------------------- YAML

# What a questionnaire file may cost to read (docs/security.md).  The default questionnaire is about
# 20 KB, 9 levels deep and 2,000 nodes; the limits leave room for a hundred times that, and stop a
# "billion laughs" file (546 bytes of nested aliases that expand to billions of nodes) or a list
# nested 5,000 deep long before they cost memory or the interpreter's stack.
MAX_YAML_BYTES = 1024 * 1024
MAX_YAML_DEPTH = 40
MAX_YAML_NODES = 200_000  # after expanding aliases
MAX_NUMBER_CHARS = 30  # a number written with more characters is refused, not parsed


class YamlTooComplex(yaml.YAMLError):
    """A YAML file over the limits above; the message is in Chinese and English."""

    def __init__(self, problem: str, mark=None):
        super().__init__(problem)
        self.problem = problem
        self.problem_mark = mark

class QuestionnaireYamlLoader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2-style scalars.

    PyYAML follows YAML 1.1, where bare yes/no/on/off are booleans and `18_29` is the integer 1829, which
    would silently corrupt option codes. Here only true/false are booleans and only plain decimal
    numbers are numbers; everything else stays a string. Duplicate keys are an error instead of
    silently keeping the last one.
    """

    yaml_implicit_resolvers: dict = {}

    def compose_node(self, parent, index):
        # Composing is recursive; counting here stops a deep file before Python's stack does.
        self._depth = getattr(self, "_depth", 0) + 1
        try:
            if self._depth > MAX_YAML_DEPTH:
                raise YamlTooComplex(f"嵌套超过 {MAX_YAML_DEPTH} 层 / nested deeper than {MAX_YAML_DEPTH} levels",
                                     self.peek_event().start_mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def get_single_node(self):
        node = super().get_single_node()
        if node is not None:
            _check_expanded_size(node)
        return node

    def construct_yaml_int(self, node):
        _check_number_length(node)
        return super().construct_yaml_int(node)

    def construct_yaml_float(self, node):
        _check_number_length(node)
        return super().construct_yaml_float(node)

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if isinstance(key, str) and key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r} / 重复的键 {key}", key_node.start_mark
                )
            if isinstance(key, str):
                seen.add(key)
        return super().construct_mapping(node, deep=deep)


for _tag, _regexp, _first in (
    ("tag:yaml.org,2002:bool", r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF"),
    ("tag:yaml.org,2002:int", r"^[-+]?(?:0|[1-9][0-9]*)$", "-+0123456789"),
    (
        "tag:yaml.org,2002:float",
        r"^[-+]?(?:[0-9]+\.[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?$|^[-+]?[0-9]+[eE][-+]?[0-9]+$",
        "-+0123456789.",
    ),
    ("tag:yaml.org,2002:null", r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""]),
    ("tag:yaml.org,2002:merge", r"^(?:<<)$", "<"),
):
    QuestionnaireYamlLoader.add_implicit_resolver(_tag, re.compile(_regexp), list(_first))


QuestionnaireYamlLoader.add_constructor("tag:yaml.org,2002:int", QuestionnaireYamlLoader.construct_yaml_int)
QuestionnaireYamlLoader.add_constructor("tag:yaml.org,2002:float", QuestionnaireYamlLoader.construct_yaml_float)


def _check_number_length(node) -> None:
    if len(node.value) > MAX_NUMBER_CHARS:
        raise YamlTooComplex(f"数字超过 {MAX_NUMBER_CHARS} 个字符 / a number longer than {MAX_NUMBER_CHARS} characters",
                             node.start_mark)


def _check_expanded_size(root) -> None:
    """Count the nodes the document would have once every alias is expanded, without expanding it:
    an alias is the same node object as its anchor, so each distinct node is sized once."""
    sizes: dict[int, int] = {}
    in_progress: set[int] = set()
    stack = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        key = id(node)
        if key in sizes:
            continue
        children = [n for pair in node.value for n in pair] if isinstance(node, yaml.MappingNode) else (
            list(node.value) if isinstance(node, yaml.SequenceNode) else [])
        if children_done:
            in_progress.discard(key)
            sizes[key] = min(1 + sum(sizes[id(c)] for c in children), MAX_YAML_NODES + 1)
            if sizes[key] > MAX_YAML_NODES:
                raise YamlTooComplex(f"展开别名后超过 {MAX_YAML_NODES:,} 个节点 / more than {MAX_YAML_NODES:,} nodes "
                                     f"once aliases are expanded", node.start_mark)
            continue
        if key in in_progress:
            raise YamlTooComplex("别名引用了自身 / an alias refers to itself", node.start_mark)
        in_progress.add(key)
        stack.append((node, True))
        stack.extend((child, False) for child in children if id(child) not in sizes)


def load_yaml(stream: str | bytes) -> Any:
    if len(stream) > MAX_YAML_BYTES:
        raise YamlTooComplex(f"文件超过 {MAX_YAML_BYTES // 1024} KB / the file is larger than {MAX_YAML_BYTES // 1024} KB")
    return yaml.load(stream, Loader=QuestionnaireYamlLoader)  # noqa: S506 - a SafeLoader subclass


# ---------------------------------------------------------------------------------------------- messages

def _field_path(parts: Iterable) -> str:
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


class _Report:
    """Collects bilingual messages for one file."""

    def __init__(self, source: str, data: Any):
        self.source = source
        self.data = data
        self._entries: list[tuple[tuple, str]] = []

    @property
    def errors(self) -> list[str]:
        """Messages in file order (top-level fields, then question by question), whichever pass found them."""
        return [message for _, message in sorted(self._entries, key=lambda entry: entry[0])]

    def _sort_key(self, path: list) -> tuple:
        if not path:
            return (-1, -1, len(self._entries))
        canonical = ("code", "version", "title", "intro", "thanks", "sections", "questions")
        if path[0] in canonical:
            top = canonical.index(path[0])
        else:
            keys = list(self.data) if isinstance(self.data, dict) else []
            top = len(canonical) + (keys.index(path[0]) if path[0] in keys else len(keys))
        item = path[1] if len(path) > 1 and isinstance(path[1], int) else -1
        return (top, item, len(self._entries))

    def question_name(self, index: int) -> str:
        try:
            code = self.data["questions"][index]["code"]
        except (KeyError, IndexError, TypeError):
            code = None
        return code if isinstance(code, str) and code else f"#{index + 1}"

    def section_name(self, index: int) -> str:
        try:
            code = self.data["sections"][index]["code"]
        except (KeyError, IndexError, TypeError):
            code = None
        return code if isinstance(code, str) and code else f"#{index + 1}"

    def add(self, path: list, zh: str, en: str) -> None:
        """`path` is a location in the data, e.g. ["questions", 3, "options", 0, "code"]."""
        if len(path) >= 2 and path[0] in ("questions", "sections") and isinstance(path[1], int):
            if path[0] == "questions":
                who_zh, who_en = f"问题 {self.question_name(path[1])}", f"question {self.question_name(path[1])}"
            else:
                who_zh, who_en = f"分区 {self.section_name(path[1])}", f"section {self.section_name(path[1])}"
            field = _field_path(path[2:])
            where_zh = f"{who_zh} 的字段 {field}: " if field else f"{who_zh}: "
            where_en = f"{who_en}, field {field}: " if field else f"{who_en}: "
        elif path:
            field = _field_path(path)
            where_zh, where_en = f"字段 {field}: ", f"field {field}: "
        else:
            where_zh = where_en = ""
        self._entries.append((self._sort_key(path), f"{self.source}: {where_zh}{zh} / {where_en}{en}"))


def _schema_message(error: jsonschema.ValidationError) -> tuple[list, str, str]:
    path = list(error.absolute_path)
    value = error.instance
    kind = error.validator
    if kind == "required":
        missing = [p for p in error.validator_value if isinstance(value, dict) and p not in value]
        return path + missing[:1], "必须填写", "is required"
    if kind == "additionalProperties":
        known = set(error.schema.get("properties", {}))
        extra = sorted(str(k) for k in value if k not in known) if isinstance(value, dict) else []
        return path + extra[:1], "不认识的字段（拼写错误？）", "unknown field (misspelt?)"
    if kind == "type":
        expected = error.validator_value if isinstance(error.validator_value, list) else [error.validator_value]
        zh = " 或 ".join(_TYPE_NAMES.get(t, (t, t))[0] for t in expected)
        en = " or ".join(_TYPE_NAMES.get(t, (t, t))[1] for t in expected)
        hint_zh = hint_en = ""
        if "string" in expected and not isinstance(value, str):
            hint_zh, hint_en = "（请给它加上引号）", " (put it in quotes)"
        return path, f"应为{zh}，实际是 {_shown(value)}{hint_zh}", f"must be {en}, got {_shown(value)}{hint_en}"
    if kind == "enum":
        choices = ", ".join(str(c) for c in error.validator_value)
        return path, f"取值 {_shown(value)} 无效，应为以下之一：{choices}", f"invalid value {_shown(value)}, expected one of: {choices}"
    if kind == "pattern":
        if error.validator_value.startswith("^[a-z][a-z0-9_]*"):
            rule_zh = "只能用小写英文字母、数字和下划线，且以字母开头"
            rule_en = "use lower-case letters, digits and underscores, starting with a letter"
        else:
            rule_zh = "只能用小写英文字母、数字和下划线"
            rule_en = "use lower-case letters, digits and underscores"
        return path, f"代码 {_shown(value)} 格式不对：{rule_zh}", f"code {_shown(value)} is malformed: {rule_en}"
    if kind == "minItems":
        n = error.validator_value
        return path, f"至少需要 {n} 项", f"needs at least {n} item{'s' if n != 1 else ''}"
    if kind == "minLength":
        return path, "不能为空", "must not be empty"
    if kind == "minimum":
        return path, f"不能小于 {error.validator_value}", f"must be at least {error.validator_value}"
    if kind == "uniqueItems":
        return path, "有重复的项", "contains duplicates"
    if kind == "maxLength":
        return path, f"最多 {error.validator_value} 个字符", f"at most {error.validator_value} characters"
    # jsonschema's own message quotes the whole value; a file's structures are never echoed back.
    return path, f"格式不对（{kind}）", f"invalid ({kind})"


def _shown(value: Any) -> str:
    """A value from the file as a message may quote it: scalars cut short, structures only named."""
    if isinstance(value, (dict, list)):
        kind = ("键值对", "a mapping") if isinstance(value, dict) else ("列表", "a list")
        return f"{kind[0]} / {kind[1]}"
    text = repr(value) if not isinstance(value, str) else f"'{value}'"
    return text if len(text) <= 40 else text[:40] + "…"


@lru_cache(maxsize=1)
def _validator() -> jsonschema.Draft202012Validator:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


# ---------------------------------------------------------------------------------------------- parsing

def _coerce_boolean_codes(data: Any) -> Any:
    """Turn True/False back into 'yes'/'no' where an option code is expected.

    Only matters for dicts read with plain yaml.safe_load (load_questionnaire never produces them);
    yes/no is by far the likeliest spelling behind such a boolean.
    """
    if not isinstance(data, dict) or not isinstance(data.get("questions"), list):
        return data
    data = copy.deepcopy(data)

    def fix(value):
        return {True: "yes", False: "no"}.get(value, value) if isinstance(value, bool) else value

    for question in data["questions"]:
        if not isinstance(question, dict):
            continue
        options = question.get("options")
        for option in options if isinstance(options, list) else ():
            if isinstance(option, dict) and "code" in option:
                option["code"] = fix(option["code"])
        for key in OPTION_CODE_FIELDS:
            if isinstance(question.get(key), list):
                question[key] = [fix(v) for v in question[key]]
        screening = question.get("screening")
        if isinstance(screening, dict) and isinstance(screening.get("eligible"), list):
            screening["eligible"] = [fix(v) for v in screening["eligible"]]
    return data


def _build_question(raw: dict, index: int, report: _Report, section_codes: set[str] | None) -> Question:
    """Expand defaults and check what depends on the question's own type. Appends problems to `report`."""
    qtype = raw["type"]
    path = ["questions", index]

    def problem(field: str, zh: str, en: str) -> None:
        report.add(path + [field], zh, en)

    if "options" in raw:
        options = tuple(Option(o["code"], dict(o["label"])) for o in raw["options"])
        if qtype in NO_OPTION_TYPES:
            problem("options", f"{qtype} 类型的问题不能有选项", f"a {qtype} question cannot have options")
    else:
        options = DEFAULT_OPTIONS.get(qtype, ())
        if qtype in ("single_choice", "multiple_choice", "quiz"):
            problem("options", f"{qtype} 类型的问题必须列出选项", f"is required for a {qtype} question")
    codes = [o.code for o in options]
    for code in sorted({c for c in codes if codes.count(c) > 1}):
        problem("options", f"选项代码 {code} 重复", f"duplicate option code {code!r}")
    if qtype == "yes_no" and "options" in raw and not {"yes", "no"} <= set(codes):
        problem("options", "是非题必须包含代码为 yes 和 no 的选项", "a yes_no question needs options with codes yes and no")

    def option_codes(field: str, values: list) -> frozenset:
        if qtype in NO_OPTION_TYPES:
            problem(field, f"{qtype} 类型的问题没有选项，不能设置此字段", f"a {qtype} question has no options")
            return frozenset()
        for value in values:
            if value not in codes:
                problem(field, f"选项 {value} 不存在", f"option {value!r} does not exist")
        return frozenset(values)

    correct = option_codes("correct", raw["correct"]) if "correct" in raw else frozenset()
    if "correct" in raw and qtype != "quiz":
        problem("correct", "只有 quiz 类型的问题才能设置正确答案", "only quiz questions have correct answers")
    if qtype == "quiz" and "correct" not in raw:
        problem("correct", "quiz 类型的问题必须指定正确答案", "is required for a quiz question")

    if "positive" in raw:
        positive = option_codes("positive", raw["positive"])
    elif qtype == "quiz":
        positive = correct
    else:
        positive = frozenset(c for c in DEFAULT_POSITIVE.get(qtype, ()) if c in codes)
    if "invalid" in raw:
        invalid = option_codes("invalid", raw["invalid"])
    else:
        invalid = frozenset(c for c in DEFAULT_INVALID.get(qtype, ()) if c in codes)
    for code in sorted(positive & invalid):
        problem("positive", f"选项 {code} 同时出现在 positive 和 invalid 中", f"option {code!r} is both positive and invalid")

    indicator = raw.get("indicator")
    if indicator and qtype in NO_OPTION_TYPES:
        problem("indicator", f"{qtype} 类型的问题不能计入指标", f"a {qtype} question cannot count towards an indicator")
    elif indicator and not positive:
        problem("positive", "计入指标的问题必须指定哪些选项算正面回答", "an indicator question needs at least one positive option")

    screening_eligible = None
    if "screening" in raw:
        if qtype not in ("single_choice", "yes_no"):
            problem("screening", "只有单选题或是非题可以作为筛选题", "only single_choice and yes_no questions can screen respondents")
        screening_eligible = option_codes("screening.eligible", raw["screening"]["eligible"])

    demographic = raw.get("demographic")
    if demographic and qtype != "single_choice":
        problem("demographic", "只有单选题可以作为人口统计字段", "only a single_choice question can be a demographic")

    for field in NUMBER_ONLY_FIELDS:
        if field in raw and qtype != "number":
            problem(field, "只有 number 类型的问题才能设置此字段", "only number questions have this field")
    if "max_length" in raw and qtype != "text":
        problem("max_length", "只有 text 类型的问题才能设置此字段", "only text questions have this field")
    low, high = raw.get("min"), raw.get("max")
    if low is not None and high is not None and low > high:
        problem("min", f"最小值 {low} 大于最大值 {high}", f"min {low} is greater than max {high}")
    earliest, latest = _date_bounds(raw, qtype, problem)

    required = raw.get("required", True)
    if qtype == "note":
        if raw.get("required") is True:
            problem("required", "说明文字（note）没有答案，不能设为必答", "a note has no answer, so it cannot be required")
        required = False

    max_choices = raw.get("max_choices")
    exclusive = frozenset()
    if "max_choices" in raw or "exclusive" in raw:
        for field in ("max_choices", "exclusive"):
            if field in raw and qtype != "multiple_choice":
                problem(field, "只有多选题（multiple_choice）才能设置此字段", "only multiple_choice questions have this field")
        if qtype == "multiple_choice":
            if max_choices is not None and max_choices > len(codes):
                problem("max_choices", f"最多可选 {max_choices} 项，但只有 {len(codes)} 个选项",
                        f"at most {max_choices} choices, but there are only {len(codes)} options")
            if "exclusive" in raw:
                exclusive = option_codes("exclusive", raw["exclusive"])
    specify = raw.get("specify")
    if specify is not None:
        if qtype not in SPECIFY_TYPES:
            problem("specify", "只有单选题和多选题可以有“其他（请注明）”选项",
                    "only single_choice and multiple_choice questions can have a 'please specify' option")
            specify = None
        elif specify not in codes:
            problem("specify", f"选项 {specify} 不存在", f"option {specify!r} does not exist")
            specify = None
    randomize = raw.get("randomize", False)
    if randomize and qtype not in RANDOMIZABLE_TYPES:
        problem("randomize", "只有单选题、多选题和知识题（quiz）的选项可以随机排序",
                "only single_choice, multiple_choice and quiz questions can shuffle their options")
        randomize = False

    section = raw.get("section")
    if section is not None and section_codes is not None and section not in section_codes:
        problem("section", f"分区 {section} 没有在 sections 中声明", f"section {section!r} is not declared in sections")

    return Question(
        code=raw["code"],
        type=qtype,
        label=dict(raw["label"]),
        help=dict(raw["help"]) if "help" in raw else None,
        required=required,
        section=section,
        options=options,
        indicator=indicator,
        positive=positive,
        invalid=invalid,
        correct=correct,
        screening_eligible=screening_eligible,
        demographic=demographic,
        min=low,
        max=high,
        integer=raw.get("integer", False),
        max_length=raw.get("max_length"),
        relevant=raw.get("relevant"),
        max_choices=max_choices if qtype == "multiple_choice" else None,
        exclusive=exclusive,
        specify=specify,
        randomize=bool(randomize),
        earliest=earliest,
        latest=latest,
    )


def _date_bounds(raw: dict, qtype: str, problem) -> tuple[str | None, str | None]:
    """`earliest` / `latest` of a date question: ISO dates (2024-01-01), the first not after the second."""
    bounds = []
    for field in DATE_BOUND_FIELDS:
        value = raw.get(field)
        if value is None:
            bounds.append(None)
        elif qtype != "date":
            problem(field, "只有日期题（date）才能设置此字段", "only date questions have this field")
            bounds.append(None)
        elif dates.canonical("date", value) is None:
            problem(field, f"{_shown(value)} 不是日期，请写成 2024-01-01 的格式",
                    f"{_shown(value)} is not a date: write it as 2024-01-01")
            bounds.append(None)
        else:
            bounds.append(value)
    earliest, latest = bounds
    if earliest and latest and earliest > latest:
        problem("earliest", f"最早日期 {earliest} 晚于最晚日期 {latest}", f"earliest {earliest} is after latest {latest}")
    return earliest, latest


def _check_piping(raw: dict, index: int, position: dict[str, int], report: _Report, notes: set[str] = frozenset()) -> None:
    """`${code}` in a label or help text must name an earlier question, whose answer is shown there."""
    from .piping import piped_codes

    for field in ("label", "help"):
        texts = raw.get(field)
        if not isinstance(texts, dict):
            continue
        for language, text in texts.items():
            for ref in piped_codes(text if isinstance(text, str) else None):
                path = ["questions", index, field, language]
                if ref not in position:
                    report.add(path, f"引用的问题 {ref} 不存在", f"pipes in unknown question {ref!r}")
                elif ref in notes:
                    report.add(path, f"{ref} 是说明文字，没有回答可显示", f"{ref!r} is a note: it has no answer to show")
                elif position[ref] >= index:
                    report.add(path, f"只能引用前面问题的回答（{ref} 不在本题之前）",
                               f"can only show the answer to an earlier question ({ref!r} is not before this one)")


def _check_relevant(
    relevant: str, index: int, code: str | None, position: dict[str, int], built: dict[str, Question], report: _Report,
    notes: set[str] = frozenset(),
) -> None:
    """`position` maps every question code to its first index; `built` holds the questions without schema errors."""
    path = ["questions", index, "relevant"]
    try:
        condition = parse_condition(relevant)
    except ConditionError as exc:
        report.add(path, f"条件无法解析：{exc.where_zh}{exc.message_zh}", f"cannot parse the condition: {exc.where_en}{exc.message_en}")
        return
    for ref in condition.references():
        if ref == code:
            report.add(path, "条件不能引用本题自己", "the condition cannot refer to its own question")
        elif ref not in position:
            report.add(path, f"引用的问题 {ref} 不存在", f"refers to unknown question {ref!r}")
        elif ref in notes:
            report.add(path, f"{ref} 是说明文字，没有回答", f"{ref!r} is a note: it has no answer")
        elif position[ref] > index:
            report.add(
                path,
                f"引用的问题 {ref} 在本题之后（条件只能引用前面的问题）",
                f"refers to question {ref!r}, which comes after this one (conditions may only refer to earlier questions)",
            )
    for ref, literal in condition.option_literals():
        target = built.get(ref)
        if target is not None and position[ref] < index and target.type in CHOICE_TYPES and literal not in target.option_codes:
            report.add(path, f"问题 {ref} 没有选项 {literal}", f"question {ref!r} has no option {literal!r}")
    for ref, literal in condition.compared_literals():
        target = built.get(ref)
        if target is None or position[ref] >= index or target.type not in DATE_TYPES or literal == "":
            continue
        if target.type == "time":
            report.add(path, f"条件不能把时间题 {ref} 与时间比较：ODK Collect 比较时间的方式不同，导出的表格会与本系统不一致"
                             f"（可以判断是否已回答：${{{ref}}} != ''；需要按时间分流请改用日期时间题）",
                       f"a condition cannot compare the time question {ref!r} with a time: ODK Collect compares times "
                       f"differently, so the exported form would disagree (whether it is answered works: ${{{ref}}} != ''; "
                       f"to branch on the time, ask a datetime question)")
        elif dates.canonical(target.type, literal) is None:
            zh, en = dates.KIND_WORDS[target.type]
            example = dates.EXAMPLES[target.type]
            report.add(path, f"问题 {ref} 是{zh}题，只能与 '{example}' 这样写的{zh}比较，而不是 {_shown(literal)}",
                       f"question {ref!r} asks for {en}: compare it with one written as '{example}', not {_shown(literal)}")


def parse_questionnaire(data: dict, source: str = "<data>") -> Questionnaire:
    """Validate a questionnaire given as plain data (as read from YAML) and build it."""
    data = _coerce_boolean_codes(data)
    report = _Report(source, data)
    schema_errors = list(_validator().iter_errors(data))
    broken_questions: set[int] = set()
    for error in schema_errors:
        path, zh, en = _schema_message(error)
        report.add(path, zh, en)
        if len(path) >= 2 and path[0] == "questions" and isinstance(path[1], int):
            broken_questions.add(path[1])
    if not isinstance(data, dict):
        raise QuestionnaireError(report.errors)
    raw_questions = data.get("questions") if isinstance(data.get("questions"), list) else []
    if schema_errors and not raw_questions:
        raise QuestionnaireError(report.errors)

    sections = ()
    section_codes = None
    if isinstance(data.get("sections"), list) and not any(e.absolute_path and e.absolute_path[0] == "sections" for e in schema_errors):
        sections = tuple(Section(s["code"], dict(s["title"])) for s in data["sections"])
        seen_sections: set[str] = set()
        for i, section in enumerate(sections):
            if section.code in seen_sections:
                report.add(["sections", i, "code"], f"分区代码 {section.code} 重复", f"duplicate section code {section.code!r}")
            seen_sections.add(section.code)
        section_codes = seen_sections

    # Questions broken at the schema level are not built (their problems are already reported), but
    # their codes still count as existing, and their conditions are still checked when readable.
    position: dict[str, int] = {}
    built: dict[int, Question] = {}
    for index, raw in enumerate(raw_questions):
        code = raw.get("code") if isinstance(raw, dict) else None
        if not isinstance(code, str):
            continue
        if code in position:
            report.add(
                ["questions", index, "code"],
                f"问题代码重复（与第 {position[code] + 1} 题相同）",
                f"duplicate question code (same as question #{position[code] + 1})",
            )
        else:
            position[code] = index
    for index, raw in enumerate(raw_questions):
        if index not in broken_questions:
            built[index] = _build_question(raw, index, report, section_codes)
    built_by_code = {q.code: q for i, q in built.items() if position.get(q.code) == i}
    notes = {q.code for q in built_by_code.values() if q.is_note}
    # The text answer of a "please specify" option (<code>_other) is a question of its own, right
    # after its choice question: later questions may refer to it; no question may take its code.
    for index, question in sorted(built.items()):
        if question.specify is None:
            continue
        other = f"{question.code}{OTHER_SUFFIX}"
        if other in position:
            report.add(["questions", index, "specify"],
                       f"“请注明”的文字存为 {other}，但已有同名问题（第 {position[other] + 1} 题）",
                       f"the 'please specify' text is stored as {other!r}, but question #{position[other] + 1} has that code")
        elif len(other) > QUESTION_CODE_LENGTH:
            report.add(["questions", index, "specify"], f"问题代码加上 {OTHER_SUFFIX} 后超过 {QUESTION_CODE_LENGTH} 个字符",
                       f"the question code with {OTHER_SUFFIX} is longer than {QUESTION_CODE_LENGTH} characters")
        else:
            position[other] = index + 0.5  # after its choice question, before the next one

    _check_lengths(data, raw_questions, built, report)
    demographic_owner: dict[str, str] = {}
    for index, raw in enumerate(raw_questions):
        if isinstance(raw, dict):
            _check_piping(raw, index, position, report, notes)
        relevant = raw.get("relevant") if isinstance(raw, dict) else None
        if isinstance(relevant, str) and relevant:
            code = raw.get("code")
            _check_relevant(relevant, index, code if isinstance(code, str) else None, position, built_by_code, report,
                            notes)
        question = built.get(index)
        if question is not None and question.demographic:
            owner = demographic_owner.setdefault(question.demographic, question.code)
            if owner != question.code:
                report.add(
                    ["questions", index, "demographic"],
                    f"问题 {owner} 已经是 {question.demographic}，每项人口统计只能有一个问题",
                    f"question {owner!r} is already the {question.demographic} question; only one is allowed",
                )

    if report.errors:
        raise QuestionnaireError(report.errors)
    return Questionnaire(
        code=data["code"],
        version=data["version"],
        title=dict(data["title"]),
        intro=dict(data["intro"]) if "intro" in data else None,
        thanks=dict(data["thanks"]) if "thanks" in data else None,
        sections=sections,
        questions=tuple(built[i] for i in sorted(built)),
    )


def _check_lengths(data: dict, raw_questions: list, built: dict, report: _Report) -> None:
    """Lengths that reach database columns (see questionnaires/model.py): refused here, not by the database."""
    code, title = data.get("code"), data.get("title")
    if isinstance(code, str) and len(code) > QUESTIONNAIRE_CODE_LENGTH:
        report.add(["code"], f"最多 {QUESTIONNAIRE_CODE_LENGTH} 个字符", f"at most {QUESTIONNAIRE_CODE_LENGTH} characters")
    if isinstance(title, dict) and isinstance(title.get("zh"), str) and len(title["zh"]) > QUESTIONNAIRE_TITLE_LENGTH:
        report.add(["title", "zh"], f"最多 {QUESTIONNAIRE_TITLE_LENGTH} 个字符",
                   f"at most {QUESTIONNAIRE_TITLE_LENGTH} characters")
    for index, raw in enumerate(raw_questions):
        code = raw.get("code") if isinstance(raw, dict) else None
        if isinstance(code, str) and len(code) > QUESTION_CODE_LENGTH:
            report.add(["questions", index, "code"], f"最多 {QUESTION_CODE_LENGTH} 个字符",
                       f"at most {QUESTION_CODE_LENGTH} characters")
        question = built.get(index)
        if question is not None and question.demographic:
            for number, option in enumerate(question.options):
                if len(option.code) > DEMOGRAPHIC_CODE_LENGTH:
                    report.add(["questions", index, "options", number, "code"],
                               f"人口统计题的选项代码最多 {DEMOGRAPHIC_CODE_LENGTH} 个字符",
                               f"a demographic question's option codes have at most {DEMOGRAPHIC_CODE_LENGTH} characters")


def load_questionnaire(path: str | Path) -> Questionnaire:
    """Read and validate a questionnaire YAML file; raises QuestionnaireError listing every problem."""
    path = Path(path)
    source = path.name
    try:
        content = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise QuestionnaireError([f"{source}: 无法读取文件：{exc} / cannot read the file: {exc}"]) from exc
    return parse_questionnaire_text(content, source)


def parse_questionnaire_text(content: str, source: str = "<text>") -> Questionnaire:
    """Validate a questionnaire given as YAML text (e.g. uploaded by an organiser)."""
    try:
        data = load_yaml(content)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f"第 {mark.line + 1} 行" if mark else ""
        line_en = f" at line {mark.line + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise QuestionnaireError([f"{source}: YAML 格式错误{line}：{problem} / YAML syntax error{line_en}: {problem}"]) from exc
    if not isinstance(data, dict):
        raise QuestionnaireError([f"{source}: 文件内容应为一个问卷（键值对） / the file must contain one questionnaire mapping"])
    return parse_questionnaire(data, source)


def default_questionnaire_path() -> Path:
    return PACKAGE_DIR / "default.yaml"


def bundled_questionnaire_paths() -> list[Path]:
    """Questionnaire files shipped with the package, default first."""
    others = sorted(p for p in PACKAGE_DIR.glob("*.yaml") if p.name != "default.yaml")
    return [default_questionnaire_path(), *others]


def load_default() -> Questionnaire:
    return load_questionnaire(default_questionnaire_path())

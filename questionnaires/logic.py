"""A tiny, safe condition language for skip logic (`relevant`), modelled on XLSForm.

Grammar (keywords are lower case):

    condition  := or_expr
    or_expr    := and_expr ("or" and_expr)*
    and_expr   := unary ("and" unary)*
    unary      := "not" "(" condition ")" | "(" condition ")" | selected | comparison
    selected   := "selected" "(" REF "," STRING ")"
    comparison := value OP value          OP is one of = != < <= > >=
    value      := REF | STRING | NUMBER | count | length
    count      := "count-selected" "(" REF ")"     the number of options chosen (0 when unanswered)
    length     := "string-length" "(" REF ")"      the number of characters typed (0 when unanswered)
                                          REF is ${question_code}; NUMBER may have a leading "-"

Date, time and date-time answers are ISO text (`2024-05-01`, `08:30`, `2024-05-01T08:30`), which sorts
as the moments do, so `${visit} >= '2024-01-01'` compares them as strings; `today()` and `now()` are
refused by name (the loader also checks that a date is compared with a date written that way).

The text is tokenised and parsed by hand into an AST of frozen dataclasses; nothing is ever passed
to eval/exec, and an unknown name such as `__import__` is a parse error. A bare value (`${a}`) is not a
condition: it has to be compared with something, which keeps truthiness rules out of the language.

Evaluation never raises: a comparison with an unanswered reference (or values of incomparable types) is
false, so `${a} != 'x'` is false while `a` is unanswered, and `not(${a} = 'x')` is true. The one
exception is XLSForm's idiom for "is answered": compared with the empty string `''`, an unanswered
question is `''`, so `${a} != ''` means "a is answered" and `${a} = ''` "a is not answered".
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Iterator, Mapping

COMPARISON_OPERATORS = ("=", "!=", "<", "<=", ">", ">=")
# Limits that keep a hostile condition cheap (docs/security.md): real ones are a line or two long,
# nested two or three levels, with numbers of a few digits.
MAX_CONDITION_LENGTH = 2000
MAX_NESTING = 30
MAX_NUMBER_CHARS = 30


class ConditionError(ValueError):
    """A condition that cannot be parsed.

    `.position` is the 0-based offset of the problem in the text; messages for people count from 1
    ("at character 1" is the first character), because that is how organisers count.
    """

    def __init__(self, message_zh: str, message_en: str, position: int, source: str = ""):
        self.message_zh = message_zh
        self.message_en = message_en
        self.position = position
        self.source = source
        super().__init__(f"{self.where_zh}{message_zh} / {self.where_en}{message_en}")

    def __reduce__(self):  # so that it crosses from the parsing worker process intact
        return type(self), (self.message_zh, self.message_en, self.position, self.source)

    @property
    def where_zh(self) -> str:
        return f"第 {self.position + 1} 个字符处"

    @property
    def where_en(self) -> str:
        return f"at character {self.position + 1}: "


# ---------------------------------------------------------------------------------------------- tokens

@dataclass(frozen=True)
class Token:
    kind: str  # REF STRING NUMBER OP WORD LPAREN RPAREN COMMA END
    value: Any
    position: int


_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
_REF = re.compile(r"\$\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}")
_KEYWORDS = ("and", "or", "not", "selected")
# XPath functions that turn an answer into a number; their names hold a "-", which _NAME does not.
_FUNCTIONS = ("count-selected", "string-length")
# XPath's clock: refused by name (a condition that changes with the day would give the same answers
# different skips, and the paper import and the stored answers could not be checked again).
_CLOCK_FUNCTIONS = ("today", "now")


_DIGITS = "0123456789"


def tokenize(source: str) -> list[Token]:
    tokens: list[Token] = []
    i, n = 0, len(source)
    while i < n:
        ch = source[i]
        if ch.isspace():
            i += 1
        elif ch == "$":
            match = _REF.match(source, i)
            if not match:
                raise ConditionError("引用格式应为 ${问题代码}", "a reference must look like ${question_code}", i, source)
            tokens.append(Token("REF", match.group(1), i))
            i = match.end()
        elif ch in "'\"":
            end = source.find(ch, i + 1)
            if end < 0:
                raise ConditionError("字符串缺少结束引号", "unterminated string", i, source)
            tokens.append(Token("STRING", source[i + 1 : end], i))
            i = end + 1
        # ASCII digits only: str.isdigit() also takes "²" and other digits no number literal is made of.
        elif ch in _DIGITS or (ch == "-" and i + 1 < n and source[i + 1] in _DIGITS):
            match = _NUMBER.match(source, i)
            literal = match.group(0)
            if len(literal) > MAX_NUMBER_CHARS:
                raise ConditionError(f"数字超过 {MAX_NUMBER_CHARS} 位", f"a number longer than {MAX_NUMBER_CHARS} characters",
                                     i, source)
            tokens.append(Token("NUMBER", float(literal) if "." in literal else int(literal), i))
            i = match.end()
        elif source.startswith(("<=", ">=", "!="), i):
            tokens.append(Token("OP", source[i : i + 2], i))
            i += 2
        elif ch in "=<>":
            tokens.append(Token("OP", ch, i))
            i += 1
        elif ch in "(),":
            tokens.append(Token({"(": "LPAREN", ")": "RPAREN", ",": "COMMA"}[ch], ch, i))
            i += 1
        elif source.startswith(_FUNCTIONS, i) and source[i:].split("(")[0].strip() in _FUNCTIONS:
            word = next(f for f in _FUNCTIONS if source.startswith(f, i))
            tokens.append(Token("WORD", word, i))
            i += len(word)
        elif _NAME.match(source, i):
            word = _NAME.match(source, i).group(0)
            if word in _CLOCK_FUNCTIONS:
                raise ConditionError(
                    f"不支持 {word}()：条件不能取当天日期或当前时间，请与固定的日期比较，如 ${{问题代码}} >= '2024-01-01'",
                    f"{word}() is not supported: a condition cannot use the current date or time; compare with a "
                    f"fixed date such as ${{question_code}} >= '2024-01-01'",
                    i,
                    source,
                )
            if word not in _KEYWORDS:
                raise ConditionError(
                    f"不认识的名称 {word}（引用问题请写成 ${{{word}}}）",
                    f"unknown name {word!r} (write ${{{word}}} to refer to a question)",
                    i,
                    source,
                )
            tokens.append(Token("WORD", word, i))
            i += len(word)
        else:
            raise ConditionError(f"不允许的字符 {ch!r}", f"unexpected character {ch!r}", i, source)
    tokens.append(Token("END", None, n))
    return tokens


# ---------------------------------------------------------------------------------------------- AST

@dataclass(frozen=True)
class Ref:
    code: str


@dataclass(frozen=True)
class Literal:
    value: str | int | float


@dataclass(frozen=True)
class Call:
    """count-selected(${q}) or string-length(${q})."""
    function: str
    ref: Ref


@dataclass(frozen=True)
class Compare:
    op: str
    left: Ref | Literal | Call
    right: Ref | Literal | Call


@dataclass(frozen=True)
class Selected:
    ref: Ref
    option: str


@dataclass(frozen=True)
class Not:
    operand: "Node"


@dataclass(frozen=True)
class And:
    operands: tuple["Node", ...]


@dataclass(frozen=True)
class Or:
    operands: tuple["Node", ...]


Node = Compare | Selected | Not | And | Or


# ---------------------------------------------------------------------------------------------- parser

class _Parser:
    def __init__(self, source: str):
        self.source = source
        self.tokens = tokenize(source)
        self.index = 0
        self.depth = 0

    def nested(self) -> None:
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise self.error(f"括号嵌套超过 {MAX_NESTING} 层", f"nested deeper than {MAX_NESTING} levels")

    @property
    def current(self) -> Token:
        return self.tokens[self.index]

    def advance(self) -> Token:
        token = self.current
        self.index += 1
        return token

    def error(self, zh: str, en: str, token: Token | None = None) -> ConditionError:
        return ConditionError(zh, en, (token or self.current).position, self.source)

    def expect(self, kind: str, zh: str, en: str) -> Token:
        if self.current.kind != kind:
            raise self.error(zh, en)
        return self.advance()

    def is_word(self, word: str) -> bool:
        return self.current.kind == "WORD" and self.current.value == word

    def parse(self) -> Node:
        if self.current.kind == "END":
            raise self.error("条件为空", "empty condition")
        node = self.or_expr()
        if self.current.kind != "END":
            raise self.error("条件在此处多出了内容", "unexpected text after the condition")
        return node

    def or_expr(self) -> Node:
        operands = [self.and_expr()]
        while self.is_word("or"):
            self.advance()
            operands.append(self.and_expr())
        return operands[0] if len(operands) == 1 else Or(tuple(operands))

    def and_expr(self) -> Node:
        operands = [self.unary()]
        while self.is_word("and"):
            self.advance()
            operands.append(self.unary())
        return operands[0] if len(operands) == 1 else And(tuple(operands))

    def unary(self) -> Node:
        if self.is_word("not"):
            self.advance()
            self.expect("LPAREN", "not 后面应为 (", "expected '(' after not")
            self.nested()
            operand = self.or_expr()
            self.expect("RPAREN", "缺少 )", "expected ')'")
            self.depth -= 1
            return Not(operand)
        if self.is_word("selected"):
            self.advance()
            self.expect("LPAREN", "selected 后面应为 (", "expected '(' after selected")
            ref = self.expect("REF", "selected 的第一个参数应为 ${问题代码}", "selected() needs ${question_code} first")
            self.expect("COMMA", "selected 的两个参数之间缺少逗号", "expected ',' in selected()")
            option = self.expect("STRING", "selected 的第二个参数应为带引号的选项代码", "selected() needs a quoted option code second")
            self.expect("RPAREN", "缺少 )", "expected ')'")
            return Selected(Ref(ref.value), option.value)
        if self.current.kind == "LPAREN":
            self.advance()
            self.nested()
            node = self.or_expr()
            self.expect("RPAREN", "缺少 )", "expected ')'")
            self.depth -= 1
            return node
        return self.comparison()

    def comparison(self) -> Compare:
        left = self.value()
        if self.current.kind != "OP":
            raise self.error(
                "此处应为比较运算符（= != < <= > >=）", "expected a comparison operator (= != < <= > >=)"
            )
        op = self.advance().value
        right = self.value()
        return Compare(op, left, right)

    def value(self) -> Ref | Literal | Call:
        token = self.current
        if token.kind == "WORD" and token.value in _FUNCTIONS:
            self.advance()
            self.expect("LPAREN", f"{token.value} 后面应为 (", f"expected '(' after {token.value}")
            ref = self.expect("REF", f"{token.value} 的参数应为 ${{问题代码}}", f"{token.value}() needs ${{question_code}}")
            self.expect("RPAREN", "缺少 )", "expected ')'")
            return Call(token.value, Ref(ref.value))
        if token.kind == "REF":
            self.advance()
            return Ref(token.value)
        if token.kind in ("STRING", "NUMBER"):
            self.advance()
            return Literal(token.value)
        if token.kind == "END":
            raise self.error("条件不完整", "the condition ends too early")
        raise self.error("此处应为 ${问题代码}、带引号的文字或数字", "expected ${question_code}, a quoted string or a number")


# ---------------------------------------------------------------------------------------------- evaluation

_MISSING = object()


def _lookup(answers: Mapping, code: str) -> Any:
    try:
        value = answers.get(code, _MISSING)
    except Exception:  # a forged `answers` object must not break the page
        return _MISSING
    if value is None or value == "" or value == []:
        return _MISSING
    return value


def _operand(node: Ref | Literal | Call, answers: Mapping) -> Any:
    if isinstance(node, Call):
        value = _lookup(answers, node.ref.code)
        if value is _MISSING:
            return 0
        if node.function == "count-selected":
            return len(value) if isinstance(value, (list, tuple, set, frozenset)) else 1
        return len(str(value))
    return _lookup(answers, node.code) if isinstance(node, Ref) else node.value


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and not math.isnan(value)


def _as_number(value: Any) -> float | None:
    if _is_number(value):
        return value
    if isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return None
        return None if math.isnan(number) else number
    return None


def _compare(op: str, left: Any, right: Any) -> bool:
    if left is _MISSING or right is _MISSING:
        return False
    if isinstance(left, str) and isinstance(right, str):
        pair = (left, right)
    else:
        # Numbers typed into a form may arrive as text; compare numerically when both sides are numbers.
        a, b = _as_number(left), _as_number(right)
        if a is None or b is None:
            return False
        pair = (a, b)
    a, b = pair
    return {
        "=": a == b,
        "!=": a != b,
        "<": a < b,
        "<=": a <= b,
        ">": a > b,
        ">=": a >= b,
    }[op]


def _evaluate(node: Node, answers: Mapping) -> bool:
    if isinstance(node, Compare):
        left, right = _operand(node.left, answers), _operand(node.right, answers)
        if node.right == Literal("") and left is _MISSING:
            left = ""  # ${a} = '' : "a is not answered"
        if node.left == Literal("") and right is _MISSING:
            right = ""
        return _compare(node.op, left, right)
    if isinstance(node, Selected):
        value = _lookup(answers, node.ref.code)
        if isinstance(value, str):
            return value == node.option
        if isinstance(value, (list, tuple, set, frozenset)):
            return node.option in value
        return False
    if isinstance(node, Not):
        return not _evaluate(node.operand, answers)
    if isinstance(node, And):
        return all(_evaluate(o, answers) for o in node.operands)
    if isinstance(node, Or):
        return any(_evaluate(o, answers) for o in node.operands)
    raise TypeError(node)  # unreachable: the parser only builds the node types above


def _walk(node: Node) -> Iterator[Node]:
    yield node
    if isinstance(node, Not):
        yield from _walk(node.operand)
    elif isinstance(node, (And, Or)):
        for operand in node.operands:
            yield from _walk(operand)


@dataclass(frozen=True)
class Condition:
    source: str
    root: Node

    def references(self) -> list[str]:
        """Question codes referred to, in order of first appearance."""
        seen: dict[str, None] = {}
        for node in _walk(self.root):
            if isinstance(node, Compare):
                for side in (node.left, node.right):
                    if isinstance(side, Ref):
                        seen.setdefault(side.code)
                    elif isinstance(side, Call):
                        seen.setdefault(side.ref.code)
            elif isinstance(node, Selected):
                seen.setdefault(node.ref.code)
        return list(seen)

    def option_literals(self) -> list[tuple[str, str]]:
        """(question code, string) pairs the condition compares for equality or selects.

        The loader checks them against the question's options, because a misspelt option code would
        otherwise silently hide a question forever.
        """
        pairs = []
        for node in _walk(self.root):
            if isinstance(node, Selected):
                pairs.append((node.ref.code, node.option))
            elif isinstance(node, Compare) and node.op in ("=", "!="):
                left, right = node.left, node.right
                if isinstance(left, Literal) and isinstance(right, Ref):
                    left, right = right, left
                if isinstance(left, Ref) and isinstance(right, Literal) and right.value != "":
                    # A number is an option code too (`${resident} = 3` against options 1 and 2 is a typo).
                    value = right.value
                    if not isinstance(value, str):
                        value = str(int(value)) if float(value).is_integer() else str(value)
                    pairs.append((left.code, value))
        return pairs

    def compared_literals(self) -> list[tuple[str, str | int | float]]:
        """(question code, literal) for every comparison of an answer with a literal, whatever the
        operator: the loader checks that a date question is compared with a date."""
        pairs = []
        for node in _walk(self.root):
            if isinstance(node, Compare):
                for ref, literal in ((node.left, node.right), (node.right, node.left)):
                    if isinstance(ref, Ref) and isinstance(literal, Literal):
                        pairs.append((ref.code, literal.value))
        return pairs

    def evaluate(self, answers: Mapping) -> bool:
        if not isinstance(answers, Mapping):
            answers = {}
        try:
            return _evaluate(self.root, answers)
        except Exception:  # never let a forged answer value crash skip logic
            return False


def parse_condition(text: str) -> Condition:
    """Parse a `relevant` condition; raises ConditionError naming the position of the problem."""
    if not isinstance(text, str):
        raise ConditionError("条件应为文字", "a condition must be a string", 0, "")
    if len(text) > MAX_CONDITION_LENGTH:
        raise ConditionError(f"条件超过 {MAX_CONDITION_LENGTH} 个字符", f"a condition longer than {MAX_CONDITION_LENGTH} "
                             "characters", MAX_CONDITION_LENGTH, "")
    return _parse_cached(text)


# Conditions are immutable, and every page view re-evaluates the same few dozen of them.
@lru_cache(maxsize=1024)
def _parse_cached(text: str) -> Condition:
    return Condition(text, _Parser(text).parse())

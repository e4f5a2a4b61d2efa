"""Bilingual "中文 / English" refusals split into one language (questionnaires/bilingual.py).

Every such message written in data/, analysis/, questionnaires/ and reports/ is found in the source
(string literals and f-strings with their values filled in), and must split into a Chinese half and
an English half with no Chinese in it: a message the split gets wrong would reach a page in both
languages, or cut in the middle."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from questionnaires.bilingual import message_in, split_bilingual

ROOT = Path(__file__).resolve().parents[2]
CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")
LATIN_WORD = re.compile(r"\b(?:the|must|is|are|no|not|unknown|file|round|cannot)\b")


def test_the_separator_is_the_one_between_the_languages():
    upload = ("form.txt: 只支持 YAML（.yaml / .yml）和 XLSForm（.xlsx / .xls）文件 / "
              "only YAML (.yaml, .yml) and XLSForm (.xlsx, .xls) files are supported")
    assert message_in(upload, "zh") == "form.txt: 只支持 YAML（.yaml / .yml）和 XLSForm（.xlsx / .xls）文件"
    assert message_in(upload, "en") == "form.txt: only YAML (.yaml, .yml) and XLSForm (.xlsx, .xls) files are supported"
    # "）/ " without a space before the slash
    unreadable = "无法读取文件（请上传 CSV 或 Excel）/ cannot read the file (CSV or Excel)"
    assert message_in(unreadable, "zh") == "无法读取文件（请上传 CSV 或 Excel）"
    assert message_in(unreadable, "en") == "cannot read the file (CSV or Excel)"
    # an English half naming Chinese places
    outside = "超出您的数据范围（CD）：和平社区、东门社区；未写入任何数据 / outside your data scope (CD): 和平社区, 东门社区; nothing was written"
    assert message_in(outside, "zh") == "超出您的数据范围（CD）：和平社区、东门社区；未写入任何数据"
    assert message_in(outside, "en") == "outside your data scope (CD): 和平社区, 东门社区; nothing was written"
    # several problems of one table row, joined with "；"
    row = "区域编码 X9 不存在 / unknown area code；性别 maybe 无法识别 / unknown sex"
    assert message_in(row, "zh") == "区域编码 X9 不存在；性别 maybe 无法识别"
    assert message_in(row, "en") == "unknown area code; unknown sex"
    # not bilingual: unchanged in both languages
    assert message_in("数据库只读", "en") == "数据库只读"
    assert message_in("a / b", "zh") == "a / b"
    assert split_bilingual("已满 / ") is not None


def _sample(node: ast.AST) -> str | None:
    """The text of a string literal or f-string, each {value} filled with an ASCII code."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(part.value if isinstance(part, ast.Constant) else "X1" for part in node.values)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):  # "…" + "…"
        left, right = _sample(node.left), _sample(node.right)
        return left + right if left is not None and right is not None else None
    return None


def bilingual_messages() -> list[tuple[str, str]]:
    """(where, message) of every message in a raise, an append or a return that reads "中文 / English"."""
    found = []
    for layer in ("data", "analysis", "questionnaires", "reports"):
        for path in sorted((ROOT / layer).rglob("*.py")):
            if path.name == "__main__.py":  # command-line output stays bilingual
                continue
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if not isinstance(node, (ast.Raise, ast.Call, ast.Return)):
                    continue
                for inner in ast.walk(node):
                    text = _sample(inner)
                    if text and CJK.search(text) and re.search(r"(?: |(?<=[）」]))/ [A-Za-z]", text):
                        found.append((f"{path.relative_to(ROOT)}:{inner.lineno}", text))
    return found


MESSAGES = bilingual_messages()


def test_the_scan_finds_the_storage_messages():
    """The scan itself works: it sees the messages the issue named (a scan that found none would pass
    every message)."""
    texts = [text for _, text in MESSAGES]
    assert any("排除问卷需要填写原因" in text for text in texts)
    assert any("至少要保留一名启用的管理员" in text for text in texts)
    assert len(MESSAGES) > 40


@pytest.mark.parametrize("where,message", MESSAGES, ids=[where for where, _ in MESSAGES])
def test_every_bilingual_message_splits_into_one_language_each(where, message):
    halves = split_bilingual(message)
    assert halves is not None, f"{where}: no separator found in {message!r}"
    zh, en = halves
    assert CJK.search(zh), f"{where}: the Chinese half has no Chinese: {zh!r}"
    assert not CJK.search(en), f"{where}: the English half has Chinese in it: {en!r}"
    assert not LATIN_WORD.search(zh.lower()), f"{where}: the Chinese half has English words: {zh!r}"

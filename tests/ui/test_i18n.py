"""Every text key the code asks for exists in both languages, where that code can reach it.

Keys are read from the sources, not from a running app: a page's ``register_texts`` only runs when
that page does, so a key another page registers is missing on a freshly started server (issue 15,
item 1: 实地进度 died with KeyError 'completes' until someone had opened 调查轮次).
"""

from __future__ import annotations

import ast
import re
import string
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SOURCES = sorted([ROOT / "survey_app.py", *(ROOT / "pages").glob("*.py"), *(ROOT / "ui").glob("*.py")])
# t("key") and t("key", ...), the only way the code asks for an interface text by a literal key.
T_CALL = re.compile(r"""(?<![\w.])t\(\s*["']([^"'{}]+)["']""")


def _dict_literals_of(tree: ast.AST, names: set[str]) -> dict[str, tuple]:
    """Keys and (zh, en) values of dict literals assigned to ``names`` or passed to register_texts."""
    found = {}

    def take(node):
        if isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values):
                if isinstance(key, ast.Constant) and isinstance(value, ast.Tuple):
                    found[key.value] = tuple(getattr(e, "value", None) for e in value.elts)

    for node in ast.walk(tree):
        if isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(target, ast.Name) and target.id in names for target in targets):
                take(node.value)
        elif isinstance(node, ast.Call) and getattr(node.func, "id", None) == "register_texts" and node.args:
            take(node.args[0])
    return found


def _base_texts() -> dict[str, tuple]:
    return _dict_literals_of(ast.parse((ROOT / "ui" / "i18n.py").read_text(encoding="utf-8")), {"TEXTS"})


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_text_has_both_languages_with_the_same_placeholders():
    texts = dict(_base_texts())
    for source in SOURCES:
        texts.update(_dict_literals_of(ast.parse(source.read_text(encoding="utf-8")), set()))
    assert len(texts) > 150
    for key, pair in texts.items():
        assert len(pair) == 2 and all(isinstance(s, str) and s.strip() for s in pair), key
        assert _placeholders(pair[0]) == _placeholders(pair[1]), key


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_key_a_file_uses_exists_without_any_other_page_having_run(source):
    code = source.read_text(encoding="utf-8")
    available = set(_base_texts()) | set(_dict_literals_of(ast.parse(code), set()))
    used = set(T_CALL.findall(code))
    missing = sorted(used - available)
    assert not missing, f"{source.name} uses text keys defined nowhere it can reach: {missing}"


def test_the_scan_finds_the_keys_it_should():
    """The scanner itself: a test that cannot fail is a defect."""
    code = 'st.title(t("page_rounds"))\nx = t( "completes", n=1)\ny = st.t("no")\nz = t(f"role_{r}")\n'
    assert set(T_CALL.findall(code)) == {"page_rounds", "completes"}


def test_a_missing_key_shows_the_key_and_never_raises(caplog):
    from ui.i18n import t

    with caplog.at_level("ERROR"):
        assert t("no_such_key_anywhere") == "no_such_key_anywhere"
        assert t("fix_errors", wrong_name=3) == t("fix_errors")  # a wrong placeholder shows the raw text
    assert "no_such_key_anywhere" in caplog.text

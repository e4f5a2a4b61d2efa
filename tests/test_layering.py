"""The layers, read from the code's own imports (docs/architecture.md draws them).

    questionnaires/              pure: no storage, no Streamlit, no other layer of ours
    analysis/                    pure: may use questionnaires/ (itself pure), nothing else of ours
    data/                        storage: questionnaires/ and itself only
    reports/, ui/                above them; pages/ on top, and no page imports another
    citizen_web/                 the light citizen page (/q): questionnaires/, data/ and, of ui/, only
                                 its Streamlit-free texts; never Streamlit itself

A package's ``__main__.py`` is a command-line entry point, like ``survey_app.py``: it sits on top
and may compose the layers (``python -m analysis`` reads a snapshot and prints its statistics).
Imports inside functions count the same as those at the top of a module.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
OURS = {"analysis", "bench", "citizen_web", "data", "pages", "questionnaires", "reports", "survey_app", "tests", "ui"}
STREAMLIT_AND_STORAGE = {"streamlit", "sqlalchemy", "alembic", "psycopg", "psycopg2", "sqlite3"}

# Which of our packages each layer may import (besides itself).
ALLOWED = {
    "questionnaires": set(),
    "analysis": {"questionnaires"},
    "data": {"questionnaires"},
    "reports": {"questionnaires", "analysis", "data"},
    "ui": {"questionnaires", "analysis", "data", "reports"},
    "pages": {"questionnaires", "analysis", "data", "reports", "ui"},
    "citizen_web": {"questionnaires", "data", "ui"},  # of ui/, only UI_WITHOUT_STREAMLIT
}
# The modules of ui/ that the light citizen page may use: the text table and the words around a
# question, none of which imports Streamlit (test_the_light_page_runs_without_streamlit).
UI_WITHOUT_STREAMLIT = {"ui", "ui.i18n", "ui.question_texts", "ui.answered_marker"}
PURE = ("questionnaires", "analysis")


def imported_modules(path: Path) -> list[tuple[int, str]]:
    """(line, dotted module) of every import in the file, relative imports resolved."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = path.relative_to(ROOT).parent.parts
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = ".".join(package[: len(package) - node.level + 1])
                module = f"{base}.{node.module}" if node.module else base
            else:
                module = node.module
            found.append((node.lineno, module))
            # ``from data import accounts`` imports data.accounts: one name per submodule.
            found += [(node.lineno, f"{module}.{alias.name}") for alias in node.names]
    return found


def sources(layer: str) -> list[Path]:
    return sorted(path for path in (ROOT / layer).rglob("*.py") if path.name != "__main__.py")


def violations(layer: str) -> list[str]:
    wrong = []
    for path in sources(layer):
        for line, module in imported_modules(path):
            top = module.split(".")[0]
            where = f"{path.relative_to(ROOT)}:{line} imports {module}"
            if top in OURS and top != layer and top not in ALLOWED[layer]:
                wrong.append(where)
            if layer in PURE and top in STREAMLIT_AND_STORAGE:
                wrong.append(where)
            if layer == "pages" and top == "pages":
                wrong.append(where)
            if layer == "citizen_web" and (top == "streamlit" or (top == "ui" and module not in UI_WITHOUT_STREAMLIT
                                                                  and module.rsplit(".", 1)[0] not in UI_WITHOUT_STREAMLIT - {"ui"})):
                wrong.append(where)
    return sorted(set(wrong))


@pytest.mark.parametrize("layer", sorted(ALLOWED))
def test_each_layer_imports_only_the_layers_below_it(layer):
    assert sources(layer), f"no sources found for {layer}/"
    assert violations(layer) == []


def test_the_checker_sees_an_import_across_the_layers(tmp_path, monkeypatch):
    """The test above would pass on code it cannot read: check that it reads what it must refuse."""
    fake_root = tmp_path
    (fake_root / "data").mkdir()
    (fake_root / "data" / "wrong.py").write_text(
        "from analysis import round_results\n"
        "def later():\n"
        "    from ui import state\n", encoding="utf-8")
    (fake_root / "analysis").mkdir()
    (fake_root / "analysis" / "impure.py").write_text("from .rates import x\nimport sqlalchemy\n", encoding="utf-8")
    (fake_root / "pages").mkdir()
    (fake_root / "pages" / "a.py").write_text("import pages.b\n", encoding="utf-8")
    monkeypatch.setitem(globals(), "ROOT", fake_root)
    assert violations("data") == ["data/wrong.py:1 imports analysis", "data/wrong.py:1 imports analysis.round_results",
                                  "data/wrong.py:3 imports ui", "data/wrong.py:3 imports ui.state"]
    assert violations("analysis") == ["analysis/impure.py:2 imports sqlalchemy"]
    assert violations("pages") == ["pages/a.py:1 imports pages.b"]


def test_sqlalchemy_compiled_internals_stay_in_the_fast_path_module():
    """``positiontup``, ``bind_names`` and the bind processors re-applied by hand are private to
    SQLAlchemy's compiler; only data/fast_paths.py may rely on them."""
    private = ("positiontup", "bind_names", "bind_processor", "construct_params")
    measuring_them = "bench/fast_paths.py"  # times each trick against SQLAlchemy's own way
    users = []
    for layer in ("analysis", "bench", "data", "pages", "questionnaires", "reports", "ui"):
        for path in (ROOT / layer).rglob("*.py"):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            names = {node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute)}
            if names & set(private) and str(path.relative_to(ROOT)) != measuring_them:
                users.append(str(path.relative_to(ROOT)))
    assert users == ["data/fast_paths.py"]


def test_the_light_page_runs_without_streamlit():
    """citizen_web serves phones without Streamlit: importing it (and the ui modules it uses) must
    not import Streamlit, whatever those modules import inside their functions."""
    import subprocess
    import sys

    probe = "import sys, citizen_web.routes; print('streamlit' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"

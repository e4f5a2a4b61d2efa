"""The import report over a corpus of real public XLSForms (tests/questionnaires/xlsform_corpus/).

Each form is kept as the public text it came from: pyxform's markdown tables (`.md`, the format of
pyxform's own test forms and of the XLSForm documentation's examples) or a KoboToolbox form's JSON
content (`.json`, as in kobotoolbox/formpack's test fixtures). Both are turned into an .xlsx workbook
(markdown by pyxform itself; JSON the way Kobo exports it: `label::<translation>` columns,
`select_one <list>` types) and imported exactly as an uploaded file is. SOURCES.md names each form's origin.

    .venv/bin/python -m questionnaires.xlsform_corpus           # print the report (Markdown)
    .venv/bin/python -m questionnaires.xlsform_corpus --write   # also refresh it in XLSFORM.md
"""
from __future__ import annotations

import argparse
import io
import json
from dataclasses import dataclass
from pathlib import Path

from .model import QuestionnaireError
from .xlsform import import_xlsform

CORPUS = Path(__file__).resolve().parent.parent / "tests" / "questionnaires" / "xlsform_corpus"
XLSFORM_MD = Path(__file__).resolve().parent / "XLSFORM.md"
START, END = "<!-- corpus-report:start -->", "<!-- corpus-report:end -->"
IMPORTED, WARNED, REFUSED = "imported", "imported with warnings", "refused"
# Kobo's own bookkeeping keys in the JSON form content, which its XLSForm export leaves out too.
_KOBO_INTERNAL = ("select_from_list_name", "order")


@dataclass(frozen=True)
class Outcome:
    name: str
    status: str
    questions: int
    messages: tuple[str, ...]


def _sheet(workbook, title: str, rows: list[dict]) -> None:
    headers: list[str] = []
    for row in rows:
        headers += [key for key in row if key not in headers]
    sheet = workbook.create_sheet(title)
    sheet.append(headers)
    for row in rows:
        sheet.append([row.get(header) for header in headers])


def _kobo_rows(rows: list[dict], translations: list) -> list[dict]:
    out = []
    for row in rows:
        cells = {}
        for key, value in row.items():
            if key in _KOBO_INTERNAL or key.startswith("$"):
                continue
            if key == "type" and row.get("select_from_list_name"):
                value = f"{value} {row['select_from_list_name']}"
            if isinstance(value, bool):
                value = "true" if value else "false"
            if isinstance(value, list):  # one text per translation
                for language, text in zip(translations or [None], value):
                    cells[f"{key}::{language}" if language else key] = text
                continue
            cells[key] = value
        out.append(cells)
    return out


def workbook_bytes(path: Path) -> bytes:
    """The corpus form at `path` as .xlsx bytes."""
    if path.suffix == ".md":
        from pyxform.xls2json_backends import md_table_to_workbook

        workbook = md_table_to_workbook(path.read_text(encoding="utf-8"))
    else:
        import openpyxl

        content = json.loads(path.read_text(encoding="utf-8"))
        workbook = openpyxl.Workbook()
        workbook.remove(workbook.active)
        translations = content.get("translations") or []
        for title in ("survey", "choices", "settings"):
            if content.get(title):
                rows = content[title] if isinstance(content[title], list) else [content[title]]
                _sheet(workbook, title, _kobo_rows(rows, translations))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def import_form(path: Path) -> Outcome:
    try:
        questionnaire, warnings = import_xlsform(workbook_bytes(path), source_name=path.name)
    except QuestionnaireError as error:
        return Outcome(path.stem, REFUSED, 0, tuple(error.errors))
    return Outcome(path.stem, WARNED if warnings else IMPORTED, len(questionnaire.questions), tuple(warnings))


def corpus_paths(folder: Path = CORPUS) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.suffix in (".md", ".json") and p.name != "SOURCES.md")


# The collections of SOURCES.md, by file-name prefix.
COLLECTIONS = (("kobo_", "KoboToolbox formpack test forms"), ("pyxform_", "pyxform example forms"),
               ("spec_", "xlsform.org specification examples"), ("faq_", "xlsform.org FAQ examples"))
# The construct a refusal names (English part of the message) -> the name the summary gives it.
CONSTRUCT_NAMES = (
    ("repeats", "repeat"), ("location types", "location"), ("image, audio", "media"),
    (r"today\(\)|date constraint|compare the time question", "today() or a date condition"),
    ("conditional required", "conditional required"),
    ("external|from a pre-loaded|from an external file|earlier answers|sheet is not supported", "choices or data from files"),
    (r"\brank\b", "rank"), (r"\binclude\b", "include"), ("OpenStreetMap", "OpenStreetMap"), ("calculate", "calculate shown in a label"),
    ("constraint", "constraint"),
)


def _constructs(outcome: Outcome) -> list[str]:
    import re

    english = [m.split(" / ", 1)[-1].split(": ", 1)[-1] for m in outcome.messages]
    found = [name for pattern, name in CONSTRUCT_NAMES if any(re.search(pattern, m) for m in english)]
    return found or ["other"]


def _summary(outcomes: list[Outcome]) -> list[str]:
    """Two lines under the totals: the share per collection, and the refused forms per construct."""
    parts = []
    for prefix, title in COLLECTIONS:
        mine = [o for o in outcomes if o.name.startswith(prefix)]
        if mine:
            accepted = sum(o.status != REFUSED for o in mine)
            parts.append(f"{title} {accepted} of {len(mine)}")
    by_construct: dict[str, int] = {}
    for outcome in outcomes:
        if outcome.status == REFUSED:
            for name in _constructs(outcome):
                by_construct[name] = by_construct.get(name, 0) + 1
    ranked = sorted(by_construct.items(), key=lambda item: (-item[1], item[0]))
    return [f"Imported by collection: {'; '.join(parts)}.", "",
            "Refused forms by the construct they use (a form may use several): "
            + ", ".join(f"{name} {count}" for name, count in ranked) + "."]


def report(folder: Path = CORPUS) -> tuple[list[Outcome], str]:
    outcomes = [import_form(path) for path in corpus_paths(folder)]
    counts = {status: sum(o.status == status for o in outcomes) for status in (IMPORTED, WARNED, REFUSED)}
    accepted = counts[IMPORTED] + counts[WARNED]
    lines = [
        f"{len(outcomes)} forms: {counts[IMPORTED]} imported, {counts[WARNED]} imported with warnings, "
        f"{counts[REFUSED]} refused ({accepted / len(outcomes):.0%} imported).",
        "",
        *_summary(outcomes),
        "",
        "| form | result | questions | messages (English part) |",
        "|---|---|---|---|",
    ]
    for outcome in outcomes:
        english = [m.split(" / ", 1)[-1].replace("|", "\\|") for m in outcome.messages]
        lines.append(f"| `{outcome.name}` | {outcome.status} | {outcome.questions} | {'<br>'.join(english)} |")
    return outcomes, "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="refresh the report in questionnaires/XLSFORM.md")
    args = parser.parse_args(argv)
    _, text = report()
    print(text)
    if args.write:
        document = XLSFORM_MD.read_text(encoding="utf-8")
        head, _, rest = document.partition(START)
        _, _, tail = rest.partition(END)
        XLSFORM_MD.write_text(f"{head}{START}\n{text}\n{END}{tail}", encoding="utf-8")


if __name__ == "__main__":
    main()

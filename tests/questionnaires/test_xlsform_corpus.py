"""The import report over the corpus of real public XLSForms: every form imports or is refused with a
message naming the construct, and the report committed in questionnaires/XLSFORM.md is the current one."""
from __future__ import annotations

import re

import pytest

from questionnaires.xlsform_corpus import END, REFUSED, START, XLSFORM_MD, corpus_paths, import_form, report

PATHS = corpus_paths()
# What a refusal has to name: the XLSForm construct (type, sheet or column) the survey cannot honour.
CONSTRUCTS = re.compile(r"repeat|location|geopoint|image|audio|video|file|date|rank|osm|OpenStreetMap|external|"
                        r"sheet is not supported|constraint|earlier answers|include|calculate|search|today|conditional required")


def test_every_corpus_form_has_its_source_named():
    sources = (PATHS[0].parent / "SOURCES.md").read_text(encoding="utf-8")
    assert len(PATHS) >= 30
    for path in PATHS:
        assert f"`{path.name}`" in sources, path.name


@pytest.mark.parametrize("path", PATHS, ids=lambda p: p.stem)
def test_each_form_imports_or_is_refused_naming_the_construct(path):
    outcome = import_form(path)
    if outcome.status == REFUSED:
        assert outcome.messages
        for message in outcome.messages:
            assert CONSTRUCTS.search(message.split(" / ", 1)[-1]), message
    else:
        assert outcome.questions > 0


def test_the_committed_report_is_current():
    _, text = report()
    document = XLSFORM_MD.read_text(encoding="utf-8")
    committed = document.split(START, 1)[1].split(END, 1)[0].strip()
    assert committed == text.strip(), "run: .venv/bin/python -m questionnaires.xlsform_corpus --write"


@pytest.mark.parametrize("path", PATHS, ids=lambda p: p.stem)
def test_every_imported_form_exports_to_an_xlsform_pyxform_converts_and_reimports_identically(path):
    from pyxform.xls2xform import convert

    from questionnaires.xlsform import import_xlsform, write_xlsform
    from questionnaires.xlsform_corpus import workbook_bytes

    if import_form(path).status == REFUSED:
        pytest.skip("refused on import")
    questionnaire, _ = import_xlsform(workbook_bytes(path), source_name=path.name)
    exported = write_xlsform(questionnaire)
    warnings: list[str] = []
    assert convert(xlsform=exported, warnings=warnings, file_type=".xlsx").xform
    assert warnings == []
    again, again_warnings = import_xlsform(exported)
    assert again.to_dict() == questionnaire.to_dict() and again_warnings == []

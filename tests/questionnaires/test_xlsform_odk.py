"""Our XLSForm exports checked by the ODK ecosystem's own tools: pyxform's converter (pinned in
requirements.txt) on every shipped questionnaire, and ODK Validate (the Java jar pyxform ships) where
Java is installed. Each export must convert without error or warning and re-import identically."""
from __future__ import annotations

import shutil

import pytest
from xml.etree import ElementTree
from pyxform.xls2xform import convert

from questionnaires import bundled_questionnaire_paths, load_questionnaire
from questionnaires.xlsform import import_xlsform, write_xlsform

SHIPPED = sorted(bundled_questionnaire_paths())

# pyxform warnings we accept on our exports, with the reason. None so far: keep it that way unless a
# warning is understood and harmless, and say why here.
ACCEPTED_WARNINGS: dict[str, str] = {}


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_pyxform_converts_every_shipped_questionnaire_without_warnings(path):
    questionnaire = load_questionnaire(path)
    warnings: list[str] = []
    result = convert(xlsform=write_xlsform(questionnaire), warnings=warnings, file_type=".xlsx")
    assert [w for w in warnings if not any(k in w for k in ACCEPTED_WARNINGS)] == []
    xform = result.xform
    assert f'id="{questionnaire.code}"' in xform and f'version="{questionnaire.version}"' in xform
    assert 'lang="中文 (zh)"' in xform and 'lang="English (en)"' in xform
    for question in questionnaire.questions:
        assert f"/{question.code}" in xform, question.code


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_export_reimports_identically_without_warnings(path):
    questionnaire = load_questionnaire(path)
    again, warnings = import_xlsform(write_xlsform(questionnaire))
    assert again.to_dict() == questionnaire.to_dict()
    assert warnings == []


def test_screening_ends_the_interview_in_odk_too():
    questionnaire = load_questionnaire(next(p for p in SHIPPED if p.name == "default.yaml"))
    xform = convert(xlsform=write_xlsform(questionnaire), file_type=".xlsx").xform
    screening = [q for q in questionnaire.questions if q.is_screening]
    assert screening
    # Every question after the first screening question is hidden in ODK unless screening was passed.
    first = questionnaire.questions.index(screening[0])
    binds = {element.get("nodeset").rsplit("/", 1)[-1]: element.get("relevant") or ""
             for element in ElementTree.fromstring(xform).iter() if element.tag.endswith("bind")}
    for question in questionnaire.questions[first + 1:]:
        assert f"/{screening[0].code}  = 'yes'" in binds[question.code], question.code
    assert f"{screening[0].code}_screened_out" in xform


@pytest.mark.skipif(not shutil.which("java"), reason="ODK Validate needs Java")
def test_odk_validate_accepts_the_default_export():
    from questionnaires import load_default

    # validate=True runs ODK Validate (ODK's JavaRosa-based checker) on the XForm; it raises on an error.
    result = convert(xlsform=write_xlsform(load_default()), file_type=".xlsx", validate=True)
    assert result.xform

"""Areas' known populations by age group × sex, imported from CSV or Excel, for weighting.

The file has one row per area × age group × sex with the columns 区域编码, 年龄段, 性别, 人口
(English headers area_code, age_group, sex, population are accepted too).  Age groups and sexes are
written as the questionnaire's option codes or labels (e.g. 18_29 or 18-29岁, female or 女).
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import pandas as pd
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from data import accounts
from data.models import Population
from questionnaires import Questionnaire

COLUMNS = {"区域编码": "area_code", "年龄段": "age_group", "性别": "sex", "人口": "population"}


class PopulationFileError(ValueError):
    """The file as a whole cannot be read (message in Chinese / English)."""


@dataclass(frozen=True)
class PopulationImport:
    rows: pd.DataFrame  # area_id, age_group, sex, population (valid rows only)
    errors: pd.DataFrame  # 行号, 问题


def population_template(areas: pd.DataFrame, questionnaire: Questionnaire) -> bytes:
    """A CSV (UTF-8 with BOM, opens in Chinese Excel) with every district × age group × sex to fill."""
    age, sex = questionnaire.demographic_question("age_group"), questionnaire.demographic_question("sex")
    ages = [o.code for o in age.options if age.screening_eligible is None or o.code in age.screening_eligible]
    rows = [(code, a, s, "") for code in areas.loc[areas["level"] == "district", "code"]
            for a in ages for s in (o.code for o in sex.options)]
    return pd.DataFrame(rows, columns=list(COLUMNS)).to_csv(index=False).encode("utf-8-sig")


def read_population_file(data: bytes, filename: str, areas: pd.DataFrame, questionnaire: Questionnaire) -> PopulationImport:
    try:
        if filename.lower().endswith((".xlsx", ".xlsm")):
            frame = pd.read_excel(io.BytesIO(data), dtype=str)
        else:
            frame = pd.read_csv(io.BytesIO(data), dtype=str, encoding="utf-8-sig")
    except Exception as error:  # any unreadable file gets one clear message, not a parser traceback
        raise PopulationFileError(f"无法读取文件（请上传 CSV 或 Excel）/ cannot read the file (CSV or Excel): {error}")
    english = {v: v for v in COLUMNS.values()}
    frame = frame.rename(columns={c: COLUMNS.get(str(c).strip(), english.get(str(c).strip(), c)) for c in frame.columns})
    missing = [zh for zh, en in COLUMNS.items() if en not in frame.columns]
    if missing:
        raise PopulationFileError(f"缺少列：{'、'.join(missing)} / missing columns: {', '.join(COLUMNS[m] for m in missing)}")
    if frame.empty:
        raise PopulationFileError("文件没有数据行 / the file has no rows")

    area_ids = dict(zip(areas["code"], areas["id"]))
    age, sex = questionnaire.demographic_question("age_group"), questionnaire.demographic_question("sex")
    age_codes = _option_lookup(age)
    sex_codes = _option_lookup(sex)
    rows, errors, seen = [], [], set()
    for offset, record in enumerate(frame.itertuples(index=False)):
        line = offset + 2  # the header is line 1
        problems = []
        area_id = area_ids.get(str(record.area_code).strip())
        if area_id is None:
            problems.append(f"区域编码 {record.area_code} 不存在 / unknown area code")
        age_group = age_codes.get(str(record.age_group).strip())
        if age_group is None:
            problems.append(f"年龄段 {record.age_group} 无法识别 / unknown age group")
        sex_code = sex_codes.get(str(record.sex).strip())
        if sex_code is None:
            problems.append(f"性别 {record.sex} 无法识别 / unknown sex")
        try:
            population = float(str(record.population).replace(",", "").strip())
            if population < 0 or population != int(population):
                raise ValueError
        except ValueError:
            problems.append(f"人口 {record.population} 须为非负整数 / population must be a whole number ≥ 0")
            population = None
        key = (area_id, age_group, sex_code)
        if not problems and key in seen:
            problems.append("同一区域、年龄段、性别出现了两次 / the same cell appears twice")
        seen.add(key)
        if problems:
            errors.append((line, "；".join(problems)))
        else:
            rows.append((area_id, age_group, sex_code, int(population)))
    return PopulationImport(
        rows=pd.DataFrame(rows, columns=["area_id", "age_group", "sex", "population"]),
        errors=pd.DataFrame(errors, columns=["行号", "问题"]),
    )


def _normalise(text: str) -> str:
    # Spreadsheets write 18-29, 18–29 and 18—29 alike.
    return str(text).strip().replace("—", "-").replace("–", "-").replace("－", "-").lower()


class _Lookup(dict):
    def get(self, key, default=None):
        return super().get(_normalise(key), default)


def _option_lookup(question) -> dict[str, str]:
    lookup = _Lookup()
    for option in question.options:
        lookup[_normalise(option.code)] = option.code
        for label in option.label.values():
            lookup[_normalise(label)] = option.code
    return lookup


def save_population(session: Session, actor: str | None, imported: PopulationImport) -> int:
    """Replace the populations of the areas in the file (all or nothing: a file with errors is refused)."""
    if not imported.errors.empty:
        raise PopulationFileError(f"{len(imported.errors)} 行有错误，未导入 / {len(imported.errors)} rows have errors; nothing imported")
    areas = sorted(set(int(a) for a in imported.rows["area_id"]))
    session.execute(delete(Population).where(Population.area_id.in_(areas)))
    session.add_all(Population(area_id=int(r.area_id), age_group=r.age_group, sex=r.sex, population=int(r.population))
                    for r in imported.rows.itertuples())
    accounts.record(session, actor, "import.population", f"{len(areas)} areas", rows=len(imported.rows))
    return len(imported.rows)


def population_frame(session: Session) -> pd.DataFrame:
    rows = session.execute(select(Population.area_id, Population.age_group, Population.sex, Population.population)).all()
    return pd.DataFrame(rows, columns=["area_id", "age_group", "sex", "population"])

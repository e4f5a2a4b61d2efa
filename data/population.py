"""Areas' known populations by age group × sex, imported from CSV or Excel, for weighting.

The file has one row per area × age group × sex with the columns 区域编码, 年龄段, 性别, 人口
(English headers area_code, age_group, sex, population are accepted too).  Age groups and sexes are
written as the questionnaire's option codes or labels (e.g. 18_29 or 18-29岁, female or 女).
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass

import pandas as pd
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from data import accounts
from data.models import Area, Population
from data.scope import Scope, check_districts
from questionnaires import Questionnaire

COLUMNS = {"区域编码": "area_code", "年龄段": "age_group", "性别": "sex", "人口": "population"}
MAX_BYTES = 5 * 1024 * 1024  # a city's table is a few kilobytes; see docs/security.md
MAX_ROWS = 20_000
MAX_POPULATION = 1_000_000_000  # more people than any district has; beyond it a typo, or an attack
# Chinese Excel saves "CSV" as GBK (GB18030 is its superset); UTF-8 first since GB18030 decodes almost anything.
CSV_ENCODINGS = ("utf-8-sig", "gb18030")


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
    if not isinstance(data, (bytes, bytearray)) or len(data) > MAX_BYTES:
        raise PopulationFileError(f"文件太大（最多 {MAX_BYTES // 1024 // 1024} MB）/ the file is too large "
                                  f"(at most {MAX_BYTES // 1024 // 1024} MB)")
    try:
        if str(filename).lower().endswith((".xlsx", ".xlsm")):
            frame = _read_workbook(bytes(data))
        else:
            frame = _read_csv(bytes(data))
    except PopulationFileError:
        raise
    except Exception:  # any unreadable file gets one clear message, not a parser traceback
        raise PopulationFileError("无法读取文件（请上传 CSV 或 Excel）/ cannot read the file (CSV or Excel)") from None
    if len(frame) > MAX_ROWS:
        raise PopulationFileError(f"行数太多（最多 {MAX_ROWS} 行）/ too many rows (at most {MAX_ROWS})")
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
        population = _whole_number(record.population)
        if population is None:
            problems.append(f"人口 {_shown(record.population)} 须为不超过 {MAX_POPULATION:,} 的非负整数 / population "
                            f"must be a whole number ≥ 0 and at most {MAX_POPULATION:,}")
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


def _read_csv(data: bytes) -> pd.DataFrame:
    for encoding in CSV_ENCODINGS:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        return pd.read_csv(io.StringIO(text), dtype=str, nrows=MAX_ROWS + 1)
    raise PopulationFileError("文件编码无法识别（请存为 UTF-8 或 GBK 的 CSV）/ unknown text encoding (save the CSV as "
                              "UTF-8 or GBK)")


def _read_workbook(data: bytes) -> pd.DataFrame:
    """The first sheet, streamed (read-only mode) and cut at MAX_ROWS rows and len(COLUMNS) + 10
    columns, so a workbook claiming a million rows costs no more than the rows we keep."""
    import openpyxl

    book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        sheet = book.worksheets[0]
        rows = []
        for values in sheet.iter_rows(values_only=True, max_col=len(COLUMNS) + 10):
            if len(rows) > MAX_ROWS + 1:
                break
            rows.append(["" if v is None else str(v) for v in values])
    finally:
        book.close()
    if not rows:
        return pd.DataFrame(columns=list(COLUMNS))
    header, body = rows[0], [r for r in rows[1:] if any(v.strip() for v in r)]
    return pd.DataFrame(body, columns=[h if h else f"_{i}" for i, h in enumerate(header)])


def _whole_number(value) -> int | None:
    """A population: a whole number from 0 to MAX_POPULATION, else None (inf, 1e30, 9.3e18, text…)."""
    text = str(value).replace(",", "").strip()
    if not text or len(text) > 20:
        return None
    try:
        number = float(text)
    except ValueError:
        return None
    if not math.isfinite(number) or number < 0 or number > MAX_POPULATION or number != int(number):
        return None
    return int(number)


def _shown(value) -> str:
    text = str(value)
    return text if len(text) <= 30 else text[:30] + "…"


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


def save_population(session: Session, actor: str | None, imported: PopulationImport, *, scope: Scope) -> int:
    """Replace the populations of the areas in the file (all or nothing: a file with errors, or with
    an area outside the user's scope, is refused)."""
    if not imported.errors.empty:
        raise PopulationFileError(f"{len(imported.errors)} 行有错误，未导入 / {len(imported.errors)} rows have errors; nothing imported")
    areas = sorted(set(int(a) for a in imported.rows["area_id"]))
    codes = dict(session.execute(select(Area.id, Area.code).where(Area.id.in_(areas))).all()) if areas else {}
    check_districts(scope, areas, codes)
    session.execute(delete(Population).where(Population.area_id.in_(areas)))
    session.add_all(Population(area_id=int(r.area_id), age_group=r.age_group, sex=r.sex, population=int(r.population))
                    for r in imported.rows.itertuples())
    accounts.record(session, actor, "import.population", f"{len(areas)} areas", rows=len(imported.rows))
    return len(imported.rows)


def population_frame(session: Session, *, scope: Scope) -> pd.DataFrame:
    """The stored populations of the districts the scope holds whole (none for a street office)."""
    query = select(Population.area_id, Population.age_group, Population.sex, Population.population)
    if not scope.whole_city:
        query = query.where(Population.area_id == (scope.area_id if scope.level == "district" else -1))
    rows = session.execute(query).all()
    return pd.DataFrame(rows, columns=["area_id", "age_group", "sex", "population"])

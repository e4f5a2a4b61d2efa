"""The round report as an Excel workbook for leaders: one sheet per area level, Chinese headers,
percentages formatted, verdicts coloured, and the item sheet behind every indicator."""

from __future__ import annotations

import io
from datetime import datetime

import pandas as pd

from analysis import RoundResults

LEVEL_NAMES = {"city": ("全市", "City"), "district": ("区县", "Districts"), "street": ("街道", "Streets"),
               "community": ("社区", "Communities")}
INDICATOR_NAMES = {"awareness": ("知晓率", "Awareness"), "support": ("支持率", "Support"),
                   "participation": ("参与率", "Participation"), "satisfaction": ("满意率", "Satisfaction")}
VERDICT_NAMES = {"met": ("达标", "Met"), "not_met": ("未达标", "Not met"), "undecided": ("待定", "Undecided"),
                 "no_data": ("无数据", "No data"), "no_target": ("未设目标", "No target")}
VERDICT_FILL = {"met": "#C8E6C9", "not_met": "#FFCDD2", "undecided": "#FFE0B2"}
HEADERS = {
    "area": ("区域", "Area"), "parent": ("上级区域", "Parent"), "indicator": ("指标", "Indicator"),
    "respondents": ("受访人数", "Respondents"), "valid": ("有效回答", "Valid answers"), "rate": ("比率", "Rate"),
    "ci_low": ("置信区间下限", "CI low"), "ci_high": ("置信区间上限", "CI high"), "target": ("目标", "Target"),
    "verdict": ("判定", "Verdict"), "extra_needed": ("还需访问人数", "More interviews needed"),
    "deff": ("设计效应", "Design effect"), "item": ("题目", "Question"), "gap": ("与目标差距", "Gap to target"),
}


def _pick(pair: tuple[str, str], lang: str) -> str:
    return pair[1] if lang == "en" else pair[0]


def indicator_frame(indicators: pd.DataFrame, level: str, lang: str = "zh") -> pd.DataFrame:
    rows = indicators[indicators["level"] == level]
    name = "area_name_en" if lang == "en" else "area_name_zh"
    parent = "parent_name_en" if lang == "en" else "parent_name_zh"
    h = {key: _pick(value, lang) for key, value in HEADERS.items()}
    return pd.DataFrame({
        h["area"]: rows[name].to_numpy(), h["parent"]: rows[parent].to_numpy(),
        h["indicator"]: [_pick(INDICATOR_NAMES.get(i, (i, i)), lang) for i in rows["indicator"]],
        h["respondents"]: rows["respondents"].to_numpy(), h["valid"]: rows["valid"].to_numpy(),
        h["rate"]: rows["rate"].to_numpy(), h["ci_low"]: rows["ci_low"].to_numpy(),
        h["ci_high"]: rows["ci_high"].to_numpy(), h["target"]: rows["target"].to_numpy(),
        h["verdict"]: [_pick(VERDICT_NAMES[v], lang) for v in rows["verdict"]],
        h["extra_needed"]: rows["extra_needed"].to_numpy(), h["deff"]: rows["deff"].to_numpy(),
    })


def item_frame(items: pd.DataFrame, question_text, level: str, lang: str = "zh") -> pd.DataFrame:
    rows = items[items["level"] == level]
    name = "area_name_en" if lang == "en" else "area_name_zh"
    h = {key: _pick(value, lang) for key, value in HEADERS.items()}
    return pd.DataFrame({
        h["area"]: rows[name].to_numpy(),
        h["indicator"]: [_pick(INDICATOR_NAMES.get(i, (i, i)), lang) for i in rows["indicator"]],
        h["item"]: [question_text(code) for code in rows["item"]], h["valid"]: rows["valid"].to_numpy(),
        h["rate"]: rows["rate"].to_numpy(), h["ci_low"]: rows["ci_low"].to_numpy(),
        h["ci_high"]: rows["ci_high"].to_numpy(), h["target"]: rows["target"].to_numpy(),
        h["gap"]: rows["gap"].to_numpy(), h["verdict"]: [_pick(VERDICT_NAMES[v], lang) for v in rows["verdict"]],
    })


def round_report_xlsx(
    results: RoundResults, *, round_name: str, question_text, method: str, confidence: float,
    scope_name: str, exclusions: pd.DataFrame | None = None, lang: str = "zh",
    levels: tuple[str, ...] = ("city", "district", "street", "community"),
    comments: pd.DataFrame | None = None,
) -> bytes:
    """The round's report workbook; ``comments`` (reports.comments.comments_export_frame) adds the
    residents' suggestions as a sheet of their own."""
    buffer = io.BytesIO()
    percent_headers = {_pick(HEADERS[k], lang) for k in ("rate", "ci_low", "ci_high", "target", "gap")}
    verdict_header = _pick(HEADERS["verdict"], lang)
    with pd.ExcelWriter(buffer, engine="xlsxwriter") as writer:
        book = writer.book
        percent = book.add_format({"num_format": "0.0%"})
        header = book.add_format({"bold": True, "bg_color": "#B71C1C", "font_color": "white", "border": 1,
                                  "text_wrap": True, "valign": "vcenter"})
        fills = {_pick(VERDICT_NAMES[v], lang): book.add_format({"bg_color": colour}) for v, colour in VERDICT_FILL.items()}

        about = pd.DataFrame({
            ("项目" if lang != "en" else "Item"): (["调查轮次", "数据范围", "区间方法", "置信水平", "生成时间", "已排除问卷"]
                                                 if lang != "en" else ["Round", "Scope", "Interval method",
                                                                       "Confidence", "Generated", "Excluded responses"]),
            ("内容" if lang != "en" else "Value"): [
                round_name, scope_name, method, f"{confidence:.0%}", datetime.now().strftime("%Y-%m-%d %H:%M"),
                "" if exclusions is None or exclusions.empty else
                "；".join(f"{r.reason}（{r.responses}）" for r in exclusions.itertuples()),
            ],
        })
        sheets = [("说明" if lang != "en" else "About", about)]
        sheets += [(_pick(LEVEL_NAMES[level], lang), indicator_frame(results.indicators, level, lang))
                   for level in levels if (results.indicators["level"] == level).any()]
        item_level = "district" if (results.items["level"] == "district").any() else "city"
        sheets.append(("题目明细" if lang != "en" else "Items", item_frame(results.items, question_text, item_level, lang)))
        if comments is not None:
            sheets.append(("居民意见" if lang != "en" else "Suggestions", comments))

        for sheet_name, frame in sheets:
            frame.to_excel(writer, sheet_name=sheet_name, index=False)
            sheet = writer.sheets[sheet_name]
            sheet.freeze_panes(1, 1)
            for column, title in enumerate(frame.columns):
                sheet.write(0, column, title, header)
                longest = frame[title].astype(str).str.len().max() if len(frame) else 0
                width = max(10, min(60, int((0 if pd.isna(longest) else longest) * 1.6)))
                sheet.set_column(column, column, width, percent if title in percent_headers else None)
            if verdict_header in frame.columns and len(frame):
                column = list(frame.columns).index(verdict_header)
                for label, fill in fills.items():
                    sheet.conditional_format(1, column, len(frame), column, {
                        "type": "cell", "criteria": "==", "value": f'"{label}"', "format": fill})
    return buffer.getvalue()

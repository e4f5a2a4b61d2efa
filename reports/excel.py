"""The round report as an Excel workbook for leaders: one sheet per area level, Chinese headers,
percentages formatted, verdicts coloured, and the item sheet behind every indicator."""

from __future__ import annotations

import io
from datetime import datetime

import pandas as pd

from analysis import RoundResults
from analysis.rates import VerdictRule
from reports.safe_cells import XLSXWRITER_OPTIONS, neutralised_frame

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
    "pass_probability": ("达标概率", "Chance of meeting target"),
    "official_n": ("正式测评访问人数（估计）", "Official interviews (assumed)"),
    "probability_if_met": ("该题达标后的达标概率", "Chance if this item met the target"),
    "gain": ("达标概率提高", "Gain in chance"),
    "rule": ("判定规则", "Verdict rule"),
}
FORECAST_NOTE = (
    "达标概率：假如正式测评按表中人数访问，按本轮结果，正式测评自己算出的比率达到目标的可能性（贝塔-二项预测分布，"
    "Jeffreys 先验；计入本轮样本误差和正式抽样的偶然性；假定调查同一人群、同样的题目）。",
    "Chance of meeting target: if the official evaluation interviews the number of people shown, how likely its own "
    "rate is to reach the target given this round's results (beta-binomial predictive distribution, Jeffreys prior; "
    "counts this round's sampling error and the official sample's own chance; assumes the same population and "
    "questions).",
)


def _pick(pair: tuple[str, str], lang: str) -> str:
    return pair[1] if lang == "en" else pair[0]


def _label_columns(rows: pd.DataFrame, lang: str) -> tuple[str, str]:
    """The columns naming each row's area and its parent: the labels people can tell apart
    (reports.results.with_area_labels) when the results carry them, else the plain names."""
    kind = "label" if "area_label_zh" in rows.columns else "name"
    suffix = "en" if lang == "en" else "zh"
    return f"area_{kind}_{suffix}", f"parent_{kind}_{suffix}"


def _percent_text(values) -> list[str]:
    return ["" if pd.isna(v) else f"{v:.1%}" for v in values]


def indicator_frame(indicators: pd.DataFrame, level: str, lang: str = "zh", rule: VerdictRule | None = None,
                    percent_text: bool = False) -> pd.DataFrame:
    """One level's indicator rows with headers in ``lang``; with ``rule``, a last column names it,
    so that a table read on its own still says how its verdicts were reached; ``percent_text`` writes
    rates as "97.3%" (CSV for people) instead of numbers (Excel formats those itself; JSON keeps them whole)."""
    rows = indicators[indicators["level"] == level]
    name, parent = _label_columns(rows, lang)
    h = {key: _pick(value, lang) for key, value in HEADERS.items()}
    frame = pd.DataFrame({
        h["area"]: rows[name].to_numpy(), h["parent"]: rows[parent].to_numpy(),
        h["indicator"]: [_pick(INDICATOR_NAMES.get(i, (i, i)), lang) for i in rows["indicator"]],
        h["respondents"]: rows["respondents"].to_numpy(), h["valid"]: rows["valid"].to_numpy(),
        h["rate"]: rows["rate"].to_numpy(), h["ci_low"]: rows["ci_low"].to_numpy(),
        h["ci_high"]: rows["ci_high"].to_numpy(), h["target"]: rows["target"].to_numpy(),
        h["verdict"]: [_pick(VERDICT_NAMES[v], lang) for v in rows["verdict"]],
        h["extra_needed"]: rows["extra_needed"].to_numpy(), h["deff"]: rows["deff"].to_numpy(),
        **({} if rule is None else {h["rule"]: rule.describe(lang)}),
    })
    if percent_text:
        for key in ("rate", "ci_low", "ci_high", "target"):
            frame[h[key]] = _percent_text(frame[h[key]])
        frame[h["deff"]] = ["" if pd.isna(v) else f"{v:.2f}" for v in frame[h["deff"]]]
    return frame


def item_frame(items: pd.DataFrame, question_text, level: str, lang: str = "zh") -> pd.DataFrame:
    rows = items[items["level"] == level]
    name, _ = _label_columns(rows, lang)
    h = {key: _pick(value, lang) for key, value in HEADERS.items()}
    return pd.DataFrame({
        h["area"]: rows[name].to_numpy(),
        h["indicator"]: [_pick(INDICATOR_NAMES.get(i, (i, i)), lang) for i in rows["indicator"]],
        h["item"]: [question_text(code) for code in rows["item"]], h["valid"]: rows["valid"].to_numpy(),
        h["rate"]: rows["rate"].to_numpy(), h["ci_low"]: rows["ci_low"].to_numpy(),
        h["ci_high"]: rows["ci_high"].to_numpy(), h["target"]: rows["target"].to_numpy(),
        h["gap"]: rows["gap"].to_numpy(), h["verdict"]: [_pick(VERDICT_NAMES[v], lang) for v in rows["verdict"]],
    })


def forecast_frame(forecast: pd.DataFrame, gains: pd.DataFrame | None, question_text, lang: str = "zh"
                   ) -> pd.DataFrame:
    """One row per area × indicator with its verdict and 达标概率, then one row per weak item with the
    chance if that item alone met the target (see analysis.forecast)."""
    name = "area_name_en" if lang == "en" else "area_name_zh"
    h = {key: _pick(value, lang) for key, value in HEADERS.items()}
    rows = forecast[forecast["target"].notna() & (forecast["official_n"] > 0)]
    table = pd.DataFrame({
        h["area"]: rows[name].to_numpy(),
        h["indicator"]: [_pick(INDICATOR_NAMES.get(i, (i, i)), lang) for i in rows["indicator"]],
        h["item"]: "", h["rate"]: rows["rate"].to_numpy(), h["target"]: rows["target"].to_numpy(),
        h["verdict"]: [_pick(VERDICT_NAMES[v], lang) for v in rows["verdict"]],
        h["official_n"]: rows["official_n"].to_numpy(), h["pass_probability"]: rows["pass_probability"].to_numpy(),
        h["probability_if_met"]: float("nan"), h["gain"]: float("nan"),
    })
    if gains is None or gains.empty:
        return table
    names = dict(zip(rows["area_id"], rows[name]))
    gains = gains[gains["area_id"].isin(names)]
    items = pd.DataFrame({
        h["area"]: gains["area_id"].map(names).to_numpy(),
        h["indicator"]: [_pick(INDICATOR_NAMES.get(i, (i, i)), lang) for i in gains["indicator"]],
        h["item"]: [question_text(code) for code in gains["item"]], h["rate"]: gains["item_rate"].to_numpy(),
        h["target"]: float("nan"), h["verdict"]: "", h["official_n"]: float("nan"),
        h["pass_probability"]: gains["pass_probability"].to_numpy(),
        h["probability_if_met"]: gains["probability_if_met"].to_numpy(), h["gain"]: gains["gain"].to_numpy(),
    })
    return pd.concat([table, items], ignore_index=True)


def round_report_xlsx(
    results: RoundResults, *, round_name: str, question_text, method: str | None = None,
    confidence: float | None = None, scope_name: str, exclusions: pd.DataFrame | None = None, lang: str = "zh",
    levels: tuple[str, ...] = ("city", "district", "street", "community"), rule: VerdictRule | None = None,
    forecast: pd.DataFrame | None = None, gains: pd.DataFrame | None = None,
    comments: pd.DataFrame | None = None,
) -> bytes:
    """The round's report workbook; ``rule`` is the round's verdict rule the results were computed with
    (named on the About sheet and on every level sheet), ``method``/``confidence`` the interval's when no
    rule is given; with ``forecast`` (and ``gains``) from ``reports.results.forecast_for`` it gets a sheet
    达标概率 after the level sheets; ``comments`` (reports.comments.comments_export_frame) adds the
    residents' suggestions as a sheet of their own."""
    buffer = io.BytesIO()
    percent_headers = {_pick(HEADERS[k], lang) for k in ("rate", "ci_low", "ci_high", "target", "gap",
                                                          "pass_probability", "probability_if_met", "gain")}
    verdict_header = _pick(HEADERS["verdict"], lang)
    with pd.ExcelWriter(buffer, engine="xlsxwriter", engine_kwargs={"options": XLSXWRITER_OPTIONS}) as writer:
        book = writer.book
        percent = book.add_format({"num_format": "0.0%"})
        header = book.add_format({"bold": True, "bg_color": "#B71C1C", "font_color": "white", "border": 1,
                                  "text_wrap": True, "valign": "vcenter"})
        fills = {_pick(VERDICT_NAMES[v], lang): book.add_format({"bg_color": colour}) for v, colour in VERDICT_FILL.items()}

        if rule is not None:
            method_text, level_text = rule.explain(lang), f"{rule.interval_confidence:.0%}"
        else:
            method_text, level_text = method, f"{confidence:.0%}"
        about = pd.DataFrame({
            ("项目" if lang != "en" else "Item"): (["调查轮次", "数据范围", "判定规则" if rule else "区间方法",
                                                  "区间的双侧置信水平" if rule else "置信水平", "生成时间", "已排除问卷"]
                                                 if lang != "en" else ["Round", "Scope",
                                                                       "Verdict rule" if rule else "Interval method",
                                                                       "Two-sided level of the intervals" if rule
                                                                       else "Confidence", "Generated",
                                                                       "Excluded responses"]),
            ("内容" if lang != "en" else "Value"): [
                round_name, scope_name, method_text, level_text, datetime.now().strftime("%Y-%m-%d %H:%M"),
                "" if exclusions is None or exclusions.empty else
                "；".join(f"{r.reason}（{r.responses}）" for r in exclusions.itertuples()),
            ],
        })
        sheets = [("说明" if lang != "en" else "About", about)]
        # A scoped reader's top row is their own area (城东区), never 全市.
        sheets += [((scope_name or _pick(LEVEL_NAMES[level], lang))[:31] if level == "city" else
                    _pick(LEVEL_NAMES[level], lang), indicator_frame(results.indicators, level, lang, rule))
                   for level in levels if (results.indicators["level"] == level).any()]
        if forecast is not None and len(forecast):
            sheets.append((_pick(HEADERS["pass_probability"], lang), forecast_frame(forecast, gains, question_text, lang)))
        item_level = "district" if (results.items["level"] == "district").any() else "city"
        sheets.append(("题目明细" if lang != "en" else "Items", item_frame(results.items, question_text, item_level, lang)))
        if comments is not None:
            sheets.append(("居民意见" if lang != "en" else "Suggestions", comments))

        for sheet_name, frame in sheets:
            # Reasons, round names and question texts are typed by people: never formulas.
            frame = neutralised_frame(frame)
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
            if sheet_name == _pick(HEADERS["pass_probability"], lang):
                sheet.write(len(frame) + 2, 0, _pick(FORECAST_NOTE, lang))
    return buffer.getvalue()

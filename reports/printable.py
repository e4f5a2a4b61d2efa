"""A printable one-file HTML report: overview, districts with verdicts, weakest items per district."""

from __future__ import annotations

import html
from datetime import datetime

import pandas as pd

from analysis import RoundResults
from reports.excel import INDICATOR_NAMES, VERDICT_FILL, VERDICT_NAMES, _pick


def _pct(value) -> str:
    return "—" if pd.isna(value) else f"{value:.1%}"


def printable_report_html(results: RoundResults, *, round_name: str, scope_name: str, question_text,
                          method: str | None = None, confidence: float | None = None, lang: str = "zh",
                          weak_items: int = 3, rule=None) -> str:
    """The printable page; ``rule`` (the round's VerdictRule) is stated under the title when given."""
    english = lang == "en"
    name = "area_label_en" if english else "area_label_zh"
    indicators = results.indicators
    order = list(dict.fromkeys(indicators["indicator"]))

    def verdict_cell(row) -> str:
        colour = VERDICT_FILL.get(row.verdict, "#EEEEEE")
        extra = "" if pd.isna(row.extra_needed) or row.extra_needed == 0 else (
            f"<br><small>{'more needed' if english else '还需'} {int(row.extra_needed)}</small>")
        return (f'<td style="background:{colour}">{_pct(row.rate)}<br><small>[{_pct(row.ci_low)}, '
                f'{_pct(row.ci_high)}] {html.escape(_pick(VERDICT_NAMES[row.verdict], lang))}</small>{extra}</td>')

    def level_table(level: str) -> str:
        rows = indicators[indicators["level"] == level]
        head = "".join(f"<th>{_pick(INDICATOR_NAMES.get(i, (i, i)), lang)}</th>" for i in order)
        body = []
        for area_id, group in rows.groupby("area_id", sort=False):
            by_indicator = {r.indicator: r for r in group.itertuples()}
            cells = "".join(verdict_cell(by_indicator[i]) for i in order if i in by_indicator)
            first = group.iloc[0]
            body.append(f"<tr><td>{html.escape(str(first[name]))}</td><td>{int(first['respondents'])}</td>{cells}</tr>")
        area_word, n_word = ("Area", "Respondents") if english else ("区域", "受访人数")
        return f"<table><tr><th>{area_word}</th><th>{n_word}</th>{head}</tr>{''.join(body)}</table>"

    # The level under the reader's scope: districts for the city, streets for a district office.
    detail = next((level for level in ("district", "street", "community")
                   if indicators.loc[indicators["level"] == level, "area_id"].nunique() > 1), "district")
    items = results.items[(results.items["level"] == detail) & results.items["gap"].notna()]
    weak = []
    for _, group in items.groupby("area_id", sort=False):
        worst = group.sort_values("gap").head(weak_items)
        entries = "".join(f"<li>{html.escape(question_text(r.item))}：{_pct(r.rate)}"
                          f"（{'target' if english else '目标'} {_pct(r.target)}）</li>" for r in worst.itertuples())
        weak.append(f"<h3>{html.escape(str(group.iloc[0][name]))}</h3><ul>{entries}</ul>")
    level_en = {"district": "district", "street": "street", "community": "community"}[detail]
    level_zh = {"district": "区（县）", "street": "街道（乡镇）", "community": "社区（村）"}[detail]
    titles = (("Civilized-city survey report", "Overview", f"By {level_en}", f"Weakest items by {level_en}",
               "Interval method", "confidence", "Generated")
              if english else ("文明城市创建问卷调查报告", "总体情况", f"各{level_zh}情况", f"各{level_zh}短板题目",
                               "区间方法", "置信水平", "生成时间"))
    method_line = (html.escape(rule.explain(lang)) if rule is not None
                   else f"{titles[4]} {html.escape(str(method))}，{titles[5]} {confidence:.0%}")
    return f"""<!doctype html><html lang="{'en' if english else 'zh-CN'}"><head><meta charset="utf-8">
<title>{html.escape(titles[0])} · {html.escape(round_name)}</title>
<style>
body {{ font-family: "Noto Sans CJK SC", "Microsoft YaHei", sans-serif; margin: 16mm; color: #212121; }}
h1 {{ color: #b71c1c; }} table {{ border-collapse: collapse; width: 100%; margin-bottom: 8mm; }}
th, td {{ border: 1px solid #bdbdbd; padding: 4px 6px; text-align: center; font-size: 10pt; }}
th {{ background: #b71c1c; color: white; }} td:first-child {{ text-align: left; }}
@media print {{ body {{ margin: 10mm; }} h2 {{ break-before: auto; }} }}
</style></head><body>
<h1>{html.escape(titles[0])}</h1>
<p>{html.escape(round_name)} · {html.escape(scope_name)} · {method_line} ·
{titles[6]} {datetime.now():%Y-%m-%d %H:%M}</p>
<h2>{titles[1]}</h2>{level_table("city")}
<h2>{titles[2]}</h2>{level_table(detail)}
<h2>{titles[3]}</h2>{''.join(weak)}
</body></html>"""

"""Plotly charts of rates with their intervals and the target line."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from ui.i18n import TEXTS

VERDICT_COLOURS = {"met": "#2e7d32", "not_met": "#c62828", "undecided": "#ef6c00", "no_data": "#9e9e9e",
                   "no_target": "#1565c0"}


def rate_chart(rows: pd.DataFrame, indicator: str, level: str, confidence: float, language: str) -> go.Figure:
    """Points with asymmetric interval bars, one per area, coloured by verdict; dashed target line.

    Points rather than bars: rates near 100 % would make every bar look the same.
    """
    english = language == "en"
    rows = rows[rows["respondents"] > 0].sort_values("rate")
    names = rows["area_label_en" if english else "area_label_zh"]
    verdict_names = {key: TEXTS[key][1 if english else 0] for key in VERDICT_COLOURS}
    figure = go.Figure()
    for verdict, colour in VERDICT_COLOURS.items():
        part = rows[rows["verdict"] == verdict]
        if part.empty:
            continue
        figure.add_trace(go.Scatter(
            x=part["rate"], y=names[part.index], mode="markers", name=verdict_names[verdict],
            marker={"color": colour, "size": 10},
            error_x={"type": "data", "symmetric": False, "array": part["ci_high"] - part["rate"],
                     "arrayminus": part["rate"] - part["ci_low"], "color": colour},
            customdata=part[["respondents", "ci_low", "ci_high"]].to_numpy(),
            hovertemplate="%{y}: %{x:.1%} [%{customdata[1]:.1%}, %{customdata[2]:.1%}] n=%{customdata[0]}<extra></extra>",
        ))
    target = rows["target"].dropna()
    if not target.empty:
        figure.add_vline(x=float(target.iloc[0]), line_dash="dash", line_color="#424242",
                         annotation_text=f"{TEXTS['target'][1 if english else 0]} {float(target.iloc[0]):.0%}")
    indicator_name = TEXTS[indicator][1 if english else 0]
    level_name = TEXTS[f"level_{level}"][1 if english else 0]
    title = (f"{indicator_name} by {level_name.lower()}, {confidence:.0%} intervals" if english
             else f"{indicator_name}：各{level_name}比率与 {confidence:.0%} 置信区间")
    figure.update_layout(
        title=title, xaxis={"tickformat": ".0%", "title": None}, yaxis={"title": None},
        height=max(300, 28 * len(rows) + 120), margin={"l": 10, "r": 10, "t": 50, "b": 10},
        legend={"orientation": "h", "y": -0.1},
    )
    return figure

"""Plotly charts of rates with their intervals and the target line."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from ui.i18n import TEXTS

VERDICT_COLOURS = {"met": "#2e7d32", "not_met": "#c62828", "undecided": "#ef6c00", "no_data": "#9e9e9e",
                   "no_target": "#1565c0"}


STEPS = (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.25)


def percent_axis(low: float, high: float, most_ticks: int = 8) -> dict:
    """Axis settings whose ticks are distinct percentages: a step from STEPS giving at most
    ``most_ticks`` ticks over [low, high], and as many decimals as the step needs.  Plotly's own
    choice under ".0%" repeats ticks on narrow ranges ("95% 96% 96% 97% 97%")."""
    if not (low == low and high == high) or high <= low:  # NaN or a single value
        low, high = (low - 0.01, low + 0.01) if low == low else (0.0, 1.0)
    step = next((s for s in STEPS if (high - low) / s <= most_ticks), 0.25)
    decimals = 0 if step >= 0.01 else 1
    return {"tickformat": f".{decimals}%", "dtick": step, "tick0": 0}


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
    shapes, annotations = [], []
    if not target.empty:
        # A plain shape and note: add_vline costs about 0.1 s a chart in plotly's validation.
        goal = float(target.iloc[0])
        shapes.append({"type": "line", "x0": goal, "x1": goal, "y0": 0, "y1": 1, "yref": "paper",
                       "line": {"dash": "dash", "color": "#424242"}})
        annotations.append({"x": goal, "y": 1, "yref": "paper", "yanchor": "bottom", "showarrow": False,
                            "text": f"{TEXTS['target'][1 if english else 0]} {goal:.0%}"})
    indicator_name = TEXTS[indicator][1 if english else 0]
    level_name = TEXTS[f"level_{level}"][1 if english else 0]
    title = (f"{indicator_name} by {level_name.lower()}, {confidence:.0%} intervals" if english
             else f"{indicator_name}：各{level_name}比率与 {confidence:.0%} 置信区间")
    lows = pd.concat([rows["ci_low"], target]).dropna()
    highs = pd.concat([rows["ci_high"], target]).dropna()
    axis = percent_axis(float(lows.min()), float(highs.max())) if not lows.empty else {"tickformat": ".0%"}
    figure.update_layout(
        title=title, xaxis={**axis, "title": None}, yaxis={"title": None}, shapes=shapes, annotations=annotations,
        height=max(300, 28 * len(rows) + 120), margin={"l": 10, "r": 10, "t": 50, "b": 10},
        legend={"orientation": "h", "y": -0.1},
    )
    return figure


def breakdown_chart(table: pd.DataFrame, rate_title: str) -> go.Figure:
    """Rates by group (age group, sex) with intervals, one coloured series per indicator.

    ``table`` has group, indicator_name, rate, ci_low, ci_high.  Plain traces, not plotly
    express: express spent about 2.5 s of a rerun of 深入分析 on this chart."""
    figure = go.Figure()
    for name, part in table.groupby("indicator_name", sort=False):
        figure.add_trace(go.Scatter(
            x=part["rate"], y=part["group"], mode="markers", name=name, marker={"size": 9},
            error_x={"type": "data", "symmetric": False, "array": part["ci_high"] - part["rate"],
                     "arrayminus": part["rate"] - part["ci_low"]}))
    axis = percent_axis(float(table["ci_low"].min()), float(table["ci_high"].max())) if len(table) else {}
    figure.update_layout(xaxis={**axis, "title": rate_title}, yaxis={"title": None, "type": "category"}, height=360,
                         margin={"l": 10, "r": 10, "t": 10, "b": 10}, legend={"orientation": "h", "y": -0.2})
    return figure


# Out of sight but laid out (display: none would leave Plotly nothing to draw into).
_OUT_OF_SIGHT_CSS = ('<style>.st-key-chart_scripts_early { position: absolute; left: -10000px; width: 400px; '
                     'height: 1px; overflow: hidden; visibility: hidden; }</style>')


def load_chart_scripts_early() -> None:
    """Draw one empty chart and one tiny table out of sight, so that the browser fetches and compiles
    Streamlit's chart and table scripts (Plotly alone is 4.7 MB of script, about 0.9 s of compiling
    on this machine) while a staff member types their password on the login page, not after the
    click on 登录, when the role's first page is waiting to be drawn (docs/performance.md)."""
    import streamlit as st

    from ui.tables import show_table

    st.html(_OUT_OF_SIGHT_CSS)
    with st.container(key="chart_scripts_early"):
        st.plotly_chart(go.Figure(layout={"height": 120, "margin": {"l": 0, "r": 0, "t": 0, "b": 0}}),
                        config={"displayModeBar": False, "staticPlot": True})
        show_table(pd.DataFrame({"": [0.5]}), hide_index=True)

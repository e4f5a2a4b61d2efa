"""The round's verdict rule on every page that shows a verdict, and the clearly labelled exploration mode.

The official verdicts always follow the round's rule (set on the rounds page, frozen when the round
opens).  An analyst may look at other methods and levels in the exploration mode: the page then says
so in a warning, and nothing computed there reaches a report or an export.
"""

from __future__ import annotations

import streamlit as st

from analysis.rates import METHOD_NAMES, VerdictRule
from ui.i18n import lang, register_texts, t

register_texts({
    "explore_mode": ("探索模式（换用其他方法或置信水平，不改变正式判定）",
                     "Exploration mode (other methods or levels; the official verdicts stay as they are)"),
    "explore_banner": ("探索模式：以下区间和判定按“{rule}”计算，仅供探索，不是本轮的正式判定，"
                       "不进入任何报告和导出。关闭探索模式即回到本轮规则。",
                       "Exploration mode: the intervals and verdicts below use “{rule}”. They are not the "
                       "round's official verdicts and never go into a report or an export. Switch the mode off "
                       "to return to the round's rule."),
    "sidedness_rule": ("单侧 / 双侧", "One- or two-sided"),
    "sided_one": ("单侧", "One-sided"),
    "sided_two": ("双侧", "Two-sided"),
})

VERDICT_METHODS = ("clopper-pearson", "wilson", "jeffreys")
LEVELS = (0.90, 0.95, 0.99)


def show_rule(rule: VerdictRule, where=st) -> None:
    """The round's rule in plain words."""
    where.caption(rule.explain(lang()))


def rule_controls(rule: VerdictRule, key: str, where=st) -> tuple[VerdictRule, bool]:
    """The round's rule, a switch to exploration, and in exploration the pickers and the warning.

    Returns the rule to compute with and whether it is an exploration.
    """
    show_rule(rule, where)
    if not where.toggle(t("explore_mode"), key=f"{key}.explore"):
        return rule, False
    columns = where.columns(3)
    method = columns[0].selectbox(t("method"), VERDICT_METHODS, index=VERDICT_METHODS.index(rule.method),
                                  format_func=METHOD_NAMES.get, key=f"{key}.method")
    level = columns[1].selectbox(t("confidence"), LEVELS, format_func=lambda c: f"{c:.0%}", key=f"{key}.confidence",
                                 index=LEVELS.index(rule.confidence) if rule.confidence in LEVELS else 1)
    sided = columns[2].selectbox(t("sidedness_rule"), ("one", "two"), index=("one", "two").index(rule.sided),
                                 format_func=lambda s: t(f"sided_{s}"), key=f"{key}.sided")
    explored = VerdictRule(method, level, sided)
    where.warning(t("explore_banner", rule=explored.describe(lang())), icon="🔍")
    return explored, True

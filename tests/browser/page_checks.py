"""What the every-page walk looks for in a page's visible text, tables and charts (plain functions,
tested on their own in test_page_checks.py, so the walk's verdicts can be trusted).

- raw codes where words belong in the Chinese interface: identifier-like ASCII (``18_29``,
  ``60_plus``, ``district_id``, ``awareness_p_adj``, ``very_satisfied``), known machine words
  (``None``, ``nan``, ``wilson``, ``code``, ``True``), and lower-case English words ("Choose
  options", "Select 8 matches"); names, acronyms and codes people do read are allowed explicitly;
- labels that repeat within one table (same area and same row key) or one chart axis.
"""

from __future__ import annotations

import re
from collections import Counter

# Words that only a program writes.
MACHINE_WORDS = {
    "None", "none", "nan", "NaN", "NaT", "null", "True", "False", "true", "false", "wilson", "jeffreys",
    "clopper-pearson", "wald", "code", "id", "district_id", "community_id", "area_id", "response_id",
    "poststratification", "raking", "included", "excluded", "draft", "open", "closed", "self", "interview",
    "paper", "male", "female", "speeders", "straight_lining", "undecided", "not_met", "met",
}
# Machine words that are no English either: wrong in both interfaces.
PROGRAM_ONLY = {"none", "nan", "null", "wilson", "jeffreys", "wald", "poststratification"}
# ASCII a Chinese reader is meant to see: proper names, acronyms, file kinds, settings.
ALLOWED = {
    "Wilson", "Clopper", "Pearson", "Clopper–Pearson", "Jeffreys", "Wald", "Newcombe", "Fisher", "Benjamini",
    "Hochberg", "Benjamini–Hochberg", "Bayes", "CSV", "Excel", "HTML", "PDF", "PNG", "QR", "YAML", "XLSForm",
    "SPSS", "sav", "xlsx", "csv", "yaml", "yml", "html", "png", "UTF-8", "UTF", "BOM", "URL", "SURVEY_PUBLIC_URL",
    "SURVEY_IDLE_MINUTES", "SURVEY_DEMO", "DATABASE_URL", "SURVEY_SECRET_KEY", "English", "ID", "UUID", "n",
    "v", "p", "vs", "deff", "Browse", "files", "Drag", "and", "drop", "file", "here", "Limit", "MB", "per",
    "XLSX", "YML", "KB", "Deploy", "http", "https", "localhost", "s", "scipy", "statsmodels", "numpy", "pandas",
    "R", "survey", "svyciprop", "DEFF", "e.g", "i.e",
}
# Streamlit's own screen-reader text (its visually hidden skip link), not part of any page of ours.
STREAMLIT_OWN_TEXT = ("Skip to main content",)
# Identifier-like tokens: words with underscores, dotted names, codes starting with digits (18_29).
TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_\-]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*")


def raw_codes(text: str, chinese: bool = True, codes: set[str] = frozenset(), allowed: set[str] = frozenset()) -> list[str]:
    """Tokens of ``text`` that look like codes shown where words belong.

    ``codes``: the questionnaire's option and question codes (``very_satisfied``), always wrong in
    visible text.  In the English interface only identifier-like tokens and machine words count;
    in the Chinese one also any lower-case English word.
    """
    found = []
    text = re.sub(r"https?://\S+", " ", text)  # links carry their parameters (?community=…) by design
    for own in STREAMLIT_OWN_TEXT:
        text = text.replace(own, " ")
    for token in TOKEN.findall(text):
        if token in ALLOWED or token in allowed or token.isdigit():
            continue
        if re.fullmatch(r"[\d.,%+\-–]+", token):  # numbers, percentages, ranges
            continue
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}|\d{2}:\d{2}(:\d{2})?|\d{4}-R\d+", token):  # dates, times, round codes
            continue
        if re.fullmatch(r"[A-Z]{1,4}\d{2,8}", token):  # area codes (CD0101), question numbers (Q17)
            continue
        if not chinese and re.fullmatch(r"[a-z]+", token) and token not in PROGRAM_ONLY:
            continue  # in the English interface a plain lower-case word (met, community, online) is English
        if token in codes or token in MACHINE_WORDS:
            found.append(token)
        elif "_" in token or re.fullmatch(r"[a-z]+\.[a-z_.]+", token):
            found.append(token)
        elif chinese and re.fullmatch(r"[a-z]{2,}", token):
            found.append(token)
    return found


def repeated(labels) -> list[str]:
    """Labels that occur more than once (blank ones ignored), in first-seen order."""
    counts = Counter(label.strip() for label in labels if label and label.strip())
    return [label for label, count in counts.items() if count > 1]


# Columns that, with the area, say what a row is about; two rows alike in all of them (and in the
# area) are one area shown twice, i.e. two areas the reader cannot tell apart.
ROW_KEYS = {"指标", "题目", "年龄段", "性别", "调查员", "规则", "层级", "统计层级", "Indicator", "Question",
            "Age group", "Sex", "Interviewer", "Rule", "Level", "Area level", "问卷", "Response"}
AREA_COLUMNS = {"区域", "Area", "社区（村）", "Community"}


def repeated_rows(header: list[str], rows: list[list[str]]) -> list[str]:
    """Area labels shown twice for the same row key within one table."""
    area_columns = [i for i, name in enumerate(header) if name.strip() in AREA_COLUMNS]
    if not area_columns:
        return []
    key_columns = [i for i, name in enumerate(header) if name.strip() in ROW_KEYS]
    keys = [tuple(row[i] if i < len(row) else "" for i in area_columns + key_columns) for row in rows]
    counts = Counter(key for key in keys if any(part.strip() for part in key[:len(area_columns)]))
    return [" / ".join(key) for key, count in counts.items() if count > 1]

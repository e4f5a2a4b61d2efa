"""What residents write: frequent terms and phrases of their suggestions, and which themes (and so
which satisfaction items) the suggestions are about.

Pure functions over lists of texts.  Words are cut by jieba's dictionary and algorithm through
rjieba (jieba-rs, the same dictionary and the same segmentation without the HMM step, about twenty
times faster than the Python package on this machine; `tests/analysis/test_comments.py` checks the
two agree), with the campaign's own terms (`comment_words/campaign_terms.txt`) kept whole and
function words and stock phrases (`comment_words/stop_words.txt`) left out.  A term's count is the
number of comments that use it, not the number of times, so one long comment cannot dominate.
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from itertools import chain
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
import pandas as pd
import rjieba

from questionnaires.privacy import MASK_PATTERN
from questionnaires.comment_themes import CommentTheme

WORDS_DIR = Path(__file__).with_name("comment_words")
_CONTENT = re.compile(r"[\u4e00-\u9fffA-Za-z]")
_SEGMENTER_LOCK = threading.Lock()


def _word_list(name: str) -> list[str]:
    lines = (WORDS_DIR / name).read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


@lru_cache(maxsize=1)
def stop_words() -> frozenset[str]:
    return frozenset(_word_list("stop_words.txt"))


@lru_cache(maxsize=8)
def _segmenter(extra_terms: tuple[str, ...] = ()) -> rjieba.Jieba:
    segmenter = rjieba.Jieba()
    for term in (*_word_list("campaign_terms.txt"), *extra_terms):
        # A frequency above any ordinary word's keeps the term whole wherever it appears.
        segmenter.add_word(term, 100_000, None)
    return segmenter


def theme_terms(themes: Sequence[CommentTheme]) -> tuple[str, ...]:
    """The themes' keywords of two or more characters, to be kept whole by the segmentation."""
    return tuple(sorted({k for theme in themes for k in theme.keywords if len(k) >= 2}))


def terms_of(text: str, extra_terms: tuple[str, ...] = ()) -> list[str]:
    """The content words of one comment, in order: no punctuation, digits, single characters, stop
    words or privacy markers."""
    return list(_terms_of(text, extra_terms))


@lru_cache(maxsize=200_000)
def _terms_of(text: str, extra_terms: tuple[str, ...]) -> tuple[str, ...]:
    if not isinstance(text, str) or not text:
        return ()
    text = MASK_PATTERN.sub("。", text)
    segmenter = _segmenter(extra_terms)
    with _SEGMENTER_LOCK:  # one segmenter shared by the app's threads
        words = segmenter.cut(text, False)
    drop = stop_words()
    return tuple(w for w in words if len(w) >= 2 and w not in drop and _CONTENT.search(w))


def segment(texts: Iterable[str], extra_terms: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """`terms_of` for every text (the same text is cut once per process)."""
    return [_terms_of(text, extra_terms) for text in texts]


def _document_counts(token_lists: Sequence[Sequence[str]], groups: Sequence | None, pieces) -> pd.DataFrame:
    """(group, term) → how many comments of the group hold the term at least once."""
    members: dict = {}
    for index, group in enumerate([None] * len(token_lists) if groups is None else groups):
        members.setdefault(group, []).append(index)
    rows = []
    for group, indices in members.items():
        counts = Counter(chain.from_iterable(set(pieces(token_lists[i])) for i in indices))
        rows += [(group, term, count, count / len(indices)) for term, count in counts.items()]
    return pd.DataFrame(rows, columns=["group", "term", "comments", "share"]).astype(
        {"group": object, "comments": int, "share": float})


def _top(frame: pd.DataFrame, top: int, min_comments: int) -> pd.DataFrame:
    frame = frame[frame["comments"] >= min_comments]
    frame = frame.sort_values(["group", "comments", "term"], ascending=[True, False, True], na_position="first")
    frame = frame.groupby("group", dropna=False, sort=False).head(top)
    return frame.reset_index(drop=True)


def term_counts(token_lists: Sequence[Sequence[str]], groups: Sequence | None = None, top: int = 30,
                min_comments: int = 1) -> pd.DataFrame:
    """The most used terms: columns group (None without groups), term, comments (how many comments use
    the term), share (of the group's comments); at most ``top`` per group, most used first."""
    return _top(_document_counts(token_lists, groups, lambda tokens: tokens), top, min_comments)


def phrase_counts(token_lists: Sequence[Sequence[str]], groups: Sequence | None = None, top: int = 20,
                  min_comments: int = 2) -> pd.DataFrame:
    """Two content words that follow each other (停车 + 收费 → 停车收费), counted like `term_counts`;
    a phrase must occur in at least ``min_comments`` comments."""
    phrases = _top(_document_counts(token_lists, groups, lambda tokens: zip(tokens, tokens[1:])), top, min_comments)
    phrases["term"] = ["".join(pair) for pair in phrases["term"]]
    return phrases


def theme_matches(texts: Sequence[str], themes: Sequence[CommentTheme]) -> pd.DataFrame:
    """One boolean column per theme code: whether each text contains any of the theme's keywords."""
    series = pd.Series(list(texts), dtype=object).fillna("").astype(str)
    return pd.DataFrame({
        theme.code: series.str.contains("|".join(map(re.escape, theme.keywords)), regex=True).to_numpy()
        for theme in themes
    }, index=range(len(series)))


_REPRESENTATIVE_POOL = 2_000


def representative(texts: Sequence[str], token_lists: Sequence[Sequence[str]], k: int = 3) -> list[str]:
    """Up to ``k`` comments that say what most of ``texts`` say: each scored by how common its terms
    are among these texts, readable length preferred, no two alike."""
    if not len(texts):
        return []
    if len(texts) > _REPRESENTATIVE_POOL:
        # Evenly spaced texts stand for the rest: what is common in all of them is common in these.
        keep = np.linspace(0, len(texts) - 1, _REPRESENTATIVE_POOL).astype(int)
        texts, token_lists = [texts[i] for i in keep], [token_lists[i] for i in keep]
    frequency = Counter(t for tokens in token_lists for t in set(tokens))
    scored = []
    for text, tokens in zip(texts, token_lists):
        if not tokens:
            continue
        score = sum(frequency[t] for t in set(tokens)) / (len(set(tokens)) ** 0.5)
        length = len(text)
        if length < 8 or length > 120:
            score *= 0.5
        scored.append((score, text, frozenset(tokens)))
    scored.sort(key=lambda entry: (-entry[0], entry[1]))
    chosen: list[tuple[str, frozenset]] = []
    for _, text, tokens in scored:
        if all(len(tokens & other) < 0.6 * max(1, len(tokens)) for _, other in chosen):
            chosen.append((text, tokens))
        if len(chosen) == k:
            break
    return [text for text, _ in chosen]


def theme_summary(texts: Sequence[str], token_lists: Sequence[Sequence[str]], themes: Sequence[CommentTheme],
                  respondents: int | None = None, examples: int = 3) -> pd.DataFrame:
    """Per theme: code, item, comments that mention it, share of comments (and of ``respondents``
    when given), and a few representative comments; most mentioned first."""
    matches = theme_matches(texts, themes)
    rows = []
    for theme in themes:
        hit = np.flatnonzero(matches[theme.code].to_numpy()) if len(matches) else np.array([], dtype=int)
        rows.append({
            "theme": theme.code, "item": theme.item, "label_zh": theme.label_zh, "label_en": theme.label_en,
            "comments": int(len(hit)), "share": len(hit) / len(texts) if len(texts) else np.nan,
            "share_of_respondents": len(hit) / respondents if respondents else np.nan,
            "examples": representative([texts[i] for i in hit], [token_lists[i] for i in hit], examples),
        })
    frame = pd.DataFrame(rows, columns=["theme", "item", "label_zh", "label_en", "comments", "share",
                                        "share_of_respondents", "examples"])
    return frame.sort_values(["comments", "theme"], ascending=[False, True], kind="stable").reset_index(drop=True)


def filter_comments(comments: pd.DataFrame, *, search: str = "", area_level: str | None = None,
                    area_id: int | None = None, item: str | None = None, answers: Iterable[str] | None = None,
                    age_groups: Iterable[str] | None = None) -> pd.DataFrame:
    """The comments that contain ``search`` (any of its space-separated words), lie in the area
    ``area_id`` of ``area_level`` (district / street / community), whose respondent answered ``item``
    with one of ``answers``, and whose age group is one of ``age_groups``; empty filters keep all."""
    keep = pd.Series(True, index=comments.index)
    words = [w for w in str(search or "").split() if w]
    if words:
        keep &= comments["text"].astype(str).str.contains("|".join(map(re.escape, words)), regex=True)
    if area_level and area_id is not None:
        keep &= comments[f"{area_level}_id"] == area_id
    if item and answers is not None and item in comments.columns:
        keep &= comments[item].isin(list(answers))
    if age_groups:
        keep &= comments["age_group"].isin(list(age_groups))
    return comments[keep]


def item_mentions(comments: pd.DataFrame, themes: Sequence[CommentTheme], level: str,
                  examples: int = 2) -> pd.DataFrame:
    """For each area of ``level`` (city, district, street or community) and each satisfaction item a
    theme is tied to: how many suggestions of the area mention the theme, and a few representative
    ones.  Columns area_id (0 for the city), item, mentions, examples."""
    linked = [theme for theme in themes if theme.item]
    columns = ["area_id", "item", "mentions", "examples"]
    if comments.empty or not linked:
        return pd.DataFrame(columns=columns)
    matches = theme_matches(comments["text"].tolist(), linked)
    area_ids = np.zeros(len(comments), dtype=np.int64) if level == "city" else \
        comments[f"{level}_id"].to_numpy()
    texts = comments["text"].tolist()
    tokens = comments["terms"].tolist() if "terms" in comments else segment(texts)
    rows = []
    for theme in linked:
        hit = matches[theme.code].to_numpy()
        for area in pd.unique(area_ids[hit]):
            chosen = np.flatnonzero(hit & (area_ids == area))
            rows.append((int(area), theme.item, len(chosen),
                         representative([texts[i] for i in chosen], [tokens[i] for i in chosen], examples)))
    return pd.DataFrame(rows, columns=columns)

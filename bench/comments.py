"""How long the suggestions page's words take for a big round.

    python -m bench.comments                 # 100,000 suggestions
    python -m bench.comments --n 20000

Builds N distinct suggestions from the demo's residents' sentences (one to three sentences each, with
varying places and numbers, so no two are alike and the per-text cache cannot help), then times what
the page does on a new round version: cut every text into terms, count terms and phrases, match the
themes; and, as the comparison in the same run, the jieba package itself (HMM off, the same cut) on a
sample, scaled to N.  Prints one table; nothing is asserted.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from analysis.comments import phrase_counts, segment, term_counts, theme_summary, theme_terms
from data.demo_comments import COMMENTS_BY_ITEM
from questionnaires.comment_themes import load_comment_themes

PLACES = ["东门", "南湖", "新华", "幸福", "和平", "团结", "滨江", "高新", "城西", "北山"]


def suggestions(n: int, seed: int = 1) -> list[str]:
    rng = np.random.default_rng(seed)
    sentences = [text for bank in COMMENTS_BY_ITEM.values() for text in bank if len(text) > 4]
    out = []
    for index in range(n):
        parts = [sentences[i] for i in rng.choice(len(sentences), size=int(rng.integers(1, 4)), replace=False)]
        place = PLACES[int(rng.integers(len(PLACES)))]
        out.append(f"{place}社区{index % 97 + 1}号楼附近：" + "".join(parts))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    args = parser.parse_args()
    texts = suggestions(args.n)
    themes = load_comment_themes()
    extra = theme_terms(themes)
    rows = []

    started = time.perf_counter()
    tokens = segment(texts, extra)
    rows.append(("cut into terms (rjieba, new round version)", time.perf_counter() - started))
    started = time.perf_counter()
    term_counts(tokens, top=40)
    phrase_counts(tokens, top=15)
    rows.append(("count terms and phrases", time.perf_counter() - started))
    started = time.perf_counter()
    theme_summary(texts, tokens, themes)
    rows.append(("match themes, pick examples", time.perf_counter() - started))
    started = time.perf_counter()
    segment(texts, extra)
    rows.append(("cut again (same texts, per-text cache)", time.perf_counter() - started))

    import jieba  # the reference: the Python package, same dictionary, HMM off

    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    sample = texts[: min(5_000, len(texts))]
    started = time.perf_counter()
    for text in sample:
        tokenizer.lcut(text, HMM=False)
    jieba_seconds = (time.perf_counter() - started) * len(texts) / len(sample)

    characters = sum(map(len, texts))
    print(f"{len(texts):,} suggestions, {characters:,} characters ({characters / len(texts):.0f} a suggestion)")
    print(f"{'step':<46}{'seconds':>10}")
    for label, seconds in rows:
        print(f"{label:<46}{seconds:>10.2f}")
    first = sum(seconds for _, seconds in rows[:3])
    print(f"{'page on a new round version (first three)':<46}{first:>10.2f}")
    print(f"{'jieba package, cut only (from a 5,000 sample)':<46}{jieba_seconds:>10.2f}"
          f"   ({jieba_seconds / rows[0][1]:.0f}x the rjieba cut)")


if __name__ == "__main__":
    main()

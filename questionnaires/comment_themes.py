"""Themes of residents' suggestions: keyword sets, some tied to a satisfaction item, kept as data in
`themes/comment_themes.yaml` so a campaign office can change them without touching code."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

THEMES_PATH = Path(__file__).with_name("themes") / "comment_themes.yaml"


@dataclass(frozen=True)
class CommentTheme:
    code: str
    label_zh: str
    label_en: str
    keywords: tuple[str, ...]
    item: str | None = None  # the satisfaction question's code, when the theme belongs to one

    def label(self, lang: str = "zh") -> str:
        return self.label_en if lang == "en" and self.label_en else self.label_zh


def load_comment_themes(path: Path | str = THEMES_PATH) -> tuple[CommentTheme, ...]:
    """The themes in a themes file; a malformed file raises ValueError naming the theme and field."""
    document = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    entries = document.get("themes") if isinstance(document, dict) else None
    if not isinstance(entries, list):
        raise ValueError(f"{path}: 需要 themes 列表 / a list under 'themes' is required")
    themes, seen = [], set()
    for number, entry in enumerate(entries, 1):
        where = f"{path}: theme {number}"
        if not isinstance(entry, dict) or not isinstance(entry.get("code"), str) or not entry["code"]:
            raise ValueError(f"{where}: code 必填 / code is required")
        if entry["code"] in seen:
            raise ValueError(f"{where}: code {entry['code']} 重复 / code {entry['code']} repeats")
        seen.add(entry["code"])
        label = entry.get("label")
        keywords = entry.get("keywords")
        if not isinstance(label, dict) or not isinstance(label.get("zh"), str) or not label["zh"]:
            raise ValueError(f"{where}: label.zh 必填 / label.zh is required")
        if not isinstance(keywords, list) or not keywords or not all(isinstance(k, str) and k for k in keywords):
            raise ValueError(f"{where}: keywords 需为非空的词语列表 / keywords must be a non-empty list of words")
        item = entry.get("item")
        themes.append(CommentTheme(entry["code"], label["zh"], str(label.get("en") or ""), tuple(keywords),
                                   item if isinstance(item, str) and item else None))
    return tuple(themes)

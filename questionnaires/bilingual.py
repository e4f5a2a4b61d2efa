"""One language's part of a bilingual "中文 / English" message.

The storage and import checks word their refusals in both languages, "中文 / English", so that a log,
the command line and a test read them whole; a page shows only the user's language (through
``ui.i18n.in_language``).  The split is not simply the first " / ": a Chinese half may hold one
itself ("YAML（.yaml / .yml）"), a few messages write "）/ " without the space, and an English half
may repeat a Chinese name ("outside your data scope (CD): 和平社区").
"""

from __future__ import annotations

import re

# " / ", or "/ " right after a Chinese character or full-width punctuation ("…Excel）/ cannot …").
_SEPARATOR = re.compile(r" / |(?<=[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef])/ ")
_CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")


def split_bilingual(message: str) -> tuple[str, str] | None:
    """(Chinese, English) halves of a bilingual message, or None if it is not one.

    The separator is the first one with Chinese before it and no Chinese after it; failing that
    (an English half naming Chinese places), the first with Chinese before it and an English word
    right after it."""
    candidates = [m for m in _SEPARATOR.finditer(message) if _CJK.search(message, 0, m.start())]
    for match in candidates:
        if not _CJK.search(message, match.end()):
            return message[: match.start()].rstrip(), message[match.end():].lstrip()
    for match in candidates:
        if re.match(r"[A-Za-z]", message[match.end():]):
            return message[: match.start()].rstrip(), message[match.end():].lstrip()
    return None


def message_in(message: str, lang: str) -> str:
    """The part of a bilingual "中文 / English" message for one language (the whole message if it has no
    such split).  A file name in front ("x.yaml: ...") is kept on both parts; several messages joined
    with "；" (a table cell of problems) are each split."""
    if _several(message):
        return ("; " if lang == "en" else "；").join(message_in(part, lang) for part in message.split("；"))
    halves = split_bilingual(message)
    if halves is None:
        return message
    zh, en = halves
    if lang != "en":
        return zh
    prefix, sep, _ = zh.partition(": ")
    if sep and not en.startswith(prefix + ": ") and " " not in prefix.strip():
        return f"{prefix}: {en}"
    return en


def _several(message: str) -> bool:
    """Whether "；" joins several bilingual messages (each part split on its own) rather than sitting
    inside one message's Chinese half."""
    parts = message.split("；")
    return len(parts) > 1 and all(split_bilingual(part) is not None for part in parts)

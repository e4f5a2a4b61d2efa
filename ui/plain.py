"""Text typed by people, shown as text: Markdown in an exclusion reason, a round or area name or an
error quoting a file's cell must not become an image that every reader's browser fetches, a link or
formatting."""

from __future__ import annotations

_MARKDOWN = set("\\`*_{}[]()<>#+-.!|$~:")


def plain(text: object) -> str:
    """``text`` with every Markdown character escaped, for st.markdown / caption / error / …"""
    return "".join("\\" + c if c in _MARKDOWN else c for c in str(text))

"""Survey links, QR codes and printable poster sheets (plain functions, no Streamlit)."""

from __future__ import annotations

import base64
import html
import io
import os
from urllib.parse import urlencode

import qrcode
from qrcode.constants import ERROR_CORRECT_M


def public_base_url() -> str:
    """Where citizens reach the app: SURVEY_PUBLIC_URL (e.g. https://wenming.example.gov.cn)."""
    return os.environ.get("SURVEY_PUBLIC_URL", "http://localhost:8501").rstrip("/")


def public_url_is_set() -> bool:
    """False while links would point at the development default, which no citizen can reach."""
    return bool(os.environ.get("SURVEY_PUBLIC_URL", "").strip())


def survey_link(base_url: str, community_code: str, round_code: str | None = None, token: str | None = None) -> str:
    params = {"community": community_code}
    if round_code:
        params["round"] = round_code
    if token:
        params["token"] = token
    # The light questionnaire (citizen_web, served by serve.py): a few kB of HTML on a cheap phone
    # instead of the Streamlit page's megabyte; the parameters are the same (the Streamlit page at
    # the root, ``/?community=…``, still takes them, for interviewers' tablets).
    return f"{base_url.rstrip('/')}/q?{urlencode(params)}"


def qr_png(text: str, box_size: int = 8) -> bytes:
    # Medium error correction survives a poster that is a little dirty or creased.
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, box_size=box_size, border=2)
    code.add_data(text)
    code.make(fit=True)
    buffer = io.BytesIO()
    code.make_image(fill_color="black", back_color="white").save(buffer, format="PNG")
    return buffer.getvalue()


def poster_sheet_html(posters: list[dict], title: str, per_page: int = 4) -> str:
    """A self-contained HTML page of posters (title, area name, QR code, link) to print from any
    browser; each poster dict has ``heading``, ``subheading``, ``link`` and optionally ``note``."""
    cards = []
    for index, poster in enumerate(posters):
        image = base64.b64encode(qr_png(poster["link"])).decode()
        page_break = ' style="break-after: page"' if (index + 1) % per_page == 0 else ""
        cards.append(
            f'<div class="card"{page_break}><h2>{html.escape(poster["heading"])}</h2>'
            f'<p class="sub">{html.escape(poster["subheading"])}</p>'
            f'<img src="data:image/png;base64,{image}" alt="QR">'
            f'<p class="note">{html.escape(poster.get("note", ""))}</p>'
            f'<p class="link">{html.escape(poster["link"])}</p></div>'
        )
    return f"""<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>
body {{ font-family: "Noto Sans CJK SC", "Microsoft YaHei", sans-serif; margin: 0; }}
.sheet {{ display: grid; grid-template-columns: 1fr 1fr; gap: 8mm; padding: 8mm; }}
.card {{ border: 2px solid #b71c1c; border-radius: 4mm; padding: 6mm; text-align: center; }}
.card h2 {{ color: #b71c1c; margin: 0 0 2mm; font-size: 16pt; }}
.card img {{ width: 55mm; height: 55mm; }}
.sub {{ font-size: 13pt; margin: 0; }} .note {{ font-size: 11pt; }} .link {{ font-size: 7pt; color: #555; word-break: break-all; }}
@media print {{ .sheet {{ padding: 0; }} }}
</style></head><body><div class="sheet">{''.join(cards)}</div></body></html>"""

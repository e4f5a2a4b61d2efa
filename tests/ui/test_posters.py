"""Citizens' links and QR codes point at the light page (/q) with the Streamlit page's parameters."""

from urllib.parse import parse_qs, urlsplit

from ui.posters import poster_sheet_html, survey_link


def test_links_open_the_light_page_with_community_round_and_token():
    link = survey_link("https://wenming.example.gov.cn/", "CD0101", "2026-R2", "tok-1")
    parts = urlsplit(link)
    assert (parts.scheme, parts.netloc, parts.path) == ("https", "wenming.example.gov.cn", "/q")
    assert parse_qs(parts.query) == {"community": ["CD0101"], "round": ["2026-R2"], "token": ["tok-1"]}
    assert survey_link("http://localhost:8501", "CD0101") == "http://localhost:8501/q?community=CD0101"


def test_posters_carry_the_light_link():
    link = survey_link("http://localhost:8501", "CD0101", "2026-R2")
    sheet = poster_sheet_html([{"heading": "扫码填写", "subheading": "幸福社区", "link": link}], "海报")
    assert "http://localhost:8501/q?community=CD0101&amp;round=2026-R2" in sheet

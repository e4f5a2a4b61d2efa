"""Small things done in the citizen's browser itself: scrolling, and the "answered here" marker.

Streamlit keeps the page's scroll position across reruns, so a step drawn after 下一步 would open
where the old one ended.  A tiny script, sent in a hidden component whose text changes with every
move (so the browser runs it again), scrolls the page back to the top or to a question.

The marker is a cookie named after the round, holding "1" and nothing else: set in the browser
once a response is stored, read from the request that opens a session (``st.context.cookies``), so
that after a refresh the phone says it has already answered instead of showing a blank form.  It
identifies nobody: it is not stored on the server, and it is not a guarantee of one answer per
person either (a private tab has no cookie); rounds that need that use invitation codes.
"""

from __future__ import annotations

import json

import streamlit as st

from ui.answered_marker import MARKER_DAYS, cookie_name, is_marked

HIDDEN_CSS = '<style>[class*="st-key-phone_script_"] { display: none; }</style>'


def _run_in_browser(script: str, key: str) -> None:
    """Run the script in the page (a hidden, same-origin iframe reaching its parent)."""
    st.html(HIDDEN_CSS)
    with st.container(key=f"phone_script_{key}"):
        st.iframe(f"<script>{script}</script>", height=1)


def scroll_to(move: int, target: str | None = None) -> None:
    """Scroll the page to its top (or to the element with the Streamlit key ``target``) once per move.

    Streamlit redraws the component only when its text changes, so ``move`` must differ from the
    previous call's for the script to run again."""
    selector = json.dumps(f".st-key-{target}" if target else "")
    _run_in_browser(
        f"""/* move {move} */
        const doc = window.parent.document;
        const scroll = () => {{
            const target = {selector} && doc.querySelector({selector});
            if (target) {{ target.scrollIntoView({{block: "center"}}); return; }}
            const main = doc.querySelector('[data-testid="stMain"]');
            if (main) main.scrollTo(0, 0);
            window.parent.scrollTo(0, 0);
        }};
        scroll();
        setTimeout(scroll, 150);  // again once the rest of the step is drawn
        """,
        key="scroll",
    )


def answered_on_this_phone(round_code: str) -> bool:
    try:
        cookies = st.context.cookies
    except Exception:  # no browser behind this session (AppTest, scripts)
        return False
    return is_marked(cookies, round_code)


def remember_answered(round_code: str) -> None:
    name = cookie_name(round_code)
    _run_in_browser(
        f"window.parent.document.cookie = '{name}=1; Max-Age={MARKER_DAYS * 86400}; Path=/; SameSite=Lax';",
        key="marker",
    )

"""The questionnaire's state between steps, carried by the citizen's own form and signed.

Each step is a plain form POST; the server keeps nothing between steps.  The earlier steps' answers,
the response id (made when the questionnaire opens: a double tap or a resubmit stores it once,
data.submissions), the start time, the round and the community travel in one hidden field:
base64url(JSON) "." HMAC-SHA256 of it with the server's secret (``data.accounts.keyed_hash``, the key
of SURVEY_SECRET_KEY or data/secret.key).  A changed answer, start time or id breaks the signature.
"""

from __future__ import annotations

import base64
import hmac
import json
from dataclasses import dataclass, field
from datetime import datetime

from data.accounts import keyed_hash
from data.responses import is_response_id

PURPOSE = "citizen-state|"  # so that no other keyed hash of the app can pass for a state
MAX_STATE_CHARS = 400_000  # far above a real questionnaire's answers, and bounded
MAX_STEP = 1000


@dataclass
class FormState:
    round_code: str
    community_id: int
    response_id: str
    started_at: datetime
    step: int = 0
    answers: dict = field(default_factory=dict)
    token: str | None = None


def sign(state: FormState) -> str:
    document = {"r": state.round_code, "c": state.community_id, "id": state.response_id,
                "t": state.started_at.isoformat(timespec="seconds"), "s": state.step, "a": state.answers,
                "k": state.token}
    body = base64.urlsafe_b64encode(json.dumps(document, ensure_ascii=False, separators=(",", ":"))
                                    .encode()).decode().rstrip("=")
    return f"{body}.{keyed_hash(PURPOSE + body)}"


def _answer(value) -> bool:
    return isinstance(value, str) or (isinstance(value, list) and all(isinstance(v, str) for v in value))


def verify(signed: object) -> FormState | None:
    """The state, or None when it is missing, forged, changed or malformed."""
    if not isinstance(signed, str) or len(signed) > MAX_STATE_CHARS or "." not in signed:
        return None
    body, mac = signed.rsplit(".", 1)
    if not hmac.compare_digest(mac.encode(), keyed_hash(PURPOSE + body).encode()):
        return None
    try:
        document = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        state = FormState(
            round_code=document["r"], community_id=document["c"], response_id=document["id"],
            started_at=datetime.fromisoformat(document["t"]), step=document["s"], answers=document["a"],
            token=document["k"],
        )
    except (ValueError, KeyError, TypeError):
        return None
    well_formed = (
        isinstance(state.round_code, str) and type(state.community_id) is int and is_response_id(state.response_id)
        and type(state.step) is int and 0 <= state.step <= MAX_STEP and isinstance(state.answers, dict)
        and all(isinstance(k, str) and _answer(v) for k, v in state.answers.items())
        and (state.token is None or isinstance(state.token, str))
    )
    return state if well_formed else None

"""The two HTTP routes that move a staff login into an HttpOnly cookie and out of it again.

Streamlit talks to the browser over a websocket, which cannot set cookies, and a cookie written by
a script in the page cannot be HttpOnly.  So after a login the page shows an invisible image at
``/api/staff-session?code=…`` (ui.auth.cookie_bridge); this route exchanges the one-time code for a
fresh session token and answers with the cookie (HttpOnly, SameSite=Strict, Secure over https).
The next websocket (a refresh, a new tab) carries the cookie, and ui.auth reads it from
``st.context.cookies``.  The routes are served by ``streamlit run serve.py`` (serve.py).
"""

from __future__ import annotations

import base64
from functools import lru_cache

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from data import accounts
from data.db import database_url, make_engine, write_session

SESSION_COOKIE = "survey_staff"  # the same names as in ui.auth (which imports Streamlit; this does not)
DEVICE_COOKIE = "survey_device"
PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")  # 1×1 transparent GIF


@lru_cache(maxsize=4)
def _engine(url: str):
    return make_engine(url)  # the app has created and upgraded the database before any login


def _same_origin(request: Request) -> bool:
    # Browsers say where a request comes from; a page of another site must not log anyone in or out.
    return request.headers.get("sec-fetch-site", "same-origin") in ("same-origin", "none")


def _secure(request: Request) -> bool:
    return request.url.scheme == "https" or request.headers.get("x-forwarded-proto", "") == "https"


def _image() -> Response:
    return Response(PIXEL, media_type="image/gif", headers={"Cache-Control": "no-store"})


def claim(request: Request) -> Response:
    """A plain (sync) endpoint: Starlette runs it in a worker thread, off the event loop."""
    if not _same_origin(request):
        return Response(status_code=403)
    with write_session(_engine(database_url())) as session:
        claimed = accounts.claim_handoff(session, request.query_params.get("code", ""))
    if claimed is None:
        return Response(status_code=404, headers={"Cache-Control": "no-store"})
    token, user_id = claimed
    response = _image()
    secure = _secure(request)
    # No Max-Age: the cookie ends with the browser; the server ends the session sooner (idle limit,
    # accounts.SESSION_LIFETIME, logout, revocation).
    response.set_cookie(SESSION_COOKIE, token, path="/", httponly=True, samesite="strict", secure=secure)
    response.set_cookie(DEVICE_COOKIE, accounts.device_cookie(user_id), max_age=accounts.DEVICE_DAYS * 86400,
                        path="/", httponly=True, samesite="strict", secure=secure)
    return response


def end(request: Request) -> Response:
    if not _same_origin(request):
        return Response(status_code=403)
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        with write_session(_engine(database_url())) as session:
            accounts.end_session(session, token=token)
    response = _image()
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict", secure=_secure(request))
    return response


ROUTES = [Route("/api/staff-session", claim), Route("/api/staff-session/end", end)]

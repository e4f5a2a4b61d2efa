"""The server: the Streamlit app (survey_app.py), the HTTP routes that keep staff logged in
across a refresh and a new tab with an HttpOnly cookie (ui/session_routes.py), and the light citizen
questionnaire at /q, plain HTML for phones (citizen_web/).

    streamlit run serve.py

``streamlit run survey_app.py`` also works, without those routes: staff then log in again after a
refresh, and /q is not served.
"""

import streamlit as st

from citizen_web.routes import ROUTES as CITIZEN_ROUTES
from ui.session_routes import ROUTES as SESSION_ROUTES
from ui.warm_up import lifespan

ROUTES = [*SESSION_ROUTES, *CITIZEN_ROUTES]
# lifespan: the heavy imports of the staff pages start with the server (ui/warm_up.py).
app = st.App("survey_app.py", routes=ROUTES, lifespan=lifespan)

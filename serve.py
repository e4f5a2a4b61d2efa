"""The server: the Streamlit app (survey_app.py) and the HTTP routes that keep staff logged in
across a refresh and a new tab with an HttpOnly cookie (ui/session_routes.py).

    streamlit run serve.py

``streamlit run survey_app.py`` also works, without those routes: staff then log in again after a
refresh.
"""

import streamlit as st

from ui.session_routes import ROUTES
from ui.warm_up import lifespan

# lifespan: the heavy imports of the staff pages start with the server (ui/warm_up.py).
app = st.App("survey_app.py", routes=ROUTES, lifespan=lifespan)

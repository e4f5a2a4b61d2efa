"""Streamlit building blocks shared by the pages: texts, the database handle, small components."""

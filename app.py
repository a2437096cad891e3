"""Loupe's Streamlit entry point: page config and navigation, nothing else."""

import streamlit as st

st.set_page_config(page_title="Loupe", page_icon=":material/search:", layout="wide")

PAGES = [
    st.Page("ui/pages/home.py", title="Loupe", icon=":material/home:", url_path="home", default=True),
    st.Page("ui/pages/microscope.py", title="Microscope", icon=":material/biotech:", url_path="microscope"),
    st.Page("ui/pages/privacy.py", title="Privacy", icon=":material/shield:", url_path="privacy"),
    st.Page("ui/pages/fairness.py", title="Fairness", icon=":material/balance:", url_path="fairness"),
    st.Page("ui/pages/explain.py", title="Explain", icon=":material/psychology:", url_path="explain"),
    st.Page("ui/pages/card.py", title="Model card", icon=":material/description:", url_path="card"),
    st.Page("ui/pages/models.py", title="Models", icon=":material/deployed_code:", url_path="models"),
]

st.navigation(PAGES).run()

"""Loupe's Streamlit entry point: page config and navigation, nothing else."""

import streamlit as st

from ui.access import show_access_panel

# An emoji favicon is drawn by the browser (a data: URL); a ":material/...:" page_icon would be
# fetched from fonts.gstatic.com. The pages' Material icons come from Streamlit's bundled font.
st.set_page_config(page_title="Loupe", page_icon="🔍", layout="wide")

PAGES = [
    st.Page("ui/pages/home.py", title="Loupe", icon=":material/home:", url_path="home", default=True),
    st.Page("ui/pages/microscope.py", title="Microscope", icon=":material/biotech:", url_path="microscope"),
    st.Page("ui/pages/privacy.py", title="Privacy", icon=":material/shield:", url_path="privacy"),
    st.Page("ui/pages/fairness.py", title="Fairness", icon=":material/balance:", url_path="fairness"),
    st.Page("ui/pages/explain.py", title="Explain", icon=":material/psychology:", url_path="explain"),
    st.Page("ui/pages/whatif.py", title="What-If", icon=":material/tune:", url_path="whatif"),
    st.Page("ui/pages/card.py", title="Model card", icon=":material/description:", url_path="card"),
    st.Page("ui/pages/models.py", title="Models", icon=":material/deployed_code:", url_path="models"),
]

page = st.navigation(PAGES)
show_access_panel()  # who may change things (ui/access.py), in the sidebar of every page
page.run()

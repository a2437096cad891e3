"""/card: placeholder until this page is built; it shows what is coming, never fake results."""

import streamlit as st

st.title("Model card")
st.info("This page is being built: model cards in the Model Card Toolkit schema. Nothing here yet.")

"""/fairness: placeholder until this page is built; it shows what is coming, never fake results."""

import streamlit as st

st.title("Fairness slices")
st.info("This page is being built: disaggregated metrics with confidence intervals. Nothing here yet.")

"""/microscope: placeholder until this page is built; it shows what is coming, never fake results."""

import streamlit as st

st.title("Microscope")
st.info("This page is being built: feature visualizations, dataset examples and activation statistics for every unit. Nothing here yet.")

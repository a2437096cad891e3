"""/privacy: placeholder until this page is built; it shows what is coming, never fake results."""

import streamlit as st

st.title("Privacy audits")
st.info("This page is being built: membership-inference audits with tensorflow-privacy. Nothing here yet.")

"""The landing page: what Loupe does, and the registered models."""

import streamlit as st

from ui.access import READ_ONLY, can_write, sign_in_hint
from ui.shared import list_models

st.title("Loupe")
st.caption("Interpretability and responsible-AI analysis for your own TensorFlow/Keras models.")
if not can_write():
    st.info(f"{READ_ONLY} {sign_in_hint()}", icon=":material/lock:")

columns = st.columns(4)
JOBS = [
    (
        "Microscope",
        "ui/pages/microscope.py",
        "Every unit of every layer at a stable URL: feature visualizations, "
        "strongest dataset examples and activation statistics.",
    ),
    (
        "Privacy",
        "ui/pages/privacy.py",
        "Membership-inference audits (tensorflow-privacy), sliced by class and feature.",
    ),
    (
        "Fairness",
        "ui/pages/fairness.py",
        "Disaggregated metrics across groups and intersections, with confidence intervals.",
    ),
    ("Model card", "ui/pages/card.py", "Model cards in the Model Card Toolkit schema, citing the stored audits."),
]
for column, (title, page, text) in zip(columns, JOBS, strict=True):
    with column.container(border=True):
        st.subheader(title)
        st.write(text)
        st.page_link(page, label=f"Open {title}", icon=":material/arrow_forward:")

st.header("Registered models")
models = list_models()
if not models:
    st.info("No models yet: `make run` builds the demo models, or add your own on the Models page.")
for record in models:
    summary = record.current.summary
    st.page_link(
        "ui/pages/models.py",
        label=f"{record.model_id} — {summary.format.value}, input {list(summary.input_shape)}, "
        f"{len(summary.layers)} layers with units, revision {record.current.short}",
        query_params={"model": record.model_id},
    )

"""/models: the registered models, their layers, revisions and datasets; add a model."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pandas as pd
import streamlit as st

from analysis.datasets import DatasetRole
from analysis.errors import AnalysisInputError
from analysis.models.registry import RegisterModelSpec
from analysis.paths import loupe_home
from ui.shared import get_registry, user_errors

st.title("Models")
registry = get_registry()
ids = registry.ids()
wanted = st.query_params.get("model")
if wanted is not None and wanted not in ids:
    with user_errors():
        registry.get(wanted)

if ids:
    chosen = st.selectbox("Model", ids, index=ids.index(wanted) if wanted in ids else 0)
    if chosen != wanted:
        st.query_params["model"] = chosen
    record = registry.get(chosen)
    summary = record.current.summary
    st.subheader(f"{record.model_id} · revision {record.current.short}")
    left, middle, right = st.columns(3)
    left.metric("Format", summary.format.value)
    middle.metric("Parameters", f"{summary.parameter_count:,}")
    right.metric("Output", f"{summary.output_kind} {list(summary.output_shape)}")
    st.write(
        f"Input {list(summary.input_shape)}, values in [{summary.input_range[0]:g}, {summary.input_range[1]:g}] "
        f"({summary.input_range_source})."
    )
    for note in summary.notes:
        st.info(note)
    st.markdown("**Layers with units** (each links to its Microscope page)")
    for layer in summary.layers:
        st.page_link(
            "ui/pages/microscope.py",
            label=f"{layer.name} — {layer.kind}, output {list(layer.output_shape)}, {layer.units} units",
            query_params={"model": record.model_id, "layer": layer.name},
        )
    st.markdown("**Linked datasets**")
    st.dataframe(
        pd.DataFrame([{**d.to_dict(), "sha256": d.sha256[:12]} for d in record.datasets]) if record.datasets else None,
        hide_index=True,
    )
    st.markdown("**Revisions** (newest first; pin one with `rev=<prefix>` in any link)")
    st.dataframe(
        pd.DataFrame(
            [{"revision": r.short, "registered_at": r.registered_at, "path": r.path} for r in record.revisions]
        ),
        hide_index=True,
    )
else:
    st.info("No models registered yet. `make run` builds the demo models; or add one below.")

st.header("Add a model")
with st.form("add-model"):
    model_id = st.text_input("Id (a short slug, e.g. my-cnn)")
    path = st.text_input("Path on the server to a .keras, .h5 or SavedModel folder")
    upload = st.file_uploader("…or upload a .keras or .h5 file", type=["keras", "h5"])
    data_path = st.text_input("Optional: path to a dataset .npz (x, y, split, feature_names, meta_<column>)")
    trust = st.checkbox("Trust model code (allow Lambda layers and custom objects)")
    submitted = st.form_submit_button("Register")
if submitted:
    with user_errors():
        if upload is not None:
            uploads = loupe_home() / "uploads"
            uploads.mkdir(exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=uploads, suffix=Path(upload.name).suffix, delete=False) as handle:
                handle.write(upload.getbuffer())
            source = Path(handle.name)
        elif path.strip():
            source = Path(path.strip())
        else:
            raise AnalysisInputError("give a model path on the server or upload a .keras or .h5 file")
        datasets = {DatasetRole.DATA: Path(data_path.strip())} if data_path.strip() else {}
        with st.spinner("Loading and inspecting the model…"):
            added = registry.register(
                RegisterModelSpec(path=source, model_id=model_id.strip(), datasets=datasets, trust_model_code=trust)
            )
        st.success(f"Registered {added.model_id} at revision {added.current.short}.")
        st.query_params["model"] = added.model_id

"""/models: the registered models, their layers, revisions and datasets; writers add models."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

from analysis.models.summary import units_text
from ui.access import READ_ONLY, can_write, sign_in_hint
from ui.dataset_preview import show_bring_your_own, show_first_examples
from ui.model_form import add_model_form, confirm_replacement
from ui.shared import get_registry, user_errors

st.title("Models")
show_bring_your_own()
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
            label=f"{layer.name} — {layer.kind}, output {list(layer.output_shape)}, {units_text(layer.units)}",
            query_params={"model": record.model_id, "layer": layer.name},
        )
    st.markdown("**Linked datasets** (what Loupe sees: the first examples after conversion)")
    for dataset in record.datasets:
        show_first_examples(dataset, summary)
    if not record.datasets:
        st.caption("No data set linked: dataset examples, privacy and fairness need one (see above).")
    st.markdown("**Revisions** (newest first; pin one with `rev=<prefix>` in any link)")
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "Revision": r.short,
                    "Registered": r.registered_at,
                    "File": Path(r.path).name,
                    "Code trusted by the operator": "yes" if r.trusted else "no",
                }
                for r in record.revisions
            ]
        ),
        hide_index=True,
    )
else:
    st.info("No models registered yet. `make run` builds the demo models; a writer can add one below.")

st.header("Add a model")
if not can_write():
    st.info(f"{READ_ONLY} {sign_in_hint()}", icon=":material/lock:")
    st.stop()
confirm_replacement(registry)
add_model_form(registry)

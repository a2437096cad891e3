"""A unit's dataset examples, activation histogram and JSON download on its Microscope page."""

from __future__ import annotations

import json

import numpy as np
import streamlit as st

from analysis.datasets import DatasetRole, load_npz
from analysis.microscope.dataset_examples import (
    DatasetExamplesResult,
    DatasetExamplesSpec,
    compute_dataset_examples,
    load_cached_dataset_examples,
)
from analysis.microscope.unit_links import UnitLink
from ui.access import can_write
from ui.admission import admitted
from ui.explain_panels import show_unit_attributions
from ui.shared import user_errors
from visualizers.microscope import overlay_heatmap, plot_activation_histogram, to_display_image


@st.cache_resource(max_entries=4)
def _dataset_inputs(path: str, sha256: str) -> np.ndarray:
    """A linked data set's ``x``, loaded once per server (keyed by content hash)."""
    return load_npz(path)["x"]


def _layer_examples(link: UnitLink) -> DatasetExamplesResult | None:
    spec = DatasetExamplesSpec(model_id=link.model.model_id, layer=link.layer.name, revision=link.revision.revision)
    with user_errors():
        cached = load_cached_dataset_examples(spec)
        if cached is not None:
            return cached
        if not can_write():
            st.info("This layer's dataset examples are not computed yet: a writer's visit computes them.")
            return None
        bar = st.progress(0.0, text="Computing this layer's dataset examples (one pass, cached for every unit)…")
        with admitted("examples", f"dataset examples of {spec.model_id}/{spec.layer}"):
            result = compute_dataset_examples(spec, progress=lambda f, m: bar.progress(min(f, 1.0), text=m))
        bar.empty()
        return result


def show_unit_examples(link: UnitLink) -> DatasetExamplesResult | None:
    """Top and bottom examples by channel mean, with heat overlays, and the activation histogram."""
    dataset = link.model.dataset(DatasetRole.DATA)
    if dataset is None:
        st.info(
            "No dataset is linked to this model. Link one with "
            f"`python -m analysis models add MODEL --id {link.model.model_id} --data DATA.npz`."
        )
        return None
    result = _layer_examples(link)
    if result is None:
        return None
    unit = result.unit(link.unit)
    st.caption(f"{result.n_examples:,} examples of {dataset.path.split('/')[-1]}; ranked by the unit's channel mean.")
    image_input = len(link.revision.summary.input_shape) == 3
    x = _dataset_inputs(result.dataset_path, result.dataset_sha256) if image_input else None
    for title, ranked, maps in (("Strongest", unit.top_mean, unit.top_mean_maps), ("Weakest", unit.bottom_mean, None)):
        st.markdown(f"**{title}**")
        if x is None:
            st.dataframe([{"example": i, "activation": v} for i, v in ranked], hide_index=True)
            continue
        columns = st.columns(min(len(ranked), 5))
        for position, (index, value) in enumerate(ranked[:5]):
            image = to_display_image(x[index], link.revision.summary.input_range)
            if maps is not None and maps.shape[-1] > 0:
                image = overlay_heatmap(image, maps[position])
            columns[position].image(image, caption=f"#{index}: {value:.3g}", width="stretch")
    if x is not None:
        st.caption("Red tint: where the unit fired in each strongest example (scaled per example).")
    st.plotly_chart(plot_activation_histogram(unit), width="stretch")
    payload = {
        "model": link.model.model_id,
        "revision": link.revision.revision,
        "layer": link.layer.name,
        "dataset": {"file": result.dataset_path.rsplit("/", 1)[-1], "sha256": result.dataset_sha256},
        **unit.to_dict(),
    }
    st.download_button(
        "Download unit data (JSON)",
        json.dumps(payload, indent=2),
        file_name=f"{link.model.model_id}-{link.layer.name}-{link.unit}.json",
        mime="application/json",
    )
    show_unit_attributions(link, result)
    return result

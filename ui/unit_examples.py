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
from ui.unit_page_cached import statistic_words, ties_sentence
from visualizers.microscope import overlay_heatmap, plot_activation_histogram, to_display_image

SHOWN = 5  # examples per row


@st.cache_resource(max_entries=4)
def dataset_inputs(path: str, sha256: str) -> np.ndarray:
    """A linked data set's ``x``, loaded once per server (keyed by content hash)."""
    return load_npz(path)["x"]


@st.cache_data(max_entries=16)
def _feature_medians(path: str, sha256: str) -> np.ndarray:
    """Each feature's median over the data set ``[features]`` (the "typical" column of a tabular unit)."""
    return np.median(dataset_inputs(path, sha256), axis=0)


def feature_table(x: np.ndarray, features: tuple[str, ...], medians: np.ndarray, ranked) -> object:
    """Rows of features: the data set's median, then each example's value (column: example and activation)."""
    import pandas as pd

    names = list(features) or [f"feature {i}" for i in range(x.shape[1])]
    columns = {"typical (median)": medians}
    for index, value in ranked:
        columns[f"#{index} ({value:.3g})"] = x[index]
    return pd.DataFrame(columns, index=pd.Index(names, name="feature")).map(lambda v: float(f"{v:.3g}"))


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
    """Top and bottom examples (pictures with heat overlays, or rows of features), and the histogram."""
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
    words = statistic_words(result.spatial)
    st.caption(f"{result.n_examples:,} examples of {dataset.path.split('/')[-1]}; ranked by the unit's {words}.")
    image_input = len(link.revision.summary.input_shape) == 3
    x = dataset_inputs(result.dataset_path, result.dataset_sha256)
    ties = unit.ties_at_minimum(shown=SHOWN)
    for title, ranked, maps in (("Strongest", unit.top_mean, unit.top_mean_maps), ("Weakest", unit.bottom_mean, None)):
        st.markdown(f"**{title}**")
        if title == "Weakest" and ties is not None:
            st.markdown(ties_sentence(ties, ranked[0][1]))
            continue
        if not image_input and x.ndim != 2:
            st.dataframe([{"example": i, words: v} for i, v in ranked], hide_index=True)
            continue
        if not image_input:
            medians = _feature_medians(result.dataset_path, result.dataset_sha256)
            st.dataframe(feature_table(x, dataset.feature_names, medians, ranked[:SHOWN]), width="stretch")
            st.caption("Column headers: the example's row in the data set and the unit's activation on it.")
            continue
        columns = st.columns(min(len(ranked), SHOWN))
        for position, (index, value) in enumerate(ranked[:SHOWN]):
            image = to_display_image(x[index], link.revision.summary.input_range)
            if maps is not None and maps.shape[-1] > 0:
                image = overlay_heatmap(image, maps[position])
            columns[position].image(image, caption=f"#{index}: {value:.3g}", width="stretch")
    if image_input and result.spatial:
        st.caption("Red tint: where the unit fired in each strongest example (scaled per example).")
    title = f"Unit {unit.unit}: {words} over the data set"
    st.plotly_chart(plot_activation_histogram(unit, title=title), width="stretch")
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

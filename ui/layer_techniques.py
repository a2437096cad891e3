"""A layer-level technique's page: ``?model=&layer=&view=deepdream`` or ``&view=caricature&example=N``.

DeepDream and caricature visualize the whole layer, not one unit, so they have their own page
beside the layer's unit grid: the technique's one line, its image (the caricature beside the
dataset example it exaggerates), its notes and downloads, and a link that copies.
"""

from __future__ import annotations

import streamlit as st

from analysis.datasets import DatasetRole
from analysis.microscope.techniques import BY_VIEW, techniques_for
from analysis.microscope.unit_links import UnitLink
from ui.microscope_views import (
    PAGE,
    has_image_input,
    render_now,
    render_spec,
    show_copy_link,
    show_rendering,
    show_technique_links,
)
from ui.shared import user_errors


def show_layer_technique(link: UnitLink) -> None:
    technique = BY_VIEW[link.view]
    layer = link.layer
    suffix = f" of example {link.example}" if technique.needs_example else ""
    st.title(f"{link.model.model_id} / {layer.name} / {technique.title}{suffix}")
    st.page_link(PAGE, label=f"all units of {layer.name}", query_params=link.query(layer=layer.name))
    if not has_image_input(link):
        st.info("Feature visualization needs an image model; this model's units show dataset statistics.")
        return
    dataset = link.model.dataset(DatasetRole.DATA)
    offered = [t.view for t in techniques_for(layer, dataset_linked=dataset is not None) if not t.per_unit]
    example = link.example if link.example is not None else 0
    show_technique_links(link, offered, lambda view: link.query(view=view, example=example))
    show_copy_link(link)
    if technique.needs_example and dataset is not None:
        chosen = st.columns([1, 2])[0].number_input(
            "Dataset example", min_value=0, max_value=dataset.n_examples - 1, value=link.example or 0, step=1
        )
        if chosen != link.example:
            st.query_params.from_dict(link.query(example=int(chosen)))
            st.rerun()
    with user_errors():
        spec = render_spec(link, None)
        from analysis.microscope.featurevis import load_cached_rendering

        rendering = load_cached_rendering(spec)
    if technique.needs_example and dataset is not None:
        example_column, image_column = st.columns(2)
        with example_column:
            _show_example(link, dataset.path, dataset.sha256)
    else:
        image_column = st.container()
    with image_column:
        if rendering is None:
            rendering = render_now(spec)
        if rendering is not None:
            show_rendering(link, spec, rendering)


def _show_example(link: UnitLink, path: str, sha256: str) -> None:
    """The dataset example the caricature starts from, at the caricature's size."""
    from ui.unit_examples import dataset_inputs
    from visualizers.microscope import to_display_image

    x = dataset_inputs(path, sha256)
    st.image(
        to_display_image(x[link.example], link.revision.summary.input_range),
        caption=f"dataset example #{link.example} (what the layer saw)",
        width=256,
    )

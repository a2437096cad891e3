"""The Microscope's three views: a model's layers, a layer's unit grid, one unit's page."""

from __future__ import annotations

import json

import streamlit as st

from analysis.errors import AnalysisInputError
from analysis.microscope.featurevis import (
    ObjectiveKind,
    RenderSpec,
    UnitRendering,
    cached_targets,
    load_cached_rendering,
)
from analysis.microscope.techniques import BY_VIEW, techniques_for
from analysis.microscope.unit_links import UnitLink
from ui.access import can_write
from ui.admission import admitted
from ui.layer_jobs import layer_job, start_layer_job
from ui.shared import user_errors

PAGE = "ui/pages/microscope.py"
GRID_COLUMNS = 8


def has_image_input(link: UnitLink) -> bool:
    return len(link.revision.summary.input_shape) == 3


def render_spec(link: UnitLink, unit: int | None, view: str | None = None) -> RenderSpec:
    """The page's rendering parameters: exactly the CLI's defaults, so `render` precomputes them."""
    objective = BY_VIEW[view or link.view].kind
    units = () if objective is ObjectiveKind.DEEPDREAM else ((unit,) if unit is not None else ())
    return RenderSpec(
        model_id=link.model.model_id,
        layer=link.layer.name,
        units=units,
        objective=objective,
        revision=link.revision.revision,
    )


def show_model(link: UnitLink) -> None:
    summary = link.revision.summary
    st.title(f"{link.model.model_id}")
    st.caption(f"revision {link.revision.short} · {summary.format.value} · input {list(summary.input_shape)}")
    if not summary.layers:
        st.info("This model exposes no layers with units (a SavedModel shows only its signature).")
    for layer in summary.layers:
        st.page_link(
            PAGE,
            label=f"{layer.name} — {layer.kind}, {layer.units} units, output {list(layer.output_shape)}",
            query_params=link.query(layer=layer.name),
        )


def show_layer(link: UnitLink) -> None:
    layer = link.layer
    st.title(f"{link.model.model_id} / {layer.name}")
    st.page_link(PAGE, label=f"All layers of {link.model.model_id}", query_params={"model": link.model.model_id})
    st.caption(f"{layer.kind}, output {list(layer.output_shape)}, {layer.units} units · revision {link.revision.short}")
    if not has_image_input(link):
        _unit_buttons(link)
        return
    spec = RenderSpec(
        model_id=link.model.model_id, layer=layer.name, units=tuple(range(layer.units)), revision=link.revision.revision
    )
    with user_errors():
        done = cached_targets(spec)
    missing = layer.units - len(done)
    job = layer_job(spec)
    if missing and (job is None or job.done):
        st.info(f"{len(done)} of {layer.units} units are rendered; the others show a placeholder.")
        if can_write() and st.button(f"Render the {missing} missing units in the background", type="primary"):
            with user_errors():
                start_layer_job(spec)
            st.rerun()
    if job is not None:
        _job_progress(spec)
    columns = st.columns(GRID_COLUMNS)
    for unit in range(layer.units):
        with columns[unit % GRID_COLUMNS]:
            rendering = load_cached_rendering(spec, unit) if unit in done else None
            if rendering is not None:
                st.image(rendering.image, width="stretch")
            else:
                st.markdown(":grey[not rendered]")
            st.page_link(PAGE, label=f"unit {unit}", query_params=link.query(unit=unit))


@st.fragment(run_every=2.0)
def _job_progress(spec: RenderSpec) -> None:
    job = layer_job(spec)
    if job is None:
        return
    if job.error:
        st.error(job.error)
    elif job.done:
        st.success("Layer rendered.")
        if st.button("Show the rendered layer"):
            st.rerun()
    else:
        st.progress(min(job.fraction, 1.0), text=job.message)


def _unit_buttons(link: UnitLink) -> None:
    st.info("Feature visualization needs an image model; units of this model show dataset statistics.")
    columns = st.columns(GRID_COLUMNS)
    for unit in range(link.layer.units):
        with columns[unit % GRID_COLUMNS]:
            st.page_link(PAGE, label=f"unit {unit}", query_params=link.query(unit=unit))


def show_unit_header(link: UnitLink) -> None:
    layer, unit = link.layer, link.unit
    st.title(f"{link.model.model_id} / {layer.name} / unit {unit}")
    if link.stale:
        st.warning(
            f"This link is pinned to revision {link.revision.short}; the model has since changed "
            f"(current revision {link.model.current.short}). You are looking at the pinned revision."
        )
        st.page_link(PAGE, label="Open this unit in the current revision", query_params=link.query(pin=False))
    navigation = st.columns([1, 1, 2, 2])
    if unit > 0:
        navigation[0].page_link(PAGE, label="← previous unit", query_params=link.query(unit=unit - 1))
    if unit < layer.units - 1:
        navigation[1].page_link(PAGE, label="next unit →", query_params=link.query(unit=unit + 1))
    navigation[2].page_link(PAGE, label=f"all units of {layer.name}", query_params=link.query(layer=layer.name))
    jump = navigation[3].number_input("Jump to unit", min_value=0, max_value=layer.units - 1, value=unit, step=1)
    if jump != unit:
        st.query_params["unit"] = str(jump)
        st.rerun()
    pinned = "/microscope?" + "&".join(f"{k}={v}" for k, v in link.query(pin=True).items())
    st.caption("Link pinned to this revision (copy it with the button on the right):")
    st.code(pinned, language=None)


def pick_visualization(link: UnitLink) -> tuple[RenderSpec | None, UnitRendering | None]:
    """The technique picker, the page's spec and its cached rendering (None if not rendered yet).

    Cheap (no TensorFlow), so the page can show a cached image before the dataset examples load.
    The spec is None for models without an image input (nothing to visualize).
    """
    if not has_image_input(link):
        return None, None
    offered = [t.view for t in techniques_for(link.layer)]
    view = st.segmented_control(
        "Technique", offered, default=link.view if link.view in offered else None, key="view-picker"
    )
    if view and view != link.view:
        st.query_params["view"] = view
        st.rerun()
    try:
        spec = render_spec(link, link.unit)
        return spec, load_cached_rendering(spec)
    except AnalysisInputError as error:  # e.g. a view this layer cannot show: the examples still follow
        st.error(str(error), icon=":material/error:")
        return None, None


def render_now(spec: RenderSpec) -> UnitRendering | None:
    """Render a missing unit on demand, with a progress bar (the link opens instantly afterwards).

    Writers only, through the admission gate; a viewer is told it is not rendered yet (None).
    """
    from analysis.microscope.featurevis import render_units

    if not can_write():
        st.info("Not rendered yet: a writer's visit renders it (or the operator, with `python -m analysis render`).")
        return None
    bar = st.progress(0.0, text="Not rendered yet: rendering now (the link opens instantly afterwards)…")
    with user_errors(), admitted("render", f"rendering unit {spec.units} of {spec.model_id}/{spec.layer}"):
        (rendering,) = render_units(spec, progress=lambda f, m: bar.progress(min(f, 1.0), text=m))
    bar.empty()
    return rendering


def show_rendering(link: UnitLink, spec: RenderSpec, rendering: UnitRendering) -> None:
    """The image(s), the rendering's notes and the PNG/JSON downloads."""
    caption = (
        f"{spec.objective.value} objective, {spec.steps} steps, seed {spec.seed}; "
        f"objective value {rendering.activation:.3f}"
    )
    for image in rendering.images:
        st.image(image, caption=caption, width=256)
    for note in rendering.notes:
        st.info(note[:1].upper() + note[1:] + ".")
    downloads = st.columns(2)
    name = f"{link.model.model_id}-{link.layer.name}-{link.unit}-{spec.objective.value}"
    downloads[0].download_button("Download PNG", rendering.png(), file_name=f"{name}.png", mime="image/png")
    downloads[1].download_button(
        "Download JSON", json.dumps(rendering.to_dict(), indent=2), file_name=f"{name}.json", mime="application/json"
    )

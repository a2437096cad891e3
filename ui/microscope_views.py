"""The Microscope's unit page (the model and layer pages are ui/microscope_grid.py)."""

from __future__ import annotations

import base64
import json
from urllib.parse import urlencode

import numpy as np
import streamlit as st

from analysis.datasets import DatasetRole
from analysis.errors import AnalysisInputError
from analysis.microscope.featurevis import (
    RenderSpec,
    UnitRendering,
    load_cached_rendering,
)
from analysis.microscope.techniques import BY_VIEW, techniques_for
from analysis.microscope.unit_links import UnitLink
from cache.codecs import PNG
from ui.access import can_write
from ui.admission import admitted
from ui.shared import user_errors
from visualizers.microscope import side_by_side

PAGE = "ui/pages/microscope.py"


def has_image_input(link: UnitLink) -> bool:
    return len(link.revision.summary.input_shape) == 3


def render_spec(link: UnitLink, unit: int | None, view: str | None = None) -> RenderSpec:
    """The page's rendering parameters: exactly the CLI's defaults, so `render` precomputes them."""
    technique = BY_VIEW[view or link.view]
    units = (unit,) if technique.per_unit and unit is not None else ()
    return RenderSpec(
        model_id=link.model.model_id,
        layer=link.layer.name,
        units=units,
        objective=technique.kind,
        revision=link.revision.revision,
        example=link.example if technique.needs_example else None,
    )


def absolute_link(query: dict[str, str]) -> str:
    """The full address of a Microscope view, e.g. ``http://host:8501/microscope?model=...&rev=...``.

    Streamlit knows the address the browser used (``st.context.url``, without its query); outside
    a browser session (tests) the link stays relative.
    """
    base = (st.context.url or "").split("?", 1)[0].rstrip("/")
    if base and not base.endswith("/microscope"):
        base += "/microscope"
    return f"{base or '/microscope'}?{urlencode(query)}"


# Streamlit shows a code block's copy button only on hover; the copy-link block keeps it visible.
_VISIBLE_COPY_BUTTON = (
    "<style>.st-key-copy-link [data-testid='stCode'] div, .st-key-copy-link [data-testid='stCode'] button "
    "{ opacity: 1 !important; visibility: visible !important; }</style>"
)


def show_copy_link(link: UnitLink) -> None:
    """A visible "copy link" button opening this view's full address, pinned to the revision shown.

    The address is an ``st.code`` box (its copy button always visible) inside a popover: the
    browser draws a popover's content only when it opens, and ``st.code``'s JavaScript (1.5 MB,
    about half a second of a loaded 2-core machine's main thread) would otherwise hold up the
    page's first image in a new tab (docs/benchmarks.md).
    """
    st.html(_VISIBLE_COPY_BUTTON)
    label = f"Copy link (pinned to revision {link.revision.short})"
    with st.popover(label, icon=":material/link:"), st.container(key="copy-link"):
        st.caption("This view's full address, pinned to the revision shown, so it always shows this view:")
        st.code(absolute_link(link.query(pin=True)), language=None, wrap_lines=True)


def show_unit_title(link: UnitLink) -> None:
    """The unit's title (and, for a link pinned to an old revision, the warning with a way to the current one)."""
    st.title(f"{link.model.model_id} / {link.layer.name} / unit {link.unit}")
    if link.stale:
        st.warning(
            f"This link is pinned to revision {link.revision.short}; the model has since changed "
            f"(current revision {link.model.current.short}). You are looking at the pinned revision."
        )
        st.page_link(PAGE, label="Open this unit in the current revision", query_params=link.query(pin=False))


def show_unit_navigation(link: UnitLink) -> None:
    """Previous / next unit, the layer's grid, "jump to unit" and the copy-link box."""
    layer, unit = link.layer, link.unit
    navigation = st.columns(3)  # fits half of a 1400 px page (the unit page's visualization column)
    if unit > 0:
        navigation[0].page_link(PAGE, label="← previous unit", query_params=link.query(unit=unit - 1))
    if unit < layer.units - 1:
        navigation[1].page_link(PAGE, label="next unit →", query_params=link.query(unit=unit + 1))
    navigation[2].page_link(PAGE, label=f"all units of {layer.name}", query_params=link.query(layer=layer.name))
    jump_column, _ = st.columns([1, 1])
    jump = jump_column.number_input("Jump to unit", min_value=0, max_value=layer.units - 1, value=unit, step=1)
    if jump != unit:
        st.query_params["unit"] = str(jump)
        st.rerun()
    show_copy_link(link)


def show_unit_header(link: UnitLink) -> None:
    """Title, navigation and copy link, in that order (pages without a visualization column)."""
    show_unit_title(link)
    show_unit_navigation(link)


def image_url(image: np.ndarray | bytes) -> str:
    """A ``data:`` URL of a PNG (bytes, or a uint8 image encoded here) for ``st.image``.

    Streamlit serves other images from ``/media/...``: in a new tab that fetch waits behind the
    page's JavaScript chunks (six connections per host), which cost a cached unit page about a
    second on a loaded 2-core machine (docs/benchmarks.md). Inline, the image shows with its element.
    """
    data = image if isinstance(image, bytes) else PNG.encode(image)
    return "data:image/png;base64," + base64.b64encode(data).decode("ascii")


def cached_visualization(link: UnitLink) -> tuple[RenderSpec | None, UnitRendering | None]:
    """The page's spec and its cached rendering (None if not rendered yet); draws no widget.

    Cheap (no TensorFlow), so the page can show a cached image before anything else. The spec is
    None for models without an image input (nothing to visualize) and for a view this layer cannot
    show (the error is shown here; the examples still follow).
    """
    if not has_image_input(link):
        return None, None
    try:
        spec = render_spec(link, link.unit)
        return spec, load_cached_rendering(spec)
    except AnalysisInputError as error:
        st.error(str(error), icon=":material/error:")
        return None, None


def pick_technique(link: UnitLink) -> None:
    """The technique picker (only the techniques this layer can show) and what the current one shows."""
    dataset_linked = link.model.dataset(DatasetRole.DATA) is not None
    techniques = techniques_for(link.layer, dataset_linked=dataset_linked)
    offered = [t.view for t in techniques]
    current = offered.index(link.view) if link.view in offered else None
    view = st.radio("Technique", offered, index=current, horizontal=True, key="view-picker")  # wraps when narrow
    if view and view != link.view:
        chosen = BY_VIEW[view]
        if chosen.per_unit:
            st.query_params["view"] = view
        else:  # deepdream and caricature are the layer's: go to its page (a caricature of this unit's top example)
            params = {k: v for k, v in link.query().items() if k not in ("unit", "view")} | {"view": view}
            if chosen.needs_example:
                params["example"] = str(_strongest_example(link))
            st.query_params.from_dict(params)
        st.rerun()
    if link.view in offered:
        technique = BY_VIEW[link.view]
        st.caption(f"**{technique.title}**: {technique.summary}.")


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
        f"objective value {rendering.activation:.3g}"
    )
    if rendering.n_images > 1:  # diversity: the images in a row, one caption
        caption = f"{rendering.n_images} images optimised together; " + caption
        st.image(image_url(side_by_side(rendering.images)), caption=caption, width="stretch")
    else:
        st.image(image_url(rendering.png()), caption=caption, width=256)
    for note in rendering.notes:
        st.info(note[:1].upper() + note[1:] + ".")
    downloads = st.columns(2)
    name = f"{link.model.model_id}-{link.layer.name}-{link.unit}-{spec.objective.value}"
    downloads[0].download_button("Download PNG", rendering.png(), file_name=f"{name}.png", mime="image/png")
    downloads[1].download_button(
        "Download JSON", json.dumps(rendering.to_dict(), indent=2), file_name=f"{name}.json", mime="application/json"
    )


def _strongest_example(link: UnitLink) -> int:
    """This unit's strongest dataset example (what its caricature starts from); 0 if not computed yet."""
    from analysis.microscope.dataset_examples import DatasetExamplesSpec, load_cached_dataset_examples

    spec = DatasetExamplesSpec(model_id=link.model.model_id, layer=link.layer.name, revision=link.revision.revision)
    try:
        examples = load_cached_dataset_examples(spec)
    except AnalysisInputError:
        return 0
    return 0 if examples is None else int(examples.arrays["top_mean_index"][link.unit, 0])

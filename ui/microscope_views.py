"""The Microscope's unit page (the model and layer pages are ui/microscope_grid.py)."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable
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
from visualizers.microscope import enlarge, side_by_side

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
    label = f"Copy link (revision {link.revision.short})"
    with st.popover(label, icon=":material/link:"), st.container(key="copy-link"):
        st.html(_VISIBLE_COPY_BUTTON)  # a style only: Streamlit applies it at once, wherever it is called
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
    jump_column, copy_column = st.columns([1, 2])
    with jump_column.popover("Jump to unit", icon=":material/pin:"):  # its input's code loads when opened
        last = layer.units - 1
        jump = st.number_input(f"Unit (0-{last})", min_value=0, max_value=last, value=unit, step=1)
    if jump != unit:
        st.query_params["unit"] = str(jump)
        st.rerun()
    with copy_column:
        show_copy_link(link)


def show_unit_header(link: UnitLink) -> None:
    """Title, navigation and copy link, in that order (pages without a visualization column)."""
    show_unit_title(link)
    show_unit_navigation(link)


def markdown_text(text: str) -> str:
    """``text`` with every ASCII punctuation mark backslash-escaped, so Markdown shows it as it is.

    Layer names come from users' models (Keras forbids only ``/``): ``a]b`` would end an image's alt
    text early and print the whole data URL instead.
    """
    return re.sub(r"([!-/:-@\[-`{-~])", r"\\\1", text)


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


def show_choice_link(label: str, chosen: bool, query: dict[str, str]) -> None:
    """One link of a row of links that acts as a choice: a radio mark, and "(shown)" in words on the current one.

    Links, not a radio or a select box: every choice has an address a reader can open in a new tab,
    and a page link's JavaScript is one small chunk (a radio's is nine, a select box's 21), which a new
    tab would fetch before it shows the page's image (docs/benchmarks.md). The mark is hidden from
    screen readers, so the current choice also says so in its text.
    """
    icon = ":material/radio_button_checked:" if chosen else ":material/radio_button_unchecked:"
    text = f"{markdown_text(label)} (shown)" if chosen else markdown_text(label)
    st.page_link(PAGE, label=text, icon=icon, query_params=query, width="content")


def technique_query(link: UnitLink, view: str, strongest: int | None, keep: dict[str, str]) -> dict[str, str]:
    """The link to ``view`` from this unit's page: a per-unit view of this unit, else the layer's page.

    A per-unit view keeps the page's other parameters (``keep``: the Connections panel's). DeepDream
    and caricature belong to the layer; a caricature starts from this unit's strongest dataset
    example (``strongest``; 0 while the layer's examples are not computed).
    """
    technique = BY_VIEW[view]
    if technique.per_unit:
        return link.query(view=view) | keep
    params = {k: v for k, v in link.query().items() if k not in ("unit", "view")} | {"view": view}
    if technique.needs_example:
        params["example"] = str(strongest if strongest is not None else 0)
    return params


def show_technique_links(link: UnitLink, views: list[str], query: Callable[[str], dict[str, str]]) -> None:
    """The techniques as a row of choice links (one per technique the layer can show; the current one marked)."""
    st.markdown("**Technique**")
    with st.container(horizontal=True, gap="small"):
        for view in views:
            show_choice_link(view, view == link.view, query(view))
    if link.view in views:
        technique = BY_VIEW[link.view]
        st.caption(f"**{technique.title}**: {technique.summary}.")


def pick_technique(link: UnitLink, strongest: int | None, keep: dict[str, str]) -> None:
    """The unit page's technique links (only the techniques this layer can show) and what the current one shows."""
    dataset_linked = link.model.dataset(DatasetRole.DATA) is not None
    views = [t.view for t in techniques_for(link.layer, dataset_linked=dataset_linked)]
    show_technique_links(link, views, lambda view: technique_query(link, view, strongest, keep))


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
    # A Markdown image, not st.image: Markdown's code is already in the page, st.image's is a chunk
    # (with its toolbar's) that a new tab fetches from a server still busy sending the rest of the
    # page, which held the first image back by about 0.2 s (docs/benchmarks.md). The pixels are
    # enlarged here by a whole factor, so they stay sharp at the size st.image showed them.
    if rendering.n_images > 1:  # diversity: the images in a row, one caption
        caption = f"{rendering.n_images} images optimised together; " + caption
        shown = enlarge(side_by_side(rendering.images), 512)
    else:
        shown = enlarge(rendering.image, 256)
    of = f"unit {link.unit}" if link.unit is not None else f"layer {link.layer.name}"
    st.markdown(f"![{markdown_text(f'{spec.objective.value} visualization of {of}')}]({image_url(shown)})")
    st.caption(caption)
    for note in rendering.notes:
        st.info(note[:1].upper() + note[1:] + ".")
    name = f"{link.model.model_id}-{link.layer.name}-{link.unit}-{spec.objective.value}"
    with st.popover("Download the rendering", icon=":material/download:"):  # the buttons' code loads when opened
        st.download_button("Download PNG", rendering.png(), file_name=f"{name}.png", mime="image/png")
        st.download_button(
            "Download JSON",
            json.dumps(rendering.to_dict(), indent=2),
            file_name=f"{name}.json",
            mime="application/json",
            help="The rendering's parameters, objective value and notes.",
        )

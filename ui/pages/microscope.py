"""/microscope: ?model= (layers), &layer= (unit grid), &unit= (one unit); optional rev= and view=."""

import streamlit as st

from analysis.microscope.unit_links import BadLinkError, resolve_unit_link
from ui.microscope_views import (
    PAGE,
    pick_visualization,
    render_now,
    show_layer,
    show_model,
    show_rendering,
    show_unit_header,
)
from ui.shared import get_registry

registry = get_registry()
try:
    link = resolve_unit_link(dict(st.query_params), registry)
except BadLinkError as error:
    st.title("Microscope")
    st.error(str(error), icon=":material/link_off:")
    label = " / ".join(error.nearest.values()) or "the Microscope index"
    st.page_link(PAGE, label=f"Go to {label}", query_params=error.nearest, icon=":material/arrow_forward:")
    st.stop()

if link is not None:
    # Always send the canonical link to the browser: a page_link to this same page updates the
    # page (and the server's query params) but not the address bar, which researchers copy.
    st.query_params.from_dict(link.query())

if link is None:
    st.title("Microscope")
    st.write("Every unit of every layer has a stable link. Pick a model:")
    ids = registry.ids()
    if not ids:
        st.info("No models registered yet: `make run` builds the demo models.")
    for model_id in ids:
        st.page_link(PAGE, label=model_id, query_params={"model": model_id})
elif link.layer is None:
    show_model(link)
elif link.unit is None:
    show_layer(link)
else:
    show_unit_header(link)
    visualization, examples = st.columns([1, 1])
    # A cached image shows at once; the dataset examples (which may load the data set) come next,
    # and a unit not rendered yet is rendered last, with its examples already on screen.
    with visualization:
        st.subheader("Feature visualization")
        spec, rendering = pick_visualization(link)
        if rendering is not None:
            show_rendering(link, spec, rendering)
    with examples:
        st.subheader("Dataset examples")
        from ui.unit_examples import show_unit_examples

        show_unit_examples(link)
    if spec is not None and rendering is None:
        with visualization:
            rendering = render_now(spec)  # None for a viewer: nothing is rendered on a viewer's visit
            if rendering is not None:
                show_rendering(link, spec, rendering)

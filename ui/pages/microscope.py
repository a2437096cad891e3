"""/microscope: ?model= (layers), &layer= (unit grid), &unit= (one unit); optional rev= and view=.

``&layer=&view=deepdream`` and ``&view=caricature&example=N`` are the layer's technique pages.
"""

import streamlit as st

from analysis.microscope.unit_links import BadLinkError, resolve_unit_link
from ui.connections_panel import connection_params, show_connections
from ui.layer_techniques import show_layer_technique
from ui.microscope_grid import show_layer, show_model
from ui.microscope_views import (
    PAGE,
    cached_visualization,
    has_image_input,
    pick_technique,
    render_now,
    show_rendering,
    show_unit_header,
    show_unit_navigation,
    show_unit_title,
)
from ui.shared import get_registry
from ui.unit_render_queue import show_queued_unit

registry = get_registry()
page_text = st.query_params.get("page")  # the layer grid's page; not part of a unit link
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
    keep_page = {"page": page_text} if page_text and link.layer is not None and link.unit is None else {}
    keep_connections = connection_params(st.query_params) if link.unit is not None else {}
    st.query_params.from_dict(link.query() | keep_page | keep_connections)

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
elif link.layer_view:
    show_layer_technique(link)
elif link.unit is None:
    show_layer(link, page_text)
elif not has_image_input(link):  # tabular and other non-image models: no visualization, examples as rows
    show_unit_header(link)
    st.subheader("Dataset examples")
    from ui.unit_examples import show_unit_examples

    show_unit_examples(link)
    show_connections(link)
else:
    from ui.unit_page_cached import cached_unit_page, show_cached_unit_examples

    show_unit_title(link)
    visualization, examples = st.columns([1, 1])
    # The cached image is the page's first element after the title (widgets below it): a new tab
    # shows it before the browser has fetched the widgets' JavaScript (docs/benchmarks.md). The
    # dataset examples come next (from the precomputed entry, else the data set), and a unit not
    # rendered yet is rendered last, with its examples already on screen.
    with visualization:
        st.subheader("Feature visualization")
        picture = st.container()
        spec, rendering = cached_visualization(link)
        if rendering is not None:
            with picture:
                show_rendering(link, spec, rendering)
        techniques = st.container()  # filled once the examples are known: the caricature link starts from one
        show_unit_navigation(link)
    with examples:
        st.subheader("Dataset examples")
        unit_page = cached_unit_page(link)  # the examples pass's entry: no data set, no TensorFlow (None: not run)
        if show_cached_unit_examples(link, unit_page):  # False when unit_page is None
            strongest = unit_page.top[0].index if unit_page.top else None
        else:  # from the data set (a writer's visit computes the layer's examples here)
            from ui.unit_examples import show_unit_examples

            computed = show_unit_examples(link)
            strongest = computed.unit(link.unit).top_mean[0][0] if computed is not None else None
    with techniques:
        pick_technique(link, strongest, keep=connection_params(st.query_params))
    if spec is not None and rendering is None:
        with picture:
            show_queued_unit(
                link, spec, show=lambda rendered: show_rendering(link, spec, rendered), render_here=render_now
            )
    show_connections(link)  # last: a bad conn/from/claim link stops the page after its error

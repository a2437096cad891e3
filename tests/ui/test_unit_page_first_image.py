"""AppTest: a cached unit page draws its visualization first, inline, and no widget code delays it (issue 22 item 3).

In a new tab the browser fetches each widget's JavaScript chunk on first use and an image served
from ``/media/`` waits behind them. The page's order, inline images, and controls that are links
(one small chunk) or sit in popovers (drawn only when opened) keep its first image near a
one-image page's time (``bench/bench_unit_page.py``, docs/benchmarks.md).
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from analysis.microscope.featurevis import RenderSpec, render_units
from cache.codecs import PNG
from tests.ui.app_support import markdown_images
from tests.ui.test_microscope_grid import open_microscope, tiny_with_examples  # noqa: F401  (fixture)

# Elements whose frontend code is a lazily loaded chunk (widgets, code, html): none may come before the image.
WIDGETS = {"radio", "page_link", "number_input", "download_button", "code", "html", "button", "selectbox",
           "button_group", "plotly_chart", "text_input", "checkbox", "slider"}  # fmt: skip
# Of those, the page may show outside a popover only page links (one 3 KB chunk; a radio is 9 chunks,
# a number input 17, a selectbox 21 and 140 KB, measured in chromium on Streamlit 1.67).
CHEAP = {"page_link"}


def in_order(node) -> Iterator:
    """The page's elements in the order the browser lays them out (depth first, by position)."""
    yield from (element for element, _ in with_popover(node))


def with_popover(node, inside: bool = False) -> Iterator:
    """Each element with whether it sits in a popover (drawn, and its code fetched, only when opened)."""
    children = getattr(node, "children", None)
    if children is None:
        yield node, inside
        return
    inside = inside or getattr(node, "type", "") == "popover"
    for index in sorted(children):
        yield from with_popover(children[index], inside)


def test_the_cached_visualization_is_the_first_image_inline_and_before_every_widget(tiny_with_examples) -> None:  # noqa: F811
    (rendering,) = render_units(RenderSpec(model_id="tiny", layer="conv", units=(2,)))
    at = open_microscope(model="tiny", layer="conv", unit="2")
    assert not at.exception, at.exception
    elements = list(in_order(at.main))
    kinds = [element.type for element in elements]
    # The first element carrying an image is the visualization, as Markdown: its code is already in
    # the page, where st.image's is a chunk fetched from a server still sending the rest.
    first_image = next(i for i, e in enumerate(elements) if e.type == "image" or "](data:image/" in str(e.value))
    assert kinds[first_image] == "markdown", kinds[: first_image + 1]
    assert not WIDGETS & set(kinds[:first_image]), kinds[: first_image + 1]
    assert {"page_link", "number_input", "code", "download_button"} <= set(kinds)  # nothing was dropped
    eager = {element.type for element, inside in with_popover(at.main) if not inside}
    assert not (WIDGETS - CHEAP) & eager, (WIDGETS - CHEAP) & eager  # the rest waits in popovers
    ((alt, png),) = markdown_images(at)
    assert alt == "channel visualization of unit 2"
    shown = PNG.decode(png)  # the rendering itself, its pixels repeated by a whole factor to 256 px or more
    factor = shown.shape[1] // rendering.image.shape[1]
    assert factor >= 1 and shown.shape[1] >= 256 and shown.shape[1] == factor * rendering.image.shape[1]
    np.testing.assert_array_equal(shown[::factor, ::factor], rendering.image)
    images = [url for element in elements if element.type == "image" for url in element.value]
    assert len(images) == 11  # 5 strongest and 5 weakest examples, the histogram
    assert all(url.startswith("data:image/png;base64,") for url in images)  # no /media/ fetch to wait for
    assert not at.get("plotly_chart")

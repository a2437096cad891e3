"""AppTest: a cached unit page draws its visualization first, inline, before any widget (issue 22 item 3).

In a new tab the browser fetches each widget's JavaScript chunk on first use (about 40 for this
page) and an image served from ``/media/`` waits behind them; the page's order and inline images
are what keep the first image near a one-image page's time (``bench/bench_unit_page.py``).
"""

from __future__ import annotations

import base64
from collections.abc import Iterator

from analysis.microscope.featurevis import RenderSpec, render_units
from tests.ui.test_microscope_grid import open_microscope, tiny_with_examples  # noqa: F401  (fixture)

# Elements whose frontend code is a lazily loaded chunk (widgets, code, html): none may come before the image.
WIDGETS = {"radio", "page_link", "number_input", "download_button", "code", "html", "button", "selectbox",
           "button_group", "plotly_chart", "text_input", "checkbox", "slider"}  # fmt: skip


def in_order(node) -> Iterator:
    """The page's elements in the order the browser lays them out (depth first, by position)."""
    children = getattr(node, "children", None)
    if children is None:
        yield node
        return
    for index in sorted(children):
        yield from in_order(children[index])


def test_the_cached_visualization_is_the_first_image_inline_and_before_every_widget(tiny_with_examples) -> None:  # noqa: F811
    (rendering,) = render_units(RenderSpec(model_id="tiny", layer="conv", units=(2,)))
    at = open_microscope(model="tiny", layer="conv", unit="2")
    assert not at.exception, at.exception
    kinds = [element.type for element in in_order(at.main)]
    first_image = kinds.index("image")
    assert not WIDGETS & set(kinds[:first_image]), kinds[: first_image + 1]
    assert {"radio", "page_link", "number_input", "code"} <= set(kinds)  # nothing was dropped from the page
    images = [url for element in in_order(at.main) if element.type == "image" for url in element.value]
    assert len(images) == 12  # the visualization, 5 strongest and 5 weakest examples, the histogram
    assert all(url.startswith("data:image/png;base64,") for url in images)  # no /media/ fetch to wait for
    assert base64.b64decode(images[0].split(",", 1)[1]) == rendering.png()  # the visualization itself, first
    assert not at.get("plotly_chart")

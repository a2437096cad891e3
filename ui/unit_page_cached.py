"""A unit page's dataset half from its precomputed entry: reads the result store only.

No data set is loaded and TensorFlow is not imported: the thumbnails (with their overlays) and
the histogram were drawn by the dataset-examples pass (:mod:`analysis.microscope.unit_pages`).
When the entry is missing, the page falls back to :func:`ui.unit_examples.show_unit_examples`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import streamlit as st

from analysis.errors import AnalysisInputError
from analysis.microscope.dataset_examples import DatasetExamplesSpec
from analysis.microscope.site_export import published_unit_path
from analysis.microscope.unit_links import UnitLink
from analysis.microscope.unit_pages import Thumbnail, UnitPage, load_unit_page
from ui.microscope_views import image_url
from ui.shared import get_registry

THUMBNAIL_WIDTH = 80  # px: five to a row in half of a page from about 1200 px wide


def statistic_words(spatial: bool) -> str:
    """What a unit's value per example is called: a channel mean on [h, w, c] layers, else its activation."""
    return "channel mean" if spatial else "activation"


def ties_sentence(ties: int, value: float) -> str:
    """E.g. "812 examples at 0 (the unit's minimum)", said instead of listing arbitrary ones among them."""
    return (
        f"**{ties:,} examples at {value:.3g}** (the unit's minimum, typical after a ReLU): "
        "any of them would do, so none is singled out."
    )


def cached_unit_page(link: UnitLink) -> UnitPage | None:
    spec = DatasetExamplesSpec(model_id=link.model.model_id, layer=link.layer.name, revision=link.revision.revision)
    try:
        return load_unit_page(spec, link.unit, registry=get_registry())
    except AnalysisInputError:  # no linked data set: the full view explains
        return None


def _row(title: str, thumbnails: tuple[Thumbnail, ...]) -> None:
    st.markdown(f"**{title}**")
    if not thumbnails or thumbnails[0].png is None:
        st.dataframe([{"example": t.index, "activation": t.value} for t in thumbnails], hide_index=True)
        return
    # One image element for the row (it wraps when narrow): a new tab lays out 2 elements, not 10 in 12 columns.
    st.image(
        [image_url(t.png) for t in thumbnails],
        caption=[f"#{t.index}: {t.value:.3g}" for t in thumbnails],
        width=THUMBNAIL_WIDTH,
    )


def published_copy_url(link: UnitLink) -> str | None:
    """The unit's page in the static site (``LOUPE_SITE_DIR`` exported, served at ``LOUPE_SITE_URL``), if there."""
    site_dir, site_url = os.environ.get("LOUPE_SITE_DIR"), os.environ.get("LOUPE_SITE_URL")
    if not site_dir or not site_url:
        return None
    path = published_unit_path(Path(site_dir), link.model.model_id, link.revision.revision, link.layer.name, link.unit)
    return None if path is None else f"{site_url.rstrip('/')}/{path}"


def show_cached_unit_examples(link: UnitLink, page: UnitPage | None) -> bool:
    """Show the unit's examples, histogram and JSON download from its entry (``cached_unit_page``).

    False if not precomputed (``page`` is None): the caller shows the full view instead.
    """
    published = published_copy_url(link)
    if published:
        st.markdown(f"[Published copy]({published}) (static page, pinned to revision {link.revision.short})")
    if page is None:
        return False
    words = statistic_words(len(link.layer.output_shape) == 3)
    st.caption(f"{page.n_examples:,} examples of {page.dataset_name}; ranked by the unit's {words}.")
    _row("Strongest", page.top)
    ties = int(page.unit_data.get("bottom_mean_ties", 0))
    if page.bottom and ties > len(page.bottom):  # more examples tie at the minimum than are shown
        st.markdown("**Weakest**")
        st.markdown(ties_sentence(ties, page.bottom[0].value))
    else:
        _row("Weakest", page.bottom)
    if page.top and page.top[0].png is not None:
        st.caption("Red tint: where the unit fired in each strongest example (scaled per example).")
    if page.histogram_png is not None:
        st.image(image_url(page.histogram_png), width="stretch")
    payload = {
        "model": link.model.model_id,
        "revision": link.revision.revision,
        "layer": link.layer.name,
        "dataset": {"file": page.dataset_name, "sha256": page.dataset_sha256},
        **page.unit_data,
    }
    with st.popover("Download the unit's data", icon=":material/download:"):  # the button's code loads when opened
        st.download_button(
            "Download unit data (JSON)",
            json.dumps(payload, indent=2),
            file_name=f"{link.model.model_id}-{link.layer.name}-{link.unit}.json",
            mime="application/json",
            help="The unit's strongest and weakest examples, ties and histograms.",
        )
    return True

"""The Microscope's model page (layers with their precompute status) and a layer's unit grid.

The grid is uniform square tiles, each a link to its unit page: the unit's feature visualization,
or, while it is queued, its strongest dataset example (marked "example"), or a blank tile.
Layers with more than PAGE_SIZE units paginate (``page=`` in the URL). While the background
worker has work queued for the layer, the grid is a fragment that re-reads the result store and
the queue every few seconds (cheap: no model, no data set).
"""

from __future__ import annotations

import base64
import html
from urllib.parse import urlencode

import streamlit as st

from analysis.errors import AnalysisInputError
from analysis.microscope.dataset_examples import DatasetExamplesSpec
from analysis.microscope.featurevis import RenderSpec, load_cached_renderings
from analysis.microscope.precompute_queue import PrecomputeQueue, QueueStatus
from analysis.microscope.unit_links import UnitLink
from analysis.microscope.unit_pages import load_layer_tiles
from analysis.models.summary import units_text
from cache import PNG
from ui.shared import user_errors

PAGE = "ui/pages/microscope.py"
PAGE_SIZE = 64
REFRESH_SECONDS = 5.0

_STYLE = """<style>
.loupe-grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(84px,1fr));gap:8px;margin:0.5rem 0}
.loupe-tile{display:block;text-decoration:none!important;color:inherit!important}
.loupe-tile .frame{position:relative;aspect-ratio:1/1;overflow:hidden;border-radius:4px;background:#e9e9ee}
.loupe-tile img{width:100%;height:100%;object-fit:cover;image-rendering:pixelated;display:block}
.loupe-tile .badge{position:absolute;left:3px;bottom:3px;font-size:10px;line-height:1;padding:2px 4px;
 border-radius:3px;background:rgba(0,0,0,.62);color:#fff}
.loupe-tile .label{font-size:12px;text-align:center;margin-top:2px}
</style>"""


def _eta(seconds: float | None) -> str:
    if seconds is None:
        return "ETA after the first batch"
    if seconds < 90:
        return f"about {max(5, round(seconds / 5) * 5):.0f} s left"
    if seconds < 5400:
        return f"about {round(seconds / 60):.0f} min left"
    return f"about {seconds / 3600:.1f} h left"


def describe_status(status: QueueStatus, units: int) -> str:
    """One line: what is rendered, what is queued, and when it should be done."""
    text = f"{status.done} of {units_text(units)} rendered"
    if status.pending:
        text += f"; {status.pending} queued for the background worker ({_eta(status.eta_seconds)}"
        text += f", {status.seconds_per_unit:.1f} s per unit)" if status.seconds_per_unit else ")"
    if status.failed:
        text += f"; {status.failed} failed (see the worker's log)"
    return text


def _status(link: UnitLink, layer: str | None = None) -> QueueStatus:
    return PrecomputeQueue().status(link.model.model_id, link.revision.revision, layer)


def show_model(link: UnitLink) -> None:
    summary = link.revision.summary
    st.title(f"{link.model.model_id}")
    st.caption(f"revision {link.revision.short} · {summary.format.value} · input {list(summary.input_shape)}")
    if not summary.layers:
        st.info("This model exposes no layers with units (a SavedModel shows only its signature).")
        return
    total = sum(layer.units for layer in summary.layers)
    status = _status(link)
    if len(summary.input_shape) == 3 and (status.done or status.pending):
        st.caption(describe_status(status, total))
    for layer in summary.layers:
        st.page_link(
            PAGE,
            label=f"{layer.name} — {layer.kind}, {units_text(layer.units)}, output {list(layer.output_shape)}",
            query_params=link.query(layer=layer.name),
        )


def page_number(text: str | None, pages: int) -> int:
    """The 1-based page of a ``page=`` parameter; AnalysisInputError naming the valid pages."""
    if text is None or text == "":
        return 1
    if not str(text).strip().isdecimal() or not 1 <= int(text) <= pages:
        raise AnalysisInputError(f"page {text!r} does not exist; this layer has pages 1-{pages}")
    return int(text)


def show_layer(link: UnitLink, page_text: str | None) -> None:
    layer = link.layer
    st.title(f"{link.model.model_id} / {layer.name}")
    st.page_link(PAGE, label=f"All layers of {link.model.model_id}", query_params={"model": link.model.model_id})
    st.caption(
        f"{layer.kind}, output {list(layer.output_shape)}, {units_text(layer.units)} · revision {link.revision.short}"
    )
    if len(link.revision.summary.input_shape) == 3:  # the layer-level techniques have their own pages
        st.page_link(PAGE, label=f"DeepDream of {layer.name}", query_params=link.query(view="deepdream"))
    pages = max(1, -(-layer.units // PAGE_SIZE))
    try:
        page = page_number(page_text, pages)
    except AnalysisInputError as error:
        st.error(str(error), icon=":material/link_off:")
        page = 1
    if pages > 1:
        _pager(link, page, pages)
    units = range((page - 1) * PAGE_SIZE, min(page * PAGE_SIZE, layer.units))
    if len(link.revision.summary.input_shape) != 3:
        st.info("Feature visualization needs an image model; units of this model show dataset statistics.")
        _tiles(link, units, renderings={}, examples={}, placeholder="")
        return
    if _status(link, layer.name).pending:
        st.fragment(run_every=REFRESH_SECONDS)(_grid)(link, units)
    else:
        _grid(link, units)


def _pager(link: UnitLink, page: int, pages: int) -> None:
    columns = st.columns([1, 2, 1])
    if page > 1:
        columns[0].page_link(PAGE, label="← previous", query_params=link.query() | {"page": str(page - 1)})
    first, last = (page - 1) * PAGE_SIZE, min(page * PAGE_SIZE, link.layer.units) - 1
    columns[1].markdown(f"Page {page} of {pages} (units {first}–{last})")
    if page < pages:
        columns[2].page_link(PAGE, label="next →", query_params=link.query() | {"page": str(page + 1)})


def _grid(link: UnitLink, units: range) -> None:
    """The status line and the tiles; re-run by the fragment while the worker has work queued."""
    layer = link.layer
    status = _status(link, layer.name)
    spec = RenderSpec(
        model_id=link.model.model_id, layer=layer.name, units=tuple(units), revision=link.revision.revision
    )
    with user_errors():
        renderings = {u: r.images[0] for u, r in load_cached_renderings(spec).items() if r is not None}
    examples: dict[int, bytes] = {}
    if len(renderings) < len(units):
        try:
            examples = load_layer_tiles(
                DatasetExamplesSpec(model_id=link.model.model_id, layer=layer.name, revision=link.revision.revision)
            )
        except AnalysisInputError:  # no linked data set: blank placeholders
            examples = {}
    st.caption(describe_status(status, layer.units) if (status.done or status.pending) else "")
    pending = [u for u in units if u not in renderings]
    if pending:
        marked = (
            " Tiles marked *example* show the unit's strongest dataset example until it is rendered."
            if examples
            else ""
        )
        st.caption(f"{len(pending)} of the units here are not rendered yet.{marked}")
    _tiles(link, units, renderings=renderings, examples=examples)


def _tiles(
    link: UnitLink, units: range, *, renderings: dict, examples: dict[int, bytes], placeholder: str = "queued"
) -> None:
    tiles = []
    for unit in units:
        href = "microscope?" + urlencode(link.query(unit=unit))
        if unit in renderings:
            data, badge = PNG.encode(renderings[unit]), ""
        elif unit in examples:
            data, badge = examples[unit], '<span class="badge">example</span>'
        else:
            data, badge = None, f'<span class="badge">{placeholder}</span>' if placeholder else ""
        image = f'<img alt="unit {unit}" src="data:image/png;base64,{base64.b64encode(data).decode()}">' if data else ""
        tiles.append(
            f'<a class="loupe-tile" href="{html.escape(href)}" target="_self" title="unit {unit}">'
            f'<div class="frame">{image}{badge}</div><div class="label">unit {unit}</div></a>'
        )
    st.markdown(_STYLE + '<div class="loupe-grid">' + "".join(tiles) + "</div>", unsafe_allow_html=True)

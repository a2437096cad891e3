"""A unit page's Connections panel: the units it is built from, and a claim link's verdict.

URL: ``&conn=weights|attribution`` (the method), ``&from=LAYER`` (the source layer; default the
nearest earlier layer that computes features), ``&claim=373,237`` (source units to rank). The
panel reads the result store only; a missing layer pair is computed on a writer's click,
through the admission gate. Viewers see what is stored.
"""

from __future__ import annotations

from collections.abc import Mapping

import streamlit as st

from analysis.microscope.circuits import (
    DEFAULT_TOP,
    Connection,
    ConnectionMethod,
    ConnectionsResult,
    ConnectionsSpec,
    UnitConnections,
    compute_connections,
    earlier_layers,
    load_cached_connections,
    parse_claim,
    resolve_from_layer,
)
from analysis.microscope.dataset_examples import DatasetExamplesSpec
from analysis.microscope.featurevis import RenderSpec, cached_targets, load_cached_rendering
from analysis.microscope.unit_links import UnitLink
from analysis.microscope.unit_pages import load_layer_tiles
from ui.access import can_write
from ui.admission import admitted
from ui.microscope_views import markdown_text, show_choice_link
from ui.shared import get_registry, user_errors
from visualizers.circuits import kernel_heatmap

PAGE = "ui/pages/microscope.py"
PARAMS = ("conn", "from", "claim")
COLUMNS = 8
THUMBNAIL_PX = 96  # fixed, so a narrow screen (stacked columns) does not blow each tile up to full width


def connection_params(params: Mapping[str, str]) -> dict[str, str]:
    """The panel's query parameters of a link, to keep when the page rewrites the address bar."""
    return {key: str(params[key]) for key in PARAMS if params.get(key)}


def _thumbnails(link: UnitLink, layer: str, units: list[int]) -> dict[int, bytes]:
    """Each unit's feature visualization if rendered, else its strongest dataset example (or nothing)."""
    images: dict[int, bytes] = {}
    spec = RenderSpec(model_id=link.model.model_id, layer=layer, units=tuple(units), revision=link.revision.revision)
    try:
        for unit in cached_targets(spec, registry=get_registry()):
            rendering = load_cached_rendering(spec, unit, registry=get_registry())
            if rendering is not None:
                images[int(unit)] = rendering.png()
    except Exception:  # noqa: BLE001 - a model without an image input has no renderings: fall through
        pass
    missing = [u for u in units if u not in images]
    if missing:
        try:
            tiles = load_layer_tiles(
                DatasetExamplesSpec(model_id=link.model.model_id, layer=layer, revision=link.revision.revision),
                registry=get_registry(),
            )
        except Exception:  # noqa: BLE001 - no linked data set: no tiles
            tiles = {}
        images |= {u: tiles[u] for u in missing if u in tiles}
    return images


def _grid(
    link: UnitLink,
    layer: str,
    connections: tuple[Connection, ...],
    unit_kernels: UnitConnections | None,
    claimed: tuple[int, ...],
) -> None:
    if not connections:
        st.caption("none")
        return
    images = _thumbnails(link, layer, [c.unit for c in connections])
    spatial = unit_kernels is not None and unit_kernels.kernels.shape[0] * unit_kernels.kernels.shape[1] > 1
    scale = float(abs(unit_kernels.kernels).max()) if spatial else 0.0
    columns = st.columns(COLUMNS)
    for index, connection in enumerate(connections):
        with columns[index % COLUMNS]:
            if connection.unit in images:
                st.image(images[connection.unit], width=THUMBNAIL_PX)
            if spatial:
                st.image(kernel_heatmap(unit_kernels.kernels[..., connection.unit], scale=scale), width=THUMBNAIL_PX)
            mark = " ★ claimed" if connection.unit in claimed else ""
            st.caption(f"#{connection.rank} · {connection.value:+.3g}{mark}")
            st.page_link(
                PAGE, label=f"{layer}:{connection.unit}", query_params=link.query(layer=layer, unit=connection.unit)
            )


def _controls(link: UnitLink, method: ConnectionMethod, from_layer: str) -> None:
    """The method and the source layer, as links (each choice has an address; no widget code to fetch).

    The source layers sit in a popover, whose content the browser draws only when it opens.
    """
    here = link.query() | connection_params(st.query_params)
    method_column, from_column = st.columns([1, 1])
    with method_column, st.container(horizontal=True, gap="small"):
        for choice in ConnectionMethod:
            show_choice_link(choice.value, choice is method, here | {"conn": choice.value})
    with from_column.popover(f"From layer {markdown_text(from_layer)}", icon=":material/layers:"):
        for earlier in earlier_layers(link.revision, link.layer.name):
            query = {k: v for k, v in here.items() if k != "claim"} | {"from": earlier}
            show_choice_link(earlier, earlier == from_layer, query)


def _outgoing(link: UnitLink, method: ConnectionMethod) -> None:
    """Later layers whose stored pair reads from this layer: the units this one feeds most (cache only)."""
    names = [info.name for info in link.revision.summary.layers]
    for later in names[names.index(link.layer.name) + 1 :]:
        try:
            if resolve_from_layer(link.revision, later, None) != link.layer.name:
                continue
            spec = ConnectionsSpec(
                model_id=link.model.model_id, layer=later, method=method, revision=link.revision.revision
            )
            result = load_cached_connections(spec, registry=get_registry())
        except Exception:  # noqa: BLE001 - e.g. no data set for attribution: nothing stored to show
            continue
        if result is not None:
            st.markdown(f"**Feeds most strongly** (units of {later})")
            _grid(link, later, result.outgoing(link.unit, DEFAULT_TOP), None, ())
            return


def show_connections(link: UnitLink) -> None:
    """The Connections panel of ``link``'s unit page (the last thing on the page: a bad link stops it)."""
    st.subheader("Connections")
    params = st.query_params
    with user_errors():
        method = ConnectionMethod.parse(params.get("conn") or ConnectionMethod.WEIGHTS.value)
        from_layer = resolve_from_layer(link.revision, link.layer.name, params.get("from"))
        source_units = link.revision.summary.layer(from_layer).units
        claim = parse_claim(params["claim"], source_units, from_layer) if params.get("claim") else ()
        spec = ConnectionsSpec(
            model_id=link.model.model_id,
            layer=link.layer.name,
            from_layer=from_layer,
            method=method,
            revision=link.revision.revision,
        )
        result = load_cached_connections(spec, registry=get_registry())
    _controls(link, method, from_layer)
    if result is None:
        result = _compute_on_request(spec)
        if result is None:
            return
    _show(link, result, claim)


def _compute_on_request(spec: ConnectionsSpec) -> ConnectionsResult | None:
    label = f"connections {spec.from_layer} -> {spec.layer} ({spec.method.value})"
    if not can_write():
        st.info(
            f"The {label} are not computed yet. A writer's click computes them, or the operator with "
            f"`python -m analysis circuits --model {spec.model_id} --layer {spec.layer} --from {spec.from_layer} "
            f"--method {spec.method.value}`."
        )
        return None
    if not st.button(f"Compute the {label} for every unit of {spec.layer}", key="conn-compute"):
        st.caption("Not computed yet: one batched pass for the whole layer pair, then every unit's panel is instant.")
        return None
    with user_errors(), admitted("connections", label), st.spinner(f"Computing the {label}…"):
        return compute_connections(spec, registry=get_registry())


def _show(link: UnitLink, result: ConnectionsResult, claim: tuple[int, ...]) -> None:
    unit = result.unit(link.unit)
    if result.method is ConnectionMethod.WEIGHTS:
        where = f"centre position {result.centre}" if result.centre else "the unit"
        window = f", window {result.window[2]}x{result.window[3]} of {result.from_layer}" if result.window else ""
        st.caption(
            f"Expanded weights: the linearised network's gradient of {where} with respect to {result.from_layer}"
            f"{window}. Ranked by L2 norm over space; the sign is the summed weight. "
            "Heat maps: red excites, blue inhibits (one scale for all)."
        )
    else:
        st.caption(
            f"Attribution: mean gradient x activation of the unit's spatial mean with respect to each unit of "
            f"{result.from_layer}, over {result.n_examples} examples of the linked data set."
        )
    if claim:
        check = unit.claim(claim)
        st.info(f"Claim: {check.sentence(result.from_layer)}.", icon=":material/fact_check:")
    excitatory, inhibitory = unit.top(DEFAULT_TOP)
    st.markdown(f"**Excitatory** (strongest {len(excitatory)} of {result.from_layer})")
    _grid(link, result.from_layer, excitatory, unit, claim)
    st.markdown(f"**Inhibitory** (strongest {len(inhibitory)} of {result.from_layer})")
    _grid(link, result.from_layer, inhibitory, unit, claim)
    _outgoing(link, result.method)

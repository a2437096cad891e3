"""Microscope links: ``?model=&layer=&unit=&rev=&view=&example=`` parsed and checked against the registry.

Per-unit views (channel, neuron, ...) address a unit's page; layer-level views address the
layer's technique page, with no unit: ``?model=&layer=&view=deepdream``, and
``&view=caricature&example=N`` for the caricature of row N of the linked data set.

A link is data from a stranger (a paper, a chat): every field is validated, and a bad one
raises :class:`BadLinkError`, whose message names the bad value and the valid choices and
whose ``nearest`` holds the query parameters of the closest page that does exist.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from analysis.datasets import DatasetRole
from analysis.errors import AnalysisInputError, describe_choices
from analysis.microscope.techniques import BY_VIEW, DEFAULT_VIEW, VIEWS
from analysis.models.registry import ModelRecord, ModelRegistry
from analysis.models.revisions import RevisionRecord
from analysis.models.summary import LayerInfo


class BadLinkError(AnalysisInputError):
    """A link that names something that does not exist; ``nearest`` is a valid page's query."""

    def __init__(self, message: str, nearest: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.nearest = dict(nearest or {})


@dataclass(frozen=True, slots=True, kw_only=True)
class UnitLink:
    """A resolved link. ``layer``/``unit`` are None for the model and layer pages.

    ``unit`` is also None on a layer-level technique's page (``view`` deepdream or caricature;
    see :attr:`layer_view`), where ``example`` is the caricature's dataset row.
    ``pinned`` is True when the link names a revision; ``stale`` when that revision is not
    the model's current one (the page then says so and offers the current link).
    """

    model: ModelRecord
    revision: RevisionRecord
    layer: LayerInfo | None = None
    unit: int | None = None
    view: str = DEFAULT_VIEW
    example: int | None = None
    pinned: bool = False
    extra: Mapping[str, str] = field(default_factory=dict)

    @property
    def stale(self) -> bool:
        return self.pinned and self.revision.revision != self.model.current.revision

    @property
    def layer_view(self) -> bool:
        """True on a layer-level technique's page (deepdream, caricature)."""
        return self.layer is not None and self.unit is None and not BY_VIEW[self.view].per_unit

    def query(
        self,
        *,
        unit: int | None = None,
        pin: bool | None = None,
        layer: str | None = None,
        view: str | None = None,
        example: int | None = None,
    ) -> dict[str, str]:
        """Query parameters of this link, or of a neighbour (another unit, layer, view or example).

        A per-unit view is kept on unit pages, a layer-level view on its layer's page; moving
        to another unit or layer drops a view that does not apply there.
        """
        params = {"model": self.model.model_id}
        layer_name = layer if layer is not None else (self.layer.name if self.layer else None)
        if layer_name:
            params["layer"] = layer_name
            chosen_unit = unit if unit is not None else (self.unit if layer is None else None)
            if chosen_unit is not None:
                params["unit"] = str(chosen_unit)
        if pin if pin is not None else self.pinned:
            params["rev"] = self.revision.short
        chosen_view = view or self.view
        technique = BY_VIEW[chosen_view]
        if chosen_view != DEFAULT_VIEW and "unit" in params and technique.per_unit:
            params["view"] = chosen_view
        elif not technique.per_unit and "unit" not in params and "layer" in params and layer is None:
            params["view"] = chosen_view
            chosen_example = example if example is not None else self.example
            if technique.needs_example and chosen_example is not None:
                params["example"] = str(chosen_example)
        return params


def resolve_unit_link(params: Mapping[str, str], registry: ModelRegistry) -> UnitLink | None:
    """The page a link addresses; None when it names no model (the index page)."""
    model_id = (params.get("model") or "").strip()
    if not model_id:
        return None
    ids = registry.ids()
    if model_id not in ids:
        raise BadLinkError(f"unknown model {model_id!r}; registered models are {describe_choices(ids)}", {})
    model = registry.get(model_id)
    revision_text = (params.get("rev") or "").strip()
    try:
        revision = registry.resolve(model_id, revision_text or None)
    except AnalysisInputError as error:
        raise BadLinkError(f"{error} — the current revision is {model.current.short}", {"model": model_id}) from error
    layers = {info.name: info for info in revision.summary.layers}
    layer_name = params.get("layer")
    if layer_name is None:
        return UnitLink(model=model, revision=revision, pinned=bool(revision_text))
    layer = layers.get(layer_name)
    if layer is None:
        raise BadLinkError(
            f"model {model_id!r} has no layer {layer_name!r}; layers with units are {describe_choices(layers)}",
            {"model": model_id},
        )
    view = (params.get("view") or DEFAULT_VIEW).strip().lower()
    if view not in VIEWS:
        raise BadLinkError(
            f"unknown view {params.get('view')!r}; valid views are {describe_choices(VIEWS)}",
            {"model": model_id, "layer": layer.name, **_unit_only(params, layer)},
        )
    if not BY_VIEW[view].per_unit:  # a layer-level technique: the layer's page for it, whatever the unit
        example = _example(params, model, layer) if BY_VIEW[view].needs_example else None
        return UnitLink(
            model=model, revision=revision, layer=layer, view=view, example=example, pinned=bool(revision_text)
        )
    unit_text = params.get("unit")
    if unit_text is None:
        return UnitLink(model=model, revision=revision, layer=layer, view=view, pinned=bool(revision_text))
    try:
        unit = int(str(unit_text).strip())
    except ValueError as error:
        raise BadLinkError(
            f"unit {unit_text!r} is not an integer; layer {layer.name!r} has units 0-{layer.units - 1}",
            {"model": model_id, "layer": layer.name},
        ) from error
    if not 0 <= unit < layer.units:
        raise BadLinkError(
            f"unit {unit} is out of range; layer {layer.name!r} has units 0-{layer.units - 1}",
            {"model": model_id, "layer": layer.name, "unit": str(min(max(unit, 0), layer.units - 1))},
        )
    return UnitLink(model=model, revision=revision, layer=layer, unit=unit, view=view, pinned=bool(revision_text))


def _example(params: Mapping[str, str], model: ModelRecord, layer: LayerInfo) -> int:
    """The ``example=`` of a caricature link: a row of the model's linked data set."""
    view = params.get("view", "").strip().lower()
    here = {"model": model.model_id, "layer": layer.name}
    dataset = model.dataset(DatasetRole.DATA)
    if dataset is None:
        raise BadLinkError(
            f"view {view!r} starts from a dataset example, and model {model.model_id!r} has no linked data set",
            here,
        )
    last = dataset.n_examples - 1
    text = params.get("example")
    if text is None or not str(text).strip():
        raise BadLinkError(
            f"view {view!r} needs example=N, a row of the linked data set (0-{last})",
            {**here, "view": view, "example": "0"},
        )
    try:
        example = int(str(text).strip())
    except ValueError as error:
        raise BadLinkError(
            f"example {text!r} is not an integer; the linked data set has examples 0-{last}",
            {**here, "view": view, "example": "0"},
        ) from error
    if not 0 <= example <= last:
        raise BadLinkError(
            f"example {example} is out of range; the linked data set has examples 0-{last}",
            {**here, "view": view, "example": str(min(max(example, 0), last))},
        )
    return example


def _unit_only(params: Mapping[str, str], layer: LayerInfo) -> dict[str, str]:
    unit = params.get("unit")
    return {"unit": unit} if unit is not None and unit.isdigit() and int(unit) < layer.units else {}

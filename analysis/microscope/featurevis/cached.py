"""Resolving a :class:`RenderSpec` against the registry, and the renderings' cache entries.

Nothing here imports TensorFlow: a page that only shows cached renderings uses
:func:`load_cached_rendering` / :func:`cached_targets` and never loads the model.

Each rendering is two entries of the result store, keyed by
``make_key(revision=<model sha256>, analysis="featurevis", params=ResolvedRender.identity(unit),
code_version=CODE_VERSION)`` (the spec's identity plus the image size and, for restartable kinds,
the linked data set's hash):
``<key>/image`` (PNG codec) and ``<key>/meta`` (JSON codec). The metadata is written
last, so a rendering is visible only when both are complete.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from analysis.datasets import DatasetInfo, DatasetRole
from analysis.errors import AnalysisInputError
from analysis.microscope.featurevis.spec import CODE_VERSION, ObjectiveKind, RenderSpec, UnitRendering
from analysis.models.registry import ModelRegistry
from analysis.models.revisions import RevisionRecord
from analysis.models.summary import LayerInfo
from cache import JSON, PNG, ResultStore, make_key

ANALYSIS_NAME = "featurevis"


@dataclass(frozen=True, slots=True, kw_only=True)
class ResolvedRender:
    """A spec checked against its model: revision, layer, image and canvas sizes, value range."""

    spec: RenderSpec
    revision: RevisionRecord
    layer: LayerInfo
    image_hw: tuple[int, int]  # the optimised image
    canvas_hw: tuple[int, int]  # what the model sees
    channels: int
    input_range: tuple[float, float]
    restart_dataset: DatasetInfo | None = None  # the linked data set dead units restart from, if any
    example_dataset: DatasetInfo | None = None  # the linked data set a caricature's example comes from

    def identity(self, unit: int | None) -> dict[str, Any]:
        identity = self.spec.identity(unit, image_size=self.image_hw[0]) | {"image_hw": list(self.image_hw)}
        if self.restart_dataset is not None:  # a dead unit's image may come from this data set
            identity["restart_dead_units_from"] = self.restart_dataset.sha256
        if self.example_dataset is not None:  # the caricature's example is a row of this data set
            identity["example_from"] = self.example_dataset.sha256
        return identity

    def key(self, unit: int | None) -> str:
        return make_key(
            revision=self.revision.revision,
            analysis=ANALYSIS_NAME,
            params=self.identity(unit),
            code_version=CODE_VERSION,
        )


def resolve_render(spec: RenderSpec, *, registry: ModelRegistry | None = None) -> ResolvedRender:
    """Check ``spec`` against the registered model; every problem is an AnalysisInputError.

    Unknown layers name the valid layers, out-of-range units name the valid range.
    """
    registry = registry or ModelRegistry()
    revision = registry.resolve(spec.model_id, spec.revision)
    summary = revision.summary
    input_shape = tuple(summary.input_shape)
    if len(input_shape) != 3 or input_shape[-1] not in (1, 3):
        raise AnalysisInputError(
            f"feature visualization needs an image input [height, width, 1 or 3 channels]; "
            f"model {spec.model_id!r} takes {list(input_shape)}"
        )
    layer = summary.layer(spec.layer)  # raises, naming the layers with units
    for unit in spec.units:
        if unit >= layer.units:
            raise AnalysisInputError(
                f"unit {unit} is out of range for layer {layer.name!r}; valid units are 0-{layer.units - 1}"
            )
    if spec.objective.needs_spatial and len(layer.output_shape) != 3:
        raise AnalysisInputError(
            f"objective {spec.objective.value!r} needs a layer with [height, width, channels] outputs; "
            f"layer {layer.name!r} has output shape {list(layer.output_shape)}; use 'channel' instead"
        )
    if spec.objective is ObjectiveKind.DIRECTION and len(spec.direction or ()) != layer.units:
        raise AnalysisInputError(
            f"direction has {len(spec.direction or ())} values but layer {layer.name!r} has {layer.units} channels"
        )
    height, width = input_shape[0], input_shape[1]
    if spec.image_size is not None:
        image_hw = (spec.image_size, spec.image_size)
    elif height and width:
        image_hw = (int(height), int(width))
    else:
        raise AnalysisInputError(
            f"model {spec.model_id!r} accepts any image size; choose one with image_size (e.g. 128, lucid's default)"
        )
    canvas_hw = (int(height), int(width)) if height and width else image_hw
    restart_dataset = registry.get(spec.model_id).dataset(DatasetRole.DATA) if spec.restarts_dead_units else None
    example_dataset = _example_dataset(spec, registry) if spec.objective is ObjectiveKind.CARICATURE else None
    return ResolvedRender(
        spec=spec,
        revision=revision,
        layer=layer,
        image_hw=image_hw,
        canvas_hw=canvas_hw,
        channels=int(input_shape[-1]),
        input_range=summary.input_range,
        restart_dataset=restart_dataset,
        example_dataset=example_dataset,
    )


def _example_dataset(spec: RenderSpec, registry: ModelRegistry) -> DatasetInfo:
    """The linked data set a caricature's ``example`` indexes; the example must be one of its rows."""
    dataset = registry.get(spec.model_id).dataset(DatasetRole.DATA)
    if dataset is None:
        raise AnalysisInputError(
            f"objective 'caricature' starts from a dataset example, and model {spec.model_id!r} has no linked "
            f"data set; link one with 'python -m analysis models add MODEL --id {spec.model_id} --data DATA.npz'"
        )
    example = spec.example if spec.example is not None else -1
    if not 0 <= example < dataset.n_examples:
        raise AnalysisInputError(example_out_of_range(spec.example, dataset))
    return dataset


def example_out_of_range(example: object, dataset: DatasetInfo) -> str:
    """The message for an example index outside the linked data set (shared with the links)."""
    name = dataset.path.rsplit("/", 1)[-1]
    return f"example {example!r} is out of range; the linked data set {name!r} has examples 0-{dataset.n_examples - 1}"


def _entry_keys(key: str) -> tuple[str, str]:
    return f"{key}/image", f"{key}/meta"


def read_rendering(store: ResultStore, resolved: ResolvedRender, unit: int | None) -> UnitRendering | None:
    """The cached rendering of ``unit``, or None when it was not rendered yet."""
    key = resolved.key(unit)
    image_key, meta_key = _entry_keys(key)
    meta = store.get(meta_key, JSON)
    if meta is None:
        return None
    image = store.get(image_key, PNG)
    if image is None:
        return None
    return UnitRendering(
        model_id=resolved.spec.model_id,
        revision=resolved.revision.revision,
        layer=resolved.layer.name,
        unit=unit,
        objective=resolved.spec.objective,
        image=image,
        activation=float(meta["activation"]),
        parameters=meta["parameters"],
        n_images=int(meta["n_images"]),
        cached=True,
        cache_key=key,
        seconds=None,
        notes=tuple(meta.get("notes", ())),
    )


def write_rendering(store: ResultStore, rendering: UnitRendering) -> None:
    """Store a fresh rendering: the image first, then its metadata (which makes it visible)."""
    image_key, meta_key = _entry_keys(rendering.cache_key)
    store.put(image_key, rendering.image, PNG)
    meta = {
        "activation": rendering.activation,
        "parameters": dict(rendering.parameters),
        "n_images": rendering.n_images,
        "notes": list(rendering.notes),
        "seconds": rendering.seconds,
    }
    store.put(meta_key, meta, JSON)


def is_cached(store: ResultStore, resolved: ResolvedRender, unit: int | None) -> bool:
    """Cheap presence check (no decoding), e.g. for a layer grid's placeholders."""
    return store.contains(_entry_keys(resolved.key(unit))[1])


def _open_store(store: ResultStore | None) -> ResultStore:
    if store is not None:
        return store
    from analysis.paths import open_result_store

    return open_result_store()


def load_cached_rendering(
    spec: RenderSpec,
    unit: int | None = None,
    *,
    store: ResultStore | None = None,
    registry: ModelRegistry | None = None,
) -> UnitRendering | None:
    """One unit's cached rendering (None if not rendered yet), without importing TensorFlow.

    ``unit`` defaults to the spec's only target; it must be one of ``spec.targets()``.
    """
    targets = spec.targets()
    if unit is None and spec.objective.per_unit:
        if len(targets) != 1:
            raise AnalysisInputError(f"say which unit to load; the spec has units {list(targets)}")
        unit = targets[0]
    resolved = resolve_render(spec, registry=registry)
    if unit is not None and unit not in targets:
        raise AnalysisInputError(f"unit {unit} is not one of the spec's units {list(targets)}")
    return read_rendering(_open_store(store), resolved, unit)


def load_cached_renderings(
    spec: RenderSpec, *, store: ResultStore | None = None, registry: ModelRegistry | None = None
) -> dict[int | None, UnitRendering | None]:
    """Every target of ``spec`` -> its cached rendering or None, without importing TensorFlow."""
    resolved = resolve_render(spec, registry=registry)
    opened = _open_store(store)
    return {unit: read_rendering(opened, resolved, unit) for unit in spec.targets()}


def cached_targets(
    spec: RenderSpec, *, store: ResultStore | None = None, registry: ModelRegistry | None = None
) -> set[int | None]:
    """The targets of ``spec`` that are already rendered (cheap; for thumbnails and placeholders)."""
    resolved = resolve_render(spec, registry=registry)
    opened = _open_store(store)
    return {unit for unit in spec.targets() if is_cached(opened, resolved, unit)}

"""What a unit page shows from its dataset examples, precomputed so a cached page never loads the data set.

After a layer's dataset-examples pass, :func:`compute_unit_pages` writes, per unit, one JSON entry
of the result store: thumbnails of the top examples (with the unit's heat overlay) and the bottom
examples as small PNGs, the activation histogram as a PNG, and the unit's ranked examples (what the
page's JSON download holds); and, per layer, one entry of *tiles*: each unit's strongest example
with its overlay, for the grid's placeholder tiles. Reading them (:func:`load_unit_page`,
:func:`load_layer_tiles`) imports neither TensorFlow nor matplotlib and reads no data set.

Keys: ``make_key(revision, "unit-page" | "unit-tiles", {"examples_key", "unit"}, CODE_VERSION)``:
the examples result's own key pins the data set, the layer, ``k`` and ``bins``.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from analysis.datasets import DatasetRole, load_npz
from analysis.microscope.dataset_examples import (
    DatasetExamplesResult,
    DatasetExamplesSpec,
    compute_dataset_examples,
    dataset_examples_key,
)
from analysis.models.registry import ModelRegistry
from analysis.static_figures import png_bytes
from cache import JSON, PNG, ResultStore, make_key

CODE_VERSION = "unit-page-2"  # 2: overlays clip negative activations (no uint8 wrap-around)
PAGE_ANALYSIS = "unit-page"
TILES_ANALYSIS = "unit-tiles"
SHOWN = 5  # thumbnails per row on the unit page


@dataclass(frozen=True, slots=True, kw_only=True)
class Thumbnail:
    """One dataset example as shown: its index in the data set's ``x``, the unit's value, PNG bytes."""

    index: int
    value: float
    png: bytes | None  # None for non-image inputs


@dataclass(frozen=True, slots=True, kw_only=True)
class UnitPage:
    """A unit page's dataset half: thumbnails, histogram PNG and the unit's ranked examples (JSON-safe)."""

    unit: int
    n_examples: int
    dataset_name: str
    dataset_path: str
    dataset_sha256: str
    top: tuple[Thumbnail, ...]
    bottom: tuple[Thumbnail, ...]
    histogram_png: bytes | None
    unit_data: dict[str, Any]  # UnitExamples.to_dict()

    @property
    def top_indices(self) -> tuple[int, ...]:
        return tuple(t.index for t in self.top)


def to_display_image(x: np.ndarray, value_range: tuple[float, float]) -> np.ndarray:
    """A model input ``[h, w, 3]`` (or grey ``[h, w, 1]`` / ``[h, w]``) in ``value_range`` as uint8 RGB ``[h, w, 3]``.

    Scaled in float32 and clipped before the cast, so inputs in [-1, 1] or [0, 255] never wrap around.
    """
    low, high = (float(v) for v in value_range)
    scaled = (np.asarray(x, dtype=np.float32) - low) / ((high - low) or 1.0)
    image = (np.clip(np.nan_to_num(scaled), 0.0, 1.0) * 255).round().astype(np.uint8)
    if image.ndim == 2:
        image = image[..., None]
    return np.repeat(image, 3, axis=-1) if image.shape[-1] == 1 else image


def overlay_heatmap(image: np.ndarray, activation_map: np.ndarray, *, alpha: float = 0.5) -> np.ndarray:
    """``image`` uint8 ``[H, W, 3]`` (or grey ``[H, W]`` / ``[H, W, 1]``) with ``activation_map`` ``[h, w]``
    upsampled (nearest) and tinted red: uint8 ``[H, W, 3]``.

    The map is scaled to [0, 1] by its own maximum, so the overlay shows *where* the unit
    fired in this example, not how strongly compared with others. Negative activations (a unit
    after BatchNormalization or tanh, common when inputs are in [-1, 1]) are "not firing": weight
    0, never a negative weight, which would push pixels past 255 and wrap around in uint8.
    """
    image = np.asarray(image)
    if image.ndim == 2:
        image = image[..., None]
    if image.shape[-1] == 1:
        image = np.repeat(image, 3, axis=-1)
    heat = np.nan_to_num(np.asarray(activation_map, dtype=np.float32), nan=0.0, posinf=0.0, neginf=0.0)
    height, width = image.shape[:2]
    if heat.size == 0:
        return image
    rows = (np.arange(height) * heat.shape[0] // height).clip(0, heat.shape[0] - 1)
    cols = (np.arange(width) * heat.shape[1] // width).clip(0, heat.shape[1] - 1)
    heat = heat[rows][:, cols]
    peak = heat.max()
    heat = np.clip(heat / peak, 0.0, 1.0) if peak > 0 else np.zeros_like(heat)
    tint = np.zeros(image.shape, dtype=np.float32)
    tint[..., 0] = 255
    weight = (alpha * heat)[..., None]
    blended = (1 - weight) * image.astype(np.float32) + weight * tint
    return np.clip(blended.round(), 0, 255).astype(np.uint8)


def _page_key(examples_key: str, revision: str, unit: int) -> str:
    params = {"examples_key": examples_key, "unit": unit}
    return make_key(revision=revision, analysis=PAGE_ANALYSIS, params=params, code_version=CODE_VERSION)


def _tiles_key(examples_key: str, revision: str) -> str:
    params = {"examples_key": examples_key}
    return make_key(revision=revision, analysis=TILES_ANALYSIS, params=params, code_version=CODE_VERSION)


def _open(store: ResultStore | None) -> ResultStore:
    if store is not None:
        return store
    from analysis.paths import open_result_store

    return open_result_store()


def histogram_label(spatial: bool) -> str:
    """The histogram's x label: a channel mean on [h, w, c] layers, else the unit's activation itself."""
    return "activation (channel mean)" if spatial else "activation"


def _histogram_png(counts: list[int], edges: list[float], unit: int, *, spatial: bool) -> bytes:
    """The unit's histogram over the data set (its channel mean on spatial layers), 480x200 px (matplotlib)."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(4.8, 2.0), dpi=100)
    axes = figure.add_subplot()
    edges_array = np.asarray(edges, dtype=float)
    axes.bar(edges_array[:-1], counts, width=np.diff(edges_array), align="edge", color="#4c78a8")
    axes.set_xlabel(histogram_label(spatial), fontsize=8)
    axes.set_ylabel("examples", fontsize=8)
    axes.set_title(f"Unit {unit} over the data set", fontsize=9)
    axes.tick_params(labelsize=7)
    figure.tight_layout()
    return png_bytes(figure, dpi=100)


def _b64(data: bytes | None) -> str | None:
    return None if data is None else base64.b64encode(data).decode("ascii")


def compute_unit_pages(
    spec: DatasetExamplesSpec,
    *,
    result: DatasetExamplesResult | None = None,
    store: ResultStore | None = None,
    registry: ModelRegistry | None = None,
) -> int:
    """Write every unit's page entry and the layer's tiles; loads the data set once. Returns units written."""
    registry = registry or ModelRegistry()
    opened = _open(store)
    result = result or compute_dataset_examples(spec, store=opened, registry=registry)
    examples_key = dataset_examples_key(spec, registry)
    summary = registry.resolve(spec.model_id, result.revision).summary
    x = load_npz(Path(result.dataset_path))["x"]
    linked = registry.get(spec.model_id).dataset(DatasetRole.DATA)
    converted_from = linked.source if linked is not None and linked.sha256 == result.dataset_sha256 else None
    # an image folder or a table converted to .npz is named as the user knows it, not by the converted file
    dataset_name = Path(converted_from["path"]).name if converted_from else Path(result.dataset_path).name
    image_input = x.ndim == 4 and x.shape[-1] in (1, 3)
    tiles: dict[str, str] = {}
    for unit in range(result.units):
        examples = result.unit(unit)

        def thumbs(ranked: tuple[tuple[int, float], ...], maps: np.ndarray | None) -> list[dict[str, Any]]:
            shown = []
            for position, (index, value) in enumerate(ranked[:SHOWN]):
                png = None
                if image_input:
                    image = to_display_image(x[index], summary.input_range)
                    if maps is not None and maps.shape[-1] > 0:
                        image = overlay_heatmap(image, maps[position])
                    png = PNG.encode(image)
                shown.append({"index": int(index), "value": float(value), "png": _b64(png)})
            return shown

        top = thumbs(examples.top_mean, examples.top_mean_maps)
        counts, edges = examples.hist_mean
        entry = {
            "unit": unit,
            "n_examples": result.n_examples,
            "dataset_name": dataset_name,
            "dataset_path": result.dataset_path,
            "dataset_sha256": result.dataset_sha256,
            "top": top,
            "bottom": thumbs(examples.bottom_mean, None),
            "histogram_png": _b64(_histogram_png(list(counts), list(edges), unit, spatial=result.spatial)),
            "unit_data": examples.to_dict(),
        }
        opened.put(_page_key(examples_key, result.revision, unit), entry, JSON)
        if top and top[0]["png"] is not None:
            tiles[str(unit)] = top[0]["png"]
    opened.put(_tiles_key(examples_key, result.revision), tiles, JSON)
    return result.units


def _thumbnail(item: dict[str, Any]) -> Thumbnail:
    png = item.get("png")
    return Thumbnail(
        index=int(item["index"]), value=float(item["value"]), png=None if png is None else base64.b64decode(png)
    )


def load_unit_page(
    spec: DatasetExamplesSpec, unit: int, *, store: ResultStore | None = None, registry: ModelRegistry | None = None
) -> UnitPage | None:
    """The unit's precomputed page entry, or None; reads the result store only."""
    registry = registry or ModelRegistry()
    revision = registry.resolve(spec.model_id, spec.revision).revision
    entry = _open(store).get(_page_key(dataset_examples_key(spec, registry), revision, unit), JSON)
    if entry is None:
        return None
    histogram = entry.get("histogram_png")
    return UnitPage(
        unit=int(entry["unit"]),
        n_examples=int(entry["n_examples"]),
        dataset_name=str(entry.get("dataset_name") or str(entry["dataset_path"]).rsplit("/", 1)[-1]),
        dataset_path=str(entry["dataset_path"]),
        dataset_sha256=str(entry["dataset_sha256"]),
        top=tuple(_thumbnail(t) for t in entry["top"]),
        bottom=tuple(_thumbnail(t) for t in entry["bottom"]),
        histogram_png=None if histogram is None else base64.b64decode(histogram),
        unit_data=entry["unit_data"],
    )


def load_layer_tiles(
    spec: DatasetExamplesSpec, *, store: ResultStore | None = None, registry: ModelRegistry | None = None
) -> dict[int, bytes]:
    """Each unit's strongest example (PNG with its overlay) for the grid; empty when not computed yet."""
    registry = registry or ModelRegistry()
    revision = registry.resolve(spec.model_id, spec.revision).revision
    tiles = _open(store).get(_tiles_key(dataset_examples_key(spec, registry), revision), JSON)
    return {int(unit): base64.b64decode(png) for unit, png in (tiles or {}).items()}

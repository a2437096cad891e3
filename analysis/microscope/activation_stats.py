"""One pass of a data set through a layer: per-unit statistics and top-k maps (imports TensorFlow).

Per example and unit it keeps the channel mean and the spatial max (``[n, units]``, small);
the top-k examples by each, with their activation maps, are merged batch by batch so the
maps never need a second pass. Ties rank the lower example index first, and each unit's count
of examples tied at its minimum is kept: after a ReLU hundreds of examples often sit at exactly
0, and a page says so instead of listing an arbitrary k of them.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from analysis.models.activations import read_activations
from analysis.progress import Progress


def _rank(values: np.ndarray, indices: np.ndarray, k: int, *, descending: bool) -> np.ndarray:
    """Positions of the k most extreme ``values`` per column; ``values`` ``[n, units]`` -> ``[units, k]``."""
    keys = -values if descending else values
    order = np.lexsort((np.broadcast_to(indices[:, None], values.shape), keys), axis=0)
    return order[:k].T


class _TopK:
    """Running top-k (largest) per unit, with maps: values/indices ``[units, k]``, maps ``[units, k, h, w]``."""

    def __init__(self, k: int) -> None:
        self.k = k
        self.values: np.ndarray | None = None
        self.indices: np.ndarray | None = None
        self.maps: np.ndarray | None = None

    def update(self, values: np.ndarray, indices: np.ndarray, maps: np.ndarray) -> None:
        """``values`` ``[n, units]``, ``indices`` ``[n]``, ``maps`` ``[n, h, w, units]``."""
        k = min(self.k, len(values))
        best = _rank(values, indices, k, descending=True)  # [units, k] positions in this batch
        units = np.arange(values.shape[1])[:, None]
        new_values = values[best, units]
        new_indices = indices[best]
        new_maps = np.moveaxis(maps, -1, 1)[best, units] if maps.size else np.zeros((*best.shape, 0, 0), np.float32)
        if self.values is not None:
            new_values = np.concatenate([self.values, new_values], axis=1)
            new_indices = np.concatenate([self.indices, new_indices], axis=1)
            new_maps = np.concatenate([self.maps, new_maps], axis=1)
        order = np.lexsort((new_indices, -new_values), axis=1)[:, : self.k]
        self.values = np.take_along_axis(new_values, order, axis=1)
        self.indices = np.take_along_axis(new_indices, order, axis=1)
        self.maps = np.take_along_axis(new_maps, order[:, :, None, None], axis=1)


def _histograms(values: np.ndarray, bins: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-unit histograms of ``values`` ``[n, units]``: counts ``[units, bins]``, edges ``[units, bins + 1]``."""
    counts, edges = [], []
    for column in values.T:
        low, high = float(column.min()), float(column.max())
        if low == high:
            low, high = low - 0.5, high + 0.5
        c, e = np.histogram(column, bins=bins, range=(low, high))
        counts.append(c)
        edges.append(e)
    return np.asarray(counts, dtype=np.int64), np.asarray(edges, dtype=np.float64)


def count_ties_at_minimum(values: np.ndarray) -> np.ndarray:
    """Per unit, how many examples share the unit's smallest value: ``[n, units]`` -> int64 ``[units]``."""
    if not len(values):
        return np.zeros(values.shape[1], dtype=np.int64)
    return np.sum(values == values.min(axis=0, keepdims=True), axis=0).astype(np.int64)


def run_activation_pass(
    model: Any,
    layer: str,
    x: np.ndarray,
    indices: np.ndarray,
    *,
    k: int,
    bins: int,
    batch_size: int = 128,
    progress: Progress | None = None,
) -> dict[str, np.ndarray]:
    """Statistics of ``layer`` over ``x[indices]``; the arrays of a ``DatasetExamplesResult``."""
    means, maxes = [], []
    top_mean, top_max = _TopK(k), _TopK(k)
    done = 0
    for chunk, outputs in read_activations(model, (layer,), x, indices, batch_size=batch_size):
        acts = outputs[layer]  # [n, ..., units]
        flat = acts.reshape(len(chunk), -1, acts.shape[-1])
        mean, peak = flat.mean(axis=1), flat.max(axis=1)
        means.append(mean)
        maxes.append(peak)
        maps = acts if acts.ndim == 4 else np.zeros((len(chunk), 0, 0, acts.shape[-1]), np.float32)
        top_mean.update(mean, chunk, maps)
        top_max.update(peak, chunk, maps)
        done += len(chunk)
        if progress is not None:
            progress(done / len(indices), f"{done}/{len(indices)} examples through {layer!r}")
    mean_all, max_all = np.concatenate(means), np.concatenate(maxes)
    arrays: dict[str, np.ndarray] = {}
    for name, values, top in (("mean", mean_all, top_mean), ("max", max_all, top_max)):
        bottom = _rank(values, indices, k, descending=False)
        units = np.arange(values.shape[1])[:, None]
        arrays[f"top_{name}_index"] = top.indices.astype(np.int64)
        arrays[f"top_{name}_value"] = top.values.astype(np.float32)
        arrays[f"bottom_{name}_index"] = indices[bottom].astype(np.int64)
        arrays[f"bottom_{name}_value"] = values[bottom, units].astype(np.float32)
        arrays[f"bottom_{name}_ties"] = count_ties_at_minimum(values)
        arrays[f"top_{name}_maps"] = np.clip(top.maps, -65504, 65504).astype(np.float16)  # heat overlays
        arrays[f"hist_{name}_counts"], arrays[f"hist_{name}_edges"] = _histograms(values, bins)
    return arrays

"""Figures and images for the Microscope: activation histograms and heat overlays."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from analysis.microscope.dataset_examples import UnitExamples


def plot_activation_histogram(unit: UnitExamples, *, by: str = "mean", title: str | None = None) -> go.Figure:
    """Histogram of a unit's activation over the data set (``by``: ``"mean"`` or ``"max"`` per example)."""
    counts, edges = unit.hist_mean if by == "mean" else unit.hist_max
    edges_array = np.asarray(edges, dtype=float)
    centres = (edges_array[:-1] + edges_array[1:]) / 2
    figure = go.Figure(
        go.Bar(
            x=centres,
            y=list(counts),
            width=np.diff(edges_array),
            marker_color="#4c78a8",
            hovertemplate="activation %{x:.3g}<br>%{y} examples<extra></extra>",
        )
    )
    figure.update_layout(
        title=title or f"Unit {unit.unit}: channel {'mean' if by == 'mean' else 'spatial max'} over the data set",
        xaxis_title="activation",
        yaxis_title="examples",
        bargap=0,
        height=280,
        margin={"t": 40, "b": 40},
    )
    return figure


def to_display_image(x: np.ndarray, value_range: tuple[float, float]) -> np.ndarray:
    """A model input ``[h, w, 3]`` in ``value_range`` as uint8 RGB for display."""
    low, high = value_range
    scaled = (np.asarray(x, dtype=np.float32) - low) / (high - low)
    return (np.clip(scaled, 0.0, 1.0) * 255).round().astype(np.uint8)


def overlay_heatmap(image: np.ndarray, activation_map: np.ndarray, *, alpha: float = 0.5) -> np.ndarray:
    """``image`` uint8 ``[H, W, 3]`` with ``activation_map`` ``[h, w]`` upsampled (nearest) and tinted red.

    The map is scaled to [0, 1] by its own maximum, so the overlay shows *where* the unit
    fired in this example, not how strongly compared with others.
    """
    heat = np.asarray(activation_map, dtype=np.float32)
    height, width = image.shape[:2]
    if heat.size == 0:
        return image
    rows = (np.arange(height) * heat.shape[0] // height).clip(0, heat.shape[0] - 1)
    cols = (np.arange(width) * heat.shape[1] // width).clip(0, heat.shape[1] - 1)
    heat = heat[rows][:, cols]
    peak = heat.max()
    heat = heat / peak if peak > 0 else np.zeros_like(heat)
    tint = np.zeros_like(image, dtype=np.float32)
    tint[..., 0] = 255
    weight = (alpha * heat)[..., None]
    return ((1 - weight) * image.astype(np.float32) + weight * tint).round().astype(np.uint8)

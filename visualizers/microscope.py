"""Figures and images for the Microscope: activation histograms and heat overlays."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from analysis.microscope.dataset_examples import UnitExamples
from analysis.microscope.unit_pages import overlay_heatmap, to_display_image

__all__ = ["enlarge", "overlay_heatmap", "plot_activation_histogram", "to_display_image"]


def enlarge(image: np.ndarray, width: int) -> np.ndarray:
    """``image`` ``[h, w, ...]`` repeated by the whole factor that brings it nearest ``width`` px wide.

    Crisp pixels, never shrunk: a 64 px rendering becomes 256 px for ``width=256``; a 224 px one stays.
    """
    factor = max(1, round(width / image.shape[1]))
    return image if factor == 1 else np.repeat(np.repeat(image, factor, axis=0), factor, axis=1)


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


def side_by_side(images: list[np.ndarray], *, gap: int = 4) -> np.ndarray:
    """Images uint8 ``[h, w, 3]`` in one row, separated by ``gap`` white columns: uint8 ``[h, n*w + (n-1)*gap, 3]``."""
    height = images[0].shape[0]
    spacer = np.full((height, gap, 3), 255, dtype=np.uint8)
    parts: list[np.ndarray] = []
    for index, image in enumerate(images):
        if index:
            parts.append(spacer)
        parts.append(image)
    return np.concatenate(parts, axis=1)

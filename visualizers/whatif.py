"""What-If charts: partial dependence with ICE curves, and a datapoint beside its counterpart.

Pure functions of :mod:`analysis.whatif` result types; no I/O, no analysis.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from analysis.whatif.spec import Counterpart, PartialDependence, WhatIfResult
from visualizers.style import BASELINE, POSITIVE, finish_layout, number_text

ICE_COLOUR = "rgba(107, 114, 128, 0.25)"


def plot_partial_dependence(curve: PartialDependence, *, value: float | None = None, max_ice: int = 50) -> go.Figure:
    """ICE curves (grey, up to ``max_ice``), their mean (the partial dependence, dark) and the datapoint's curve (red).

    ``value``: the datapoint's own value of the feature, marked on its curve.
    """
    figure = go.Figure()
    grid = curve.grid
    for i, row in enumerate(curve.individual[:max_ice]):
        figure.add_trace(
            go.Scatter(
                x=grid,
                y=row,
                mode="lines",
                line={"color": ICE_COLOUR, "width": 1},
                name="ICE: one data row",
                legendgroup="ice",
                showlegend=i == 0,
                hovertemplate=f"row {int(curve.rows[i])}<br>%{{x:.4g}} → %{{y:.3f}}<extra></extra>",
            )
        )
    figure.add_trace(
        go.Scatter(
            x=grid,
            y=curve.average,
            mode="lines",
            line={"color": BASELINE, "width": 3},
            name=f"partial dependence (mean of {len(curve.rows)} rows)",
            hovertemplate="%{x:.4g} → mean %{y:.3f}<extra></extra>",
        )
    )
    figure.add_trace(
        go.Scatter(
            x=grid,
            y=curve.edited,
            mode="lines",
            line={"color": POSITIVE, "width": 3},
            name="this datapoint",
            hovertemplate="%{x:.4g} → %{y:.3f}<extra>this datapoint</extra>",
        )
    )
    if value is not None:
        at = float(np.interp(value, grid, curve.edited)) if grid[0] <= value <= grid[-1] else None
        if at is not None:
            figure.add_trace(
                go.Scatter(
                    x=[value],
                    y=[at],
                    mode="markers",
                    marker={"color": POSITIVE, "size": 11, "symbol": "diamond"},
                    name=f"its value {value:.4g}",
                    hoverinfo="skip",
                )
            )
    figure.update_xaxes(title_text=curve.feature)
    figure.update_yaxes(title_text=f"P(class {curve.class_index})", range=[0, 1])
    return finish_layout(figure, title=f"Partial dependence on {curve.feature}", height=420)


def counterpart_table(result: WhatIfResult, counterpart: Counterpart, *, name: str) -> pd.DataFrame:
    """Side by side: feature, the (edited) datapoint, the counterpart, and their difference (changed rows first)."""
    difference = counterpart.row - result.edited
    frame = pd.DataFrame(
        {
            "feature": list(result.feature_names),
            "this datapoint": [number_text(v) for v in result.edited],
            name: [number_text(v) for v in counterpart.row],
            "difference": [("+" if d > 0 else "") + number_text(d) if d != 0 else "" for d in difference],
        }
    )
    order = np.argsort(difference == 0, kind="stable")  # changed features first
    return frame.iloc[order].reset_index(drop=True)

"""Figures and images for SHAP explanations: waterfall, bars, beeswarm, slice differences, heat overlays.

Pure functions of :mod:`analysis.explain` results; no I/O, no analysis. Positive attributions
(pushing the target above the expected value) are red, negative ones blue, as in shap's plots.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from analysis.explain.slices import SliceComparison
from analysis.explain.spec import AttributionResult

POSITIVE = "#dc2626"
NEGATIVE = "#2563eb"
NEUTRAL = "#6b7280"


def _check_tabular(result: AttributionResult) -> None:
    if result.is_image:
        raise ValueError("this chart needs a tabular result; for images use attribution_overlay")


def _target_text(result: AttributionResult, position: int) -> str:
    if result.classes[position] >= 0:
        return f"class {int(result.classes[position])}"
    return f"unit {result.target.label()}"


def _top(values: np.ndarray, max_features: int) -> np.ndarray:
    """Indices of the ``max_features`` largest |values|, largest first."""
    return np.argsort(-np.abs(values), kind="stable")[:max_features]


def plot_waterfall(result: AttributionResult, *, example: int, max_features: int = 10) -> go.Figure:
    """From the expected value to the example's output, one step per feature (largest |attribution| first).

    ``example`` is a row index of the data set that the result explains. Features beyond
    ``max_features`` are summed into one "other features" step, so the bars still end at the output.
    """
    _check_tabular(result)
    i = result.position(example)
    values = result.values[i].astype(np.float64)
    top = _top(values, max_features)
    labels = [f"{result.feature_names[j]} = {result.inputs[i, j]:.4g}" for j in top]
    steps = values[top].tolist()
    rest = np.setdiff1d(np.arange(len(values)), top)
    if len(rest):
        labels.append(f"{len(rest)} other features")
        steps.append(float(values[rest].sum()))
    # plotly draws the first category at the bottom of a horizontal chart: reverse so the largest is on top
    labels, steps = labels[::-1], steps[::-1]
    expected, output = float(result.expected_values[i]), float(result.outputs[i])
    figure = go.Figure(
        go.Waterfall(
            orientation="h",
            base=expected,
            y=labels,
            x=steps,
            measure=["relative"] * len(steps),
            increasing={"marker": {"color": POSITIVE}},
            decreasing={"marker": {"color": NEGATIVE}},
            hovertemplate="%{y}<br>attribution %{x:+.4g}<extra></extra>",
        )
    )
    figure.add_vline(
        x=expected,
        line_dash="dot",
        line_color=NEUTRAL,
        annotation_text=f"expected {expected:.3g}",
        annotation_position="bottom",
    )
    figure.add_vline(x=output, line_color="black", annotation_text=f"output {output:.3g}", annotation_position="top")
    figure.update_layout(
        title=f"Example {example}: why {_target_text(result, i)} = {output:.3g}",
        xaxis_title="model output",
        height=120 + 28 * len(steps),
        margin={"l": 10, "r": 10, "t": 60, "b": 40},
        showlegend=False,
    )
    return figure


def plot_attribution_bars(
    result: AttributionResult, *, example: int | None = None, max_features: int = 20
) -> go.Figure:
    """One example's attributions (signed), or with ``example=None`` the global mean |attribution| per feature."""
    _check_tabular(result)
    if example is None:
        values = result.mean_abs()
        colours = [NEUTRAL] * len(values)
        title, axis = f"Feature importance: mean |SHAP| over {len(result.examples)} examples", "mean |attribution|"
    else:
        values = result.values[result.position(example)].astype(np.float64)
        colours = [POSITIVE if v > 0 else NEGATIVE for v in values]
        title, axis = f"Example {example}: attributions", "attribution"
    top = _top(values, max_features)[::-1]
    figure = go.Figure(
        go.Bar(
            x=values[top],
            y=[result.feature_names[j] for j in top],
            orientation="h",
            marker_color=[colours[j] for j in top],
            hovertemplate="%{y}: %{x:.4g}<extra></extra>",
        )
    )
    figure.update_layout(
        title=title, xaxis_title=axis, height=120 + 24 * len(top), margin={"l": 10, "r": 10, "t": 50, "b": 40}
    )
    return figure


def plot_beeswarm(result: AttributionResult, *, max_features: int = 12, seed: int = 0) -> go.Figure:
    """Every example's attribution per feature (one dot each), coloured by the feature's value.

    Features are ordered by mean |attribution| (most important on top); colour is the value's
    percentile within the explained examples (blue low, red high); vertical jitter is seeded.
    """
    _check_tabular(result)
    order = _top(result.mean_abs(), max_features)[::-1]
    rng = np.random.default_rng(seed)
    figure = go.Figure()
    n = len(result.examples)
    for row, j in enumerate(order):
        feature_values = result.inputs[:, j].astype(np.float64)
        ranks = feature_values.argsort().argsort() / max(n - 1, 1)
        figure.add_trace(
            go.Scatter(
                x=result.values[:, j],
                y=row + rng.uniform(-0.3, 0.3, n),
                mode="markers",
                marker={
                    "color": ranks,
                    "colorscale": [[0, NEGATIVE], [1, POSITIVE]],
                    "cmin": 0,
                    "cmax": 1,
                    "size": 6,
                    "opacity": 0.7,
                    "colorbar": {"title": "feature value", "tickvals": [0, 1], "ticktext": ["low", "high"]}
                    if row == 0
                    else None,
                    "showscale": row == 0,
                },
                customdata=np.stack([result.examples, feature_values], axis=1),
                hovertemplate=(
                    f"{result.feature_names[j]} = %{{customdata[1]:.4g}}<br>example %{{customdata[0]}}"
                    "<br>attribution %{x:+.4g}<extra></extra>"
                ),
                name=result.feature_names[j],
                showlegend=False,
            )
        )
    figure.add_vline(x=0, line_color=NEUTRAL)
    figure.update_layout(
        title=f"SHAP values of {n} examples",
        xaxis_title="attribution (impact on the model output)",
        yaxis={"tickvals": list(range(len(order))), "ticktext": [result.feature_names[j] for j in order]},
        height=140 + 36 * len(order),
        margin={"l": 10, "r": 10, "t": 50, "b": 40},
    )
    return figure


def plot_slice_difference(comparison: SliceComparison, *, max_features: int = 12) -> go.Figure:
    """Mean attribution per feature in slice A minus slice B: the features that drive the gap, largest on top."""
    difference = comparison.difference
    top = _top(difference, max_features)[::-1]
    figure = go.Figure(
        go.Bar(
            x=difference[top],
            y=[comparison.feature_names[j] for j in top],
            orientation="h",
            marker_color=[POSITIVE if difference[j] > 0 else NEGATIVE for j in top],
            customdata=np.stack([comparison.mean_a[top], comparison.mean_b[top]], axis=1),
            hovertemplate=(
                f"%{{y}}<br>{comparison.group_a}: %{{customdata[0]:+.4g}}<br>"
                f"{comparison.group_b}: %{{customdata[1]:+.4g}}<br>difference %{{x:+.4g}}<extra></extra>"
            ),
        )
    )
    figure.add_vline(x=0, line_color=NEUTRAL)
    figure.update_layout(
        title=(
            f"{comparison.column}={comparison.group_a} ({comparison.count_a}) vs {comparison.group_b} "
            f"({comparison.count_b}): mean attribution difference"
        ),
        xaxis_title=f"mean attribution, {comparison.group_a} minus {comparison.group_b}",
        height=140 + 26 * len(top),
        margin={"l": 10, "r": 10, "t": 50, "b": 40},
    )
    return figure


def attribution_map(attributions: np.ndarray) -> np.ndarray:
    """``[h, w, c]`` attributions summed over channels: float32 ``[h, w]`` (signed)."""
    values = np.asarray(attributions, dtype=np.float32)
    return values.sum(axis=-1) if values.ndim == 3 else values


def attribution_overlay(
    image: np.ndarray, attributions: np.ndarray, *, alpha: float = 0.6, percentile: float = 99.0
) -> np.ndarray:
    """``image`` uint8 ``[H, W, 3]`` tinted red where attributions are positive and blue where negative.

    ``attributions`` ``[h, w, c]`` (or ``[h, w]``) are summed over channels and scaled by this
    example's ``percentile`` of |attribution| (so one hot pixel does not wash out the rest), then
    resized to the image (nearest).
    """
    heat = attribution_map(attributions)
    height, width = image.shape[:2]
    rows = (np.arange(height) * heat.shape[0] // height).clip(0, heat.shape[0] - 1)
    cols = (np.arange(width) * heat.shape[1] // width).clip(0, heat.shape[1] - 1)
    heat = heat[rows][:, cols]
    scale = float(np.percentile(np.abs(heat), percentile)) if heat.size else 0.0
    heat = np.clip(heat / scale, -1.0, 1.0) if scale > 0 else np.zeros_like(heat)
    base = np.asarray(image, dtype=np.float32)
    if base.ndim == 2 or base.shape[-1] == 1:
        base = np.repeat(base.reshape(height, width, 1), 3, axis=-1)
    tint = np.where(heat[..., None] > 0, np.array([220, 38, 38], np.float32), np.array([37, 99, 235], np.float32))
    weight = (alpha * np.abs(heat))[..., None]
    return ((1 - weight) * base + weight * tint).round().clip(0, 255).astype(np.uint8)


def plot_attribution_map(result: AttributionResult, *, example: int) -> go.Figure:
    """An image example's attributions (summed over channels) as a heat map, red positive and blue negative."""
    if not result.is_image:
        raise ValueError("plot_attribution_map needs an image result")
    i = result.position(example)
    heat = attribution_map(result.values[i])
    limit = float(np.abs(heat).max()) or 1.0
    figure = go.Figure(
        go.Heatmap(
            z=heat,
            zmin=-limit,
            zmax=limit,
            colorscale=[[0, NEGATIVE], [0.5, "#ffffff"], [1, POSITIVE]],
            colorbar={"title": "attribution"},
            hovertemplate="(%{x}, %{y}): %{z:.3g}<extra></extra>",
        )
    )
    figure.update_yaxes(autorange="reversed", scaleanchor="x", showticklabels=False)
    figure.update_xaxes(showticklabels=False)
    figure.update_layout(
        title=f"Example {example}: attributions for {_target_text(result, i)}",
        height=360,
        margin={"l": 10, "r": 10, "t": 50, "b": 10},
    )
    return figure

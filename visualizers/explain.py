"""Figures and images for SHAP explanations: waterfall, bars, beeswarm, slice differences, heat overlays.

Pure functions of :mod:`analysis.explain` results; no I/O, no analysis. Positive attributions
(pushing the target above the expected value) are red, negative ones blue, as in shap's plots.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from analysis.explain.slices import SliceComparison
from analysis.explain.spec import AttributionResult
from visualizers.style import NEGATIVE, POSITIVE, add_legend_entries, finish_layout, number_text

NEUTRAL = "#6b7280"
# Names that say nothing about what an output means (Keras defaults and generic heads).
_GENERIC_OUTPUTS = ("dense", "output", "outputs", "predictions", "prediction", "probs", "logits", "softmax", "out")


def output_meaning(layer_name: str | None, *, binary: bool, class_index: int | None) -> str:
    """What the explained output means, for titles: a named binary output's name ('repay probability'),
    otherwise 'probability of class k' / 'output k'.

    ``layer_name`` is the model's output layer; a generic or numbered Keras name ('dense_3', 'probs')
    says nothing, so the class index is used instead.
    """
    name = (layer_name or "").strip()
    base = name.rstrip("0123456789").rstrip("_").lower()
    if binary and name and base not in _GENERIC_OUTPUTS:
        return name.replace("_", " ")
    if class_index is None or class_index < 0:
        return "the unit's activation"
    return f"probability of class {class_index}" if binary or name else f"output {class_index}"


def _legend_for_signs(figure: go.Figure, meaning: str) -> None:
    add_legend_entries(figure, [(POSITIVE, f"raises {meaning}"), (NEGATIVE, f"lowers {meaning}")])


def _check_tabular(result: AttributionResult) -> None:
    if result.is_image:
        raise ValueError("this chart needs a tabular result; for images use attribution_overlay")


def _target_text(result: AttributionResult, position: int, meaning: str | None = None) -> str:
    if meaning:
        return meaning
    if result.classes[position] >= 0:
        return f"class {int(result.classes[position])}"
    return f"unit {result.target.label()}"


def _top(values: np.ndarray, max_features: int) -> np.ndarray:
    """Indices of the ``max_features`` largest |values|, largest first."""
    return np.argsort(-np.abs(values), kind="stable")[:max_features]


def plot_waterfall(
    result: AttributionResult, *, example: int, max_features: int = 10, meaning: str | None = None
) -> go.Figure:
    """From the expected value to the example's output, one step per feature (largest |attribution| on top).

    ``example`` is a row index of the data set that the result explains; ``meaning`` says what the
    output is (see :func:`output_meaning`). Features beyond ``max_features`` are summed into one
    "other features" step, so the bars still end at the output. The expected value and the output
    are drawn as lines named in the legend (never as labels over the axis ticks).
    """
    _check_tabular(result)
    i = result.position(example)
    values = result.values[i].astype(np.float64)
    top = _top(values, max_features)
    labels = [f"{result.feature_names[j]} = {number_text(float(result.inputs[i, j]))}" for j in top]
    steps = values[top].tolist()
    rest = np.setdiff1d(np.arange(len(values)), top)
    if len(rest):
        labels.append(f"{len(rest)} other features")
        steps.append(float(values[rest].sum()))
    # plotly draws the first category at the bottom of a horizontal chart: reverse so the largest is on top
    labels, steps = labels[::-1], steps[::-1]
    expected, output = float(result.expected_values[i]), float(result.outputs[i])
    what = _target_text(result, i, meaning)
    figure = go.Figure(
        go.Waterfall(
            orientation="h",
            base=expected,
            y=labels,
            x=steps,
            measure=["relative"] * len(steps),
            increasing={"marker": {"color": POSITIVE}},
            decreasing={"marker": {"color": NEGATIVE}},
            hovertemplate="%{y}<br>attribution %{x:+.3g}<extra></extra>",
            showlegend=False,
        )
    )
    figure.add_vline(x=expected, line_dash="dot", line_color=NEUTRAL)
    figure.add_vline(x=output, line_color="black")
    _legend_for_signs(figure, what)
    add_legend_entries(
        figure,
        [
            (NEUTRAL, f"dotted: expected {what}, {number_text(expected)} (mean over the background rows)"),
            ("black", f"solid: this example's {what}, {number_text(output)}"),
        ],
        symbol="line-ns-open",
    )
    finish_layout(
        figure,
        title=f"Example {example}: why {what} = {number_text(output)}",
        height=190 + 28 * len(steps),
    )
    figure.update_xaxes(title=what)
    return figure


def plot_attribution_bars(
    result: AttributionResult, *, example: int | None = None, max_features: int = 20, meaning: str | None = None
) -> go.Figure:
    """One example's attributions (signed), or with ``example=None`` the global mean |attribution| per feature."""
    _check_tabular(result)
    what = meaning or _target_text(result, 0)
    if example is None:
        values = result.mean_abs()
        colours = [NEUTRAL] * len(values)
        title = f"Which features move {what} most: mean |SHAP| over {len(result.examples)} examples"
        axis = f"mean |attribution| (change in {what})"
    else:
        values = result.values[result.position(example)].astype(np.float64)
        colours = [POSITIVE if v > 0 else NEGATIVE for v in values]
        title, axis = f"Example {example}: each feature's push on {what}", f"attribution (change in {what})"
    top = _top(values, max_features)[::-1]
    figure = go.Figure(
        go.Bar(
            x=values[top],
            y=[result.feature_names[j] for j in top],
            orientation="h",
            marker_color=[colours[j] for j in top],
            hovertemplate="%{y}: %{x:.3g}<extra></extra>",
            showlegend=False,
        )
    )
    if example is not None:
        _legend_for_signs(figure, what)
    finish_layout(figure, title=title, height=150 + 24 * len(top), legend=example is not None)
    figure.update_xaxes(title=axis)
    return figure


def attribution_table(result: AttributionResult, *, example: int, meaning: str | None = None) -> pd.DataFrame:
    """One example's features in the charts' order (largest |attribution| first), with readable columns."""
    _check_tabular(result)
    i = result.position(example)
    values = result.values[i].astype(np.float64)
    what = _target_text(result, i, meaning)
    return pd.DataFrame(
        [
            {
                "Feature": result.feature_names[j],
                "Value": number_text(float(result.inputs[i, j])),
                f"Attribution (change in {what})": ("+" if values[j] > 0 else "") + number_text(float(values[j])),
                "Direction": "raises" if values[j] > 0 else ("lowers" if values[j] < 0 else "none"),
            }
            for j in _top(values, len(values))
        ]
    )


def plot_beeswarm(
    result: AttributionResult, *, max_features: int = 12, seed: int = 0, meaning: str | None = None
) -> go.Figure:
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
    what = meaning or _target_text(result, 0)
    finish_layout(figure, title=f"How each feature moves {what}, over {n} examples", height=140 + 36 * len(order))
    figure.update_layout(
        xaxis_title=f"attribution (change in {what}); right of 0 raises it",
        yaxis={"tickvals": list(range(len(order))), "ticktext": [result.feature_names[j] for j in order]},
        showlegend=False,
        margin={"b": 50},
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

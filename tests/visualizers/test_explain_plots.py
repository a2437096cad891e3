"""Explanation figures: the waterfall ends at the output, charts order by importance, overlays tint by sign."""

from __future__ import annotations

import numpy as np
import pytest

from analysis.explain.slices import SliceComparison
from analysis.explain.spec import AttributionResult, Explainer, Target
from visualizers.explain import (
    attribution_overlay,
    attribution_table,
    output_meaning,
    plot_attribution_bars,
    plot_attribution_map,
    plot_beeswarm,
    plot_slice_difference,
    plot_waterfall,
)

FEATURES = ("income", "debt", "history", "late")


def tabular_result() -> AttributionResult:
    values = np.array([[0.3, -0.1, 0.05, 0.0], [-0.2, 0.4, 0.0, 0.1], [0.1, 0.0, -0.3, 0.02]], np.float32)
    return AttributionResult(
        model_id="m",
        revision="r" * 64,
        explainer=Explainer.PERMUTATION,
        target=Target.parse(1),
        feature_names=FEATURES,
        examples=np.array([4, 9, 11]),
        classes=np.array([1, 1, 1]),
        inputs=np.arange(12, dtype=np.float32).reshape(3, 4),
        values=values,
        outputs=np.array([0.75, 0.8, 0.32]),
        expected_values=np.full(3, 0.5),
        background=10,
        seed=0,
    )


def image_result() -> AttributionResult:
    values = np.zeros((1, 2, 2, 3), np.float32)
    values[0, 0, 0] = 1.0  # positive top-left
    values[0, 1, 1] = -1.0  # negative bottom-right
    return AttributionResult(
        model_id="cnn",
        revision="r" * 64,
        explainer=Explainer.GRADIENT,
        target=Target.parse("conv:1"),
        feature_names=(),
        examples=np.array([0]),
        classes=np.array([-1]),
        inputs=np.zeros((1, 2, 2, 3), np.float32),
        values=values,
        outputs=np.array([1.0]),
        expected_values=np.array([1.0]),
        background=1,
        seed=0,
    )


def test_waterfall_steps_from_expected_value_to_output():
    result = tabular_result()
    figure = plot_waterfall(result, example=9, max_features=2)
    trace = figure.data[0]
    assert trace.base == 0.5
    assert list(trace.y) == ["2 other features", "income = 4", "debt = 5"]  # largest on top
    assert trace.x == pytest.approx((0.1, -0.2, 0.4))
    assert trace.base + sum(trace.x) == pytest.approx(0.8)
    assert "Example 9: why class 1 = 0.8" in figure.layout.title.text
    # the expected value and the output are lines named in the legend, not labels over the ticks
    assert [shape.x0 for shape in figure.layout.shapes] == pytest.approx([0.5, 0.8])
    assert not figure.layout.annotations
    legend = [t.name for t in figure.data[1:]]
    assert legend[:2] == ["raises class 1", "lowers class 1"]
    assert legend[2].startswith("dotted: expected class 1, 0.5") and legend[3].startswith("solid: this example's")
    named = plot_waterfall(result, example=9, meaning="repay probability")
    assert named.layout.title.text == "Example 9: why repay probability = 0.8"


def test_output_meaning_names_a_binary_output_by_its_layer():
    assert output_meaning("repay_probability", binary=True, class_index=1) == "repay probability"
    assert output_meaning("dense_3", binary=True, class_index=1) == "probability of class 1"
    assert output_meaning("probs", binary=False, class_index=4) == "probability of class 4"
    assert output_meaning(None, binary=False, class_index=2) == "output 2"


def test_the_table_lists_features_in_the_charts_order():
    result = tabular_result()
    table = attribution_table(result, example=9)
    bars = plot_attribution_bars(result, example=9)
    assert list(table["Feature"]) == list(bars.data[0].y)[::-1]  # plotly draws the first bar at the bottom
    assert "None" not in table.to_string()


def test_bars_and_beeswarm_order_features_by_importance():
    result = tabular_result()
    bars = plot_attribution_bars(result)
    mean_abs = np.abs(result.values).mean(axis=0)
    assert list(bars.data[0].y) == [FEATURES[j] for j in np.argsort(mean_abs)]
    single = plot_attribution_bars(result, example=4)
    assert list(single.data[0].y)[-1] == "income" and single.data[0].marker.color[-1] == "#dc2626"
    swarm = plot_beeswarm(result)
    assert len(swarm.data) == 4 and list(swarm.layout.yaxis.ticktext)[-1] == bars.data[0].y[-1]
    assert sorted(swarm.data[-1].x.tolist()) == pytest.approx(
        sorted(result.values[:, int(np.argmax(mean_abs))].tolist())
    )


def test_slice_difference_bars():
    comparison = SliceComparison(
        column="group",
        group_a="D",
        group_b="(everyone else)",
        count_a=10,
        count_b=20,
        feature_names=FEATURES,
        mean_a=np.array([-0.3, 0.0, 0.1, 0.0]),
        mean_b=np.array([0.1, 0.0, 0.05, 0.01]),
    )
    figure = plot_slice_difference(comparison)
    assert list(figure.data[0].y)[-1] == "income" and figure.data[0].x[-1] == pytest.approx(-0.4)
    assert "group=D (10) vs (everyone else) (20)" in figure.layout.title.text


def test_overlay_tints_positive_red_and_negative_blue():
    result = image_result()
    image = np.full((4, 4, 3), 128, np.uint8)
    overlay = attribution_overlay(image, result.values[0], alpha=1.0, percentile=100)
    assert tuple(overlay[0, 0]) == (220, 38, 38) and tuple(overlay[3, 3]) == (37, 99, 235)
    assert tuple(overlay[0, 3]) == (128, 128, 128)
    heat = plot_attribution_map(result, example=0).data[0]
    assert heat.z[0][0] == pytest.approx(3.0) and heat.zmax == pytest.approx(3.0)
    with pytest.raises(ValueError, match="needs a tabular result"):
        plot_waterfall(result, example=0)

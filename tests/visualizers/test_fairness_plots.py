"""plot_metric_bars: baseline first, error bars from the intervals, gaps in red, undefined left out."""

from __future__ import annotations

import pytest

from analysis.fairness.result import Comparison, Estimate, FairnessResult, SliceMetrics
from visualizers.fairness import BASELINE_COLOR, GAP_COLOR, SLICE_COLOR, plot_metric_bars


def entry(group, value, ci, *, gap=None, baseline=False, count=100):
    metrics = {"tpr": Estimate(value=value, ci=ci, reason=None if value is not None else "no positives")}
    vs = {"tpr": Comparison(difference=0.0, ratio=1.0, ci_difference=gap)} if group else {}
    return SliceMetrics(group=group, threshold=0.5, count=count, metrics=metrics, vs_baseline=vs, is_baseline=baseline)


def result(baseline="overall", slices=None):
    slices = slices or [
        entry({"sex": "F"}, 0.6, (0.55, 0.66), gap=(-0.2, -0.05)),
        entry({"sex": "M"}, 0.8, (0.75, 0.84), gap=(-0.01, 0.03)),
        entry({"sex": "X"}, None, None),
    ]
    return FairnessResult(
        overall=(entry({}, 0.7, (0.68, 0.72)),),
        slices=tuple(slices),
        disparities=(),
        too_small=(),
        parameters={},
        n_rows=300,
        baseline=baseline,
    )


def test_overall_baseline_is_drawn_first_with_interval_error_bars():
    figure = plot_metric_bars(result(), metric="tpr", threshold=0.5)
    bar = figure.data[0]
    assert list(bar.x) == ["overall", "sex=F", "sex=M"]
    assert list(bar.y) == [0.7, 0.6, 0.8]
    assert list(bar.error_y.array) == pytest.approx([0.02, 0.06, 0.04])
    assert list(bar.error_y.arrayminus) == pytest.approx([0.02, 0.05, 0.05])
    assert list(bar.marker.color) == [BASELINE_COLOR, GAP_COLOR, SLICE_COLOR]
    assert "undefined for sex=X" in figure.layout.title.text


def test_a_slice_baseline_comes_first_in_its_grouping():
    slices = [
        entry({"sex": "M"}, 0.8, (0.75, 0.84), gap=(0.0, 0.0), baseline=True),
        entry({"sex": "F"}, 0.6, (0.55, 0.66), gap=(-0.2, -0.05)),
    ]
    figure = plot_metric_bars(result("sex=M", list(reversed(slices))), metric="tpr", threshold=0.5, over=("sex",))
    assert list(figure.data[0].x) == ["sex=M", "sex=F"]
    assert figure.data[0].marker.color[0] == BASELINE_COLOR


def test_unknown_metric_or_threshold():
    with pytest.raises(ValueError, match="unknown metric 'tnx'"):
        plot_metric_bars(result(), metric="tnx", threshold=0.5)
    with pytest.raises(ValueError, match=r"threshold 0.7 is not in the result; it has \[0.5\]"):
        plot_metric_bars(result(), metric="tpr", threshold=0.7)

"""plot_metric_bars and slice_table: baseline first and drawn, whiskers from the intervals, colour by
direction and significance with a legend for each colour, percentages, the table in the chart's order."""

from __future__ import annotations

import pytest

from analysis.fairness.result import Comparison, Estimate, FairnessResult, SliceMetrics
from visualizers.fairness import plot_metric_bars, slice_table
from visualizers.style import ABOVE_PALE, BASELINE, BELOW, UNDEFINED


def entry(group, value, ci, *, gap=None, difference=0.0, baseline=False, count=100):
    metrics = {"tpr": Estimate(value=value, ci=ci, reason=None if value is not None else "no positives")}
    vs = {"tpr": Comparison(difference=difference, ratio=1.0, ci_difference=gap)} if group else {}
    return SliceMetrics(group=group, threshold=0.5, count=count, metrics=metrics, vs_baseline=vs, is_baseline=baseline)


def result(baseline="overall", slices=None):
    slices = slices or [
        entry({"sex": "F"}, 0.6, (0.55, 0.66), gap=(-0.2, -0.05), difference=-0.1),
        entry({"sex": "M"}, 0.8, (0.75, 0.84), gap=(-0.01, 0.03), difference=0.01),
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


def test_overall_baseline_is_drawn_first_with_interval_whiskers_and_a_line():
    figure = plot_metric_bars(result(), metric="tpr", threshold=0.5)
    bar = figure.data[0]
    assert list(bar.y) == ["overall", "sex=F", "sex=M", "sex=X"]
    assert list(bar.x) == [0.7, 0.6, 0.8, 0.0]
    assert list(bar.error_x.array) == pytest.approx([0.02, 0.06, 0.04, 0.0])
    assert list(bar.error_x.arrayminus) == pytest.approx([0.02, 0.05, 0.05, 0.0])
    # below and significant: strong blue; above but within noise: pale orange; undefined: grey, with its reason
    assert list(bar.marker.color) == [BASELINE, BELOW, ABOVE_PALE, UNDEFINED]
    assert list(figure.data[1].text) == ["70%", "60% (-10 pp)", "80% (+1 pp)", "undefined: no positives"]
    assert [shape.x0 for shape in figure.layout.shapes] == [0.7]  # the baseline line
    legend = {trace.marker.color: trace.name for trace in figure.data[2:]}
    assert set(bar.marker.color) <= set(legend)  # every colour on the chart is explained
    assert figure.layout.xaxis.tickformat == ".0%"


def test_a_slice_baseline_comes_first_in_its_grouping():
    slices = [
        entry({"sex": "M"}, 0.8, (0.75, 0.84), gap=(0.0, 0.0), baseline=True),
        entry({"sex": "F"}, 0.6, (0.55, 0.66), gap=(-0.2, -0.05), difference=-0.2),
    ]
    figure = plot_metric_bars(result("sex=M", list(reversed(slices))), metric="tpr", threshold=0.5, over=("sex",))
    assert list(figure.data[0].y) == ["sex=M", "sex=F"]
    assert figure.data[0].marker.color[0] == BASELINE


def test_the_table_follows_the_chart_and_says_why_a_value_is_missing():
    table = slice_table(result(), metrics=["tpr"], threshold=0.5)
    assert list(table["Slice"]) == ["overall", "sex=F", "sex=M", "sex=X"]
    assert table["Value [95% interval]"].tolist()[:2] == ["70% [68%, 72%]", "60% [55%, 66%]"]
    assert table["Difference to baseline [95% interval]"].tolist()[1] == "-10 pp [-20 pp, -5 pp]"
    assert table["Value [95% interval]"].tolist()[3] == "— (no positives)"
    assert "None" not in table.to_string()


def test_unknown_metric_or_threshold():
    with pytest.raises(ValueError, match="unknown metric 'tnx'"):
        plot_metric_bars(result(), metric="tnx", threshold=0.5)
    with pytest.raises(ValueError, match=r"threshold 0.7 is not in the result; it has \[0.5\]"):
        plot_metric_bars(result(), metric="tpr", threshold=0.7)

"""What-If and threshold-strategy charts: what they draw comes from the result, nothing else."""

from __future__ import annotations

import numpy as np

from analysis.fairness import FairnessSpec
from analysis.fairness.mitigation import MitigationSpec, compute_mitigation
from analysis.whatif import Distance, PartialDependence, WhatIfResult
from analysis.whatif.spec import Counterpart
from tests.analysis.fairness.test_fairness_metrics import make_table
from visualizers.fairness_thresholds import plot_strategy_comparison
from visualizers.whatif import counterpart_table, plot_partial_dependence

CURVE = PartialDependence(
    feature="a",
    class_index=1,
    grid=np.array([0.0, 1.0, 2.0]),
    average=np.array([0.2, 0.4, 0.6]),
    individual=np.array([[0.1, 0.3, 0.5], [0.3, 0.5, 0.7]]),
    rows=np.array([4, 9]),
    edited=np.array([0.5, 0.6, 0.9]),
)


def test_partial_dependence_draws_ice_mean_datapoint_and_its_value():
    figure = plot_partial_dependence(CURVE, value=1.5)
    assert [t.name for t in figure.data] == [
        "ICE: one data row",
        "ICE: one data row",
        "partial dependence (mean of 2 rows)",
        "this datapoint",
        "its value 1.5",
    ]
    assert list(figure.data[3].y) == [0.5, 0.6, 0.9] and figure.data[4].y[0] == 0.75  # on its own curve


def test_counterpart_table_lists_changed_features_first():
    result = WhatIfResult(
        model_id="m",
        revision="r",
        example=0,
        feature_names=("a", "b", "c"),
        original=np.array([1.0, 2.0, 3.0]),
        edited=np.array([1.0, 2.0, 3.0]),
        edits={},
        original_probabilities=np.array([0.4, 0.6]),
        edited_probabilities=np.array([0.4, 0.6]),
        distance=Distance.L2,
        counterfactual=None,
        other_group=None,
        group_column=None,
        group_value=None,
        group_choices=(),
        partial_dependence=CURVE,
    )
    other = Counterpart(kind="x", index=3, distance=1.0, row=np.array([1.0, 2.0, 5.0]), probabilities=np.array([1, 0]))
    table = counterpart_table(result, other, name="counterfactual")
    assert list(table["feature"]) == ["c", "a", "b"] and list(table["difference"]) == ["+2", "", ""]


def test_strategy_chart_has_both_runs_with_intervals():
    result = compute_mitigation(
        MitigationSpec(
            fairness=FairnessSpec(
                predictions=make_table(600), label="y", score="p", sensitive=("sex",), n_bootstrap=20
            ),
            strategy="equal_opportunity",
        )
    )
    figure = plot_strategy_comparison(result, metric="tpr")
    assert [t.name for t in figure.data] == ["single threshold 0.5", "equal opportunity"]
    mitigated = [result.mitigated.overall[0], *result.mitigated.slices]
    assert list(figure.data[1].x) == [s.metrics["tpr"].value for s in mitigated]
    assert all(v is not None for v in figure.data[1].error_x.array)

"""Explanations of the demo models: additivity, and slice attributions that find the generator's injected gaps."""

from __future__ import annotations

import numpy as np
import pytest

from analysis.explain import ExplanationSpec, SliceComparisonSpec, compare_slices, compute_attributions

pytestmark = pytest.mark.slow


@pytest.fixture
def demo(demo_home, monkeypatch):
    monkeypatch.setenv("LOUPE_HOME", str(demo_home))
    monkeypatch.delenv("LOUPE_CACHE_DIR", raising=False)
    return demo_home


def test_credit_mlp_attributions_are_additive(demo):
    result = compute_attributions(ExplanationSpec(model_id="credit-mlp", examples=tuple(range(20))))
    assert result.explainer.value == "exact" and result.target.label() == "1"  # 8 features
    assert np.abs(result.additivity_errors).max() < 1e-5
    assert np.all((result.outputs >= 0) & (result.outputs <= 1))


def test_shapes_cnn_attributions_are_additive_within_the_monte_carlo_error(demo):
    examples = (0, 1, 2, 3)
    result = compute_attributions(ExplanationSpec(model_id="shapes-cnn", examples=examples))
    assert result.explainer.value == "gradient" and result.values.shape == (4, 64, 64, 3)
    # Expected gradients is a Monte Carlo estimate: its additivity error shrinks like 1/sqrt(samples)
    # on average, but one seeded draw over 4 examples need not show it (bench/demo_spread.py: mean
    # error 0.16 at 200 samples and 0.053 at 1000 on one build, 0.063 and 0.077 on another), so the
    # test bounds the error at 1000 samples instead: measured 0.137-0.140 of the largest gap to the
    # expected value, bound 0.2.
    precise = compute_attributions(ExplanationSpec(model_id="shapes-cnn", examples=examples, samples=1000))
    assert np.all(np.isfinite(result.additivity_errors))
    precise_errors = np.abs(precise.additivity_errors)
    assert precise_errors.max() < 0.2 * np.abs(precise.outputs - precise.expected_values).max()
    unit = compute_attributions(ExplanationSpec(model_id="shapes-cnn", examples=(0, 1), target="conv4:5"))
    scale = np.abs(unit.outputs - unit.expected_values).max()
    # measured 0.18-0.21 of the scale
    assert np.abs(unit.additivity_errors).max() < 0.5 * max(scale, 1.0)


@pytest.mark.parametrize(
    ("column", "group", "feature", "sign"),
    [
        ("group", "D", "income_k", -1),  # group D: 30% lower incomes
        ("group", "C", "debt_ratio", -1),  # group C: debt ratio +0.12
        ("age_band", "18-25", "credit_history_years", -1),  # 18-25: short credit history
    ],
)
def test_slice_attributions_point_at_the_injected_gaps(demo, column, group, feature, sign):
    comparison = compare_slices(SliceComparisonSpec(model_id="credit-mlp", column=column, group_a=group, per_group=100))
    # The top feature's |difference| is 1.5x (C), 2.5x (D) and 3.6x (18-25) the runner-up's, the
    # same to 7 digits on builds with 1 or 2 threads and oneDNN on or off (bench/demo_spread.py).
    assert comparison.ranked_features()[0] == feature
    difference = comparison.difference[comparison.feature_names.index(feature)]
    assert np.sign(difference) == sign

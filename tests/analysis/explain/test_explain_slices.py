"""Attributions per slice: on a linear model the slice difference is exactly weight x (mean_a - mean_b)."""

from __future__ import annotations

import numpy as np
import pytest

from analysis.errors import AnalysisInputError
from analysis.explain import (
    EVERYONE_ELSE,
    ExplanationSpec,
    SliceComparisonSpec,
    compare_slices,
    compute_attributions,
    mean_attributions_by_slice,
)
from tests.analysis.explain.explain_support import FEATURES, LINEAR_WEIGHTS, register_linear


def test_group_difference_is_weight_times_the_difference_of_feature_means(loupe_home, tmp_path):
    arrays = register_linear(tmp_path, n=80)
    comparison = compare_slices(
        SliceComparisonSpec(model_id="linear", column="group", group_a="D", per_group=15, background=30, seed=2)
    )
    explained = comparison.attributions
    in_a = arrays["meta_group"][explained.examples] == "D"
    assert (comparison.count_a, comparison.count_b) == (15, 15) and in_a.sum() == 15
    x = arrays["x"][explained.examples]
    expected = LINEAR_WEIGHTS * (x[in_a].mean(axis=0) - x[~in_a].mean(axis=0))
    np.testing.assert_allclose(comparison.difference, expected, atol=1e-5)
    assert comparison.ranked_features()[0] == "d"  # the feature the data shifts for group D
    assert comparison.group_b == EVERYONE_ELSE
    # the per-feature parts add up to the gap in mean output between the slices
    assert comparison.difference.sum() == pytest.approx(comparison.mean_output_a - comparison.mean_output_b, abs=1e-5)
    payload = comparison.to_dict()
    assert [f["feature"] for f in payload["features"]] == list(FEATURES)
    assert comparison.to_frame()["feature"].iloc[0] == "d"


def test_two_named_groups(loupe_home, tmp_path):
    arrays = register_linear(tmp_path, n=80)
    comparison = compare_slices(
        SliceComparisonSpec(model_id="linear", column="group", group_a="A", group_b="D", per_group=50)
    )
    groups = arrays["meta_group"][comparison.attributions.examples]
    assert sorted(set(groups.tolist())) == ["A", "D"] and (comparison.count_a, comparison.count_b) == (20, 20)


def test_mean_attributions_by_slice(loupe_home, tmp_path):
    arrays = register_linear(tmp_path)
    result = compute_attributions(ExplanationSpec(model_id="linear", examples=tuple(range(12)), background=20))
    slices = mean_attributions_by_slice(result, "group", arrays["meta_group"][:12])
    assert slices.counts == {"A": 3, "B": 3, "C": 3, "D": 3}
    np.testing.assert_allclose(slices.mean["B"], result.values[[1, 5, 9]].mean(axis=0), rtol=1e-6)
    frame = slices.to_frame()
    assert len(frame) == 16
    assert set(frame.columns) == {"group", "count", "feature", "mean_attribution", "mean_abs_attribution"}


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        (
            {"column": "region", "group_a": "D"},
            "column 'region' is not in the data set {path!r}; its columns are 'group'",
        ),
        (
            {"column": "group", "group_a": "Z"},
            "group 'Z' is not a value of column 'group'; its values are 'A', 'B', 'C' or 'D'",
        ),
        ({"column": "group", "group_a": "A", "group_b": "A"}, "compare two different groups; both are 'A'"),
    ],
)
def test_bad_slices(loupe_home, tmp_path, kwargs, expected):
    register_linear(tmp_path)
    with pytest.raises(AnalysisInputError) as error:
        compare_slices(SliceComparisonSpec(model_id="linear", **kwargs))
    assert str(error.value) == expected.format(path=str(tmp_path / "linear.npz"))

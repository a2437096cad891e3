"""compute_attributions on hand-weighted models: exact Shapley values, additivity, seeds, cache, cancellation."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from analysis.explain import (
    Explainer,
    ExplanationCancelled,
    ExplanationSpec,
    compute_attributions,
    resolve_explanation,
)
from analysis.paths import open_result_store
from tests.analysis.explain.explain_support import (
    FEATURES,
    LINEAR_BIAS,
    LINEAR_WEIGHTS,
    background_rows,
    register_linear,
    register_linear_image,
    register_mlp,
)


@pytest.mark.parametrize("explainer", ["permutation", "exact"])
def test_linear_model_attributions_are_the_exact_shapley_values(loupe_home, tmp_path, explainer):
    arrays = register_linear(tmp_path)
    x = arrays["x"]
    result = compute_attributions(
        ExplanationSpec(model_id="linear", examples=(0, 5, 7), background=20, seed=4, explainer=explainer)
    )
    background = x[background_rows(len(x), 20, 4)].astype(np.float64)
    expected = LINEAR_WEIGHTS * (x[[0, 5, 7]] - background.mean(axis=0))
    np.testing.assert_allclose(result.values, expected, atol=2e-5)
    np.testing.assert_allclose(result.outputs, x[[0, 5, 7]] @ LINEAR_WEIGHTS + LINEAR_BIAS, atol=1e-5)
    np.testing.assert_allclose(result.expected_values, (background @ LINEAR_WEIGHTS).mean() + LINEAR_BIAS, atol=1e-5)
    assert np.abs(result.additivity_errors).max() < 1e-5
    assert result.explainer is Explainer(explainer)
    assert result.feature_names == FEATURES


def test_json_matches_the_documented_shape(loupe_home, tmp_path):
    arrays = register_linear(tmp_path)
    result = compute_attributions(ExplanationSpec(model_id="linear", examples=(1, 2), background=10))
    payload = result.to_dict()
    assert payload["model"] == "linear" and len(payload["revision"]) == 64
    assert payload["explainer"] == "exact" and payload["target"] == 0  # 4 features: exact Shapley values
    first = payload["examples"][0]
    assert set(first) == {"index", "output", "expected_value", "additivity_error", "class", "attributions"}
    assert first["index"] == 1 and list(first["attributions"]) == list(FEATURES)
    assert first["output"] == pytest.approx(float(arrays["x"][1] @ LINEAR_WEIGHTS + LINEAR_BIAS), abs=1e-5)
    mean_abs = np.abs(result.values).mean(axis=0)
    assert payload["global"]["mean_abs"] == pytest.approx(dict(zip(FEATURES, mean_abs.tolist(), strict=True)))
    frame = result.to_frame()
    assert list(frame.columns) == ["example", "feature", "value", "attribution"] and len(frame) == 8


def test_seeded_results_are_reproducible_and_independent_of_the_batch(loupe_home, tmp_path):
    register_mlp(tmp_path)
    spec = ExplanationSpec(
        model_id="mlp", examples=(0, 1, 2, 3), background=30, seed=7, max_evals=40, explainer="permutation"
    )
    first = compute_attributions(spec)
    open_result_store().clear()
    again = compute_attributions(spec)
    assert not again.cached
    np.testing.assert_array_equal(first.values, again.values)
    alone = compute_attributions(
        ExplanationSpec(model_id="mlp", examples=(2,), background=30, seed=7, max_evals=40, explainer="permutation")
    )
    np.testing.assert_array_equal(alone.values[0], first.values[2])
    other_seed = compute_attributions(
        ExplanationSpec(
            model_id="mlp", examples=(0, 1, 2, 3), background=30, seed=8, max_evals=40, explainer="permutation"
        )
    )
    assert not np.array_equal(other_seed.values, first.values)
    assert np.abs(first.additivity_errors).max() < 1e-6  # permutation explanations are exactly additive


def test_second_request_is_served_from_the_cache(loupe_home, tmp_path):
    register_linear(tmp_path)
    spec = ExplanationSpec(model_id="linear", examples=(0, 1), background=10)
    first = compute_attributions(spec)
    second = compute_attributions(spec)
    assert (first.cached, second.cached) == (False, True)
    np.testing.assert_array_equal(first.values, second.values)
    assert second.to_dict()["examples"] == first.to_dict()["examples"]


def test_cancellation_stores_nothing(loupe_home, tmp_path):
    register_linear(tmp_path)
    spec = ExplanationSpec(model_id="linear", examples=tuple(range(6)), background=10)
    cancel = threading.Event()
    seen = []

    def progress(fraction: float, message: str) -> None:
        seen.append(fraction)
        if len(seen) == 3:
            cancel.set()

    with pytest.raises(ExplanationCancelled, match="explanation cancelled; nothing was stored"):
        compute_attributions(spec, progress=progress, cancel=cancel)
    store = open_result_store()
    assert not store.contains(resolve_explanation(spec).key())
    assert store.stats().entries == 0
    assert len(seen) == 3


def test_gradient_explainer_on_a_linear_image_model_is_exact_with_one_background_image(loupe_home, tmp_path):
    arrays, kernel = register_linear_image(tmp_path)
    x = arrays["x"]
    result = compute_attributions(
        ExplanationSpec(model_id="linear-image", examples=(2, 3), target=1, background=1, seed=0, samples=20)
    )
    (row,) = background_rows(len(x), 1, 0)
    expected = kernel[:, 1].reshape(4, 4, 1) * (x[[2, 3]] - x[row])
    np.testing.assert_allclose(result.values, expected, atol=1e-5)
    assert np.abs(result.additivity_errors).max() < 1e-5
    payload = result.to_dict()
    assert payload["explainer"] == "gradient" and payload["target"] == 1
    assert payload["examples"][0]["attributions_shape"] == [4, 4, 1]


def test_predicted_target_explains_each_examples_own_class(loupe_home, tmp_path):
    arrays, kernel = register_linear_image(tmp_path)
    x = arrays["x"]
    result = compute_attributions(
        ExplanationSpec(model_id="linear-image", examples=tuple(range(10)), background=1, samples=10)
    )
    logits = x.reshape(10, 16) @ kernel
    np.testing.assert_array_equal(result.classes, logits.argmax(axis=1))
    np.testing.assert_allclose(result.outputs, logits.max(axis=1), atol=1e-5)
    assert result.to_dict()["target"] == "predicted"


def test_unit_target_explains_the_units_channel_mean(loupe_home, tmp_path, tiny_cnn_path, tiny_dataset_path):
    import keras

    from analysis.datasets import DatasetRole
    from analysis.models.registry import ModelRegistry, RegisterModelSpec

    ModelRegistry().register(
        RegisterModelSpec(path=tiny_cnn_path, model_id="tiny-cnn", datasets={DatasetRole.DATA: tiny_dataset_path})
    )
    result = compute_attributions(
        ExplanationSpec(model_id="tiny-cnn", examples=(0, 1), target="conv:2", background=12, samples=1000)
    )
    model = keras.saving.load_model(tiny_cnn_path)
    x = np.load(tiny_dataset_path)["x"]
    conv = keras.Model(model.inputs, model.get_layer("conv").output).predict(x, verbose=0)[..., 2].mean(axis=(1, 2))
    np.testing.assert_allclose(result.outputs, conv[[0, 1]], rtol=1e-5)
    np.testing.assert_allclose(result.expected_values, conv.mean(), rtol=1e-5)
    np.testing.assert_array_equal(result.classes, [-1, -1])
    # expected gradients are additive in expectation; 1000 samples keep the error to a few % of the unit's range
    assert np.all(np.abs(result.additivity_errors) <= 0.1 * np.ptp(conv))
    assert result.to_dict()["target"] == "conv:2" and "class" not in result.to_dict()["examples"][0]

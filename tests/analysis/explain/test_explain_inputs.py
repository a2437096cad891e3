"""Bad input to explanations: every message names the bad value and what is valid."""

from __future__ import annotations

import numpy as np
import pytest

from analysis.errors import AnalysisInputError
from analysis.explain import ExplanationSpec, Target, compute_attributions
from tests.analysis.explain.explain_support import register_linear, register_linear_image


def message(spec_kwargs: dict) -> str:
    with pytest.raises(AnalysisInputError) as error:
        compute_attributions(ExplanationSpec(**spec_kwargs))
    return str(error.value)


@pytest.fixture
def image_model(loupe_home, tmp_path):
    register_linear_image(tmp_path)
    return tmp_path


@pytest.fixture
def tabular_model(loupe_home, tmp_path):
    register_linear(tmp_path)
    return tmp_path


def test_target_class_out_of_range(image_model):
    assert message({"model_id": "linear-image", "target": 5}) == (
        "target class 5 is out of range for model 'linear-image'; valid classes are 0-1"
    )


def test_unit_out_of_range(loupe_home, tiny_cnn_path, tiny_dataset_path):
    from analysis.datasets import DatasetRole
    from analysis.models.registry import ModelRegistry, RegisterModelSpec

    ModelRegistry().register(
        RegisterModelSpec(path=tiny_cnn_path, model_id="tiny-cnn", datasets={DatasetRole.DATA: tiny_dataset_path})
    )
    assert message({"model_id": "tiny-cnn", "target": "conv:4"}) == (
        "unit 4 is out of range for layer 'conv' of model 'tiny-cnn'; valid units are 0-3"
    )
    assert message({"model_id": "tiny-cnn", "target": "conv9:0"}) == (
        "unknown layer 'conv9'; layers with units are 'conv', 'gap' or 'logits'"
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("cat", "target 'cat' is not valid; use a class index (e.g. 3), LAYER:UNIT (e.g. conv4:12) or 'predicted'"),
        ("-1", "target class -1 must be a non-negative integer"),
        ("conv:-2", "target unit -2 of layer 'conv' must be a non-negative integer"),
    ],
)
def test_unparseable_targets(text, expected):
    with pytest.raises(AnalysisInputError) as error:
        Target.parse(text)
    assert str(error.value) == expected


def test_background_larger_than_the_data(tabular_model):
    path = tabular_model / "linear.npz"
    assert message({"model_id": "linear", "background": 61}) == (
        f"background 61 is larger than the data (60 rows in {str(path)!r}); use at most 60"
    )


def test_example_out_of_range(tabular_model):
    path = tabular_model / "linear.npz"
    assert message({"model_id": "linear", "examples": (3, 60)}) == (
        f"example 60 is out of range; the data set {str(path)!r} has 60 rows (valid examples are 0-59)"
    )


def test_non_numeric_features(tabular_model):
    path = tabular_model / "strings.npz"
    np.savez(path, x=np.array([["a", "b", "c", "d"]] * 5), y=np.zeros(5, np.int64))
    assert message({"model_id": "linear", "data_path": str(path), "background": 2}) == (
        f"'x' in {str(path)!r} holds non-numeric features (dtype <U1); SHAP explains numeric inputs: "
        "encode categorical columns as numbers (e.g. one-hot) before registering the model and its data"
    )


def test_image_model_given_tabular_data(image_model):
    path = image_model / "linear.npz"
    np.savez(path, x=np.zeros((5, 8), np.float32), y=np.zeros(5, np.int64))
    assert message({"model_id": "linear-image", "data_path": str(path), "background": 2}) == (
        f"model 'linear-image' takes images of shape [4, 4, 1], but 'x' in {str(path)!r} holds tabular rows "
        "of 8 features; explain it with a data set of images"
    )


def test_tabular_explainer_on_images(image_model):
    assert message({"model_id": "linear-image", "explainer": "permutation", "background": 2}) == (
        "the permutation explainer needs tabular rows [n, features]; model 'linear-image' takes inputs of shape "
        "[4, 4, 1]: use the gradient explainer"
    )


def test_too_few_evaluations_for_permutations(tabular_model):
    assert message({"model_id": "linear", "max_evals": 5, "explainer": "permutation"}) == (
        "max_evals 5 is too low for 4 features; the permutation explainer needs at least 2 * features + 1 = 9"
    )
    with pytest.raises(AnalysisInputError) as error:
        ExplanationSpec(model_id="linear", max_evals=2)
    assert str(error.value) == "max_evals 2 must be an integer from 3 to 1000000"


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"examples": ()}, "give at least one example index (e.g. 0 or 0-99)"),
        ({"examples": (1, -3)}, "example -3 is not valid; examples are row indices 0, 1, 2, ..."),
        ({"background": 0}, "background 0 must be an integer from 1 to 5000"),
        ({"seed": -1}, "seed -1 must be an integer from 0 to 4294967295"),
        ({"explainer": "deep"}, "explainer 'deep' is not valid; choose 'permutation', 'exact' or 'gradient'"),
    ],
)
def test_spec_validation(kwargs, expected):
    with pytest.raises(AnalysisInputError) as error:
        ExplanationSpec(model_id="m", **kwargs)
    assert str(error.value) == expected


def test_unknown_model_and_missing_data(loupe_home, tiny_cnn_path):
    from analysis.models.registry import ModelRegistry, RegisterModelSpec

    assert message({"model_id": "nope"}) == "unknown model 'nope'; registered models are (none)"
    ModelRegistry().register(RegisterModelSpec(path=tiny_cnn_path, model_id="bare"))
    assert message({"model_id": "bare"}) == (
        "model 'bare' has no linked data set; link one with "
        "'python -m analysis models add MODEL --id bare --data DATA.npz' (or pass --data NPZ)"
    )

"""Fairness on a registered model: scores are the model's P(class 1), computed once and cached."""

from __future__ import annotations

import numpy as np
import pytest
import sklearn.metrics as skm

from analysis.datasets import DatasetRole
from analysis.errors import AnalysisInputError
from analysis.fairness import FairnessSpec, compute_fairness_slices
from analysis.models.registry import ModelRegistry, RegisterModelSpec


def register(tmp_path, *, units: int, activation: str, model_id: str) -> dict[str, np.ndarray]:
    import keras

    keras.utils.set_random_seed(0)
    inputs = keras.Input((3,))
    keras.Model(inputs, keras.layers.Dense(units, activation=activation)(inputs)).save(tmp_path / f"{model_id}.keras")
    rng = np.random.default_rng(1)
    arrays = {
        "x": rng.normal(size=(400, 3)).astype(np.float32),
        "y": rng.integers(0, 2, 400),
        "split": np.array(["train", "test"] * 200),
        "meta_sex": rng.choice(["F", "M"], 400),
    }
    np.savez(tmp_path / f"{model_id}.npz", **arrays)
    ModelRegistry().register(
        RegisterModelSpec(
            path=tmp_path / f"{model_id}.keras",
            model_id=model_id,
            datasets={DatasetRole.DATA: tmp_path / f"{model_id}.npz"},
        )
    )
    return arrays


@pytest.mark.parametrize(("units", "activation"), [(1, "sigmoid"), (2, "softmax")])
def test_scores_are_probability_of_class_one_and_cached(loupe_home, tmp_path, units, activation):
    import keras

    arrays = register(tmp_path, units=units, activation=activation, model_id="tiny")
    spec = FairnessSpec(model_id="tiny", split="test", sensitive=("sex",), n_bootstrap=50, min_slice=10)
    first = compute_fairness_slices(spec)
    model = keras.saving.load_model(tmp_path / "tiny.keras")
    test = arrays["split"] == "test"
    expected = model.predict(arrays["x"][test], verbose=0)[:, -1]
    assert first.overall_at(0.5).metrics["auc"].value == pytest.approx(
        skm.roc_auc_score(arrays["y"][test], expected), abs=1e-6
    )
    assert first.overall_at(0.5).count == int(test.sum())
    assert first.model_id == "tiny" and first.revision == ModelRegistry().get("tiny").current.revision
    second = compute_fairness_slices(spec)
    assert "model scores were read from the result cache" in second.notes
    assert second.to_dict()["slices"] == first.to_dict()["slices"]


def test_model_data_without_the_sensitive_column(loupe_home, tmp_path):
    register(tmp_path, units=1, activation="sigmoid", model_id="tiny")
    with pytest.raises(AnalysisInputError) as error:
        compute_fairness_slices(FairnessSpec(model_id="tiny", sensitive=("race",), n_bootstrap=0))
    assert str(error.value) == (
        f"column 'race' is not in the model data {str(tmp_path / 'tiny.npz')!r}; its columns are 'sex'"
    )


def test_multiclass_models_are_refused(loupe_home, tmp_path):
    register(tmp_path, units=3, activation="softmax", model_id="three")
    with pytest.raises(AnalysisInputError) as error:
        compute_fairness_slices(FairnessSpec(model_id="three", sensitive=("sex",), n_bootstrap=0))
    assert str(error.value) == (
        "fairness slices need a binary classifier (one sigmoid unit, or a two-class softmax); "
        "model 'three' outputs probabilities of shape [3]"
    )

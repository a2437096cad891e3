"""Hand-weighted models registered in a temporary Loupe home, for the explanation tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from analysis.datasets import DatasetRole
from analysis.models.registry import ModelRegistry, RegisterModelSpec

LINEAR_WEIGHTS = np.array([2.0, -1.0, 0.5, 3.0], dtype=np.float32)
LINEAR_BIAS = 0.7
FEATURES = ("a", "b", "c", "d")


def register(model, tmp_path: Path, model_id: str, arrays: dict[str, np.ndarray]) -> Path:
    model.save(tmp_path / f"{model_id}.keras")
    data = tmp_path / f"{model_id}.npz"
    np.savez(data, **arrays)
    ModelRegistry().register(
        RegisterModelSpec(path=tmp_path / f"{model_id}.keras", model_id=model_id, datasets={DatasetRole.DATA: data})
    )
    return data


def tabular_arrays(n: int = 60, *, seed: int = 0) -> dict[str, np.ndarray]:
    """``x`` ``[n, 4]``; group ``D`` rows have feature ``d`` shifted down by 2."""
    rng = np.random.default_rng(seed)
    group = np.array(["A", "B", "C", "D"])[np.arange(n) % 4]
    x = rng.normal(size=(n, 4)).astype(np.float32)
    x[group == "D", 3] -= 2.0
    return {"x": x, "y": (np.arange(n) % 2).astype(np.int64), "feature_names": np.array(FEATURES), "meta_group": group}


def register_linear(tmp_path: Path, model_id: str = "linear", n: int = 60) -> dict[str, np.ndarray]:
    """``f(x) = x @ LINEAR_WEIGHTS + LINEAR_BIAS`` (one linear output) on :func:`tabular_arrays`."""
    import keras

    inputs = keras.Input((4,))
    dense = keras.layers.Dense(1, name="out")
    model = keras.Model(inputs, dense(inputs))
    dense.set_weights([LINEAR_WEIGHTS[:, None], np.array([LINEAR_BIAS], np.float32)])
    arrays = tabular_arrays(n)
    register(model, tmp_path, model_id, arrays)
    return arrays


def register_mlp(tmp_path: Path, model_id: str = "mlp") -> dict[str, np.ndarray]:
    """A small tanh MLP with a sigmoid output (feature interactions, so permutations matter)."""
    import keras

    keras.utils.set_random_seed(3)
    inputs = keras.Input((4,))
    hidden = keras.layers.Dense(6, activation="tanh", name="hidden")(inputs)
    model = keras.Model(inputs, keras.layers.Dense(1, activation="sigmoid", name="p")(hidden))
    arrays = tabular_arrays()
    register(model, tmp_path, model_id, arrays)
    return arrays


def register_linear_image(tmp_path: Path, model_id: str = "linear-image") -> tuple[dict[str, np.ndarray], np.ndarray]:
    """A 4x4x1 image model with two linear outputs; returns its data and its kernel ``[16, 2]``."""
    import keras

    inputs = keras.Input((4, 4, 1))
    dense = keras.layers.Dense(2, name="logits")
    model = keras.Model(inputs, dense(keras.layers.Flatten()(inputs)))
    kernel = np.random.default_rng(5).normal(size=(16, 2)).astype(np.float32)
    dense.set_weights([kernel, np.zeros(2, np.float32)])
    rng = np.random.default_rng(6)
    arrays = {"x": rng.uniform(0, 1, (10, 4, 4, 1)).astype(np.float32), "y": np.arange(10) % 2}
    register(model, tmp_path, model_id, arrays)
    return arrays, kernel


def background_rows(n: int, size: int, seed: int) -> np.ndarray:
    """The background rows a spec with ``background=size, seed=seed`` uses (an independent restatement)."""
    return np.sort(np.random.default_rng(seed).choice(n, size=size, replace=False))

"""Shared helpers for the feature-visualization tests: tiny hand-built models, registered in a tmp home."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

REFERENCE = Path(__file__).resolve().parents[3].parent / "shared" / "reference" / "lucid_featurevis.md"


def reference_text() -> str:
    return REFERENCE.read_text()


def reference_number(pattern: str) -> str:
    """The first group of ``pattern`` in lucid_featurevis.md (so tests check numbers against the file)."""
    match = re.search(pattern, reference_text())
    if match is None:
        raise LookupError(f"{pattern!r} not found in {REFERENCE}")
    return match.group(1)


def build_small_cnn(seed: int = 0, size: int = 32):
    """``size x size x 3`` in [0, 1] -> conv1 (8, relu) -> pool -> conv2 (8, relu) -> gap -> dense (3)."""
    import keras

    keras.utils.set_random_seed(seed)
    inputs = keras.Input((size, size, 3), name="image")
    x = keras.layers.Conv2D(8, 3, padding="same", activation="relu", name="conv1")(inputs)
    x = keras.layers.MaxPooling2D(name="pool1")(x)
    x = keras.layers.Conv2D(8, 3, padding="same", activation="relu", name="conv2")(x)
    x = keras.layers.GlobalAveragePooling2D(name="gap")(x)
    outputs = keras.layers.Dense(3, name="logits")(x)
    return keras.Model(inputs, outputs, name="small_cnn")


def register_small_cnn(tmp_path: Path, model_id: str = "small-cnn", *, with_data: bool = False, size: int = 32):
    """Save, register (optionally with a DATA npz of 40 seeded images) and return the record."""
    from analysis.datasets import DatasetRole
    from analysis.models.registry import ModelRegistry, RegisterModelSpec

    path = tmp_path / f"{model_id}.keras"
    build_small_cnn(size=size).save(path)
    datasets = {}
    if with_data:
        rng = np.random.default_rng(0)
        data = tmp_path / f"{model_id}-data.npz"
        np.savez(data, x=rng.uniform(0, 1, (40, size, size, 3)).astype(np.float32), y=np.arange(40) % 3)
        datasets[DatasetRole.DATA] = data
    return ModelRegistry().register(RegisterModelSpec(path=path, model_id=model_id, datasets=datasets))


RED_SIZE = 16
RED_UNIT = 1  # fires only where a pixel is nearly pure red: R - G - B - 0.8 > 0


def red_detector_model():
    """One 1x1 conv: unit 0 is the mean colour (always alive), unit 1 a strict red detector."""
    import keras

    inputs = keras.Input((RED_SIZE, RED_SIZE, 3), name="image")
    conv = keras.layers.Conv2D(2, 1, activation="relu", name="conv")
    model = keras.Model(inputs, keras.layers.GlobalAveragePooling2D()(conv(inputs)))
    kernel = np.array([[1.0, 1.0], [1.0, -1.0], [1.0, -1.0]], dtype=np.float32).reshape(1, 1, 3, 2)
    conv.set_weights([kernel, np.array([0.0, -0.8], dtype=np.float32)])
    return model


def register_red_detector(tmp_path: Path, *, with_data: bool) -> None:
    """Data: 12 grey-ish images and one with a red square (row 7), where the red unit fires."""
    from analysis.datasets import DatasetRole
    from analysis.models.registry import ModelRegistry, RegisterModelSpec

    path = tmp_path / "red.keras"
    red_detector_model().save(path)
    datasets = {}
    if with_data:
        x = np.random.default_rng(0).uniform(0.3, 0.7, (12, RED_SIZE, RED_SIZE, 3)).astype(np.float32)
        x[7, 4:12, 4:12] = (1.0, 0.0, 0.0)
        np.savez(tmp_path / "red-data.npz", x=x, y=np.arange(12) % 2)
        datasets[DatasetRole.DATA] = tmp_path / "red-data.npz"
    ModelRegistry().register(RegisterModelSpec(path=path, model_id="red", datasets=datasets))

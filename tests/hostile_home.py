"""One small Loupe home for the hostile-input tests of the CLI and of the pages.

``tiny``: an 8x8x3 CNN with a 3-class data set (split, ``meta_sex``); ``bare``: the same model
without data; ``credit``: a sigmoid over 3 features with binary labels, a split and ``meta_sex``;
optionally ``saved``: the tiny CNN exported as a TF SavedModel (no layers); and one fairness
record of ``credit``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tests.conftest import build_tiny_cnn


def build_hostile_home(root: Path, *, with_savedmodel: bool = False) -> str:
    """Populate ``root / "home"`` (model files go in ``root``); returns the fairness record's id."""
    import keras

    from analysis.datasets import DatasetRole
    from analysis.models.registry import ModelRegistry, RegisterModelSpec
    from analysis.records import RecordStore

    home = root / "home"
    home.mkdir()
    rng = np.random.default_rng(0)
    tiny = build_tiny_cnn()
    tiny.save(root / "tiny.keras")
    np.savez(
        root / "tiny.npz",
        x=rng.uniform(0, 255, (12, 8, 8, 3)).astype(np.float32),
        y=np.arange(12) % 3,
        split=np.array(["train"] * 8 + ["test"] * 4),
        meta_sex=np.array(["F", "M"] * 6),
    )
    keras.utils.set_random_seed(0)
    inputs = keras.Input((3,))
    keras.Model(inputs, keras.layers.Dense(1, activation="sigmoid")(inputs)).save(root / "credit.keras")
    np.savez(
        root / "credit.npz",
        x=rng.normal(size=(60, 3)).astype(np.float32),
        y=np.arange(60) % 2,
        split=np.array(["train", "test"] * 30),
        meta_sex=np.array(["F", "M", "M"] * 20),
    )
    registry = ModelRegistry(home)
    data = {DatasetRole.DATA: root / "tiny.npz"}
    registry.register(RegisterModelSpec(path=root / "tiny.keras", model_id="tiny", datasets=data))
    registry.register(RegisterModelSpec(path=root / "tiny.keras", model_id="bare"))
    if with_savedmodel:
        tiny.export(str(root / "saved"), format="tf_saved_model", verbose=False)
        registry.register(RegisterModelSpec(path=root / "saved", model_id="saved", datasets=data))
    registry.register(
        RegisterModelSpec(
            path=root / "credit.keras", model_id="credit", datasets={DatasetRole.DATA: root / "credit.npz"}
        )
    )
    record = RecordStore(home).save(
        kind="fairness", model_id="credit", revision=None, inputs={}, parameters={}, versions={}, result={}
    )
    return record.record_id

"""A DP-SGD guarantee registered with a model revision, read back; old stores get the empty table."""

import sqlite3

import keras

from analysis.models.registry import ModelRegistry, RegisterModelSpec
from analysis.training.accounting import DPGuarantee, compute_dp_guarantee


def test_guarantee_round_trips_through_the_registry(tmp_path):
    inputs = keras.Input((3,))
    keras.Model(inputs, keras.layers.Dense(2, activation="softmax")(inputs)).save(tmp_path / "m.keras")
    # a store from before the table: only the original three tables
    with sqlite3.connect(tmp_path / "registry.sqlite3") as connection:
        connection.execute(
            "CREATE TABLE models (id TEXT PRIMARY KEY, current_revision TEXT NOT NULL, "
            "created_at TEXT NOT NULL, updated_at TEXT NOT NULL)"
        )
    registry = ModelRegistry(tmp_path)
    guarantee = compute_dp_guarantee(n_examples=100, batch_size=10, epochs=1, noise_multiplier=1.0, l2_norm_clip=1.0)
    record = registry.register(
        RegisterModelSpec(path=tmp_path / "m.keras", model_id="dp", training_privacy=guarantee.to_dict())
    )
    assert DPGuarantee.from_dict(registry.training_privacy("dp", record.current.revision)) == guarantee
    assert registry.training_privacy("dp", "0" * 64) is None

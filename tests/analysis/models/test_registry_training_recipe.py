"""The training recipe stored with a revision: per revision, in its own table, read back as registered;
a store from before the table gets it empty."""

from __future__ import annotations

import sqlite3

from analysis.models.registry import ModelRegistry, RegisterModelSpec
from tests.conftest import build_tiny_cnn

RECIPE = {"epochs": 3, "batch_size": 16, "optimizer": "sgd", "learning_rate": 0.05, "augmentation": "flip"}


def test_recipe_round_trips_per_revision(loupe_home, tmp_path):
    registry = ModelRegistry(loupe_home)
    path = tmp_path / "m.keras"
    build_tiny_cnn(seed=0).save(path)
    first = registry.register(RegisterModelSpec(path=path, model_id="m", training_recipe=RECIPE))
    assert registry.training_recipe("m", first.current.revision) == RECIPE
    assert first.training_recipe == RECIPE and first.to_dict()["training_recipe"] == RECIPE

    build_tiny_cnn(seed=1).save(path)  # new content: a new revision, registered without a recipe
    second = registry.register(RegisterModelSpec(path=path, model_id="m"))
    assert second.current.revision != first.current.revision
    assert registry.training_recipe("m", second.current.revision) is None
    assert second.training_recipe is None and second.to_dict()["training_recipe"] is None
    assert registry.training_recipe("m", first.current.revision) == RECIPE  # the old revision keeps its own
    assert registry.training_recipe("other", first.current.revision) is None


def test_a_store_from_before_the_table_reads_as_no_recipe(loupe_home, tiny_cnn_path):
    registry = ModelRegistry(loupe_home)
    record = registry.register(RegisterModelSpec(path=tiny_cnn_path, model_id="old"))
    with sqlite3.connect(registry.database) as connection:  # as a store written before recipes existed
        connection.execute("DROP TABLE training_recipe")
    reopened = ModelRegistry(loupe_home)
    assert reopened.training_recipe("old", record.current.revision) is None
    assert reopened.get("old").to_dict()["training_recipe"] is None
    again = reopened.register(RegisterModelSpec(path=tiny_cnn_path, model_id="old", training_recipe={"epochs": 2}))
    assert again.current.revision == record.current.revision
    assert reopened.training_recipe("old", record.current.revision) == {"epochs": 2}

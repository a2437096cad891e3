"""Demo model organisms: deterministic generators and builds, documented fairness gaps."""

from __future__ import annotations

import json

import keras
import numpy as np
import pytest

from analysis.demo.build import (
    DEMO_IDS,
    REPRODUCIBILITY_NOTE,
    DemoConfig,
    build_demo_models,
    training_recipe,
    weights_hash,
)
from analysis.demo.credit import GROUPS, INJECTED, generate_credit
from analysis.demo.shapes import CLASS_NAMES, generate_shapes
from analysis.models.registry import ModelRegistry
from analysis.privacy.reference_spec import TrainingRecipe


def test_shapes_generator_is_deterministic_and_balanced():
    x1, y1 = generate_shapes(40, seed=3)
    x2, y2 = generate_shapes(40, seed=3)
    np.testing.assert_array_equal(x1, x2)
    np.testing.assert_array_equal(y1, y2)
    assert x1.shape == (40, 64, 64, 3) and x1.dtype == np.float32
    assert x1.min() >= 0.0 and x1.max() <= 1.0
    assert np.bincount(y1, minlength=len(CLASS_NAMES)).tolist() == [4] * 10
    assert not np.array_equal(generate_shapes(40, seed=4)[0], x1)


def test_credit_generator_injects_the_documented_gaps():
    data = generate_credit(40_000, seed=0)
    y, group, age = data["y"], data["meta_group"], data["meta_age_band"]
    assert data["x"].shape == (40_000, 8) and set(np.unique(group)) == set(GROUPS)
    base = {g: y[group == g].mean() for g in GROUPS}
    assert base["D"] < base["A"] - 0.1  # lower incomes for D, then heavy label noise
    assert base["C"] < base["A"] - 0.03  # higher debt ratio for C
    assert y[age == "18-25"].mean() < y[age == "40-60"].mean() - 0.2
    assert INJECTED["label_flip_probability"]["group"]["D"] == 0.20


def test_tiny_build_is_deterministic_and_registers_all(loupe_home, tmp_path, monkeypatch):
    hashes = []
    for attempt in range(2):
        monkeypatch.setenv("LOUPE_DEMO_BUILD_DIR", str(tmp_path / f"builds-{attempt}"))
        # The second build's caller runs TensorFlow differently; the pinned trainers do not inherit it.
        monkeypatch.setenv("TF_ENABLE_ONEDNN_OPTS", str(attempt))
        monkeypatch.setenv("TF_NUM_INTRAOP_THREADS", str(attempt + 1))
        records = build_demo_models(seed=7, config=DemoConfig.tiny(), registry=ModelRegistry(), report=lambda m: None)
        assert [r.model_id for r in records] == list(DEMO_IDS)
        hashes.append([weights_hash(keras.saving.load_model(r.current.path)) for r in records])
    assert hashes[0] == hashes[1]
    memorizer = ModelRegistry().get("shapes-cnn-memorizer")
    assert sorted(d.role.value for d in memorizer.datasets) == ["members", "nonmembers"]
    credit = ModelRegistry().get("credit-mlp")
    assert credit.current.summary.output_kind == "binary_probability"
    assert credit.datasets[0].metadata_columns == ("age_band", "group", "sex")
    # The model pages say what a pinned link to a demo model can and cannot promise across machines.
    assert REPRODUCIBILITY_NOTE in credit.current.summary.notes
    assert REPRODUCIBILITY_NOTE in credit.to_dict()["notes"]
    # Each model's registration carries the recipe it was trained with, which reference audits read.
    config = DemoConfig.tiny()
    for record in records:
        registered = ModelRegistry().training_recipe(record.model_id, record.current.revision)
        assert registered == training_recipe(record.model_id, config)
        assert TrainingRecipe.from_mapping(registered).epochs >= 1
    assert ModelRegistry().training_recipe("shapes-cnn-memorizer", memorizer.current.revision)["epochs"] == (
        config.memorizer_epochs
    )


def test_if_missing_skips_a_registered_build(loupe_home, tmp_path, monkeypatch):
    monkeypatch.setenv("LOUPE_DEMO_BUILD_DIR", str(tmp_path / "builds"))
    messages: list[str] = []
    build_demo_models(seed=1, config=DemoConfig.tiny(), report=messages.append)
    assert any("building demo models" in m for m in messages)
    messages.clear()
    build_demo_models(seed=1, config=DemoConfig.tiny(), report=messages.append)
    assert any("reusing demo build" in m for m in messages)


@pytest.mark.slow
def test_full_demo_models(demo_home, monkeypatch, capsys):
    from analysis.cli.main import main

    monkeypatch.setenv("LOUPE_HOME", str(demo_home))
    assert main(["models", "list", "--json", "-"]) == 0
    models = {m["id"]: m for m in json.loads(capsys.readouterr().out)["models"]}
    assert set(models) == set(DEMO_IDS)
    layers = models["shapes-cnn"]["layers"]
    assert [layer["name"] for layer in layers if layer["kind"] == "Conv2D"] == ["conv1", "conv2", "conv3", "conv4"]
    assert {"name": "conv4", "kind": "Conv2D", "output_shape": [8, 8, 64], "units": 64} in layers
    assert models["shapes-cnn"]["input_shape"] == [64, 64, 3]

"""Dead units: a unit lucid's recipe leaves at 0 is optimised again from its strongest dataset example."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from analysis.featurevis import RenderSpec, render_units
from cache import ResultStore

SIZE = 16
RED_UNIT = 1  # fires only where a pixel is nearly pure red: R - G - B - 0.8 > 0


def _red_detector_model():
    """One 1x1 conv: unit 0 is the mean colour (always alive), unit 1 a strict red detector."""
    import keras

    inputs = keras.Input((SIZE, SIZE, 3), name="image")
    conv = keras.layers.Conv2D(2, 1, activation="relu", name="conv")
    model = keras.Model(inputs, keras.layers.GlobalAveragePooling2D()(conv(inputs)))
    kernel = np.array([[1.0, 1.0], [1.0, -1.0], [1.0, -1.0]], dtype=np.float32).reshape(1, 1, 3, 2)
    conv.set_weights([kernel, np.array([0.0, -0.8], dtype=np.float32)])
    return model


def _register(tmp_path: Path, *, with_data: bool) -> None:
    """Data: 12 grey-ish images and one with a red square (row 7), where the red unit fires."""
    from analysis.datasets import DatasetRole
    from analysis.registry import ModelRegistry, RegisterModelSpec

    path = tmp_path / "red.keras"
    _red_detector_model().save(path)
    datasets = {}
    if with_data:
        x = np.random.default_rng(0).uniform(0.3, 0.7, (12, SIZE, SIZE, 3)).astype(np.float32)
        x[7, 4:12, 4:12] = (1.0, 0.0, 0.0)
        np.savez(tmp_path / "red-data.npz", x=x, y=np.arange(12) % 2)
        datasets[DatasetRole.DATA] = tmp_path / "red-data.npz"
    ModelRegistry().register(RegisterModelSpec(path=path, model_id="red", datasets=datasets))


def _spec(**overrides) -> RenderSpec:
    # No warm start, so nothing lets lucid's recipe reach the dead unit from grey noise.
    values = {"model_id": "red", "layer": "conv", "units": (0, RED_UNIT), "steps": 16, "batch": 2,
              "warm_start_steps": 0}
    return RenderSpec(**(values | overrides))


def test_a_unit_left_at_zero_restarts_from_its_strongest_example(loupe_home, tmp_path):
    _register(tmp_path, with_data=True)
    alive, red = render_units(_spec())
    assert alive.activation > 0 and alive.notes == ()
    example_value = 64 * (1.0 - 0.8) / SIZE**2  # the red square: a quarter of the pixels at 0.2
    # The start keeps the square (pulled 0.01 inside (0, 1), which leaves 0.17 per red pixel), so the unit fires.
    assert red.activation > 0.75 * example_value
    assert "strongest dataset example" in red.notes[0] and "dataset row 7" in red.notes[0]
    pixels = red.image.reshape(-1, 3).astype(int)
    assert ((pixels[:, 0] - pixels[:, 1] - pixels[:, 2]) > 0.8 * 255).any()  # red pixels, as in the example

    without = render_units(_spec(restart_dead_units=False), store=ResultStore(tmp_path / "other"))
    assert without[1].activation == 0.0 and without[1].notes == ()
    assert without[1].cache_key != red.cache_key


def test_restarted_units_render_the_same_batched_and_one_at_a_time(loupe_home, tmp_path):
    _register(tmp_path, with_data=True)
    batched = render_units(_spec(), store=ResultStore(tmp_path / "batched"))
    alone = [render_units(_spec(units=(u,), batch=1), store=ResultStore(tmp_path / f"alone{u}"))[0] for u in (0, 1)]
    for a, b in zip(batched, alone, strict=True):
        assert np.array_equal(a.image, b.image) and a.activation == b.activation and a.notes == b.notes


def test_without_a_linked_data_set_a_dead_unit_stays_at_zero(loupe_home, tmp_path):
    _register(tmp_path, with_data=False)
    _, red = render_units(_spec())
    assert red.activation == 0.0 and red.notes == ()
    assert "restart_dead_units_from" not in red.parameters


def test_the_cache_key_names_the_data_set_dead_units_restart_from(loupe_home, tmp_path):
    from analysis.registry import ModelRegistry

    _register(tmp_path, with_data=True)
    (red,) = render_units(_spec(units=(RED_UNIT,)))
    dataset = ModelRegistry().get("red").datasets[0]
    assert red.parameters["restart_dead_units_from"] == dataset.sha256


@pytest.mark.parametrize("value", [1, "yes", None])
def test_restart_dead_units_must_be_a_bool(value):
    from analysis.errors import AnalysisInputError

    with pytest.raises(AnalysisInputError, match="restart_dead_units"):
        _spec(restart_dead_units=value)

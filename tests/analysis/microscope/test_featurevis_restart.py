"""Dead units: a unit lucid's recipe leaves at 0 is optimised again from its strongest dataset example."""

from __future__ import annotations

import numpy as np
import pytest

from analysis.microscope.featurevis import RenderSpec, render_units
from cache import ResultStore
from tests.analysis.microscope.featurevis_support import RED_SIZE, RED_UNIT, register_red_detector


def _spec(**overrides) -> RenderSpec:
    # No warm start, so nothing lets lucid's recipe reach the dead unit from grey noise.
    values = {
        "model_id": "red",
        "layer": "conv",
        "units": (0, RED_UNIT),
        "steps": 16,
        "batch": 2,
        "warm_start_steps": 0,
    }
    return RenderSpec(**(values | overrides))


def test_a_unit_left_at_zero_restarts_from_its_strongest_example(loupe_home, tmp_path):
    register_red_detector(tmp_path, with_data=True)
    alive, red = render_units(_spec())
    assert alive.activation > 0 and alive.notes == ()
    example_value = 64 * (1.0 - 0.8) / RED_SIZE**2  # the red square: a quarter of the pixels at 0.2
    # The start keeps the square (pulled 0.01 inside (0, 1), which leaves 0.17 per red pixel), so the unit fires.
    assert red.activation > 0.75 * example_value
    assert "strongest dataset example" in red.notes[0] and "dataset row 7" in red.notes[0]
    pixels = red.image.reshape(-1, 3).astype(int)
    assert ((pixels[:, 0] - pixels[:, 1] - pixels[:, 2]) > 0.8 * 255).any()  # red pixels, as in the example

    without = render_units(_spec(restart_dead_units=False), store=ResultStore(tmp_path / "other"))
    assert without[1].activation == 0.0 and without[1].notes == ()
    assert without[1].cache_key != red.cache_key


def test_restarted_units_render_the_same_batched_and_one_at_a_time(loupe_home, tmp_path):
    register_red_detector(tmp_path, with_data=True)
    batched = render_units(_spec(), store=ResultStore(tmp_path / "batched"))
    alone = [render_units(_spec(units=(u,), batch=1), store=ResultStore(tmp_path / f"alone{u}"))[0] for u in (0, 1)]
    for a, b in zip(batched, alone, strict=True):
        assert np.array_equal(a.image, b.image) and a.activation == b.activation and a.notes == b.notes


def test_without_a_linked_data_set_a_dead_unit_stays_at_zero(loupe_home, tmp_path):
    register_red_detector(tmp_path, with_data=False)
    _, red = render_units(_spec())
    assert red.activation == 0.0 and red.notes == ()
    assert "restart_dead_units_from" not in red.parameters


def test_the_cache_key_names_the_data_set_dead_units_restart_from(loupe_home, tmp_path):
    from analysis.models.registry import ModelRegistry

    register_red_detector(tmp_path, with_data=True)
    (red,) = render_units(_spec(units=(RED_UNIT,)))
    dataset = ModelRegistry().get("red").datasets[0]
    assert red.parameters["restart_dead_units_from"] == dataset.sha256


@pytest.mark.parametrize("value", [1, "yes", None])
def test_restart_dead_units_must_be_a_bool(value):
    from analysis.errors import AnalysisInputError

    with pytest.raises(AnalysisInputError, match="restart_dead_units"):
        _spec(restart_dead_units=value)


def test_cli_reports_the_restart_in_notes_and_can_turn_it_off(loupe_home, tmp_path, capsys):
    import json

    from analysis.cli.main import main

    register_red_detector(tmp_path, with_data=True)
    args = ["render", "--model", "red", "--layer", "conv", "--units", "1", "--steps", "16", "--json", "-"]
    assert main(args) == 0
    (entry,) = json.loads(capsys.readouterr().out)["units"]
    assert entry["activation"] > 0 and "strongest dataset example" in entry["notes"][0]
    assert main([*args, "--no-restart-dead-units"]) == 0
    (entry,) = json.loads(capsys.readouterr().out)["units"]
    assert entry["notes"] == [] and entry["cached"] is False  # another rendering, under another key


def test_only_the_channel_kind_restarts(loupe_home, tmp_path):
    register_red_detector(tmp_path, with_data=True)
    (neuron,) = render_units(_spec(units=(RED_UNIT,), objective="neuron"))
    assert neuron.activation == 0.0 and neuron.notes == ()
    assert "restart_dead_units_from" not in neuron.parameters


def test_progress_names_the_restart_phase(loupe_home, tmp_path):
    register_red_detector(tmp_path, with_data=True)
    messages: list[tuple[float, str]] = []
    render_units(_spec(), progress=lambda fraction, message: messages.append((fraction, message)))
    restart = [(f, m) for f, m in messages if "restarting 1 dead unit(s) from dataset examples" in m]
    assert restart and all(f == 1.0 for f, _ in restart)  # the bar waits at the batch's end
    assert messages[-1] == (1.0, "done")

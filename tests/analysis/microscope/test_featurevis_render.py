"""render_units: determinism, batching, the cache (read without TensorFlow) and every bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from analysis.errors import AnalysisInputError
from analysis.microscope.featurevis import ObjectiveKind, RenderSpec, load_cached_rendering, render_units
from cache import PNG, ResultStore
from tests.analysis.microscope.featurevis_support import register_small_cnn

PROJECT_ROOT = Path(__file__).resolve().parents[3]
STEPS = 24


@pytest.fixture
def small_cnn(loupe_home, tmp_path):
    return register_small_cnn(tmp_path)


def spec(**overrides) -> RenderSpec:
    values = {"model_id": "small-cnn", "layer": "conv2", "units": (0, 5), "steps": STEPS, "batch": 4, "seed": 3}
    return RenderSpec(**(values | overrides))


def test_renders_one_image_per_unit_in_order(small_cnn):
    renderings = render_units(spec(units=(5, 0, 2)))
    assert [r.unit for r in renderings] == [5, 0, 2]
    for rendering in renderings:
        assert rendering.image.shape == (32, 32, 3) and rendering.image.dtype == np.uint8
        assert rendering.revision == small_cnn.current.revision and not rendering.cached
        assert rendering.parameters["steps"] == STEPS and rendering.parameters["seed"] == 3
        assert np.isfinite(rendering.activation)
    data = renderings[0].to_dict()
    json.dumps(data, allow_nan=False)
    assert data["url"] == "/microscope?model=small-cnn&layer=conv2&unit=5"


def test_same_seed_same_bytes_and_another_seed_differs(small_cnn, tmp_path):
    first = render_units(spec(), store=ResultStore(tmp_path / "a"))
    again = render_units(spec(), store=ResultStore(tmp_path / "b"))
    other = render_units(spec(seed=4), store=ResultStore(tmp_path / "c"))
    for a, b, c in zip(first, again, other, strict=True):
        assert PNG.encode(a.image) == PNG.encode(b.image)
        assert a.activation == b.activation
        assert not np.array_equal(a.image, c.image)


def test_batched_and_one_at_a_time_agree(small_cnn, tmp_path):
    batched = render_units(spec(units=(0, 1, 5, 7), batch=4), store=ResultStore(tmp_path / "batched"))
    for rendering in batched:
        alone = render_units(spec(units=(rendering.unit,), batch=1), store=ResultStore(tmp_path / f"u{rendering.unit}"))
        difference = np.abs(alone[0].image.astype(int) - rendering.image.astype(int))
        assert difference.max() <= 1  # identical here; one grey level allows for float rounding across batch sizes
        assert alone[0].activation == pytest.approx(rendering.activation, rel=1e-3, abs=1e-4)


def test_second_call_is_served_from_the_cache_without_the_model(small_cnn, monkeypatch):
    first = render_units(spec())
    import analysis.models.loading

    def refuse(*args, **kwargs):
        raise AssertionError("a cached rendering must not load the model")

    monkeypatch.setattr(analysis.models.loading, "load_revision", refuse)
    again = render_units(spec())
    assert [r.cached for r in again] == [True, True]
    assert all(np.array_equal(a.image, b.image) for a, b in zip(first, again, strict=True))
    assert [a.activation for a in again] == [f.activation for f in first]


def test_resume_renders_only_missing_units(small_cnn):
    render_units(spec(units=(0,)))
    messages = []
    renderings = render_units(spec(units=(0, 5, 6)), progress=lambda fraction, message: messages.append(message))
    assert [r.cached for r in renderings] == [True, False, False]
    assert messages[0] == "1 cached, 2 to render in 1 batch(es)" and messages[-1] == "done"


def test_load_cached_rendering(small_cnn):
    assert load_cached_rendering(spec(units=(5,))) is None
    (fresh,) = render_units(spec(units=(5,)))
    cached = load_cached_rendering(spec(units=(0, 5)), 5)
    assert cached is not None and cached.cached and np.array_equal(cached.image, fresh.image)


def test_cached_page_path_never_imports_tensorflow(small_cnn, loupe_home):
    """A page that only shows cached renderings runs without TensorFlow (checked in a fresh interpreter)."""
    render_units(spec(units=(5,)))
    code = (
        "import sys\n"
        "from analysis.microscope.featurevis import RenderSpec, cached_targets, load_cached_rendering, render_units\n"
        f"spec = RenderSpec(model_id='small-cnn', layer='conv2', units=(5,), steps={STEPS}, batch=4, seed=3)\n"
        "assert load_cached_rendering(spec) is not None\n"
        "assert cached_targets(spec) == {5}\n"
        "assert render_units(spec)[0].cached\n"
        "print('tensorflow' in sys.modules, 'keras' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "LOUPE_HOME": str(loupe_home)},
        timeout=120,
    )
    assert result.stdout.split() == ["False", "False"]


def test_diversity_renders_several_images_per_unit(small_cnn):
    (rendering,) = render_units(spec(units=(5,), objective="diversity", diversity_images=3, batch=6))
    assert rendering.objective is ObjectiveKind.DIVERSITY and rendering.n_images == 3
    assert rendering.image.shape == (32, 96, 3)
    images = rendering.images
    assert len(images) == 3 and not np.array_equal(images[0], images[1])


@pytest.mark.parametrize("kind", ["neuron", "negative", "negative_neuron"])
def test_other_per_unit_kinds(small_cnn, kind):
    (rendering,) = render_units(spec(units=(5,), objective=kind))
    assert rendering.objective.value == kind and rendering.image.shape == (32, 32, 3)


def test_layer_level_kinds_have_no_unit(small_cnn):
    (dream,) = render_units(spec(units=(), objective="deepdream"))
    assert dream.unit is None and dream.activation > 0
    (direction,) = render_units(spec(units=(), objective="direction", direction=tuple(np.eye(8)[5])))
    assert direction.unit is None and direction.parameters["direction"][5] == 1.0


def test_image_size_other_than_the_model_input(small_cnn):
    (rendering,) = render_units(spec(units=(5,), image_size=40))
    assert rendering.image.shape == (40, 40, 3) and rendering.parameters["image_hw"] == [40, 40]


# -- bad input: every message names the bad value and the valid ones -----------------------------
def test_unknown_layer_names_the_valid_layers(small_cnn):
    with pytest.raises(AnalysisInputError) as error:
        render_units(spec(layer="conv9"))
    assert str(error.value) == (
        "unknown layer 'conv9'; layers with units are 'conv1', 'pool1', 'conv2', 'gap' or 'logits'"
    )


def test_unit_out_of_range_names_the_valid_range(small_cnn):
    with pytest.raises(AnalysisInputError) as error:
        render_units(spec(units=(3, 8)))
    assert str(error.value) == "unit 8 is out of range for layer 'conv2'; valid units are 0-7"


def test_unknown_objective_names_the_valid_ones():
    with pytest.raises(AnalysisInputError) as error:
        spec(objective="dream")
    assert str(error.value) == (
        "unknown objective 'dream'; valid objectives are 'channel', 'neuron', 'negative', 'negative_neuron', "
        "'diversity', 'deepdream', 'direction' or 'caricature'"
    )


def test_neuron_on_a_dense_layer_is_refused(small_cnn):
    with pytest.raises(AnalysisInputError) as error:
        render_units(spec(layer="logits", units=(1,), objective="neuron"))
    assert str(error.value) == (
        "objective 'neuron' needs a layer with [height, width, channels] outputs; "
        "layer 'logits' has output shape [3]; use 'channel' instead"
    )


def test_unknown_model_names_the_registered_ones(small_cnn):
    with pytest.raises(AnalysisInputError, match=r"^unknown model 'nope'; registered models are 'small-cnn'$"):
        render_units(spec(model_id="nope"))


def test_tabular_model_is_refused(loupe_home, tmp_path):
    import keras

    from analysis.models.registry import ModelRegistry, RegisterModelSpec

    inputs = keras.Input((8,))
    keras.Model(inputs, keras.layers.Dense(2, name="dense")(inputs)).save(tmp_path / "mlp.keras")
    ModelRegistry().register(RegisterModelSpec(path=tmp_path / "mlp.keras", model_id="mlp"))
    with pytest.raises(AnalysisInputError) as error:
        render_units(RenderSpec(model_id="mlp", layer="dense", units=(0,)))
    assert str(error.value) == (
        "feature visualization needs an image input [height, width, 1 or 3 channels]; model 'mlp' takes [8]"
    )


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"units": (-1,)}, "unit -1 must be a non-negative integer"),
        ({"units": (2, 2)}, "unit 2 is listed more than once in units"),
        ({"units": ()}, "objective 'channel' needs at least one unit"),
        ({"objective": "deepdream"}, "objective 'deepdream' renders the whole layer; pass no units (got [0, 5])"),
        ({"steps": 0}, "steps 0 must be an integer from 1 to 100000"),
        ({"batch": 1.5}, "batch 1.5 must be an integer from 1 to 512"),
        ({"seed": -2}, "seed -2 must be an integer from 0 to 9223372036854775807"),
        ({"image_size": 4}, "image_size 4 must be an integer from 8 to 1024"),
        ({"units": (), "objective": "direction"}, "objective 'direction' needs a finite, non-zero direction vector"),
        (
            {"objective": "diversity", "batch": 2},
            "batch 2 is smaller than diversity_images 4; one unit's images are optimised together",
        ),
        (
            {"units": (), "objective": "caricature"},
            "objective 'caricature' needs example, the row of the linked data set to exaggerate",
        ),
        (
            {"units": (), "objective": "caricature", "example": -1},
            "example -1 must be an integer from 0 to 9223372036854775807",
        ),
        ({"example": 3}, "example 3 is only used by objective 'caricature', not 'channel'"),
    ],
)
def test_spec_validation_messages(overrides, message):
    with pytest.raises(AnalysisInputError) as error:
        spec(**overrides)
    assert str(error.value) == message


def test_caricature_of_a_dataset_example(loupe_home, tmp_path):
    """The example's row and the data set's hash are part of the key; the row must be in the data set."""
    register_small_cnn(tmp_path, with_data=True)
    (three,) = render_units(spec(units=(), objective="caricature", example=3))
    (four,) = render_units(spec(units=(), objective="caricature", example=4))
    assert three.unit is None and three.activation > 0 and three.image.shape == (32, 32, 3)
    assert three.parameters["example"] == 3 and len(three.parameters["example_from"]) == 64
    assert three.cache_key != four.cache_key and not np.array_equal(three.image, four.image)
    assert three.url == "/microscope?model=small-cnn&layer=conv2&view=caricature&example=3"
    with pytest.raises(
        AnalysisInputError,
        match=r"^example 40 is out of range; the linked data set 'small-cnn-data.npz' has examples 0-39$",
    ):
        render_units(spec(units=(), objective="caricature", example=40))


def test_caricature_needs_a_linked_data_set(small_cnn):
    with pytest.raises(
        AnalysisInputError, match="starts from a dataset example, and model 'small-cnn' has no linked data set"
    ):
        render_units(spec(units=(), objective="caricature", example=0))

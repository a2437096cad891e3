"""Dataset examples: one pass gives the same top/bottom examples, maps and histograms as brute force."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from analysis.errors import AnalysisInputError
from analysis.microscope.dataset_examples import (
    DatasetExamplesSpec,
    Ranking,
    compute_dataset_examples,
    load_cached_dataset_examples,
    load_example_inputs,
)
from tests.analysis.microscope.featurevis_support import build_small_cnn, register_small_cnn

PROJECT_ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def record(loupe_home, tmp_path):
    return register_small_cnn(tmp_path, with_data=True)


def brute_force(record, layer: str) -> np.ndarray:
    import keras

    model = keras.saving.load_model(record.current.path)
    x = np.load(record.datasets[0].path)["x"]
    return keras.Model(model.inputs, model.get_layer(layer).output).predict(x, verbose=0)


@pytest.mark.parametrize("batch_size", [7, 128])
def test_matches_brute_force_for_every_unit(record, batch_size):
    result = compute_dataset_examples(
        DatasetExamplesSpec(model_id="small-cnn", layer="conv2", k=5, batch_size=batch_size)
    )
    acts = brute_force(record, "conv2")  # [40, 16, 16, 8]
    means, maxes = acts.mean(axis=(1, 2)), acts.max(axis=(1, 2))
    assert (result.units, result.k, result.n_examples, result.spatial) == (8, 5, 40, True)
    for unit in range(8):
        examples = result.unit(unit)
        for ranked, stat, descending in (
            (examples.top_mean, means, True),
            (examples.bottom_mean, means, False),
            (examples.top_max, maxes, True),
            (examples.bottom_max, maxes, False),
        ):
            column = stat[:, unit]
            order = sorted(range(40), key=lambda i, c=column, d=descending: (-c[i] if d else c[i], i))[:5]
            assert [index for index, _ in ranked] == order
            np.testing.assert_allclose([value for _, value in ranked], column[order], rtol=1e-5, atol=1e-6)
        top = [index for index, _ in examples.top_mean]
        np.testing.assert_allclose(examples.top_mean_maps, acts[top, :, :, unit], rtol=1e-3, atol=1e-3)
        counts, edges = examples.hist_mean
        assert sum(counts) == 40 and len(edges) == len(counts) + 1 == 41
        assert edges[0] == pytest.approx(means[:, unit].min()) and edges[-1] == pytest.approx(means[:, unit].max())
        assert result.strongest(unit) == pytest.approx(means[:, unit].max(), rel=1e-5)
        assert result.strongest(unit, Ranking.MAX) == pytest.approx(maxes[:, unit].max(), rel=1e-5)


def test_dense_layer_has_no_maps(record):
    result = compute_dataset_examples(DatasetExamplesSpec(model_id="small-cnn", layer="logits", k=3))
    assert not result.spatial and result.unit(0).top_mean_maps.shape == (3, 0, 0)
    logits = brute_force(record, "logits")
    assert result.strongest(2) == pytest.approx(logits[:, 2].max(), rel=1e-5)


def test_cached_per_layer_and_readable_without_tensorflow(record, loupe_home):
    spec = DatasetExamplesSpec(model_id="small-cnn", layer="conv1", k=4)
    assert load_cached_dataset_examples(spec) is None
    first = compute_dataset_examples(spec)
    again = compute_dataset_examples(spec)
    assert not first.cached and again.cached
    assert first.to_dict() | {"cached": True} == again.to_dict()
    code = (
        "import sys\n"
        "from analysis.microscope.dataset_examples import (\n"
        "    DatasetExamplesSpec, load_cached_dataset_examples, load_example_inputs)\n"
        "result = load_cached_dataset_examples(DatasetExamplesSpec(model_id='small-cnn', layer='conv1', k=4))\n"
        "images = load_example_inputs(result, [i for i, _ in result.unit(3).top_mean])\n"
        "print(images.shape, 'tensorflow' in sys.modules)\n"
    )
    output = subprocess.run(
        [sys.executable, "-c", code],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "LOUPE_HOME": str(loupe_home)},
        timeout=120,
    ).stdout
    assert output.strip() == "(4, 32, 32, 3) False"


def test_split_restricts_the_pass(loupe_home, tmp_path):
    from analysis.datasets import DatasetRole
    from analysis.models.registry import ModelRegistry, RegisterModelSpec

    build_small_cnn().save(tmp_path / "m.keras")
    rng = np.random.default_rng(1)
    np.savez(
        tmp_path / "d.npz",
        x=rng.uniform(0, 1, (10, 32, 32, 3)).astype(np.float32),
        y=np.arange(10) % 2,
        split=np.array(["train"] * 6 + ["test"] * 4),
    )
    ModelRegistry().register(
        RegisterModelSpec(path=tmp_path / "m.keras", model_id="m", datasets={DatasetRole.DATA: tmp_path / "d.npz"})
    )
    result = compute_dataset_examples(DatasetExamplesSpec(model_id="m", layer="conv2", k=3, split="test"))
    assert result.n_examples == 4
    assert all(index >= 6 for index, _ in result.unit(0).top_mean + result.unit(0).bottom_mean)
    assert load_example_inputs(result, [6]).shape == (1, 32, 32, 3)


def test_to_frame_and_to_dict(record):
    import json

    result = compute_dataset_examples(DatasetExamplesSpec(model_id="small-cnn", layer="conv2", k=2))
    frame = result.to_frame()
    assert list(frame["unit"]) == list(range(8)) and (frame["top_mean"] >= frame["bottom_mean"]).all()
    json.dumps(result.to_dict(), allow_nan=False)


def test_bad_input_messages(record, loupe_home, tmp_path):
    with pytest.raises(AnalysisInputError) as error:
        compute_dataset_examples(DatasetExamplesSpec(model_id="small-cnn", layer="conv7"))
    assert str(error.value) == (
        "unknown layer 'conv7'; layers with units are 'conv1', 'pool1', 'conv2', 'gap' or 'logits'"
    )
    with pytest.raises(AnalysisInputError) as error:
        DatasetExamplesSpec(model_id="small-cnn", layer="conv2", split="val")
    assert str(error.value) == "unknown split 'val'; valid splits are 'train' or 'test' or None"
    with pytest.raises(AnalysisInputError) as error:
        DatasetExamplesSpec(model_id="small-cnn", layer="conv2", k=0)
    assert str(error.value) == "k 0 must be an integer from 1 to 100"
    result = compute_dataset_examples(DatasetExamplesSpec(model_id="small-cnn", layer="conv2", k=2))
    with pytest.raises(AnalysisInputError) as error:
        result.unit(8)
    assert str(error.value) == "unit 8 is out of range for layer 'conv2'; valid units are 0-7"
    register_small_cnn(tmp_path, model_id="no-data")
    with pytest.raises(AnalysisInputError) as error:
        compute_dataset_examples(DatasetExamplesSpec(model_id="no-data", layer="conv2"))
    assert str(error.value) == (
        "model 'no-data' has no linked data set; register one with "
        "'python -m analysis models add MODEL --id no-data --data DATA.npz'"
    )


def test_ties_at_the_minimum_are_counted():
    from analysis.microscope.activation_stats import count_ties_at_minimum

    values = np.array([[0.0, 1.0], [0.0, 2.0], [0.5, 1.0], [0.0, 3.0]], dtype=np.float32)
    assert count_ties_at_minimum(values).tolist() == [3, 2]
    assert count_ties_at_minimum(np.zeros((0, 2), np.float32)).tolist() == [0, 0]


def test_a_unit_that_is_0_on_most_examples_says_how_many(loupe_home, tmp_path):
    """The red detector is 0 on the 11 grey examples: more ties than the 5 bottom examples listed."""
    from tests.analysis.microscope.featurevis_support import RED_UNIT, register_red_detector

    register_red_detector(tmp_path, with_data=True)
    result = compute_dataset_examples(DatasetExamplesSpec(model_id="red", layer="conv", k=5))
    red = result.unit(RED_UNIT)
    assert (red.bottom_mean_ties, red.ties_at_minimum(), red.ties_at_minimum("max")) == (11, 11, 11)
    assert red.to_dict()["bottom_mean_ties"] == 11 and red.bottom_mean[0][1] == 0.0
    assert result.unit(0).ties_at_minimum() is None  # the mean colour: every example differs

"""A Keras-2 ``.h5`` grey-scale model with inputs in [-1, 1], linked to an image folder, a flat folder with
labels.csv and the equivalent .npz, and a tabular model linked to CSV, Parquet and .npz: every form
gives the same dataset-examples result, the unit pages' thumbnails are the numpy expectation, and
keras.utils.image_dataset_from_directory reads the folder in the same order with the same labels."""

from __future__ import annotations

import base64
import io
import json

import numpy as np
import pytest

from analysis.cli.main import main
from analysis.microscope.dataset_examples import DatasetExamplesSpec, compute_dataset_examples
from analysis.microscope.unit_pages import compute_unit_pages, load_unit_page
from analysis.models.registry import ModelRegistry
from tests.analysis.data_forms.conftest import SIZE, expected_x
from tests.analysis.models.keras2_h5 import write_keras2_h5


def _examples(model_id: str, layer: str) -> dict[str, np.ndarray]:
    result = compute_dataset_examples(DatasetExamplesSpec(model_id=model_id, layer=layer))
    return {k: v for k, v in result.arrays.items()}


def test_keras2_h5_on_every_image_form(loupe_home, image_forms, tmp_path, capsys):
    from PIL import Image

    model_path = tmp_path / "emotions_keras205.h5"
    reference = write_keras2_h5(model_path, size=SIZE, channels=1, classes=3)
    for model_id, data in (
        ("k2-folder", image_forms.folder),
        ("k2-flat", image_forms.flat),
        ("k2-npz", image_forms.npz),
    ):
        argv = ["models", "add", str(model_path), "--id", model_id, "--data", str(data), "--input-range", "-1,1"]
        assert main([*argv, "--json", "-"]) == 0
    registry = ModelRegistry()
    record = registry.get("k2-folder")
    summary = record.current.summary
    assert summary.input_shape == (SIZE, SIZE, 1) and summary.input_range == (-1.0, 1.0)
    assert [layer.name for layer in summary.layers][:2] == ["conv1", "bn1"]
    info = record.datasets[0]
    assert info.source["form"] == "image-folder" and info.source["path"] == str(image_forms.folder.resolve())
    x = np.load(info.path)["x"]
    np.testing.assert_allclose(x, expected_x(image_forms.pixels), atol=1e-6)
    # the model loaded from the Keras 2 file computes what the network it was written from computes
    from analysis.models.loading import load_revision

    loaded = load_revision(record.current)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), reference.predict(x, verbose=0), atol=1e-5)

    results = {model_id: _examples(model_id, "bn2") for model_id in ("k2-folder", "k2-flat", "k2-npz")}
    for name in results["k2-npz"]:
        np.testing.assert_allclose(results["k2-folder"][name], results["k2-npz"][name], atol=1e-4, err_msg=name)
        np.testing.assert_allclose(results["k2-flat"][name], results["k2-npz"][name], atol=1e-4, err_msg=name)

    # unit pages of a grey [-1, 1] model: thumbnails are the grey picture tinted red where the unit fired
    spec = DatasetExamplesSpec(model_id="k2-folder", layer="bn2")
    compute_unit_pages(spec)
    result = compute_dataset_examples(spec)
    for unit in range(result.units):
        page = load_unit_page(spec, unit)
        assert page.dataset_name == "folder"  # named as the user knows it, not by the converted file
        examples = result.unit(unit)
        first = page.top[0]
        shown = np.asarray(Image.open(io.BytesIO(first.png)).convert("RGB")).astype(np.float64)
        grey = np.clip(np.floor((x[first.index, ..., 0].astype(np.float64) + 1) / 2 * 255 + 0.5), 0, 255)
        heat = examples.top_mean_maps[0].astype(np.float64)
        weight = 0.5 * np.clip(heat / heat.max(), 0, 1) if heat.max() > 0 else np.zeros_like(heat)
        expected = np.stack([(1 - weight) * grey + weight * 255, (1 - weight) * grey, (1 - weight) * grey], -1)
        np.testing.assert_allclose(shown, expected, atol=1.01, err_msg=f"unit {unit}")
        assert base64.b64encode(first.png)  # a real PNG


def test_keras_reads_the_folder_in_the_same_order(image_forms, tmp_path):
    import keras

    data = keras.utils.image_dataset_from_directory(
        image_forms.folder, color_mode="grayscale", image_size=(SIZE, SIZE), shuffle=False, batch_size=None
    )
    pairs = list(data.as_numpy_iterator())
    from analysis.data_forms import ConversionPolicy, DataSourceSpec, convert_dataset

    converted = convert_dataset(
        DataSourceSpec(path=image_forms.folder),
        ConversionPolicy(shape=(SIZE, SIZE, 1), input_range=(0.0, 255.0)),
        out_dir=tmp_path / "c",
    )
    arrays = np.load(converted.path)
    assert data.class_names == list(arrays["class_names"])
    np.testing.assert_array_equal(np.array([int(y) for _, y in pairs]), arrays["y"])
    np.testing.assert_allclose(np.stack([x for x, _ in pairs]), arrays["x"], atol=1e-3)


def test_tabular_model_on_csv_parquet_and_npz(loupe_home, table_forms, tmp_path):
    import keras

    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input((4,)),
            keras.layers.Dense(6, activation="relu", name="hidden"),
            keras.layers.Dense(2, activation="softmax"),
        ]
    )
    model.save(tmp_path / "tabular.keras")
    for model_id, data in (("t-csv", table_forms.csv), ("t-parquet", table_forms.parquet), ("t-npz", table_forms.npz)):
        extra = [] if data.suffix == ".npz" else ["--label", "label", "--meta", "sex"]
        assert (
            main(["models", "add", str(tmp_path / "tabular.keras"), "--id", model_id, "--data", str(data), *extra]) == 0
        )
    results = {m: _examples(m, "hidden") for m in ("t-csv", "t-parquet", "t-npz")}
    for name in results["t-npz"]:
        np.testing.assert_allclose(results["t-csv"][name], results["t-npz"][name], atol=1e-5, err_msg=name)
        np.testing.assert_allclose(results["t-parquet"][name], results["t-npz"][name], atol=1e-5, err_msg=name)
    info = ModelRegistry().get("t-parquet").datasets[0]
    assert info.metadata_columns == ("sex",) and info.feature_names == ("age", "income", "hours", "debt")
    # an analysis command given the table directly gives the result it gives on the .npz
    fairness = {}
    for data in (table_forms.parquet, table_forms.npz):
        out = tmp_path / f"fairness-{data.suffix[1:]}.json"
        argv = ["fairness", "--model", "t-npz", "--data", str(data), "--sensitive", "sex", "--bootstrap", "0"]
        assert main([*argv, "--min-slice", "5", "--json", str(out)]) == 0
        fairness[data.suffix] = json.loads(out.read_text())
    for key in ("overall", "slices", "disparities", "n_rows"):
        assert fairness[".parquet"][key] == fairness[".npz"][key], key


def test_bad_table_registers_nothing(loupe_home, table_forms, tmp_path, capsys):
    import keras

    keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, activation="softmax")]).save(tmp_path / "m.keras")
    code = main(
        ["models", "add", str(tmp_path / "m.keras"), "--id", "three", "--data", str(table_forms.csv), "--meta", "sex"]
    )
    assert code == 2
    assert (
        "gives 4 feature columns (age, income, hours, debt), but the model takes inputs of shape [3]"
        in capsys.readouterr().err
    )
    assert ModelRegistry().ids() == []
    with pytest.raises(Exception):
        ModelRegistry().get("three")

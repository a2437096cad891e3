"""keras.applications models from local weights: preprocessing folded in, registered, never downloaded."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from analysis.cli.main import main
from analysis.errors import AnalysisInputError, describe_choices
from analysis.models.applications import APPLICATIONS, AddApplicationSpec, add_application, build_application

V3_FILE = "weights_mobilenet_v3_small_224_1.0_float.h5"  # what Keras 3.15 downloads for MobileNetV3Small


def save_application_weights(name: str, folder: Path, size: int = 32, seed: int = 3) -> Path:
    """Random (seeded) weights of ``keras.applications.<name>`` at ``size`` x ``size`` (Keras 3 ``.weights.h5``)."""
    import keras

    keras.utils.set_random_seed(seed)
    path = folder / f"{name}.weights.h5"
    getattr(keras.applications, name)(weights=None, input_shape=(size, size, 3)).save_weights(path)
    return path


def save_legacy_weights(name: str, path: Path, weights: Path, size: int = 32) -> Path:
    """``weights`` re-saved in the legacy HDF5 layout of the files Keras downloads for its applications."""
    import h5py
    import keras
    from keras.src.legacy.saving.legacy_h5_format import save_weights_to_hdf5_group

    model = getattr(keras.applications, name)(weights=None, input_shape=(size, size, 3))
    model.load_weights(weights)
    path.parent.mkdir(parents=True, exist_ok=True)
    with h5py.File(path, "w") as handle:
        save_weights_to_hdf5_group(handle, model)
    return path


@pytest.fixture
def v3_weights(tmp_path: Path) -> Path:
    return save_application_weights("MobileNetV3Small", tmp_path)


@pytest.fixture
def empty_keras_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point Keras's cache (``$KERAS_HOME``) at an empty folder, so the user's real cache is never read."""
    from keras.src.backend import config

    home = tmp_path / "keras-home"
    monkeypatch.setattr(config, "_KERAS_DIR", str(home))
    return home


def raw_images(n: int = 3, size: int = 32) -> np.ndarray:
    return np.random.default_rng(0).uniform(0, 255, (n, size, size, 3)).astype(np.float32)


@pytest.mark.parametrize(
    ("name", "module"),
    [
        ("MobileNetV2", "mobilenet_v2"),  # tf: [-1, 1]
        ("MobileNetV3Small", "mobilenet_v3"),  # built in
        ("ResNet50", "resnet"),  # caffe: BGR minus the mean
        pytest.param("DenseNet121", "densenet", marks=pytest.mark.slow),  # torch: ImageNet mean and std
    ],
)
def test_folded_model_equals_the_application_on_its_own_preprocessing(tmp_path, name, module):
    """Raw RGB [0, 255] through the saved model == keras's preprocess_input, then the application."""
    import keras

    weights = save_application_weights(name, tmp_path)
    folded = build_application(AddApplicationSpec(name=name, model_id="x", input_size=32), weights)
    reference = getattr(keras.applications, name)(weights=None, input_shape=(32, 32, 3))
    reference.load_weights(weights)
    raw = raw_images()
    preprocessed = getattr(keras.applications, module).preprocess_input(raw.copy())
    conv = [layer.name for layer in reference.layers if type(layer).__name__ == "Conv2D"][2]
    expected = keras.Model(reference.inputs, reference.get_layer(conv).output).predict(preprocessed, verbose=0)
    got = keras.Model(folded.inputs, folded.get_layer(conv).output).predict(raw, verbose=0)
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4 * np.abs(expected).max())
    np.testing.assert_allclose(
        folded.predict(raw, verbose=0), reference.predict(preprocessed, verbose=0), rtol=1e-4, atol=1e-7
    )


def test_cli_registers_the_application_with_raw_input_range(loupe_home, v3_weights, capsys, tmp_path):
    data = tmp_path / "data.npz"
    np.savez(data, x=raw_images(6), y=np.arange(6))
    code = main(
        [
            "models",
            "add-application",
            "MobileNetV3Small",
            "--id",
            "mnv3",
            "--weights",
            str(v3_weights),
            "--input-size",
            "32",
            "--data",
            str(data),
            "--json",
            "-",
        ]
    )
    assert code == 0
    added = json.loads(capsys.readouterr().out)
    assert added["id"] == "mnv3" and added["format"] == "keras"
    assert added["path"] == str(loupe_home / "applications" / "mnv3.keras")
    assert added["input_shape"] == [32, 32, 3]
    assert added["input_range"] == [0.0, 255.0]
    assert added["input_range_source"] == "inferred from the model's Rescaling layer (maps to [0, 1])"
    assert added["output_kind"] == "probabilities" and added["n_classes"] == 1000
    layers = {layer["name"]: layer for layer in added["layers"]}
    assert layers["conv"] == {"name": "conv", "kind": "Conv2D", "output_shape": [16, 16, 16], "units": 16}
    assert "raw_to_unit" not in layers and "built_in_preprocessing" not in layers
    assert added["datasets"][0]["n_examples"] == 6
    assert added["notes"] == []


def test_registered_model_loads_and_matches_the_weights(loupe_home, v3_weights):
    import keras

    from analysis.models.loading import load_revision

    record = add_application(
        AddApplicationSpec(name="MobileNetV3Small", model_id="mnv3", weights=v3_weights, input_size=32)
    )
    reference = keras.applications.MobileNetV3Small(weights=None, input_shape=(32, 32, 3))
    reference.load_weights(v3_weights)
    raw = raw_images()
    np.testing.assert_allclose(
        load_revision(record.current).predict(raw, verbose=0), reference.predict(raw, verbose=0), atol=1e-6
    )


def test_missing_weights_file_names_the_file_to_provide(loupe_home, tmp_path, empty_keras_cache, capsys):
    missing = tmp_path / "nowhere.h5"
    with pytest.raises(AnalysisInputError) as error:
        add_application(AddApplicationSpec(name="MobileNetV3Small", model_id="mnv3", weights=missing, input_size=32))
    assert str(error.value) == (
        f"weights file {str(missing)!r} does not exist: Loupe never downloads weights. Provide {V3_FILE!r} "
        f"(the ImageNet weights of keras.applications.MobileNetV3Small, which Keras would cache as "
        f"~/.keras/models/{V3_FILE}) from a machine with network access, and pass its path with --weights"
    )
    assert not (loupe_home / "applications" / "mnv3.keras").exists()
    code = main(["models", "add-application", "MobileNetV3Small", "--id", "mnv3", "--weights", str(missing)])
    assert code == 2
    assert capsys.readouterr().err.strip() == f"error: {error.value}"


def test_without_weights_uses_keras_cache_or_says_where_it_looked(loupe_home, empty_keras_cache, v3_weights):
    spec = AddApplicationSpec(name="MobileNetV3Small", model_id="mnv3", input_size=32)
    cached = empty_keras_cache / "models" / V3_FILE
    with pytest.raises(AnalysisInputError) as error:
        add_application(spec)
    assert str(error.value).startswith(
        f"no weights file given and none in Keras's cache ({str(cached)!r}): Loupe never downloads weights. "
        f"Provide {V3_FILE!r}"
    )
    save_legacy_weights("MobileNetV3Small", cached, v3_weights)
    record = add_application(spec)
    assert record.current.summary.input_shape == (32, 32, 3)
    assert record.current.summary.layer("conv").units == 16


def test_unknown_application_lists_the_valid_names():
    with pytest.raises(AnalysisInputError) as error:
        AddApplicationSpec(name="MobileNetV9", model_id="x")
    names = describe_choices(sorted(APPLICATIONS), limit=len(APPLICATIONS))
    assert str(error.value) == f"unknown application 'MobileNetV9'; valid names are {names}"
    assert str(error.value).startswith(
        "unknown application 'MobileNetV9'; valid names are 'ConvNeXtBase', 'ConvNeXtLarge', "
    )
    assert str(error.value).endswith("'VGG16', 'VGG19' or 'Xception'")


@pytest.mark.parametrize("size", [0, 31, 5000, True])
def test_bad_input_size(size):
    with pytest.raises(AnalysisInputError) as error:
        AddApplicationSpec(name="MobileNetV2", model_id="x", input_size=size)
    assert str(error.value) == f"input size {size!r} must be an integer from 32 to 1024 pixels"


def test_input_size_below_the_application_minimum(loupe_home, v3_weights):
    with pytest.raises(AnalysisInputError) as error:
        add_application(AddApplicationSpec(name="InceptionV3", model_id="inc", weights=v3_weights, input_size=64))
    assert str(error.value) == (
        "keras.applications.InceptionV3 cannot be built at input size 64: "
        "Input size must be at least 75x75; Received: input_shape=(64, 64, 3)"
    )


def test_weights_of_another_architecture_are_refused(loupe_home, v3_weights):
    with pytest.raises(AnalysisInputError) as error:
        add_application(AddApplicationSpec(name="MobileNetV2", model_id="mnv2", weights=v3_weights, input_size=32))
    assert str(error.value).startswith(
        f"weights file {str(v3_weights)!r} does not fit keras.applications.MobileNetV2 at input size 32 "
        "(with its ImageNet top): "
    )


def test_bad_model_id_is_refused_before_building(loupe_home, v3_weights):
    with pytest.raises(AnalysisInputError, match="model id 'Bad Id' is not valid"):
        add_application(AddApplicationSpec(name="MobileNetV3Small", model_id="Bad Id", weights=v3_weights))

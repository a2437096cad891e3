"""Model registry: formats, revisions, safe loading and every bad-input message."""

from __future__ import annotations

import json
import threading
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from analysis.datasets import DatasetRole
from analysis.errors import AnalysisInputError
from analysis.models.loading import load_revision
from analysis.models.registry import ModelRegistry, RegisterModelSpec
from analysis.models.summary import ModelSummary, OutputKind
from tests.conftest import build_tiny_cnn


def register(path: Path, model_id: str = "tiny", **kwargs):
    return ModelRegistry().register(RegisterModelSpec(path=path, model_id=model_id, **kwargs))


def test_keras_model_summary(loupe_home, tiny_cnn_path, tiny_dataset_path):
    record = register(tiny_cnn_path, datasets={DatasetRole.DATA: tiny_dataset_path})
    summary = record.current.summary
    assert summary.format.value == "keras"
    assert summary.input_shape == (8, 8, 3)
    assert summary.input_range == (0.0, 255.0)  # from Rescaling(1/255)
    assert summary.output_kind is OutputKind.PROBABILITIES and summary.n_classes == 3
    assert ModelRegistry().get("tiny").current.summary.output_kind is OutputKind.PROBABILITIES  # read back from JSON
    assert [(layer.name, layer.kind, layer.output_shape, layer.units) for layer in summary.layers] == [
        ("conv", "Conv2D", (6, 6, 4), 4),
        ("gap", "GlobalAveragePooling2D", (4,), 4),
        ("logits", "Dense", (3,), 3),
    ]
    assert record.current.revision == __import__("hashlib").sha256(tiny_cnn_path.read_bytes()).hexdigest()
    (dataset,) = record.datasets
    assert (dataset.role, dataset.n_examples, dataset.metadata_columns, dataset.has_split) == (
        DatasetRole.DATA,
        12,
        ("sex",),
        True,
    )


@pytest.mark.parametrize(
    ("kind", "shape", "n_classes"),
    [
        (OutputKind.PROBABILITIES, (3,), 3),
        (OutputKind.BINARY_PROBABILITY, (1,), 2),
        (OutputKind.LOGITS, (4,), 4),
        (OutputKind.VALUES, (1,), None),
    ],
)
def test_output_kind_is_an_enum_stored_by_its_value(kind, shape, n_classes):
    data = {
        "format": "keras",
        "input_shape": [3],
        "input_range": [0.0, 1.0],
        "input_range_source": "default",
        "output_shape": list(shape),
        "output_kind": kind.value,
        "n_classes": n_classes,
        "parameter_count": 4,
        "layers": [],
        "notes": [],
    }
    summary = ModelSummary.from_dict(json.loads(json.dumps(data)))
    assert summary.output_kind is kind and summary.n_classes == n_classes
    assert summary.to_dict() == data
    assert replace(summary, output_kind=kind.value).output_kind is kind  # a string is parsed


def test_h5_and_savedmodel_formats(loupe_home, tmp_path):
    model = build_tiny_cnn()
    model.save(tmp_path / "legacy.h5")
    model.export(tmp_path / "exported", format="tf_saved_model", verbose=False)
    h5 = register(tmp_path / "legacy.h5", "legacy").current.summary
    assert (h5.format.value, [layer.name for layer in h5.layers]) == ("h5", ["conv", "gap", "logits"])
    saved = register(tmp_path / "exported", "exported")
    assert saved.current.summary.format.value == "savedmodel"
    assert saved.current.summary.input_shape == (8, 8, 3)
    assert saved.current.summary.layers == ()  # a SavedModel exposes only its signature
    x = np.random.default_rng(0).uniform(0, 255, (2, 8, 8, 3)).astype(np.float32)
    np.testing.assert_allclose(
        load_revision(saved.current).predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-5
    )


def test_changed_file_makes_a_new_revision_and_old_one_stays_addressable(loupe_home, tmp_path):
    build_tiny_cnn(seed=0).save(tmp_path / "v1.keras")
    build_tiny_cnn(seed=1).save(tmp_path / "v2.keras")
    first = register(tmp_path / "v1.keras").current
    record = register(tmp_path / "v2.keras")
    assert record.current.revision != first.revision
    assert [r.revision for r in record.revisions] == [record.current.revision, first.revision]
    registry = ModelRegistry()
    assert registry.resolve("tiny").revision == record.current.revision
    assert registry.resolve("tiny", first.revision[:8]).revision == first.revision
    (tmp_path / "v1.keras").unlink()
    with pytest.raises(AnalysisInputError) as error:
        registry.resolve("tiny", first.revision[:8])
    assert str(error.value) == (
        f"revision {first.short} of 'tiny' is no longer available: its file '{tmp_path / 'v1.keras'}' is gone"
    )


def test_overwritten_file_says_its_content_changed(loupe_home, tmp_path):
    path = tmp_path / "m.keras"
    build_tiny_cnn(seed=0).save(path)
    old = register(path).current
    build_tiny_cnn(seed=1).save(path)
    register(path)
    with pytest.raises(AnalysisInputError, match="now holds different content"):
        ModelRegistry().resolve("tiny", old.short)


def test_unknown_model_and_revision_messages(loupe_home, tiny_cnn_path):
    current = register(tiny_cnn_path).current
    registry = ModelRegistry()
    with pytest.raises(AnalysisInputError) as error:
        registry.get("nope")
    assert str(error.value) == "unknown model 'nope'; registered models are 'tiny'"
    with pytest.raises(AnalysisInputError) as error:
        registry.resolve("tiny", "beef")
    assert (
        str(error.value)
        == f"model 'tiny' has no revision 'beef'; its revisions are '{current.short}' (current {current.short})"
    )
    with pytest.raises(AnalysisInputError, match="is not a hash prefix"):
        registry.resolve("tiny", "zz!")


def test_lambda_layer_is_refused_unless_trusted(loupe_home, tmp_path):
    import keras

    inputs = keras.Input((4,))
    outputs = keras.layers.Dense(2, name="out")(keras.layers.Lambda(lambda t: t * 2, name="double")(inputs))
    keras.Model(inputs, outputs).save(tmp_path / "lambda.keras")
    with pytest.raises(AnalysisInputError) as error:
        register(tmp_path / "lambda.keras")
    assert "contains Lambda layer 'double'" in str(error.value)
    assert "--trust-model-code" in str(error.value)
    record = register(tmp_path / "lambda.keras", trust_model_code=True)
    assert record.current.trusted


def test_custom_object_is_refused(loupe_home, tmp_path):
    import keras

    @keras.saving.register_keras_serializable(package="TestPkg")
    class Twice(keras.layers.Layer):
        def call(self, x):
            return 2 * x

    inputs = keras.Input((4,))
    keras.Model(inputs, keras.layers.Dense(2)(Twice(name="twice")(inputs))).save(tmp_path / "custom.keras")
    with pytest.raises(AnalysisInputError) as error:
        register(tmp_path / "custom.keras")
    assert "custom object TestPkg>Twice ('twice')" in str(error.value)
    assert "--trust-model-code" in str(error.value)


def test_truncated_keras_file(loupe_home, tiny_cnn_path, tmp_path):
    truncated = tmp_path / "truncated.keras"
    truncated.write_bytes(tiny_cnn_path.read_bytes()[: tiny_cnn_path.stat().st_size // 2])
    with pytest.raises(
        AnalysisInputError, match=r"^model file '.*truncated.keras' is corrupt or truncated \(BadZipFile"
    ):
        register(truncated)


def test_truncated_h5_file(loupe_home, tmp_path):
    build_tiny_cnn().save(tmp_path / "full.h5")
    data = (tmp_path / "full.h5").read_bytes()
    (tmp_path / "cut.h5").write_bytes(data[: len(data) // 2])
    with pytest.raises(AnalysisInputError, match=r"cut\.h5' is corrupt or truncated"):
        register(tmp_path / "cut.h5")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "is empty (0 bytes)"),
        (b"hello, not a model", "is not a model Loupe can read (it starts with bytes b'hello, n'); valid models are"),
        (b"PK\x03\x04" + b"\x00" * 50, "is corrupt or truncated"),
    ],
)
def test_files_that_are_not_models(loupe_home, tmp_path, content, message):
    path = tmp_path / "bad.keras"
    path.write_bytes(content)
    with pytest.raises(AnalysisInputError) as error:
        register(path)
    assert message in str(error.value)
    assert ModelRegistry().ids() == []  # nothing half-registered


def test_zip_without_config_is_not_a_keras_model(loupe_home, tmp_path):
    import zipfile

    with zipfile.ZipFile(tmp_path / "other.keras", "w") as archive:
        archive.writestr("readme.txt", "hi")
    with pytest.raises(AnalysisInputError, match=r"is a zip file but not a Keras model: it has no config\.json"):
        register(tmp_path / "other.keras")


def test_oversized_file(loupe_home, tiny_cnn_path, monkeypatch):
    monkeypatch.setenv("LOUPE_MAX_MODEL_BYTES", "100")
    with pytest.raises(AnalysisInputError) as error:
        register(tiny_cnn_path)
    size = tiny_cnn_path.stat().st_size
    assert f"is {size:,} bytes, over the limit of 100 bytes (raise LOUPE_MAX_MODEL_BYTES to allow it)" in str(
        error.value
    )


def test_missing_path_and_plain_folder(loupe_home, tmp_path):
    with pytest.raises(AnalysisInputError, match=r"model path '.*nowhere.keras' does not exist"):
        register(tmp_path / "nowhere.keras")
    with pytest.raises(AnalysisInputError, match=r"is not a TF SavedModel \(it has no saved_model\.pb\)"):
        register(tmp_path)


@pytest.mark.parametrize("bad_id", ["", "Has Caps", "-leading", "a" * 64, "sl/ash"])
def test_invalid_model_ids(loupe_home, tiny_cnn_path, bad_id):
    with pytest.raises(AnalysisInputError, match=f"model id {bad_id!r} is not valid"):
        register(tiny_cnn_path, bad_id)


@pytest.mark.parametrize(
    ("arrays", "message"),
    [
        ({"y": np.zeros(3, dtype=int)}, "has no array 'x'; it has 'y'"),
        (
            {"x": np.zeros((3, 8, 8, 3)), "y": np.zeros(2, dtype=int)},
            "'y' in '{p}' must have shape (3,) like x, got (2,)",
        ),
        (
            {"x": np.zeros((3, 4, 4, 3)), "y": np.zeros(3, dtype=int)},
            "'x' in '{p}' has examples of shape (4, 4, 3), but the model expects (8, 8, 3)",
        ),
        (
            {"x": np.zeros((3, 8, 8, 3)), "y": np.array([0.5, 1, 2])},
            "must hold class indices 0, 1, ...; got dtype float64",
        ),
        (
            {"x": np.zeros((3, 8, 8, 3)), "y": np.zeros(3, dtype=int), "split": np.array(["train", "dev", "test"])},
            "'split' in '{p}' must hold 'train' or 'test' per example, found ['dev', 'test', 'train']",
        ),
    ],
)
def test_bad_datasets(loupe_home, tiny_cnn_path, tmp_path, arrays, message):
    path = tmp_path / "data.npz"
    np.savez(path, **arrays)
    with pytest.raises(AnalysisInputError) as error:
        register(tiny_cnn_path, datasets={DatasetRole.DATA: path})
    assert message.format(p=path) in str(error.value)
    assert ModelRegistry().ids() == []


def test_pickled_dataset_is_refused(loupe_home, tiny_cnn_path, tmp_path):
    path = tmp_path / "pickled.npz"
    np.savez(path, x=np.zeros((2, 8, 8, 3)), y=np.array([{"a": 1}, None], dtype=object))
    with pytest.raises(AnalysisInputError, match="holds object arrays, which Loupe refuses to unpickle"):
        register(tiny_cnn_path, datasets={DatasetRole.DATA: path})


@pytest.mark.parametrize(
    ("content", "head"),
    [(b"not an archive at all", "b'not an a'"), (b"\x93NUMPY\x01\x00v\x00", "b'\\x93NUMPY\\x01\\x00'")],
)
def test_a_dataset_that_is_not_a_zip_is_named_not_called_a_pickle(loupe_home, tiny_cnn_path, tmp_path, content, head):
    """Random bytes used to be reported as 'object arrays'; a lone .npy crashed with a TypeError."""
    path = tmp_path / "broken.npz"
    path.write_bytes(content)
    with pytest.raises(AnalysisInputError) as error:
        register(tiny_cnn_path, datasets={DatasetRole.DATA: path})
    assert str(error.value) == (
        f"data file {str(path)!r} is not a valid .npz file (it starts with bytes {head}, not a zip archive); "
        "write it with numpy.savez(path, x=..., y=...)"
    )


def test_concurrent_readers_during_a_write(loupe_home, tiny_cnn_path, tmp_path):
    register(tiny_cnn_path, "first")
    errors: list[BaseException] = []

    def read() -> None:
        try:
            for _ in range(30):
                assert "first" in ModelRegistry().ids()
                json.dumps([r.to_dict() for r in ModelRegistry().list()])
        except BaseException as error:  # noqa: BLE001
            errors.append(error)

    threads = [threading.Thread(target=read) for _ in range(6)]
    for thread in threads:
        thread.start()
    register(tiny_cnn_path, "second")
    for thread in threads:
        thread.join()
    assert errors == []
    assert ModelRegistry().ids() == ["first", "second"]


def test_input_range_override(loupe_home, tiny_cnn_path):
    summary = register(tiny_cnn_path, input_range=(-1.0, 1.0)).current.summary
    assert (summary.input_range, summary.input_range_source) == ((-1.0, 1.0), "set by the user")
    with pytest.raises(AnalysisInputError, match=r"input range \(1.0, 0.0\) must be LO,HI with LO < HI"):
        RegisterModelSpec(path=tiny_cnn_path, model_id="x", input_range=(1.0, 0.0))

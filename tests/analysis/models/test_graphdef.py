"""Frozen GraphDef models: detection, safe loading, layers, rendering and dataset examples on a tiny graph."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from analysis.cli.main import main
from analysis.datasets import DatasetRole
from analysis.errors import AnalysisInputError
from analysis.microscope.dataset_examples import DatasetExamplesSpec, compute_dataset_examples
from analysis.microscope.featurevis import RenderSpec, render_units
from analysis.models.files import detect_format
from analysis.models.graphdef import LUCID_INPUT_RANGE, GraphDefModel, load_graphdef
from analysis.models.registry import ModelRegistry, RegisterModelSpec
from analysis.models.summary import ModelFormat
from tests.analysis.models.graphdef_support import SIZE, reference_layers, tiny_graph_weights, write_tiny_graphdef

LAYERS = [
    {"name": "conv2d0", "kind": "Relu", "output_shape": [SIZE, SIZE, 4], "units": 4},
    {"name": "mixed3a_3x3", "kind": "Relu", "output_shape": [SIZE, SIZE, 3], "units": 3},
    {"name": "mixed3a_1x1", "kind": "Relu", "output_shape": [SIZE, SIZE, 2], "units": 2},
    {"name": "mixed3a", "kind": "ConcatV2", "output_shape": [SIZE, SIZE, 5], "units": 5},
]


@pytest.fixture
def tiny_pb(tmp_path: Path) -> Path:
    return write_tiny_graphdef(tmp_path / "tiny_inception.pb")


@pytest.fixture
def tiny_data(tmp_path: Path) -> Path:
    path = tmp_path / "tiny-graph-data.npz"
    rng = np.random.default_rng(5)
    np.savez(path, x=rng.uniform(0, 1, (20, SIZE, SIZE, 3)).astype(np.float32), y=np.arange(20) % 6)
    return path


@pytest.fixture
def registered(loupe_home, tiny_pb, tiny_data):
    return ModelRegistry().register(
        RegisterModelSpec(path=tiny_pb, model_id="tiny-graph", input_size=SIZE, datasets={DatasetRole.DATA: tiny_data})
    )


def test_detects_a_frozen_graphdef_by_extension_and_content(tiny_pb):
    assert detect_format(tiny_pb) is ModelFormat.GRAPHDEF


def test_layers_compute_what_tf_nn_computes(tiny_pb):
    model = load_graphdef(tiny_pb, input_size=SIZE)
    images = np.random.default_rng(1).uniform(0, 1, (3, SIZE, SIZE, 3)).astype(np.float32)
    expected = reference_layers(tiny_graph_weights(), images)
    got = model.layer_outputs(["conv2d0", "mixed3a"])(images)
    assert sorted(got) == ["conv2d0", "mixed3a"]
    for name in got:
        np.testing.assert_allclose(got[name].numpy(), expected[name], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(model.predict(images, batch_size=2), expected["softmax0"], rtol=1e-5, atol=1e-7)


def test_cli_registers_the_graph_with_its_layers(loupe_home, tiny_pb, capsys):
    code = main(["models", "add", str(tiny_pb), "--id", "tiny-graph", "--input-size", str(SIZE), "--json", "-"])
    assert code == 0
    added = json.loads(capsys.readouterr().out)
    assert added["format"] == "graphdef" and added["input_name"] == "input"
    assert added["input_shape"] == [SIZE, SIZE, 3]
    assert added["input_range"] == [0.0, 1.0]
    assert added["layers"] == LAYERS
    assert added["output_shape"] == [6] and added["output_kind"] == "probabilities" and added["n_classes"] == 6
    assert added["parameter_count"] == sum(w.size for w in tiny_graph_weights().values())
    assert added["notes"][0].startswith("frozen GraphDef: layers are its Relu/Relu6/Concat/ConcatV2 ops")


def test_input_range_and_name_from_the_user(loupe_home, tmp_path):
    path = write_tiny_graphdef(tmp_path / "named.pb", placeholder="pixels", size=SIZE)
    record = ModelRegistry().register(RegisterModelSpec(path=path, model_id="g", input_range=(-1.0, 1.0)))
    summary = record.current.summary
    assert summary.input_name == "pixels" and summary.input_shape == (SIZE, SIZE, 3)  # size from the placeholder
    assert summary.input_range == (-1.0, 1.0) and summary.input_range_source == "set by the user"
    with pytest.raises(AnalysisInputError) as error:
        load_graphdef(path, input_name="input")
    assert str(error.value) == f"GraphDef {str(path)!r} has no placeholder 'input'; its placeholders are 'pixels'"


def test_lucid_inception_defaults_when_input_and_mixed4c_exist(tmp_path, monkeypatch):
    """A graph with an 'input' placeholder and a 'mixed4c' op gets lucid's input range and size."""
    import tensorflow as tf

    path = write_tiny_graphdef(tmp_path / "tiny.pb")
    graph_def = tf.compat.v1.GraphDef()
    graph_def.ParseFromString(path.read_bytes())
    for node in graph_def.node:  # rename mixed3a -> mixed4c (and the inputs that read it)
        node.name = node.name.replace("mixed3a", "mixed4c")
        node.input[:] = [i.replace("mixed3a", "mixed4c") for i in node.input]
    model = GraphDefModel(path, graph_def)
    summary = model.describe()
    assert summary.input_range == LUCID_INPUT_RANGE == (-117.0, 138.0)
    assert summary.input_shape == (224, 224, 3) and summary.input_name == "input"
    assert summary.layer("mixed4c").output_shape == (224, 224, 5)


def test_renders_units_and_computes_dataset_examples(registered):
    spec = RenderSpec(model_id="tiny-graph", layer="mixed3a", units=(1, 3), steps=12, batch=2, seed=0)
    renderings = render_units(spec)
    assert [r.unit for r in renderings] == [1, 3]
    for rendering in renderings:
        assert rendering.image.shape == (SIZE, SIZE, 3) and rendering.image.dtype == np.uint8
        assert rendering.notes == ()  # the redirected-ReLU warm start was applied
        assert np.isfinite(rendering.activation)
    # the reported activation is the channel mean on the final image, recomputed independently
    image = renderings[0].image.astype(np.float32) / 255.0
    expected = reference_layers(tiny_graph_weights(), image[None])["mixed3a"][0, :, :, 1].mean()
    assert renderings[0].activation == pytest.approx(expected, rel=0.02, abs=1e-3)  # PNG rounding of the image
    assert [r.cached for r in render_units(spec)] == [True, True]

    result = compute_dataset_examples(DatasetExamplesSpec(model_id="tiny-graph", layer="mixed3a", k=3))
    x = np.load(registered.datasets[0].path)["x"]
    means = reference_layers(tiny_graph_weights(), x)["mixed3a"].mean(axis=(1, 2))
    assert (result.units, result.k, result.n_examples, result.spatial) == (5, 3, 20, True)
    for unit in range(5):
        top = [index for index, _ in result.unit(unit).top_mean]
        assert top == sorted(range(20), key=lambda i, u=unit: (-means[i, u], i))[:3]
        assert result.strongest(unit) == pytest.approx(means[:, unit].max(), rel=1e-5)


def test_redirected_relu_gradient_reaches_a_dead_unit(tiny_pb):
    """Lucid's warm start: a unit dead everywhere gets no gradient, unless the redirect is on."""
    import tensorflow as tf

    model = load_graphdef(tiny_pb, input_size=SIZE)
    assert model.relus_redirected == 3
    bias = tiny_graph_weights()["b0"]
    unit = int(np.argmin(bias))
    assert bias[unit] < 0  # on a black image, conv2d0's unit is relu(bias) = 0 everywhere: dead
    forward = model.layer_outputs(["conv2d0"])
    images = tf.zeros((2, SIZE, SIZE, 3))

    def gradient() -> np.ndarray:
        with tf.GradientTape() as tape:
            tape.watch(images)
            loss = -tf.reduce_mean(forward(images)["conv2d0"][..., unit])
        return tape.gradient(loss, images).numpy()

    assert np.abs(gradient()).max() == 0.0
    model.redirect.assign(True)
    redirected = gradient()
    model.redirect.assign(False)
    assert np.abs(redirected).max() > 0.0
    # the redirected gradient is the linear (pre-ReLU) one: d(-mean(conv))/d(image), checked independently
    kernel = tiny_graph_weights()["w0"][..., unit]
    with tf.GradientTape() as tape:
        tape.watch(images)
        linear = -tf.reduce_mean(tf.nn.conv2d(images, kernel[..., None], 1, "SAME"))
    np.testing.assert_allclose(redirected, tape.gradient(linear, images).numpy(), rtol=1e-5, atol=1e-9)
    np.testing.assert_allclose(gradient(), 0.0)


def test_optimization_raises_the_objective(registered):
    """Lucid's own check: the unit's activation rises as the image is optimised."""
    few = render_units(RenderSpec(model_id="tiny-graph", layer="conv2d0", units=(2,), steps=1, seed=0))[0]
    more = render_units(RenderSpec(model_id="tiny-graph", layer="conv2d0", units=(2,), steps=40, seed=0))[0]
    assert more.activation > few.activation


def test_garbage_bytes_are_refused(loupe_home, tmp_path):
    path = tmp_path / "garbage.pb"
    path.write_bytes(b"\xff\xfe not a protobuf at all \x00\x01" * 10)
    with pytest.raises(AnalysisInputError) as error:
        ModelRegistry().register(RegisterModelSpec(path=path, model_id="g"))
    assert str(error.value).startswith(
        f"{str(path)!r} is not a frozen TF GraphDef: it does not parse as one, so it is corrupt, truncated "
        "or another kind of .pb file (DecodeError: "
    )


@pytest.mark.parametrize("keep", [0.5, 0.9])
def test_truncated_graph_is_refused(loupe_home, tiny_pb, tmp_path, keep):
    data = tiny_pb.read_bytes()
    path = tmp_path / "truncated.pb"
    path.write_bytes(data[: int(len(data) * keep)])
    with pytest.raises(AnalysisInputError) as error:
        ModelRegistry().register(RegisterModelSpec(path=path, model_id="g"))
    message = str(error.value)
    assert message.startswith(f"{str(path)!r} is not a frozen TF GraphDef: it does not parse as one") or (
        message.startswith(f"GraphDef {str(path)!r} could not be imported: it is corrupt or truncated")
    ), message


def test_empty_and_no_op_files_are_refused(loupe_home, tmp_path):
    empty = tmp_path / "empty.pb"
    empty.write_bytes(b"")
    with pytest.raises(AnalysisInputError, match=r"is empty \(0 bytes\)"):
        detect_format(empty)
    no_ops = tmp_path / "no_ops.pb"
    no_ops.write_bytes(b"\x20\x01")  # a valid protobuf (field 4 = 1) that holds no graph nodes
    with pytest.raises(AnalysisInputError) as error:
        detect_format(no_ops)
    assert str(error.value) == f"{str(no_ops)!r} is not a frozen TF GraphDef: it parses to a graph with no ops"


def test_saved_model_graph_file_points_to_its_folder(tmp_path):
    path = tmp_path / "saved_model.pb"
    path.write_bytes(b"\x08\x01")
    with pytest.raises(AnalysisInputError) as error:
        detect_format(path)
    assert str(error.value) == f"{str(path)!r} is the graph file of a TF SavedModel; register its folder instead"


def test_python_ops_are_refused(loupe_home, tmp_path):
    path = write_tiny_graphdef(tmp_path / "pyfunc.pb", python_op=True)
    with pytest.raises(AnalysisInputError) as error:
        ModelRegistry().register(RegisterModelSpec(path=path, model_id="g", trust_model_code=True))
    assert str(error.value) == (
        f"GraphDef {str(path)!r} contains PyFunc op 'python_identity': such ops call Python functions that are "
        "not stored in the file, so Loupe refuses the graph"
    )


def test_graph_options_only_for_graphdefs(loupe_home, tiny_cnn_path):
    with pytest.raises(AnalysisInputError) as error:
        ModelRegistry().register(RegisterModelSpec(path=tiny_cnn_path, model_id="t", input_name="input"))
    assert str(error.value) == (
        f"--input-name and --input-size apply to frozen GraphDef (.pb) models only; {str(tiny_cnn_path)!r} is keras"
    )


def test_bad_input_size(tiny_pb):
    with pytest.raises(AnalysisInputError) as error:
        load_graphdef(tiny_pb, input_size=4)
    assert str(error.value) == "input size 4 must be an integer from 8 to 2048 pixels"


def test_analyses_that_need_keras_refuse_a_graphdef_clearly(loupe_home, tmp_path):
    from analysis.models.loading import load_revision
    from analysis.models.registry import ModelRegistry, RegisterModelSpec

    path = tmp_path / "tiny.pb"
    write_tiny_graphdef(path)
    revision = ModelRegistry().register(RegisterModelSpec(path=path, model_id="tiny-graph")).current
    with pytest.raises(AnalysisInputError) as error:
        load_revision(revision, keras_needed_for="privacy audits")
    assert str(error.value) == (
        "model 'tiny-graph' is a frozen GraphDef; privacy audits need a Keras model (.keras or .h5). "
        "GraphDef models can be browsed in the Microscope only."
    )

"""Circuits: expanded weights against hand-composed kernels and finite differences; attribution's completeness."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from analysis.errors import AnalysisInputError
from analysis.microscope import circuit_gradients
from analysis.microscope.circuits import (
    ConnectionMethod,
    ConnectionsSpec,
    _crop,
    compute_connections,
    load_cached_connections,
    parse_claim,
    resolve_from_layer,
)


def _register(tmp_path, model, model_id: str, x: np.ndarray | None = None):
    from analysis.datasets import DatasetRole
    from analysis.models.registry import ModelRegistry, RegisterModelSpec

    path = tmp_path / f"{model_id}.keras"
    model.save(path)
    datasets = {}
    if x is not None:
        np.savez(tmp_path / f"{model_id}.npz", x=x.astype(np.float32), y=np.arange(len(x)) % 2)
        datasets[DatasetRole.DATA] = tmp_path / f"{model_id}.npz"
    return ModelRegistry().register(RegisterModelSpec(path=path, model_id=model_id, datasets=datasets))


def linear_three_convs():
    """10x10x2 -> a (3, 3x3 valid) -> m (4, 3x3 valid) -> b (2, 3x3 valid), no activations, random biases."""
    import keras

    keras.utils.set_random_seed(1)
    inputs = keras.Input((10, 10, 2))
    a = keras.layers.Conv2D(3, 3, name="a", bias_initializer="random_normal")(inputs)
    m = keras.layers.Conv2D(4, 3, name="m", bias_initializer="random_normal")(a)
    b = keras.layers.Conv2D(2, 3, name="b", bias_initializer="random_normal")(m)
    return keras.Model(inputs, b)


def test_linear_net_equals_the_composed_kernel(loupe_home, tmp_path):
    model = linear_three_convs()
    kernel_m, kernel_b = model.get_layer("m").get_weights()[0], model.get_layer("b").get_weights()[0]
    expected = np.zeros(
        (2, 5, 5, 3)
    )  # [j, dy, dx, c_a]: sum over u + s = dy, v + t = dx of K_b[u, v, m, j] K_m[s, t, c, m]
    for u in range(3):
        for v in range(3):
            for s in range(3):
                for t in range(3):
                    expected[:, u + s, v + t, :] += np.einsum("mj,cm->jc", kernel_b[u, v], kernel_m[s, t])
    _register(tmp_path, model, "linear")
    result = compute_connections(ConnectionsSpec(model_id="linear", layer="b", from_layer="a"), model=model)
    assert result.kernels.shape == (2, 5, 5, 3)
    assert result.centre == (2, 2) and result.window == (2, 2, 5, 5)  # b is 4x4; valid convs start at the centre
    np.testing.assert_allclose(result.kernels, expected, atol=1e-5)


def test_default_from_layer_is_the_nearest_earlier_one_and_adjacent_layers_give_the_kernel(loupe_home, tmp_path):
    model = linear_three_convs()
    _register(tmp_path, model, "linear")
    result = compute_connections(ConnectionsSpec(model_id="linear", layer="b"), model=model)
    assert result.from_layer == "m"
    np.testing.assert_allclose(result.kernels, model.get_layer("b").get_weights()[0].transpose(3, 0, 1, 2), atol=1e-6)


def residual_model():
    """16x16x3 -> src conv (relu) -> bn -> sep (separable, relu); add(bn, sep) -> relu -> max pool -> tgt conv."""
    import keras

    keras.utils.set_random_seed(2)
    inputs = keras.Input((16, 16, 3))
    src = keras.layers.Conv2D(4, 3, padding="same", activation="relu", name="src")(inputs)
    bn = keras.layers.BatchNormalization(name="bn")(src)
    sep = keras.layers.SeparableConv2D(4, 3, padding="same", activation="relu", name="sep")(bn)
    added = keras.layers.ReLU(name="relu")(keras.layers.Add(name="add")([bn, sep]))
    pooled = keras.layers.MaxPooling2D(name="pool")(added)
    tgt = keras.layers.Conv2D(3, 3, padding="same", activation="relu", name="tgt")(pooled)
    model = keras.Model(inputs, tgt)
    rng = np.random.default_rng(0)
    gamma, beta, mean, var = (w.shape for w in model.get_layer("bn").get_weights())
    model.get_layer("bn").set_weights(
        [rng.uniform(0.5, 2, gamma), rng.normal(0, 1, beta), rng.normal(0, 1, mean), rng.uniform(0.5, 2, var)]
    )
    return model


def linearised_twin(model, start: str):
    """The path from ``start``'s output to tgt built by hand: identities for ReLUs, average for max pooling."""
    import keras

    shape = model.get_layer(start).output.shape[1:]
    free = keras.Input(shape)
    if start == "src":
        bn = keras.layers.BatchNormalization()
        sep = keras.layers.SeparableConv2D(4, 3, padding="same")
        normed = bn(free)
        added = keras.layers.Add()([normed, sep(normed)])
        bn.set_weights(model.get_layer("bn").get_weights())
        sep.set_weights(model.get_layer("sep").get_weights())
    else:  # start == "sep": tgt sees sep only through bn + sep, so d/d(sep) = d/d(bn + sep)
        added = free
    conv = keras.layers.Conv2D(3, 3, padding="same")
    out = conv(keras.layers.AveragePooling2D(2)(added))
    conv.set_weights(model.get_layer("tgt").get_weights())
    return keras.Model(free, out)


@pytest.mark.parametrize("source", ["src", "sep"])  # src: a clean cut; sep: the residual bypasses it (probe)
def test_residual_separable_batchnorm_maxpool_against_finite_differences(source):
    model = residual_model()
    cut = circuit_gradients.LayerCut(model, source, "tgt", linearise=True)
    assert cut.clean == (source == "src")
    gradients = circuit_gradients.expanded_weights(model, source, "tgt", batch_size=2)  # [3, 16, 16, 4]
    twin = linearised_twin(model, source)
    size = int(np.prod(cut.source_shape))
    basis = np.concatenate([np.zeros((1, size)), np.eye(size)]).reshape(-1, *cut.source_shape).astype(np.float32)
    outputs = twin.predict(basis, batch_size=256, verbose=0)[:, 4, 4, :]  # tgt is 8x8: centre (4, 4)
    finite = (outputs[1:] - outputs[0]).T.reshape(3, *cut.source_shape)
    np.testing.assert_allclose(gradients, finite, atol=2e-4 * np.abs(finite).max())
    kernels, window = _crop(gradients)
    # 2x2 pool then 3x3 conv: 6x6 of the 16x16 source around the centre; the separable 3x3 adds a ring
    assert window == ((5, 5, 8, 8) if source == "src" else (6, 6, 6, 6))
    assert kernels.shape == (3, window[2], window[3], 4)


def test_dense_to_dense_is_the_weight_matrix():
    import keras

    inputs = keras.Input((5,))
    hidden = keras.layers.Dense(4, activation="relu", name="d1")(inputs)
    model = keras.Model(inputs, keras.layers.Dense(3, activation="sigmoid", name="d2")(hidden))
    kernels, window = _crop(circuit_gradients.expanded_weights(model, "d1", "d2", batch_size=8))
    assert window is None and kernels.shape == (3, 1, 1, 4)
    np.testing.assert_allclose(kernels[:, 0, 0, :], model.get_layer("d2").get_weights()[0].T, atol=1e-6)


def linear_in_source():
    import keras

    keras.utils.set_random_seed(3)
    inputs = keras.Input((12, 12, 3))
    src = keras.layers.Conv2D(4, 3, activation="relu", name="src")(inputs)
    pooled = keras.layers.AveragePooling2D(2, name="pool")(src)
    tgt = keras.layers.Conv2D(3, 3, padding="same", use_bias=False, name="tgt")(pooled)
    return keras.Model(inputs, tgt)


def test_attribution_sums_to_the_units_output(loupe_home, tmp_path):
    model = linear_in_source()
    x = np.random.default_rng(0).uniform(0, 1, (20, 12, 12, 3))
    _register(tmp_path, model, "lin", x)
    spec = ConnectionsSpec(model_id="lin", layer="tgt", method="attribution", n_examples=16, batch_size=5)
    result = compute_connections(spec, model=model)
    assert result.method is ConnectionMethod.ATTRIBUTION and result.n_examples == 16
    chosen = np.sort(np.random.default_rng(0).choice(20, size=16, replace=False))
    expected = model.predict(x[chosen].astype(np.float32), verbose=0).mean(axis=(1, 2)).mean(axis=0)
    np.testing.assert_allclose(result.kernels.sum(axis=(1, 2, 3)), expected, rtol=1e-4, atol=1e-5)
    again = compute_connections(spec)
    assert again.cached and np.array_equal(again.kernels, result.kernels)
    assert load_cached_connections(ConnectionsSpec(model_id="lin", layer="tgt", method="weights")) is None


def test_ranking_sign_top_and_claim(loupe_home, tmp_path):
    model = linear_three_convs()
    _register(tmp_path, model, "linear")
    result = compute_connections(ConnectionsSpec(model_id="linear", layer="b", from_layer="a"), model=model)
    unit = result.unit(1)
    ranked = unit.ranked()
    assert [c.rank for c in ranked] == [1, 2, 3]
    assert all(a.strength >= b.strength for a, b in itertools.pairwise(ranked))
    np.testing.assert_allclose(ranked[0].strength, np.linalg.norm(result.kernels[1, :, :, ranked[0].unit]), rtol=1e-6)
    excitatory, inhibitory = unit.top(8)
    assert all(c.value > 0 for c in excitatory) and all(c.value < 0 for c in inhibitory)
    assert len(excitatory) + len(inhibitory) == 3
    check = unit.claim([ranked[0].unit, ranked[2].unit])
    total = sum(c.strength for c in ranked)
    assert check.share == pytest.approx((ranked[0].strength + ranked[2].strength) / total)
    assert [c.rank for c in check.connections] == [1, 3]
    payload = result.to_dict(1, top=2, claim=[ranked[0].unit])
    assert payload["claim"]["units"][0]["rank"] == 1 and payload["from_layer"] == "a"


def test_bad_links_name_the_value_and_the_choices(loupe_home, tmp_path):
    from analysis.models.registry import ModelRegistry

    _register(tmp_path, linear_three_convs(), "linear")
    revision = ModelRegistry().resolve("linear", None)
    with pytest.raises(AnalysisInputError, match=r"from 'b' is the unit's own layer; earlier layers are 'a' or 'm'"):
        resolve_from_layer(revision, "b", "b")
    with pytest.raises(AnalysisInputError, match=r"from 'b' comes after layer 'm'; earlier layers are 'a'"):
        resolve_from_layer(revision, "m", "b")
    with pytest.raises(AnalysisInputError, match=r"from 'zz' is not a layer with units; earlier layers are 'a' or 'm'"):
        resolve_from_layer(revision, "b", "zz")
    with pytest.raises(AnalysisInputError, match=r"layer 'a' is the first layer with units"):
        resolve_from_layer(revision, "a", None)
    with pytest.raises(AnalysisInputError, match=r"claim unit 'x' is not an integer; units of 'a' are 0-2"):
        parse_claim("1,x", 3, "a")
    with pytest.raises(AnalysisInputError, match=r"claim unit 3 is out of range; units of 'a' are 0-2"):
        parse_claim("3", 3, "a")
    with pytest.raises(AnalysisInputError, match=r"unknown connections method 'edges'; valid methods are"):
        ConnectionsSpec(model_id="linear", layer="b", method="edges")
    assert parse_claim(" 2, 0,2 ", 3, "a") == (2, 0)


def test_a_layer_not_on_any_path(loupe_home, tmp_path):
    import keras

    inputs = keras.Input((8, 8, 3))
    main = keras.layers.Conv2D(2, 3, name="main")(inputs)
    side = keras.layers.Conv2D(2, 1, name="side")(main)  # a branch that ends in its own output
    top = keras.layers.Conv2D(2, 3, name="top")(keras.layers.Conv2D(2, 1, name="mid")(main))
    model = keras.Model(inputs, [keras.layers.Flatten()(side), keras.layers.GlobalAveragePooling2D()(top)])
    _register(tmp_path, model, "branches")
    with pytest.raises(
        AnalysisInputError, match=r"from 'side' is not on any path to layer 'top'; .* are 'main' or 'mid'"
    ):
        compute_connections(ConnectionsSpec(model_id="branches", layer="top", from_layer="side"), model=model)


def graph_and_keras_twin(tmp_path):
    """The same network twice, 12x12x3 -> c1 conv relu -> 2x2 max pool -> c2 conv relu -> c3 conv relu.

    Once as a frozen GraphDef written op by op (layers: the Relu ops c1, c2, c3), once as Keras layers.
    """
    import keras
    import tensorflow as tf
    from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2

    from analysis.models.graphdef import load_graphdef

    rng = np.random.default_rng(5)
    shapes = {"c1": (3, 3, 3, 4), "c2": (3, 3, 4, 5), "c3": (1, 1, 5, 3)}
    weights = {
        k: (rng.normal(0, 0.5, s).astype(np.float32), rng.normal(0, 0.2, s[-1]).astype(np.float32))
        for k, s in shapes.items()
    }
    variables = {k: (tf.Variable(w), tf.Variable(b)) for k, (w, b) in weights.items()}

    @tf.function(input_signature=[tf.TensorSpec([None, 12, 12, 3], tf.float32, name="input")])
    def network(images):
        x = tf.nn.relu(
            tf.nn.bias_add(tf.nn.conv2d(images, variables["c1"][0], 1, "SAME"), variables["c1"][1]), name="c1"
        )
        x = tf.nn.max_pool2d(x, 2, 2, "VALID", name="pool")
        x = tf.nn.relu(tf.nn.bias_add(tf.nn.conv2d(x, variables["c2"][0], 1, "SAME"), variables["c2"][1]), name="c2")
        return tf.nn.relu(tf.nn.bias_add(tf.nn.conv2d(x, variables["c3"][0], 1, "SAME"), variables["c3"][1]), name="c3")

    path = tmp_path / "twin.pb"
    path.write_bytes(
        convert_variables_to_constants_v2(network.get_concrete_function()).graph.as_graph_def().SerializeToString()
    )
    inputs = keras.Input((12, 12, 3))
    x = keras.layers.Conv2D(4, 3, padding="same", activation="relu", name="c1")(inputs)
    x = keras.layers.MaxPooling2D(2, name="pool")(x)
    x = keras.layers.Conv2D(5, 3, padding="same", activation="relu", name="c2")(x)
    twin = keras.Model(inputs, keras.layers.Conv2D(3, 1, activation="relu", name="c3")(x))
    for name, (w, b) in weights.items():
        twin.get_layer(name).set_weights([w, b])
    return load_graphdef(path, input_size=12), twin, path


def test_a_graphdef_gives_the_expanded_weights_and_attribution_of_its_keras_twin(loupe_home, tmp_path):
    graph, twin, path = graph_and_keras_twin(tmp_path)
    assert [layer.name for layer in graph.layers] == ["c1", "c2", "c3"]
    x = np.random.default_rng(6).uniform(-1, 1, (6, 12, 12, 3)).astype(np.float32)
    for source in ("c1", "c2"):  # through max pooling (as average) and two ReLUs; adjacent
        ours = circuit_gradients.expanded_weights(graph, source, "c3", batch_size=2)
        theirs = circuit_gradients.expanded_weights(twin, source, "c3", batch_size=2)
        assert ours.shape == theirs.shape and np.abs(theirs).max() > 0
        np.testing.assert_allclose(ours, theirs, atol=1e-5 * np.abs(theirs).max())
    attributed = circuit_gradients.attribution(graph, "c1", "c3", x, batch_size=18)  # the real network: ReLUs, max
    expected = circuit_gradients.attribution(twin, "c1", "c3", x, batch_size=18)
    np.testing.assert_allclose(attributed, expected, atol=1e-5 * np.abs(expected).max())
    from analysis.models.registry import ModelRegistry, RegisterModelSpec

    ModelRegistry().register(RegisterModelSpec(path=path, model_id="graph", input_size=12))
    result = compute_connections(ConnectionsSpec(model_id="graph", layer="c3", from_layer="c1"))
    assert result.window is not None and result.kernels.shape[-1] == 4  # registered and loaded from the .pb
    with pytest.raises(AnalysisInputError, match="from 'c3' comes after layer 'c2'; earlier layers are 'c1'"):
        compute_connections(ConnectionsSpec(model_id="graph", layer="c2", from_layer="c3"))

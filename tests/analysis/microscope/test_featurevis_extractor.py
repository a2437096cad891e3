"""The extractor's two paths: the model's own (fused) layers, and the warm-start clone with lucid's redirected ReLU."""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def _dead_unit_model():
    """One 3x3 conv (4 units) whose unit 2 has bias -10: dead on every image in [0, 1]."""
    import keras

    inputs = keras.Input((8, 8, 3))
    conv = keras.layers.Conv2D(4, 3, padding="same", activation="relu", name="conv")
    model = keras.Model(inputs, keras.layers.GlobalAveragePooling2D()(conv(inputs)))
    kernel = np.random.default_rng(0).normal(0, 0.2, (3, 3, 3, 4)).astype(np.float32)
    conv.set_weights([kernel, np.array([0.1, 0.2, -10.0, 0.3], dtype=np.float32)])
    return model, kernel


def _gradient(extractor, images, unit: int, *, warm: bool) -> np.ndarray:
    import tensorflow as tf

    with tf.GradientTape() as tape:
        tape.watch(images)
        loss = -tf.reduce_mean(extractor(images, warm=warm)["conv"][..., unit])
    return tape.gradient(loss, images).numpy()


def test_warm_path_redirects_the_gradient_of_a_dead_unit_only_while_on():
    import tensorflow as tf

    from analysis.microscope.featurevis.extractor import build_extractor

    model, kernel = _dead_unit_model()
    extractor = build_extractor(model, ["conv"])
    assert extractor.relus_redirected == 1
    images = tf.constant(np.random.default_rng(1).uniform(0, 1, (2, 8, 8, 3)).astype(np.float32))
    assert np.abs(_gradient(extractor, images, 2, warm=False)).max() == 0.0
    extractor.redirect.assign(True)
    redirected = _gradient(extractor, images, 2, warm=True)
    extractor.redirect.assign(False)
    # the redirected gradient is the linear (pre-ReLU) one, computed independently
    with tf.GradientTape() as tape:
        tape.watch(images)
        linear = -tf.reduce_mean(tf.nn.conv2d(images, kernel[..., 2:3], 1, "SAME"))
    np.testing.assert_allclose(redirected, tape.gradient(linear, images).numpy(), rtol=1e-5, atol=1e-9)
    assert np.abs(_gradient(extractor, images, 2, warm=True)).max() == 0.0  # redirect off: a plain ReLU again


def test_both_paths_compute_the_same_activations_and_live_gradients_and_leave_the_model_alone():
    import tensorflow as tf

    from analysis.microscope.featurevis.extractor import build_extractor

    model, _ = _dead_unit_model()
    weights = [w.copy() for w in model.get_weights()]
    extractor = build_extractor(model, ["conv"])
    images = tf.constant(np.random.default_rng(2).uniform(0, 1, (3, 8, 8, 3)).astype(np.float32))
    plain, warm = extractor(images)["conv"].numpy(), extractor(images, warm=True)["conv"].numpy()
    np.testing.assert_allclose(plain, warm, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(plain, model.get_layer("conv")(images).numpy(), rtol=1e-5, atol=1e-6)
    for unit in (0, 1, 3):
        np.testing.assert_allclose(
            _gradient(extractor, images, unit, warm=False),
            _gradient(extractor, images, unit, warm=True),
            rtol=1e-4,
            atol=1e-7,
        )
    assert model.get_layer("conv").activation.__name__ == "relu"  # the caller's layer was not rewired
    assert all(np.array_equal(a, b) for a, b in zip(weights, model.get_weights(), strict=True))


def test_redirected_gradient_matches_lucids_formula_item_by_item():
    """Lucid's redirected_relu_grad: an item whose ReLU gradient is all zero gets min(upstream, 0) at x < 0."""
    import tensorflow as tf

    from analysis.microscope.featurevis.extractor import redirectable_relu

    x = tf.constant([[1.0, -2.0, -1.0, 0.5], [-1.0, -3.0, -0.5, -2.0], [-1.0, 2.0, -1.0, -1.0]])
    upstream = tf.constant([[0.3, 0.7, -0.2, 0.1], [0.4, -0.6, -0.1, 0.2], [0.5, 0.0, -0.3, 0.2]])
    redirect = tf.Variable(True)
    relu = redirectable_relu(redirect)
    with tf.GradientTape() as tape:
        tape.watch(x)
        out = relu(x)
    got = tape.gradient(out, x, output_gradients=upstream).numpy()
    xs, g = x.numpy(), upstream.numpy()
    relu_grad = np.where(xs < 0, 0.0, g)
    blocked = ~np.any(relu_grad != 0, axis=1, keepdims=True)  # items 1 and 2 (item 2's live unit has g = 0)
    expected = np.where(blocked, np.where((xs < 0) & (g > 0), 0.0, g), relu_grad)
    np.testing.assert_allclose(got, expected)
    assert blocked[:, 0].tolist() == [False, True, True]
    redirect.assign(False)
    with tf.GradientTape() as tape:
        tape.watch(x)
        out = relu(x)
    np.testing.assert_allclose(tape.gradient(out, x, output_gradients=upstream).numpy(), relu_grad)


@pytest.mark.parametrize("warm_start_steps", [0, 4])
def test_the_optimizer_takes_warm_start_steps_through_the_redirected_path(warm_start_steps):
    """A unit dead everywhere: without the warm start its image never moves; with it, it does."""
    from analysis.microscope.featurevis.extractor import build_extractor
    from analysis.microscope.featurevis.objectives import channel
    from analysis.microscope.featurevis.optimize import BatchOptimizer
    from analysis.microscope.featurevis.param import initial_batch_spectrum
    from analysis.microscope.featurevis.transforms import draw_transforms

    model, _ = _dead_unit_model()
    optimizer = BatchOptimizer(
        extractor=build_extractor(model, ["conv"]),
        objective=channel("conv"),
        batch=1,
        image_hw=(8, 8),
        canvas_hw=(8, 8),
        channels=3,
        input_range=(0.0, 1.0),
        learning_rate=0.05,
    )
    rng = np.random.default_rng(0)
    start = initial_batch_spectrum([rng], 8, 8)
    result = optimizer.run(
        initial_spectrum=start,
        transforms=draw_transforms(rng, 8, (8, 8), (8, 8))[:, None],
        units=np.array([2], dtype=np.int32),
        warm_start_steps=warm_start_steps,
    )
    moved = float(np.abs(optimizer.spectrum.numpy() - start).max())
    assert result.values[0] == 0.0  # still dead on the final image either way
    assert (moved > 0.0) == (warm_start_steps > 0)

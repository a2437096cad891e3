"""DP-SGD's training step against numpy on a tiny softmax regression (gradients by hand)."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from analysis.errors import AnalysisInputError
from analysis.training.dp_sgd import DPSGDModel, poisson_batches

N_IN, N_CLASSES = 4, 3


def softmax_regression(n_in: int = N_IN, n_out: int = N_CLASSES, seed: int = 0) -> keras.Model:
    inputs = keras.Input((n_in,))
    model = keras.Model(inputs, keras.layers.Dense(n_out, activation="softmax")(inputs))
    rng = np.random.default_rng(seed)
    model.layers[-1].set_weights([rng.normal(0, 1, (n_in, n_out)).astype("float32"), np.zeros(n_out, "float32")])
    return model


def numpy_clipped_sum(w, b, x, y, clip):
    """Per-example gradients of cross-entropy for softmax(x @ w + b), each clipped to ``clip`` jointly."""
    logits = x @ w + b
    p = np.exp(logits - logits.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    delta = p - np.eye(w.shape[1])[y]  # dL/dlogits, [batch, classes]
    gw = x[:, :, None] * delta[:, None, :]  # [batch, in, classes]
    norms = np.sqrt((gw**2).sum((1, 2)) + (delta**2).sum(1))
    factor = np.minimum(1.0, clip / norms)
    return (factor[:, None, None] * gw).sum(0), (factor[:, None] * delta).sum(0), norms


def dp_model(model, **kwargs):
    dp = DPSGDModel(model, loss="sparse_categorical_crossentropy", **kwargs)
    dp.compile(optimizer=keras.optimizers.SGD(learning_rate=1.0))
    return dp


def test_one_step_without_noise_matches_numpy_clipping():
    rng = np.random.default_rng(1)
    x = rng.normal(0, 2, (6, N_IN)).astype("float32")
    y = rng.integers(0, N_CLASSES, 6)
    model = softmax_regression()
    w, b = (v.copy() for v in model.layers[-1].get_weights())
    clip = 0.7
    gw, gb, norms = numpy_clipped_sum(w.astype(np.float64), b.astype(np.float64), x.astype(np.float64), y, clip)
    assert ((norms > clip).any() and (norms < clip).any()) or (norms > clip).all()  # clipping is exercised
    dp = dp_model(model, l2_norm_clip=clip, noise_multiplier=0.0, expected_batch_size=8)
    dp.train_on_batch(x, y)
    new_w, new_b = model.layers[-1].get_weights()
    np.testing.assert_allclose(new_w, w - gw / 8, atol=1e-5)  # divided by the expected batch size, not 6
    np.testing.assert_allclose(new_b, b - gb / 8, atol=1e-5)


def test_clipped_sum_of_a_two_layer_model_matches_one_example_at_a_time():
    keras.utils.set_random_seed(3)
    inputs = keras.Input((N_IN,))
    hidden = keras.layers.Dense(5, activation="tanh")(inputs)
    model = keras.Model(inputs, keras.layers.Dense(N_CLASSES, activation="softmax")(hidden))
    x = np.random.default_rng(2).normal(0, 1, (5, N_IN)).astype("float32")
    y = np.array([0, 1, 2, 1, 0])
    dp = DPSGDModel(model, loss="sparse_categorical_crossentropy", l2_norm_clip=0.3, noise_multiplier=0.0)
    sums, _ = dp.clipped_gradient_sum(tf.constant(x), tf.constant(y))
    expected = [np.zeros(v.shape) for v in model.trainable_variables]
    for i in range(len(x)):
        with tf.GradientTape() as tape:
            loss = keras.losses.sparse_categorical_crossentropy(y[i : i + 1], model(x[i : i + 1]))
        grads = [g.numpy() for g in tape.gradient(loss, model.trainable_variables)]
        norm = np.sqrt(sum((g**2).sum() for g in grads))
        expected = [e + g * min(1.0, 0.3 / norm) for e, g in zip(expected, grads, strict=True)]
    for got, want in zip(sums, expected, strict=True):
        np.testing.assert_allclose(got.numpy(), want, atol=1e-5)


def test_noise_has_std_noise_multiplier_times_clip_over_batch():
    n_in, n_out, batch, clip, sigma = 40, 50, 4, 0.5, 2.0
    model = softmax_regression(n_in, n_out)
    w, b = (v.copy() for v in model.layers[-1].get_weights())
    x = np.random.default_rng(4).normal(0, 1, (batch, n_in)).astype("float32")
    y = np.arange(batch) % n_out
    gw, gb, _ = numpy_clipped_sum(w.astype(np.float64), b.astype(np.float64), x.astype(np.float64), y, clip)
    dp = dp_model(model, l2_norm_clip=clip, noise_multiplier=sigma, expected_batch_size=batch, seed=7)
    dp.train_on_batch(x, y)
    new_w, new_b = model.layers[-1].get_weights()
    noise = np.concatenate([((w - new_w) * batch - gw).ravel(), ((b - new_b) * batch - gb).ravel()])
    n = noise.size  # 2050 draws: the sample std is within 10% of sigma * clip with overwhelming probability
    assert abs(noise.mean()) < 4 * sigma * clip / np.sqrt(n)
    assert noise.std() == pytest.approx(sigma * clip, rel=0.1)
    # the same seed gives the same noise
    again = softmax_regression(n_in, n_out)
    dp_model(again, l2_norm_clip=clip, noise_multiplier=sigma, expected_batch_size=batch, seed=7).train_on_batch(x, y)
    np.testing.assert_array_equal(again.layers[-1].get_weights()[0], new_w)


def test_batch_statistics_and_bad_settings_are_refused():
    inputs = keras.Input((N_IN,))
    model = keras.Model(inputs, keras.layers.BatchNormalization(name="bn")(inputs))
    with pytest.raises(AnalysisInputError, match=r"'bn'.*batch statistics"):
        DPSGDModel(model, loss="mse", l2_norm_clip=1.0, noise_multiplier=1.0)
    with pytest.raises(AnalysisInputError, match="clipping norm -1"):
        DPSGDModel(softmax_regression(), loss="mse", l2_norm_clip=-1, noise_multiplier=1.0)


def test_poisson_batches_sample_each_example_with_probability_q():
    x, y = np.arange(1000)[:, None], np.arange(1000)
    batches = list(poisson_batches(x, y, batch_size=50, epochs=4, seed=0))
    assert len(batches) == 80  # ceil(4 * 1000 / 50) steps
    sizes = np.array([len(bx) for bx, _ in batches])
    assert sizes.mean() == pytest.approx(50, abs=4 * np.sqrt(50 / 80))
    assert all((bx[:, 0] == by).all() for bx, by in batches)

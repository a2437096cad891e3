"""Lucid's image parameterization: constants against the reference, FFT layout, and the fit check."""

from __future__ import annotations

import json

import numpy as np
import pytest

from analysis.microscope.featurevis import param
from tests.analysis.microscope.featurevis_support import reference_number, reference_text


def test_constants_match_the_reference():
    assert float(reference_number(r"N\(0, sd=([0-9.]+)\)")) == param.SPECTRUM_SD
    assert float(reference_number(r"then divided by (\d+)")) == param.FFT_IMAGE_DIVISOR
    assert float(reference_number(r"decay_power=(\d+)")) == param.DECAY_POWER
    matrix = reference_number(r"color_correlation_svd_sqrt = (\[\[.*?\]\])")
    np.testing.assert_array_equal(param.COLOR_CORRELATION_SVD_SQRT, np.array(json.loads(matrix), dtype=np.float32))
    norm = float(reference_number(r"largest column L2 norm \(([0-9.]+)\)"))
    assert pytest.approx(norm, abs=1e-7) == param.COLOR_MAX_NORM
    np.testing.assert_allclose(
        param.COLOR_CORRELATION_NORMALIZED, param.COLOR_CORRELATION_SVD_SQRT / 0.4619524, rtol=1e-6
    )


@pytest.mark.parametrize(("height", "width", "fw"), [(32, 32, 17), (48, 48, 25), (8, 5, 4), (6, 7, 5)])
def test_frequencies_follow_lucid_including_the_extra_odd_column(height, width, fw):
    freqs = param.rfft2d_freqs(height, width)
    assert freqs.shape == (height, fw)
    fy = np.fft.fftfreq(height)[:, None]
    fx = np.fft.fftfreq(width)[:fw]
    np.testing.assert_allclose(freqs, np.sqrt(fx**2 + fy**2))
    scale = param.spectrum_scale(height, width)
    expected = 1.0 / np.maximum(freqs, 1.0 / max(height, width)) * np.sqrt(width * height)
    np.testing.assert_allclose(scale, expected, rtol=1e-6)
    assert "(2, batch, 3, h, len(fx))" in reference_text()


def test_initial_spectrum_is_normal_with_sd_001():
    spectrum = param.initial_spectrum(np.random.default_rng(0), 64, 64)
    assert spectrum.shape == (2, 3, 64, 33) and spectrum.dtype == np.float32
    assert spectrum.std() == pytest.approx(0.01, rel=0.05)


def test_image_matches_numpy_irfft2_then_decorrelation_and_sigmoid():
    import tensorflow as tf

    rng = np.random.default_rng(1)
    spectrum = rng.normal(0, 0.05, (2, 2, 3, 12, 7)).astype(np.float32)  # batch 2, 12x12 image
    image = param.spectrum_to_image(tf.constant(spectrum), 12, 12).numpy()
    scale = param.spectrum_scale(12, 12)
    pixels = np.fft.irfft2((spectrum[0] + 1j * spectrum[1]) * scale, s=(12, 12)) / 4.0  # [batch, 3, h, w]
    pixels = pixels.transpose(0, 2, 3, 1) @ param.COLOR_CORRELATION_NORMALIZED.T
    np.testing.assert_allclose(image, 1 / (1 + np.exp(-pixels)), atol=1e-6)
    assert image.shape == (2, 12, 12, 3) and image.min() > 0 and image.max() < 1


def test_initial_image_is_close_to_grey():
    import tensorflow as tf

    spectrum = param.initial_batch_spectrum([np.random.default_rng(i) for i in range(2)], 32, 32)
    image = param.spectrum_to_image(tf.constant(spectrum), 32, 32).numpy()
    assert np.abs(image - 0.5).max() < 0.1


@pytest.mark.parametrize(
    ("stage", "size"),
    [("fft", 32), ("fft+colour+sigmoid", 48)],
)
def test_parameterization_fits_a_target_image(stage, size):
    """Lucid's check (tests/optvis/param/test_spatial.py): MAE < 0.01 within 1000 Adam(0.05) steps.

    Lucid fits a 112-pixel photograph; a 32/48-pixel crop of a demo shapes image keeps this
    fast. The full parameterization ends in a sigmoid, which never reaches 0 or 1, so its
    target is mapped into [0.1, 0.9].
    """
    import keras
    import tensorflow as tf

    from analysis.demo.shapes import generate_shapes

    images, _ = generate_shapes(1, seed=3)
    lo = (64 - size) // 2
    crop = images[:, lo : lo + size, lo : lo + size]
    spectrum = tf.Variable(param.initial_batch_spectrum([np.random.default_rng(0)], size, size))
    if stage == "fft":
        target = tf.constant(crop)

        def image():
            return param.spectrum_to_pixels(spectrum, size, size)
    else:
        target = tf.constant(0.1 + 0.8 * crop)

        def image():
            return param.spectrum_to_image(spectrum, size, size)

    optimizer = keras.optimizers.Adam(0.05)

    @tf.function
    def step():
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.square(image() - target))
        optimizer.apply_gradients([(tape.gradient(loss, spectrum), spectrum)])

    for _ in range(1000):
        step()
    error = float(tf.reduce_mean(tf.abs(image() - target)))
    assert error < 0.01


@pytest.mark.parametrize(("height", "width", "channels"), [(12, 12, 3), (9, 7, 3), (8, 10, 1)])
def test_image_to_spectrum_inverts_the_parameterization(height, width, channels):
    import tensorflow as tf

    images = np.random.default_rng(4).uniform(0.0, 1.0, (2, height, width, channels)).astype(np.float32)
    spectrum = param.image_to_spectrum(images, margin=0.01)
    assert spectrum.shape == (2, 2, channels, height, param.rfft2d_freqs(height, width).shape[1])
    back = param.spectrum_to_image(tf.constant(spectrum), height, width).numpy()
    np.testing.assert_allclose(back, np.clip(images, 0.01, 0.99), atol=2e-5)

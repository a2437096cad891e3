"""Lucid's image parameterization: a decayed Fourier spectrum, decorrelated colours, a sigmoid.

Ported from ``lucid/optvis/param/spatial.py`` (``fft_image``) and ``color.py``
(``to_valid_rgb``). The trainable variable is the spectrum, ``[2, batch, channels, h, fw]``
(real and imaginary parts), initialised from N(0, 0.01); the image is
``sigmoid(decorrelate(irfft2d(scale * spectrum) / 4))``, float32 ``[batch, h, w, channels]``
in [0, 1]. The initial spectrum of each item comes from its own random generator, so an
item's image does not depend on what else is in the batch.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

SPECTRUM_SD = 0.01  # lucid: fft_image(sd=0.01)
DECAY_POWER = 1.0  # lucid: fft_image(decay_power=1)
FFT_IMAGE_DIVISOR = 4.0  # lucid: ``tf.stack(imgs) / 4.0``
# lucid/optvis/param/color.py: the square root of ImageNet's colour correlation (its SVD).
COLOR_CORRELATION_SVD_SQRT = np.asarray(
    [[0.26, 0.09, 0.02], [0.27, 0.00, -0.05], [0.27, -0.09, 0.03]], dtype=np.float32
)
COLOR_MAX_NORM = float(np.max(np.linalg.norm(COLOR_CORRELATION_SVD_SQRT, axis=0)))  # 0.4619524...
COLOR_CORRELATION_NORMALIZED = COLOR_CORRELATION_SVD_SQRT / np.float32(COLOR_MAX_NORM)


def rfft2d_freqs(height: int, width: int) -> np.ndarray:
    """Spatial frequency magnitudes ``[height, fw]`` of a real 2-D FFT (lucid's ``rfft2d_freqs``).

    ``fw = width // 2 + 1``, one more when ``width`` is odd (lucid keeps an extra column and
    crops the image afterwards).
    """
    fy = np.fft.fftfreq(height)[:, None]
    fx = np.fft.fftfreq(width)[: width // 2 + (2 if width % 2 == 1 else 1)]
    return np.sqrt(fx * fx + fy * fy)


def spectrum_scale(height: int, width: int, decay_power: float = DECAY_POWER) -> np.ndarray:
    """``1 / max(freqs, 1/max(w, h)) ** decay_power * sqrt(w * h)``, float32 ``[height, fw]``."""
    freqs = rfft2d_freqs(height, width)
    scale = 1.0 / np.maximum(freqs, 1.0 / max(width, height)) ** decay_power
    return (scale * np.sqrt(width * height)).astype(np.float32)


def initial_spectrum(
    rng: np.random.Generator, height: int, width: int, channels: int = 3, sd: float = SPECTRUM_SD
) -> np.ndarray:
    """One item's starting spectrum, float32 ``[2, channels, height, fw]`` from N(0, sd)."""
    fw = rfft2d_freqs(height, width).shape[1]
    return (sd * rng.standard_normal((2, channels, height, fw))).astype(np.float32)


def spectrum_to_pixels(spectrum: tf.Tensor, height: int, width: int, decay_power: float = DECAY_POWER) -> tf.Tensor:
    """``[2, batch, channels, h, fw]`` spectrum -> unconstrained pixels ``[batch, h, w, channels]``."""
    scale = tf.constant(spectrum_scale(height, width, decay_power))
    # unstack, not spectrum[0]: a strided slice's gradient writes a zero-filled copy of the
    # whole spectrum per part, which cost a fifth of a batched optimisation step.
    real, imaginary = tf.unstack(spectrum, num=2)
    complex_spectrum = tf.complex(real * scale, imaginary * scale)
    fw = int(spectrum.shape[-1])
    pixels = tf.signal.irfft2d(complex_spectrum, fft_length=[height, 2 * (fw - 1)])
    if pixels.shape[-1] != width:  # lucid's extra column for odd widths
        pixels = pixels[:, :, :height, :width]
    return tf.transpose(pixels, [0, 2, 3, 1]) / FFT_IMAGE_DIVISOR


def decorrelate_colors(pixels: tf.Tensor) -> tf.Tensor:
    """Each pixel ``t`` becomes ``t @ (M / 0.4619524).T`` (lucid's ``_linear_decorelate_color``)."""
    return tf.einsum("bhwc,dc->bhwd", pixels, tf.constant(COLOR_CORRELATION_NORMALIZED))


def to_valid_rgb(pixels: tf.Tensor, *, decorrelate: bool = True) -> tf.Tensor:
    """Unconstrained pixels -> image in [0, 1] (decorrelation only for 3 channels, then sigmoid)."""
    if decorrelate and pixels.shape[-1] == 3:
        pixels = decorrelate_colors(pixels)
    return tf.sigmoid(pixels)


def spectrum_to_image(spectrum: tf.Tensor, height: int, width: int, *, decorrelate: bool = True) -> tf.Tensor:
    """The parameterized image, float32 ``[batch, height, width, channels]`` in [0, 1]."""
    return to_valid_rgb(spectrum_to_pixels(spectrum, height, width), decorrelate=decorrelate)


def initial_batch_spectrum(rngs: list[np.random.Generator], height: int, width: int, channels: int = 3) -> np.ndarray:
    """Stack per-item spectra into lucid's layout ``[2, batch, channels, height, fw]``."""
    return np.stack([initial_spectrum(rng, height, width, channels) for rng in rngs], axis=1)


def image_to_spectrum(images: np.ndarray, *, decorrelate: bool = True, margin: float = 0.01) -> np.ndarray:
    """The spectrum ``[2, batch, channels, h, fw]`` whose image is ``images``: :func:`spectrum_to_image` inverted.

    ``images`` is ``[batch, h, w, channels]`` in [0, 1]; values are first pulled ``margin`` inside
    (0, 1), where the sigmoid is invertible and its gradient not vanishingly small. Used to
    start an optimisation from a given picture (a dataset example) instead of noise.
    """
    images = np.asarray(images, dtype=np.float64)
    _, height, width, channels = images.shape
    fw = rfft2d_freqs(height, width).shape[1]
    clipped = np.clip(images, margin, 1.0 - margin)
    pixels = np.log(clipped / (1.0 - clipped))
    if decorrelate and channels == 3:
        pixels = pixels @ np.linalg.inv(COLOR_CORRELATION_NORMALIZED.T.astype(np.float64))
    pixels = pixels.transpose(0, 3, 1, 2) * FFT_IMAGE_DIVISOR  # [batch, channels, h, w]
    full_width = 2 * (fw - 1)
    if full_width > width:  # odd width: lucid's extra column, cropped off again by spectrum_to_pixels
        pixels = np.concatenate([pixels, pixels[..., -1:]], axis=-1)
    spectrum = np.fft.rfft2(pixels, s=(height, full_width)) / spectrum_scale(height, width)
    return np.stack([spectrum.real, spectrum.imag]).astype(np.float32)

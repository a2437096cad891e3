"""Lucid's ``standard_transforms``, one random draw per batch item and step.

Lucid (``lucid/optvis/transform.py``) applies, in this order: ``pad(12)`` with constant 0.5,
``jitter(8)`` (a random crop to ``H-8``), ``random_scale`` over 0.90..1.10 in steps of 0.02
(bilinear), ``random_rotate`` over ``list(range(-10, 11)) + 5*[0]`` degrees, ``jitter(4)``.

Here every transform is an affine map of pixel coordinates, so the five compose into one
``[8]`` projective transform per item and step (``ImageProjectiveTransformV3``, bilinear,
fill 0.5), drawn in NumPy before the optimisation from each item's own generator. Two things
follow: each item gets its own random draw (lucid shares one per batch), which is what
makes batched and one-at-a-time rendering agree; and scale and rotation are one bilinear
resampling instead of two. The model sees a canvas of its own input size centred on
lucid's transformed image (lucid feeds InceptionV1, which takes any size, the whole image).
"""

from __future__ import annotations

import math

import numpy as np

PAD = 12
PAD_VALUE = 0.5
JITTER_FIRST = 8
SCALES = tuple(1 + (i - 5) / 50 for i in range(11))  # 0.90, 0.92, ..., 1.10
ANGLES_DEGREES = tuple(range(-10, 11)) + 5 * (0,)  # 0 degrees has probability 6/26
JITTER_LAST = 4


def _translation(dx: float, dy: float) -> np.ndarray:
    return np.array([[1.0, 0.0, dx], [0.0, 1.0, dy], [0.0, 0.0, 1.0]])


def _rotation_about_centre(radians: float, height: int, width: int) -> np.ndarray:
    """Output -> input coordinates of ``tf.contrib.image.rotate`` (counter-clockwise, about the centre)."""
    cos, sin = math.cos(radians), math.sin(radians)
    x_offset = ((width - 1) - (cos * (width - 1) - sin * (height - 1))) / 2.0
    y_offset = ((height - 1) - (sin * (width - 1) + cos * (height - 1))) / 2.0
    return np.array([[cos, -sin, x_offset], [sin, cos, y_offset], [0.0, 0.0, 1.0]])


def standard_transform_matrix(
    rng: np.random.Generator, image_hw: tuple[int, int], canvas_hw: tuple[int, int]
) -> np.ndarray:
    """One draw of lucid's standard transforms as a 3x3 map from canvas to image pixel coordinates.

    ``image_hw`` is the parameterized image's size, ``canvas_hw`` the model input's size.
    """
    height, width = image_hw
    # pad(12): padded coordinates are image coordinates + 12.
    padded_h, padded_w = height + 2 * PAD, width + 2 * PAD
    # jitter(8): a random crop to (H-8, W-8); tf.random_crop offsets are uniform in [0, 8].
    oy1, ox1 = (int(v) for v in rng.integers(0, JITTER_FIRST + 1, size=2))
    crop_h, crop_w = padded_h - JITTER_FIRST, padded_w - JITTER_FIRST
    # random_scale: lucid resizes to int(scale * size) with TF1's resize_bilinear
    # (align_corners=False, no half-pixel centres): input = output * in / out.
    scale = np.float32(SCALES[int(rng.integers(len(SCALES)))])
    scaled_h, scaled_w = int(scale * np.float32(crop_h)), int(scale * np.float32(crop_w))
    # random_rotate about the centre of the scaled image.
    angle = math.radians(ANGLES_DEGREES[int(rng.integers(len(ANGLES_DEGREES)))])
    # jitter(4) on the rotated image.
    oy5, ox5 = (int(v) for v in rng.integers(0, JITTER_LAST + 1, size=2))
    final_h, final_w = scaled_h - JITTER_LAST, scaled_w - JITTER_LAST
    canvas_h, canvas_w = canvas_hw
    matrix = (
        _translation(-PAD, -PAD)  # padded -> image coordinates
        @ _translation(ox1, oy1)
        @ np.diag([crop_w / scaled_w, crop_h / scaled_h, 1.0])
        @ _rotation_about_centre(angle, scaled_h, scaled_w)
        @ _translation(ox5, oy5)
        @ _translation((final_w - canvas_w) // 2, (final_h - canvas_h) // 2)  # centre the canvas
    )
    return matrix


def identity_matrix(image_hw: tuple[int, int], canvas_hw: tuple[int, int]) -> np.ndarray:
    """No transformation: the canvas shows the image resized to the canvas (align corners)."""
    (height, width), (canvas_h, canvas_w) = image_hw, canvas_hw
    sy = (height - 1) / (canvas_h - 1) if canvas_h > 1 else 1.0
    sx = (width - 1) / (canvas_w - 1) if canvas_w > 1 else 1.0
    return np.diag([sx, sy, 1.0])


def as_projective_rows(matrices: np.ndarray) -> np.ndarray:
    """``[..., 3, 3]`` affine maps -> ``[..., 8]`` rows for ``ImageProjectiveTransformV3``."""
    flat = matrices.reshape(*matrices.shape[:-2], 9)
    return (flat[..., :8] / flat[..., 8:9]).astype(np.float32)


def draw_transforms(
    rng: np.random.Generator, steps: int, image_hw: tuple[int, int], canvas_hw: tuple[int, int]
) -> np.ndarray:
    """``steps`` draws for one item, float32 ``[steps, 8]``."""
    matrices = np.stack([standard_transform_matrix(rng, image_hw, canvas_hw) for _ in range(steps)])
    return as_projective_rows(matrices)


def apply_transforms(images, rows, canvas_hw: tuple[int, int]):
    """Resample ``images`` ``[batch, h, w, c]`` onto ``[batch, *canvas_hw, c]`` with ``rows`` ``[batch, 8]``.

    Bilinear; coordinates outside the image read ``PAD_VALUE`` (lucid's pad constant).
    Differentiable with respect to ``images``.
    """
    import tensorflow as tf

    return tf.raw_ops.ImageProjectiveTransformV3(
        images=images,
        transforms=rows,
        output_shape=tf.constant(canvas_hw, dtype=tf.int32),
        fill_value=tf.constant(PAD_VALUE, dtype=tf.float32),
        interpolation="BILINEAR",
        fill_mode="CONSTANT",
    )

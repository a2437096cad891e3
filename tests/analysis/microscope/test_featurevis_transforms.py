"""Lucid's standard transforms: constants against the reference, and the composed per-item resampling."""

from __future__ import annotations

import numpy as np
import pytest

from analysis.microscope.featurevis import transforms as t
from tests.analysis.microscope.featurevis_support import reference_number, reference_text


def test_constants_match_the_reference():
    assert int(reference_number(r"`pad\((\d+)\)` with constant")) == t.PAD
    assert float(reference_number(r"with constant ([0-9.]+);")) == t.PAD_VALUE
    assert int(reference_number(r"`jitter\((\d+)\)`: a random crop")) == t.JITTER_FIRST
    assert int(reference_number(r"5\. `jitter\((\d+)\)`")) == t.JITTER_LAST
    assert tuple(1 + (i - 5) / 50 for i in range(11)) == t.SCALES
    assert "`random_scale([1 + (i - 5)/50 for i in range(11)])`" in reference_text()
    assert t.SCALES[0] == pytest.approx(0.90) and t.SCALES[-1] == pytest.approx(1.10)
    assert np.allclose(np.diff(t.SCALES), 0.02)
    assert tuple(range(-10, 11)) + 5 * (0,) == t.ANGLES_DEGREES
    assert "`random_rotate(list(range(-10, 11)) + 5*[0])`" in reference_text()
    assert t.ANGLES_DEGREES.count(0) / len(t.ANGLES_DEGREES) == pytest.approx(6 / 26)


def test_identity_rows_reproduce_the_image():
    import tensorflow as tf

    image = np.random.default_rng(0).uniform(0, 1, (1, 10, 10, 3)).astype(np.float32)
    rows = t.as_projective_rows(t.identity_matrix((10, 10), (10, 10))[None])
    out = t.apply_transforms(tf.constant(image), tf.constant(rows), (10, 10)).numpy()
    np.testing.assert_allclose(out, image, atol=1e-6)


def test_outside_the_image_reads_the_pad_constant():
    import tensorflow as tf

    image = np.zeros((1, 8, 8, 1), np.float32)
    shift = np.array([[1, 0, 20], [0, 1, 0], [0, 0, 1]], float)  # every canvas pixel reads x + 20: outside
    out = t.apply_transforms(tf.constant(image), tf.constant(t.as_projective_rows(shift[None])), (8, 8)).numpy()
    np.testing.assert_allclose(out, 0.5)


def test_unscaled_unrotated_draw_is_a_pure_integer_shift_within_lucid_jitter():
    """With scale 1 and angle 0 the composed map is a translation by (jitter1 + jitter2 - pad + centring)."""
    rng = np.random.default_rng(0)
    shifts = []
    for _ in range(400):
        matrix = t.standard_transform_matrix(rng, (64, 64), (64, 64))
        if np.allclose(matrix[:2, :2], np.eye(2)):
            shifts.append(matrix[:2, 2])
    assert shifts, "scale 1.0 and angle 0 should come up in 400 draws"
    shifts = np.array(shifts)
    # canvas 64 centred on lucid's (64 + 24 - 8 - 4) = 76: offset 6; jitters add 0..8 and 0..4; pad subtracts 12.
    assert shifts.min() >= -6 and shifts.max() <= 6
    assert np.allclose(shifts, np.round(shifts))


def test_draws_cover_lucid_scales_and_angles():
    rng = np.random.default_rng(0)
    matrices = np.stack([t.standard_transform_matrix(rng, (64, 64), (64, 64)) for _ in range(2000)])
    linear = matrices[:, :2, :2]
    zoom = 1 / np.sqrt(np.abs(np.linalg.det(linear)))  # image pixels per canvas pixel, inverted
    angles = np.degrees(np.arctan2(linear[:, 1, 0], linear[:, 0, 0]))
    assert zoom.min() == pytest.approx(0.9, abs=0.01) and zoom.max() == pytest.approx(1.1, abs=0.01)
    assert set(np.round(angles).astype(int)) == set(range(-10, 11))
    assert np.mean(np.round(angles) == 0) == pytest.approx(6 / 26, abs=0.03)


def test_draws_depend_only_on_the_generator():
    first = t.draw_transforms(np.random.default_rng([3, 4]), 5, (32, 32), (32, 32))
    again = t.draw_transforms(np.random.default_rng([3, 4]), 5, (32, 32), (32, 32))
    assert first.shape == (5, 8) and first.dtype == np.float32
    np.testing.assert_array_equal(first, again)

"""Grey-scale thumbnails and "where it fired" overlays over inputs in [-1, 1] and [0, 255] (issue 19).

The expectation is computed independently with numpy in float64 on a hand-built case; the bug this
guards against: negative activations gave negative blend weights, pixels past 255 wrapped around in
uint8 and the tint showed as pale grey blocks with white speckles.
"""

from __future__ import annotations

import numpy as np
import pytest

from analysis.microscope.unit_pages import overlay_heatmap, to_display_image


def _expected_display(x: np.ndarray, low: float, high: float) -> np.ndarray:
    grey = np.clip((x.astype(np.float64) - low) / (high - low), 0, 1) * 255
    grey = np.floor(grey + 0.5).astype(np.int64)  # round half up; values here avoid exact halves
    return np.repeat(grey.reshape(*x.shape[:2], 1), 3, axis=-1)


@pytest.mark.parametrize(("low", "high"), [(-1.0, 1.0), (0.0, 255.0)])
def test_grey_thumbnail_matches_numpy(low: float, high: float) -> None:
    rng = np.random.default_rng(0)
    x = rng.uniform(low, high, size=(8, 6, 1)).astype(np.float32)
    x[0, 0, 0], x[0, 1, 0] = low - 0.5 * (high - low), high + 3  # out of range: clipped, not wrapped
    image = to_display_image(x, (low, high))
    assert image.dtype == np.uint8 and image.shape == (8, 6, 3)
    np.testing.assert_allclose(image.astype(np.int64), _expected_display(x, low, high), atol=1)
    assert image[0, 0, 0] == 0 and image[0, 1, 0] == 255
    # a grey image without a channel axis reads the same
    np.testing.assert_array_equal(to_display_image(x[..., 0], (low, high)), image)


@pytest.mark.parametrize(("low", "high"), [(-1.0, 1.0), (0.0, 255.0)])
def test_grey_overlay_with_negative_activations_matches_numpy(low: float, high: float) -> None:
    rng = np.random.default_rng(1)
    x = rng.uniform(low, high, size=(8, 8, 1)).astype(np.float32)
    x[:, :2] = high  # white columns: where the old code overflowed
    activation = np.array([[2.0, -3.0], [-0.5, 1.0]], dtype=np.float16)  # [2, 2] map, mostly negative
    image = to_display_image(x, (low, high))
    out = overlay_heatmap(image, activation, alpha=0.5)

    heat = np.kron(np.clip(activation.astype(np.float64) / 2.0, 0, 1), np.ones((4, 4)))  # nearest upsampling
    weight = 0.5 * heat[..., None]
    tint = np.zeros((8, 8, 3))
    tint[..., 0] = 255
    expected = (1 - weight) * _expected_display(x, low, high) + weight * tint
    assert out.dtype == np.uint8 and out.shape == (8, 8, 3)
    np.testing.assert_allclose(out.astype(np.float64), expected, atol=1.01)
    # where the unit did not fire (negative), the thumbnail is the plain grey picture
    np.testing.assert_array_equal(out[:4, 4:], image[:4, 4:])
    np.testing.assert_array_equal(out[4:, :4], image[4:, :4])
    # where it fired most, red dominates: a tint, not grey
    assert (out[:4, :4, 0].astype(int) >= out[:4, :4, 1].astype(int)).all()
    assert (out[:4, :4, 1] == out[:4, :4, 2]).all() and (out[:4, :4, 0] > out[:4, :4, 1]).all()


def test_overlay_accepts_single_channel_image_and_all_negative_map() -> None:
    grey = np.full((4, 4, 1), 200, dtype=np.uint8)
    out = overlay_heatmap(grey, -np.ones((2, 2), dtype=np.float32))
    np.testing.assert_array_equal(out, np.full((4, 4, 3), 200, dtype=np.uint8))
    nan_map = np.array([[np.nan, 1.0], [np.inf, 0.0]], dtype=np.float32)
    out = overlay_heatmap(grey[..., 0], nan_map)
    assert out.shape == (4, 4, 3) and out[:2, 2:, 0] == pytest.approx(228, abs=1)

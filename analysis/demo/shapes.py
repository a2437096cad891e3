"""Procedural images for ``shapes-cnn``: ten classes of shapes and textures, 64x64 RGB.

Every image has a textured background (a random colour gradient plus a random
sinusoidal texture and pixel noise) and one foreground figure in a random colour,
position and size. The classes differ in shape (disk, square, triangle, ring, cross) or
in texture inside a random square patch (horizontal, vertical or diagonal stripes,
checkers, dots), so a network has to learn edges, colours, curves and frequencies.
Images are float32 in [0, 1], ``[n, 64, 64, 3]``; labels int64 in ``0..9``.
"""

from __future__ import annotations

import numpy as np

SIZE = 64
CLASS_NAMES = (
    "disk",
    "square",
    "triangle",
    "ring",
    "horizontal-stripes",
    "vertical-stripes",
    "diagonal-stripes",
    "checkers",
    "cross",
    "dots",
)


def _background(rng: np.random.Generator, yy: np.ndarray, xx: np.ndarray) -> np.ndarray:
    corner_a, corner_b = rng.uniform(0.0, 1.0, (2, 3))
    angle = rng.uniform(0, 2 * np.pi)
    ramp = (np.cos(angle) * xx + np.sin(angle) * yy) / SIZE + 0.5
    image = corner_a + (corner_b - corner_a) * np.clip(ramp, 0, 1)[..., None]
    frequency = rng.uniform(0.05, 0.3)
    theta = rng.uniform(0, np.pi)
    texture = np.sin(frequency * (np.cos(theta) * xx + np.sin(theta) * yy) + rng.uniform(0, 6.3))
    image = image + 0.06 * texture[..., None] + rng.normal(0, 0.03, (SIZE, SIZE, 3))
    return image


def _figure_mask(label: int, rng: np.random.Generator, yy: np.ndarray, xx: np.ndarray) -> np.ndarray:
    radius = rng.uniform(9, 20)
    cy, cx = rng.uniform(radius, SIZE - radius, 2)
    dy, dx = yy - cy, xx - cx
    distance = np.sqrt(dy**2 + dx**2)
    patch = (np.abs(dy) <= radius) & (np.abs(dx) <= radius)
    period = rng.uniform(4, 9)
    phase = rng.uniform(0, period)
    if label == 0:
        return distance <= radius
    if label == 1:
        return patch
    if label == 2:
        return (dy <= radius * 0.8) & (dy >= -radius) & (np.abs(dx) <= (dy + radius) * 0.6)
    if label == 3:
        return (distance <= radius) & (distance >= radius * rng.uniform(0.45, 0.7))
    if label == 4:
        return patch & (((yy + phase) % period) < period / 2)
    if label == 5:
        return patch & (((xx + phase) % period) < period / 2)
    if label == 6:
        return patch & (((xx + yy + phase) % (period * 1.4)) < period * 0.7)
    if label == 7:
        return patch & ((((yy + phase) // period) + ((xx + phase) // period)) % 2 == 0)
    if label == 8:
        width = radius * rng.uniform(0.25, 0.4)
        return patch & ((np.abs(dy) <= width) | (np.abs(dx) <= width))
    # dots: a grid of small disks inside the patch
    spacing = period * 1.3
    ddy = ((yy - cy) % spacing) - spacing / 2
    ddx = ((xx - cx) % spacing) - spacing / 2
    return patch & (np.sqrt(ddy**2 + ddx**2) <= spacing * 0.28)


def generate_shapes(n: int, *, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` images ``[n, 64, 64, 3]`` float32 in [0, 1] and balanced labels ``[n]``; deterministic."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:SIZE, 0:SIZE].astype(np.float32)
    labels = np.arange(n) % len(CLASS_NAMES)
    rng.shuffle(labels)
    images = np.empty((n, SIZE, SIZE, 3), dtype=np.float32)
    for index, label in enumerate(labels):
        background = _background(rng, yy, xx)
        colour = rng.uniform(0, 1, 3)
        # keep the figure visible: push its colour away from the background's mean
        mean = background.mean(axis=(0, 1))
        if np.abs(colour - mean).sum() < 0.6:
            colour = np.where(mean > 0.5, colour * 0.35, 0.65 + colour * 0.35)
        mask = _figure_mask(int(label), rng, yy, xx)[..., None]
        images[index] = np.clip(np.where(mask, colour, background), 0.0, 1.0)
    return images, labels.astype(np.int64)

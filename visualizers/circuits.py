"""Images for circuits: a source unit's spatial weights as a small diverging heat map."""

from __future__ import annotations

import numpy as np

EXCITE = np.array([178, 24, 43], dtype=np.float32)  # red: the source unit excites the target there
INHIBIT = np.array([33, 102, 172], dtype=np.float32)  # blue: it inhibits
WHITE = np.array([255, 255, 255], dtype=np.float32)


def kernel_heatmap(kernel: np.ndarray, *, scale: float, pixels: int = 72) -> np.ndarray:
    """``kernel`` ``[kh, kw]`` as uint8 RGB ``[pixels, pixels, 3]``: white at 0, red positive, blue negative.

    ``scale`` is the magnitude drawn at full colour (give the same scale to every heat map that
    is compared); cells are upsampled by nearest neighbour so each weight stays a square.
    """
    weights = np.asarray(kernel, dtype=np.float32)
    strength = np.clip(np.abs(weights) / scale, 0.0, 1.0)[..., None] if scale > 0 else np.zeros((*weights.shape, 1))
    colour = np.where(weights[..., None] >= 0, EXCITE, INHIBIT)
    image = (1 - strength) * WHITE + strength * colour
    rows = np.arange(pixels) * weights.shape[0] // pixels
    cols = np.arange(pixels) * weights.shape[1] // pixels
    return image[rows][:, cols].round().astype(np.uint8)

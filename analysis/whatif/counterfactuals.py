"""Nearest rows over standardized features: the counterfactual and the other group's counterpart.

Features are standardized with the data set's mean and standard deviation (a constant feature
keeps scale 1), so a unit of income and a unit of debt ratio weigh alike; the distance is L1
(sum of absolute differences) or L2 (Euclidean) over the standardized values.
"""

from __future__ import annotations

import numpy as np

from analysis.whatif.spec import Distance


def feature_scale(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """float64 ``[features]`` mean and standard deviation of ``x`` ``[n, features]`` (0 replaced by 1)."""
    data = np.asarray(x, dtype=np.float64)
    mean, std = data.mean(axis=0), data.std(axis=0)
    return mean, np.where(std > 0, std, 1.0)


def distances(x: np.ndarray, point: np.ndarray, scale: tuple[np.ndarray, np.ndarray], metric: Distance) -> np.ndarray:
    """float64 ``[n]``: distance of every row of ``x`` to ``point`` over standardized features."""
    mean, std = scale
    difference = (np.asarray(x, dtype=np.float64) - mean) / std - (np.asarray(point, dtype=np.float64) - mean) / std
    if metric is Distance.L1:
        return np.abs(difference).sum(axis=1)
    return np.sqrt((difference**2).sum(axis=1))


def nearest(
    x: np.ndarray, point: np.ndarray, candidates: np.ndarray, scale: tuple[np.ndarray, np.ndarray], metric: Distance
) -> tuple[int, float] | None:
    """(row, distance) of the nearest row of ``x`` among ``candidates`` (bool ``[n]``); ties: the lowest row.

    None when there is no candidate.
    """
    rows = np.flatnonzero(candidates)
    if not len(rows):
        return None
    found = distances(x[rows], point, scale, metric)
    best = int(np.argmin(found))  # argmin returns the first of equal values: the lowest row
    return int(rows[best]), float(found[best])

"""Partial dependence and ICE curves from scikit-learn's ``partial_dependence`` on a wrapped model.

``partial_dependence(kind="both", method="brute")`` sets the feature to each grid value in every
row and averages the predicted probability; for a binary classifier it reports class 1. The
datapoint's own curve is its ICE curve on the same grid (the same computation on one row).
"""

from __future__ import annotations

import numpy as np
from sklearn.inspection import partial_dependence

from analysis.whatif.estimator import ModelEstimator
from analysis.whatif.spec import PartialDependence


def compute_partial_dependence(
    estimator: ModelEstimator,
    x: np.ndarray,
    *,
    feature: int,
    feature_name: str,
    rows: np.ndarray,
    point: np.ndarray,
    grid: int,
    class_index: int = 1,
) -> PartialDependence:
    """Partial dependence of P(``class_index``) on column ``feature`` over ``x[rows]``, and ``point``'s curve.

    The grid is scikit-learn's: ``grid`` values between the 5th and 95th percentiles of the column
    (fewer if it has fewer distinct values).
    """
    sample = np.asarray(x[rows], dtype=np.float64)
    if np.unique(sample[:, feature]).size == 2:
        # scikit-learn 1.6 mistakes a two-point grid of a binary classifier for its two classes (and fails):
        # the same brute-force definition, written out, for two-valued features (0/1 flags)
        values = np.unique(sample[:, feature])
        individual = np.stack([_curve(estimator, row, feature, values)[:, class_index] for row in sample])
        return PartialDependence(
            feature=feature_name,
            class_index=class_index,
            grid=values,
            average=individual.mean(axis=0),
            individual=individual,
            rows=np.asarray(rows, dtype=np.int64),
            edited=_curve(estimator, point, feature, values)[:, class_index],
        )
    computed = partial_dependence(
        estimator, sample, [feature], response_method="predict_proba", grid_resolution=grid, kind="both", method="brute"
    )
    values = np.asarray(computed["grid_values"][0], dtype=np.float64)
    # binary: scikit-learn reports class 1, shape [1, g]; more classes: one row per class
    average = np.asarray(computed["average"], dtype=np.float64)
    individual = np.asarray(computed["individual"], dtype=np.float64)
    pick = 0 if average.shape[0] == 1 else class_index
    edited = _curve(estimator, point, feature, values)[:, class_index]
    return PartialDependence(
        feature=feature_name,
        class_index=class_index,
        grid=values,
        average=average[pick],
        individual=individual[pick],
        rows=np.asarray(rows, dtype=np.int64),
        edited=np.asarray(edited, dtype=np.float64),
    )


def _curve(estimator: ModelEstimator, point: np.ndarray, feature: int, values: np.ndarray) -> np.ndarray:
    """float64 ``[g, classes]``: the class probabilities of ``point`` with column ``feature`` set to each value."""
    probe = np.repeat(np.asarray(point, dtype=np.float64)[None], len(values), axis=0)
    probe[:, feature] = values
    return estimator.predict_proba(probe)

"""Reading an attack's ROC curve: TPR at fixed FPRs, and a compact copy for records and plots.

Both use one definition: the TPR at FPR ``f`` is the highest TPR among the curve's points
whose FPR is at most ``f`` (the attacker may pick any threshold that keeps its false
positive rate within budget). The curve comes from tensorflow-privacy
(``SingleAttackResult.roc_curve``, scikit-learn's ``roc_curve``), FPR non-decreasing.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

MAX_STORED_POINTS = 150


def tpr_at_fprs(fpr: np.ndarray, tpr: np.ndarray, targets: Sequence[float] | np.ndarray) -> np.ndarray:
    """TPR at each target FPR, ``[len(targets)]`` float64 in [0, 1].

    ``fpr`` and ``tpr`` are a ROC curve's points (``fpr`` sorted ascending, starting at 0).
    """
    fpr, tpr = np.asarray(fpr, dtype=np.float64), np.asarray(tpr, dtype=np.float64)
    best_so_far = np.maximum.accumulate(tpr)
    # index of the last point with fpr <= target (fpr[0] == 0 <= any target, so never -1)
    last = np.searchsorted(fpr, np.asarray(targets, dtype=np.float64), side="right") - 1
    return best_so_far[np.clip(last, 0, None)]


def compact_roc(fpr: np.ndarray, tpr: np.ndarray, n_nonmembers: int) -> tuple[np.ndarray, np.ndarray]:
    """At most :data:`MAX_STORED_POINTS` points of the curve, faithful on log-log axes.

    Short curves are kept as they are. Longer ones are sampled on a log-spaced FPR grid from
    ``1 / n_nonmembers`` to 1 (plus the origin), each with :func:`tpr_at_fprs`, so every
    TPR-at-FPR read from the compact curve at a grid point equals the full curve's.
    """
    fpr, tpr = np.asarray(fpr, dtype=np.float64), np.asarray(tpr, dtype=np.float64)
    if len(fpr) <= MAX_STORED_POINTS:
        return fpr, tpr
    smallest = 1.0 / max(n_nonmembers, 1)
    grid = np.concatenate([[0.0], np.geomspace(smallest, 1.0, MAX_STORED_POINTS - 1)])
    return grid, tpr_at_fprs(fpr, tpr, grid)

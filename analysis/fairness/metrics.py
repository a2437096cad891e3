"""The fairness metrics: their keys, their definitions from confusion counts, and why one is undefined.

Every metric except AUC is a function of the four confusion counts of a slice at a
threshold (TP, FP, TN, FN, with "positive prediction" meaning ``score >= threshold``):

=================  ==========================  ==================================
key                definition                  point estimate computed by
=================  ==========================  ==================================
``count``          TP + FP + TN + FN           (row count)
``base_rate``      (TP + FN) / count           ``fairlearn.metrics.selection_rate`` on the labels
``selection_rate`` (TP + FP) / count           ``fairlearn.metrics.selection_rate``
``accuracy``       (TP + TN) / count           ``sklearn.metrics.accuracy_score``
``tpr``            TP / (TP + FN)              ``fairlearn.metrics.true_positive_rate``
``fpr``            FP / (FP + TN)              ``fairlearn.metrics.false_positive_rate``
``tnr``            TN / (FP + TN)              ``fairlearn.metrics.true_negative_rate``
``fnr``            FN / (TP + FN)              ``fairlearn.metrics.false_negative_rate``
``precision``      TP / (TP + FP)              ``sklearn.metrics.precision_score``
``fdr``            FP / (TP + FP)              Loupe (false discovery rate, 1 - precision)
``for``            FN / (FN + TN)              Loupe (false omission rate)
``auc``            P(score+ > score-) + ties/2 ``sklearn.metrics.roc_auc_score``
=================  ==========================  ==================================

A metric whose denominator is zero is *undefined*: it is reported as ``None`` with the
reason below, never as NaN or as the 0 that some libraries return.

The same formulas, vectorised over arrays of counts, evaluate every bootstrap resample
(:mod:`analysis.fairness.bootstrap`), so the intervals describe exactly these definitions.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

COUNT_METRICS = (
    "count",
    "base_rate",
    "selection_rate",
    "accuracy",
    "tpr",
    "fpr",
    "tnr",
    "fnr",
    "precision",
    "fdr",
    "for",
)
METRIC_KEYS = (*COUNT_METRICS, "auc")
# Metrics whose difference between slices is a meaningful gap (count is a size, not a rate).
RATE_METRICS = tuple(m for m in METRIC_KEYS if m != "count")
DISPARITY_KEYS = (
    "demographic_parity_difference",
    "demographic_parity_ratio",
    "equalized_odds_difference",
    "equal_opportunity_difference",
)

METRIC_LABELS = {
    "count": "count",
    "base_rate": "base rate",
    "selection_rate": "selection rate",
    "accuracy": "accuracy",
    "tpr": "true positive rate",
    "fpr": "false positive rate",
    "tnr": "true negative rate",
    "fnr": "false negative rate",
    "precision": "precision",
    "fdr": "false discovery rate",
    "for": "false omission rate",
    "auc": "AUC",
}

# Why a metric is undefined, by the denominator that is zero.
NO_ROWS = "the slice has no rows"
NO_POSITIVES = "no actual positives (label 1) in this slice"
NO_NEGATIVES = "no actual negatives (label 0) in this slice"
NO_PREDICTED_POSITIVES = "no positive predictions at this threshold"
NO_PREDICTED_NEGATIVES = "no negative predictions at this threshold"
AUC_ONE_CLASS = "AUC needs both classes; this slice has only one"
AUC_NO_SCORES = "AUC needs scores; only predicted labels were given"

_DENOMINATORS = {
    "base_rate": ("count", NO_ROWS),
    "selection_rate": ("count", NO_ROWS),
    "accuracy": ("count", NO_ROWS),
    "tpr": ("positives", NO_POSITIVES),
    "fnr": ("positives", NO_POSITIVES),
    "fpr": ("negatives", NO_NEGATIVES),
    "tnr": ("negatives", NO_NEGATIVES),
    "precision": ("predicted_positives", NO_PREDICTED_POSITIVES),
    "fdr": ("predicted_positives", NO_PREDICTED_POSITIVES),
    "for": ("predicted_negatives", NO_PREDICTED_NEGATIVES),
}


def rates_from_counts(tp: np.ndarray, fp: np.ndarray, tn: np.ndarray, fn: np.ndarray) -> dict[str, np.ndarray]:
    """Every count metric from confusion counts of any (matching) shape; NaN where undefined.

    Counts may be float (bootstrap resamples) or integer; results are float64, same shape.
    """
    tp, fp, tn, fn = (np.asarray(a, dtype=np.float64) for a in (tp, fp, tn, fn))
    count = tp + fp + tn + fn
    positives, negatives = tp + fn, fp + tn
    predicted_positives, predicted_negatives = tp + fp, fn + tn
    with np.errstate(divide="ignore", invalid="ignore"):
        values = {
            "count": count,
            "base_rate": positives / count,
            "selection_rate": predicted_positives / count,
            "accuracy": (tp + tn) / count,
            "tpr": tp / positives,
            "fpr": fp / negatives,
            "tnr": tn / negatives,
            "fnr": fn / positives,
            "precision": tp / predicted_positives,
            "fdr": fp / predicted_positives,
            "for": fn / predicted_negatives,
        }
    return values


def undefined_reasons(tp: int, fp: int, tn: int, fn: int) -> dict[str, str]:
    """For one slice and threshold: metric key -> why it is undefined (only undefined metrics)."""
    denominators = {
        "count": tp + fp + tn + fn,
        "positives": tp + fn,
        "negatives": fp + tn,
        "predicted_positives": tp + fp,
        "predicted_negatives": fn + tn,
    }
    return {metric: reason for metric, (name, reason) in _DENOMINATORS.items() if denominators[name] == 0}


def auc_from_binned(positives: np.ndarray, negatives: np.ndarray) -> np.ndarray:
    """AUC from (weighted) label counts per score bin, bins in increasing score order.

    ``positives``, ``negatives``: ``[..., K]``; returns ``[...]`` (NaN where a class is absent).
    Rank formula: each positive scores 1 per negative in a lower bin and 1/2 per negative in
    its own bin (ties), divided by (#positives * #negatives). With one bin per distinct score
    this equals ``sklearn.metrics.roc_auc_score``.
    """
    negatives_below = np.cumsum(negatives, axis=-1) - negatives
    wins = np.sum(positives * (negatives_below + 0.5 * negatives), axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return wins / (positives.sum(axis=-1) * negatives.sum(axis=-1))


def as_json_value(value: float) -> float | None:
    """A float for JSON: NaN and infinities become None."""
    value = float(value)
    return value if np.isfinite(value) else None


def metric_vector(values: Mapping[str, np.ndarray], keys: tuple[str, ...] = COUNT_METRICS) -> np.ndarray:
    """Stack per-metric arrays ``[...]`` into ``[..., len(keys)]`` in ``keys`` order."""
    return np.stack([values[k] for k in keys], axis=-1)

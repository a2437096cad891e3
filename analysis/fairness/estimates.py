"""Point estimates from fairlearn's ``MetricFrame``, so Loupe's numbers are the ones users trust.

fairlearn is run on a *confusion table*: one row per (cell, threshold, label, prediction)
weighted by how many rows of the data have it (``sample_weight``). Weighted by integer
counts, every fairlearn/scikit-learn metric here returns the same number as on the raw
rows (the tests check this to 1e-12 against ``MetricFrame`` on the raw rows), while the
table has at most ``4 x cells x thresholds`` rows however large the data is. AUC needs the
scores themselves, so it runs on the raw rows, once per grouping.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import sklearn
import sklearn.metrics as skm
from fairlearn.metrics import (
    MetricFrame,
    false_negative_rate,
    false_positive_rate,
    selection_rate,
    true_negative_rate,
    true_positive_rate,
)

from analysis.fairness.layout import SliceLayout

THRESHOLD_COLUMN = "_threshold"
# fairlearn has no AUC of its own (a MetricFrame would call scikit-learn's per group, after a slow
# per-row regrouping of a million raw rows); Loupe calls scikit-learn's roc_auc_score per slice.


def base_rate(y_true, y_pred, sample_weight=None) -> float:
    """Share of actual positives: fairlearn's ``selection_rate`` applied to the labels."""
    return selection_rate(y_true, y_true, pos_label=1, sample_weight=sample_weight)


def precision(y_true, y_pred, sample_weight=None) -> float:
    """scikit-learn's precision, NaN (not 0) when nothing is predicted positive."""
    return skm.precision_score(y_true, y_pred, sample_weight=sample_weight, zero_division=np.nan)


def auc(y_true, y_score) -> float:
    """scikit-learn's ROC AUC, NaN (instead of an exception) when one class is absent."""
    if np.unique(np.asarray(y_true)).size < 2:
        return float("nan")
    return skm.roc_auc_score(y_true, y_score)


FAIRLEARN_METRICS = {
    "base_rate": base_rate,
    "selection_rate": selection_rate,
    "accuracy": skm.accuracy_score,
    "tpr": true_positive_rate,
    "fpr": false_positive_rate,
    "tnr": true_negative_rate,
    "fnr": false_negative_rate,
    "precision": precision,
}


def confusion_table(
    layout: SliceLayout, tp: np.ndarray, fp: np.ndarray, tn: np.ndarray, fn: np.ndarray
) -> pd.DataFrame:
    """Weighted rows (sensitive columns, ``_threshold`` index, ``_y``, ``_pred``, ``_weight``).

    ``tp``, ``fp``, ``tn``, ``fn``: int ``[n_cells, T]`` confusion counts per cell and threshold.
    Rows with weight 0 are left out.
    """
    n_cells, n_thresholds = tp.shape
    weights = np.stack([tp, fp, tn, fn], axis=-1).reshape(-1)  # [cell, threshold, outcome]
    cell = np.repeat(np.arange(n_cells), n_thresholds * 4)
    threshold = np.tile(np.repeat(np.arange(n_thresholds), 4), n_cells)
    label = np.tile(np.array([1, 0, 0, 1]), n_cells * n_thresholds)
    predicted = np.tile(np.array([1, 1, 0, 0]), n_cells * n_thresholds)
    keep = weights > 0
    table = {column: layout.cell_values[cell[keep], i] for i, column in enumerate(layout.columns)}
    table |= {
        THRESHOLD_COLUMN: threshold[keep],
        "_y": label[keep],
        "_pred": predicted[keep],
        "_weight": weights[keep].astype(np.float64),
    }
    return pd.DataFrame(table)


def threshold_metric_frame(table: pd.DataFrame, grouping: Sequence[str]) -> MetricFrame:
    """fairlearn's MetricFrame of every threshold metric, by ``grouping`` and threshold index.

    ``by_group`` is indexed by (threshold index, *grouping values); ``overall`` by threshold index.
    """
    weight = {"sample_weight": table["_weight"].to_numpy()}
    # The table is built from checked 0/1 labels and integer counts: scikit-learn's per-call argument
    # validation (most of the cost of thousands of tiny metric calls) is skipped; the numbers are the same.
    with sklearn.config_context(skip_parameter_validation=True, assume_finite=True):
        return MetricFrame(
            metrics=FAIRLEARN_METRICS,
            y_true=table["_y"].to_numpy(),
            y_pred=table["_pred"].to_numpy(),
            sensitive_features=table[list(grouping)],
            control_features=table[[THRESHOLD_COLUMN]],
            sample_params=dict.fromkeys(FAIRLEARN_METRICS, weight),
        )


def slice_auc(y_true: np.ndarray, scores: np.ndarray, rows: np.ndarray | None = None) -> float:
    """scikit-learn's ROC AUC of the rows selected by the boolean mask ``rows`` (all rows if None)."""
    if rows is not None:
        y_true, scores = y_true[rows], scores[rows]
    return auc(y_true, scores)

"""Bootstrap resamples of every slice's metrics, vectorised, without re-running a metric library.

A bootstrap resample draws ``n`` rows with replacement from the ``n`` rows (as
``fairlearn``'s ``MetricFrame(n_boot=...)`` does). Every metric depends on a row only
through its (cell, label, score bin), so a resample is fully described by how many rows of
each such *type* it drew, and those counts follow a multinomial distribution with
``n`` trials and probabilities ``count(type) / n``. We draw those counts directly — cost
proportional to the number of types, not of rows — then aggregate cells into slices with
one matrix product, read confusion counts at every threshold from cumulative sums over
the score bins, and apply the metric formulas of :mod:`analysis.fairness.metrics` to
``[resamples, slices, thresholds]`` arrays at once. AUC comes from the same counts by the
rank formula (:func:`analysis.fairness.metrics.auc_from_binned`).

Intervals are percentile intervals (the ``(1 - confidence) / 2`` and ``(1 + confidence) / 2``
quantiles of the resampled values, numpy's default linear interpolation), as in fairlearn.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from analysis.fairness.layout import confusion_at_thresholds
from analysis.fairness.metrics import COUNT_METRICS, auc_from_binned, metric_vector, rates_from_counts

# Above this share of resamples where a statistic is undefined, no interval is reported.
MAX_UNDEFINED_SHARE = 0.5
_CHUNK_ELEMENTS = 4_000_000  # float64 elements per chunk of resampled slice counts (~32 MB)


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class BootstrapSamples:
    """Resampled metrics: ``metrics`` float64 ``[B, n_slices, T, len(COUNT_METRICS)]`` and
    ``auc`` float64 ``[B, n_slices]`` (None without scores); NaN where undefined in a resample."""

    metrics: np.ndarray
    auc: np.ndarray | None

    @property
    def n_resamples(self) -> int:
        return int(self.metrics.shape[0])

    def metric(self, key: str) -> np.ndarray:
        """``[B, n_slices, T]`` for a count metric, ``[B, n_slices, 1]`` for ``auc``."""
        if key == "auc":
            if self.auc is None:
                raise KeyError("auc")
            return self.auc[:, :, None]
        return self.metrics[..., COUNT_METRICS.index(key)]


def resample_slice_metrics(
    counts: np.ndarray,
    membership: np.ndarray,
    threshold_bins: np.ndarray,
    *,
    n_resamples: int,
    seed: int,
    with_auc: bool,
) -> BootstrapSamples:
    """Metrics of every slice in ``n_resamples`` multinomial resamples of the rows.

    ``counts``: int64 ``[n_cells, 2, K]`` rows per (cell, label, score bin);
    ``membership``: ``[n_slices, n_cells]`` 0/1; ``threshold_bins``: ``[T]``.
    Reproducible: the same inputs and ``seed`` give the same samples.
    """
    n_cells, _, n_bins = counts.shape
    n_slices, n_thresholds = membership.shape[0], len(threshold_bins)
    flat = counts.reshape(-1)
    present = np.flatnonzero(flat)
    n_rows = int(flat.sum())
    probabilities = flat[present] / n_rows
    rng = np.random.default_rng(seed)
    chunk = max(1, min(n_resamples, _CHUNK_ELEMENTS // max(1, max(n_slices, n_cells) * 2 * n_bins)))
    metrics = np.empty((n_resamples, n_slices, n_thresholds, len(COUNT_METRICS)))
    auc = np.empty((n_resamples, n_slices)) if with_auc else None
    resampled = np.zeros((chunk, flat.size))
    for start in range(0, n_resamples, chunk):
        size = min(chunk, n_resamples - start)
        resampled[:size, present] = rng.multinomial(n_rows, probabilities, size=size)
        by_cell = resampled[:size].reshape(size, n_cells, 2 * n_bins)
        by_slice = np.matmul(membership, by_cell).reshape(size, n_slices, 2, n_bins)
        tp, fp, tn, fn = confusion_at_thresholds(by_slice, threshold_bins)
        metrics[start : start + size] = metric_vector(rates_from_counts(tp, fp, tn, fn))
        if auc is not None:
            auc[start : start + size] = auc_from_binned(by_slice[:, :, 1, :], by_slice[:, :, 0, :])
    return BootstrapSamples(metrics=metrics, auc=auc)


def percentile_interval(samples: np.ndarray, confidence: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(low, high, usable) over axis 0 of ``samples`` ``[B, ...]``.

    Undefined resamples (NaN) are left out; where more than ``MAX_UNDEFINED_SHARE`` of them
    are undefined, ``usable`` is False and low/high are NaN.
    """
    samples = np.asarray(samples, dtype=np.float64)
    undefined_share = np.isnan(samples).mean(axis=0)
    usable = undefined_share <= MAX_UNDEFINED_SHARE
    tail = (1.0 - confidence) / 2.0
    low = np.full(samples.shape[1:], np.nan)
    high = np.full(samples.shape[1:], np.nan)
    if usable.any():
        quantiles = np.nanquantile(samples[:, usable], [tail, 1.0 - tail], axis=0)
        low[usable], high[usable] = quantiles[0], quantiles[1]
    return low, high, usable

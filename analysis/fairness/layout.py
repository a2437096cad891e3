"""How rows fall into slices: cells (the finest groups), slices built from cells, score bins.

Every row belongs to one *cell*: its combination of values in all sensitive columns.
Every slice (a value of one column, or a combination in an intersection, or the whole
data) is a union of cells, written as a 0/1 membership matrix ``[n_slices, n_cells]``.
Every row also falls into one *score bin*; the bins are cut so that each threshold is a
bin edge (``score >= t`` is exactly "bin >= k_t").

The analysis then works on counts per (cell, label, score bin) — a table whose size does
not grow with the number of rows — which is what makes a million rows cheap.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

MAX_SCORE_BINS = 4096
MIN_SCORE_BINS = 64
# Resampled cells x bins budget: keeps one bootstrap of all cells near a second of work.
BOOTSTRAP_DRAW_BUDGET = 4e7


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class Slice:
    """One slice: the columns it fixes and their values (empty for the whole data)."""

    columns: tuple[str, ...]
    values: tuple[str, ...]

    @property
    def group(self) -> dict[str, str]:
        return dict(zip(self.columns, self.values, strict=True))

    @property
    def is_overall(self) -> bool:
        return not self.columns


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class SliceLayout:
    """Cells and slices of one data set.

    ``cell_of_row``: int64 ``[n]``; ``cell_values``: str ``[n_cells, n_columns]`` (column order of
    ``columns``); ``slices[0]`` is the whole data; ``membership``: float64 ``[n_slices, n_cells]``;
    ``groupings``: for each grouping (tuple of columns), the indices of its slices;
    ``unobserved``: value combinations of an intersection that no row has.
    """

    columns: tuple[str, ...]
    cell_of_row: np.ndarray
    cell_values: np.ndarray
    slices: tuple[Slice, ...]
    membership: np.ndarray
    groupings: Mapping[tuple[str, ...], tuple[int, ...]]
    unobserved: tuple[Slice, ...]

    @property
    def n_cells(self) -> int:
        return int(self.cell_values.shape[0])


def build_layout(sensitive: Mapping[str, np.ndarray], groupings: Sequence[tuple[str, ...]]) -> SliceLayout:
    """Cells from every sensitive column, then the overall slice and each grouping's slices."""
    columns = tuple(sensitive)
    uniques, codes = [], []
    for column in columns:
        values, inverse = np.unique(sensitive[column], return_inverse=True)
        uniques.append(values)
        codes.append(inverse.astype(np.int64))
    sizes = [len(u) for u in uniques]
    if np.prod(np.array(sizes, dtype=np.float64)) < 2**62:
        flat = np.ravel_multi_index(codes, sizes)
        cell_keys, cell_of_row = np.unique(flat, return_inverse=True)
        cell_codes = np.stack(np.unravel_index(cell_keys, sizes), axis=1)
    else:  # too many combinations for one integer key: unique over rows of codes
        cell_codes, cell_of_row = np.unique(np.stack(codes, axis=1), axis=0, return_inverse=True)
    cell_values = np.stack([uniques[i][cell_codes[:, i]] for i in range(len(columns))], axis=1)

    slices = [Slice(columns=(), values=())]
    rows = [np.ones(len(cell_values))]
    index: dict[tuple[str, ...], tuple[int, ...]] = {}
    unobserved: list[Slice] = []
    for grouping in groupings:
        positions = [columns.index(c) for c in grouping]
        combos, cell_to_slice = np.unique(cell_values[:, positions], axis=0, return_inverse=True)
        start = len(slices)
        for k, combo in enumerate(combos):
            slices.append(Slice(columns=tuple(grouping), values=tuple(str(v) for v in combo)))
            rows.append((cell_to_slice.ravel() == k).astype(np.float64))
        index[tuple(grouping)] = tuple(range(start, len(slices)))
        if len(grouping) > 1:
            seen = {tuple(str(v) for v in combo) for combo in combos}
            levels = [sorted({str(v) for v in cell_values[:, p]}) for p in positions]
            unobserved += [
                Slice(columns=tuple(grouping), values=combo)
                for combo in itertools.product(*levels)
                if combo not in seen
            ]
    return SliceLayout(
        columns=columns,
        cell_of_row=cell_of_row.ravel().astype(np.int64),
        cell_values=cell_values.astype(str),
        slices=tuple(slices),
        membership=np.stack(rows),
        groupings=index,
        unobserved=tuple(unobserved),
    )


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class ScoreBins:
    """``bin_of_row`` int64 ``[n]`` (bins in increasing score order); ``threshold_bins`` int64
    ``[T]``: the first bin counted positive at each threshold; ``exact``: one bin per distinct
    score (AUC from bins is then exact), else quantile bins (AUC from bins is approximate)."""

    bin_of_row: np.ndarray
    threshold_bins: np.ndarray
    n_bins: int
    exact: bool


def score_bins(scores: np.ndarray, thresholds: Sequence[float], *, max_bins: int) -> ScoreBins:
    """Bins of ``scores`` (float64 ``[n]``) such that ``score >= t`` <=> ``bin >= threshold_bins[t]``."""
    distinct, inverse = np.unique(scores, return_inverse=True)
    thresholds_array = np.asarray(thresholds, dtype=np.float64)
    if len(distinct) <= max_bins:
        return ScoreBins(
            bin_of_row=inverse.ravel().astype(np.int64),
            threshold_bins=np.searchsorted(distinct, thresholds_array, side="left").astype(np.int64),
            n_bins=len(distinct),
            exact=True,
        )
    # Quantile cut points (on distinct scores' ranks), plus every threshold as a cut point.
    n_quantile_cuts = max(1, max_bins - len(thresholds_array) - 1)
    quantile_cuts = np.quantile(scores, np.linspace(0, 1, n_quantile_cuts + 2)[1:-1], method="inverted_cdf")
    cuts = np.unique(np.concatenate([quantile_cuts, thresholds_array]))
    return ScoreBins(
        bin_of_row=np.searchsorted(cuts, scores, side="right").astype(np.int64),
        threshold_bins=np.searchsorted(cuts, thresholds_array, side="right").astype(np.int64),
        n_bins=len(cuts) + 1,
        exact=False,
    )


def bins_budget(n_cells: int, n_resamples: int) -> int:
    """How many score bins the bootstrap can afford for ``n_cells`` cells and ``n_resamples``."""
    if n_resamples == 0:
        return MAX_SCORE_BINS
    affordable = int(BOOTSTRAP_DRAW_BUDGET / (max(n_resamples, 1) * n_cells * 2))
    return int(np.clip(affordable, MIN_SCORE_BINS, MAX_SCORE_BINS))


def fine_counts(layout: SliceLayout, y_true: np.ndarray, bins: ScoreBins) -> np.ndarray:
    """Rows per (cell, label, score bin): int64 ``[n_cells, 2, n_bins]``."""
    flat = (layout.cell_of_row * 2 + y_true.astype(np.int64)) * bins.n_bins + bins.bin_of_row
    counts = np.bincount(flat, minlength=layout.n_cells * 2 * bins.n_bins)
    return counts.reshape(layout.n_cells, 2, bins.n_bins)


def confusion_at_thresholds(counts: np.ndarray, threshold_bins: np.ndarray) -> tuple[np.ndarray, ...]:
    """TP, FP, TN, FN ``[..., T]`` from counts ``[..., 2, K]`` (label 0 = negatives, 1 = positives)."""
    negatives, positives = counts[..., 0, :], counts[..., 1, :]
    zero = np.zeros((*positives.shape[:-1], 1), dtype=positives.dtype)
    # at_or_above[..., k] = rows in bins >= k (k = K means none).
    positives_above = np.concatenate([np.cumsum(positives[..., ::-1], axis=-1)[..., ::-1], zero], axis=-1)
    negatives_above = np.concatenate([np.cumsum(negatives[..., ::-1], axis=-1)[..., ::-1], zero], axis=-1)
    tp = positives_above[..., threshold_bins]
    fp = negatives_above[..., threshold_bins]
    fn = positives.sum(axis=-1, keepdims=True) - tp
    tn = negatives.sum(axis=-1, keepdims=True) - fp
    return tp, fp, tn, fn

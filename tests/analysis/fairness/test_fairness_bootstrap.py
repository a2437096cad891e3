"""Bootstrap intervals: coverage on synthetic data with known rates, agreement with fairlearn's bootstrap."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import sklearn.metrics as skm
from fairlearn.metrics import MetricFrame, selection_rate, true_positive_rate

from analysis.fairness import FairnessSpec, compute_fairness_slices
from analysis.fairness.bootstrap import percentile_interval, resample_slice_metrics
from analysis.fairness.layout import build_layout, fine_counts, score_bins
from analysis.fairness.metrics import COUNT_METRICS, auc_from_binned


@pytest.fixture(autouse=True)
def _home(loupe_home):
    return loupe_home


def synthetic(n: int, rng: np.random.Generator, *, selection: float = 0.45, tpr: float = 0.8):
    """Group A with known selection rate and TPR at threshold 0.5 (scores 0.9 or 0.1); group B noise.

    Labels are 1 with probability 1/2, so selection = (tpr + fpr) / 2.
    """
    group = rng.choice(["A", "B"], n)
    label = (rng.random(n) < 0.5).astype(np.int8)
    # In group A, P(score >= 0.5 | y=1) = tpr and P(score >= 0.5 | y=0) chosen so the selection rate is `selection`.
    false_positive = 2 * selection - tpr
    positive = np.where(label == 1, rng.random(n) < tpr, rng.random(n) < false_positive)
    positive = np.where(group == "A", positive, rng.random(n) < 0.5)
    return label, np.where(positive, 0.9, 0.1), {"group": group}


def intervals(label, scores, sensitive, *, n_resamples: int, seed: int, thresholds=(0.5,)):
    layout = build_layout(sensitive, [("group",)])
    bins = score_bins(scores, thresholds, max_bins=4096)
    samples = resample_slice_metrics(
        fine_counts(layout, label, bins),
        layout.membership,
        bins.threshold_bins,
        n_resamples=n_resamples,
        seed=seed,
        with_auc=True,
    )
    return layout, samples


def test_percentile_intervals_cover_the_true_rate_about_95_percent_of_the_time():
    rng = np.random.default_rng(2024)
    repetitions, covered_selection, covered_tpr = 300, 0, 0
    for repetition in range(repetitions):
        label, scores, sensitive = synthetic(600, rng)
        layout, samples = intervals(label, scores, sensitive, n_resamples=400, seed=repetition)
        a = next(i for i, s in enumerate(layout.slices) if s.group == {"group": "A"})
        low, high, usable = percentile_interval(samples.metrics[:, a, 0, :], 0.95)
        assert usable.all()
        selection, tpr = COUNT_METRICS.index("selection_rate"), COUNT_METRICS.index("tpr")
        covered_selection += low[selection] <= 0.45 <= high[selection]
        covered_tpr += low[tpr] <= 0.8 <= high[tpr]
    # Binomial(300, 0.95) lies in [272, 297] with probability > 0.999.
    assert 272 <= covered_selection <= 297
    assert 272 <= covered_tpr <= 297


def test_intervals_agree_with_fairlearns_bootstrap_within_monte_carlo_error():
    rng = np.random.default_rng(7)
    n = 2000
    label, scores, sensitive = synthetic(n, rng)
    predicted = (scores >= 0.5).astype(int)
    reference = MetricFrame(
        metrics={"selection_rate": selection_rate, "tpr": true_positive_rate},
        y_true=label,
        y_pred=predicted,
        sensitive_features=sensitive["group"],
        n_boot=200,
        ci_quantiles=[0.025, 0.975],
        random_state=0,
    )
    table = pd.DataFrame({"y": label, "p": scores, "group": sensitive["group"]})
    result = compute_fairness_slices(
        FairnessSpec(predictions=table, label="y", score="p", sensitive=("group",), n_bootstrap=4000, seed=1)
    )
    for entry in result.slices_at(0.5, ("group",)):
        for metric in ("selection_rate", "tpr"):
            low, high = entry.metrics[metric].ci
            ref_low = reference.by_group_ci[0].loc[entry.group["group"], metric]
            ref_high = reference.by_group_ci[1].loc[entry.group["group"], metric]
            # Standard error of a 2.5% quantile from 200 resamples is about 0.16 bootstrap SDs (width / 3.92).
            tolerance = 4 * 0.16 * (high - low) / 3.92 + 1e-3
            assert abs(low - ref_low) < tolerance, (metric, low, ref_low)
            assert abs(high - ref_high) < tolerance, (metric, high, ref_high)


def test_same_seed_same_samples_other_seed_other_samples():
    rng = np.random.default_rng(0)
    label, scores, sensitive = synthetic(500, rng)
    _, first = intervals(label, scores, sensitive, n_resamples=50, seed=5)
    _, again = intervals(label, scores, sensitive, n_resamples=50, seed=5)
    _, other = intervals(label, scores, sensitive, n_resamples=50, seed=6)
    np.testing.assert_array_equal(first.metrics, again.metrics)
    assert not np.array_equal(first.metrics, other.metrics)


def test_resampled_counts_keep_the_number_of_rows():
    rng = np.random.default_rng(0)
    label, scores, sensitive = synthetic(500, rng)
    _, samples = intervals(label, scores, sensitive, n_resamples=30, seed=0)
    np.testing.assert_array_equal(samples.metrics[:, 0, 0, COUNT_METRICS.index("count")], 500)


def test_auc_rank_formula_equals_sklearn_with_ties():
    rng = np.random.default_rng(3)
    label = rng.integers(0, 2, 300)
    scores = rng.integers(0, 20, 300) / 20
    bins = score_bins(scores, (0.5,), max_bins=4096)
    assert bins.exact
    positives = np.bincount(bins.bin_of_row[label == 1], minlength=bins.n_bins)
    negatives = np.bincount(bins.bin_of_row[label == 0], minlength=bins.n_bins)
    assert auc_from_binned(positives, negatives) == pytest.approx(skm.roc_auc_score(label, scores), abs=1e-12)


def test_quantile_bins_keep_thresholds_exact():
    rng = np.random.default_rng(4)
    scores = rng.random(20_000)
    thresholds = (0.123456, 0.5, 0.9)
    bins = score_bins(scores, thresholds, max_bins=100)
    assert not bins.exact and bins.n_bins <= 101
    for threshold, first_bin in zip(thresholds, bins.threshold_bins, strict=True):
        np.testing.assert_array_equal(bins.bin_of_row >= first_bin, scores >= threshold)


def test_auc_interval_from_quantile_bins_is_close_to_exact():
    rng = np.random.default_rng(5)
    n = 3000
    label = rng.integers(0, 2, n)
    scores = np.clip(0.2 * label + 0.8 * rng.random(n), 0, 1)  # 3000 distinct scores
    table = pd.DataFrame({"y": label, "p": scores, "g": rng.choice(["a", "b"], n)})
    settings = dict(predictions=table, label="y", score="p", sensitive=("g",), n_bootstrap=800, seed=2)
    exact = compute_fairness_slices(FairnessSpec(**settings))
    from analysis.fairness import layout

    original = layout.MAX_SCORE_BINS
    layout.MAX_SCORE_BINS = 128
    try:
        binned = compute_fairness_slices(FairnessSpec(**settings))
    finally:
        layout.MAX_SCORE_BINS = original
    assert any("quantile bins" in note for note in binned.notes)
    ours, theirs = binned.overall_at(0.5).metrics["auc"], exact.overall_at(0.5).metrics["auc"]
    assert ours.value == theirs.value
    assert ours.ci == pytest.approx(theirs.ci, abs=0.01)

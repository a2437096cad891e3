"""``compute_fairness_slices(spec) -> FairnessResult``: the one verb of the fairness analysis.

Flow: read and check the rows (a predictions table, or a model's scores on its data) ->
cells, slices and score bins (:mod:`~analysis.fairness.layout`) -> point estimates from
fairlearn (:mod:`~analysis.fairness.estimates`) -> multinomial bootstrap of every metric,
comparison and disparity (:mod:`~analysis.fairness.bootstrap`) -> result.

Pure: no record is written (model scores do go to the result cache, as a cache). Storing the
result as a record is a separate step, :func:`analysis.fairness.records.save_fairness_record`.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from analysis.errors import AnalysisInputError, describe_choices
from analysis.fairness.bootstrap import BootstrapSamples, percentile_interval, resample_slice_metrics
from analysis.fairness.estimates import confusion_table, slice_auc, threshold_metric_frame
from analysis.fairness.layout import (
    ScoreBins,
    SliceLayout,
    bins_budget,
    build_layout,
    confusion_at_thresholds,
    fine_counts,
    score_bins,
)
from analysis.fairness.metrics import (
    AUC_NO_SCORES,
    AUC_ONE_CLASS,
    COUNT_METRICS,
    DISPARITY_KEYS,
    METRIC_KEYS,
    RATE_METRICS,
    as_json_value,
    auc_from_binned,
    rates_from_counts,
    undefined_reasons,
)
from analysis.fairness.result import Comparison, Disparity, Estimate, FairnessResult, SliceMetrics
from analysis.fairness.spec import FairnessSpec
from analysis.fairness.tables import FairnessData, load_table_data

CI_UNDEFINED = "no interval: the statistic is undefined in more than half of the bootstrap resamples"
BASELINE_ZERO = "ratio undefined: the baseline's value is 0"
TOO_FEW_SLICES = "needs at least two slices with at least {min_slice} rows"
UNDEFINED_IN_SLICE = "{metric} is undefined for slice {slice}"


def compute_fairness_slices(spec: FairnessSpec) -> FairnessResult:
    """Metrics per slice and threshold with bootstrap intervals, comparisons and disparities.

    Stores no record (``record_id`` is None); see :mod:`analysis.fairness.records`.
    """
    data, inputs, model_id, revision, notes = _load(spec)
    thresholds = (0.5,) if data.is_prediction else spec.thresholds  # predicted labels: 1 >= 0.5 is positive
    reported_thresholds: tuple[float | None, ...] = (None,) if data.is_prediction else spec.thresholds
    layout = build_layout(data.sensitive, spec.groupings)
    bins = score_bins(data.scores, thresholds, max_bins=bins_budget(layout.n_cells, spec.n_bootstrap))
    counts = fine_counts(layout, data.y_true, bins)  # [cells, 2, K]
    slice_counts = np.tensordot(layout.membership.astype(np.int64), counts, axes=1)  # [S, 2, K]
    confusion = confusion_at_thresholds(slice_counts, bins.threshold_bins)  # 4 x [S, T]
    sizes = slice_counts.sum(axis=(1, 2))
    baseline = _baseline_index(spec, layout, sizes)  # checked before the expensive work
    values = _point_estimates(data, layout, counts=counts, bins=bins, confusion=confusion)  # [S, T, len(METRIC_KEYS)]

    samples = None
    if spec.n_bootstrap > 0:
        samples = resample_slice_metrics(
            counts,
            layout.membership,
            bins.threshold_bins,
            n_resamples=spec.n_bootstrap,
            seed=spec.seed,
            with_auc=not data.is_prediction,
        )
        if samples.auc is not None and not bins.exact:
            # AUC resamples come from quantile bins; shift them by the binning's offset at the point estimate.
            offset = values[:, 0, METRIC_KEYS.index("auc")] - auc_from_binned(slice_counts[:, 1], slice_counts[:, 0])
            samples = replace(samples, auc=samples.auc + offset[None, :])
            notes.append(
                f"AUC intervals resample scores in {bins.n_bins} quantile bins (the data has more distinct scores); "
                "point estimates are exact."
            )
    else:
        notes.append("no bootstrap resamples were asked for (n_bootstrap=0): intervals are null")

    reported = [s for s in range(1, len(layout.slices)) if sizes[s] >= spec.min_slice]
    stack = _sample_stack(samples, len(thresholds)) if samples is not None else None
    estimates = _estimates(values, stack, confusion, spec.confidence, has_scores=not data.is_prediction)
    comparisons = _comparisons(values, stack, baseline, spec.confidence)

    def entry(s: int, t: int, with_comparisons: bool) -> SliceMetrics:
        return SliceMetrics(
            group=layout.slices[s].group,
            threshold=reported_thresholds[t],
            count=int(sizes[s]),
            metrics={m: estimates[s][t][i] for i, m in enumerate(METRIC_KEYS)},
            vs_baseline={m: comparisons[s][t][METRIC_KEYS.index(m)] for m in RATE_METRICS} if with_comparisons else {},
            is_baseline=s == baseline,
        )

    slices = []
    for members in layout.groupings.values():
        shown = [s for s in members if s in reported]
        shown.sort(key=lambda s: s != baseline)  # the baseline first in its grouping
        slices += [entry(s, t, True) for t in range(len(thresholds)) for s in shown]
    too_small = [(layout.slices[s].group, int(sizes[s])) for s in range(1, len(layout.slices)) if s not in reported]
    too_small += [(unseen.group, 0) for unseen in layout.unobserved]
    disparities = _disparities(
        spec, layout, values=values, stack=stack, reported=reported, thresholds=reported_thresholds
    )
    return FairnessResult(
        overall=tuple(entry(0, t, False) for t in range(len(thresholds))),
        slices=tuple(slices),
        disparities=tuple(disparities),
        too_small=tuple(too_small),
        parameters=spec.parameters(),
        n_rows=data.n_rows,
        baseline=spec.baseline.label(),
        inputs=inputs,
        model_id=model_id,
        revision=revision,
        notes=tuple(notes),
    )


def _load(spec: FairnessSpec) -> tuple[FairnessData, dict[str, str], str | None, str | None, list[str]]:
    if spec.predictions is not None:
        data = load_table_data(
            spec.predictions,
            label=spec.label,
            score=spec.score,
            prediction=spec.prediction,
            sensitive=spec.sensitive,
            missing=spec.missing,
        )
        return data, {"predictions": data.content_hash}, None, None, []
    from analysis.fairness.model_scores import load_model_data

    loaded = load_model_data(spec)
    notes = ["model scores were read from the result cache"] if loaded.scores_from_cache else []
    return loaded.data, {"data": loaded.data_hash}, spec.model_id, loaded.revision.revision, notes


def _point_estimates(
    data: FairnessData,
    layout: SliceLayout,
    *,
    counts: np.ndarray,
    bins: ScoreBins,
    confusion: tuple[np.ndarray, ...],
) -> np.ndarray:
    """``[S, T, len(METRIC_KEYS)]``: fairlearn's values where it has the metric, Loupe's (FDR, FOR, count) otherwise.

    NaN marks an undefined metric (its reason comes from the counts).
    """
    n_slices, n_thresholds = confusion[0].shape
    own = rates_from_counts(*confusion)
    values = np.full((n_slices, n_thresholds, len(METRIC_KEYS)), np.nan)
    for key in ("count", "fdr", "for"):
        values[..., METRIC_KEYS.index(key)] = own[key]
    table = confusion_table(layout, *confusion_at_thresholds(counts, bins.threshold_bins))
    for number, (grouping, members) in enumerate(layout.groupings.items()):
        frame = threshold_metric_frame(table, grouping)
        if number == 0:  # the overall values, from the first grouping's frame
            for t in range(n_thresholds):
                for metric, value in frame.overall.loc[t].items():
                    values[0, t, METRIC_KEYS.index(metric)] = value
        for s in members:
            for t in range(n_thresholds):
                for metric, value in frame.by_group.loc[(t, *layout.slices[s].values)].items():
                    values[s, t, METRIC_KEYS.index(metric)] = value
    if not data.is_prediction:
        auc = METRIC_KEYS.index("auc")
        values[0, :, auc] = slice_auc(data.y_true, data.scores)
        for s in range(1, len(layout.slices)):
            values[s, :, auc] = slice_auc(data.y_true, data.scores, layout.membership[s][layout.cell_of_row] > 0)
    # Where a denominator is zero some libraries return 0: the counts decide what is undefined.
    for metric in COUNT_METRICS:
        values[..., METRIC_KEYS.index(metric)] = np.where(
            np.isnan(own[metric]), np.nan, values[..., METRIC_KEYS.index(metric)]
        )
    return values


def _sample_stack(samples: BootstrapSamples, n_thresholds: int) -> np.ndarray:
    """``[B, S, T, len(METRIC_KEYS)]`` resampled values, AUC repeated over thresholds (NaN without scores)."""
    auc = samples.auc if samples.auc is not None else np.full(samples.metrics.shape[:2], np.nan)
    return np.concatenate([samples.metrics, np.repeat(auc[:, :, None, None], n_thresholds, axis=2)], axis=-1)


def _interval(low: float, high: float, usable: bool) -> tuple[float, float] | None:
    return (float(low), float(high)) if usable else None


def _estimates(
    values: np.ndarray,
    stack: np.ndarray | None,
    confusion: tuple[np.ndarray, ...],
    confidence: float,
    *,
    has_scores: bool,
) -> list[list[list[Estimate]]]:
    """``[S][T][metric]`` Estimates with intervals and reasons."""
    bounds = percentile_interval(stack, confidence) if stack is not None else None
    tp, fp, tn, fn = confusion
    n_slices, n_thresholds, _ = values.shape
    out = []
    for s in range(n_slices):
        per_threshold = []
        for t in range(n_thresholds):
            reasons = undefined_reasons(int(tp[s, t]), int(fp[s, t]), int(tn[s, t]), int(fn[s, t]))
            reasons["auc"] = AUC_ONE_CLASS if has_scores else AUC_NO_SCORES
            row = []
            for i, metric in enumerate(METRIC_KEYS):
                value = as_json_value(values[s, t, i])
                ci = _interval(bounds[0][s, t, i], bounds[1][s, t, i], bounds[2][s, t, i]) if bounds else None
                reason = None
                if value is None:
                    reason = reasons[metric]
                elif bounds and ci is None:
                    reason = CI_UNDEFINED
                if metric == "count" and value is not None:
                    value = int(value)
                    ci = (round(ci[0]), round(ci[1])) if ci else None
                row.append(Estimate(value=value, ci=ci if value is not None else None, reason=reason))
            per_threshold.append(row)
        out.append(per_threshold)
    return out


def _comparisons(
    values: np.ndarray, stack: np.ndarray | None, baseline: int, confidence: float
) -> list[list[list[Comparison]]]:
    """``[S][T][metric]``: difference and ratio to the baseline slice, with intervals."""
    with np.errstate(divide="ignore", invalid="ignore"):
        difference = values - values[baseline][None]
        ratio = np.where(values[baseline][None] == 0, np.nan, values / values[baseline][None])
        if stack is not None:
            base = stack[:, baseline][:, None]
            diff_bounds = percentile_interval(stack - base, confidence)
            ratio_samples = np.where(base == 0, np.nan, stack / base)
            ratio_bounds = percentile_interval(ratio_samples, confidence)
    out = []
    for s in range(values.shape[0]):
        per_threshold = []
        for t in range(values.shape[1]):
            row = []
            for i in range(values.shape[2]):
                diff, rat = as_json_value(difference[s, t, i]), as_json_value(ratio[s, t, i])
                reason = None
                if diff is None:
                    reason = "the slice's or the baseline's value is undefined"
                elif rat is None:
                    reason = BASELINE_ZERO
                row.append(
                    Comparison(
                        difference=diff,
                        ratio=rat,
                        ci_difference=_interval(*(b[s, t, i] for b in diff_bounds))
                        if stack is not None and diff is not None
                        else None,
                        ci_ratio=_interval(*(b[s, t, i] for b in ratio_bounds))
                        if stack is not None and rat is not None
                        else None,
                        reason=reason,
                    )
                )
            per_threshold.append(row)
        out.append(per_threshold)
    return out


def _disparities(
    spec: FairnessSpec,
    layout: SliceLayout,
    *,
    values: np.ndarray,
    stack: np.ndarray | None,
    reported: list[int],
    thresholds: tuple[float | None, ...],
) -> list[Disparity]:
    """fairlearn's summary disparities (between groups) over each grouping's reported slices."""
    index = {m: METRIC_KEYS.index(m) for m in ("selection_rate", "tpr", "fpr")}
    out = []
    for grouping, members in layout.groupings.items():
        shown = [s for s in members if s in reported]
        for t, threshold in enumerate(thresholds):
            if len(shown) < 2:  # nothing to compare (no slice at all: max/min of nothing is undefined)
                too_few = Estimate(value=None, reason=TOO_FEW_SLICES.format(min_slice=spec.min_slice))
                out += [Disparity(name=n, over=grouping, threshold=threshold, estimate=too_few) for n in DISPARITY_KEYS]
                continue
            point = {m: values[shown, t, i] for m, i in index.items()}
            resampled = {m: stack[:, shown, t, i] for m, i in index.items()} if stack is not None else None
            for name, (value, samples, reason) in _disparity_values(point, resampled).items():
                if reason is not None:
                    undefined = next(s for s in shown if np.isnan(values[s, t, index[reason]]))
                    estimate = Estimate(
                        value=None, reason=UNDEFINED_IN_SLICE.format(metric=reason, slice=_label(layout, undefined))
                    )
                else:
                    ci = None
                    if samples is not None:
                        low, high, usable = percentile_interval(samples, spec.confidence)
                        ci = _interval(low, high, bool(usable))
                    estimate = Estimate(
                        value=as_json_value(value),
                        ci=ci,
                        reason=CI_UNDEFINED if samples is not None and ci is None else None,
                    )
                out.append(Disparity(name=name, over=grouping, threshold=threshold, estimate=estimate))
    return out


def _disparity_values(
    point: dict[str, np.ndarray], resampled: dict[str, np.ndarray] | None
) -> dict[str, tuple[float, np.ndarray | None, str | None]]:
    """name -> (value, resampled values [B] or None, metric that is undefined in some slice or None)."""

    def spread(values: np.ndarray) -> np.ndarray:
        return np.max(values, axis=-1) - np.min(values, axis=-1)

    def ratio(values: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(np.max(values, axis=-1) == 0, np.nan, np.min(values, axis=-1) / np.max(values, axis=-1))

    def equalized_odds(rates: dict[str, np.ndarray]) -> np.ndarray:
        return np.maximum(spread(rates["tpr"]), spread(rates["fpr"]))

    def missing(*metrics: str) -> str | None:
        return next((m for m in metrics if np.isnan(point[m]).any()), None)

    def pick(function, source):
        return None if resampled is None else function(source)

    return {
        "demographic_parity_difference": (
            spread(point["selection_rate"]),
            pick(lambda r: spread(r["selection_rate"]), resampled),
            missing("selection_rate"),
        ),
        "demographic_parity_ratio": (
            ratio(point["selection_rate"]),
            pick(lambda r: ratio(r["selection_rate"]), resampled),
            missing("selection_rate"),
        ),
        "equalized_odds_difference": (equalized_odds(point), pick(equalized_odds, resampled), missing("tpr", "fpr")),
        "equal_opportunity_difference": (
            spread(point["tpr"]),
            pick(lambda r: spread(r["tpr"]), resampled),
            missing("tpr"),
        ),
    }


def _label(layout: SliceLayout, s: int) -> str:
    return ",".join(f"{k}={v}" for k, v in layout.slices[s].group.items())


def _baseline_index(spec: FairnessSpec, layout: SliceLayout, sizes: np.ndarray) -> int:
    """Slice index of the baseline (0 = overall); AnalysisInputError if it is absent or too small."""
    if spec.baseline.is_overall:
        return 0
    columns = tuple(spec.baseline.group)
    grouping = next((g for g in layout.groupings if set(g) == set(columns)), None)
    if grouping is None:
        raise AnalysisInputError(
            f"baseline {spec.baseline.label()!r} combines columns that are not an intersection you asked for; "
            f"add --intersections {'*'.join(columns)}"
        )
    wanted = tuple(spec.baseline.group[c] for c in grouping)
    members = layout.groupings[grouping]
    match = next((s for s in members if layout.slices[s].values == wanted), None)
    if match is None:
        present = [",".join(layout.slices[s].values) for s in members]
        raise AnalysisInputError(
            f"baseline {spec.baseline.label()!r} matches no rows; values of {'*'.join(grouping)} are "
            f"{describe_choices(present)}"
        )
    if sizes[match] < spec.min_slice:
        raise AnalysisInputError(
            f"baseline {spec.baseline.label()!r} has {int(sizes[match])} rows, fewer than the minimum slice size "
            f"{spec.min_slice}; pick another baseline or lower --min-slice"
        )
    return match

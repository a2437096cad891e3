"""Fairness charts and tables: one metric across slices against the baseline, as Fairness Indicators shows it.

Pure functions of a :class:`analysis.fairness.FairnessResult`; no I/O, no analysis. Charts follow
:mod:`visualizers.style`: horizontal bars (long slice names stay readable), the baseline drawn as a
line, bars coloured by direction and significance of the difference, intervals as whiskers, rates
as percentages and differences in percentage points. The table (:func:`slice_table`) lists the
slices in the chart's order.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from analysis.fairness.metrics import METRIC_LABELS
from analysis.fairness.result import FairnessResult, SliceMetrics
from visualizers.style import (
    BASELINE,
    COMPARISON_LEGEND,
    REFERENCE_LINE,
    UNDEFINED,
    add_legend_entries,
    comparison_colour,
    finish_layout,
    number_text,
    percent_text,
    points_text,
    wrap_label,
)

# Metrics that are not rates in [0, 1]: shown as plain numbers, their differences as plain numbers.
NOT_RATES = frozenset({"count", "auc"})


def interval_level(result: FairnessResult) -> str:
    """The intervals' confidence level as text, e.g. '95%'."""
    return f"{float(result.parameters.get('confidence', 0.95)):.0%}"


def is_rate(metric: str) -> bool:
    return metric not in NOT_RATES


def value_text(metric: str, value: float | None) -> str:
    if metric == "count" and value is not None:
        return f"{value:,.0f}"
    return percent_text(value) if is_rate(metric) else number_text(value)


def difference_text(metric: str, value: float | None) -> str:
    if value is None:
        return "—"
    return points_text(value) if is_rate(metric) else ("+" if value > 0 else "") + number_text(value)


def plot_metric_bars(
    result: FairnessResult,
    *,
    metric: str,
    threshold: float | None,
    over: tuple[str, ...] | None = None,
) -> go.Figure:
    """Horizontal bars of ``metric`` per slice at ``threshold``; whiskers = the bootstrap interval.

    ``over`` keeps one grouping's slices (e.g. ``("sex",)``); None shows every reported slice.
    The baseline is the first bar and a vertical line; each other bar is coloured by the sign of
    its difference to the baseline and by whether that difference's interval excludes zero, and
    is labelled with its value and the difference (percentage points for rates).
    Undefined values get no bar; their reason is written in place of the value.
    """
    if metric not in METRIC_LABELS:
        raise ValueError(f"unknown metric {metric!r}; choose one of {sorted(METRIC_LABELS)}")
    if threshold not in result.thresholds:
        raise ValueError(f"threshold {threshold!r} is not in the result; it has {list(result.thresholds)}")
    entries = ordered_slices(result, threshold, over)
    labels = [wrap_label(e.label, 26) for e in entries]
    values, colours, texts, upper, lower = [], [], [], [], []
    for entry in entries:
        estimate = entry.metrics[metric]
        gap = entry.vs_baseline.get(metric)
        reference = entry.is_baseline or not entry.group
        values.append(estimate.value)
        difference = None if gap is None else gap.difference
        colours.append(
            UNDEFINED
            if estimate.value is None
            else comparison_colour(difference, bool(gap and gap.gap_excludes_zero), is_baseline=reference)
        )
        if estimate.value is None:
            texts.append(f"undefined: {estimate.reason or 'no value'}")
        elif reference or difference is None:
            texts.append(value_text(metric, estimate.value))
        else:
            texts.append(f"{value_text(metric, estimate.value)} ({difference_text(metric, difference)})")
        upper.append((estimate.ci[1] - estimate.value) if estimate.ci and estimate.value is not None else 0.0)
        lower.append((estimate.value - estimate.ci[0]) if estimate.ci and estimate.value is not None else 0.0)
    figure = go.Figure(
        go.Bar(
            y=labels,
            x=[0.0 if v is None else v for v in values],
            orientation="h",
            marker_color=colours,
            error_x={
                "type": "data",
                "symmetric": False,
                "array": upper,
                "arrayminus": lower,
                "visible": True,
                "color": REFERENCE_LINE,
                "thickness": 1.5,
            },
            hovertext=[_hover(e, metric) for e in entries],
            hoverinfo="text",
            showlegend=False,
        )
    )
    # The values and differences in one column right of the bars, clear of the whiskers.
    right = max([1.0 if is_rate(metric) else 0.0] + [(v or 0.0) + u for v, u in zip(values, upper, strict=True)])
    figure.add_trace(
        go.Scatter(
            y=labels,
            x=[right * 1.03] * len(labels),
            mode="text",
            text=texts,
            textposition="middle right",
            cliponaxis=False,  # a long value may run into the right margin rather than be cut
            hoverinfo="skip",
            showlegend=False,
        )
    )
    baseline_entry = next((e for e in entries if e.is_baseline or not e.group), None)
    if baseline_entry is not None and baseline_entry.metrics[metric].value is not None:
        reference = baseline_entry.metrics[metric].value
        figure.add_vline(x=reference, line={"color": BASELINE, "dash": "dash", "width": 1.5})
        add_legend_entries(
            figure, [(BASELINE, f"baseline: {baseline_entry.label} = {value_text(metric, reference)} (dashed line)")]
        )
    used = [c for c in COMPARISON_LEGEND if c in colours and c != BASELINE]
    add_legend_entries(figure, [(c, COMPARISON_LEGEND[c]) for c in used])
    if UNDEFINED in colours:
        add_legend_entries(figure, [(UNDEFINED, "undefined (no rows in the denominator)")])
    add_legend_entries(
        figure, [(REFERENCE_LINE, f"whiskers: {interval_level(result)} bootstrap interval")], symbol="line-ew-open"
    )
    name = METRIC_LABELS[metric]
    title = f"{name[0].upper()}{name[1:]}" + (f" at threshold {threshold:g}" if threshold is not None else "")
    title += ", per slice, against the baseline"
    finish_layout(figure, title=title, height=150 + 34 * sum(label.count("<br>") + 1 for label in labels))
    figure.update_yaxes(autorange="reversed", automargin=True)
    if is_rate(metric):
        figure.update_xaxes(tickformat=".0%", title=f"{name} (%)", tickvals=[0, 0.25, 0.5, 0.75, 1])
    else:
        figure.update_xaxes(title=name)
    figure.update_xaxes(range=[0, right * 1.45 or 1.0])
    return figure


def slice_table(result: FairnessResult, *, metrics: list[str], threshold: float | None) -> pd.DataFrame:
    """The chart's numbers as a readable table: one row per slice and metric, in the chart's order.

    Values and intervals as percentages for rates, differences in percentage points; what cannot be
    computed is an em dash with the reason. Columns carry human names (``visualizers.tables``).
    """
    rows, level = [], interval_level(result)
    for metric in metrics:
        for entry in ordered_slices(result, threshold, None):
            estimate = entry.metrics.get(metric)
            if estimate is None:
                continue
            gap = entry.vs_baseline.get(metric)
            reference = entry.is_baseline or not entry.group
            if estimate.value is None:
                value = f"— ({estimate.reason or 'undefined'})"
            else:
                value = value_text(metric, estimate.value)
                if estimate.ci:
                    value += f" [{value_text(metric, estimate.ci[0])}, {value_text(metric, estimate.ci[1])}]"
            if reference:
                difference = "— (baseline)"
            elif gap is None or gap.difference is None:
                difference = f"— ({(gap and gap.reason) or estimate.reason or 'no baseline value'})"
            else:
                difference = difference_text(metric, gap.difference)
                if gap.ci_difference:
                    low, high = gap.ci_difference
                    difference += f" [{difference_text(metric, low)}, {difference_text(metric, high)}]"
            if reference:
                ratio = "— (baseline)"
            elif gap is None or gap.ratio is None:
                ratio = f"— ({(gap and gap.reason) or 'baseline value is zero'})"
            else:
                ratio = number_text(gap.ratio)
                if gap.ci_ratio:
                    ratio += f" [{number_text(gap.ci_ratio[0])}, {number_text(gap.ci_ratio[1])}]"
            rows.append(
                {
                    "Metric": METRIC_LABELS[metric],
                    "Slice": entry.label,
                    "Rows": f"{entry.count:,}",
                    f"Value [{level} interval]": value,
                    f"Difference to baseline [{level} interval]": difference,
                    f"Ratio to baseline [{level} interval]": ratio,
                    "Significant": "baseline"
                    if reference
                    else ("yes" if gap is not None and gap.gap_excludes_zero else "no"),
                }
            )
    return pd.DataFrame(rows)


def disparity_table(result: FairnessResult, *, threshold: float | None) -> pd.DataFrame:
    """Disparities (largest gap or smallest ratio over a grouping) at ``threshold``, readable."""
    rows, level = [], interval_level(result)
    for disparity in result.disparities:
        if disparity.threshold != threshold:
            continue
        estimate = disparity.estimate
        is_difference = disparity.name.endswith("difference")
        show = (lambda v: points_text(v).lstrip("+")) if is_difference else number_text
        if estimate.value is None:
            value = f"— ({estimate.reason or 'undefined'})"
        else:
            value = show(estimate.value)
            if estimate.ci:
                value += f" [{show(estimate.ci[0])}, {show(estimate.ci[1])}]"
        rows.append(
            {
                "Over": " × ".join(disparity.over),
                "Disparity": disparity.name.replace("_", " "),
                f"Value [{level} interval]": value,
            }
        )
    return pd.DataFrame(rows)


def ordered_slices(result: FairnessResult, threshold: float | None, over: tuple[str, ...] | None) -> list[SliceMetrics]:
    """The baseline first (the overall entry when the baseline is overall), then the slices in result order."""
    slices = result.slices_at(threshold, over)
    baseline = [s for s in slices if s.is_baseline]
    others = [s for s in slices if not s.is_baseline]
    if result.baseline == "overall":
        baseline = [result.overall_at(threshold)]
    elif not baseline:  # another grouping's slice is the baseline: still draw it first, for reference
        baseline = [s for s in result.slices_at(threshold) if s.is_baseline]
    return baseline + others


def _hover(entry: SliceMetrics, metric: str) -> str:
    estimate = entry.metrics[metric]
    if estimate.value is None:
        return f"{entry.label}<br>n = {entry.count:,}<br>undefined: {estimate.reason or 'no value'}"
    text = f"{entry.label}<br>n = {entry.count:,}<br>{METRIC_LABELS[metric]} = {value_text(metric, estimate.value)}"
    if estimate.ci:
        text += f" [{value_text(metric, estimate.ci[0])}, {value_text(metric, estimate.ci[1])}]"
    gap = entry.vs_baseline.get(metric)
    if gap is not None and gap.difference is not None and not entry.is_baseline:
        text += f"<br>difference {difference_text(metric, gap.difference)}"
        if gap.ci_difference:
            text += (
                f" [{difference_text(metric, gap.ci_difference[0])}, {difference_text(metric, gap.ci_difference[1])}]"
            )
    return text

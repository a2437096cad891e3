"""Fairness charts: one metric across slices, with bootstrap intervals as error bars.

Pure functions of a :class:`analysis.fairness.FairnessResult`; no I/O, no analysis.
"""

from __future__ import annotations

import plotly.graph_objects as go

from analysis.fairness.metrics import METRIC_LABELS
from analysis.fairness.result import FairnessResult, SliceMetrics

BASELINE_COLOR = "#6b7280"
SLICE_COLOR = "#2563eb"
GAP_COLOR = "#dc2626"


def plot_metric_bars(
    result: FairnessResult,
    *,
    metric: str,
    threshold: float | None,
    over: tuple[str, ...] | None = None,
) -> go.Figure:
    """Bars of ``metric`` per slice at ``threshold``, error bars = the interval, baseline drawn first.

    ``over`` keeps one grouping's slices (e.g. ``("sex",)``); None shows every reported slice.
    Slices whose gap to the baseline has an interval excluding zero are drawn in red;
    undefined values are left out of the bars and named in the hover text of the title.
    """
    if metric not in METRIC_LABELS:
        raise ValueError(f"unknown metric {metric!r}; choose one of {sorted(METRIC_LABELS)}")
    if threshold not in result.thresholds:
        raise ValueError(f"threshold {threshold!r} is not in the result; it has {list(result.thresholds)}")
    entries = _ordered(result, threshold, over)
    shown = [e for e in entries if e.metrics[metric].value is not None]
    undefined = [e.label for e in entries if e.metrics[metric].value is None]

    def colour(entry: SliceMetrics) -> str:
        if entry.is_baseline or not entry.group:
            return BASELINE_COLOR
        gap = entry.vs_baseline.get(metric)
        return GAP_COLOR if gap is not None and gap.gap_excludes_zero else SLICE_COLOR

    values = [e.metrics[metric].value for e in shown]
    upper = [(e.metrics[metric].ci[1] - e.metrics[metric].value) if e.metrics[metric].ci else 0.0 for e in shown]
    lower = [(e.metrics[metric].value - e.metrics[metric].ci[0]) if e.metrics[metric].ci else 0.0 for e in shown]
    hover = [_hover(e, metric) for e in shown]
    figure = go.Figure(
        go.Bar(
            x=[e.label for e in shown],
            y=values,
            marker_color=[colour(e) for e in shown],
            error_y={"type": "data", "symmetric": False, "array": upper, "arrayminus": lower, "visible": True},
            hovertext=hover,
            hoverinfo="text",
        )
    )
    title = f"{METRIC_LABELS[metric]} at threshold {threshold}" if threshold is not None else METRIC_LABELS[metric]
    if undefined:
        title += f" (undefined for {', '.join(undefined)})"
    figure.update_layout(
        title=title,
        yaxis_title=METRIC_LABELS[metric],
        xaxis={"categoryorder": "array", "categoryarray": [e.label for e in shown]},
        margin={"t": 60, "b": 40, "l": 50, "r": 20},
        height=360,
        showlegend=False,
    )
    if metric != "count":
        figure.update_yaxes(range=[0, 1.05])
    return figure


def _ordered(result: FairnessResult, threshold: float | None, over: tuple[str, ...] | None) -> list[SliceMetrics]:
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
    text = f"{entry.label}<br>n = {entry.count:,}<br>{metric} = {estimate.value:.4f}"
    if estimate.ci:
        text += f" [{estimate.ci[0]:.4f}, {estimate.ci[1]:.4f}]"
    gap = entry.vs_baseline.get(metric)
    if gap is not None and gap.difference is not None and not entry.is_baseline:
        text += f"<br>difference {gap.difference:+.4f}"
        if gap.ci_difference:
            text += f" [{gap.ci_difference[0]:+.4f}, {gap.ci_difference[1]:+.4f}]"
    return text

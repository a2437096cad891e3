"""Threshold strategies: one metric per slice under a single threshold and under the chosen strategy.

A pure function of :class:`analysis.fairness.mitigation.MitigationResult`; no I/O, no analysis.
Grouped horizontal bars (single threshold grey, strategy coloured) with the bootstrap intervals as
whiskers; rates in percent.
"""

from __future__ import annotations

import plotly.graph_objects as go

from analysis.fairness.metrics import METRIC_LABELS
from analysis.fairness.mitigation import MitigationResult
from analysis.fairness.result import FairnessResult
from visualizers.style import BASELINE, BELOW, finish_layout, wrap_label


def _bars(result: FairnessResult, metric: str, over: tuple[str, ...]) -> tuple[list[str], list, list, list]:
    entries = [result.overall[0], *[s for s in result.slices if s.over == over]]
    labels = [wrap_label(e.label) for e in entries]
    values, low, high = [], [], []
    for entry in entries:
        estimate = entry.metrics[metric]
        values.append(estimate.value)
        low.append(None if estimate.ci is None or estimate.value is None else estimate.value - estimate.ci[0])
        high.append(None if estimate.ci is None or estimate.value is None else estimate.ci[1] - estimate.value)
    return labels, values, low, high


def plot_strategy_comparison(result: MitigationResult, *, metric: str) -> go.Figure:
    """``metric`` for overall and each group of ``result.by``: single threshold vs the strategy, with intervals."""
    figure = go.Figure()
    runs = [(f"single threshold {result.threshold:g}", result.single, BASELINE)]
    if result.mitigated is not result.single:
        runs.append((result.strategy.value.replace("_", " "), result.mitigated, BELOW))
    for name, run, colour in runs:
        labels, values, low, high = _bars(run, metric, (result.by,))
        figure.add_trace(
            go.Bar(
                orientation="h",
                y=labels,
                x=values,
                name=name,
                marker_color=colour,
                error_x={"type": "data", "array": high, "arrayminus": low, "color": "#111827", "thickness": 1.2},
                text=[f"{v:.1%}" if v is not None else "n/a" for v in values],
                textposition="inside",
                insidetextanchor="start",
                textfont={"color": "white"},
                hovertemplate=f"%{{y}}<br>{name}: %{{x:.1%}}<extra></extra>",
            )
        )
    figure.update_layout(barmode="group")
    figure.update_yaxes(autorange="reversed")
    figure.update_xaxes(tickformat=".0%", range=[0, 1.15], title_text=METRIC_LABELS.get(metric, metric))
    strategy = result.strategy.value.replace("_", " ")
    title = f"{METRIC_LABELS.get(metric, metric)} per {result.by}: single threshold vs {strategy}"
    return finish_layout(figure, title=title, height=160 + 60 * (len(labels) + 1))

"""Privacy-against-utility charts: tensorflow-privacy's ``plot_privacy_vs_accuracy`` and
``plot_by_epochs``, interactive, each point a link to its audit and the frontier marked.

Pure functions of a :class:`analysis.privacy.report.PrivacyReport`; no I/O, no analysis.
``audit_url`` turns a record id into the link each point's label carries.
"""

from __future__ import annotations

from collections.abc import Callable

import plotly.graph_objects as go

from analysis.privacy.report import PrivacyReport, ReportPoint
from visualizers.style import REFERENCE_LINE, finish_layout, number_text, percent_text

FRONTIER = "#c2410c"
OTHER = "#1d4ed8"
DP = "#15803d"
# metric -> (axis title, value, interval, chance level, is a rate)
METRICS: dict[str, tuple[str, Callable[[ReportPoint], float | None], Callable[[ReportPoint], tuple | None], float]] = {
    "max_auc": ("best attack AUC", lambda p: p.max_auc, lambda p: p.auc_ci, 0.5),
    "attacker_advantage": ("attacker advantage (max TPR - FPR)", lambda p: p.attacker_advantage, lambda p: None, 0.0),
    "tpr_at_1pct": ("TPR at 1% FPR", lambda p: p.tpr_at_1pct, lambda p: p.tpr_at_1pct_ci, 0.01),
    "tpr_at_01pct": ("TPR at 0.1% FPR", lambda p: p.tpr_at_01pct, lambda p: p.tpr_at_01pct_ci, 0.001),
}


def plot_privacy_vs_accuracy(
    report: PrivacyReport, *, metric: str = "max_auc", audit_url: Callable[[str], str] = lambda record_id: ""
) -> go.Figure:
    """Vulnerability (``metric``) against test accuracy; the frontier drawn as a line through its points."""
    figure = go.Figure()
    frontier = report.frontier()
    if metric == "max_auc" and len(frontier) > 1:
        figure.add_trace(
            go.Scatter(
                x=[p.test_accuracy for p in frontier],
                y=[p.max_auc for p in frontier],
                mode="lines",
                line={"color": FRONTIER, "dash": "dot"},
                name="frontier: no other variant has higher accuracy and lower AUC",
                hoverinfo="skip",
            )
        )
    _points(figure, report.points, metric=metric, x=lambda p: p.test_accuracy, audit_url=audit_url)
    _chance(figure, metric)
    figure.update_xaxes(title="test accuracy", tickformat=".1%")
    figure.update_yaxes(title=METRICS[metric][0], **({"tickformat": ".1%"} if metric.startswith("tpr") else {}))
    return finish_layout(
        figure, title=f"{METRICS[metric][0]} against test accuracy (lower right is better)", height=460
    )


def plot_by_epochs(
    report: PrivacyReport, *, metric: str = "max_auc", audit_url: Callable[[str], str] = lambda record_id: ""
) -> go.Figure:
    """Vulnerability against epoch, one line per run (points without an epoch are left out)."""
    figure = go.Figure()
    for run in report.runs() or (None,):
        points = sorted(
            (p for p in report.points if p.epoch is not None and p.run == run and p.epsilon is None),
            key=lambda p: p.epoch or 0,
        )
        if points:
            figure.add_trace(
                go.Scatter(
                    x=[p.epoch for p in points],
                    y=[METRICS[metric][1](p) for p in points],
                    mode="lines",
                    line={"color": OTHER, "width": 1},
                    name=f"run {run}" if run else "audits",
                    hoverinfo="skip",
                )
            )
    _points(
        figure,
        [p for p in report.points if p.epoch is not None],
        metric=metric,
        x=lambda p: p.epoch,
        audit_url=audit_url,
    )
    _chance(figure, metric)
    figure.update_xaxes(title="epochs trained")
    figure.update_yaxes(title=METRICS[metric][0], **({"tickformat": ".1%"} if metric.startswith("tpr") else {}))
    return finish_layout(figure, title=f"{METRICS[metric][0]} against training epochs", height=420)


def _points(
    figure: go.Figure,
    points: list[ReportPoint] | tuple[ReportPoint, ...],
    *,
    metric: str,
    x: Callable[[ReportPoint], float | None],
    audit_url: Callable[[str], str],
) -> None:
    title, value, interval, _ = METRICS[metric]
    if not any(value(p) is not None for p in points):
        figure.add_annotation(
            text=f"No audit here reports {title} (too few non-members for that FPR).",
            showarrow=False,
            xref="paper",
            yref="paper",
            x=0.5,
            y=0.5,
        )
    groups = (
        ("frontier", FRONTIER, "diamond", lambda p: p.on_frontier),
        ("DP-SGD", DP, "circle", lambda p: not p.on_frontier and p.epsilon is not None),
        ("other variants", OTHER, "circle", lambda p: not p.on_frontier and p.epsilon is None),
    )
    for name, colour, symbol, belongs in groups:
        chosen = [p for p in points if belongs(p) and value(p) is not None]
        if not chosen:
            continue
        ys = [value(p) for p in chosen]
        intervals = [interval(p) for p in chosen]
        has_error = any(i is not None for i in intervals)
        error = {
            "type": "data",
            "symmetric": False,
            "array": [0 if i is None else i[1] - y for i, y in zip(intervals, ys, strict=True)],
            "arrayminus": [0 if i is None else y - i[0] for i, y in zip(intervals, ys, strict=True)],
            "color": colour,
            "thickness": 1,
        }
        figure.add_trace(
            go.Scatter(
                x=[x(p) for p in chosen],
                y=ys,
                mode="markers",
                marker={"color": colour, "size": 12, "symbol": symbol},
                error_y=error if has_error else None,
                name=name,
                hovertext=[_hover(p) for p in chosen],
                hoverinfo="text",
            )
        )
        # labels as annotations: plotly's drag layer covers trace text, so only annotation links can be clicked
        for p, y in zip(chosen, ys, strict=True):
            above = _label_position(p, points, x) == "top center"
            figure.add_annotation(
                x=x(p),
                y=y,
                text=_link(p, audit_url),
                showarrow=False,
                yshift=14 if above else -14,
                font={"color": colour, "size": 12},
                captureevents=True,  # the link receives the click, not the drag layer under it
            )


def _label_position(
    point: ReportPoint, points: list[ReportPoint] | tuple[ReportPoint, ...], x: Callable[[ReportPoint], float | None]
) -> str:
    """Alternate labels above and below along the x axis, so neighbouring points' labels do not overlap."""
    order = sorted((p for p in points if x(p) is not None), key=lambda p: (x(p), p.record_id))
    index = next((i for i, p in enumerate(order) if p.record_id == point.record_id), 0)
    return "top center" if index % 2 == 0 else "bottom center"


def _link(point: ReportPoint, audit_url: Callable[[str], str]) -> str:
    url = audit_url(point.record_id)
    return f'<a href="{url}" target="_self">{point.label}</a>' if url else point.label


def _hover(p: ReportPoint) -> str:
    lines = [
        f"<b>{p.label}</b> ({p.record_id})",
        f"test accuracy {percent_text(p.test_accuracy)} ({p.accuracy_source})",
        f"best AUC {number_text(p.max_auc)}",
        f"attacker advantage {number_text(p.attacker_advantage)}",
        f"TPR at 1% FPR {percent_text(p.tpr_at_1pct)}",
    ]
    if p.epoch is not None:
        lines.append(f"epochs {p.epoch}")
    if p.epsilon is not None:
        lines.append(f"DP-SGD epsilon {p.epsilon:.3g}" + ("" if p.delta is None else f" at delta {p.delta:.0e}"))
    return "<br>".join(lines)


def _chance(figure: go.Figure, metric: str) -> None:
    level = METRICS[metric][3]
    figure.add_hline(
        y=level, line={"color": REFERENCE_LINE, "dash": "dash", "width": 1}, annotation_text="chance", opacity=0.6
    )

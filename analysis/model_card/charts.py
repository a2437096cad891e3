"""Geometry for the HTML card's inline SVG charts (no plotting library, no external requests).

Only numbers are computed here; the template draws them and escapes every label. Charts:
fairness bars per slice with 95% CI whiskers (one chart per metric, overall first, the
overall value as a dashed reference line), membership-inference AUC bars per slice and
attack against the 0.5 chance line, and ROC curves when a privacy record stores them.
"""

from __future__ import annotations

from dataclasses import dataclass

from analysis.model_card.evidence import CardMetric, RecordEvidence, RocCurve
from analysis.model_card.tables import display_number

PALETTE = ("#1f6fb2", "#d9822b", "#2f9e44", "#c2255c", "#7048e8", "#5c940d")
FAIRNESS_CHART_METRICS = ("selection_rate", "accuracy", "tpr", "fpr", "precision", "auc")
_LABEL_W, _PLOT_W, _ROW_H, _TOP, _BOTTOM = 190.0, 380.0, 22.0, 34.0, 26.0


@dataclass(frozen=True, slots=True, kw_only=True)
class Bar:
    label: str
    y: float  # top of the row
    width: float  # bar length in px (0 when undefined)
    whisker: tuple[float, float] | None  # x of the CI's ends
    value_text: str
    value_x: float
    emphasis: bool  # the overall / reference row


@dataclass(frozen=True, slots=True, kw_only=True)
class BarChart:
    title: str
    width: float
    height: float
    x0: float  # left edge of the plot area
    bars: tuple[Bar, ...]
    ticks: tuple[tuple[float, str], ...]
    reference: tuple[float, str] | None  # x and label of a dashed vertical line
    row_height: float = _ROW_H
    axis_y: float = 0.0


def _x(value: float) -> float:
    return _LABEL_W + max(0.0, min(1.0, value)) * _PLOT_W


def bar_chart(title: str, rows: list[tuple[str, CardMetric]], *, reference: tuple[float, str] | None) -> BarChart:
    """Horizontal bars for values in [0, 1]; ``rows`` are (label, metric), the first emphasised if overall."""
    bars = []
    for i, (label, metric) in enumerate(rows):
        value = metric.value
        whisker = None
        if metric.lower is not None and metric.upper is not None:
            whisker = (_x(metric.lower), _x(metric.upper))
        end = max(_x(value) if value is not None else _LABEL_W, whisker[1] if whisker else 0.0)
        bars.append(
            Bar(
                label=label,
                y=_TOP + i * _ROW_H,
                width=(_x(value) - _LABEL_W) if value is not None else 0.0,
                whisker=whisker,
                value_text=display_number(value) if value is not None else f"— ({metric.reason})",
                value_x=end + 6,
                emphasis=label == "overall",
            )
        )
    height = _TOP + len(rows) * _ROW_H + _BOTTOM
    ticks = tuple((_x(t), f"{t:g}") for t in (0.0, 0.25, 0.5, 0.75, 1.0))
    ref = (_x(reference[0]), reference[1]) if reference else None
    return BarChart(
        title=title,
        width=_LABEL_W + _PLOT_W + 150,
        height=height,
        x0=_LABEL_W,
        bars=tuple(bars),
        ticks=ticks,
        reference=ref,
        axis_y=_TOP + len(rows) * _ROW_H,
    )


def _in_unit_range(metric: CardMetric) -> bool:
    return metric.value is None or 0.0 <= metric.value <= 1.0


@dataclass(frozen=True, slots=True, kw_only=True)
class ChartData:
    """What a bar chart shows, before any geometry: shared by the SVG (HTML) and PNG (JSON) charts."""

    title: str
    rows: tuple[tuple[str, CardMetric], ...]  # (label, metric); values in [0, 1]
    reference: tuple[float, str] | None  # a dashed line: (value, label)


def fairness_chart_data(evidence: RecordEvidence, *, limit: int = 4) -> list[ChartData]:
    """One chart per main metric at the primary threshold (0.5 when reported, else the first)."""
    metrics = [m for m in evidence.metrics if m.section in ("overall", "slice")]
    thresholds = sorted({m.threshold for m in metrics if m.threshold is not None})
    primary = 0.5 if 0.5 in thresholds else (thresholds[0] if thresholds else None)
    charts = []
    for name in FAIRNESS_CHART_METRICS:
        chosen = [
            m
            for m in metrics
            if m.name == name and (m.threshold is None or m.threshold == primary) and _in_unit_range(m)
        ]
        if not any(m.section == "slice" and m.value is not None for m in chosen):
            continue
        overall = next((m for m in chosen if m.section == "overall"), None)
        rows = [("overall", overall)] if overall else []
        rows += [(m.slice, m) for m in chosen if m.section == "slice"]
        at = f" at threshold {primary:g}" if primary is not None and name not in ("auc",) else ""
        reference = (overall.value, "overall") if overall and overall.value is not None else None
        charts.append(
            ChartData(title=f"{name.replace('_', ' ')}{at}, with 95% intervals", rows=tuple(rows), reference=reference)
        )
        if len(charts) == limit:
            break
    return charts


def privacy_chart_data(evidence: RecordEvidence, *, limit: int = 25) -> list[ChartData]:
    """Membership-inference AUC per slice and attack, highest first (at most ``limit``), against chance (0.5)."""
    aucs = [m for m in evidence.metrics if m.section == "privacy" and m.name == "auc" and m.value is not None]
    if not aucs:
        return []
    shown = sorted(aucs, key=lambda m: -(m.value or 0.0))[:limit]
    title = "membership-inference AUC (0.5 = chance)"
    if len(shown) < len(aucs):
        title += f", the {len(shown)} highest of {len(aucs)}"
    rows = tuple((f"{m.slice} · {m.attack}", m) for m in shown)
    return [ChartData(title=title, rows=rows, reference=(0.5, "chance"))]


def chart_data(evidence: RecordEvidence) -> list[ChartData]:
    kind = evidence.record.kind
    return fairness_chart_data(evidence) if kind == "fairness" else privacy_chart_data(evidence)


def fairness_charts(evidence: RecordEvidence) -> list[BarChart]:
    return [bar_chart(d.title, list(d.rows), reference=d.reference) for d in fairness_chart_data(evidence)]


def privacy_charts(evidence: RecordEvidence) -> list[BarChart]:
    return [bar_chart(d.title, list(d.rows), reference=d.reference) for d in privacy_chart_data(evidence)]


def roc_curves_shown(evidence: RecordEvidence, limit: int = 6) -> tuple[RocCurve, ...]:
    """The curves a card draws: the entire data set's first, then the most exposed slices."""
    return evidence.roc_curves[:limit]


@dataclass(frozen=True, slots=True, kw_only=True)
class RocLine:
    points: str  # SVG polyline points
    color: str
    label: str


@dataclass(frozen=True, slots=True, kw_only=True)
class RocChart:
    title: str
    size: float
    margin: float
    lines: tuple[RocLine, ...]
    ticks: tuple[tuple[float, str], ...]


def roc_chart(
    evidence: RecordEvidence, *, size: float = 260.0, margin: float = 40.0, limit: int = 6
) -> RocChart | None:
    """ROC curves (linear axes, chance diagonal) of up to ``limit`` slice/attack pairs."""
    if not evidence.roc_curves:
        return None
    lines = []
    for i, curve in enumerate(roc_curves_shown(evidence, limit)):
        points = " ".join(
            f"{margin + f * size:.1f},{margin + (1 - t) * size:.1f}" for f, t in zip(curve.fpr, curve.tpr, strict=False)
        )
        auc = f" (AUC {display_number(curve.auc)})" if curve.auc is not None else ""
        lines.append(RocLine(points=points, color=PALETTE[i % len(PALETTE)], label=curve.label + auc))
    ticks = tuple((t * size, f"{t:g}") for t in (0.0, 0.5, 1.0))
    return RocChart(
        title="ROC curves of the membership-inference attacks",
        size=size,
        margin=margin,
        lines=tuple(lines),
        ticks=ticks,
    )

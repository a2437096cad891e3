"""What the card's charts show, before any drawing (``figures.py`` draws them for HTML and JSON).

Fairness bars per slice with 95% CI whiskers (one chart per metric, overall first, the overall
value as a dashed reference line), membership-inference AUC bars per slice and attack against
the 0.5 chance line, and ROC curves when a privacy record stores them.
"""

from __future__ import annotations

from dataclasses import dataclass

from analysis.model_card.evidence import CardMetric, RecordEvidence, RocCurve

PALETTE = ("#1f6fb2", "#d9822b", "#2f9e44", "#c2255c", "#7048e8", "#5c940d")
FAIRNESS_CHART_METRICS = ("selection_rate", "accuracy", "tpr", "fpr", "precision", "auc")


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


def roc_curves_shown(evidence: RecordEvidence, limit: int = 6) -> tuple[RocCurve, ...]:
    """The curves a card draws: the entire data set's first, then the most exposed slices."""
    return evidence.roc_curves[:limit]

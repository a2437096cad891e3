"""Metric tables for the readable formats (HTML, Markdown, Hugging Face): one row per slice.

Fairness: rows are slices (overall first) at each threshold, columns are metrics, each cell
the value with its 95% interval. Privacy: rows are (slice, attack), columns AUC, TPR at
each FPR and attacker advantage. Display values are rounded; the JSON card keeps them exact.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from analysis.fairness.metrics import METRIC_KEYS
from analysis.model_card.evidence import CardMetric, RecordEvidence


def display_number(value: float | None) -> str:
    """A number for people: integers with separators, others to 4 significant digits."""
    if value is None:
        return "—"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    if float(value).is_integer() and abs(value) >= 1:
        return f"{int(value):,}"
    return f"{value:.4g}"


def display_ci(metric: CardMetric) -> str:
    if metric.lower is None and metric.upper is None:
        return ""
    return f"[{display_number(metric.lower)}, {display_number(metric.upper)}]"


@dataclass(frozen=True, slots=True, kw_only=True)
class Cell:
    value: str  # rounded for display; "—" when undefined
    ci: str  # "[lo, hi]" or ""
    exact: str  # the stored value, exactly ("" when undefined)
    reason: str  # why the value is undefined ("" otherwise)


@dataclass(frozen=True, slots=True, kw_only=True)
class TableRow:
    label: str
    detail: str  # threshold ("0.5") or attack name; "" when none
    cells: tuple[Cell, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class MetricTable:
    record_id: str
    kind: str
    detail_header: str  # "threshold" or "attack"
    columns: tuple[str, ...]
    rows: tuple[TableRow, ...]


_EMPTY = Cell(value="", ci="", exact="", reason="")


# Column order: the fairness engine's metric order (records store metrics alphabetically);
# unknown metrics follow, alphabetically.
METRIC_ORDER = METRIC_KEYS


def _ordered(names: list[str]) -> tuple[str, ...]:
    unique = list(dict.fromkeys(names))
    return tuple(sorted(unique, key=lambda n: (METRIC_ORDER.index(n) if n in METRIC_ORDER else len(METRIC_ORDER), n)))


def split_columns(table: MetricTable, size: int) -> list[MetricTable]:
    """The table as several narrower ones of at most ``size`` metric columns (for pages and print)."""
    parts = []
    for start in range(0, max(len(table.columns), 1), size):
        rows = tuple(replace(row, cells=row.cells[start : start + size]) for row in table.rows)
        parts.append(replace(table, columns=table.columns[start : start + size], rows=rows))
    return parts


def _cell(metric: CardMetric | None) -> Cell:
    if metric is None:
        return _EMPTY
    exact = "" if metric.value is None else repr(metric.value)
    return Cell(value=display_number(metric.value), ci=display_ci(metric), exact=exact, reason=metric.reason)


def fairness_table(evidence: RecordEvidence) -> MetricTable:
    """Overall and per-slice metrics of a fairness record, pivoted to slices x metrics."""
    metrics = [m for m in evidence.metrics if m.section in ("overall", "slice")]
    columns = _ordered([m.name for m in metrics])
    thresholds = sorted({m.threshold for m in metrics if m.threshold is not None}) or [None]
    slices = list(dict.fromkeys(m.slice for m in metrics))
    rows = []
    for slice_ in slices:
        mine = [m for m in metrics if m.slice == slice_]
        own_thresholds = sorted({m.threshold for m in mine if m.threshold is not None}) or [None]
        for threshold in own_thresholds if len(thresholds) > 1 else thresholds:
            cells = []
            for name in columns:
                match = next((m for m in mine if m.name == name and m.threshold == threshold), None)
                match = match or next((m for m in mine if m.name == name and m.threshold is None), None)
                cells.append(_cell(match))
            detail = "" if threshold is None else f"{threshold:g}"
            rows.append(TableRow(label=slice_ or "overall", detail=detail, cells=tuple(cells)))
    return MetricTable(
        record_id=evidence.record.record_id,
        kind="fairness",
        detail_header="threshold",
        columns=columns,
        rows=tuple(rows),
    )


def disparity_metrics(evidence: RecordEvidence) -> tuple[CardMetric, ...]:
    return tuple(m for m in evidence.metrics if m.section == "disparity")


def privacy_table(evidence: RecordEvidence) -> MetricTable:
    """AUC, TPR at each FPR and attacker advantage per (slice, attack) of a privacy record."""
    metrics = [m for m in evidence.metrics if m.section == "privacy"]
    columns = tuple(dict.fromkeys(m.name for m in metrics))
    keys = list(dict.fromkeys((m.slice, m.attack) for m in metrics))
    rows = tuple(
        TableRow(
            label=slice_,
            detail=attack,
            cells=tuple(
                _cell(next((m for m in metrics if (m.slice, m.attack, m.name) == (slice_, attack, n)), None))
                for n in columns
            ),
        )
        for slice_, attack in keys
    )
    return MetricTable(
        record_id=evidence.record.record_id, kind="privacy", detail_header="attack", columns=columns, rows=rows
    )


def privacy_summary(evidence: RecordEvidence) -> tuple[CardMetric, ...]:
    return tuple(m for m in evidence.metrics if m.section == "privacy_summary")


def metric_table(evidence: RecordEvidence) -> MetricTable:
    return fairness_table(evidence) if evidence.record.kind == "fairness" else privacy_table(evidence)

"""The numbers a card cites, read from stored fairness and privacy records.

Reads the JSON contracts of the fairness result (``overall``, ``slices[]`` with ``group``,
``threshold``, ``count``, ``metrics {name: {value, ci}}``, ``disparities``, ``too_small``)
and of the privacy audit (``results[]`` with ``slice``, ``attack``, ``auc``, ``tpr_at_fpr``,
``summary``), tolerating missing optional keys. Values are kept exactly as stored: the JSON
card writes them with ``repr(float)``, which reads back to the same float.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from analysis.records import AnalysisRecord

# Fairness metrics that do not depend on the decision threshold: reported once per group.
THRESHOLD_FREE = frozenset({"count", "base_rate", "auc"})
ENTIRE_DATA_SET = "entire data set"
PRIVACY_SUMMARY = ("max_auc", "max_tpr_at_1pct_fpr", "max_tpr_at_0.1pct_fpr")


@dataclass(frozen=True, slots=True, kw_only=True)
class CardMetric:
    """One reported number. ``section``: 'overall', 'slice', 'disparity', 'privacy' or 'privacy_summary'.

    ``type`` and ``slice`` are what the JSON card's ``performance_metrics`` entry says
    (``slice`` empty: not sliced); ``value`` None means undefined, with ``reason``.
    """

    record_id: str
    section: str
    name: str
    type: str
    slice: str
    value: float | None
    lower: float | None = None
    upper: float | None = None
    threshold: float | None = None
    attack: str = ""
    reason: str = ""

    def to_schema(self) -> dict[str, Any] | None:
        """The schema's ``performance_metric`` object (strings), or None for an undefined value."""
        if self.value is None:
            return None
        entry: dict[str, Any] = {"type": self.type, "value": number_text(self.value)}
        if self.slice:
            entry["slice"] = self.slice
        if self.lower is not None or self.upper is not None:
            entry["confidence_interval"] = {
                k: number_text(v)
                for k, v in (("lower_bound", self.lower), ("upper_bound", self.upper))
                if v is not None
            }
        return entry


@dataclass(frozen=True, slots=True, kw_only=True)
class RocCurve:
    """An attack's ROC curve, when the privacy record stores one (``fpr``/``tpr`` in [0, 1])."""

    label: str
    fpr: tuple[float, ...]
    tpr: tuple[float, ...]
    auc: float | None
    entire: bool = False  # the curve of the entire data set


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordEvidence:
    """What one record contributes: its metrics, and what the charts and summaries need."""

    record: AnalysisRecord
    metrics: tuple[CardMetric, ...]
    too_small: tuple[tuple[str, int | None], ...] = ()  # fairness groups below the minimum size
    worst_slice: str = ""  # privacy summary
    roc_curves: tuple[RocCurve, ...] = ()
    notes: tuple[str, ...] = field(default=())


def number_text(value: float) -> str:
    """A number as the schema's string: integers plainly, floats in shortest round-trip form."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return repr(float(value))


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return value if math.isfinite(value) else None


def group_label(group: Any) -> str:
    """``{"sex": "F", "age": "25-40"}`` -> ``"sex=F, age=25-40"``."""
    if isinstance(group, Mapping):
        return ", ".join(f"{k}={v}" for k, v in group.items()) or "overall"
    return str(group)


def privacy_slice_label(slice_: Any, class_names: tuple[str, ...] = ()) -> str:
    """A privacy slice as the audit labels it: ``entire data set``, ``class 3 (ring)``, ``sex=F``, ..."""
    if not isinstance(slice_, Mapping):
        return str(slice_) if slice_ is not None else ENTIRE_DATA_SET
    kind, value = str(slice_.get("kind", "slice")), slice_.get("value")
    if kind == "entire_dataset":
        return ENTIRE_DATA_SET
    if kind == "column" and "column" in slice_:
        return f"{slice_['column']}={value}"
    if kind == "class" and isinstance(value, int) and not isinstance(value, bool):
        return f"class {value}" + (f" ({class_names[value]})" if 0 <= value < len(class_names) else "")
    if kind == "percentile" and isinstance(value, list | tuple) and len(value) == 2:
        return f"loss percentile {value[0]}-{value[1]}"
    if kind == "correctness" and isinstance(value, bool):
        return "correctly classified" if value else "misclassified"
    rest = {k: v for k, v in slice_.items() if k != "kind"}
    return kind.replace("_", " ") + (" " + ", ".join(f"{k}={v}" for k, v in rest.items()) if rest else "")


def fpr_label(key: Any) -> str:
    """``"0.01"`` -> ``"1%"``; ``"0.001"`` -> ``"0.1%"``."""
    try:
        return f"{float(key) * 100:g}%"
    except (TypeError, ValueError):
        return str(key)


def _metric(record_id: str, section: str, name: str, raw: Any, *, slice_: str, threshold: float | None) -> CardMetric:
    """A CardMetric from ``{"value": v, "ci": [lo, hi], "reason": ...}`` or a bare number."""
    value, lower, upper, reason = raw, None, None, ""
    if isinstance(raw, Mapping):
        value = raw.get("value")
        ci = raw.get("ci")
        if isinstance(ci, list | tuple) and len(ci) == 2:
            lower, upper = _number(ci[0]), _number(ci[1])
        reason = str(raw.get("reason") or "")
    number = _number(value)
    if number is None and not reason:
        reason = "not defined for this slice" if value is None else f"not a number ({value!r})"
    type_ = name if threshold is None or name in THRESHOLD_FREE else f"{name}@{threshold:g}"
    return CardMetric(
        record_id=record_id,
        section=section,
        name=name,
        type=type_,
        slice=slice_,
        value=number,
        lower=lower,
        upper=upper,
        threshold=None if name in THRESHOLD_FREE else threshold,
        reason=reason,
    )


def _metric_entries(metrics: Any) -> Iterator[tuple[str, Any]]:
    if isinstance(metrics, Mapping):
        for name, raw in metrics.items():
            if isinstance(raw, Mapping) and "value" not in raw:
                continue  # nested structure we do not know; skip rather than guess
            yield str(name), raw


def read_fairness(record: AnalysisRecord) -> RecordEvidence:
    """Metrics per slice (and overall) with CIs, disparities, and the too-small groups."""
    result, rid = record.result, record.record_id
    metrics: list[CardMetric] = []
    seen: set[tuple[str, str]] = set()

    def add(metric: CardMetric) -> None:
        if (metric.type, metric.slice) not in seen:  # threshold-free metrics repeat per threshold
            seen.add((metric.type, metric.slice))
            metrics.append(metric)

    overall = result.get("overall") or {}
    for entry in overall if isinstance(overall, list) else [overall]:
        if not isinstance(entry, Mapping):
            continue
        threshold = _number(entry.get("threshold"))
        inner = entry.get("metrics", entry)
        if isinstance(inner, Mapping) and "count" not in inner and _number(entry.get("count")) is not None:
            add(_metric(rid, "overall", "count", entry["count"], slice_="", threshold=None))
        for name, raw in _metric_entries(inner):
            if name not in ("threshold", "group"):
                add(_metric(rid, "overall", name, raw, slice_="", threshold=threshold))
    for entry in result.get("slices") or []:
        if not isinstance(entry, Mapping):
            continue
        label, threshold = group_label(entry.get("group")), _number(entry.get("threshold"))
        inner = entry.get("metrics") or {}
        if "count" not in inner and _number(entry.get("count")) is not None:
            add(_metric(rid, "slice", "count", entry["count"], slice_=label, threshold=None))
        for name, raw in _metric_entries(inner):
            add(_metric(rid, "slice", name, raw, slice_=label, threshold=threshold))
    for name, raw, threshold, across in _disparities(result.get("disparities") or {}, None):
        add(_metric(rid, "disparity", name, raw, slice_=across, threshold=threshold))
    too_small = tuple(
        (group_label(e.get("group")), e.get("count") if isinstance(e.get("count"), int) else None)
        for e in result.get("too_small") or []
        if isinstance(e, Mapping)
    )
    return RecordEvidence(record=record, metrics=tuple(metrics), too_small=too_small)


def _disparities(obj: Any, threshold: float | None) -> Iterator[tuple[str, Any, float | None, str]]:
    """(name, estimate, threshold, across) from ``{name: [{over, threshold, value, ci}, ...]}``.

    Also accepts ``{name: {value, ci}}``, a list of per-threshold mappings with ``threshold``,
    and mappings keyed by threshold.
    """
    if isinstance(obj, list):
        for entry in obj:
            if isinstance(entry, Mapping):
                yield from _disparities(entry, _number(entry.get("threshold")))
        return
    if not isinstance(obj, Mapping):
        return
    for key, value in obj.items():
        if key == "threshold":
            continue
        if (isinstance(value, Mapping) and "value" in value) or _number(value) is not None:
            yield str(key), value, threshold, _across(value)
        elif isinstance(value, list):  # one entry per grouping and threshold
            for entry in value:
                if isinstance(entry, Mapping) and "value" in entry:
                    yield str(key), entry, _number(entry.get("threshold")), _across(entry)
        elif isinstance(value, Mapping) and _is_float(key):
            yield from _disparities(value, float(key))


def _across(entry: Any) -> str:
    over = entry.get("over") if isinstance(entry, Mapping) else None
    return "across " + " × ".join(map(str, over)) if isinstance(over, list | tuple) and over else ""


def read_privacy(record: AnalysisRecord) -> RecordEvidence:
    """AUC, TPR at each reported FPR and attacker advantage per slice and attack; the summary."""
    result, rid = record.result, record.record_id
    class_names = tuple(str(c) for c in result.get("class_names") or ())
    metrics: list[CardMetric] = []
    curves: list[RocCurve] = []
    for entry in result.get("results") or []:
        if not isinstance(entry, Mapping):
            continue
        label = privacy_slice_label(entry.get("slice"), class_names)
        attack = str(entry.get("attack", "attack"))
        notes = "; ".join(str(n) for n in entry.get("notes") or [])

        def add(name: str, raw: Any, label: str = label, attack: str = attack, notes: str = notes) -> None:
            metric = _metric(rid, "privacy", name, raw, slice_=label, threshold=None)
            if metric.value is None and notes:
                metric = _with(metric, reason=notes)
            metrics.append(_with(metric, type=f"membership_inference_{name} ({attack})", attack=attack))

        add("auc", entry.get("auc"))
        tpr = entry.get("tpr_at_fpr") or {}
        for key in sorted(tpr, key=lambda k: -float(k) if _is_float(k) else 0.0):
            add(f"tpr@{fpr_label(key)}fpr", tpr[key])
        if "attacker_advantage" in entry:
            add("attacker_advantage", entry["attacker_advantage"])
        roc = entry.get("roc") or entry.get("roc_curve")
        if isinstance(roc, Mapping) and isinstance(roc.get("fpr"), list) and isinstance(roc.get("tpr"), list):
            curves.append(
                RocCurve(
                    label=f"{label} · {attack}",
                    fpr=tuple(map(float, roc["fpr"])),
                    tpr=tuple(map(float, roc["tpr"])),
                    auc=_number(entry.get("auc")),
                    entire=isinstance(entry.get("slice"), Mapping) and entry["slice"].get("kind") == "entire_dataset",
                )
            )
    summary = result.get("summary") or {}
    for name in PRIVACY_SUMMARY:
        if name in summary:
            metric = _metric(rid, "privacy_summary", name, summary[name], slice_="", threshold=None)
            metrics.append(_with(metric, type=f"membership_inference_{name}"))
    worst = summary.get("worst_slice")
    worst_label = ""
    if isinstance(worst, Mapping):
        worst_label = str(worst.get("label") or privacy_slice_label(worst.get("slice", worst), class_names))
        worst_label += f" ({worst['attack']})" if worst.get("attack") else ""
    elif worst is not None:
        worst_label = str(worst)
    verdict = summary.get("verdict")
    verdict_text = str(verdict.get("text", "")) if isinstance(verdict, Mapping) else str(verdict or "")
    # the curves a card draws: the entire data set's first, then the most exposed slices
    curves.sort(key=lambda c: (not c.entire, -(c.auc or 0.0)))
    return RecordEvidence(
        record=record,
        metrics=tuple(metrics),
        worst_slice=worst_label,
        roc_curves=tuple(curves),
        notes=(verdict_text,) if verdict_text else (),
    )


def _is_float(text: Any) -> bool:
    try:
        float(text)
    except (TypeError, ValueError):
        return False
    return True


def _with(metric: CardMetric, **changes: Any) -> CardMetric:
    return replace(metric, **changes)


READERS = {"fairness": read_fairness, "privacy": read_privacy}

"""What a fairness analysis returns: :class:`FairnessResult`, its JSON contract and its table.

JSON (``to_dict()``; documented in docs/fairness.md): ``overall`` and ``slices`` entries
carry ``metrics`` keyed by :data:`~analysis.fairness.metrics.METRIC_KEYS`, each
``{"value": float | null, "ci": [low, high] | null}`` plus ``"reason"`` when the value or the
interval is missing; slices add ``vs_baseline``. No NaN ever reaches JSON.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from analysis.fairness.metrics import DISPARITY_KEYS, METRIC_KEYS


def _pair(values: Any) -> tuple[float, float] | None:
    return None if values is None else (float(values[0]), float(values[1]))


def _list(values: tuple[float, float] | None) -> list[float] | None:
    return None if values is None else [values[0], values[1]]


@dataclass(frozen=True, slots=True, kw_only=True)
class Estimate:
    """A point estimate and its interval; ``value`` None when undefined, with ``reason``."""

    value: float | None
    ci: tuple[float, float] | None = None
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"value": self.value, "ci": _list(self.ci)}
        if self.reason:
            data["reason"] = self.reason
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Estimate:
        return cls(value=data["value"], ci=_pair(data.get("ci")), reason=data.get("reason"))


@dataclass(frozen=True, slots=True, kw_only=True)
class Comparison:
    """A slice's metric against the baseline's: ``difference`` = slice - baseline, ``ratio`` = slice / baseline."""

    difference: float | None
    ratio: float | None
    ci_difference: tuple[float, float] | None = None
    ci_ratio: tuple[float, float] | None = None
    reason: str | None = None

    @property
    def gap_excludes_zero(self) -> bool:
        """True when the difference's interval lies entirely above or below zero."""
        return self.ci_difference is not None and (self.ci_difference[0] > 0 or self.ci_difference[1] < 0)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "difference": self.difference,
            "ratio": self.ratio,
            "ci_difference": _list(self.ci_difference),
            "ci_ratio": _list(self.ci_ratio),
        }
        if self.reason:
            data["reason"] = self.reason
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Comparison:
        return cls(
            difference=data["difference"],
            ratio=data["ratio"],
            ci_difference=_pair(data.get("ci_difference")),
            ci_ratio=_pair(data.get("ci_ratio")),
            reason=data.get("reason"),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class SliceMetrics:
    """One slice at one threshold (``threshold`` None for predicted labels); the overall entries have no group."""

    group: Mapping[str, str]
    threshold: float | None
    count: int
    metrics: Mapping[str, Estimate]
    vs_baseline: Mapping[str, Comparison] = field(default_factory=dict)
    is_baseline: bool = False

    @property
    def label(self) -> str:
        return ", ".join(f"{k}={v}" for k, v in self.group.items()) or "overall"

    @property
    def over(self) -> tuple[str, ...]:
        return tuple(self.group)

    def to_dict(self, *, with_comparisons: bool = True) -> dict[str, Any]:
        data: dict[str, Any] = {
            "group": dict(self.group),
            "threshold": self.threshold,
            "count": self.count,
            "metrics": {k: e.to_dict() for k, e in self.metrics.items()},
        }
        if with_comparisons:
            data["vs_baseline"] = {k: c.to_dict() for k, c in self.vs_baseline.items()}
            data["is_baseline"] = self.is_baseline
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SliceMetrics:
        return cls(
            group=dict(data.get("group", {})),
            threshold=data["threshold"],
            count=data["count"],
            metrics={k: Estimate.from_dict(v) for k, v in data["metrics"].items()},
            vs_baseline={k: Comparison.from_dict(v) for k, v in data.get("vs_baseline", {}).items()},
            is_baseline=bool(data.get("is_baseline", False)),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Disparity:
    """A summary disparity over the reported slices of one grouping at one threshold."""

    name: str
    over: tuple[str, ...]
    threshold: float | None
    estimate: Estimate

    def to_dict(self) -> dict[str, Any]:
        return {"over": list(self.over), "threshold": self.threshold, **self.estimate.to_dict()}


@dataclass(frozen=True, slots=True, kw_only=True)
class FairnessResult:
    """Disaggregated metrics with intervals, comparisons with a baseline, summary disparities.

    ``overall``: one entry per threshold; ``slices``: one per reported slice and threshold, in
    grouping order (each column, then each intersection), the baseline's slice first in its
    grouping; ``too_small``: slices under the minimum size (``group``, ``count``).
    """

    overall: tuple[SliceMetrics, ...]
    slices: tuple[SliceMetrics, ...]
    disparities: tuple[Disparity, ...]
    too_small: tuple[tuple[Mapping[str, str], int], ...]
    parameters: Mapping[str, Any]
    n_rows: int
    baseline: str
    inputs: Mapping[str, str] = field(default_factory=dict)
    model_id: str | None = None
    revision: str | None = None
    notes: tuple[str, ...] = ()
    record_id: str | None = None

    @property
    def thresholds(self) -> tuple[float | None, ...]:
        return tuple(entry.threshold for entry in self.overall)

    @property
    def groupings(self) -> tuple[tuple[str, ...], ...]:
        seen: dict[tuple[str, ...], None] = {}
        for entry in self.slices:
            seen.setdefault(entry.over, None)
        return tuple(seen)

    def slices_at(self, threshold: float | None, over: tuple[str, ...] | None = None) -> list[SliceMetrics]:
        """Reported slices at one threshold, optionally only one grouping's."""
        return [s for s in self.slices if s.threshold == threshold and (over is None or s.over == tuple(over))]

    def overall_at(self, threshold: float | None) -> SliceMetrics:
        return next(entry for entry in self.overall if entry.threshold == threshold)

    def disparities_at(self, threshold: float | None, over: tuple[str, ...]) -> dict[str, Estimate]:
        return {d.name: d.estimate for d in self.disparities if d.threshold == threshold and d.over == tuple(over)}

    def to_dict(self) -> dict[str, Any]:
        """The JSON contract (see docs/fairness.md); JSON-safe (no NaN)."""
        disparities: dict[str, list[dict[str, Any]]] = {name: [] for name in DISPARITY_KEYS}
        for disparity in self.disparities:
            disparities[disparity.name].append(disparity.to_dict())
        return {
            "overall": [entry.to_dict(with_comparisons=False) for entry in self.overall],
            "slices": [entry.to_dict() for entry in self.slices],
            "disparities": disparities,
            "too_small": [{"group": dict(group), "count": count} for group, count in self.too_small],
            "record_id": self.record_id,
            "parameters": dict(self.parameters),
            "baseline": self.baseline,
            "n_rows": self.n_rows,
            "inputs": dict(self.inputs),
            "model": self.model_id,
            "revision": self.revision,
            "notes": list(self.notes),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FairnessResult:
        disparities = tuple(
            Disparity(
                name=name, over=tuple(entry["over"]), threshold=entry["threshold"], estimate=Estimate.from_dict(entry)
            )
            for name, entries in data["disparities"].items()
            for entry in entries
        )
        return cls(
            overall=tuple(SliceMetrics.from_dict(e) for e in data["overall"]),
            slices=tuple(SliceMetrics.from_dict(e) for e in data["slices"]),
            disparities=disparities,
            too_small=tuple((dict(e["group"]), e["count"]) for e in data["too_small"]),
            parameters=dict(data["parameters"]),
            n_rows=data["n_rows"],
            baseline=data["baseline"],
            inputs=dict(data.get("inputs", {})),
            model_id=data.get("model"),
            revision=data.get("revision"),
            notes=tuple(data.get("notes", ())),
            record_id=data.get("record_id"),
        )

    def to_frame(self) -> pd.DataFrame:
        """One row per (slice, threshold, metric), overall rows first: value, interval, comparison."""
        rows = []
        for entry in (*self.overall, *self.slices):
            for metric in METRIC_KEYS:
                estimate = entry.metrics.get(metric)
                if estimate is None:
                    continue
                comparison = entry.vs_baseline.get(metric)
                rows.append(
                    {
                        "slice": entry.label,
                        "over": "*".join(entry.over) or "overall",
                        "threshold": entry.threshold,
                        "count": entry.count,
                        "metric": metric,
                        "value": estimate.value,
                        "ci_low": estimate.ci[0] if estimate.ci else None,
                        "ci_high": estimate.ci[1] if estimate.ci else None,
                        "difference": comparison.difference if comparison else None,
                        "difference_ci_low": comparison.ci_difference[0]
                        if comparison and comparison.ci_difference
                        else None,
                        "difference_ci_high": comparison.ci_difference[1]
                        if comparison and comparison.ci_difference
                        else None,
                        "ratio": comparison.ratio if comparison else None,
                        "ratio_ci_low": comparison.ci_ratio[0] if comparison and comparison.ci_ratio else None,
                        "ratio_ci_high": comparison.ci_ratio[1] if comparison and comparison.ci_ratio else None,
                        "gap_excludes_zero": bool(comparison.gap_excludes_zero) if comparison else False,
                        "is_baseline": entry.is_baseline,
                        "reason": estimate.reason or (comparison.reason if comparison else None),
                    }
                )
        return pd.DataFrame(rows)

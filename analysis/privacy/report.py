"""Privacy against utility across audits: ``compute_privacy_report(audits) -> PrivacyReport``.

tensorflow-privacy's ``privacy_report`` draws, for a set of audits of variants of one task, the
vulnerability (best AUC, attacker advantage) against test accuracy and against training epoch.
This is that report as data: one :class:`ReportPoint` per audit (its best numbers over the
audit's regular slices and attacks, with the 95% intervals the audit stored), the accuracy it is
set against, the run, epoch and variant it was tagged with (``record.extra``), the theoretical
epsilon of a DP-SGD model when one was registered, and the *frontier*: the points no other point
beats on both axes (higher test accuracy and lower best AUC).

Pure: records and guarantees in, a frozen report out. Choosing the records (by ids, model or
run) is :mod:`analysis.privacy.report_records`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from analysis.errors import AnalysisInputError
from analysis.privacy.audit_records import KIND, audit_result
from analysis.records import AnalysisRecord

# record.extra keys written by the audit callback and the demo variants
RUN, EPOCH, VARIANT, TEST_ACCURACY, DATA = "run", "epoch", "variant", "test_accuracy", "data"
NOT_COMPARABLE = "these audits are not of one task and data set, so their vulnerability cannot be compared: {details}"
NO_ACCURACY = (
    "audits without a test accuracy cannot be placed against accuracy: {ids} (re-run them on labelled "
    "non-members, or give the callback test data)"
)


@dataclass(frozen=True, slots=True, kw_only=True)
class ReportPoint:
    """One audit in the report. Rates are fractions in [0, 1]; intervals ``(low, high)`` or None."""

    record_id: str
    created_at: str
    model_id: str | None
    revision: str | None
    run: str | None
    epoch: int | None
    variant: str | None
    test_accuracy: float
    accuracy_source: str  # "test data" (given to the callback) or "non-members" (the audit's own)
    train_accuracy: float | None
    max_auc: float
    auc_ci: tuple[float, float] | None
    attacker_advantage: float
    tpr_at_1pct: float | None
    tpr_at_1pct_ci: tuple[float, float] | None
    tpr_at_01pct: float | None
    tpr_at_01pct_ci: tuple[float, float] | None
    epsilon_lower_bound: float | None
    epsilon: float | None = None  # DP-SGD's theoretical epsilon, when the model was registered with one
    delta: float | None = None
    on_frontier: bool = False

    @property
    def label(self) -> str:
        """A short name: the variant, else run and epoch, else the model, else the record id."""
        if self.variant:
            return self.variant
        if self.run and self.epoch is not None:
            return f"{self.run} epoch {self.epoch}"
        return self.model_id or self.record_id

    def to_dict(self) -> dict[str, Any]:
        def number(value: float | None) -> float | None:
            return None if value is None or not math.isfinite(value) else float(value)

        def interval(value: tuple[float, float] | None) -> list[float | None] | None:
            return None if value is None else [number(v) for v in value]

        return {
            "record_id": self.record_id,
            "label": self.label,
            "created_at": self.created_at,
            "model": self.model_id,
            "revision": self.revision,
            "run": self.run,
            "epoch": self.epoch,
            "variant": self.variant,
            "test_accuracy": number(self.test_accuracy),
            "accuracy_source": self.accuracy_source,
            "train_accuracy": number(self.train_accuracy),
            "max_auc": number(self.max_auc),
            "auc_ci": interval(self.auc_ci),
            "attacker_advantage": number(self.attacker_advantage),
            "tpr_at_1pct_fpr": number(self.tpr_at_1pct),
            "tpr_at_1pct_fpr_ci": interval(self.tpr_at_1pct_ci),
            "tpr_at_0.1pct_fpr": number(self.tpr_at_01pct),
            "tpr_at_0.1pct_fpr_ci": interval(self.tpr_at_01pct_ci),
            "epsilon_lower_bound": number(self.epsilon_lower_bound),
            "epsilon": number(self.epsilon),
            "delta": number(self.delta),
            "on_frontier": self.on_frontier,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class PrivacyReport:
    """Points in the order given (the caller sorts: by run and epoch, or by time)."""

    points: tuple[ReportPoint, ...]
    task: Mapping[str, Any] = field(default_factory=dict)  # what every audit shares (classes, sizes, data)

    def frontier(self) -> tuple[ReportPoint, ...]:
        """The points no other point beats on both axes, by increasing test accuracy."""
        return tuple(sorted((p for p in self.points if p.on_frontier), key=lambda p: p.test_accuracy))

    def runs(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(p.run for p in self.points if p.run))

    def to_frame(self) -> pd.DataFrame:
        """One row per audit with human column names (rates as fractions)."""
        return pd.DataFrame.from_records(
            [
                {
                    "variant": p.label,
                    "epoch": p.epoch,
                    "test accuracy": p.test_accuracy,
                    "best AUC": p.max_auc,
                    "attacker advantage": p.attacker_advantage,
                    "TPR@1% FPR": p.tpr_at_1pct,
                    "TPR@0.1% FPR": p.tpr_at_01pct,
                    "epsilon (DP-SGD)": p.epsilon,
                    "epsilon lower bound (audit)": p.epsilon_lower_bound,
                    "frontier": "yes" if p.on_frontier else "",
                    "audit": p.record_id,
                }
                for p in self.points
            ]
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "task": dict(self.task),
            "points": [p.to_dict() for p in self.points],
            "frontier": [p.record_id for p in self.frontier()],
        }


def compute_privacy_report(
    records: Sequence[AnalysisRecord], *, guarantees: Mapping[str, Mapping[str, Any]] | None = None
) -> PrivacyReport:
    """The report over stored privacy audits; ``guarantees`` maps a record id to its model's DP guarantee.

    Raises AnalysisInputError when there is no audit, when a record is not a privacy audit, when
    audits differ in task or data (naming what differs), or when one has no test accuracy (naming it).
    """
    if not records:
        raise AnalysisInputError("no audits to compare; give audit ids, a model or a run")
    others = [r.record_id for r in records if r.kind != KIND]
    if others:
        raise AnalysisInputError(f"records {others} are not privacy audits")
    records = list({r.record_id: r for r in records}.values())
    tasks = {r.record_id: task_of(r) for r in records}
    differences = [
        f"{key} is " + ", ".join(f"{value} ({' '.join(ids)})" for value, ids in _group(tasks, key).items())
        for key in ("classes", "members", "non-members", "members data", "non-members data")
        if len(_group(tasks, key)) > 1
    ]
    if differences:
        raise AnalysisInputError(NOT_COMPARABLE.format(details="; ".join(differences)))
    points = [point_of(r, (guarantees or {}).get(r.record_id)) for r in records]
    missing = [r.record_id for r, p in zip(records, points, strict=True) if p is None]
    if missing:
        raise AnalysisInputError(NO_ACCURACY.format(ids=", ".join(missing)))
    marked = mark_frontier([p for p in points if p is not None])
    shared = {key: value for key, value in tasks[records[0].record_id].items() if value is not None}
    return PrivacyReport(points=tuple(marked), task=shared)


def task_of(record: AnalysisRecord) -> dict[str, Any]:
    """What must match between compared audits: class count, side sizes and (when known) the data hashes."""
    result = record.result
    data = record.extra.get(DATA) or {}
    source = record.parameters.get("source", {})
    if not data and source.get("kind") == "model":  # the registry-linked or given files: their content hashes
        data = {"members": record.inputs.get("members"), "nonmembers": record.inputs.get("nonmembers")}
    classes = len(result.get("class_names") or ()) or _class_count(result)
    return {
        "classes": classes or None,
        "members": result.get("n_members"),
        "non-members": result.get("n_nonmembers"),
        "members data": (data.get("members") or "")[:12] or None,
        "non-members data": (data.get("nonmembers") or "")[:12] or None,
    }


def _class_count(result: Mapping[str, Any]) -> int:
    classes = {row["slice"].get("value") for row in result.get("results", ()) if row["slice"].get("kind") == "class"}
    return len(classes)


def _group(tasks: Mapping[str, Mapping[str, Any]], key: str) -> dict[Any, list[str]]:
    groups: dict[Any, list[str]] = {}
    for record_id, task in tasks.items():
        if task[key] is not None:
            groups.setdefault(task[key], []).append(record_id)
    return groups


def point_of(record: AnalysisRecord, guarantee: Mapping[str, Any] | None = None) -> ReportPoint | None:
    """The audit's best numbers over its regular rows; None when it has no test accuracy."""
    result = audit_result(record)
    extra = record.extra
    accuracy, source = extra.get(TEST_ACCURACY), "test data"
    if accuracy is None:
        accuracy, source = result.test_accuracy, "non-members"
    if accuracy is None or not math.isfinite(accuracy):
        return None
    raw = {id(row): data for row, data in zip(result.rows, record.result.get("results", ()), strict=True)}
    rows = result.summary_rows()
    if not rows:
        raise AnalysisInputError(f"audit {record.record_id} has no attack results to compare")
    best_auc = max(rows, key=lambda r: r.auc)

    def best_tpr(fpr: float) -> tuple[float | None, tuple[float, float] | None]:
        present = [r for r in rows if r.tpr_at_fpr.get(fpr) is not None]
        if not present:
            return None, None
        row = max(present, key=lambda r: r.tpr_at_fpr[fpr])
        ci = (raw[id(row)].get("tpr_ci") or {}).get(str(fpr))
        return row.tpr_at_fpr[fpr], None if ci is None else (ci[0], ci[1])

    tpr1, tpr1_ci = best_tpr(0.01)
    tpr01, tpr01_ci = best_tpr(0.001)
    auc_ci = raw[id(best_auc)].get("auc_ci")
    bounds = [r.epsilon_lower_bound for r in rows if r.epsilon_lower_bound is not None]
    epoch = extra.get(EPOCH)
    return ReportPoint(
        record_id=record.record_id,
        created_at=record.created_at,
        model_id=record.model_id,
        revision=record.revision,
        run=extra.get(RUN),
        epoch=None if epoch is None else int(epoch),
        variant=extra.get(VARIANT),
        test_accuracy=float(accuracy),
        accuracy_source=source,
        train_accuracy=result.train_accuracy,
        max_auc=best_auc.auc,
        auc_ci=None if auc_ci is None else (auc_ci[0], auc_ci[1]),
        attacker_advantage=max(r.attacker_advantage for r in rows),
        tpr_at_1pct=tpr1,
        tpr_at_1pct_ci=tpr1_ci,
        tpr_at_01pct=tpr01,
        tpr_at_01pct_ci=tpr01_ci,
        epsilon_lower_bound=max(bounds) if bounds else None,
        epsilon=None if guarantee is None else float(guarantee["epsilon"]),
        delta=None if guarantee is None else float(guarantee["delta"]),
    )


def mark_frontier(points: Sequence[ReportPoint]) -> list[ReportPoint]:
    """Each point with ``on_frontier``: no other point has accuracy >= and best AUC <=, one strictly."""
    from dataclasses import replace

    def beaten(p: ReportPoint) -> bool:
        return any(
            q.test_accuracy >= p.test_accuracy
            and q.max_auc <= p.max_auc
            and (q.test_accuracy > p.test_accuracy or q.max_auc < p.max_auc)
            for q in points
        )

    return [replace(p, on_frontier=not beaten(p)) for p in points]

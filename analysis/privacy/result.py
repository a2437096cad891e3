"""The typed result of a membership audit, its summary and verdict, and its JSON form.

``MembershipAuditResult.to_dict()`` is the ``result`` of the stored record and, with the
record's id and provenance added, the exported JSON documented in ``docs/privacy.md``.
Per-example risk scores are kept on the object (``member_risk``/``nonmember_risk``) but
not in the JSON, which would grow with the data; the most exposed examples are.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from analysis.privacy.attacks import AttackKind
from analysis.privacy.reference_result import ReferenceSummary
from analysis.privacy.reliability import MIN_EXAMPLES_PER_SIDE, REPORTED_FPRS, format_fpr, min_nonmembers_for_fpr
from analysis.privacy.slicing import SkippedSlice, SliceKey, SliceKind

# Verdict levels (heuristics, documented): chance is AUC 0.5 and TPR = FPR (1% at 1% FPR). A
# few hundred non-members put chance TPR at 1% FPR anywhere up to ~3%, hence 5% for "moderate".
HIGH_RISK = {"auc": 0.70, "tpr_at_1pct_fpr": 0.10}
MODERATE_RISK = {"auc": 0.60, "tpr_at_1pct_fpr": 0.05}


class RiskLevel(StrEnum):
    """How exposed the members are, by the thresholds above (the JSON writes the value)."""

    HIGH = "high"
    MODERATE = "moderate"
    LOW = "low"


class Verdict(NamedTuple):
    """The audit's verdict: a level and one sentence saying why (unpacks as ``level, text``)."""

    level: RiskLevel
    text: str


def _number(value: float | None) -> float | None:
    """JSON-safe float: None for missing or non-finite values."""
    return None if value is None or not math.isfinite(value) else float(value)


@dataclass(frozen=True, slots=True, kw_only=True)
class AttackRow:
    """One attack on one slice. ``tpr_at_fpr`` maps each FPR in REPORTED_FPRS to a TPR, or
    None when the slice has too few non-members (see :mod:`analysis.privacy.reliability`);
    ``roc_fpr``/``roc_tpr`` are the compact curve (:func:`analysis.privacy.roc.compact_roc`)."""

    slice: SliceKey
    attack: AttackKind
    n_members: int
    n_nonmembers: int
    auc: float
    attacker_advantage: float
    ppv: float
    tpr_at_fpr: Mapping[float, float | None]
    epsilon_lower_bound: float | None
    notes: tuple[str, ...] = ()
    small: bool = False
    roc_fpr: np.ndarray = field(default_factory=lambda: np.zeros(0), compare=False)
    roc_tpr: np.ndarray = field(default_factory=lambda: np.zeros(0), compare=False)
    # 95% intervals: Clopper-Pearson per reported TPR (None where the TPR is not reported), Hanley-McNeil for AUC
    tpr_ci: Mapping[float, tuple[float, float] | None] = field(default_factory=dict)
    auc_ci: tuple[float, float] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "slice": self.slice.to_dict(),
            "attack": self.attack.value,
            "n_members": self.n_members,
            "n_nonmembers": self.n_nonmembers,
            "auc": _number(self.auc),
            "attacker_advantage": _number(self.attacker_advantage),
            "ppv": _number(self.ppv),
            "tpr_at_fpr": {str(f): _number(t) for f, t in self.tpr_at_fpr.items()},
            "tpr_ci": {str(f): None if ci is None else [_number(v) for v in ci] for f, ci in self.tpr_ci.items()},
            "auc_ci": None if self.auc_ci is None else [_number(v) for v in self.auc_ci],
            "epsilon_lower_bound": _number(self.epsilon_lower_bound),
            "notes": list(self.notes),
            "small_slice": self.small,
            "roc": {
                "fpr": [round(float(v), 7) for v in self.roc_fpr],
                "tpr": [round(float(v), 7) for v in self.roc_tpr],
            },
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AttackRow:
        return cls(
            slice=SliceKey.from_dict(data["slice"]),
            attack=AttackKind(data["attack"]),
            n_members=data["n_members"],
            n_nonmembers=data["n_nonmembers"],
            auc=data["auc"],
            attacker_advantage=data["attacker_advantage"],
            ppv=data["ppv"],
            tpr_at_fpr={float(f): t for f, t in data["tpr_at_fpr"].items()},
            epsilon_lower_bound=data["epsilon_lower_bound"],
            notes=tuple(data["notes"]),
            small=data.get("small_slice", False),
            roc_fpr=np.asarray(data["roc"]["fpr"], dtype=np.float64),
            roc_tpr=np.asarray(data["roc"]["tpr"], dtype=np.float64),
            tpr_ci={float(f): None if ci is None else tuple(ci) for f, ci in data.get("tpr_ci", {}).items()},
            auc_ci=None if data.get("auc_ci") is None else tuple(data["auc_ci"]),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class LossHistogram:
    """Member and non-member losses on shared log-spaced bins: ``edges`` ``[bins + 1]``,
    ``members``/``nonmembers`` ``[bins]`` fractions of each side (each sums to 1)."""

    edges: np.ndarray
    members: np.ndarray
    nonmembers: np.ndarray

    def to_dict(self) -> dict[str, Any]:
        return {key: [float(v) for v in getattr(self, key)] for key in ("edges", "members", "nonmembers")}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LossHistogram:
        return cls(**{key: np.asarray(data[key], dtype=np.float64) for key in ("edges", "members", "nonmembers")})


@dataclass(frozen=True, slots=True, kw_only=True)
class ExposedExample:
    """A member the audit finds most exposed: highest membership risk score, then lowest loss.

    ``index`` is its row in the members data; ``image_png`` its input as PNG, for image models."""

    index: int
    label: int
    predicted: int
    loss: float
    risk_score: float
    image_png: bytes | None = None

    def to_dict(self) -> dict[str, Any]:
        import base64

        return {
            "index": self.index,
            "label": self.label,
            "predicted": self.predicted,
            "loss": _number(self.loss),
            "risk_score": _number(self.risk_score),
            "image_png_base64": None if self.image_png is None else base64.b64encode(self.image_png).decode(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ExposedExample:
        import base64

        image = data.get("image_png_base64")
        return cls(
            index=data["index"],
            label=data["label"],
            predicted=data["predicted"],
            loss=data["loss"],
            risk_score=data["risk_score"],
            image_png=None if image is None else base64.b64decode(image),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class MembershipAuditResult:
    """A finished audit: per-(slice, attack) rows, model quality, exposure, and provenance fields."""

    model_id: str | None
    revision: str | None
    seed: int
    attacks: tuple[AttackKind, ...]
    slices: tuple[str, ...]
    n_members: int
    n_nonmembers: int
    train_accuracy: float | None
    test_accuracy: float | None
    train_loss: float | None
    test_loss: float | None
    rows: tuple[AttackRow, ...]
    skipped: tuple[SkippedSlice, ...]
    loss_histogram: LossHistogram = field(compare=False)
    exposed: tuple[ExposedExample, ...]
    class_names: tuple[str, ...] = ()
    member_risk: np.ndarray | None = field(default=None, compare=False)
    nonmember_risk: np.ndarray | None = field(default=None, compare=False)
    # Reference attacks (LiRA, offset, RMIA): how the references were used, and the members their
    # strongest attack scores highest (risk_score = that attack's score)
    reference: ReferenceSummary | None = None
    reference_exposed: tuple[ExposedExample, ...] = ()
    # What a record stores beside the result: {"inputs": hashes, "parameters": ..., "versions": ...}
    provenance: Mapping[str, Any] = field(default_factory=dict, compare=False)

    # -- summary numbers ---------------------------------------------------------------
    @property
    def loss_gap(self) -> float | None:
        """Mean non-member loss minus mean member loss (the generalization gap)."""
        if self.train_loss is None or self.test_loss is None:
            return None
        return self.test_loss - self.train_loss

    def summary_rows(self) -> tuple[AttackRow, ...]:
        """Rows the summary may cite: every row not flagged small (all rows if every one is)."""
        regular = tuple(row for row in self.rows if not row.small)
        return regular or self.rows

    def max_auc(self) -> float | None:
        rows = self.summary_rows()
        return max(row.auc for row in rows) if rows else None

    def max_tpr_at(self, fpr: float) -> float | None:
        values = [row.tpr_at_fpr.get(fpr) for row in self.summary_rows()]
        present = [v for v in values if v is not None]
        return max(present) if present else None

    def worst_row(self) -> AttackRow | None:
        """The row with the highest AUC among :meth:`summary_rows` (ties: higher TPR at 1% FPR)."""
        rows = self.summary_rows()
        return max(rows, key=lambda r: (r.auc, r.tpr_at_fpr.get(0.01) or 0.0)) if rows else None

    def rows_to_plot(self) -> list[AttackRow]:
        """The rows a report draws ROC curves for: the entire data set (one per attack), and the
        worst row when it is on another slice."""
        rows = [row for row in self.rows if row.slice.kind is SliceKind.ENTIRE]
        worst = self.worst_row()
        return rows + ([worst] if worst is not None and worst.slice.kind is not SliceKind.ENTIRE else [])

    def verdict(self) -> Verdict:
        """The risk level (by :data:`HIGH_RISK` and :data:`MODERATE_RISK`) and a sentence with the numbers."""
        worst, auc, tpr = self.worst_row(), self.max_auc() or 0.5, self.max_tpr_at(0.01)
        if worst is None:
            return Verdict(RiskLevel.LOW, "No slice could be attacked.")
        level = RiskLevel.LOW
        for candidate, limits in ((RiskLevel.HIGH, HIGH_RISK), (RiskLevel.MODERATE, MODERATE_RISK)):
            if auc >= limits["auc"] or (tpr is not None and tpr >= limits["tpr_at_1pct_fpr"]):
                level = candidate
                break
        tpr_text = "not measurable (too few non-members)" if tpr is None else f"{tpr:.1%}"
        sentence = (
            f"{level.value.capitalize()} membership-inference risk: the best attack reaches AUC {auc:.3f} "
            f"({worst.attack.value} on {worst.slice.label(self.class_names)}) and TPR {tpr_text} at 1% FPR "
            f"(chance: AUC 0.5, TPR 1%)."
        )
        return Verdict(level, sentence)

    def summary(self) -> dict[str, Any]:
        worst = self.worst_row()
        level, sentence = self.verdict()
        return {
            "max_auc": _number(self.max_auc()),
            "max_tpr_at_1pct_fpr": _number(self.max_tpr_at(0.01)),
            "max_tpr_at_0.1pct_fpr": _number(self.max_tpr_at(0.001)),
            "worst_slice": None
            if worst is None
            else {
                "slice": worst.slice.to_dict(),
                "label": worst.slice.label(self.class_names),
                "attack": worst.attack.value,
                "auc": _number(worst.auc),
                "tpr_at_fpr": {str(f): _number(t) for f, t in worst.tpr_at_fpr.items()},
            },
            "verdict": {"level": level.value, "text": sentence},
        }

    # -- tables and JSON ---------------------------------------------------------------
    def to_frame(self) -> pd.DataFrame:
        """One row per (slice, attack), worst (highest AUC) first."""
        records = [
            {
                "slice": row.slice.label(self.class_names),
                "attack": row.attack.value,
                "members": row.n_members,
                "non-members": row.n_nonmembers,
                "AUC": row.auc,
                "advantage": row.attacker_advantage,
                "PPV": row.ppv,
                **{f"TPR@{format_fpr(f)} FPR": row.tpr_at_fpr.get(f) for f in REPORTED_FPRS},
                "epsilon lower bound": row.epsilon_lower_bound,
                "notes": "; ".join(row.notes),
            }
            for row in sorted(self.rows, key=lambda r: -r.auc)
        ]
        numeric = [f"TPR@{format_fpr(f)} FPR" for f in REPORTED_FPRS] + ["epsilon lower bound"]
        frame = pd.DataFrame.from_records(records)
        return frame.astype(dict.fromkeys(numeric, float)) if records else frame  # None (not reported) -> NaN

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model_id,
            "revision": self.revision,
            "seed": self.seed,
            "attacks": [a.value for a in self.attacks],
            "slices": list(self.slices),
            "n_members": self.n_members,
            "n_nonmembers": self.n_nonmembers,
            "train_accuracy": _number(self.train_accuracy),
            "test_accuracy": _number(self.test_accuracy),
            "train_loss": _number(self.train_loss),
            "test_loss": _number(self.test_loss),
            "loss_gap": _number(self.loss_gap),
            "class_names": list(self.class_names),
            "results": [row.to_dict() for row in self.rows],
            "skipped": [s.to_dict() for s in self.skipped],
            "summary": self.summary(),
            "reliability": {
                "min_examples_per_side": MIN_EXAMPLES_PER_SIDE,
                "tpr_min_nonmembers": {str(f): min_nonmembers_for_fpr(f) for f in REPORTED_FPRS},
            },
            "loss_histogram": self.loss_histogram.to_dict(),
            "exposed_examples": [e.to_dict() for e in self.exposed],
            "reference": None if self.reference is None else self.reference.to_dict(),
            "reference_exposed_examples": [e.to_dict() for e in self.reference_exposed],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> MembershipAuditResult:
        return cls(
            model_id=data["model"],
            revision=data["revision"],
            seed=data["seed"],
            attacks=tuple(AttackKind(a) for a in data["attacks"]),
            slices=tuple(data["slices"]),
            n_members=data["n_members"],
            n_nonmembers=data["n_nonmembers"],
            train_accuracy=data["train_accuracy"],
            test_accuracy=data["test_accuracy"],
            train_loss=data["train_loss"],
            test_loss=data["test_loss"],
            rows=tuple(AttackRow.from_dict(r) for r in data["results"]),
            skipped=tuple(SkippedSlice.from_dict(s) for s in data["skipped"]),
            loss_histogram=LossHistogram.from_dict(data["loss_histogram"]),
            exposed=tuple(ExposedExample.from_dict(e) for e in data["exposed_examples"]),
            class_names=tuple(data.get("class_names", ())),
            reference=None if data.get("reference") is None else ReferenceSummary.from_dict(data["reference"]),
            reference_exposed=tuple(ExposedExample.from_dict(e) for e in data.get("reference_exposed_examples", ())),
        )

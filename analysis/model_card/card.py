"""The model card's spec and result types: which card to build, and the built card.

Its own module so that the assembler and the document builder both read these types without
importing each other.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from analysis.datasets import DatasetInfo
from analysis.errors import AnalysisInputError
from analysis.model_card.evidence import CardMetric, RecordEvidence
from analysis.model_card.fields import ModelCardFields
from analysis.model_card.performance import PerformanceSection
from analysis.model_card.privacy_guarantee import PrivacyGuaranteeSection
from analysis.models.summary import ModelSummary
from analysis.records import BundleFingerprint


@dataclass(frozen=True, slots=True, kw_only=True)
class ModelCardSpec:
    """Which card to build.

    ``revision``: a hash prefix (None: the current revision). ``record_ids``: the records
    to cite (None: the latest fairness and privacy records; ``()``: none). ``fields``: the
    qualitative fields (None: those stored for the model). ``home``: the Loupe home folder.
    """

    model_id: str
    revision: str | None = None
    record_ids: tuple[str, ...] | None = None
    fields: ModelCardFields | None = None
    home: Path | None = None
    generated_at: str | None = None  # ISO timestamp; None: now (set it for reproducible output)
    graphics: bool = True  # embed the charts as base64 PNG in the JSON card (matplotlib)
    performance: bool = True  # state overall performance on the held-out data (computed and recorded if missing)

    def __post_init__(self) -> None:
        if not isinstance(self.model_id, str) or not self.model_id.strip():
            raise AnalysisInputError("a model card needs a model id, e.g. 'credit-mlp'")
        if self.record_ids is not None:
            object.__setattr__(
                self, "record_ids", tuple(dict.fromkeys(r.strip() for r in self.record_ids if r.strip()))
            )


@dataclass(frozen=True, slots=True, kw_only=True)
class ModelCard:
    """A generated card: its parts (for the renderers) and its validated v0.0.2 ``document``."""

    model_id: str
    name: str
    revision: str
    model_path: str  # the model file's name (cards are shared: never the server path)
    generated_at: str
    summary: ModelSummary
    datasets: tuple[DatasetInfo, ...]
    fields: ModelCardFields
    fields_revision: str | None  # the revision the stored fields were saved for (None: given directly)
    evidence: tuple[RecordEvidence, ...]
    notes: tuple[str, ...] = ()
    privacy_guarantee: PrivacyGuaranteeSection | None = None  # DP-SGD epsilon beside the audit's lower bound
    performance: PerformanceSection | None = None  # overall performance on the held-out data, or why none
    graphics: tuple[tuple[str, str], ...] = ()  # (name, base64 PNG) for the JSON graphics collection
    bundles: tuple[BundleFingerprint, ...] = ()  # signed bundles of the cited records (records export --sign)
    document: dict[str, Any] = field(default_factory=dict)

    def bundles_of(self, record_id: str) -> tuple[BundleFingerprint, ...]:
        return tuple(b for b in self.bundles if b.record_id == record_id)

    @property
    def metrics(self) -> tuple[CardMetric, ...]:
        return tuple(m for e in self.evidence for m in e.metrics)

    @property
    def record_ids(self) -> tuple[str, ...]:
        """The fairness and privacy records the card cites."""
        return tuple(e.record.record_id for e in self.evidence)

    @property
    def cited_record_ids(self) -> tuple[str, ...]:
        """Every record the card's numbers come from: the performance record first, then :attr:`record_ids`."""
        performance = self.performance.record if self.performance is not None else None
        return ((performance.record_id,) if performance is not None else ()) + self.record_ids

    def to_dict(self) -> dict[str, Any]:
        """The v0.0.2 JSON document (a copy)."""
        return json.loads(json.dumps(self.document))

    def to_json(self) -> str:
        return json.dumps(self.document, indent=2, ensure_ascii=False, allow_nan=False) + "\n"

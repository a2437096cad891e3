"""``build_model_card(spec) -> ModelCard``: a card from the registry, records and fields.

A card describes one revision of one registered model. It is assembled from:

- the registry: name, revision hash, format, architecture summary, input/output format;
- the linked datasets: file name, size, content hash, sensitive (``meta_*``) columns;
- stored ``fairness`` and ``privacy`` records of the model (the latest of each kind by
  default, preferring those computed on the card's revision; or the ids the user picks);
- the qualitative fields a person writes (given, or stored for the model; a new revision
  reuses the fields saved for an earlier one).

Every card's JSON document is validated against the shipped v0.0.2 schema (Draft 7)
before the card is returned. Building needs no TensorFlow.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from analysis.datasets import DatasetInfo
from analysis.errors import AnalysisInputError
from analysis.model_card.document import build_document
from analysis.model_card.evidence import READERS, CardMetric, RecordEvidence
from analysis.model_card.field_store import CardFieldStore
from analysis.model_card.fields import ModelCardFields
from analysis.model_card.schema_check import validate_card_document
from analysis.model_files import ModelSummary
from analysis.records import AnalysisRecord, RecordStore
from analysis.registry import ModelRegistry

CARD_KINDS = ("fairness", "privacy")
OTHER_MODEL = (
    "record {record_id!r} belongs to model {other!r}, not to {model_id!r}; a card cites only its own model's records"
)
NO_MODEL = (
    "record {record_id!r} belongs to no registered model, not to {model_id!r}; "
    "a card cites only its own model's records"
)
WRONG_KIND = "record {record_id!r} is a {kind!r} record; a model card cites only 'fairness' or 'privacy' records"
OTHER_REVISION = (
    "Record {record_id} was computed on revision sha256:{theirs}, not on the revision this card describes "
    "(sha256:{ours}); its numbers may not hold for this revision."
)


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
    model_path: str
    generated_at: str
    summary: ModelSummary
    datasets: tuple[DatasetInfo, ...]
    fields: ModelCardFields
    fields_revision: str | None  # the revision the stored fields were saved for (None: given directly)
    evidence: tuple[RecordEvidence, ...]
    notes: tuple[str, ...] = ()
    graphics: tuple[tuple[str, str], ...] = ()  # (name, base64 PNG) for the JSON graphics collection
    document: dict[str, Any] = field(default_factory=dict)

    @property
    def metrics(self) -> tuple[CardMetric, ...]:
        return tuple(m for e in self.evidence for m in e.metrics)

    @property
    def record_ids(self) -> tuple[str, ...]:
        return tuple(e.record.record_id for e in self.evidence)

    def to_dict(self) -> dict[str, Any]:
        """The v0.0.2 JSON document (a copy)."""
        return json.loads(json.dumps(self.document))

    def to_json(self) -> str:
        return json.dumps(self.document, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def select_records(
    model_id: str, revision: str, record_ids: Sequence[str] | None, store: RecordStore
) -> list[AnalysisRecord]:
    """The records a card cites; AnalysisInputError for unknown ids, other models' or other kinds' records."""
    if record_ids is None:
        chosen = []
        for kind in CARD_KINDS:
            candidates = store.list(kind=kind, model_id=model_id)
            same = [r for r in candidates if r.revision == revision]
            if same or candidates:
                chosen.append((same or candidates)[0])
        return chosen
    records = []
    for record_id in record_ids:
        record = store.get(record_id)
        if record.kind not in CARD_KINDS:
            raise AnalysisInputError(WRONG_KIND.format(record_id=record_id, kind=record.kind))
        if record.model_id is None:
            raise AnalysisInputError(NO_MODEL.format(record_id=record_id, model_id=model_id))
        if record.model_id != model_id:
            raise AnalysisInputError(OTHER_MODEL.format(record_id=record_id, other=record.model_id, model_id=model_id))
        records.append(record)
    return records


def build_model_card(spec: ModelCardSpec) -> ModelCard:
    """Assemble, validate against schema v0.0.2, and return the card ``spec`` asks for."""
    registry = ModelRegistry(spec.home)
    model = registry.get(spec.model_id)
    revision = registry.resolve(spec.model_id, spec.revision) if spec.revision else model.current
    fields, fields_revision = spec.fields, None
    if fields is None:
        stored = CardFieldStore(spec.home).load(spec.model_id, revision.revision)
        fields = stored.fields if stored else ModelCardFields()
        fields_revision = stored.revision if stored else None
    fields = fields.validated()
    records = select_records(spec.model_id, revision.revision, spec.record_ids, RecordStore(spec.home))
    notes = tuple(
        OTHER_REVISION.format(record_id=r.record_id, theirs=(r.revision or "unknown")[:12], ours=revision.short)
        for r in records
        if r.revision != revision.revision
    )
    card = ModelCard(
        model_id=spec.model_id,
        name=fields.model_details.name.strip() or spec.model_id,
        revision=revision.revision,
        model_path=revision.path,
        generated_at=spec.generated_at or datetime.now(UTC).isoformat(timespec="seconds"),
        summary=revision.summary,
        datasets=model.datasets,
        fields=fields,
        fields_revision=fields_revision,
        evidence=tuple(READERS[r.kind](r) for r in records),
        notes=notes,
    )
    if spec.graphics and card.evidence:
        from analysis.model_card.graphics_png import render_graphics

        card = replace(card, graphics=render_graphics(card.evidence))
    document = build_document(card)
    validate_card_document(document)
    return replace(card, document=document)

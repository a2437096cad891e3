"""``build_model_card(spec) -> ModelCard``: a card from the registry, records and fields.

A card describes one revision of one registered model. It is assembled from:

- the registry: name, revision hash, format, architecture summary, input/output format;
- the linked datasets: file name, size, content hash, sensitive (``meta_*``) columns;
- stored ``fairness`` and ``privacy`` records of the model (the ids the user pins; by default the
  newest standard record of each kind, preferring the card's revision: see ``candidates.py``);
- the model's overall performance on its held-out data (``performance.py``): a stored
  ``performance`` record of the revision, computed (with TensorFlow) and stored first when none exists;
- the qualitative fields a person writes (given, or stored for the model; a new revision
  reuses the fields saved for an earlier one).

Every card's JSON document is validated against the shipped v0.0.2 schema (Draft 7)
before the card is returned. Building needs no TensorFlow once the performance record exists.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from analysis.errors import AnalysisInputError
from analysis.model_card.candidates import default_records, list_candidates
from analysis.model_card.card import ModelCard, ModelCardSpec
from analysis.model_card.document import build_document
from analysis.model_card.evidence import READERS
from analysis.model_card.field_store import CardFieldStore
from analysis.model_card.fields import ModelCardFields
from analysis.model_card.performance import performance_section
from analysis.model_card.privacy_guarantee import build_privacy_section
from analysis.model_card.schema_check import validate_card_document
from analysis.models.registry import ModelRegistry
from analysis.records import AnalysisRecord, RecordStore

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


def select_records(
    model_id: str, revision: str, record_ids: Sequence[str] | None, store: RecordStore
) -> list[AnalysisRecord]:
    """The records a card cites; AnalysisInputError for unknown ids, other models' or other kinds' records."""
    if record_ids is None:  # the standard records, never an exploratory run (see candidates.DEFAULT_RULE)
        return default_records(list_candidates(model_id, revision, store, CARD_KINDS), CARD_KINDS)
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


def default_record_ids(model_id: str, revision_prefix: str | None = None, home: Path | None = None) -> tuple[str, ...]:
    """The records a card cites when none are named: the latest fairness and privacy records."""
    registry = ModelRegistry(home)
    revision = registry.resolve(model_id, revision_prefix) if revision_prefix else registry.get(model_id).current
    return tuple(r.record_id for r in select_records(model_id, revision.revision, None, RecordStore(home)))


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
    store = RecordStore(spec.home)
    records = select_records(spec.model_id, revision.revision, spec.record_ids, store)
    notes = tuple(
        OTHER_REVISION.format(record_id=r.record_id, theirs=(r.revision or "unknown")[:12], ours=revision.short)
        for r in records
        if r.revision != revision.revision
    )
    card = ModelCard(
        model_id=spec.model_id,
        name=fields.model_details.name.strip() or spec.model_id,
        revision=revision.revision,
        model_path=Path(revision.path).name,  # a card is shared: the file name, never the server path
        generated_at=spec.generated_at or datetime.now(UTC).isoformat(timespec="seconds"),
        summary=revision.summary,
        datasets=model.datasets,
        fields=fields,
        fields_revision=fields_revision,
        evidence=tuple(READERS[r.kind](r) for r in records),
        privacy_guarantee=build_privacy_section(registry.training_privacy(spec.model_id, revision.revision), records),
        notes=notes,
        bundles=store.bundles([r.record_id for r in records]),
        performance=performance_section(model, revision, store) if spec.performance else None,
    )
    if spec.graphics and card.evidence:
        from analysis.model_card.figures import render_graphics

        card = replace(card, graphics=render_graphics(card.evidence))
    document = build_document(card)
    validate_card_document(document)
    return replace(card, document=document)

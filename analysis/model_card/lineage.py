"""Lineage: model file -> revision -> data sets -> records -> signed bundles -> card, each with its hash.

Like ML Metadata's lineage graph, flattened to the one path a card's reader follows: which file
(by name, never a server path) became which revision, which data sets the cited records read,
which records the card cites and the card itself. Every step carries the sha256 that pins it,
so a reader can match each one against a file, ``records show`` or a signed bundle.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any

from analysis.models.registry import ModelRegistry
from analysis.records import AnalysisRecord, BundleFingerprint


@dataclass(frozen=True, slots=True, kw_only=True)
class LineageStep:
    """One node of the path: ``stage`` (model file, revision, data set, record, card), a name, its hash."""

    stage: str
    name: str
    sha256: str | None
    detail: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"stage": self.stage, "name": self.name, "sha256": self.sha256, "detail": self.detail}


def build_lineage(
    records: Sequence[AnalysisRecord],
    *,
    card: tuple[str, bytes] | None = None,
    registry: ModelRegistry | None = None,
    bundles: Sequence[BundleFingerprint] = (),
) -> tuple[LineageStep, ...]:
    """The lineage of ``records`` (their signed ``bundles``, and ``card``: its file name and bytes), in path order."""
    registry = registry or ModelRegistry()
    steps: list[LineageStep] = []
    models = {}
    for record in records:
        if record.model_id and record.model_id not in models:
            try:
                models[record.model_id] = registry.get(record.model_id)
            except ValueError:  # unregistered since: the record still names its hashes
                models[record.model_id] = None
    for record in records:
        model = models.get(record.model_id) if record.model_id else None
        revision = next((r for r in model.revisions if r.revision == record.revision), None) if model else None
        if record.revision:
            file_name = PurePath(revision.path).name if revision else "(no longer registered)"
            steps.append(LineageStep(stage="model file", name=file_name, sha256=record.revision))
            steps.append(
                LineageStep(
                    stage="revision",
                    name=f"{record.model_id} @ {record.revision[:12]}",
                    sha256=record.revision,
                    detail=f"registered {revision.registered_at}" if revision else "",
                )
            )
    for record in records:
        model = models.get(record.model_id) if record.model_id else None
        for name, recorded in record.inputs.items():
            if name == "model":
                continue
            digest, _, split = str(recorded).partition("[")
            steps.append(
                LineageStep(
                    stage="data set",
                    name=_data_file_name(record, name, digest, model),
                    sha256=digest,
                    detail=f"{name}" + (f", {split.rstrip(']')}" if split else ""),
                )
            )
    for record in records:
        steps.append(
            LineageStep(
                stage="record",
                name=record.record_id,
                sha256=None if record.is_legacy else record.digest(),
                detail=f"{record.kind}, {record.created_at}" + (", legacy: random id" if record.is_legacy else ""),
            )
        )
    for bundle in bundles:
        steps.append(
            LineageStep(
                stage="signed bundle",
                name=bundle.file_name,
                sha256=bundle.sha256,
                detail=f"of {bundle.record_id}; Ed25519 key {bundle.public_key[:16]}…",
            )
        )
    if card is not None:
        name, content = card
        steps.append(LineageStep(stage="card", name=name, sha256=hashlib.sha256(content).hexdigest()))
    return tuple(dict.fromkeys(steps))


def _data_file_name(record: AnalysisRecord, name: str, digest: str, model) -> str:
    """The data file's name: from the registry's linked sets, or where the record read it."""
    for dataset in model.datasets if model else ():
        if dataset.sha256 == digest:
            return PurePath(dataset.path).name
    locations = record.extra.get("locations") or {}
    source = record.parameters.get("source") or {}
    path = locations.get(name) or (source.get(name) if isinstance(source, dict) else None)
    return PurePath(path).name if path else name

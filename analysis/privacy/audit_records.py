"""Stored audits: save a finished result as a record, list and reopen them, export JSON.

A record (``kind="privacy"``, in :class:`analysis.records.RecordStore`) is written in one
INSERT after the audit has finished, so a failed or interrupted audit leaves nothing.
The exported JSON is the record flattened: ``record_id``, ``created_at``, the result's
fields (``model``, ``revision``, ``seed``, ``results``, ``summary``, ...) and the
provenance (``inputs`` content hashes, ``parameters``, ``versions``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from analysis.errors import AnalysisInputError
from analysis.privacy.result import MembershipAuditResult
from analysis.records import AnalysisRecord, RecordStore

KIND = "privacy"


def save_audit(
    result: MembershipAuditResult, store: RecordStore | None = None, *, extra: Mapping[str, Any] | None = None
) -> AnalysisRecord:
    """Store ``result`` with its provenance; returns the record (its id is the audit's stable id).

    ``extra`` tags it, e.g. ``{"run": ..., "epoch": ...}`` from the audit callback (read by
    :mod:`analysis.privacy.report`)."""
    store = store or RecordStore()
    provenance = result.provenance
    return store.save(
        kind=KIND,
        model_id=result.model_id,
        revision=result.revision,
        inputs=provenance.get("inputs", {}),
        parameters=provenance.get("parameters", {}),
        versions=provenance.get("versions", {}),
        result=result.to_dict(),
        extra=extra,
    )


def load_audit(record_id: str, store: RecordStore | None = None) -> tuple[AnalysisRecord, MembershipAuditResult]:
    """A stored audit and its result; AnalysisInputError for unknown ids and non-privacy records."""
    record = (store or RecordStore()).get(record_id.strip())
    if record.kind != KIND:
        raise AnalysisInputError(f"record {record_id!r} is a {record.kind} record, not a privacy audit")
    return record, audit_result(record)


def audit_result(record: AnalysisRecord) -> MembershipAuditResult:
    """The result stored in a privacy record, with the record's provenance."""
    provenance = {
        "inputs": dict(record.inputs),
        "parameters": dict(record.parameters),
        "versions": dict(record.versions),
    }
    return replace(MembershipAuditResult.from_dict(record.result), provenance=provenance)


def list_audits(model_id: str | None = None, store: RecordStore | None = None) -> list[AnalysisRecord]:
    """Stored audits, newest first, optionally of one model."""
    return (store or RecordStore()).list(kind=KIND, model_id=model_id)


def audit_json(record: AnalysisRecord) -> dict[str, Any]:
    """The exported JSON of a stored audit (documented in docs/privacy.md)."""
    return {
        "record_id": record.record_id,
        "created_at": record.created_at,
        **record.result,
        "inputs": dict(record.inputs),
        "parameters": dict(record.parameters),
        "versions": dict(record.versions),
    }

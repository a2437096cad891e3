"""Stored fairness analyses: save a finished result as a record, or find the one already stored.

Storing is a step of its own, after :func:`~analysis.fairness.engine.compute_fairness_slices`
(which writes nothing), as for privacy audits (:func:`analysis.privacy.save_audit`). A record
(``kind="fairness"``, in :class:`analysis.records.RecordStore`) holds the inputs' content
hashes, the model revision, the parameters and seed, the library versions and the full result
(``result.to_dict()``, with ``record_id`` null: the id is the record's own).

The command line stores every run; the /fairness page stores each distinct analysis once
(:func:`find_fairness_record` first), so reruns, restarts and cache evictions add nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from analysis.fairness.result import FairnessResult
from analysis.records import RecordStore, library_versions

KIND = "fairness"
PACKAGES = ("numpy", "pandas", "scikit-learn", "fairlearn")
MODEL_PACKAGES = ("tensorflow-cpu", "keras")  # also recorded when the scores came from a model


def save_fairness_record(
    result: FairnessResult, store: RecordStore | None = None, *, locations: Mapping[str, str] | None = None
) -> str:
    """Store ``result`` with its provenance as a new record; returns the record id.

    ``locations`` (input name -> path) say where the inputs were read, so ``records verify``
    can find them again or say where they were last seen.
    """
    packages = PACKAGES + (MODEL_PACKAGES if result.model_id else ())
    record = (store or RecordStore()).save(
        kind=KIND,
        model_id=result.model_id,
        revision=result.revision,
        inputs=result.inputs,
        parameters=result.parameters,
        versions=library_versions(*packages),
        result=replace(result, record_id=None).to_dict(),
        extra={"locations": dict(locations)} if locations else None,
    )
    return record.record_id


def find_fairness_record(result: FairnessResult, store: RecordStore | None = None) -> str | None:
    """The newest stored record of the same analysis (model, revision, inputs, parameters), or None.

    The analysis is deterministic given these (the bootstrap seed is a parameter), so a match
    holds the same numbers.
    """
    for record in (store or RecordStore()).list(kind=KIND, model_id=result.model_id):
        if (
            record.model_id == result.model_id
            and record.revision == result.revision
            and dict(record.inputs) == dict(result.inputs)
            and dict(record.parameters) == dict(result.parameters)
        ):
            return record.record_id
    return None


def store_fairness_record_once(result: FairnessResult, store: RecordStore | None = None) -> str:
    """The id of the stored record of this analysis, storing it first if there is none."""
    store = store or RecordStore()
    return find_fairness_record(result, store) or save_fairness_record(result, store)

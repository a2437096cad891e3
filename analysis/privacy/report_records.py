"""Which stored audits a privacy report compares: by ids, by model (revisions), or by run.

``load_report_audits(...) -> (records, guarantees)``: the records in report order (run and epoch,
else oldest first) and, per record, the DP-SGD guarantee registered with its model revision.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from analysis.errors import AnalysisInputError, describe_choices
from analysis.privacy.audit_records import KIND, load_audit
from analysis.privacy.report import EPOCH, RUN
from analysis.records import AnalysisRecord, RecordStore


def parse_ids(text: str) -> list[str]:
    """``"privacy-ab,privacy-cd"`` -> ids, in order, duplicates dropped."""
    ids = list(dict.fromkeys(part.strip() for part in text.split(",") if part.strip()))
    if not ids:
        raise AnalysisInputError(f"no audit ids in {text!r}; give them comma-separated, e.g. privacy-1a2b,privacy-3c4d")
    return ids


def load_report_audits(
    *,
    audits: Sequence[str] = (),
    model_id: str | None = None,
    all_revisions: bool = False,
    run: str | None = None,
    home: Path | None = None,
) -> tuple[list[AnalysisRecord], dict[str, dict[str, Any]]]:
    """The audits to compare (exactly one of ``audits``, ``model_id``, ``run``) and their DP guarantees."""
    chosen = [name for name, value in (("audits", audits), ("model", model_id), ("run", run)) if value]
    if len(chosen) != 1:
        raise AnalysisInputError("give exactly one of --audits ID,ID,..., --model ID or --run NAME")
    store = RecordStore(home)
    if audits:
        records = [load_audit(record_id, store)[0] for record_id in audits]
    elif model_id:
        from analysis.models.registry import ModelRegistry

        current = ModelRegistry(home).get(model_id).current.revision  # unknown ids: the registry names known ones
        records = [r for r in store.list(kind=KIND, model_id=model_id) if all_revisions or r.revision == current]
        if not records:
            raise AnalysisInputError(
                f"model {model_id!r} has no stored audits"
                + ("" if all_revisions else " of its current revision (add --all-revisions for older ones)")
            )
        records.reverse()  # oldest first
    else:
        everything = store.list(kind=KIND)
        records = [r for r in everything if r.extra.get(RUN) == run]
        if not records:
            runs = sorted({str(r.extra[RUN]) for r in everything if r.extra.get(RUN)})
            raise AnalysisInputError(f"no audits tagged with run {run!r}; runs are {describe_choices(runs)}")
        records.sort(key=lambda r: (r.extra.get(EPOCH) is None, r.extra.get(EPOCH) or 0, r.created_at))
    return records, guarantees_for(records, home)


def guarantees_for(records: Sequence[AnalysisRecord], home: Path | None = None) -> dict[str, dict[str, Any]]:
    """Record id -> the DP-SGD guarantee registered with the audited model revision (only those that have one)."""
    from analysis.models.registry import ModelRegistry

    registry = ModelRegistry(home)
    found = {}
    for record in records:
        if record.model_id and record.revision:
            guarantee = registry.training_privacy(record.model_id, record.revision)
            if guarantee is not None:
                found[record.record_id] = guarantee
    return found

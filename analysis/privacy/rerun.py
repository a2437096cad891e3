"""Re-running a stored privacy audit from its own parameters: what ``records verify`` calls.

The command line finds the files the record's hashes name and passes them here; the audit
runs again with the recorded attacks, slices, seed and number of exposed examples, and the
new record-shaped payload is compared with the stored one under :data:`TOLERANCES`.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from analysis.errors import AnalysisInputError
from analysis.privacy.spec import MembershipAuditSpec, ModelSource, OutputFilesSource, SlicingOptions
from analysis.records import AnalysisRecord, FieldTolerance

_OUTPUTS = "model outputs are float32 from TensorFlow, whose kernels may round differently on another CPU"
TOLERANCES = (
    FieldTolerance(
        pattern="result.results.*",
        absolute=1e-6,
        why="attack numbers (AUC, advantage, PPV, TPR at FPR, ROC points): "
        + _OUTPUTS
        + ", and the trained attacks use the machine's BLAS",
    ),
    FieldTolerance(pattern="result.summary.*", absolute=1e-6, why="the summary of the attack numbers"),
    FieldTolerance(pattern="result.*loss*", relative=1e-5, absolute=1e-9, why="losses: " + _OUTPUTS),
    FieldTolerance(pattern="result.exposed_examples.*.risk_score", absolute=1e-6, why="risk scores rank losses"),
)


def rerun_privacy_record(record: AnalysisRecord, files: Mapping[str, Path]) -> dict[str, Any]:
    """Run the audit ``record`` describes again on ``files`` (input name -> path); a record-shaped payload."""
    from analysis.privacy.engine import run_membership_audit

    parameters = record.parameters
    source = parameters.get("source", {})
    kind = source.get("kind")
    if kind == "output_files":
        audit_source = OutputFilesSource(members=files["members"], nonmembers=files["nonmembers"])
    elif kind == "model":
        linked = source.get("members") is None
        audit_source = ModelSource(
            model_id=str(record.model_id),
            revision=record.revision,
            members=None if linked else files["members"],
            nonmembers=None if linked else files["nonmembers"],
        )
    else:
        raise AnalysisInputError(
            f"record {record.record_id!r} audited outputs held in memory (source {kind!r}), not files; "
            "there is nothing to re-run it on"
        )
    spec = MembershipAuditSpec(
        source=audit_source,
        attacks=tuple(parameters["attacks"]),
        slicing=SlicingOptions.parse(",".join(parameters.get("slices", ())) or "none"),
        seed=int(parameters["seed"]),
        n_exposed=int(parameters.get("n_exposed", 12)),
    )
    result = run_membership_audit(spec)
    return {
        "model": result.model_id,
        "revision": result.revision,
        "inputs": dict(result.provenance["inputs"]),
        "versions": dict(result.provenance["versions"]),
        "result": result.to_dict(),
    }

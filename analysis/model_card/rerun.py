"""Re-running a stored performance record (a card's overall performance): what ``records verify`` calls.

The command line finds the held-out file the record's hash names and passes it here; the model's
recorded revision is loaded through the registry (a scratch one when the model file moved) and
measured again on the recorded split.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from analysis.errors import AnalysisInputError
from analysis.model_card.performance import measure_performance_on
from analysis.records import AnalysisRecord, FieldTolerance, library_versions

TOLERANCES = (
    FieldTolerance(
        pattern="result.auc",
        absolute=1e-6,
        why="model outputs are float32 from TensorFlow, whose kernels may round differently on another CPU",
    ),
)


def rerun_performance_record(record: AnalysisRecord, files: Mapping[str, Path]) -> dict[str, Any]:
    """Measure ``record``'s model revision again on its held-out file; a record-shaped payload."""
    from analysis.models.registry import ModelRegistry

    registry = ModelRegistry()
    if record.model_id not in registry.ids():
        raise AnalysisInputError(f"model {record.model_id!r} of record {record.record_id!r} is not registered here")
    model = registry.get(record.model_id)
    revision = next((r for r in model.revisions if r.revision == record.revision), None)
    if revision is None:
        raise AnalysisInputError(
            f"revision {record.revision[:12]} of model {record.model_id!r} (record {record.record_id!r}) is not "
            "registered here; give its file with --file HASH=PATH"
        )
    result = measure_performance_on(revision, files["held_out"], record.parameters.get("split"))
    return {
        "model": record.model_id,
        "revision": revision.revision,
        "inputs": dict(record.inputs),
        "versions": library_versions("numpy", "scipy", "tensorflow-cpu", "keras"),
        # the data set's description is what the card says, not a measurement
        "result": {**result, "held_out": record.result.get("held_out")},
    }

"""Re-running a stored fairness analysis from its own parameters: what ``records verify`` calls.

The command line finds the file the record's hash names (the predictions table, or the model's
data set) and passes it here; the analysis runs again with the recorded columns, thresholds,
baseline, bootstrap size and seed, and the new payload is compared with the stored one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from analysis.fairness.records import MODEL_PACKAGES, PACKAGES
from analysis.fairness.spec import DEFAULT_THRESHOLDS, FairnessSpec
from analysis.records import AnalysisRecord, FieldTolerance, library_versions

CACHE_NOTE = "model scores were read from the result cache"  # says where scores came from, not what they are
TOLERANCES = (
    FieldTolerance(
        pattern="result.*",
        relative=1e-9,
        why="metrics, intervals and disparities are float64 sums and quantiles whose order NumPy's SIMD "
        "kernels may change between builds; counts and thresholds stay exact",
    ),
)


def rerun_fairness_record(record: AnalysisRecord, files: Mapping[str, Path]) -> dict[str, Any]:
    """Run the analysis ``record`` describes again on ``files`` (input name -> path); a record-shaped payload."""
    from analysis.fairness.engine import compute_fairness_slices

    p = record.parameters
    spec = FairnessSpec(
        predictions=files.get("predictions"),
        model_id=p.get("model"),
        data_path=files.get("data"),
        split=p.get("split"),
        label=p.get("label", "label"),
        score=p.get("score"),
        prediction=p.get("prediction"),
        sensitive=tuple(p["sensitive"]),
        intersections=tuple(tuple(combo) for combo in p.get("intersections", ())),
        thresholds=tuple(p.get("thresholds") or DEFAULT_THRESHOLDS),
        baseline=p.get("baseline", "overall"),
        n_bootstrap=int(p["n_bootstrap"]),
        confidence=float(p["confidence"]),
        seed=int(p["seed"]),
        min_slice=int(p["min_slice"]),
        missing=p.get("missing", "refuse"),
    )
    result = compute_fairness_slices(spec)
    return {
        "model": result.model_id,
        "revision": result.revision,
        "inputs": dict(result.inputs),
        "versions": library_versions(*PACKAGES, *(MODEL_PACKAGES if result.model_id else ())),
        "result": comparable(replace(result, record_id=None).to_dict()),
    }


def comparable(result: Mapping[str, Any]) -> dict[str, Any]:
    """A stored or re-run result without the note on where the scores were read from."""
    return {**result, "notes": [note for note in result.get("notes", ()) if note != CACHE_NOTE]}

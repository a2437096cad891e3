"""Fairness slices: disaggregated metrics with bootstrap confidence intervals.

from analysis.fairness import FairnessSpec, compute_fairness_slices
result = compute_fairness_slices(FairnessSpec(predictions="preds.csv", label="y", score="p",
                                              sensitive=("sex", "age_band"), thresholds=(0.3, 0.5, 0.7)))
result.to_dict()   # the JSON contract (docs/fairness.md)
result.to_frame()  # one row per slice, threshold and metric
record_id = save_fairness_record(result)  # storing is a separate step: a "fairness" record
"""

from typing import Any

from analysis.fairness.metrics import DISPARITY_KEYS, METRIC_KEYS
from analysis.fairness.records import find_fairness_record, save_fairness_record, store_fairness_record_once
from analysis.fairness.result import Comparison, Disparity, Estimate, FairnessResult, SliceMetrics
from analysis.fairness.spec import Baseline, FairnessSpec, MissingPolicy

__all__ = [
    "DISPARITY_KEYS",
    "METRIC_KEYS",
    "Baseline",
    "Comparison",
    "Disparity",
    "Estimate",
    "FairnessResult",
    "FairnessSpec",
    "MissingPolicy",
    "SliceMetrics",
    "compute_fairness_slices",
    "find_fairness_record",
    "save_fairness_record",
    "store_fairness_record_once",
]


def __getattr__(name: str) -> Any:
    # The engine imports fairlearn and scikit-learn (about 1 s); load it only when used,
    # so `python -m analysis <any command>` and the pages start fast.
    if name == "compute_fairness_slices":
        from analysis.fairness.engine import compute_fairness_slices

        return compute_fairness_slices
    raise AttributeError(name)

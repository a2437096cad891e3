"""Attributions per fairness slice: which features drive the difference between two groups.

:func:`mean_attributions_by_slice` averages a tabular :class:`AttributionResult` per value of a
metadata column (``meta_<column>`` in the data set). :func:`compare_slices` explains a seeded
sample of two slices (a group, and another group or everyone else) and returns the difference
of their mean attributions per feature. Because every attribution is relative to the same
background, ``mean_a - mean_b`` summed over features equals the difference of the two slices'
mean outputs (up to the additivity error): the table splits the gap in model output between
the groups into per-feature parts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from analysis.datasets import META_PREFIX, DatasetRole
from analysis.errors import AnalysisInputError, describe_choices
from analysis.explain.cached import compute_attributions
from analysis.explain.engine import Cancel, resolve_explanation
from analysis.explain.rows import open_npz_rows
from analysis.explain.spec import (
    AttributionResult,
    ExplanationSpec,
    Target,
)
from analysis.models.registry import ModelRegistry
from analysis.progress import Progress

EVERYONE_ELSE = "(everyone else)"
DEFAULT_PER_GROUP = 200


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class SliceAttributions:
    """Mean attributions per slice of one column: ``mean[group]`` and ``mean_abs[group]`` are ``[features]``."""

    column: str
    feature_names: tuple[str, ...]
    counts: dict[str, int]
    mean: dict[str, np.ndarray] = field(repr=False)
    mean_abs: dict[str, np.ndarray] = field(repr=False)
    mean_output: dict[str, float] = field(repr=False)

    def to_frame(self) -> Any:
        """One row per (group, feature): count, mean attribution, mean |attribution|."""
        import pandas as pd

        rows = [
            {
                "group": g,
                "count": self.counts[g],
                "feature": f,
                "mean_attribution": float(self.mean[g][j]),
                "mean_abs_attribution": float(self.mean_abs[g][j]),
            }
            for g in self.counts
            for j, f in enumerate(self.feature_names)
        ]
        return pd.DataFrame(rows)


def mean_attributions_by_slice(result: AttributionResult, column: str, groups: np.ndarray) -> SliceAttributions:
    """Per-group means of a tabular result; ``groups`` ``[n]`` labels each explained example (result order)."""
    if result.is_image:
        raise AnalysisInputError("slice attributions need a tabular model; this result explains images")
    labels = np.asarray(groups).astype(str)
    if labels.shape != (len(result.examples),):
        raise AnalysisInputError(
            f"column {column!r} has {labels.shape[0] if labels.ndim else 0} labels for {len(result.examples)} examples"
        )
    values = result.values.astype(np.float64)
    counts, mean, mean_abs, mean_output = {}, {}, {}, {}
    for group in sorted(set(labels.tolist())):
        rows = labels == group
        counts[group] = int(rows.sum())
        mean[group] = values[rows].mean(axis=0)
        mean_abs[group] = np.abs(values[rows]).mean(axis=0)
        mean_output[group] = float(result.outputs[rows].mean())
    return SliceAttributions(
        column=column,
        feature_names=result.feature_names,
        counts=counts,
        mean=mean,
        mean_abs=mean_abs,
        mean_output=mean_output,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class SliceComparisonSpec:
    """Compare ``group_a`` of metadata ``column`` with ``group_b`` (None: everyone else).

    Up to ``per_group`` examples of each side are drawn without replacement, seeded by ``seed``;
    the rest are the :class:`ExplanationSpec` settings (one background shared by both sides).
    """

    model_id: str
    column: str
    group_a: str
    group_b: str | None = None
    per_group: int = DEFAULT_PER_GROUP
    target: Target | str | int | None = None
    revision: str | None = None
    data_path: str | None = None
    background: int | None = None
    seed: int = 0

    def __post_init__(self) -> None:
        if isinstance(self.per_group, bool) or not isinstance(self.per_group, int) or not 1 <= self.per_group <= 5000:
            raise AnalysisInputError(f"per_group {self.per_group!r} must be an integer from 1 to 5000")
        object.__setattr__(self, "group_a", str(self.group_a))
        if self.group_b is not None:
            object.__setattr__(self, "group_b", str(self.group_b))
            if self.group_b == self.group_a:
                raise AnalysisInputError(f"compare two different groups; both are {self.group_a!r}")


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class SliceComparison:
    """Mean attribution per feature in slice A and slice B and their difference ``A - B``, ``[features]``."""

    column: str
    group_a: str
    group_b: str  # EVERYONE_ELSE when the spec compared with the rest
    count_a: int
    count_b: int
    feature_names: tuple[str, ...]
    mean_a: np.ndarray = field(repr=False)
    mean_b: np.ndarray = field(repr=False)
    mean_output_a: float = 0.0
    mean_output_b: float = 0.0
    attributions: AttributionResult | None = field(default=None, repr=False)

    @property
    def difference(self) -> np.ndarray:
        return self.mean_a - self.mean_b

    def ranked_features(self) -> list[str]:
        """Features by |difference|, largest first: what drives the gap."""
        order = np.argsort(-np.abs(self.difference), kind="stable")
        return [self.feature_names[i] for i in order]

    def to_frame(self) -> Any:
        import pandas as pd

        frame = pd.DataFrame(
            {
                "feature": list(self.feature_names),
                f"mean_{self.group_a}": self.mean_a,
                f"mean_{self.group_b}": self.mean_b,
                "difference": self.difference,
            }
        )
        return frame.reindex(frame["difference"].abs().sort_values(ascending=False).index).reset_index(drop=True)

    def to_dict(self) -> dict[str, Any]:
        return {
            "column": self.column,
            "group_a": self.group_a,
            "group_b": self.group_b,
            "count_a": self.count_a,
            "count_b": self.count_b,
            "mean_output_a": self.mean_output_a,
            "mean_output_b": self.mean_output_b,
            "features": [
                {"feature": f, "mean_a": float(a), "mean_b": float(b), "difference": float(a - b)}
                for f, a, b in zip(self.feature_names, self.mean_a.tolist(), self.mean_b.tolist(), strict=True)
            ],
        }


def slice_labels(
    model_id: str, column: str, *, data_path: str | None = None, registry: ModelRegistry | None = None
) -> np.ndarray:
    """The ``meta_<column>`` labels (strings ``[n]``) of the model's data set."""
    registry = registry or ModelRegistry()
    if data_path is None:
        linked = registry.get(model_id).dataset(DatasetRole.DATA)
        if linked is None:
            raise AnalysisInputError(f"model {model_id!r} has no linked data set to slice")
        data_path = linked.path
    arrays = open_npz_rows(Path(data_path))
    columns = sorted(k[len(META_PREFIX) :] for k in arrays if k.startswith(META_PREFIX))
    if META_PREFIX + column not in arrays:
        raise AnalysisInputError(
            f"column {column!r} is not in the data set {str(data_path)!r}; its columns are {describe_choices(columns)}"
        )
    return arrays[META_PREFIX + column].astype(str)


def comparison_explanation(
    spec: SliceComparisonSpec, *, registry: ModelRegistry | None = None
) -> tuple[ExplanationSpec, np.ndarray]:
    """The explanation :func:`compare_slices` runs (a seeded sample of both slices) and the rows of slice A."""
    labels = slice_labels(spec.model_id, spec.column, data_path=spec.data_path, registry=registry)
    present = sorted(set(labels.tolist()))
    for group in (spec.group_a, spec.group_b):
        if group is not None and group not in present:
            raise AnalysisInputError(
                f"group {group!r} is not a value of column {spec.column!r}; its values are {describe_choices(present)}"
            )
    in_a = labels == spec.group_a
    in_b = ~in_a if spec.group_b is None else labels == spec.group_b
    if not in_b.any():
        raise AnalysisInputError(f"column {spec.column!r} has no rows outside group {spec.group_a!r}")
    rng = np.random.default_rng(spec.seed)

    def sample(mask: np.ndarray) -> np.ndarray:
        rows = np.flatnonzero(mask)
        return np.sort(rng.choice(rows, size=min(spec.per_group, len(rows)), replace=False))

    rows_a, rows_b = sample(in_a), sample(in_b)
    explanation = ExplanationSpec(
        model_id=spec.model_id,
        examples=tuple(np.concatenate([rows_a, rows_b]).tolist()),
        target=spec.target,
        revision=spec.revision,
        data_path=spec.data_path,
        background=spec.background,
        seed=spec.seed,
    )
    if resolve_explanation(explanation, registry).is_image:
        raise AnalysisInputError(f"slice attributions need a tabular model; {spec.model_id!r} takes images")
    return explanation, rows_a


def comparison_from_attributions(
    spec: SliceComparisonSpec, result: AttributionResult, rows_a: np.ndarray
) -> SliceComparison:
    """Split an explanation of both slices (``rows_a`` are slice A's rows) into the two slices' means."""
    side = np.where(np.isin(result.examples, rows_a), "a", "b")
    by_side = mean_attributions_by_slice(result, spec.column, side)
    return SliceComparison(
        column=spec.column,
        group_a=spec.group_a,
        group_b=spec.group_b or EVERYONE_ELSE,
        count_a=by_side.counts["a"],
        count_b=by_side.counts["b"],
        feature_names=result.feature_names,
        mean_a=by_side.mean["a"],
        mean_b=by_side.mean["b"],
        mean_output_a=by_side.mean_output["a"],
        mean_output_b=by_side.mean_output["b"],
        attributions=result,
    )


def compare_slices(
    spec: SliceComparisonSpec,
    *,
    progress: Progress | None = None,
    cancel: Cancel = None,
    model: Any = None,
    registry: ModelRegistry | None = None,
) -> SliceComparison:
    """Explain a seeded sample of both slices (one cached explanation) and compare their mean attributions."""
    explanation, rows_a = comparison_explanation(spec, registry=registry)
    result = compute_attributions(explanation, progress=progress, cancel=cancel, model=model, registry=registry)
    return comparison_from_attributions(spec, result, rows_a)

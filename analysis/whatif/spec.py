"""What a What-If view asks for (:class:`WhatIfSpec`) and what comes back (:class:`WhatIfResult`).

A view is one example of a tabular model's linked data set, optionally with edited feature
values (the URL form ``income_k:42,debt_ratio:0.3``), plus: the distance for the nearest
counterfactual (L1 or L2 over standardized features), a group column and the other group to
compare with, and the feature whose partial dependence is drawn.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import numpy as np

from analysis.errors import AnalysisInputError, describe_choices

ROW_LIMIT = 2**31 - 1
DEFAULT_GRID = 20  # partial-dependence grid points
DEFAULT_ICE_ROWS = 100  # rows whose ICE curves are drawn (their mean is the partial dependence)
MAX_EDITS = 1_000


class Distance(StrEnum):
    """Distance between standardized rows (each feature minus its mean, over its standard deviation)."""

    L1 = "l1"
    L2 = "l2"


def parse_edits(text: str | None) -> dict[str, str]:
    """``"income_k:42,debt_ratio:0.3"`` -> ``{"income_k": "42", "debt_ratio": "0.3"}`` (values checked later)."""
    edits: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in (text or "").split(","))):
        name, sep, value = part.partition(":")
        if not sep or not name.strip() or not value.strip():
            raise AnalysisInputError(
                f"edit {part!r} must be FEATURE:VALUE, e.g. income_k:42 (several separated by commas)"
            )
        if name.strip() in edits:
            raise AnalysisInputError(f"feature {name.strip()!r} is edited twice")
        edits[name.strip()] = value.strip()
    return edits


def format_edits(edits: Mapping[str, float]) -> str:
    """The URL form of ``edits``: ``income_k:42,debt_ratio:0.3`` (``repr``-exact floats, ``g`` form)."""
    return ",".join(f"{name}:{float(value):.10g}" for name, value in edits.items())


def edit_value(feature: str, text: object) -> float:
    """A finite number for ``feature``; AnalysisInputError naming the feature and the value otherwise."""
    if isinstance(text, bool):
        raise AnalysisInputError(f"value {text!r} for feature {feature!r} must be a number, e.g. 42 or 0.3")
    try:
        value = float(text)  # type: ignore[arg-type]
    except (TypeError, ValueError) as error:
        raise AnalysisInputError(f"value {text!r} for feature {feature!r} must be a number, e.g. 42 or 0.3") from error
    if not math.isfinite(value) or abs(value) > float(np.finfo(np.float32).max):
        raise AnalysisInputError(
            f"value {text!r} for feature {feature!r} is not a finite float32 number; the model cannot take it"
        )
    return value


@dataclass(frozen=True, slots=True, kw_only=True)
class WhatIfSpec:
    """Example ``example`` of model ``model_id``'s data, with ``edits`` (feature -> value) applied.

    ``distance``: L1 or L2 for the nearest counterfactual. ``group_column``: a metadata column
    (``meta_<column>`` in the data) or a model input; ``other_group`` its value to compare with
    (None: the first value different from the example's). ``pd_feature``: the feature of the
    partial-dependence and ICE plot (None: the first edited feature, else the first feature).
    ``ice_rows`` rows (seeded by ``seed``) give the ICE curves and their mean, on ``grid`` points.
    """

    model_id: str
    example: int = 0
    edits: Mapping[str, Any] = field(default_factory=dict)
    distance: Distance | str = Distance.L2
    group_column: str | None = None
    other_group: str | None = None
    pd_feature: str | None = None
    revision: str | None = None
    data_path: str | None = None
    grid: int = DEFAULT_GRID
    ice_rows: int = DEFAULT_ICE_ROWS
    seed: int = 0

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        if isinstance(self.edits, str):
            set_(self, "edits", parse_edits(self.edits))
        set_(self, "edits", {str(k): edit_value(str(k), v) for k, v in dict(self.edits).items()})
        if len(self.edits) > MAX_EDITS:
            raise AnalysisInputError(f"{len(self.edits)} edits is too many; edit at most {MAX_EDITS} features")
        try:
            set_(self, "distance", Distance(str(self.distance).lower()))
        except ValueError as error:
            raise AnalysisInputError(
                f"distance {self.distance!r} is not valid; choose {describe_choices(d.value for d in Distance)}"
            ) from error
        example = self.example
        if isinstance(example, bool) or not isinstance(example, int | np.integer) or not 0 <= example < ROW_LIMIT:
            raise AnalysisInputError(f"example {example!r} is not valid; examples are row indices 0, 1, 2, ...")
        set_(self, "example", int(example))
        for name, value, low, high in (
            ("grid", self.grid, 2, 200),
            ("ice_rows", self.ice_rows, 1, 5_000),
            ("seed", self.seed, 0, 2**32 - 1),
        ):
            if isinstance(value, bool) or not isinstance(value, int | np.integer) or not low <= value <= high:
                raise AnalysisInputError(f"{name} {value!r} must be an integer from {low} to {high}")


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class Counterpart:
    """Another row to set beside the datapoint: the nearest counterfactual, or the other group's.

    ``index`` is its row in the data set (None for a flipped copy of the datapoint itself);
    ``distance`` its distance to the (edited) datapoint over standardized features (None when flipped).
    """

    kind: str  # "nearest-different-prediction", "nearest-in-other-group" or "flipped-input"
    index: int | None
    distance: float | None
    row: np.ndarray = field(repr=False)  # float64 [features]
    probabilities: np.ndarray = field(repr=False)  # float64 [classes]
    column: str | None = None
    group: str | None = None

    @property
    def predicted(self) -> int:
        return int(np.argmax(self.probabilities))

    def to_dict(self, feature_names: tuple[str, ...]) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "index": self.index,
            "distance": self.distance,
            "column": self.column,
            "group": self.group,
            "predicted_class": self.predicted,
            "probabilities": [float(p) for p in self.probabilities],
            "values": {n: float(v) for n, v in zip(feature_names, self.row.tolist(), strict=True)},
        }


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class PartialDependence:
    """scikit-learn's partial dependence of P(``class_index``) on ``feature``.

    ``grid`` float64 ``[g]``; ``average`` ``[g]`` (the mean of ``individual``); ``individual``
    ``[rows, g]`` ICE curves of the data rows ``rows``; ``edited`` ``[g]`` the datapoint's own curve.
    """

    feature: str
    class_index: int
    grid: np.ndarray = field(repr=False)
    average: np.ndarray = field(repr=False)
    individual: np.ndarray = field(repr=False)
    rows: np.ndarray = field(repr=False)
    edited: np.ndarray = field(repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "feature": self.feature,
            "class": self.class_index,
            "grid": self.grid.tolist(),
            "average": self.average.tolist(),
            "edited": self.edited.tolist(),
            "ice_rows": self.rows.tolist(),
        }


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class WhatIfResult:
    """One (edited) datapoint, its prediction, its counterfactuals and a partial-dependence curve."""

    model_id: str
    revision: str
    example: int
    feature_names: tuple[str, ...]
    original: np.ndarray = field(repr=False)  # float64 [features], the data set's row
    edited: np.ndarray = field(repr=False)  # float64 [features], with the edits
    edits: Mapping[str, float]
    original_probabilities: np.ndarray = field(repr=False)  # float64 [classes]
    edited_probabilities: np.ndarray = field(repr=False)
    distance: Distance
    counterfactual: Counterpart | None
    other_group: Counterpart | None
    group_column: str | None
    group_value: str | None  # the datapoint's own group (None when no group column is chosen)
    group_choices: tuple[str, ...]
    partial_dependence: PartialDependence
    notes: tuple[str, ...] = ()

    @property
    def original_class(self) -> int:
        return int(np.argmax(self.original_probabilities))

    @property
    def edited_class(self) -> int:
        return int(np.argmax(self.edited_probabilities))

    def to_dict(self) -> dict[str, Any]:
        names = self.feature_names
        return {
            "model": self.model_id,
            "revision": self.revision,
            "example": self.example,
            "edits": dict(self.edits),
            "original": {
                "values": {n: float(v) for n, v in zip(names, self.original.tolist(), strict=True)},
                "predicted_class": self.original_class,
                "probabilities": [float(p) for p in self.original_probabilities],
            },
            "edited": {
                "values": {n: float(v) for n, v in zip(names, self.edited.tolist(), strict=True)},
                "predicted_class": self.edited_class,
                "probabilities": [float(p) for p in self.edited_probabilities],
            },
            "distance": self.distance.value,
            "counterfactual": None if self.counterfactual is None else self.counterfactual.to_dict(names),
            "group_column": self.group_column,
            "group": self.group_value,
            "other_group": None if self.other_group is None else self.other_group.to_dict(names),
            "partial_dependence": self.partial_dependence.to_dict(),
            "notes": list(self.notes),
        }

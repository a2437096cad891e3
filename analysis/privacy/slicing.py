"""Slices of an audit: which subsets of members and non-members each attack runs on.

Slices are enumerated and cut by tensorflow-privacy itself (``get_single_slice_specs`` and
``get_slice``, with ``SlicingSpec``); Loupe only names them (:class:`SliceKey`) and turns
metadata columns into the library's custom-index slicing. A slice with no members or no
non-members cannot be attacked; it is reported as skipped, with the reason.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import numpy as np

from analysis.errors import AnalysisInputError, describe_choices
from analysis.privacy.inputs import AuditInputs
from analysis.privacy.library import (
    AttackInputData,
    SingleSliceSpec,
    SlicingFeature,
    SlicingSpec,
    get_single_slice_specs,
    get_slice,
)
from analysis.privacy.spec import SlicingOptions

MISSING_COLUMN = "slice column {column!r} is missing from the {side}; its metadata columns are {choices}"


class SliceKind(StrEnum):
    ENTIRE = "entire_dataset"
    CLASS = "class"
    PERCENTILE = "percentile"
    CORRECTNESS = "correctness"
    COLUMN = "column"


@dataclass(frozen=True, slots=True, kw_only=True)
class SliceKey:
    """A slice's identity. ``value``: class index, ``(from, to)`` loss percentiles,
    ``True`` for correctly classified, or a column's value (``column`` names it)."""

    kind: SliceKind
    value: Any = None
    column: str | None = None

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"kind": self.kind.value}
        if self.column is not None:
            data["column"] = self.column
        if self.kind is not SliceKind.ENTIRE:
            data["value"] = list(self.value) if isinstance(self.value, tuple) else self.value
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SliceKey:
        value = data.get("value")
        return cls(
            kind=SliceKind(data["kind"]),
            value=tuple(value) if isinstance(value, list) else value,
            column=data.get("column"),
        )

    def label(self, class_names: tuple[str, ...] = ()) -> str:
        """A short human label, e.g. ``class 3 (ring)`` or ``sex = F``."""
        if self.kind is SliceKind.ENTIRE:
            return "entire data set"
        if self.kind is SliceKind.CLASS:
            name = class_names[self.value] if 0 <= self.value < len(class_names) else None
            return f"class {self.value}" + (f" ({name})" if name else "")
        if self.kind is SliceKind.PERCENTILE:
            return f"loss percentile {self.value[0]}-{self.value[1]}"
        if self.kind is SliceKind.CORRECTNESS:
            return "correctly classified" if self.value else "misclassified"
        return f"{self.column} = {self.value}"


@dataclass(frozen=True, slots=True, kw_only=True)
class PlannedSlice:
    key: SliceKey
    data: AttackInputData


@dataclass(frozen=True, slots=True, kw_only=True)
class SkippedSlice:
    key: SliceKey
    attack: str | None  # None: every attack
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"slice": self.key.to_dict(), "attack": self.attack, "reason": self.reason}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SkippedSlice:
        return cls(key=SliceKey.from_dict(data["slice"]), attack=data["attack"], reason=data["reason"])


@dataclass(frozen=True, slots=True, kw_only=True)
class _ColumnCodes:
    """A metadata column as the library's custom slicing wants it: integer group codes per side."""

    members: np.ndarray
    nonmembers: np.ndarray
    keys: dict[int, SliceKey]
    one_sided: list[SkippedSlice]


def plan_slices(
    attack_input: AttackInputData, inputs: AuditInputs, options: SlicingOptions
) -> Iterator[PlannedSlice | SkippedSlice]:
    """Every requested slice cut from ``attack_input``, or why it cannot be attacked; one at a time,
    so a caller keeping only part of each slice never holds every slice's outputs at once."""
    columns = _column_codes(inputs, options.columns)
    slicing = SlicingSpec(
        entire_dataset=True,
        by_class=options.by_class,
        by_percentiles=options.by_percentile,
        by_classification_correctness=options.by_correctness,
        all_custom_train_indices=[c.members for c in columns] or None,
        all_custom_test_indices=[c.nonmembers for c in columns] or None,
    )
    keys = {code: key for c in columns for code, key in c.keys.items()}
    num_classes = attack_input.num_classes if options.by_class else None
    for spec in get_single_slice_specs(slicing, num_classes):
        key = _key(spec, keys)
        data = get_slice(attack_input, spec)
        n_members, n_nonmembers = data.get_train_size(), data.get_test_size()
        if n_members == 0 or n_nonmembers == 0:
            side = "members" if n_members == 0 else "non-members"
            yield SkippedSlice(key=key, attack=None, reason=f"no {side} in this slice")
        else:
            yield PlannedSlice(key=key, data=data)
    for column in columns:  # values only one side has: the library drops them silently; Loupe says so
        yield from column.one_sided


def _key(spec: SingleSliceSpec, column_keys: dict[int, SliceKey]) -> SliceKey:
    if spec.entire_dataset:
        return SliceKey(kind=SliceKind.ENTIRE)
    if spec.feature is SlicingFeature.CLASS:
        return SliceKey(kind=SliceKind.CLASS, value=int(spec.value))
    if spec.feature is SlicingFeature.PERCENTILE:
        return SliceKey(kind=SliceKind.PERCENTILE, value=(int(spec.value[0]), int(spec.value[1])))
    if spec.feature is SlicingFeature.CORRECTLY_CLASSIFIED:
        return SliceKey(kind=SliceKind.CORRECTNESS, value=bool(spec.value))
    return column_keys[int(spec.value[2])]  # custom slice: (train codes, test codes, group code, name)


def _column_codes(inputs: AuditInputs, columns: tuple[str, ...]) -> list[_ColumnCodes]:
    """Each column's values as integer codes, unique across columns (the library keys slices by code)."""
    result = []
    offset = 0
    for column in columns:
        for label, side in (("members", inputs.members), ("non-members", inputs.nonmembers)):
            if column not in side.metadata:
                raise AnalysisInputError(
                    MISSING_COLUMN.format(column=column, side=label, choices=describe_choices(sorted(side.metadata)))
                )
        member_values = np.asarray(inputs.members.metadata[column]).astype(str)
        nonmember_values = np.asarray(inputs.nonmembers.metadata[column]).astype(str)
        vocabulary = np.union1d(member_values, nonmember_values)

        def key(value: str, column: str = column) -> SliceKey:
            return SliceKey(kind=SliceKind.COLUMN, column=column, value=str(value))

        one_sided = [
            SkippedSlice(key=key(v), attack=None, reason="no non-members in this slice")
            for v in np.setdiff1d(member_values, nonmember_values)
        ]
        one_sided += [
            SkippedSlice(key=key(v), attack=None, reason="no members in this slice")
            for v in np.setdiff1d(nonmember_values, member_values)
        ]
        result.append(
            _ColumnCodes(
                members=offset + np.searchsorted(vocabulary, member_values),
                nonmembers=offset + np.searchsorted(vocabulary, nonmember_values),
                keys={offset + i: key(v) for i, v in enumerate(vocabulary)},
                one_sided=one_sided,
            )
        )
        offset += len(vocabulary)
    return result

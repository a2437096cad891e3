"""Validated model outputs for an audit: one :class:`ModelOutputs` per side, checked at the boundary.

Every check raises :class:`AnalysisInputError` with a message naming the side (or file),
the array and the offending value. Outputs are ``[n, classes]``: a single column (or a
``[n]`` vector) is a binary classifier's sigmoid output and becomes two columns
(``[1 - p, p]`` for probabilities, ``[0, z]`` for logits, which softmax maps to the same).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

import numpy as np

from analysis.datasets import META_PREFIX, load_npz
from analysis.errors import AnalysisInputError, describe_choices
from analysis.hashing import sha256_arrays, sha256_file

PROBS_SUM_TOLERANCE = 1e-3  # tensorflow-privacy's own tolerance for "these rows are probabilities"

EMPTY = "no examples in {name} (0 rows)"
NOT_2D = "{what} in {name} must be [n, classes], got shape {shape}"
NOT_NUMERIC = "{what} in {name} must be real numbers, got dtype {dtype}"
NON_FINITE = "{what} in {name} contain {count} NaN or infinite values (first at row {row})"
LABELS_SHAPE = "'labels' in {name} must be one class index per example, shape ({n},), got shape {shape}"
LABELS_DTYPE = "'labels' in {name} must be integers (class indices), got dtype {dtype}"
LABELS_RANGE = (
    "'labels' in {name} must be class indices 0-{top} (the outputs have {k} columns); found {value} at row {row}"
)
PROBS_RANGE = "'probs' in {name} must lie in [0, 1]; found {value:.6g} at row {row}"
PROBS_SUM = (
    "'probs' in {name} must sum to 1 in every row (within {tol:g}); row {row} sums to {total:.6g}. "
    "If these are logits, store them as 'logits'"
)
WIDTH_MISMATCH = (
    "members and non-members must come from the same classifier: members have {a} output columns, non-members {b}"
)
KIND_MISMATCH = "members give {a!r} but non-members give {b!r}; give the same kind of output for both"
ROWS_MISMATCH = "{what} in {name} has {got} rows but the outputs have {n}"


class OutputKind(StrEnum):
    LOGITS = "logits"
    PROBS = "probs"


@dataclass(frozen=True, slots=True, kw_only=True)
class ModelOutputs:
    """One side of an audit (members or non-members), validated on construction.

    ``outputs``: ``[n, classes]`` logits or probabilities, kept as float64 (the library's softmax
    and log keep the input's precision, and in float32 confidently fitted examples all reach
    loss 0, tying members with non-members); ``labels``: ``[n]`` class
    indices; ``metadata``: columns ``[n]`` for custom slices; ``images``: the inputs
    ``[n, height, width(, channels)]`` when they are images (for showing exposed examples),
    with values in ``image_range``. ``name`` names the side in error messages.
    """

    name: str
    outputs: np.ndarray
    kind: OutputKind
    labels: np.ndarray
    metadata: Mapping[str, np.ndarray] = field(default_factory=dict)
    images: np.ndarray | None = None
    image_range: tuple[float, float] = (0.0, 1.0)

    def __post_init__(self) -> None:
        kind = OutputKind(self.kind)
        outputs, labels = np.asarray(self.outputs), np.asarray(self.labels)
        what = repr(kind.value)
        if outputs.ndim == 1 or (outputs.ndim == 2 and outputs.shape[1] == 1):
            outputs = _binary_to_two_columns(outputs.reshape(-1), kind)
        if outputs.ndim != 2:
            raise AnalysisInputError(NOT_2D.format(what=what, name=self.name, shape=outputs.shape))
        if len(outputs) == 0:
            raise AnalysisInputError(EMPTY.format(name=self.name))
        if not (np.issubdtype(outputs.dtype, np.floating) or np.issubdtype(outputs.dtype, np.integer)):
            raise AnalysisInputError(NOT_NUMERIC.format(what=what, name=self.name, dtype=outputs.dtype))
        outputs = outputs.astype(np.float64, copy=False)  # float32 softmax saturates: losses tie at 0
        bad = ~np.isfinite(outputs).all(axis=1)
        if bad.any():
            raise AnalysisInputError(
                NON_FINITE.format(
                    what=what, name=self.name, count=int((~np.isfinite(outputs)).sum()), row=int(np.argmax(bad))
                )
            )
        _check_labels(self.name, labels, n=len(outputs), k=outputs.shape[1])
        if kind is OutputKind.PROBS:
            _check_probabilities(self.name, outputs)
        for column, values in self.metadata.items():
            if np.shape(values)[:1] != (len(outputs),) or np.ndim(values) != 1:
                raise AnalysisInputError(
                    ROWS_MISMATCH.format(
                        what=f"metadata column {column!r}", name=self.name, got=np.shape(values), n=len(outputs)
                    )
                )
        if self.images is not None and len(self.images) != len(outputs):
            raise AnalysisInputError(
                ROWS_MISMATCH.format(what="'x'", name=self.name, got=len(self.images), n=len(outputs))
            )
        object.__setattr__(self, "kind", kind)
        object.__setattr__(self, "outputs", outputs)
        object.__setattr__(self, "labels", labels)
        object.__setattr__(self, "metadata", dict(self.metadata))

    @property
    def n(self) -> int:
        return len(self.outputs)

    @property
    def n_classes(self) -> int:
        return int(self.outputs.shape[1])

    def content_hash(self) -> str:
        """SHA-256 of outputs, labels and metadata (what determines the audit's numbers)."""
        arrays = {"outputs": self.outputs, "labels": self.labels, "kind": np.array(self.kind.value)}
        arrays |= {META_PREFIX + k: np.asarray(v).astype(str) for k, v in self.metadata.items()}
        return sha256_arrays(arrays)

    def take(self, mask: np.ndarray, name: str) -> ModelOutputs:
        """The rows where ``mask`` holds, as a new side called ``name``."""
        return ModelOutputs(
            name=name,
            outputs=self.outputs[mask],
            kind=self.kind,
            labels=self.labels[mask],
            metadata={k: np.asarray(v)[mask] for k, v in self.metadata.items()},
            images=None if self.images is None else self.images[mask],
            image_range=self.image_range,
        )


def _binary_to_two_columns(values: np.ndarray, kind: OutputKind) -> np.ndarray:
    if kind is OutputKind.PROBS:
        return np.stack([1.0 - values, values], axis=1)
    return np.stack([np.zeros_like(values), values], axis=1)


def _check_labels(name: str, labels: np.ndarray, *, n: int, k: int) -> None:
    if labels.shape != (n,):
        raise AnalysisInputError(LABELS_SHAPE.format(name=name, n=n, shape=labels.shape))
    if not np.issubdtype(labels.dtype, np.integer):
        raise AnalysisInputError(LABELS_DTYPE.format(name=name, dtype=labels.dtype))
    outside = (labels < 0) | (labels >= k)
    if outside.any():
        row = int(np.argmax(outside))
        raise AnalysisInputError(LABELS_RANGE.format(name=name, top=k - 1, k=k, value=int(labels[row]), row=row))


def _check_probabilities(name: str, probs: np.ndarray) -> None:
    outside = ((probs < 0) | (probs > 1)).any(axis=1)
    if outside.any():
        row = int(np.argmax(outside))
        value = probs[row][(probs[row] < 0) | (probs[row] > 1)][0]
        raise AnalysisInputError(PROBS_RANGE.format(name=name, value=float(value), row=row))
    totals = probs.sum(axis=1)
    off = np.abs(totals - 1.0) > PROBS_SUM_TOLERANCE
    if off.any():
        row = int(np.argmax(off))
        raise AnalysisInputError(
            PROBS_SUM.format(name=name, tol=PROBS_SUM_TOLERANCE, row=row, total=float(totals[row]))
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditInputs:
    """Both sides of an audit, checked against each other, with their provenance.

    ``hashes`` maps ``members``/``nonmembers`` (and ``model``) to content hashes.
    """

    members: ModelOutputs
    nonmembers: ModelOutputs
    hashes: Mapping[str, str]
    model_id: str | None = None
    revision: str | None = None
    class_names: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.members.kind is not self.nonmembers.kind:
            raise AnalysisInputError(KIND_MISMATCH.format(a=self.members.kind.value, b=self.nonmembers.kind.value))
        if self.members.n_classes != self.nonmembers.n_classes:
            raise AnalysisInputError(WIDTH_MISMATCH.format(a=self.members.n_classes, b=self.nonmembers.n_classes))

    @classmethod
    def from_arrays(cls, members: ModelOutputs, nonmembers: ModelOutputs) -> AuditInputs:
        return cls(
            members=members,
            nonmembers=nonmembers,
            hashes={"members": members.content_hash(), "nonmembers": nonmembers.content_hash()},
        )


def load_outputs_file(path: Path, side: str) -> ModelOutputs:
    """A side from a ``.npz`` with ``logits`` or ``probs``, ``labels`` and optional ``meta_<column>``."""
    name = f"{side} file {str(path)!r}"
    arrays = load_npz(Path(path))
    present = [key for key in (OutputKind.LOGITS.value, OutputKind.PROBS.value) if key in arrays]
    if len(present) != 1:
        problem = "both 'logits' and 'probs' (keep one)" if present else "neither 'logits' nor 'probs'"
        hint = " (inputs x, y? then audit a registered model with --model)" if "x" in arrays else ""
        raise AnalysisInputError(f"{name} has {problem}; it has {describe_choices(sorted(arrays))}{hint}")
    if "labels" not in arrays:
        raise AnalysisInputError(f"{name} has no array 'labels'; it has {describe_choices(sorted(arrays))}")
    metadata = {key[len(META_PREFIX) :]: value for key, value in arrays.items() if key.startswith(META_PREFIX)}
    return ModelOutputs(
        name=name, outputs=arrays[present[0]], kind=OutputKind(present[0]), labels=arrays["labels"], metadata=metadata
    )


def load_output_files(members: Path, nonmembers: Path) -> AuditInputs:
    """Both sides from precomputed-output files, hashed by file content."""
    return AuditInputs(
        members=load_outputs_file(members, "members"),
        nonmembers=load_outputs_file(nonmembers, "non-members"),
        hashes={"members": sha256_file(members), "nonmembers": sha256_file(nonmembers)},
    )

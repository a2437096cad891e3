"""What a membership audit runs on and how: :class:`MembershipAuditSpec` and its parts.

Inputs come from one of three sources:

- :class:`ModelSource`: a registered model plus member and non-member ``.npz`` files
  (``x``, ``y``); Loupe computes the outputs in batches. Without files, the sets linked in
  the registry are used (roles ``members``/``nonmembers``, or else the ``train``/``test``
  split of the linked data set).
- :class:`OutputFilesSource`: precomputed outputs from any framework, one ``.npz`` per side
  with ``logits`` or ``probs`` ``[n, classes]`` and ``labels`` ``[n]`` (plus optional
  ``meta_<column>`` arrays for slicing).
- :class:`OutputArraysSource`: the same, already in memory (notebooks, tests, benchmarks).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from analysis.errors import AnalysisInputError, describe_choices
from analysis.privacy.attacks import DEFAULT_ATTACKS, AttackKind
from analysis.privacy.inputs import ModelOutputs
from analysis.privacy.reference_spec import ReferenceOptions

_SLICE_NAMES = ("class", "percentile", "correctness")
COLUMN_PREFIX = "column:"


@dataclass(frozen=True, slots=True, kw_only=True)
class ModelSource:
    """A registered model; ``members``/``nonmembers`` default to the registry-linked sets."""

    model_id: str
    revision: str | None = None  # hash prefix; None = the current revision
    members: Path | None = None
    nonmembers: Path | None = None
    batch_size: int = 256

    def __post_init__(self) -> None:
        if (self.members is None) != (self.nonmembers is None):
            raise AnalysisInputError(
                "give both a members file and a non-members file, or neither (to use the linked sets)"
            )
        if not 1 <= self.batch_size <= 65536:
            raise AnalysisInputError(f"batch size {self.batch_size} must be between 1 and 65536")

    def describe(self) -> dict[str, Any]:
        return {
            "kind": "model",
            "model": self.model_id,
            "revision": self.revision,
            "members": _path_or_none(self.members),
            "nonmembers": _path_or_none(self.nonmembers),
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class OutputFilesSource:
    """Precomputed outputs: one ``.npz`` per side with ``logits`` or ``probs``, and ``labels``."""

    members: Path
    nonmembers: Path

    def describe(self) -> dict[str, Any]:
        return {
            "kind": "output_files",
            "members": _path_or_none(self.members),
            "nonmembers": _path_or_none(self.nonmembers),
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class OutputArraysSource:
    """Precomputed outputs already in memory."""

    members: ModelOutputs
    nonmembers: ModelOutputs

    def describe(self) -> dict[str, Any]:
        return {"kind": "output_arrays"}


AuditSource = ModelSource | OutputFilesSource | OutputArraysSource


@dataclass(frozen=True, slots=True, kw_only=True)
class SlicingOptions:
    """Slices to attack besides the entire data set (always included).

    ``columns`` name metadata columns (``meta_<column>`` arrays in the input files): one
    slice per value present on both sides.
    """

    by_class: bool = True
    by_percentile: bool = True
    by_correctness: bool = True
    columns: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "columns", tuple(dict.fromkeys(c.strip() for c in self.columns)))
        for column in self.columns:
            if not column:
                raise AnalysisInputError("a slice column needs a name, e.g. column:sex")

    @classmethod
    def parse(cls, text: str) -> SlicingOptions:
        """``"class,percentile,correctness,column:sex"`` -> options; ``""`` or ``"none"`` = entire data set only."""
        names = [part.strip() for part in text.split(",") if part.strip() and part.strip() != "none"]
        columns = tuple(name[len(COLUMN_PREFIX) :] for name in names if name.startswith(COLUMN_PREFIX))
        plain = [name for name in names if not name.startswith(COLUMN_PREFIX)]
        unknown = [name for name in plain if name not in _SLICE_NAMES]
        if unknown:
            raise AnalysisInputError(
                f"unknown slice {unknown[0]!r}; slices are {describe_choices([*_SLICE_NAMES, 'column:NAME'])}"
            )
        return cls(
            by_class="class" in plain,
            by_percentile="percentile" in plain,
            by_correctness="correctness" in plain,
            columns=columns,
        )

    def names(self) -> list[str]:
        flags = (("class", self.by_class), ("percentile", self.by_percentile), ("correctness", self.by_correctness))
        return [name for name, on in flags if on] + [COLUMN_PREFIX + c for c in self.columns]


def default_workers() -> int:
    """Parallel workers: the machine's cores, at most 2 (attack tasks are few and memory-hungry)."""
    return max(1, min(2, os.cpu_count() or 1))


@dataclass(frozen=True, slots=True, kw_only=True)
class MembershipAuditSpec:
    """A membership-inference audit: inputs, attacks, slices and the seed.

    The same inputs, attacks, slices and ``seed`` give identical numbers, whatever
    ``workers`` is (each trained attack task seeds NumPy with ``seed`` before it runs).
    """

    source: AuditSource
    attacks: tuple[AttackKind, ...] = DEFAULT_ATTACKS
    slicing: SlicingOptions = field(default_factory=SlicingOptions)
    seed: int = 0
    workers: int = field(default_factory=default_workers)
    n_exposed: int = 12
    reference: ReferenceOptions | None = None  # for LiRA/offset/RMIA; None = the defaults when one is asked for

    def __post_init__(self) -> None:
        if not isinstance(self.source, ModelSource | OutputFilesSource | OutputArraysSource):
            raise AnalysisInputError(f"unknown audit source {type(self.source).__name__}")
        attacks = tuple(dict.fromkeys(a if isinstance(a, AttackKind) else AttackKind.parse(a) for a in self.attacks))
        if not attacks:
            raise AnalysisInputError(f"choose at least one attack: {describe_choices(k.value for k in AttackKind)}")
        object.__setattr__(self, "attacks", attacks)
        if any(a.needs_references for a in attacks) and self.reference is None:
            object.__setattr__(self, "reference", ReferenceOptions())
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or not 0 <= self.seed < 2**32:
            raise AnalysisInputError(f"seed {self.seed!r} must be an integer from 0 to 2**32 - 1")
        if not 1 <= self.workers <= 64:
            raise AnalysisInputError(f"workers {self.workers} must be between 1 and 64")
        if not 0 <= self.n_exposed <= 1000:
            raise AnalysisInputError(f"n_exposed {self.n_exposed} must be between 0 and 1000")

    def parameters(self) -> dict[str, Any]:
        """What a record stores as the audit's parameters (``workers`` does not change results)."""
        return {
            "source": self.source.describe(),
            "attacks": [a.value for a in self.attacks],
            "slices": self.slicing.names(),
            "seed": self.seed,
            "n_exposed": self.n_exposed,
            **({} if self.reference is None else {"reference": self.reference.describe()}),
        }


def _path_or_none(path: Path | None) -> str | None:
    return None if path is None else str(Path(path).resolve())

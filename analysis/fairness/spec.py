"""What a fairness analysis is asked to do: :class:`FairnessSpec` and its choices.

A spec names the inputs (a predictions table, or a registered model plus its linked
data), the sensitive columns and the intersections to slice by, the thresholds, the
baseline every slice is compared with, and the bootstrap settings. It validates itself;
the columns themselves are checked when the data is read (:mod:`analysis.fairness.tables`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum, StrEnum
from pathlib import Path
from typing import Any

from analysis.errors import AnalysisInputError, describe_choices

DEFAULT_THRESHOLDS = (0.5,)
MAX_BOOTSTRAP = 20_000  # resampled values are kept in memory: B x slices x thresholds x 12 floats


class MissingPolicy(StrEnum):
    """What to do with missing values (NaN, None, empty) in a sensitive column."""

    REFUSE = "refuse"  # stop with an error naming the column and how many rows
    GROUP = "group"  # report them as their own group, labelled MISSING_LABEL


MISSING_LABEL = "(missing)"


@dataclass(frozen=True, slots=True, kw_only=True)
class Baseline:
    """The reference every slice is compared with: the whole data (``overall``) or one group.

    ``group`` maps one or more sensitive columns to a value, e.g. ``{"sex": "M"}``; the
    baseline is then the slice with exactly that group.
    """

    group: Mapping[str, str] = field(default_factory=dict)

    @property
    def is_overall(self) -> bool:
        return not self.group

    @classmethod
    def parse(cls, text: str) -> Baseline:
        """``"overall"`` or ``"col=value[,col2=value2]"`` (the CLI and URL form)."""
        text = (text or "").strip()
        if text in ("", "overall"):
            return cls()
        group: dict[str, str] = {}
        for part in text.split(","):
            column, sep, value = part.partition("=")
            if not sep or not column.strip() or not value.strip():
                raise AnalysisInputError(
                    f"baseline {text!r} must be 'overall' or COLUMN=VALUE[,COLUMN=VALUE], e.g. sex=M"
                )
            group[column.strip()] = value.strip()
        return cls(group=group)

    def label(self) -> str:
        return "overall" if self.is_overall else ",".join(f"{k}={v}" for k, v in self.group.items())


@dataclass(frozen=True, slots=True, kw_only=True)
class FairnessSpec:
    """One fairness analysis.

    Inputs, exactly one of:

    - ``predictions``: a CSV or Parquet file, or an in-memory table (a ``pandas.DataFrame``
      or a mapping of column name to list / ndarray / Series), with ``label`` and
      ``score`` (probability of the positive class, in ``[0, 1]``) or ``prediction``
      (0/1 predicted labels) and the ``sensitive`` columns;
    - ``model_id``: a registered model whose linked DATA npz (or ``data_path``) gives ``x``,
      ``y`` and ``meta_<column>`` arrays; Loupe computes the scores. ``split`` keeps only the
      rows of that split (``"test"``/``"train"``) when the npz has one.

    ``thresholds``: a score counts as a positive prediction when ``score >= threshold``.
    ``intersections``: tuples of sensitive columns whose value combinations are sliced too.
    ``n_bootstrap`` resamples (0: no intervals), seeded by ``seed``; ``confidence`` is the
    interval's coverage. Slices with fewer than ``min_slice`` rows are reported as too small.
    """

    predictions: Path | str | Any | None = None
    model_id: str | None = None
    data_path: Path | str | None = None
    split: str | None = None
    label: str = "label"
    score: str | None = None
    prediction: str | None = None
    sensitive: tuple[str, ...] = ()
    intersections: tuple[tuple[str, ...], ...] = ()
    thresholds: tuple[float, ...] = DEFAULT_THRESHOLDS
    baseline: Baseline = field(default_factory=Baseline)
    n_bootstrap: int = 1000
    confidence: float = 0.95
    seed: int = 0
    min_slice: int = 30
    missing: MissingPolicy = MissingPolicy.REFUSE

    def __post_init__(self) -> None:
        set_ = object.__setattr__  # normalise user sequences into tuples on a frozen dataclass
        set_(self, "sensitive", tuple(str(c) for c in _as_sequence(self.sensitive)))
        set_(self, "intersections", tuple(tuple(str(c) for c in combo) for combo in self.intersections))
        set_(self, "thresholds", tuple(float(t) for t in _as_sequence(self.thresholds)))
        set_(self, "missing", _choice(MissingPolicy, self.missing, "missing-value policy"))
        if isinstance(self.baseline, str):
            set_(self, "baseline", Baseline.parse(self.baseline))
        if (self.predictions is None) == (self.model_id is None):
            raise AnalysisInputError("give exactly one input: a predictions table, or a registered model id")
        if self.model_id is None and (self.score is None) == (self.prediction is None):
            raise AnalysisInputError(
                "a predictions table needs exactly one of a score column (--score) or a predicted-label column (--pred)"
            )
        if self.split not in (None, "train", "test"):
            raise AnalysisInputError(f"split {self.split!r} is not valid; use 'train', 'test' or none (all rows)")
        if not self.sensitive:
            raise AnalysisInputError("name at least one sensitive column (e.g. --sensitive sex,age_band)")
        duplicated = sorted({c for c in self.sensitive if self.sensitive.count(c) > 1})
        if duplicated:
            raise AnalysisInputError(f"sensitive column {duplicated[0]!r} is listed twice")
        for combo in self.intersections:
            if len(combo) < 2 or len(set(combo)) != len(combo):
                raise AnalysisInputError(f"intersection {'*'.join(combo)!r} must join two or more different columns")
            unknown = [c for c in combo if c not in self.sensitive]
            if unknown:
                raise AnalysisInputError(
                    f"intersection {'*'.join(combo)!r} uses {unknown[0]!r}, which is not a sensitive column; "
                    f"sensitive columns are {describe_choices(self.sensitive)}"
                )
        if not self.thresholds:
            raise AnalysisInputError("give at least one threshold, e.g. 0.5")
        for threshold in self.thresholds:
            if not (math.isfinite(threshold) and 0.0 <= threshold <= 1.0):
                raise AnalysisInputError(f"threshold {threshold!r} must be a number in [0, 1]")
        if len(set(self.thresholds)) != len(self.thresholds):
            raise AnalysisInputError(f"thresholds {list(self.thresholds)} repeat a value")
        if not isinstance(self.n_bootstrap, int) or not 0 <= self.n_bootstrap <= MAX_BOOTSTRAP:
            raise AnalysisInputError(
                f"bootstrap resamples {self.n_bootstrap!r} must be an integer in [0, {MAX_BOOTSTRAP}]"
            )
        if not 0.5 <= self.confidence < 1.0:
            raise AnalysisInputError(f"confidence {self.confidence!r} must be in [0.5, 1), e.g. 0.95")
        if not isinstance(self.min_slice, int) or self.min_slice < 1:
            raise AnalysisInputError(f"minimum slice size {self.min_slice!r} must be a positive integer")
        if not isinstance(self.seed, int) or self.seed < 0:
            raise AnalysisInputError(f"seed {self.seed!r} must be a non-negative integer")
        unknown = [c for c in self.baseline.group if c not in self.sensitive]
        if unknown:
            raise AnalysisInputError(
                f"baseline column {unknown[0]!r} is not a sensitive column; sensitive columns are "
                f"{describe_choices(self.sensitive)}"
            )

    @property
    def uses_scores(self) -> bool:
        """True when scores are thresholded (model input or a score column), False for predicted labels."""
        return self.prediction is None

    @property
    def groupings(self) -> tuple[tuple[str, ...], ...]:
        """Every way of slicing: each sensitive column alone, then each intersection."""
        singles = tuple((c,) for c in self.sensitive)
        return singles + tuple(c for c in self.intersections if c not in singles)

    def parameters(self) -> dict[str, Any]:
        """The canonical parameters stored in the record (JSON-safe, no data)."""
        return {
            "model": self.model_id,
            "split": self.split,
            "label": self.label,
            "score": self.score,
            "prediction": self.prediction,
            "sensitive": list(self.sensitive),
            "intersections": [list(c) for c in self.intersections],
            "thresholds": list(self.thresholds) if self.uses_scores else None,
            "baseline": self.baseline.label(),
            "n_bootstrap": self.n_bootstrap,
            "confidence": self.confidence,
            "seed": self.seed,
            "min_slice": self.min_slice,
            "missing": self.missing.value,
            "positive_prediction_rule": "score >= threshold" if self.uses_scores else "prediction == 1",
        }


def _as_sequence(value: Any) -> Sequence[Any]:
    if isinstance(value, str):
        return [part for part in (p.strip() for p in value.split(",")) if part]
    return list(value)


def _choice(enum: type[Enum], value: Any, what: str) -> Any:
    try:
        return enum(value.value if isinstance(value, Enum) else value)
    except ValueError as error:
        raise AnalysisInputError(
            f"{what} {value!r} is not valid; choose {describe_choices(m.value for m in enum)}"
        ) from error

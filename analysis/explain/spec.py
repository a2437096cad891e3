"""What an explanation is asked for (:class:`ExplanationSpec`) and what comes back (:class:`AttributionResult`).

An explanation attributes one scalar *target* of a model to the input features of some
examples of a data set: a class output (``3``), each example's predicted class
(``predicted``) or a unit of a layer (``conv4:12``: the unit's mean over positions).
Attributions are SHAP values relative to a seeded background sample of the same data set:
for every example, ``sum(attributions) ~= output - expected_value``, where
``expected_value`` is the target's mean over the background. How far off that sum is, is
the example's *additivity error*, reported with every result.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import numpy as np

from analysis.errors import AnalysisInputError, describe_choices

DEFAULT_BACKGROUND = 100
DEFAULT_SAMPLES = 200  # expected-gradients samples per example (shap's default)
DEFAULT_MAX_EVALS = 500  # model evaluations per example for the permutation explainer (shap's default)
MAX_EXAMPLES = 20_000
ROW_LIMIT = 2**31 - 1  # example indices are below this (links and the CLI can carry any integer)
MAX_BACKGROUND = 5_000
_UNIT_TARGET = re.compile(r"^(?P<layer>[^:\s]+):(?P<unit>-?\d+)$")


class Explainer(StrEnum):
    """The SHAP algorithm. ``gradient`` needs a differentiable image model; the others call ``predict`` only."""

    PERMUTATION = "permutation"  # shap.explainers.Permutation: antithetic permutations, exactly additive
    EXACT = "exact"  # shap.explainers.Exact: every coalition (2^features), exact Shapley values
    GRADIENT = "gradient"  # shap.GradientExplainer: expected gradients, additive in expectation


class TargetKind(StrEnum):
    PREDICTED = "predicted"  # each example's predicted class
    CLASS = "class"  # one class output for every example
    UNIT = "unit"  # one unit of a layer: its mean over spatial positions


@dataclass(frozen=True, slots=True, kw_only=True)
class Target:
    """The scalar being explained. ``parse`` reads the CLI/URL form: ``3``, ``conv4:12`` or ``predicted``."""

    kind: TargetKind = TargetKind.PREDICTED
    class_index: int | None = None
    layer: str | None = None
    unit: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", TargetKind(self.kind))
        if self.kind is TargetKind.CLASS and not _is_index(self.class_index):
            raise AnalysisInputError(f"target class {self.class_index!r} must be a non-negative integer")
        if self.kind is TargetKind.UNIT and (not self.layer or not _is_index(self.unit)):
            raise AnalysisInputError(
                f"target unit {self.unit!r} of layer {self.layer!r} must be a non-negative integer"
            )

    @classmethod
    def parse(cls, value: Target | str | int | None) -> Target:
        if isinstance(value, Target):
            return value
        if value is None or (isinstance(value, str) and value.strip() in ("", "predicted")):
            return cls()
        if isinstance(value, int | np.integer) and not isinstance(value, bool):
            return cls(kind=TargetKind.CLASS, class_index=int(value))
        text = str(value).strip()
        if re.fullmatch(r"-?\d+", text):
            return cls(kind=TargetKind.CLASS, class_index=int(text))
        match = _UNIT_TARGET.match(text)
        if match:
            return cls(kind=TargetKind.UNIT, layer=match["layer"], unit=int(match["unit"]))
        raise AnalysisInputError(
            f"target {text!r} is not valid; use a class index (e.g. 3), LAYER:UNIT (e.g. conv4:12) or 'predicted'"
        )

    def label(self) -> str:
        """The CLI/URL form: ``predicted``, ``3`` or ``conv4:12``."""
        if self.kind is TargetKind.CLASS:
            return str(self.class_index)
        if self.kind is TargetKind.UNIT:
            return f"{self.layer}:{self.unit}"
        return "predicted"

    def to_json(self) -> int | str:
        """A class index as a number, a unit as ``"layer:unit"``, else ``"predicted"``."""
        return int(self.class_index) if self.kind is TargetKind.CLASS else self.label()


def _is_index(value: object) -> bool:
    return isinstance(value, int | np.integer) and not isinstance(value, bool) and value >= 0


@dataclass(frozen=True, slots=True, kw_only=True)
class ExplanationSpec:
    """Explain ``target`` of a registered model on ``examples`` (indices into the data set's ``x``).

    ``data_path``: an ``.npz`` with ``x`` (default: the model's linked DATA set). ``background``
    rows are drawn from the same data without replacement, seeded by ``seed`` (None: 100, or every
    row of a smaller data set). ``explainer``
    None picks ``gradient`` for image models, and for tabular ones ``exact`` up to 10 features,
    ``permutation`` beyond (shap's own automatic rule). ``samples``
    is the number of expected-gradients samples per example; ``max_evals`` the permutation
    explainer's model evaluations per example (each over the whole background).
    """

    model_id: str
    examples: tuple[int, ...] = (0,)
    target: Target | str | int | None = None
    revision: str | None = None
    data_path: str | None = None
    background: int | None = None
    seed: int = 0
    explainer: Explainer | str | None = None
    samples: int = DEFAULT_SAMPLES
    max_evals: int = DEFAULT_MAX_EVALS

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "target", Target.parse(self.target))
        examples = self.examples
        if isinstance(examples, int | np.integer) and not isinstance(examples, bool):
            examples = (examples,)
        examples = tuple(examples)
        bad = [e for e in examples if not _is_index(e)]
        if bad:
            raise AnalysisInputError(f"example {bad[0]!r} is not valid; examples are row indices 0, 1, 2, ...")
        if not examples:
            raise AnalysisInputError("give at least one example index (e.g. 0 or 0-99)")
        huge = [e for e in examples if e >= ROW_LIMIT]
        if huge:
            raise AnalysisInputError(f"example {huge[0]} is out of range; valid examples are 0-{ROW_LIMIT - 1}")
        if len(examples) > MAX_EXAMPLES:
            raise AnalysisInputError(f"{len(examples)} examples is too many at once; explain at most {MAX_EXAMPLES}")
        set_(self, "examples", tuple(dict.fromkeys(int(e) for e in examples)))
        if self.explainer is not None:
            try:
                set_(self, "explainer", Explainer(self.explainer))
            except ValueError as error:
                raise AnalysisInputError(
                    f"explainer {self.explainer!r} is not valid; choose {describe_choices(e.value for e in Explainer)}"
                ) from error
        for name, value, low, high in (
            ("background", DEFAULT_BACKGROUND if self.background is None else self.background, 1, MAX_BACKGROUND),
            ("samples", self.samples, 10, 100_000),
            ("max_evals", self.max_evals, 3, 1_000_000),
            ("seed", self.seed, 0, 2**32 - 1),
        ):
            if isinstance(value, bool) or not isinstance(value, int | np.integer) or not low <= value <= high:
                raise AnalysisInputError(f"{name} {value!r} must be an integer from {low} to {high}")


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class AttributionResult:
    """Attributions of ``target`` for ``n`` examples.

    Arrays (example order = ``examples``): ``values`` float32 ``[n, *input_shape]`` (tabular:
    ``[n, features]``; images: ``[n, h, w, c]``, in the target's units per input element);
    ``inputs`` the explained rows ``x[examples]``; ``classes`` int64 ``[n]`` (the class explained
    per example, -1 for unit targets); ``outputs`` and ``expected_values`` float64 ``[n]``.
    """

    model_id: str
    revision: str
    explainer: Explainer
    target: Target
    feature_names: tuple[str, ...]  # tabular only; () for images
    examples: np.ndarray = field(repr=False)
    classes: np.ndarray = field(repr=False)
    inputs: np.ndarray = field(repr=False)
    values: np.ndarray = field(repr=False)
    outputs: np.ndarray = field(repr=False)
    expected_values: np.ndarray = field(repr=False)
    background: int
    seed: int
    parameters: dict[str, Any] = field(default_factory=dict)
    dataset_path: str = ""
    dataset_sha256: str = ""
    cached: bool = False

    @property
    def is_image(self) -> bool:
        return self.values.ndim == 4

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(int(d) for d in self.values.shape[1:])

    @property
    def additivity_errors(self) -> np.ndarray:
        """float64 ``[n]``: ``sum(attributions) - (output - expected_value)`` per example."""
        totals = self.values.reshape(len(self.values), -1).astype(np.float64).sum(axis=1)
        return totals - (self.outputs - self.expected_values)

    def mean_abs(self) -> np.ndarray:
        """Global importance: mean |attribution| over the examples, ``[*input_shape]``."""
        return np.abs(self.values.astype(np.float64)).mean(axis=0)

    def position(self, example: int) -> int:
        """Where data-set row ``example`` sits in this result; AnalysisInputError if it was not explained."""
        hits = np.flatnonzero(self.examples == example)
        if not len(hits):
            raise AnalysisInputError(
                f"example {example!r} is not in this result; it explains {describe_choices(self.examples.tolist())}"
            )
        return int(hits[0])

    def _example_dict(self, i: int) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "index": int(self.examples[i]),
            "output": float(self.outputs[i]),
            "expected_value": float(self.expected_values[i]),
            "additivity_error": float(self.additivity_errors[i]),
        }
        if self.target.kind is not TargetKind.UNIT:
            entry["class"] = int(self.classes[i])
        if self.is_image:
            entry["attributions_shape"] = list(self.input_shape)
            entry["attribution_total"] = float(self.values[i].astype(np.float64).sum())
        else:
            entry["attributions"] = {
                name: float(v) for name, v in zip(self.feature_names, self.values[i].tolist(), strict=True)
            }
        return entry

    def to_dict(self) -> dict[str, Any]:
        """The ``explain`` JSON: model, revision, explainer, target, examples and global mean |SHAP|."""
        errors = np.abs(self.additivity_errors)
        mean_abs = self.mean_abs()
        global_part: dict[str, Any] = {"max_abs_additivity_error": float(errors.max())}
        if self.is_image:
            global_part["mean_abs_by_channel"] = [float(v) for v in mean_abs.mean(axis=(0, 1)).tolist()]
        else:
            global_part["mean_abs"] = {n: float(v) for n, v in zip(self.feature_names, mean_abs.tolist(), strict=True)}
        return {
            "model": self.model_id,
            "revision": self.revision,
            "explainer": self.explainer.value,
            "target": self.target.to_json(),
            "background": self.background,
            "seed": self.seed,
            "parameters": dict(self.parameters),
            "dataset": {"path": self.dataset_path, "sha256": self.dataset_sha256},
            "cached": self.cached,
            "examples": [self._example_dict(i) for i in range(len(self.examples))],
            "global": global_part,
        }

    def to_frame(self) -> Any:
        """Tabular: one row per (example, feature) with the feature's value and attribution.

        Images: one row per example (index, class, output, expected value, additivity error).
        """
        import pandas as pd

        if self.is_image:
            return pd.DataFrame(
                {
                    "example": self.examples,
                    "class": self.classes,
                    "output": self.outputs,
                    "expected_value": self.expected_values,
                    "additivity_error": self.additivity_errors,
                }
            )
        n, m = self.values.shape
        return pd.DataFrame(
            {
                "example": np.repeat(self.examples, m),
                "feature": np.tile(np.asarray(self.feature_names, dtype=object), n),
                "value": self.inputs.reshape(-1).astype(np.float64),
                "attribution": self.values.reshape(-1).astype(np.float64),
            }
        )

    def to_npz(self) -> dict[str, np.ndarray]:
        meta = {
            "model_id": self.model_id,
            "revision": self.revision,
            "explainer": self.explainer.value,
            "target": self.target.label(),
            "feature_names": list(self.feature_names),
            "background": self.background,
            "seed": self.seed,
            "parameters": self.parameters,
            "dataset_path": self.dataset_path,
            "dataset_sha256": self.dataset_sha256,
        }
        return {
            "meta_json": np.array(json.dumps(meta)),
            "examples": self.examples,
            "classes": self.classes,
            "inputs": self.inputs,
            "values": self.values,
            "outputs": self.outputs,
            "expected_values": self.expected_values,
        }

    @classmethod
    def from_npz(cls, arrays: dict[str, np.ndarray], *, cached: bool) -> AttributionResult:
        meta = json.loads(str(arrays["meta_json"]))
        return cls(
            model_id=meta["model_id"],
            revision=meta["revision"],
            explainer=Explainer(meta["explainer"]),
            target=Target.parse(meta["target"]),
            feature_names=tuple(meta["feature_names"]),
            background=meta["background"],
            seed=meta["seed"],
            parameters=meta["parameters"],
            dataset_path=meta["dataset_path"],
            dataset_sha256=meta["dataset_sha256"],
            cached=cached,
            **{k: arrays[k] for k in ("examples", "classes", "inputs", "values", "outputs", "expected_values")},
        )


def default_feature_names(count: int) -> tuple[str, ...]:
    """``x0, x1, ...`` for data sets without ``feature_names``."""
    return tuple(f"x{i}" for i in range(count))

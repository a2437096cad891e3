"""The explanation engine: ``resolve_explanation(spec)`` checks a spec, ``compute_explanation`` explains.

Every check runs before TensorFlow is imported, so bad input fails fast with one message. The
attribution method comes from the table :data:`analysis.explain.explainers.EXPLAINERS` (the
spec's ``explainer``, else the model's automatic choice) and must be compatible with the model.
:func:`compute_explanation` is pure: it stores nothing (storing is
:func:`analysis.explain.cached.compute_attributions`); a cancelled run raises
:class:`ExplanationCancelled`. :meth:`ResolvedExplanation.key` names a result by its content: the
model revision, the explainer, the target, the hashes of the background rows and of the explained
rows, the other parameters and :data:`CODE_VERSION`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from analysis.datasets import DatasetRole
from analysis.errors import AnalysisInputError, describe_choices
from analysis.explain.explainers import AttributionMethod, TargetFunction, default_explainer, explainer_for
from analysis.explain.rng import example_seed
from analysis.explain.rows import open_npz_rows
from analysis.explain.spec import (
    DEFAULT_BACKGROUND,
    AttributionResult,
    Explainer,
    ExplanationSpec,
    Target,
    TargetKind,
    default_feature_names,
)
from analysis.hashing import sha256_arrays, sha256_file
from analysis.models.registry import ModelRegistry
from analysis.models.revisions import RevisionRecord
from analysis.models.summary import OutputKind
from analysis.progress import Progress
from cache import make_key

ANALYSIS_NAME = "explain"
CODE_VERSION = "explain-1"
LINKED_ROLES = (DatasetRole.DATA, DatasetRole.MEMBERS, DatasetRole.NONMEMBERS)
Cancel = threading.Event | Callable[[], bool] | None


class ExplanationCancelled(Exception):
    """Raised when ``cancel`` is set; nothing was stored."""

    def __init__(self) -> None:
        super().__init__("explanation cancelled; nothing was stored")


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class ResolvedExplanation:
    """A checked spec: the revision, the data, the explainer and the rows to explain and integrate over."""

    spec: ExplanationSpec
    revision: RevisionRecord
    dataset_path: str
    dataset_sha256: str
    x: np.ndarray
    feature_names: tuple[str, ...]
    explainer: Explainer
    target: Target  # the spec's target; ``predicted`` becomes class 1 (0) for one sigmoid (linear) output
    examples: np.ndarray  # int64 [n]
    background_index: np.ndarray  # int64 [background], sorted
    binary_probability: bool

    @property
    def is_image(self) -> bool:
        return self.x.ndim == 4

    @property
    def method(self) -> AttributionMethod:
        return explainer_for(self.explainer)

    def key(self) -> str:
        spec, used = self.spec, self.method.parameters
        params = {
            "explainer": self.explainer.value,
            "target": self.target.label(),
            "background": len(self.background_index),
            "background_sha256": sha256_arrays({"background": self.x[self.background_index]}),
            "examples_sha256": sha256_arrays({"index": self.examples, "x": self.x[self.examples]}),
            "feature_names": list(self.feature_names),
            "seed": spec.seed,
            "samples": spec.samples if "samples" in used else None,
            "max_evals": spec.max_evals if "max_evals" in used else None,
        }
        return make_key(
            revision=self.revision.revision, analysis=ANALYSIS_NAME, params=params, code_version=CODE_VERSION
        )


def resolve_explanation(spec: ExplanationSpec, registry: ModelRegistry | None = None) -> ResolvedExplanation:
    """Check ``spec`` against the registry and the data; every problem is an AnalysisInputError."""
    registry = registry or ModelRegistry()
    record = registry.get(spec.model_id)
    revision = registry.resolve(spec.model_id, spec.revision)
    summary = revision.summary
    binary = summary.output_kind is OutputKind.BINARY_PROBABILITY
    _check_target(spec, revision, binary)
    if spec.data_path is not None:
        path = Path(spec.data_path).expanduser()
        arrays = open_npz_rows(path)
        sha256 = sha256_file(path)
    else:
        # the general data set, else the training members, else the non-members (privacy-only models)
        linked = next((d for role in LINKED_ROLES if (d := record.dataset(role)) is not None), None)
        if linked is None:
            raise AnalysisInputError(
                f"model {spec.model_id!r} has no linked data set; link one with "
                f"'python -m analysis models add MODEL --id {spec.model_id} --data DATA.npz' (or pass --data NPZ)"
            )
        path, sha256 = Path(linked.path), linked.sha256
        arrays = open_npz_rows(path)
    if "x" not in arrays:
        raise AnalysisInputError(f"data file {str(path)!r} has no array 'x'; it has {describe_choices(sorted(arrays))}")
    x = arrays["x"]
    if not np.issubdtype(x.dtype, np.number) or np.issubdtype(x.dtype, np.complexfloating):
        raise AnalysisInputError(
            f"'x' in {str(path)!r} holds non-numeric features (dtype {x.dtype}); SHAP explains numeric inputs: "
            "encode categorical columns as numbers (e.g. one-hot) before registering the model and its data"
        )
    expected_shape = tuple(summary.input_shape)
    image_model = len(expected_shape) == 3
    if image_model and x.ndim == 2:
        raise AnalysisInputError(
            f"model {spec.model_id!r} takes images of shape {list(expected_shape)}, but 'x' in {str(path)!r} holds "
            f"tabular rows of {x.shape[1]} features; explain it with a data set of images"
        )
    if x.ndim - 1 != len(expected_shape) or any(
        e not in (None, a) for e, a in zip(expected_shape, x.shape[1:], strict=False)
    ):
        raise AnalysisInputError(
            f"'x' in {str(path)!r} has examples of shape {list(x.shape[1:])}, but model {spec.model_id!r} "
            f"expects {list(expected_shape)}"
        )
    n = len(x)
    bad = [e for e in spec.examples if e >= n]
    if bad:
        raise AnalysisInputError(
            f"example {bad[0]} is out of range; the data set {str(path)!r} has {n} rows (valid examples are 0-{n - 1})"
        )
    background = min(DEFAULT_BACKGROUND, n) if spec.background is None else spec.background
    if background > n:
        raise AnalysisInputError(
            f"background {background} is larger than the data ({n} rows in {str(path)!r}); use at most {n}"
        )
    target = spec.target
    single_output = bool(summary.output_shape) and summary.output_shape[-1] == 1
    if target.kind is TargetKind.PREDICTED and single_output:
        # one output column: explain the output itself (P(class 1) for a sigmoid), not the predicted side
        target = Target(kind=TargetKind.CLASS, class_index=1 if binary else 0)
    features = x.shape[1] if x.ndim == 2 else 0
    # the model's input as the data has it: a tabular summary may leave the feature count open
    as_data = replace(summary, input_shape=(features,)) if features else summary
    method = explainer_for(spec.explainer) if spec.explainer is not None else default_explainer(as_data)
    method.check_compatible(as_data, spec)
    names = tuple(str(f) for f in arrays.get("feature_names", np.array([], dtype=str)).tolist())
    if x.ndim != 2:
        names = ()
    elif len(names) != features:
        names = default_feature_names(features)
    rng = np.random.default_rng(spec.seed)
    background_index = np.sort(rng.choice(n, size=background, replace=False)).astype(np.int64)
    return ResolvedExplanation(
        spec=spec,
        revision=revision,
        dataset_path=str(path.resolve()),
        dataset_sha256=sha256,
        x=x,
        feature_names=names,
        explainer=method.kind,
        target=target,
        examples=np.asarray(spec.examples, dtype=np.int64),
        background_index=background_index,
        binary_probability=binary,
    )


def _check_target(spec: ExplanationSpec, revision: RevisionRecord, binary: bool) -> None:
    target, summary = spec.target, revision.summary
    if target.kind is TargetKind.UNIT:
        layer = summary.layer(target.layer)
        if target.unit >= layer.units:
            raise AnalysisInputError(
                f"unit {target.unit} is out of range for layer {layer.name!r} of model {spec.model_id!r}; "
                f"valid units are 0-{layer.units - 1}"
            )
        return
    width = 2 if binary else int(summary.output_shape[-1] or 1) if summary.output_shape else 1
    if target.kind is TargetKind.CLASS and target.class_index >= width:
        raise AnalysisInputError(
            f"target class {target.class_index} is out of range for model {spec.model_id!r}; "
            f"valid classes are 0-{width - 1}"
        )


def is_cancelled(cancel: Cancel) -> bool:
    """Whether ``cancel`` (an Event, a callable or None) asks to stop."""
    if cancel is None:
        return False
    return cancel.is_set() if isinstance(cancel, threading.Event) else bool(cancel())


def compute_explanation(
    resolved: ResolvedExplanation,
    *,
    model: Any = None,
    progress: Progress | None = None,
    cancel: Cancel = None,
) -> AttributionResult:
    """Attributions for a resolved spec, computed now; nothing is stored.

    ``model``: an already loaded Keras model of the spec's revision (e.g. a server's shared copy;
    None loads it). ``progress(fraction, message)`` is called before each example; ``cancel`` (a
    ``threading.Event`` or a callable returning True) stops the computation between examples with
    :class:`ExplanationCancelled`.
    """
    if is_cancelled(cancel):
        raise ExplanationCancelled
    if model is None:
        from analysis.models.loading import load_revision

        model = load_revision(resolved.revision, keras_needed_for="explanations")
    from analysis.explain.readout import batched_predict, build_target_model, predicted_classes

    spec, x, target, method = resolved.spec, resolved.x, resolved.target, resolved.method
    inputs = np.asarray(x[resolved.examples], dtype=np.float32)
    background = np.asarray(x[resolved.background_index], dtype=np.float32)
    n = len(inputs)
    if target.kind is TargetKind.UNIT:
        classes = np.full(n, -1, dtype=np.int64)
    elif target.kind is TargetKind.CLASS:
        classes = np.full(n, target.class_index, dtype=np.int64)
    else:
        classes = predicted_classes(model, inputs, binary_probability=resolved.binary_probability)
    values = np.zeros(inputs.shape, dtype=np.float32)
    outputs = np.zeros(n, dtype=np.float64)
    expected = np.zeros(n, dtype=np.float64)
    seeds = [example_seed(spec.seed, int(i)) for i in resolved.examples]
    parameters = method.parameters_from(spec)
    done = 0

    def step(_: int) -> None:
        nonlocal done
        if is_cancelled(cancel):
            raise ExplanationCancelled
        if progress is not None:
            progress(done / n, f"explaining example {done + 1}/{n} ({method.kind.value} explainer)")
        done += 1

    for class_index in np.unique(classes):
        rows = np.flatnonzero(classes == class_index)
        target_model = build_target_model(
            model, target, class_index=int(class_index), binary_probability=resolved.binary_probability
        )
        predict = batched_predict(target_model)
        outputs[rows] = predict(inputs[rows])
        attributions = method.attribute(
            TargetFunction(model=target_model, predict=predict),
            inputs[rows],
            background,
            seeds=[seeds[i] for i in rows],
            before_example=step,
            **parameters,
        )
        values[rows], expected[rows] = attributions.values, attributions.expected_values
    if progress is not None:
        progress(1.0, f"explained {n} example{'s' if n != 1 else ''}")
    return AttributionResult(
        model_id=spec.model_id,
        revision=resolved.revision.revision,
        explainer=method.kind,
        target=target,
        feature_names=resolved.feature_names,
        examples=resolved.examples,
        classes=classes,
        inputs=inputs,
        values=values,
        outputs=outputs,
        expected_values=expected,
        background=len(resolved.background_index),
        seed=spec.seed,
        parameters=parameters,
        dataset_path=resolved.dataset_path,
        dataset_sha256=resolved.dataset_sha256,
    )

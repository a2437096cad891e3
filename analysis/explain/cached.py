"""``compute_attributions(spec) -> AttributionResult``: validate, key, compute once, store.

Every check runs before TensorFlow is imported, so bad input fails fast with one message.
A result is stored in the result store (NPZ codec) under a key made of the model revision, the
explainer, the target, the hashes of the background rows and of the explained rows, the other
parameters and :data:`CODE_VERSION`. A cancelled or failed computation raises before anything is
stored, so it leaves no entry behind.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from analysis.datasets import DatasetRole
from analysis.errors import AnalysisInputError, describe_choices
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
from cache import NPZ, ResultStore, make_key

ANALYSIS_NAME = "explain"
CODE_VERSION = "explain-1"
MAX_EXACT_FEATURES = 16
LINKED_ROLES = (DatasetRole.DATA, DatasetRole.MEMBERS, DatasetRole.NONMEMBERS)
AUTO_EXACT_FEATURES = 10  # shap's own automatic choice: exact up to 10 features, permutation beyond
Progress = Callable[[float, str], None]
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

    def key(self) -> str:
        spec = self.spec
        params = {
            "explainer": self.explainer.value,
            "target": self.target.label(),
            "background": len(self.background_index),
            "background_sha256": sha256_arrays({"background": self.x[self.background_index]}),
            "examples_sha256": sha256_arrays({"index": self.examples, "x": self.x[self.examples]}),
            "feature_names": list(self.feature_names),
            "seed": spec.seed,
            "samples": spec.samples if self.explainer is Explainer.GRADIENT else None,
            "max_evals": spec.max_evals if self.explainer is Explainer.PERMUTATION else None,
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
    binary = summary.output_kind == "binary_probability"
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
    explainer = spec.explainer or default_explainer(x.ndim, features)
    if explainer is not Explainer.GRADIENT and x.ndim != 2:
        raise AnalysisInputError(
            f"the {explainer.value} explainer needs tabular rows [n, features]; model {spec.model_id!r} takes "
            f"inputs of shape {list(expected_shape)}: use the gradient explainer"
        )
    if explainer is Explainer.EXACT and features > MAX_EXACT_FEATURES:
        raise AnalysisInputError(
            f"the exact explainer evaluates 2^features coalitions; {features} features is too many "
            f"(at most {MAX_EXACT_FEATURES}): use the permutation explainer"
        )
    if explainer is Explainer.PERMUTATION and spec.max_evals < 2 * features + 1:
        raise AnalysisInputError(
            f"max_evals {spec.max_evals} is too low for {features} features; the permutation explainer needs "
            f"at least 2 * features + 1 = {2 * features + 1}"
        )
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
        explainer=explainer,
        target=target,
        examples=np.asarray(spec.examples, dtype=np.int64),
        background_index=background_index,
        binary_probability=binary,
    )


def default_explainer(ndim: int, features: int) -> Explainer:
    """Images (``[n, h, w, c]``): expected gradients. Tabular: exact Shapley values up to
    :data:`AUTO_EXACT_FEATURES` features (2^10 coalitions cost fewer model rows than 500 permutation
    evaluations), permutations beyond."""
    if ndim != 2:
        return Explainer.GRADIENT
    return Explainer.EXACT if features <= AUTO_EXACT_FEATURES else Explainer.PERMUTATION


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


def _is_cancelled(cancel: Cancel) -> bool:
    if cancel is None:
        return False
    return cancel.is_set() if isinstance(cancel, threading.Event) else bool(cancel())


def _open(store: ResultStore | None) -> ResultStore:
    if store is not None:
        return store
    from analysis.paths import open_result_store

    return open_result_store()


def load_cached_attributions(
    spec: ExplanationSpec, *, store: ResultStore | None = None, registry: ModelRegistry | None = None
) -> AttributionResult | None:
    """The stored result for ``spec``, or None; never imports TensorFlow."""
    arrays = _open(store).get(resolve_explanation(spec, registry).key(), NPZ)
    return None if arrays is None else AttributionResult.from_npz(arrays, cached=True)


def compute_attributions(
    spec: ExplanationSpec,
    *,
    progress: Progress | None = None,
    cancel: Cancel = None,
    model: Any = None,
    store: ResultStore | None = None,
    registry: ModelRegistry | None = None,
) -> AttributionResult:
    """SHAP attributions for ``spec``, from the result store or computed (then stored).

    ``progress(fraction, message)`` is called before each example; ``cancel`` (a
    ``threading.Event`` or a callable returning True) stops the computation between examples
    with :class:`ExplanationCancelled`, storing nothing. ``model``: an already loaded Keras
    model of the spec's revision (e.g. a server's shared copy).
    """
    resolved = resolve_explanation(spec, registry)

    def compute() -> dict[str, np.ndarray]:
        if _is_cancelled(cancel):
            raise ExplanationCancelled
        loaded = model
        if loaded is None:
            from analysis.models.loading import load_revision

            loaded = load_revision(resolved.revision, keras_needed_for="explanations")
        return _compute(resolved, loaded, progress, cancel).to_npz()

    fetched = _open(store).get_or_compute(resolved.key(), compute, NPZ)
    return AttributionResult.from_npz(fetched.value, cached=fetched.from_cache)


def _compute(resolved: ResolvedExplanation, model: Any, progress: Progress | None, cancel: Cancel) -> AttributionResult:
    from analysis.explain.image import explain_images
    from analysis.explain.readout import batched_predict, build_target_model, predicted_classes
    from analysis.explain.tabular import explain_tabular

    spec, x, target = resolved.spec, resolved.x, resolved.target
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
    done = 0

    def before_example(_: int) -> None:
        if _is_cancelled(cancel):
            raise ExplanationCancelled
        if progress is not None:
            progress(done / n, f"explaining example {done + 1}/{n} ({resolved.explainer.value} explainer)")

    for class_index in np.unique(classes):
        rows = np.flatnonzero(classes == class_index)
        target_model = build_target_model(
            model, target, class_index=int(class_index), binary_probability=resolved.binary_probability
        )
        predict = batched_predict(target_model)
        outputs[rows] = predict(inputs[rows])
        group_seeds = [seeds[i] for i in rows]

        def step(i: int) -> None:
            nonlocal done
            before_example(i)
            done += 1

        if resolved.explainer is Explainer.GRADIENT:
            values[rows] = explain_images(
                target_model, inputs[rows], background, samples=spec.samples, seeds=group_seeds, before_example=step
            )
            expected[rows] = predict(background).mean()
        else:
            values[rows], expected[rows] = explain_tabular(
                predict,
                inputs[rows],
                background,
                method=resolved.explainer,
                seeds=group_seeds,
                max_evals=spec.max_evals,
                before_example=step,
            )
    if progress is not None:
        progress(1.0, f"explained {n} example{'s' if n != 1 else ''}")
    parameters = (
        {"samples": spec.samples}
        if resolved.explainer is Explainer.GRADIENT
        else ({"max_evals": spec.max_evals} if resolved.explainer is Explainer.PERMUTATION else {})
    )
    return AttributionResult(
        model_id=spec.model_id,
        revision=resolved.revision.revision,
        explainer=resolved.explainer,
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

"""``run_whatif(spec) -> WhatIfResult``: the one verb of the What-If capability.

Flow: resolve (the registry, the tabular data, every edit checked before TensorFlow loads) ->
class probabilities of every row and of the edited datapoint -> the nearest row with a different
predicted class -> the other group's counterpart (the datapoint with the group input flipped, or
the nearest row of the other group when the group is metadata only) -> partial dependence and
ICE curves. Pure: nothing is stored.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from analysis.datasets import META_PREFIX, DatasetRole, load_npz
from analysis.errors import AnalysisInputError, describe_choices
from analysis.models.registry import ModelRegistry
from analysis.models.revisions import RevisionRecord
from analysis.models.summary import OutputKind
from analysis.whatif.counterfactuals import feature_scale, nearest
from analysis.whatif.estimator import ModelEstimator
from analysis.whatif.partial_dependence import compute_partial_dependence
from analysis.whatif.spec import Counterpart, WhatIfResult, WhatIfSpec

MAX_GROUP_VALUES = 50  # a model input with more distinct values is not a group
BATCH_SIZE = 4096
NOT_A_CLASSIFIER = (
    "What-If needs a classifier (a sigmoid unit, a softmax or logits); model {model!r} outputs {kind} of shape {shape}"
)


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class ResolvedWhatIf:
    """A checked spec: the revision, the data, the edited row and the columns to use."""

    spec: WhatIfSpec
    revision: RevisionRecord
    x: np.ndarray  # [n, features]
    feature_names: tuple[str, ...]
    metadata: dict[str, np.ndarray]  # column -> values as strings [n]
    original: np.ndarray  # float64 [features]
    edited: np.ndarray  # float64 [features]
    pd_feature: int
    notes: tuple[str, ...]

    @property
    def group_is_input(self) -> bool:
        return self.spec.group_column in self.feature_names


def resolve_whatif(spec: WhatIfSpec, registry: ModelRegistry | None = None) -> ResolvedWhatIf:
    """Check ``spec`` against the registry and the data; every problem is an AnalysisInputError."""
    registry = registry or ModelRegistry()
    record = registry.get(spec.model_id)
    revision = registry.resolve(spec.model_id, spec.revision)
    summary = revision.summary
    if summary.output_kind is OutputKind.VALUES:
        raise AnalysisInputError(
            NOT_A_CLASSIFIER.format(
                model=spec.model_id, kind=summary.output_kind.value, shape=list(summary.output_shape)
            )
        )
    if spec.data_path is not None:
        path = Path(spec.data_path).expanduser()
    else:
        linked = record.dataset(DatasetRole.DATA)
        if linked is None:
            raise AnalysisInputError(
                f"model {spec.model_id!r} has no linked DATA data set; link one with "
                f"'python -m analysis models add MODEL --id {spec.model_id} --data DATA.npz'"
            )
        path = Path(linked.path)
    arrays = load_npz(path)
    x = arrays.get("x")
    if x is None or x.ndim != 2 or not np.issubdtype(x.dtype, np.number):
        shape = "no array 'x'" if x is None else f"'x' of shape {list(x.shape)} and dtype {x.dtype}"
        raise AnalysisInputError(
            f"What-If edits tabular rows (a numeric 'x' of shape [n, features]); {str(path)!r} has {shape}"
        )
    n, width = x.shape
    if spec.example >= n:
        raise AnalysisInputError(
            f"example {spec.example} is out of range; the data set {path.name!r} has {n} rows "
            f"(valid examples are 0-{n - 1})"
        )
    names = tuple(str(f) for f in arrays.get("feature_names", np.array([], dtype=str)).tolist())
    if len(names) != width:
        names = tuple(f"x{i}" for i in range(width))
    metadata = {
        name[len(META_PREFIX) :]: np.asarray(values).astype(str)
        for name, values in arrays.items()
        if name.startswith(META_PREFIX) and np.asarray(values).shape[:1] == (n,)
    }
    original = np.asarray(x[spec.example], dtype=np.float64)
    edited = original.copy()
    notes = []
    for feature, value in spec.edits.items():
        if feature not in names:
            raise AnalysisInputError(
                f"feature {feature!r} in the edits is not an input of model {spec.model_id!r}; "
                f"its features are {describe_choices(names)}"
            )
        column = names.index(feature)
        values = np.asarray(x[:, column], dtype=np.float64)
        observed = np.unique(values)
        if len(observed) <= 2 and set(observed.tolist()) <= {0.0, 1.0} and value not in (0.0, 1.0):
            raise AnalysisInputError(
                f"value {value:g} for feature {feature!r} is outside what the model takes: the feature is a 0/1 flag"
            )
        if not values.min() <= value <= values.max():
            notes.append(
                f"{feature} = {value:g} is outside the data's range [{values.min():g}, {values.max():g}]: "
                "the model extrapolates"
            )
        edited[column] = value
    if spec.group_column is not None and spec.group_column not in names and spec.group_column not in metadata:
        raise AnalysisInputError(
            f"group column {spec.group_column!r} is neither a feature nor a metadata column of {path.name!r}; "
            f"choose {describe_choices([*metadata, *names])}"
        )
    pd_name = spec.pd_feature or next(iter(spec.edits), names[0])
    if pd_name not in names:
        raise AnalysisInputError(
            f"partial-dependence feature {pd_name!r} is not an input of model {spec.model_id!r}; "
            f"its features are {describe_choices(names)}"
        )
    return ResolvedWhatIf(
        spec=spec,
        revision=revision,
        x=x,
        feature_names=names,
        metadata=metadata,
        original=original,
        edited=edited,
        pd_feature=names.index(pd_name),
        notes=tuple(notes),
    )


def keras_probabilities(model: Any, output_kind: OutputKind) -> Callable[[np.ndarray], np.ndarray]:
    """``x [n, features] -> float64 [n, classes]`` class probabilities of a Keras classifier."""

    def probabilities(x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float32)
        outputs = [np.asarray(model(x[i : i + BATCH_SIZE], training=False)) for i in range(0, len(x), BATCH_SIZE)]
        out = np.concatenate(outputs).reshape(len(x), -1).astype(np.float64) if outputs else np.zeros((0, 2))
        if output_kind is OutputKind.BINARY_PROBABILITY or out.shape[1] == 1:
            p = np.clip(out[:, -1], 0.0, 1.0)
            return np.stack([1.0 - p, p], axis=1)
        if output_kind is OutputKind.LOGITS:
            shifted = np.exp(out - out.max(axis=1, keepdims=True))
            return shifted / shifted.sum(axis=1, keepdims=True)
        return out

    return probabilities


def run_whatif(
    spec: WhatIfSpec,
    *,
    model: Any = None,
    probabilities: Callable[[np.ndarray], np.ndarray] | None = None,
    registry: ModelRegistry | None = None,
) -> WhatIfResult:
    """The (edited) datapoint's prediction, counterfactuals and partial dependence; nothing is stored.

    ``model``: an already loaded Keras model of the spec's revision (None loads it);
    ``probabilities``: instead of a Keras model, any ``x -> [n, classes]`` function (tests, other frameworks).
    """
    resolved = resolve_whatif(spec, registry)
    if probabilities is None:
        if model is None:
            from analysis.models.loading import load_revision

            model = load_revision(resolved.revision, keras_needed_for="What-If")
        probabilities = keras_probabilities(model, resolved.revision.summary.output_kind)
    x = np.asarray(resolved.x, dtype=np.float64)
    every_row = probabilities(x)
    estimator = ModelEstimator(probabilities, n_classes=max(2, every_row.shape[1])).fit()
    point = probabilities(np.stack([resolved.original, resolved.edited]))
    edited_class = int(np.argmax(point[1]))
    scale = feature_scale(x)
    found = nearest(x, resolved.edited, np.argmax(every_row, axis=1) != edited_class, scale, spec.distance)
    counterfactual = None
    if found is not None:
        counterfactual = Counterpart(
            kind="nearest-different-prediction",
            index=found[0],
            distance=found[1],
            row=x[found[0]].copy(),
            probabilities=every_row[found[0]],
        )
    group_value, choices, other = _other_group(resolved, x, every_row, scale, probabilities)
    rows = np.sort(
        np.random.default_rng(spec.seed).choice(len(x), size=min(spec.ice_rows, len(x)), replace=False)
    ).astype(np.int64)
    curve = compute_partial_dependence(
        estimator,
        x,
        feature=resolved.pd_feature,
        feature_name=resolved.feature_names[resolved.pd_feature],
        rows=rows,
        point=resolved.edited,
        grid=spec.grid,
        class_index=edited_class if every_row.shape[1] > 2 else 1,
    )
    return WhatIfResult(
        model_id=spec.model_id,
        revision=resolved.revision.revision,
        example=spec.example,
        feature_names=resolved.feature_names,
        original=resolved.original,
        edited=resolved.edited,
        edits=dict(spec.edits),
        original_probabilities=point[0],
        edited_probabilities=point[1],
        distance=spec.distance,
        counterfactual=counterfactual,
        other_group=other,
        group_column=spec.group_column,
        group_value=group_value,
        group_choices=choices,
        partial_dependence=curve,
        notes=resolved.notes,
    )


def _other_group(
    resolved: ResolvedWhatIf,
    x: np.ndarray,
    every_row: np.ndarray,
    scale: tuple[np.ndarray, np.ndarray],
    probabilities: Callable[[np.ndarray], np.ndarray],
) -> tuple[str | None, tuple[str, ...], Counterpart | None]:
    """The datapoint's group, the column's values, and the counterpart in ``spec.other_group``."""
    spec = resolved.spec
    column = spec.group_column
    if column is None:
        return None, (), None
    if resolved.group_is_input:
        index = resolved.feature_names.index(column)
        values = np.unique(x[:, index])
        if len(values) > MAX_GROUP_VALUES:
            raise AnalysisInputError(
                f"feature {column!r} has {len(values)} distinct values; a group column needs at most "
                f"{MAX_GROUP_VALUES} (use a metadata column or a categorical input)"
            )
        labels = tuple(f"{v:g}" for v in values)
        own = f"{resolved.edited[index]:g}"
    else:
        groups = resolved.metadata[column]
        labels = tuple(sorted(set(groups.tolist())))
        own = str(groups[spec.example])
    others = [v for v in labels if v != own]
    if not others:
        raise AnalysisInputError(f"column {column!r} has one value only ({own!r}): there is no other group")
    target = spec.other_group if spec.other_group is not None else others[0]
    if target not in others:
        raise AnalysisInputError(
            f"other group {target!r} is not a value of {column!r} other than the datapoint's own ({own!r}); "
            f"choose {describe_choices(others)}"
        )
    if resolved.group_is_input:
        flipped = resolved.edited.copy()
        flipped[index] = float(target)
        return (
            own,
            labels,
            Counterpart(
                kind="flipped-input",
                index=None,
                distance=None,
                row=flipped,
                probabilities=probabilities(flipped[None])[0],
                column=column,
                group=target,
            ),
        )
    # the target is one of the column's observed values, so there is a nearest row
    index, distance = nearest(x, resolved.edited, resolved.metadata[column] == target, scale, spec.distance) or (0, 0.0)
    return (
        own,
        labels,
        Counterpart(
            kind="nearest-in-other-group",
            index=index,
            distance=distance,
            row=x[index].copy(),
            probabilities=every_row[index],
            column=column,
            group=target,
        ),
    )

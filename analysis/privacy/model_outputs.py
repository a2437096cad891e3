"""Audit inputs from a registered model: its outputs on member and non-member data.

The outputs are computed in batches (reporting progress) and kept in the result cache
under the model revision and the data file's content hash, so a second audit of the same
model on the same data (other attacks, slices or seed) skips the model entirely.
TensorFlow is imported only when outputs have to be computed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from analysis.datasets import META_PREFIX, DatasetInfo, DatasetRole, inspect_dataset, load_npz
from analysis.errors import AnalysisInputError, describe_choices
from analysis.models.registry import ModelRecord, ModelRegistry
from analysis.models.revisions import RevisionRecord
from analysis.models.summary import OutputKind as ModelOutputKind
from analysis.paths import open_result_store
from analysis.privacy.inputs import AuditInputs, ModelOutputs, OutputKind
from analysis.privacy.progress import scaled_progress
from analysis.privacy.slicing import MISSING_COLUMN
from analysis.privacy.spec import ModelSource
from analysis.progress import Progress

OUTPUTS_CODE_VERSION = "2"
_OUTPUT_KINDS = {  # what the model's output is -> what the audit is given
    ModelOutputKind.PROBABILITIES: OutputKind.PROBS,
    ModelOutputKind.BINARY_PROBABILITY: OutputKind.PROBS,
    ModelOutputKind.LOGITS: OutputKind.LOGITS,
}
NOT_A_CLASSIFIER = (
    "model {model!r} is not a classifier: its output is {kind!r} of shape {shape}; a membership audit needs "
    "class probabilities (softmax or sigmoid) or logits"
)
NO_LINKED_SETS = (
    "model {model!r} has no linked member and non-member sets and no data set with a train/test split; "
    "pass members and non-members files (--members M.npz --nonmembers N.npz), or link them with "
    "'python -m analysis models add ... --members M.npz --nonmembers N.npz'"
)


@dataclass(frozen=True, slots=True, kw_only=True)
class _Side:
    """Where one side's rows come from: a file, and optionally the rows of a split."""

    label: str  # "members" / "non-members"
    path: Path
    split: str | None = None  # "train"/"test" rows of a DATA file, or None for every row


def load_model_inputs(
    source: ModelSource,
    *,
    progress: Progress,
    registry: ModelRegistry | None = None,
    slice_columns: tuple[str, ...] = (),
) -> AuditInputs:
    """Both sides for ``source``: the model's outputs (cached) on each side's ``x``, with ``y`` as labels.

    ``slice_columns`` are checked against each file's metadata columns before the model runs,
    so a misspelt column fails at once instead of after computing the outputs.
    """
    registry = registry or ModelRegistry()
    record = registry.get(source.model_id)
    revision = registry.resolve(source.model_id, source.revision)
    summary = revision.summary
    if summary.output_kind not in _OUTPUT_KINDS or len(summary.output_shape) != 1:
        raise AnalysisInputError(
            NOT_A_CLASSIFIER.format(
                model=source.model_id, kind=summary.output_kind.value, shape=list(summary.output_shape)
            )
        )
    sides = _sides(source, record)
    loaded: list[ModelOutputs] = []
    hashes = {"model": revision.revision}
    class_names: tuple[str, ...] = ()
    files: dict[
        Path, tuple[DatasetInfo, dict[str, np.ndarray], np.ndarray, OutputKind]
    ] = {}  # a split file is read once
    for number, side in enumerate(sides):
        if side.path not in files:
            role = DatasetRole.DATA if side.split else (DatasetRole.MEMBERS, DatasetRole.NONMEMBERS)[number]
            info = inspect_dataset(side.path, role, input_shape=summary.input_shape)
            for column in slice_columns:
                if column not in info.metadata_columns:
                    raise AnalysisInputError(
                        MISSING_COLUMN.format(
                            column=column, side=side.label, choices=describe_choices(info.metadata_columns)
                        )
                    )
            arrays = load_npz(side.path)
            report = scaled_progress(progress, number / len(sides), (number + 1) / len(sides))
            outputs, kind = _cached_outputs(revision, info, arrays["x"], batch_size=source.batch_size, progress=report)
            files[side.path] = info, arrays, outputs, kind
        info, arrays, outputs, kind = files[side.path]
        rows = np.ones(len(outputs), dtype=bool) if side.split is None else arrays["split"] == side.split
        hashes[("members", "nonmembers")[number]] = info.sha256 + (
            "" if side.split is None else f"[split={side.split}]"
        )
        images = arrays["x"] if _is_image_batch(arrays["x"]) else None
        loaded.append(
            ModelOutputs(
                name=f"{side.label} file {str(side.path)!r}" + (f" (split {side.split!r})" if side.split else ""),
                outputs=outputs[rows],
                kind=kind,
                labels=arrays["y"][rows],
                metadata={k[len(META_PREFIX) :]: v[rows] for k, v in arrays.items() if k.startswith(META_PREFIX)},
                images=None if images is None else images[rows],
                image_range=summary.input_range,
            )
        )
        if "class_names" in arrays:
            class_names = tuple(str(name) for name in arrays["class_names"].tolist())
    return AuditInputs(
        members=loaded[0],
        nonmembers=loaded[1],
        hashes=hashes,
        model_id=source.model_id,
        revision=revision.revision,
        class_names=class_names,
    )


def _sides(source: ModelSource, record: ModelRecord) -> tuple[_Side, _Side]:
    if source.members is not None and source.nonmembers is not None:
        return _Side(label="members", path=Path(source.members)), _Side(
            label="non-members", path=Path(source.nonmembers)
        )
    members, nonmembers = record.dataset(DatasetRole.MEMBERS), record.dataset(DatasetRole.NONMEMBERS)
    if members is not None and nonmembers is not None:
        return _Side(label="members", path=Path(members.path)), _Side(label="non-members", path=Path(nonmembers.path))
    data = record.dataset(DatasetRole.DATA)
    if data is not None and data.has_split:
        path = Path(data.path)
        return _Side(label="members", path=path, split="train"), _Side(label="non-members", path=path, split="test")
    raise AnalysisInputError(NO_LINKED_SETS.format(model=source.model_id))


def _cached_outputs(
    revision: RevisionRecord, info: DatasetInfo, x: np.ndarray, *, batch_size: int, progress: Progress
) -> tuple[np.ndarray, OutputKind]:
    """The model's outputs ``[n, width]`` on every row of the file ``info`` describes, and their kind."""
    from cache import NPZ, make_key

    key = make_key(
        revision=revision.revision,
        analysis="model-outputs",
        params={"data_sha256": info.sha256, "prefer": "logits"},
        code_version=OUTPUTS_CODE_VERSION,
    )

    def compute() -> dict[str, np.ndarray]:
        outputs, kind = compute_outputs(revision, x, batch_size=batch_size, progress=progress)
        return {"outputs": outputs, "kind": np.array(kind.value)}

    store = open_result_store()
    try:
        fetched = store.get_or_compute(key, compute, NPZ)
    finally:
        store.close()
    if fetched.from_cache:
        progress(1.0, f"model outputs on {len(x)} examples: from the cache")
    return fetched.value["outputs"], OutputKind(str(fetched.value["kind"]))


def compute_outputs(
    revision: RevisionRecord, x: np.ndarray, *, batch_size: int, progress: Progress
) -> tuple[np.ndarray, OutputKind]:
    """Run the model on ``x`` in batches (``progress`` after each): outputs ``[n, width]`` and their kind.

    When the model ends in a softmax or sigmoid head, the outputs are that head's logits (the
    input of a final ``Softmax``/``Activation`` layer, or a final ``Dense`` layer's
    pre-activation, computed in float64): float32 probabilities saturate at 1.0 for
    confidently fitted examples, making member and non-member losses tie at 0.
    """
    from analysis.models.loading import load_revision

    progress(0.0, f"loading model {revision.model_id} (revision {revision.short})")
    model = load_revision(revision, keras_needed_for="privacy audits")
    runner, head = _logits_runner(model)
    batches = []
    for start in range(0, len(x), batch_size):
        batch = np.asarray(x[start : start + batch_size], dtype=np.float32)
        batches.append(np.asarray(runner.predict_on_batch(batch)).reshape(len(batch), -1))
        done = min(start + batch_size, len(x))
        progress(done / len(x), f"model outputs: {done}/{len(x)} examples")
    outputs = np.concatenate(batches)
    if runner is model:
        return outputs.astype(np.float32), _OUTPUT_KINDS[revision.summary.output_kind]
    if head is not None:  # a Dense head: its pre-activation, in float64
        weights, bias = (np.asarray(w, dtype=np.float64) for w in head.get_weights())
        outputs = outputs.astype(np.float64) @ weights + bias
    return outputs, OutputKind.LOGITS


def _logits_runner(model: Any) -> tuple[Any, Any]:
    """``(runner, dense_head)``: a model giving logits (or a Dense head's input), else ``(model, None)``."""
    import keras

    last = model.layers[-1]
    config = last.get_config() if hasattr(last, "get_config") else {}
    try:
        if type(last).__name__ == "Softmax" or (
            type(last).__name__ == "Activation" and config.get("activation") in ("softmax", "sigmoid")
        ):
            return keras.Model(model.inputs, last.input), None
        if (
            type(last).__name__ == "Dense"
            and config.get("activation") in ("softmax", "sigmoid")
            and len(last.get_weights()) == 2
        ):
            return keras.Model(model.inputs, last.input), last
    except (AttributeError, ValueError):  # a layer called several times, or a wrapped SavedModel
        pass
    return model, None


def _is_image_batch(x: np.ndarray) -> bool:
    return x.ndim == 3 or (x.ndim == 4 and x.shape[-1] in (1, 3, 4))

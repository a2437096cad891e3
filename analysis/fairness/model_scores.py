"""Scores of a registered model on its linked data, for fairness slicing (imports TensorFlow lazily).

The score of an example is the model's probability of class 1: the output of a sigmoid
unit, or the second column of a two-class softmax. Scores are computed in batches and
kept in the result store, keyed by the model revision and the data file's hash, so a
second analysis of the same model and data does not run the model again.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from analysis.datasets import META_PREFIX, DatasetRole, load_npz
from analysis.errors import AnalysisInputError, describe_choices
from analysis.fairness.spec import FairnessSpec
from analysis.fairness.tables import MISSING_COLUMN, FairnessData, check_labels, sensitive_values
from analysis.hashing import sha256_file
from analysis.models.registry import ModelRegistry
from analysis.models.revisions import RevisionRecord
from analysis.models.summary import OutputKind

SCORES_CODE_VERSION = "1"
BATCH_SIZE = 4096


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class ModelData:
    """Checked rows plus where they came from (for the record)."""

    data: FairnessData
    revision: RevisionRecord
    data_path: str
    data_hash: str
    scores_from_cache: bool


def load_model_data(spec: FairnessSpec) -> ModelData:
    """The model's scores, labels and ``meta_<column>`` sensitive columns of its DATA npz."""
    record = ModelRegistry().get(spec.model_id)
    revision = record.current
    if spec.data_path is not None:
        path = Path(spec.data_path).expanduser()
        data_hash = sha256_file(path) if path.is_file() else ""
    else:
        linked = record.dataset(DatasetRole.DATA)
        if linked is None:
            raise AnalysisInputError(
                f"model {spec.model_id!r} has no linked DATA dataset; link one with "
                f"'python -m analysis models add PATH --id {spec.model_id} --data DATA.npz' or pass --data"
            )
        path, data_hash = Path(linked.path), linked.sha256
    arrays = load_npz(path)
    columns = sorted(name[len(META_PREFIX) :] for name in arrays if name.startswith(META_PREFIX))
    for column in spec.sensitive:
        if META_PREFIX + column not in arrays:
            raise AnalysisInputError(
                MISSING_COLUMN.format(
                    column=column, source=f"model data {str(path)!r}", present=describe_choices(columns)
                )
            )
    if "x" not in arrays or "y" not in arrays:
        raise AnalysisInputError(
            f"data file {str(path)!r} needs arrays 'x' and 'y'; it has {describe_choices(sorted(arrays))}"
        )
    if not data_hash:
        data_hash = sha256_file(path)
    y_true = check_labels(arrays["y"], column="y")
    scores, from_cache = model_scores(revision, arrays["x"], data_hash)
    keep = np.ones(len(y_true), dtype=bool)
    if spec.split is not None:
        if "split" not in arrays:
            raise AnalysisInputError(
                f"data file {str(path)!r} has no 'split' array; leave the split unset to use all rows"
            )
        keep = arrays["split"] == spec.split
        if not keep.any():
            raise AnalysisInputError(f"data file {str(path)!r} has no rows in split {spec.split!r}")
    sensitive = {
        c: sensitive_values(arrays[META_PREFIX + c][keep], column=c, missing=spec.missing) for c in spec.sensitive
    }
    data = FairnessData(
        y_true=y_true[keep],
        scores=scores[keep],
        is_prediction=False,
        sensitive=sensitive,
        content_hash=data_hash,
    )
    return ModelData(
        data=data, revision=revision, data_path=str(path), data_hash=data_hash, scores_from_cache=from_cache
    )


def model_scores(revision: RevisionRecord, x: np.ndarray, data_hash: str) -> tuple[np.ndarray, bool]:
    """float64 ``[n]`` probability of class 1 for every row of ``x``, and whether it came from the cache."""
    from analysis.paths import open_result_store
    from cache import NPZ, make_key

    kind = revision.summary.output_kind
    width = revision.summary.output_shape[-1] if revision.summary.output_shape else None
    if not (kind is OutputKind.BINARY_PROBABILITY or (kind is OutputKind.PROBABILITIES and width == 2)):
        raise AnalysisInputError(
            f"fairness slices need a binary classifier (one sigmoid unit, or a two-class softmax); "
            f"model {revision.model_id!r} outputs {kind.value} of shape {list(revision.summary.output_shape)}"
        )
    store = open_result_store()
    key = make_key(
        revision=revision.revision,
        analysis="fairness-scores",
        params={"data": data_hash},
        code_version=SCORES_CODE_VERSION,
    )

    def compute() -> dict[str, np.ndarray]:
        from analysis.models.loading import load_revision

        model = load_revision(revision, keras_needed_for="fairness slices")
        outputs = np.asarray(model.predict(x, batch_size=BATCH_SIZE, verbose=0), dtype=np.float64)
        probability = outputs.reshape(len(x), -1)[:, -1]  # sigmoid: the one column; softmax: class 1
        return {"scores": np.clip(probability, 0.0, 1.0)}

    try:
        fetched = store.get_or_compute(key, compute, NPZ)
    finally:
        store.close()
    return fetched.value["scores"], fetched.from_cache

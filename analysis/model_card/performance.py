"""A card's overall performance: the model's accuracy (and AUC, for a binary classifier) on its held-out data.

Every card states it. *Held-out data* of a registered model is, in this order: the ``"test"`` rows
of its linked DATA set (when it has a ``split`` column), else its linked NONMEMBERS set (held-out
examples by definition). The numbers are computed once per model revision and data content hash
and stored as a ``performance`` record (content-addressed and chained like every record); a card
cites the stored record, so building a card runs the model only when no record exists yet.
A model without held-out data, or whose output is not a classifier's, gets a sentence saying so
(and which data set to link, and how) instead of a number.

``measure_performance`` computes (pure, imports TensorFlow lazily); ``performance_section`` finds or
stores the record and returns what the card shows.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from analysis.datasets import DatasetInfo, DatasetRole, load_npz
from analysis.model_card.evidence import CardMetric
from analysis.models.registry import ModelRecord
from analysis.models.revisions import RevisionRecord
from analysis.models.summary import OutputKind
from analysis.records import AnalysisRecord, RecordStore, library_versions

KIND = "performance"
CODE_VERSION = "1"
BATCH_SIZE = 1024
HELD_OUT_SPLIT = "test"
LABELS = {"accuracy": "accuracy", "auc": "ROC AUC", "count": "held-out examples"}
CLASSIFIER_KINDS = (OutputKind.PROBABILITIES, OutputKind.BINARY_PROBABILITY, OutputKind.LOGITS)
NO_HELD_OUT = (
    "No overall performance is stated: model {model_id!r} has no held-out data linked. Link a labelled data set "
    "with a 'split' column whose held-out rows are 'test' ('python -m analysis models add MODEL_FILE --id {model_id} "
    "--data DATA.npz'), or a held-out set with '--nonmembers HELD_OUT.npz'; the next card computes and records "
    "the model's accuracy on it."
)
NOT_A_CLASSIFIER = (
    "No overall performance is stated: model {model_id!r} outputs {kind} values, and Loupe states accuracy and AUC "
    "for classifiers only (a softmax, logits or one sigmoid unit)."
)


@dataclass(frozen=True, slots=True, kw_only=True)
class HeldOut:
    """Where a model's held-out examples are: a linked set, and the split rows used (None: every row)."""

    info: DatasetInfo
    split: str | None

    @property
    def label(self) -> str:
        name = Path(self.info.path).name
        if self.split:
            return f"the {self.split!r} rows of the linked {self.info.role.value} set {name}"
        return f"the linked {self.info.role.value} set {name}"


@dataclass(frozen=True, slots=True, kw_only=True)
class PerformanceSection:
    """What a card says about overall performance: the record and its metrics, or why there are none."""

    record: AnalysisRecord | None
    metrics: tuple[CardMetric, ...]
    held_out: str  # which data, in words ("" when there is none)
    missing: str = ""  # why no metric is stated

    def summary_text(self) -> str:
        if self.record is None:
            return self.missing
        result = self.record.result
        n = result.get("n_examples")
        return f"Measured on {self.held_out} ({n:,} examples), record {self.record.record_id}."


def held_out_data(model: ModelRecord) -> HeldOut | None:
    """The model's held-out examples (see the module docstring), or None when none are linked."""
    data = model.dataset(DatasetRole.DATA)
    if data is not None and data.has_split:
        return HeldOut(info=data, split=HELD_OUT_SPLIT)
    nonmembers = model.dataset(DatasetRole.NONMEMBERS)
    if nonmembers is not None:
        return HeldOut(info=nonmembers, split=None)
    return None


def measure_performance(revision: RevisionRecord, held_out: HeldOut) -> dict[str, Any]:
    """Accuracy, AUC (binary) and the number of examples of ``revision`` on ``held_out`` (runs the model)."""
    return measure_performance_on(revision, Path(held_out.info.path), held_out.split)


def measure_performance_on(revision: RevisionRecord, path: Path, split: str | None) -> dict[str, Any]:
    """:func:`measure_performance` on the ``.npz`` at ``path`` (its ``split`` rows, or all when None)."""
    from analysis.models.loading import load_revision

    arrays = load_npz(path)
    x, y = arrays["x"], np.asarray(arrays["y"]).astype(np.int64).reshape(-1)
    if split is not None:
        keep = arrays["split"] == split
        x, y = x[keep], y[keep]
    model = load_revision(revision, keras_needed_for="performance metrics")
    outputs = np.asarray(model.predict(x, batch_size=BATCH_SIZE, verbose=0), dtype=np.float64).reshape(len(x), -1)
    return performance_from_outputs(outputs, y, revision.summary.output_kind)


def performance_from_outputs(outputs: np.ndarray, y: np.ndarray, kind: OutputKind) -> dict[str, Any]:
    """The stored result from the model's outputs ``[n, k]`` and integer labels ``[n]`` (pure)."""
    if outputs.shape[1] == 1:  # one sigmoid unit: probability of class 1
        score = outputs[:, 0]
        predicted = (score >= 0.5).astype(np.int64)
    else:
        predicted = outputs.argmax(axis=1)
        score = outputs[:, 1] if outputs.shape[1] == 2 else None
        if score is not None and kind is OutputKind.LOGITS:
            score = outputs[:, 1] - outputs[:, 0]  # monotone in the class-1 probability: same AUC
    n = len(y)
    accuracy = float(np.mean(predicted == y)) if n else None
    auc, auc_reason = None, ""
    if score is None:
        auc_reason = "AUC is stated for binary classifiers only"
    elif len(np.unique(y)) < 2:
        auc_reason = "AUC needs both classes among the held-out examples"
    else:
        auc = _roc_auc(y, score)
    return {
        "n_examples": n,
        "accuracy": accuracy,
        "auc": auc,
        "auc_reason": auc_reason,
        "classes": int(outputs.shape[1]) if outputs.shape[1] > 1 else 2,
    }


def _roc_auc(y: np.ndarray, score: np.ndarray) -> float:
    """The Mann-Whitney AUC of ``score`` for ``y == 1`` (ties count one half)."""
    from scipy.stats import rankdata

    ranks = rankdata(score)
    positives = y == 1
    n_pos, n_neg = int(positives.sum()), int((~positives).sum())
    return float((ranks[positives].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def find_performance_record(
    model_id: str, revision: str, held_out: HeldOut, store: RecordStore
) -> AnalysisRecord | None:
    """The newest stored performance record of this revision on this data content and split, or None."""
    for record in store.list(model_id=model_id):
        if (
            record.kind == KIND
            and record.revision == revision
            and dict(record.inputs) == {"held_out": held_out.info.sha256}
            and record.parameters.get("split") == held_out.split
            and record.parameters.get("code_version") == CODE_VERSION
        ):
            return record
    return None


def read_performance(record: AnalysisRecord) -> tuple[CardMetric, ...]:
    """The card's metrics of a performance record: accuracy, AUC (when defined) and the example count."""
    result, rid = record.result, record.record_id
    metrics = [
        CardMetric(record_id=rid, section="performance", name=name, type=name, slice="", value=result.get(name))
        for name in ("accuracy", "auc")
        if result.get(name) is not None
    ]
    metrics.append(
        CardMetric(
            record_id=rid, section="performance", name="count", type="count", slice="", value=result["n_examples"]
        )
    )
    return tuple(metrics)


def performance_section(model: ModelRecord, revision: RevisionRecord, store: RecordStore) -> PerformanceSection:
    """The card's overall performance: the stored record for this revision and data (computed and
    stored first when there is none), or why none can be stated."""
    held_out = held_out_data(model)
    if held_out is None:
        return PerformanceSection(
            record=None, metrics=(), held_out="", missing=NO_HELD_OUT.format(model_id=model.model_id)
        )
    kind = revision.summary.output_kind
    if kind not in CLASSIFIER_KINDS:
        return PerformanceSection(
            record=None,
            metrics=(),
            held_out=held_out.label,
            missing=NOT_A_CLASSIFIER.format(model_id=model.model_id, kind=kind.value.replace("_", " ")),
        )
    record = find_performance_record(model.model_id, revision.revision, held_out, store)
    if record is None:
        result = measure_performance(revision, held_out)
        record = store.save(
            kind=KIND,
            model_id=model.model_id,
            revision=revision.revision,
            inputs={"held_out": held_out.info.sha256},
            parameters={"role": held_out.info.role.value, "split": held_out.split, "code_version": CODE_VERSION},
            versions=library_versions("numpy", "scipy", "tensorflow-cpu", "keras"),
            result={**result, "held_out": held_out.label},
            extra={"locations": {"held_out": held_out.info.path}},
        )
    return PerformanceSection(record=record, metrics=read_performance(record), held_out=held_out.label)

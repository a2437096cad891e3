"""``AuditCallback``: a membership audit every N epochs of ``model.fit``, stored as tagged records.

    from analysis.privacy.keras import AuditCallback
    callback = AuditCallback(members=(x_train, y_train), nonmembers=(x_held, y_held), run="resnet-lr0.1",
                             every=5, test_data=(x_test, y_test))
    model.fit(x_train, y_train, epochs=50, callbacks=[callback])
    # python -m analysis privacy-report --run resnet-lr0.1   (or /privacy?compare=<callback.record_ids>)

Each audit runs the cheap attacks (threshold and entropy: no attack model is trained) on the model's
outputs for both sides and is stored as a ``privacy`` record whose ``extra`` holds the run name,
the epoch (1-based), the test accuracy on ``test_data`` when given, and content hashes of the
member and non-member data (so the report can tell audits of other data apart). Every shape is
checked when the callback is built and when Keras attaches it to the model (one prediction on two
examples), so wrong data fails before the first epoch, not at epoch 37.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import keras
import numpy as np

from analysis.errors import AnalysisInputError
from analysis.hashing import sha256_arrays
from analysis.privacy.attacks import AttackKind
from analysis.privacy.inputs import ModelOutputs, OutputKind
from analysis.privacy.report import DATA, EPOCH, RUN, TEST_ACCURACY
from analysis.privacy.spec import MembershipAuditSpec, OutputArraysSource, SlicingOptions

CHEAP_ATTACKS = (AttackKind.THRESHOLD, AttackKind.ENTROPY)
PAIR = "{side} must be a pair (x, y) of arrays, got {got}"
LENGTHS = "{side}: x has {n} examples but y has {m} labels"
LABELS = "{side}: y must be one integer class index per example, shape ({n},); got shape {shape} and dtype {dtype}"
FEATURES = "{side}: examples have shape {shape}, but members have {expected}; every side must fit the same model"
MODEL_INPUT = "{side}: examples have shape {shape}, but the model takes {expected}"
NOT_CLASSIFIER = "the model's output has shape {shape}; an audit needs one row of class scores per example"
LABEL_RANGE = "{side}: label {label} is out of range for the model's {k} output classes (0-{top})"


class AuditCallback(keras.callbacks.Callback):
    """Audits every ``every`` epochs (and after the last one) and stores each audit as a record."""

    def __init__(
        self,
        *,
        members: tuple[np.ndarray, np.ndarray],
        nonmembers: tuple[np.ndarray, np.ndarray],
        run: str,
        every: int = 1,
        test_data: tuple[np.ndarray, np.ndarray] | None = None,
        attacks: Sequence[AttackKind | str] = CHEAP_ATTACKS,
        slices: str = "none",
        seed: int = 0,
        batch_size: int = 256,
        home: Path | None = None,
    ) -> None:
        super().__init__()
        if not run or not run.strip():
            raise AnalysisInputError("a run needs a name, e.g. run='cnn-lr0.01'")
        if isinstance(every, bool) or not isinstance(every, int) or every < 1:
            raise AnalysisInputError(f"every={every!r} must be a whole number of epochs, 1 or more")
        self.members = _pair("members", members)
        self.nonmembers = _pair("nonmembers", nonmembers)
        self.test_data = None if test_data is None else _pair("test_data", test_data)
        expected = self.members[0].shape[1:]
        for side, (x, _) in (("nonmembers", self.nonmembers), ("test_data", self.test_data or self.nonmembers)):
            if x.shape[1:] != expected:
                raise AnalysisInputError(FEATURES.format(side=side, shape=x.shape[1:], expected=expected))
        self.run = run.strip()
        self.every = every
        self.batch_size = batch_size
        self.home = home
        # the spec's own checks (attack names, seed) run now, on a placeholder source
        self._template = MembershipAuditSpec(
            source=OutputArraysSource(members=_placeholder(), nonmembers=_placeholder()),
            attacks=tuple(attacks),
            slicing=SlicingOptions.parse(slices),
            seed=seed,
            workers=1,
            n_exposed=0,
        )
        self.data_hashes = {
            "members": sha256_arrays({"x": self.members[0], "y": self.members[1]}),
            "nonmembers": sha256_arrays({"x": self.nonmembers[0], "y": self.nonmembers[1]}),
        }
        self.record_ids: list[str] = []
        self._last_audited: int | None = None

    def set_model(self, model: keras.Model) -> None:
        """Keras attaches the model before training: check it takes the data and outputs class scores."""
        super().set_model(model)
        declared = tuple((getattr(model, "inputs", None) and model.inputs[0].shape[1:]) or ())
        sides = [("members", self.members), ("nonmembers", self.nonmembers)]
        sides += [("test_data", self.test_data)] if self.test_data else []
        for side, (x, _) in sides:
            if declared and (
                len(declared) != len(x.shape[1:])
                or any(d is not None and d != s for d, s in zip(declared, x.shape[1:], strict=False))
            ):
                raise AnalysisInputError(MODEL_INPUT.format(side=side, shape=x.shape[1:], expected=declared))
        try:
            probe = np.asarray(model(self.members[0][:2], training=False))
        except Exception as error:  # Keras raises many types for a shape mismatch
            raise AnalysisInputError(
                MODEL_INPUT.format(side="members", shape=self.members[0].shape[1:], expected=declared or "other input")
                + f" ({error})"
            ) from error
        if probe.ndim != 2:
            raise AnalysisInputError(NOT_CLASSIFIER.format(shape=probe.shape))
        k = max(probe.shape[1], 2)
        for side, (_, y) in sides:
            if len(y) and (y.max() >= k or y.min() < 0):
                bad = int(y.max() if y.max() >= k else y.min())
                raise AnalysisInputError(LABEL_RANGE.format(side=side, label=bad, k=k, top=k - 1))

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        if (epoch + 1) % self.every == 0:
            self.audit(epoch + 1)

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        epochs = self.params.get("epochs") if self.params else None
        if epochs and self._last_audited != epochs:
            self.audit(int(epochs))

    def audit(self, epoch: int) -> str:
        """Audit the model as it is now, store the record tagged with ``epoch``; returns its id."""
        from dataclasses import replace

        from analysis.privacy.audit_records import save_audit
        from analysis.privacy.engine import run_membership_audit
        from analysis.records import RecordStore

        source = OutputArraysSource(members=self._outputs("members"), nonmembers=self._outputs("nonmembers"))
        result = run_membership_audit(replace(self._template, source=source))
        extra: dict[str, Any] = {RUN: self.run, EPOCH: epoch, DATA: dict(self.data_hashes)}
        if self.test_data is not None:
            x, y = self.test_data
            scores = self._predict(x)
            predicted = np.argmax(scores, axis=1) if scores.shape[1] > 1 else (scores[:, 0] > 0.5).astype(int)
            extra[TEST_ACCURACY] = float(np.mean(predicted == y))
        record = save_audit(result, RecordStore(self.home), extra=extra)
        self.record_ids.append(record.record_id)
        self._last_audited = epoch
        return record.record_id

    def _predict(self, x: np.ndarray) -> np.ndarray:
        return np.asarray(self.model.predict(x, batch_size=self.batch_size, verbose=0), dtype=np.float64)

    def _outputs(self, side: str) -> ModelOutputs:
        x, y = getattr(self, side)
        scores = self._predict(x)
        rows = (
            scores
            if scores.ndim == 2 and scores.shape[1] > 1
            else np.column_stack([1 - scores.ravel(), scores.ravel()])
        )
        is_probs = bool(np.all(rows >= 0) and np.all(rows <= 1) and np.allclose(rows.sum(1), 1, atol=1e-3))
        return ModelOutputs(
            name=side, outputs=rows, kind=OutputKind.PROBS if is_probs else OutputKind.LOGITS, labels=y.astype(np.int64)
        )


def _pair(side: str, value: Any) -> tuple[np.ndarray, np.ndarray]:
    if not isinstance(value, tuple | list) or len(value) != 2:
        raise AnalysisInputError(PAIR.format(side=side, got=type(value).__name__))
    x, y = np.asarray(value[0]), np.asarray(value[1])
    if len(x) != len(y):
        raise AnalysisInputError(LENGTHS.format(side=side, n=len(x), m=len(y)))
    if y.ndim != 1 or not np.issubdtype(y.dtype, np.integer):
        raise AnalysisInputError(LABELS.format(side=side, n=len(y), shape=y.shape, dtype=y.dtype))
    if len(x) == 0:
        raise AnalysisInputError(f"{side}: no examples (0 rows)")
    return x, y


def _placeholder() -> ModelOutputs:
    return ModelOutputs(
        name="placeholder", outputs=np.full((1, 2), 0.5), kind=OutputKind.PROBS, labels=np.zeros(1, int)
    )

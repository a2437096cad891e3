"""AuditCallback: audits during model.fit stored as run-tagged records; wrong data fails before epoch 1."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from analysis.errors import AnalysisInputError
from analysis.privacy.keras import AuditCallback
from analysis.privacy.report import compute_privacy_report
from analysis.privacy.report_records import load_report_audits
from analysis.records import RecordStore


def tiny_model(n_in: int = 6) -> keras.Model:
    keras.utils.set_random_seed(0)
    inputs = keras.Input((n_in,))
    hidden = keras.layers.Dense(16, activation="relu")(inputs)
    model = keras.Model(inputs, keras.layers.Dense(3, activation="softmax")(hidden))
    model.compile(optimizer=keras.optimizers.Adam(0.05), loss="sparse_categorical_crossentropy")
    return model


def data(n: int, seed: int, n_in: int = 6) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, n_in)).astype("float32"), rng.integers(0, 3, n)  # random labels: only memorizable


def test_audits_every_n_epochs_and_after_the_last_tagged_with_run_and_epoch(loupe_home):
    members, nonmembers, test = data(120, 0), data(120, 1), data(60, 2)
    callback = AuditCallback(members=members, nonmembers=nonmembers, run="toy-run", every=2, test_data=test)
    model = tiny_model()
    model.fit(*members, epochs=3, batch_size=32, verbose=0, callbacks=[callback])
    assert len(callback.record_ids) == 2
    records = [RecordStore().get(i) for i in callback.record_ids]
    assert [(r.extra["run"], r.extra["epoch"]) for r in records] == [("toy-run", 2), ("toy-run", 3)]
    expected_accuracy = float(np.mean(np.argmax(model.predict(test[0], verbose=0), axis=1) == test[1]))
    assert records[1].extra["test_accuracy"] == pytest.approx(expected_accuracy)
    report = compute_privacy_report(*load_report_audits(run="toy-run")[:1])
    assert [p.epoch for p in report.points] == [2, 3]
    assert all(p.accuracy_source == "test data" for p in report.points)
    assert {r.result["attacks"][0] for r in records} == {"threshold"}


def test_wrong_shapes_fail_when_built_or_attached_not_during_training(loupe_home):
    with pytest.raises(AnalysisInputError, match=r"nonmembers: examples have shape \(5,\), but members have \(6,\)"):
        AuditCallback(members=data(10, 0), nonmembers=data(10, 1, n_in=5), run="r")
    with pytest.raises(AnalysisInputError, match="members: x has 10 examples but y has 9 labels"):
        AuditCallback(members=(data(10, 0)[0], np.zeros(9, int)), nonmembers=data(10, 1), run="r")
    with pytest.raises(AnalysisInputError, match="every=0"):
        AuditCallback(members=data(10, 0), nonmembers=data(10, 1), run="r", every=0)
    callback = AuditCallback(members=data(10, 0, n_in=4), nonmembers=data(10, 1, n_in=4), run="r")
    model = tiny_model(6)
    with pytest.raises(AnalysisInputError, match=r"members: examples have shape \(4,\), but the model takes \(6,\)"):
        model.fit(*data(10, 0), epochs=40, verbose=0, callbacks=[callback])
    assert callback.record_ids == [] and RecordStore().list(kind="privacy") == []
    labels = AuditCallback(members=(data(10, 0)[0], np.full(10, 7)), nonmembers=data(10, 1), run="r")
    with pytest.raises(AnalysisInputError, match="members: label 7 is out of range for the model's 3 output classes"):
        labels.set_model(tiny_model())

"""Every card states the model's overall performance on its held-out data, or says why it cannot.

Checked against scikit-learn's accuracy_score/roc_auc_score on the same model's predictions.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import accuracy_score, roc_auc_score

from analysis.datasets import DatasetRole
from analysis.model_card import CardFormat, ModelCardSpec, build_model_card, render_card
from analysis.model_card.lineage import build_lineage
from analysis.model_card.performance import KIND, performance_from_outputs
from analysis.models.registry import ModelRegistry, RegisterModelSpec
from analysis.models.summary import OutputKind
from analysis.records import RecordStore
from tests.analysis.model_card.model_card_support import (  # noqa: F401
    MODEL_ID,
    _make_model,
    card_home,
    card_template,
    full_fields,
)


def _held_out_model(tmp_path: Path, home: Path) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(3)
    x = rng.random((60, 4)).astype("float32")
    y = (x[:, 0] + 0.3 * rng.random(60) > 0.6).astype(np.int64)
    split = np.array(["train", "test", "test"] * 20)
    np.savez(tmp_path / "split.npz", x=x, y=y, split=split)
    _make_model(tmp_path / "held.keras", seed=5)
    ModelRegistry(home).register(
        RegisterModelSpec(
            path=tmp_path / "held.keras", model_id="held", datasets={DatasetRole.DATA: tmp_path / "split.npz"}
        )
    )
    return x[split == "test"], y[split == "test"]


def test_a_fresh_card_states_accuracy_and_auc_on_the_test_rows_and_records_them_once(card_home, tmp_path):  # noqa: F811
    import keras

    x, y = _held_out_model(tmp_path, card_home)
    score = keras.models.load_model(tmp_path / "held.keras").predict(x, verbose=0)[:, 0]
    spec = ModelCardSpec(model_id="held", home=card_home, fields=full_fields(), graphics=False)
    card = build_model_card(spec)
    reported = {m["type"]: m for m in card.document["quantitative_analysis"]["performance_metrics"]}
    assert float(reported["accuracy"]["value"]) == pytest.approx(accuracy_score(y, score >= 0.5), abs=1e-12)
    assert float(reported["auc"]["value"]) == pytest.approx(roc_auc_score(y, score), abs=1e-9)
    assert reported["count"]["value"] == "40"
    assert list(reported)[:3] == ["accuracy", "auc", "count"]  # the overall performance comes first
    records = [r for r in RecordStore(card_home).list(model_id="held") if r.kind == KIND]
    assert len(records) == 1 and records[0].inputs == {
        "held_out": ModelRegistry(card_home).get("held").datasets[0].sha256
    }
    description = card.document["quantitative_analysis"]["graphics"]["description"]
    assert "performance_metrics[0:3] are the overall performance on the 'test' rows" in description
    assert f"urn:loupe:record:{records[0].record_id}" in str(card.document["model_details"]["references"])
    assert card.cited_record_ids == (records[0].record_id,) and card.record_ids == ()
    lineage = build_lineage(
        [RecordStore(card_home).get(i) for i in card.cited_record_ids], registry=ModelRegistry(card_home)
    )
    assert ("data set", "split.npz", "held_out") in [(s.stage, s.name, s.detail) for s in lineage]
    again = build_model_card(spec)  # the stored record is cited, not recomputed
    assert [r.record_id for r in RecordStore(card_home).list(model_id="held") if r.kind == KIND] == [
        records[0].record_id
    ]
    assert (
        again.document["quantitative_analysis"]["performance_metrics"]
        == card.document["quantitative_analysis"]["performance_metrics"]
    )
    accuracy = f"{accuracy_score(y, score >= 0.5):.4g}"
    for card_format in (CardFormat.HTML, CardFormat.MARKDOWN, CardFormat.HUGGING_FACE):
        text = render_card(card, card_format)
        assert "Overall performance" in text and accuracy in text and records[0].record_id in text


def test_a_card_without_held_out_data_says_which_data_to_link(card_home):  # noqa: F811
    card = build_model_card(ModelCardSpec(model_id=MODEL_ID, home=card_home, fields=full_fields(), graphics=False))
    assert "performance_metrics" not in card.document["quantitative_analysis"]  # no number invented
    description = card.document["quantitative_analysis"]["graphics"]["description"]
    assert "has no held-out data linked" in description and "--nonmembers" in description
    html = render_card(card, CardFormat.HTML)
    assert "Overall performance" in html and "has no held-out data linked" in html
    assert not [r for r in RecordStore(card_home).list(model_id=MODEL_ID) if r.kind == KIND]


def test_softmax_accuracy_and_two_class_auc_match_scikit_learn():
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(50, 3))
    probabilities = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    y = rng.integers(0, 3, 50)
    result = performance_from_outputs(probabilities, y, OutputKind.PROBABILITIES)
    assert result["accuracy"] == pytest.approx(accuracy_score(y, probabilities.argmax(axis=1)))
    assert result["auc"] is None and result["auc_reason"]
    two = performance_from_outputs(logits[:, :2], y % 2, OutputKind.LOGITS)
    assert two["auc"] == pytest.approx(roc_auc_score(y % 2, logits[:, 1] - logits[:, 0]))

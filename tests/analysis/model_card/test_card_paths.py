"""Cards are shared documents: they name the model's file and revision hash, never its server path."""

from __future__ import annotations

from analysis.datasets import DatasetRole
from analysis.model_card import CardFormat, ModelCardSpec, build_model_card, render_card
from analysis.models.registry import ModelRegistry, RegisterModelSpec
from tests.analysis.model_card.model_card_support import full_fields


def test_no_server_path_in_any_card_format(loupe_home, tiny_cnn_path, tiny_dataset_path):
    ModelRegistry().register(
        RegisterModelSpec(path=tiny_cnn_path, model_id="tiny", datasets={DatasetRole.DATA: tiny_dataset_path})
    )
    card = build_model_card(ModelCardSpec(model_id="tiny", fields=full_fields(), record_ids=()))
    assert card.model_path == "tiny.keras"
    for card_format in CardFormat:
        text = render_card(card, card_format)
        text = text.decode(errors="replace") if isinstance(text, bytes) else text
        assert str(tiny_cnn_path.parent) not in text, card_format
        assert str(loupe_home) not in text, card_format

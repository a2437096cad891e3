"""Counts of units read as English: "1 unit", "3 units" (card architecture, models list)."""

from __future__ import annotations

from analysis.cli.main import main
from analysis.model_card import ModelCardSpec, build_model_card
from analysis.models.summary import units_text
from tests.analysis.model_card.model_card_support import (  # noqa: F401
    MODEL_ID,
    card_home,
    card_template,
    full_fields,
)


def test_units_text_is_singular_for_one():
    assert [units_text(n) for n in (0, 1, 2, 32)] == ["0 units", "1 unit", "2 units", "32 units"]


def test_card_and_models_list_say_1_unit(card_home, capsys):  # noqa: F811
    card = build_model_card(ModelCardSpec(model_id=MODEL_ID, home=card_home, fields=full_fields(), graphics=False))
    architecture = card.document["model_parameters"]["model_architecture"]
    assert "hidden (Dense, 3 units)" in architecture and "out (Dense, 1 unit)" in architecture
    assert "1 units" not in card.to_json()
    assert main(["models", "list"]) == 0
    lines = [line.split() for line in capsys.readouterr().out.splitlines()]
    assert ["out", "Dense", "[1]", "1", "unit"] in lines and ["hidden", "Dense", "[3]", "3", "units"] in lines

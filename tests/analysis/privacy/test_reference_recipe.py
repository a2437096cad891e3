"""Which recipe the references train with: an explicit recipe over the registered one over the defaults,
single-field flags over whichever base applies; and how the choice is recorded."""

from __future__ import annotations

import pytest

from analysis.errors import AnalysisInputError
from analysis.privacy.reference_result import ReferenceSummary
from analysis.privacy.reference_spec import RecipeChoice, ReferenceOptions, TrainingRecipe

REGISTERED = {"epochs": 7, "batch_size": 16, "optimizer": "sgd", "learning_rate": 0.05, "augmentation": "off"}
FILE = TrainingRecipe(epochs=3, batch_size=8)
DEFAULT = TrainingRecipe().to_dict()


@pytest.mark.parametrize(
    ("options", "registered", "recipe", "choice"),
    [
        ({}, None, DEFAULT, RecipeChoice(source="default", base="default")),
        ({}, REGISTERED, REGISTERED, RecipeChoice(source="registration", base="registration")),
        (
            {"recipe": FILE, "recipe_origin": "file"},
            REGISTERED,
            FILE.to_dict(),
            RecipeChoice(source="file", base="file"),
        ),
        ({"recipe": FILE}, None, FILE.to_dict(), RecipeChoice(source="given", base="given")),
        (
            {"recipe_overrides": {"epochs": 50}},
            REGISTERED,
            {**REGISTERED, "epochs": 50},
            RecipeChoice(source="flags", base="registration", flags=("epochs",)),
        ),
        (
            {"recipe_overrides": {"learning_rate": 0.1, "epochs": 2}},
            None,
            {**DEFAULT, "epochs": 2, "learning_rate": 0.1},
            RecipeChoice(source="flags", base="default", flags=("epochs", "learning_rate")),
        ),
        (
            {"recipe": FILE, "recipe_origin": "file", "recipe_overrides": {"augmentation": "flip"}},
            REGISTERED,
            {**FILE.to_dict(), "augmentation": "flip"},
            RecipeChoice(source="flags", base="file", flags=("augmentation",)),
        ),
    ],
)
def test_recipe_precedence(options, registered, recipe, choice):
    resolved, how = ReferenceOptions(**options).resolve_recipe(registered)
    assert resolved.to_dict() == recipe
    assert how == choice


def test_a_bad_registered_recipe_is_named_where_it_is_used():
    where = "the training recipe registered with m revision 0123abcd"
    with pytest.raises(
        AnalysisInputError,
        match=r"^the training recipe registered with m revision 0123abcd: recipe "
        r"epochs 0 must be an integer from 1 to 10000 \(fields are .*'batch_size'",
    ):
        ReferenceOptions().resolve_recipe({"epochs": 0}, where=where)
    with pytest.raises(AnalysisInputError, match=r"unknown field 'lr' in the training recipe registered with m"):
        ReferenceOptions().resolve_recipe({"lr": 0.1}, where=where)


def test_bad_flags_and_origins_are_refused_when_the_options_are_built():
    with pytest.raises(AnalysisInputError, match=r"^recipe batch_size 0 must be a positive"):
        ReferenceOptions(recipe_overrides={"batch_size": 0})
    with pytest.raises(AnalysisInputError, match=r"unknown field 'momentum' in the recipe; fields are"):
        ReferenceOptions(recipe_overrides={"momentum": 0.9})
    with pytest.raises(AnalysisInputError, match=r"recipe origin 'yaml'; origins are 'file' or 'given'"):
        ReferenceOptions(recipe=FILE, recipe_origin="yaml")


def test_the_summary_records_the_choice_and_reads_records_from_before_it():
    summary = ReferenceSummary(
        n_references=2,
        n_used=2,
        source="trained",
        recipe={**REGISTERED, "epochs": 50},
        recipe_source="flags",
        recipe_base="registration",
        recipe_flags=("epochs",),
    )
    data = summary.to_dict()
    assert (data["recipe_source"], data["recipe_base"], data["recipe_flags"]) == ("flags", "registration", ["epochs"])
    assert ReferenceSummary.from_dict(data) == summary
    assert summary.recipe_text() == (
        "epochs 50, batch_size 16, optimizer sgd, learning_rate 0.05, augmentation off "
        "(the recipe registered with the model; epochs set by hand)"
    )
    old = {k: v for k, v in data.items() if k not in ("recipe_source", "recipe_base", "recipe_flags")}
    before = ReferenceSummary.from_dict(old)
    assert (before.recipe_source, before.recipe_flags) == (None, ())
    assert before.recipe_text() == "epochs 50, batch_size 16, optimizer sgd, learning_rate 0.05, augmentation off"

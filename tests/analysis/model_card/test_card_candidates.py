# ruff: noqa: F811  (the shared fixtures are imported by name, then requested as arguments)
"""A card's default evidence: the newest record made with the standard settings, never an exploratory run."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from analysis.fairness.spec import FairnessSpec
from analysis.model_card import ModelCardSpec, build_model_card
from analysis.model_card.assemble import CARD_KINDS
from analysis.model_card.candidates import STANDARD_PARAMETERS, list_candidates
from analysis.models.registry import ModelRegistry
from analysis.privacy.attacks import DEFAULT_ATTACKS
from analysis.privacy.spec import MembershipAuditSpec, SlicingOptions
from analysis.records import RecordStore
from tests.analysis.model_card.model_card_support import (  # noqa: F401  (fixtures)
    FAIRNESS_RESULT,
    MODEL_ID,
    card_home,
    card_template,
    full_fields,
    save_records,
)


def test_the_standard_settings_are_the_specs_defaults() -> None:
    defaults = {f.name: f.default for f in dataclasses.fields(FairnessSpec) if f.default is not dataclasses.MISSING}
    fairness = STANDARD_PARAMETERS["fairness"]
    for key in ("seed", "n_bootstrap", "confidence", "min_slice"):
        assert fairness[key] == defaults[key], key
    assert fairness["intersections"] == list(defaults["intersections"])
    privacy = {
        f.name: f.default for f in dataclasses.fields(MembershipAuditSpec) if f.default is not dataclasses.MISSING
    }
    assert STANDARD_PARAMETERS["privacy"]["seed"] == privacy["seed"]
    assert STANDARD_PARAMETERS["privacy"]["attacks"] == [a.value for a in DEFAULT_ATTACKS]
    assert STANDARD_PARAMETERS["privacy"]["slices"] == list(SlicingOptions().names())


def test_a_newer_exploratory_run_is_listed_but_cited_only_when_pinned(card_home: Path) -> None:
    standard = save_records(card_home)
    revision = ModelRegistry(card_home).get(MODEL_ID).current.revision
    exploratory = RecordStore(card_home).save(
        kind="fairness",
        model_id=MODEL_ID,
        revision=revision,
        versions={"python": "3.11"},
        inputs={"data": "a" * 64},
        parameters={"thresholds": [0.5], "seed": 1, "intersections": [["age_band", "sex"]]},
        result=FAIRNESS_RESULT,
    )
    candidates = list_candidates(MODEL_ID, revision, RecordStore(card_home), CARD_KINDS)
    assert candidates[0].record.record_id == exploratory.record_id  # newest first
    assert candidates[0].departures == (
        "seed 1 (standard: 0)",
        "intersections age_band*sex (standard: none)",
    )
    card = build_model_card(ModelCardSpec(model_id=MODEL_ID, fields=full_fields()))
    assert card.record_ids == (standard["fairness"].record_id, standard["privacy"].record_id)
    pinned = build_model_card(
        ModelCardSpec(model_id=MODEL_ID, fields=full_fields(), record_ids=(exploratory.record_id,))
    )
    assert pinned.record_ids == (exploratory.record_id,)

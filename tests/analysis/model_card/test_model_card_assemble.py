"""Card assembly: schema v0.0.2 validity, numbers equal to the cited records, provenance, bad input."""

# ruff: noqa: F811  (the shared fixtures are imported by name, then requested as arguments)

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft7Validator

from analysis.errors import AnalysisInputError
from analysis.model_card import CardFieldStore, ModelCardFields, ModelCardSpec, build_model_card
from analysis.model_card.fields import ModelDetailsFields
from analysis.model_card.schema_check import SCHEMA_PATH, schema_problems
from analysis.models.registry import ModelRegistry, RegisterModelSpec
from analysis.records import RecordStore
from tests.analysis.model_card.model_card_support import (  # noqa: F401
    FAIRNESS_RESULT,
    MODEL_ID,
    PRIVACY_RESULT,
    REFERENCE_SCHEMA,
    card_home,
    card_template,
    full_fields,
    save_records,
)


def reference_validator(*, strict: bool = False) -> Draft7Validator:
    """The reference schema from ../shared; ``strict`` forbids extra properties in every object too."""
    schema = json.loads(REFERENCE_SCHEMA.read_text())
    if strict:

        def close(node: Any) -> None:
            if isinstance(node, dict):
                if node.get("type") == "object" and "properties" in node:
                    node["additionalProperties"] = False
                for value in node.values():
                    close(value)
            elif isinstance(node, list):
                for value in node:
                    close(value)

        schema = copy.deepcopy(schema)
        close(schema)
    return Draft7Validator(schema, format_checker=Draft7Validator.FORMAT_CHECKER)


def assert_valid(document: dict[str, Any]) -> None:
    for validator in (reference_validator(), reference_validator(strict=True)):
        errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(document)]
        assert errors == []


def metric(document: dict[str, Any], type_: str, slice_: str | None = None) -> dict[str, Any]:
    matches = [
        m
        for m in document["quantitative_analysis"]["performance_metrics"]
        if m["type"] == type_ and m.get("slice") == slice_
    ]
    assert len(matches) == 1, (type_, slice_, matches)
    return matches[0]


def test_shipped_schema_is_the_reference_copy_with_its_notice() -> None:
    assert REFERENCE_SCHEMA.is_file(), "tests read the reference schema from ../shared/reference/"
    assert SCHEMA_PATH.read_bytes() == REFERENCE_SCHEMA.read_bytes()
    notice = (SCHEMA_PATH.parent / "NOTICE").read_text()
    assert "Copyright 2019 The TensorFlow Authors" in notice
    assert "Licensed under the Apache License, Version 2.0" in notice


def test_minimal_card_validates(card_home: Path) -> None:
    minimal = ModelCardFields(model_details=ModelDetailsFields(overview="Just an overview."))
    card = build_model_card(ModelCardSpec(model_id=MODEL_ID, fields=minimal))
    document = card.to_dict()
    assert_valid(document)
    assert document["model_details"]["name"] == MODEL_ID
    assert document["model_details"]["version"] == {"name": f"sha256:{card.revision[:12]}"}
    assert "performance_metrics" not in document["quantitative_analysis"]
    assert card.record_ids == ()


def test_card_with_every_section_filled_validates(card_home: Path) -> None:
    records = save_records(card_home)
    card = build_model_card(ModelCardSpec(model_id=MODEL_ID, fields=full_fields()))
    document = card.to_dict()
    assert_valid(document)
    assert schema_problems(document) == []
    assert set(document) == {
        "schema_version",
        "model_details",
        "model_parameters",
        "quantitative_analysis",
        "considerations",
    }
    assert document["schema_version"] == "0.0.2"
    details = document["model_details"]
    assert set(details) == {
        "name",
        "overview",
        "documentation",
        "owners",
        "version",
        "licenses",
        "references",
        "citations",
        "path",
    }
    assert details["licenses"] == [{"identifier": "Apache-2.0"}, {"custom_text": "Internal use only."}]
    assert details["version"] == {"name": "1.2", "date": "2025-01-31", "diff": "Retrained on 2024 data"}
    considerations = document["considerations"]
    assert set(considerations) == {"users", "use_cases", "limitations", "tradeoffs", "ethical_considerations"}
    assert considerations["use_cases"] == [
        {"description": "Ranking applications for manual review"},
        {"description": "Out of scope: Fully automated rejection"},
    ]
    data = document["model_parameters"]["data"][0]
    assert data["name"] == "credit.npz (data)" and data["sensitive"] == {"sensitive_data": ["sex"]}
    assert document["model_parameters"]["input_format_map"][0] == {"key": "shape", "value": "[batch, 4]"}
    assert "19 parameters" in document["model_parameters"]["model_architecture"]
    assert card.record_ids == (records["fairness"].record_id, records["privacy"].record_id)


def test_card_numbers_equal_the_cited_records(card_home: Path) -> None:
    save_records(card_home)
    document = build_model_card(ModelCardSpec(model_id=MODEL_ID, fields=full_fields())).to_dict()
    for entry in FAIRNESS_RESULT["slices"]:
        label = ", ".join(f"{k}={v}" for k, v in entry["group"].items())
        for name, stored in entry["metrics"].items():
            type_ = name if name in ("count", "base_rate", "auc") else f"{name}@{entry['threshold']:g}"
            if stored["value"] is None:
                matches = [
                    m
                    for m in document["quantitative_analysis"]["performance_metrics"]
                    if m["type"] == type_ and m.get("slice") == label
                ]
                assert matches == []  # undefined values are left out, never written as "nan"
                continue
            reported = metric(document, type_, label)
            assert float(reported["value"]) == stored["value"]
            if stored["ci"]:
                interval = reported["confidence_interval"]
                assert [float(interval["lower_bound"]), float(interval["upper_bound"])] == stored["ci"]
    for name, stored in FAIRNESS_RESULT["overall"][0]["metrics"].items():
        type_ = name if name == "count" else f"{name}@0.5"
        assert float(metric(document, type_)["value"]) == stored["value"]
    dpd = metric(document, "demographic_parity_difference@0.5", "across sex")
    assert (float(dpd["value"]), dpd["confidence_interval"]) == (0.2, {"lower_bound": "0.07", "upper_bound": "0.33"})
    for entry in PRIVACY_RESULT["results"]:
        label = "entire data set" if entry["slice"]["kind"] == "entire_dataset" else "sex=F"
        assert float(metric(document, "membership_inference_auc (threshold)", label)["value"]) == entry["auc"]
        tpr = metric(document, "membership_inference_tpr@1%fpr (threshold)", label)
        assert float(tpr["value"]) == entry["tpr_at_fpr"]["0.01"]
    assert float(metric(document, "membership_inference_max_auc")["value"]) == 0.7001
    assert float(metric(document, "membership_inference_max_tpr_at_1pct_fpr")["value"]) == 0.12
    assert [m for m in document["quantitative_analysis"]["performance_metrics"] if "0.1pct" in m["type"]] == []
    assert metric(document, "accuracy@0.5", "sex=F")["value"] == "0.7123456789012345"  # shortest exact form


def test_provenance_cites_revision_records_and_input_hashes(card_home: Path) -> None:
    records = save_records(card_home)
    card = build_model_card(ModelCardSpec(model_id=MODEL_ID, fields=full_fields()))
    document = card.to_dict()
    references = [r["reference"] for r in document["model_details"]["references"]]
    fairness, privacy = records["fairness"].record_id, records["privacy"].record_id
    assert references == [
        "https://arxiv.org/abs/1810.03993",
        f"urn:loupe:model:{MODEL_ID}:revision:sha256:{card.revision}",
        f"urn:loupe:record:{fairness}",
        f"urn:loupe:record:{fairness}:input:data:sha256:{'a' * 64}",
        f"urn:loupe:record:{privacy}",
        f"urn:loupe:record:{privacy}:input:members:sha256:{'b' * 64}",
        f"urn:loupe:record:{privacy}:input:nonmembers:sha256:{'c' * 64}",
    ]
    description = document["quantitative_analysis"]["graphics"]["description"]
    n_metrics = len(document["quantitative_analysis"]["performance_metrics"])
    n_fairness = sum(1 for m in card.metrics if m.record_id == fairness and m.value is not None)
    assert f"performance_metrics[0:{n_fairness}] come from fairness record {fairness}" in description
    assert f"performance_metrics[{n_fairness}:{n_metrics}] come from privacy record {privacy}" in description
    assert f"inputs: members=sha256:{'b' * 64}, nonmembers=sha256:{'c' * 64}" in description
    assert f"revision sha256:{card.revision}" in description


def test_latest_records_are_cited_by_default(card_home: Path) -> None:
    save_records(card_home)
    newer = save_records(card_home)
    save_records(card_home, model_id="other-mlp")
    card = build_model_card(ModelCardSpec(model_id=MODEL_ID, fields=full_fields()))
    assert card.record_ids == (newer["fairness"].record_id, newer["privacy"].record_id)
    chosen = build_model_card(
        ModelCardSpec(model_id=MODEL_ID, fields=full_fields(), record_ids=(newer["privacy"].record_id,))
    )
    assert chosen.record_ids == (newer["privacy"].record_id,)
    assert build_model_card(ModelCardSpec(model_id=MODEL_ID, fields=full_fields(), record_ids=())).record_ids == ()


def test_records_of_another_model_are_rejected(card_home: Path) -> None:
    other = save_records(card_home, model_id="other-mlp")["fairness"].record_id
    with pytest.raises(AnalysisInputError) as error:
        build_model_card(ModelCardSpec(model_id=MODEL_ID, fields=full_fields(), record_ids=(other,)))
    assert str(error.value) == (
        f"record '{other}' belongs to model 'other-mlp', not to 'tiny-mlp'; a card cites only its own model's records"
    )


def test_records_of_other_kinds_unknown_ids_and_modelless_records_are_rejected(card_home: Path) -> None:
    store = RecordStore(card_home)
    common = {"inputs": {}, "parameters": {}, "versions": {}, "result": {}}
    shap = store.save(kind="shap", model_id=MODEL_ID, revision=None, **common).record_id
    orphan = store.save(kind="privacy", model_id=None, revision=None, **common).record_id
    cases = {
        shap: f"record '{shap}' is a 'shap' record; a model card cites only 'fairness' or 'privacy' records",
        orphan: f"record '{orphan}' belongs to no registered model, not to 'tiny-mlp'; "
        "a card cites only its own model's records",
        "privacy-000000000000": (
            "no stored record 'privacy-000000000000'; list them with 'python -m analysis records list'"
        ),
    }
    for record_id, message in cases.items():
        with pytest.raises(AnalysisInputError) as error:
            build_model_card(ModelCardSpec(model_id=MODEL_ID, fields=full_fields(), record_ids=(record_id,)))
        assert str(error.value) == message


def test_empty_required_fields_and_unknown_models_are_rejected(card_home: Path) -> None:
    with pytest.raises(AnalysisInputError) as error:
        build_model_card(ModelCardSpec(model_id=MODEL_ID))  # nothing stored, nothing given
    assert str(error.value) == "model_details.overview is required and is empty"
    with pytest.raises(AnalysisInputError) as error:
        build_model_card(ModelCardSpec(model_id=MODEL_ID, fields=full_fields(model_details__licenses=["GPL"])))
    assert str(error.value).startswith(
        "model_details.licenses[0].identifier: license identifier 'GPL' is not a known SPDX identifier"
    )
    with pytest.raises(AnalysisInputError) as error:
        build_model_card(ModelCardSpec(model_id="nope", fields=full_fields()))
    assert str(error.value) == "unknown model 'nope'; registered models are 'other-mlp' or 'tiny-mlp'"
    with pytest.raises(AnalysisInputError) as error:
        ModelCardSpec(model_id=" ")
    assert str(error.value) == "a model card needs a model id, e.g. 'credit-mlp'"


def test_regenerating_for_a_new_revision_keeps_the_fields(card_home: Path, card_template: dict[str, Path]) -> None:
    old = save_records(card_home)
    first = build_model_card(ModelCardSpec(model_id=MODEL_ID, fields=full_fields()))
    CardFieldStore().save(MODEL_ID, first.revision, full_fields())
    ModelRegistry().register(RegisterModelSpec(path=card_template["model_b"], model_id=MODEL_ID))
    regenerated = build_model_card(ModelCardSpec(model_id=MODEL_ID))  # one action: no fields given
    assert regenerated.revision != first.revision
    assert regenerated.fields == first.fields
    assert regenerated.fields_revision == first.revision
    assert regenerated.document["model_details"]["overview"] == first.document["model_details"]["overview"]
    assert f"urn:loupe:model:{MODEL_ID}:revision:sha256:{regenerated.revision}" in json.dumps(regenerated.document)
    # records computed on the old revision are still cited, with a caveat in the card
    assert regenerated.record_ids == (old["fairness"].record_id, old["privacy"].record_id)
    assert len(regenerated.notes) == 2
    assert regenerated.notes[0].startswith(f"Record {old['fairness'].record_id} was computed on revision sha256:")
    assert regenerated.notes[0] in regenerated.document["quantitative_analysis"]["graphics"]["description"]
    # the old revision can still be described, by hash prefix
    again = build_model_card(ModelCardSpec(model_id=MODEL_ID, revision=first.revision[:10]))
    assert again.revision == first.revision and again.notes == ()
    assert_valid(regenerated.document)


@pytest.mark.parametrize(
    "result",
    [
        {},
        {"slices": [{"group": {"sex": "F"}, "metrics": {"tpr": {"value": 0.5}}}]},
        {
            "overall": [{"threshold": 0.3, "metrics": {"tpr": {"value": 0.4, "ci": [0.3, 0.5]}}}],
            "disparities": [{"threshold": 0.3, "equalized_odds_difference": {"value": 0.1, "ci": None}}],
        },
        {
            "slices": [{"group": {"a": 1, "b": "x"}, "threshold": 0.5, "count": 7, "metrics": {"fdr": 0.25}}],
            "disparities": {"0.5": {"equal_opportunity_difference": {"value": -0.05, "ci": [-0.1, 0.0]}}},
        },
    ],
)
def test_fairness_records_with_missing_optional_keys_still_make_valid_cards(card_home: Path, result: dict) -> None:
    record = RecordStore().save(
        kind="fairness", model_id=MODEL_ID, revision=None, inputs={}, parameters={}, versions={}, result=result
    )
    card = build_model_card(ModelCardSpec(model_id=MODEL_ID, fields=full_fields(), record_ids=(record.record_id,)))
    assert_valid(card.document)


def test_privacy_records_with_missing_optional_keys_still_make_valid_cards(card_home: Path) -> None:
    result = {"results": [{"slice": {"kind": "class", "value": 3}, "attack": "lr", "auc": 0.55}], "summary": {}}
    record = RecordStore().save(
        kind="privacy", model_id=MODEL_ID, revision=None, inputs={}, parameters={}, versions={}, result=result
    )
    card = build_model_card(ModelCardSpec(model_id=MODEL_ID, fields=full_fields(), record_ids=(record.record_id,)))
    assert_valid(card.document)
    assert metric(card.document, "membership_inference_auc (lr)", "class 3")["value"] == "0.55"


def test_json_card_embeds_the_charts_as_png_named_after_their_records(card_home: Path) -> None:
    import base64

    from analysis.model_card.figures import _CACHE, render_graphics

    records = save_records(card_home)
    card = build_model_card(ModelCardSpec(model_id=MODEL_ID, fields=full_fields()))
    collection = card.document["quantitative_analysis"]["graphics"]["collection"]
    fairness, privacy = records["fairness"].record_id, records["privacy"].record_id
    assert [g["name"] for g in collection] == [
        f"{fairness}: selection rate at threshold 0.5, with 95% intervals",
        f"{fairness}: accuracy at threshold 0.5, with 95% intervals",
        f"{fairness}: tpr at threshold 0.5, with 95% intervals",
        f"{privacy}: membership-inference AUC (0.5 = chance)",
        f"{privacy}: ROC curves of the membership-inference attacks",
    ]
    for graphic in collection:
        assert base64.b64decode(graphic["image"], validate=True).startswith(b"\x89PNG\r\n\x1a\n")
    first = render_graphics(card.evidence[1:])
    _CACHE.clear()
    assert render_graphics(card.evidence[1:]) == first  # same record, same bytes, drawn afresh
    plain = build_model_card(ModelCardSpec(model_id=MODEL_ID, fields=full_fields(), graphics=False))
    assert "collection" not in plain.document["quantitative_analysis"]["graphics"]
    assert_valid(card.document)

"""/card page (AppTest): deep links, fields saved as you go, problems next to the field, downloads."""

# ruff: noqa: F811  (the shared fixtures are imported by name, then requested as arguments)

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from analysis.model_card import CardFieldStore
from analysis.models.registry import ModelRegistry
from tests.analysis.model_card.model_card_support import (  # noqa: F401
    MODEL_ID,
    card_home,
    card_template,
    full_fields,
    save_records,
)
from tests.ui.app_support import open_app_page

PAGE = "ui/pages/card.py"


def open_card_page(**params: str) -> AppTest:
    return open_app_page(PAGE, params)


def text_box(at: AppTest, label: str):
    return next(w for w in [*at.text_area, *at.text_input] if w.label == label)


def test_deep_link_with_stored_fields_offers_every_download(card_home: Path) -> None:
    records = save_records(card_home)
    revision = ModelRegistry().get(MODEL_ID).current.revision
    CardFieldStore().save(MODEL_ID, revision, full_fields())
    at = open_card_page(model=MODEL_ID)
    assert not at.exception, at.exception
    assert [e.value for e in at.error] == []
    assert text_box(at, "Overview (required)").value == "Predicts the probability that a loan is repaid."
    assert text_box(at, "Owners").value == "Risk team | risk@example.org"
    assert at.multiselect[0].value == [records["fairness"].record_id, records["privacy"].record_id]
    assert [b.label for b in at.get("download_button")] == ["JSON", "HTML", "Markdown", "Hugging Face README"]
    assert at.success[0].value == "Valid Model Card Toolkit v0.0.2 card citing 2 record(s)."


def test_typing_saves_the_fields_and_problems_show_next_to_the_field(card_home: Path) -> None:
    at = open_card_page(model=MODEL_ID)
    assert not at.exception, at.exception
    assert [e.value for e in at.error] == ["model_details.overview is required and is empty"]
    assert at.warning[0].value == "Fix the problems shown next to the fields to generate the card."
    text_box(at, "Overview (required)").input("A tiny <b>model</b>.").run()
    text_box(at, "Licenses").input("MIT\nGPL-9").run()
    assert not at.exception, at.exception
    revision = ModelRegistry().get(MODEL_ID).current.revision
    saved = CardFieldStore().load(MODEL_ID, revision).fields  # saved as you go, problems and all
    assert saved.model_details.overview == "A tiny <b>model</b>."
    assert [lic.identifier for lic in saved.model_details.licenses] == ["MIT", "GPL-9"]
    assert [e.value for e in at.error] == [
        "model_details.licenses[1].identifier: license identifier 'GPL-9' is not a known SPDX identifier; use an id "
        "from https://spdx.org/licenses/ (e.g. 'Apache-2.0' or 'MIT'), 'proprietary', 'LicenseRef-<name>', or "
        "custom_text for any other license"
    ]
    text_box(at, "Licenses").input("MIT").run()
    assert [e.value for e in at.error] == []
    assert len(at.get("download_button")) == 4


def test_bad_links_give_a_readable_error(card_home: Path) -> None:
    other = save_records(card_home, model_id="other-mlp")["privacy"].record_id
    at = open_card_page(model=MODEL_ID, records=other)
    assert not at.exception, at.exception
    assert [e.value for e in at.error] == [
        f"record '{other}' belongs to model 'other-mlp', not to 'tiny-mlp'; a card cites only its own model's records"
    ]
    at = open_card_page(model="nope")
    assert not at.exception, at.exception
    assert [e.value for e in at.error] == ["unknown model 'nope'; registered models are 'other-mlp' or 'tiny-mlp'"]


def test_viewer_reads_the_card_but_cannot_edit_fields_or_evidence(card_home: Path) -> None:
    records = save_records(card_home)
    revision = ModelRegistry().get(MODEL_ID).current.revision
    CardFieldStore().save(MODEL_ID, revision, full_fields())
    at = open_app_page(PAGE, {"model": MODEL_ID, "records": records["privacy"].record_id}, writer=False)
    assert not at.exception, at.exception
    overview = text_box(at, "Overview (required)")
    assert overview.disabled and at.multiselect[0].disabled
    assert at.success[0].value == "Valid Model Card Toolkit v0.0.2 card citing 1 record(s)."
    # Widget states a viewer's browser forges for the disabled widgets change nothing stored or cited.
    at.session_state[f"card:{MODEL_ID}:model_details.overview"] = "Defaced."
    at.session_state[at.multiselect[0].id] = [records["fairness"].record_id]
    at.run()
    assert not at.exception, at.exception
    assert text_box(at, "Overview (required)").value == "Defaced."  # the forged state reached the script
    assert CardFieldStore().load(MODEL_ID, revision).fields == full_fields()
    assert at.success[0].value == "Valid Model Card Toolkit v0.0.2 card citing 1 record(s)."


def test_viewer_of_an_unwritten_card_is_told_a_writer_fills_it_in(card_home: Path) -> None:
    at = open_app_page(PAGE, {"model": MODEL_ID}, writer=False)
    assert not at.exception and not at.error
    assert "a writer fills in its fields" in at.info[0].value
    assert CardFieldStore().load(MODEL_ID, ModelRegistry().get(MODEL_ID).current.revision) is None

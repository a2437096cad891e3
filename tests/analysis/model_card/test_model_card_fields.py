"""Qualitative card fields: YAML parsing, content problems with exact messages, SPDX ids, persistence."""

from __future__ import annotations

from pathlib import Path

import pytest

from analysis.errors import AnalysisInputError
from analysis.model_card.field_store import CardFieldStore
from analysis.model_card.fields import (
    FieldProblem,
    License,
    ModelCardFields,
    ModelDetailsFields,
    load_fields_yaml,
    parse_fields,
)
from analysis.model_card.spdx import canonical_license_id, hugging_face_license, spdx_identifiers
from tests.analysis.model_card.model_card_support import FULL_FIELDS, full_fields

FIELDS_YAML = """\
model_details:
  overview: Predicts repayment.
  owners:
    - name: Risk team
      contact: risk@example.org
  version: {name: 1.2, date: 2025-01-31}
  licenses: [MIT, {custom_text: "Internal use only."}]
  references: ["https://example.org/paper"]
considerations:
  users: [Loan officers]
  limitations:
    - description: Synthetic data only
  ethical_considerations:
    - name: Disparate impact
      mitigation_strategy: Audit every release
"""


def test_yaml_with_the_schemas_field_names_and_nesting(tmp_path: Path) -> None:
    path = tmp_path / "fields.yaml"
    path.write_text(FIELDS_YAML)
    fields = load_fields_yaml(path)
    details = fields.model_details
    assert details.overview == "Predicts repayment."
    assert (details.owners[0].name, details.owners[0].contact) == ("Risk team", "risk@example.org")
    assert (details.version.name, details.version.date) == ("1.2", "2025-01-31")  # YAML number and date become text
    assert details.licenses == (License(identifier="MIT"), License(custom_text="Internal use only."))
    assert details.references[0].reference == "https://example.org/paper"
    assert fields.considerations.users == ("Loan officers",)
    assert fields.considerations.limitations == ("Synthetic data only",)
    assert fields.considerations.ethical_considerations[0].mitigation_strategy == "Audit every release"
    assert fields.problems() == []


def test_to_dict_round_trips_through_parse() -> None:
    fields = full_fields()
    assert parse_fields(fields.to_dict()) == fields
    assert fields.to_dict()["considerations"]["users"] == FULL_FIELDS["considerations"]["users"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"model_details": {"overveiw": "x"}},
            "unknown field 'model_details.overveiw' in the fields; model_details has 'name', 'overview', "
            "'documentation', 'owners', 'version', 'licenses', 'references' or 'citations'",
        ),
        (
            {"considerations": {"limitation": ["x"]}},
            "unknown field 'considerations.limitation' in the fields; considerations has 'users', 'use_cases', "
            "'out_of_scope_uses', 'limitations', 'tradeoffs' or 'ethical_considerations'",
        ),
        (
            {"regulatory_requirements": "x"},
            "unknown field 'regulatory_requirements' in the fields; the top level has 'model_details' or "
            "'considerations'",
        ),
        (
            {"model_details": {"overview": True}},
            "model_details.overview in the fields must be text, got a boolean (quote it in YAML)",
        ),
        ({"model_details": {"owners": "me"}}, "model_details.owners in the fields must be a list, got a str"),
        (
            {"model_details": {"owners": [{"name": "a", "email": "b"}]}},
            "unknown field 'model_details.owners[0].email' in the fields; "
            "model_details.owners[0] has 'name' or 'contact'",
        ),
        (["overview"], "(top level) in the fields must be a mapping of field names, got a list"),
    ],
)
def test_bad_structure_is_rejected_naming_the_field(data: object, message: str) -> None:
    with pytest.raises(AnalysisInputError) as error:
        parse_fields(data)
    assert str(error.value) == message


def test_unreadable_and_invalid_yaml_files(tmp_path: Path) -> None:
    with pytest.raises(AnalysisInputError, match=r"^cannot read fields file '.*missing.yaml': No such file"):
        load_fields_yaml(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("model_details: [unclosed\n")
    with pytest.raises(AnalysisInputError, match=r"^fields file '.*bad.yaml' is not valid YAML \("):
        load_fields_yaml(bad)


def test_problems_name_each_field_with_exact_messages() -> None:
    fields = full_fields(
        model_details__overview="   ",
        model_details__owners=[{"name": "", "contact": "x@example.org"}],
        model_details__version={"name": "1", "date": "31/01/2025"},
        model_details__licenses=[{"identifier": "Apache 2"}, {}, {"identifier": "MIT", "custom_text": "and more"}],
        model_details__references=[{"reference": "not a uri"}],
        considerations__limitations=[""],
        considerations__ethical_considerations=[{"name": "", "mitigation_strategy": "m"}],
    )
    assert fields.problems() == [
        FieldProblem("model_details.overview", "model_details.overview is required and is empty"),
        FieldProblem("model_details.owners[0].name", "model_details.owners[0].name is required and is empty"),
        FieldProblem(
            "model_details.version.date", "model_details.version.date '31/01/2025' is not a date in the form YYYY-MM-DD"
        ),
        FieldProblem(
            "model_details.licenses[0].identifier",
            "model_details.licenses[0].identifier: license identifier 'Apache 2' is not a known SPDX identifier "
            "(did you mean 'Apache-2.0'?); use an id from https://spdx.org/licenses/ (e.g. 'Apache-2.0' or 'MIT'), "
            "'proprietary', 'LicenseRef-<name>', or custom_text for any other license",
        ),
        FieldProblem(
            "model_details.licenses[1]", "model_details.licenses[1] needs exactly one of 'identifier' or 'custom_text'"
        ),
        FieldProblem(
            "model_details.licenses[2]", "model_details.licenses[2] needs exactly one of 'identifier' or 'custom_text'"
        ),
        FieldProblem(
            "model_details.references[0].reference",
            "model_details.references[0].reference 'not a uri' is not a URI (e.g. 'https://arxiv.org/abs/1810.03993')",
        ),
        FieldProblem(
            "considerations.limitations[0].description",
            "considerations.limitations[0].description is required and is empty",
        ),
        FieldProblem(
            "considerations.ethical_considerations[0].name",
            "considerations.ethical_considerations[0].name is required and is empty",
        ),
    ]
    with pytest.raises(AnalysisInputError) as error:
        fields.validated()
    assert str(error.value).startswith(
        "model_details.overview is required and is empty; model_details.owners[0].name is required and is empty; "
    )


def test_empty_fields_need_an_overview() -> None:
    with pytest.raises(AnalysisInputError) as error:
        ModelCardFields().validated()
    assert str(error.value) == "model_details.overview is required and is empty"


@pytest.mark.parametrize(
    ("given", "canonical"),
    [
        ("MIT", "MIT"),
        ("apache-2.0", "Apache-2.0"),
        ("cc-by-4.0", "CC-BY-4.0"),
        ("GPL-3.0-or-later", "GPL-3.0-or-later"),
        ("proprietary", "proprietary"),
        ("LicenseRef-acme-1", "LicenseRef-acme-1"),
    ],
)
def test_spdx_ids_are_matched_case_insensitively_and_canonicalised(given: str, canonical: str) -> None:
    assert canonical_license_id(given) == canonical
    fields = ModelCardFields(model_details=ModelDetailsFields(overview="o", licenses=(License(identifier=given),)))
    assert fields.validated().model_details.licenses[0].identifier == canonical


@pytest.mark.parametrize(
    ("given", "hint"),
    [
        ("GPL-3", " (did you mean 'GPL-3.0', 'GPL-3.0-only' or 'GPL-3.0-or-later'?)"),
        ("WTFL", " (did you mean 'WTFPL'?)"),
        ("Foo-License", ""),
        ("MIT OR Apache-2.0", ""),
    ],
)
def test_unknown_spdx_ids_are_rejected_with_a_suggestion(given: str, hint: str) -> None:
    with pytest.raises(AnalysisInputError) as error:
        canonical_license_id(given)
    assert str(error.value) == (
        f"license identifier {given!r} is not a known SPDX identifier{hint}; use an id from https://spdx.org/licenses/ "
        "(e.g. 'Apache-2.0' or 'MIT'), 'proprietary', 'LicenseRef-<name>', or custom_text for any other license"
    )


def test_shipped_spdx_list_and_hugging_face_keys() -> None:
    ids = spdx_identifiers()
    assert len(ids) >= 150
    assert {"mit", "apache-2.0", "bsd-3-clause", "cc-by-4.0", "cc0-1.0", "gpl-3.0-only", "mpl-2.0"} <= set(ids)
    assert hugging_face_license("Apache-2.0") == "apache-2.0"
    assert hugging_face_license("GPL-3.0-only") == "gpl-3.0"
    assert hugging_face_license("ODbL-1.0") == "odbl"
    assert hugging_face_license("Zlib") == "zlib"
    assert hugging_face_license("BUSL-1.1") is None


def test_store_keeps_fields_per_model_and_revision(tmp_path: Path) -> None:
    store = CardFieldStore(tmp_path)
    assert store.load("m", "rev-a") is None
    first, second = full_fields(), full_fields(model_details__overview="Second revision overview")
    store.save("m", "rev-a", first)
    stored = store.load("m", "rev-a")
    assert stored is not None and stored.fields == first and stored.revision == "rev-a"
    inherited = store.load("m", "rev-b")  # a new revision starts from the latest saved fields
    assert inherited is not None and inherited.fields == first and inherited.inherited_for("rev-b")
    store.save("m", "rev-b", second)
    assert store.load("m", "rev-b").fields == second
    assert store.load("m", "rev-a").fields == first  # the old revision keeps its own
    assert store.load("other", "rev-a") is None


def test_store_keeps_drafts_with_problems(tmp_path: Path) -> None:
    draft = full_fields(model_details__overview="", model_details__licenses=[{"identifier": "nope"}])
    CardFieldStore(tmp_path).save("m", "r", draft)
    assert CardFieldStore(tmp_path).load("m", "r").fields == draft


def test_form_text_round_trips_and_keeps_what_the_form_cannot_express() -> None:
    from analysis.model_card.form import FORM_FIELDS, fields_to_form, form_key_for, form_to_fields

    fields = full_fields()
    form = fields_to_form(fields)
    assert set(form) == {f.key for f in FORM_FIELDS}
    assert form["model_details.owners"] == "Risk team | risk@example.org"
    assert form["considerations.ethical_considerations"] == "Disparate impact by sex | Audit every release"
    assert form_to_fields(form, fields) == fields  # nothing changed: everything kept, citation style too
    edited = form_to_fields(
        {**form, "model_details.owners": "A | a@x.org\n\nB", "considerations.limitations": "one\n two \n"}, fields
    )
    assert [(o.name, o.contact) for o in edited.model_details.owners] == [("A", "a@x.org"), ("B", "")]
    assert edited.considerations.limitations == ("one", "two")
    assert edited.model_details.citations == fields.model_details.citations  # untouched box, style kept
    fresh = form_to_fields(
        {**fields_to_form(ModelCardFields()), "model_details.licenses": "MIT\nGPL-9"}, ModelCardFields()
    )
    assert [lic.identifier for lic in fresh.model_details.licenses] == ["MIT", "GPL-9"]
    assert form_key_for("model_details.licenses[1].identifier") == "model_details.licenses"
    assert form_key_for("model_details.version.date") == "model_details.version.date"
    assert form_key_for("considerations.limitations[0].description") == "considerations.limitations"


def test_binary_and_broken_yaml_files_give_one_line_messages(tmp_path: Path) -> None:
    binary = tmp_path / "binary.yaml"
    binary.write_bytes(b"\xe9\xc9P\xff")
    with pytest.raises(AnalysisInputError) as error:
        load_fields_yaml(binary)
    assert str(error.value) == (
        f"fields file {str(binary)!r} is not UTF-8 text (byte 0xe9 at offset 0); give a YAML file"
    )
    bad = tmp_path / "bad.yaml"
    bad.write_text("model_details: [1, 2\n")
    with pytest.raises(AnalysisInputError) as error:
        load_fields_yaml(bad)
    assert str(error.value) == (
        f"fields file {str(bad)!r} is not valid YAML (expected ',' or ']', but got '<stream end>' at line 2, column 1)"
    )

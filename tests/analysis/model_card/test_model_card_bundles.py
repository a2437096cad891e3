"""A model card embeds the fingerprint of a cited record's signed bundle, and stays a valid v0.0.2 card."""

# ruff: noqa: F811  (the shared fixtures are imported by name, then requested as arguments)

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
import yaml

from analysis.cli.main import main
from analysis.model_card.lineage import build_lineage
from analysis.records import RecordStore
from tests.analysis.model_card.model_card_support import (  # noqa: F401
    FULL_FIELDS,
    MODEL_ID,
    card_home,
    card_template,
    save_records,
)
from tests.analysis.model_card.test_model_card_assemble import assert_valid


@pytest.fixture
def signed(card_home: Path, tmp_path: Path, capsys) -> dict:
    """The card model's records, a key pair and a bundle of the privacy record exported elsewhere."""
    records = save_records(card_home)
    fields = tmp_path / "fields.yaml"
    fields.write_text(yaml.safe_dump(FULL_FIELDS, sort_keys=False))
    key = tmp_path / "keys" / "audit.pem"
    assert main(["records", "keygen", "--out", str(key)]) == 0
    bundle = tmp_path / "audit.bundle.json"
    privacy = records["privacy"].record_id
    assert main(["records", "export", privacy, "--sign", str(key), "--out", str(bundle)]) == 0
    capsys.readouterr()
    return {"records": records, "fields": fields, "bundle": bundle, "key": key, "privacy": privacy}


def card_json(out: Path, fields: Path, *extra: str) -> dict:
    assert (
        main(["card", "--model", MODEL_ID, "--format", "json", "--out", str(out), "--fields", str(fields), *extra]) == 0
    )
    return json.loads(out.read_text())


def test_an_exported_bundle_is_embedded_in_the_card_by_its_sha256(signed, tmp_path):
    fingerprint = hashlib.sha256(signed["bundle"].read_bytes()).hexdigest()
    public_hex = json.loads(signed["bundle"].read_text())["signature"]["public_key"]
    document = card_json(tmp_path / "card.json", signed["fields"])
    assert_valid(document)  # against the reference schema, not our own copy
    references = [r["reference"] for r in document["model_details"]["references"]]
    assert f"urn:loupe:record:{signed['privacy']}:bundle:sha256:{fingerprint}" in references
    assert sum(":bundle:" in r for r in references) == 1  # only the exported record has one
    description = document["quantitative_analysis"]["graphics"]["description"]
    assert f"signed bundle audit.bundle.json (sha256:{fingerprint}, Ed25519 public key {public_hex})" in description
    html = tmp_path / "card.html"
    assert main(["card", "--model", MODEL_ID, "--format", "html", "--out", str(html)]) == 0
    assert f"sha256:{fingerprint}" in html.read_text() and str(tmp_path) not in html.read_text()
    markdown = tmp_path / "card.md"
    assert main(["card", "--model", MODEL_ID, "--format", "md", "--out", str(markdown)]) == 0
    assert f"signed bundle audit.bundle.json `sha256:{fingerprint}`" in markdown.read_text()
    records = [RecordStore().get(i) for i in (signed["records"]["fairness"].record_id, signed["privacy"])]
    steps = build_lineage(records, bundles=RecordStore().bundles([signed["privacy"]]))
    assert [(s.stage, s.name, s.sha256) for s in steps if s.stage == "signed bundle"] == [
        ("signed bundle", "audit.bundle.json", fingerprint)
    ]


def test_card_bundle_cites_the_record_of_a_bundle_made_in_another_home(signed, tmp_path, card_home):
    """``--bundle``: a bundle this home has not noted (e.g. exported from a copy) is checked, noted and cited."""
    import sqlite3

    connection = sqlite3.connect(RecordStore().database)
    with connection:
        connection.execute("DELETE FROM bundles")
    connection.close()
    fairness = signed["records"]["fairness"].record_id
    document = card_json(tmp_path / "a.json", signed["fields"], "--records", fairness)
    assert not any(":bundle:" in r["reference"] for r in document["model_details"]["references"])
    document = card_json(
        tmp_path / "b.json", signed["fields"], "--records", fairness, "--bundle", str(signed["bundle"])
    )
    assert_valid(document)
    references = [r["reference"] for r in document["model_details"]["references"]]
    fingerprint = hashlib.sha256(signed["bundle"].read_bytes()).hexdigest()
    assert f"urn:loupe:record:{signed['privacy']}" in references  # the bundle's record is now cited
    assert f"urn:loupe:record:{signed['privacy']}:bundle:sha256:{fingerprint}" in references


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda text: text.replace('"value": "', '"value": "A', 1), "its signature does not verify"),
        (lambda text: json.dumps(json.loads(text)), "is not byte for byte as exported"),
        (lambda text: "not json", "is not valid JSON"),
    ],
)
def test_a_changed_bundle_is_refused_in_one_line(signed, tmp_path, capsys, change, message):
    bundle = signed["bundle"]
    bundle.write_text(change(bundle.read_text()))
    out = tmp_path / "card.json"
    assert main(["card", "--model", MODEL_ID, "--format", "json", "--out", str(out), "--bundle", str(bundle)]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and not out.exists()

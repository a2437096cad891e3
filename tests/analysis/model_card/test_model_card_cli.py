"""``python -m analysis card``: every format, fields from YAML (saved for the revision), bad input."""

# ruff: noqa: F811  (the shared fixtures are imported by name, then requested as arguments)

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from analysis.cli.main import main
from analysis.model_card import CardFieldStore
from analysis.models.registry import ModelRegistry
from tests.analysis.model_card.model_card_support import (  # noqa: F401
    FULL_FIELDS,
    MODEL_ID,
    card_home,
    card_template,
    full_fields,
    save_records,
)
from tests.analysis.model_card.test_model_card_assemble import assert_valid


@pytest.fixture
def fields_yaml(tmp_path: Path) -> Path:
    path = tmp_path / "fields.yaml"
    path.write_text(yaml.safe_dump(FULL_FIELDS, sort_keys=False))
    return path


@pytest.mark.parametrize(
    ("card_format", "marker"),
    [
        ("json", '"schema_version": "0.0.2"'),
        ("html", "<!DOCTYPE html>"),
        ("md", "# Model card: Tiny credit MLP"),
        ("hf", "---\nlicense: apache-2.0\n"),
    ],
)
def test_every_format_is_written(
    card_home: Path, fields_yaml: Path, capsys: pytest.CaptureFixture, card_format: str, marker: str
) -> None:
    records = save_records(card_home)
    out = card_home.parent / "out" / f"card.{card_format}"
    code = main(["card", "--model", MODEL_ID, "--format", card_format, "--out", str(out), "--fields", str(fields_yaml)])
    assert code == 0
    text = out.read_text(encoding="utf-8")
    assert marker in text
    line = capsys.readouterr().out.strip()
    revision = ModelRegistry().get(MODEL_ID).current.revision
    cited = f"{records['fairness'].record_id}, {records['privacy'].record_id}"
    assert line == (
        f"wrote {card_format} card for {MODEL_ID} (revision {revision[:12]}, citing {cited}) to {out} "
        f"({len(text.encode()):,} bytes)"
    )
    if card_format == "json":
        assert_valid(json.loads(text))


def test_fields_are_saved_and_reused_and_records_can_be_chosen(
    card_home: Path, fields_yaml: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    records = save_records(card_home)
    assert main(["card", "--model", MODEL_ID, "--format", "json", "--out", "-", "--fields", str(fields_yaml)]) == 0
    first = json.loads(capsys.readouterr().out)
    revision = ModelRegistry().get(MODEL_ID).current.revision
    assert CardFieldStore().load(MODEL_ID, revision).fields == full_fields()
    privacy = records["privacy"].record_id
    assert main(["card", "--model", MODEL_ID, "--format", "json", "--out", "-", "--records", privacy]) == 0
    captured = capsys.readouterr()
    second = json.loads(captured.out)
    assert second["model_details"] == {
        **first["model_details"],
        "references": [r for r in first["model_details"]["references"] if "fairness-" not in r["reference"]],
    }
    assert captured.err.strip() == f"wrote json card for {MODEL_ID} (revision {revision[:12]}, citing {privacy})"


def test_missing_fields_exit_2_with_one_line(card_home: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "card.json"
    assert main(["card", "--model", MODEL_ID, "--format", "json", "--out", str(out)]) == 2
    assert capsys.readouterr().err == "error: model_details.overview is required and is empty\n"
    assert not out.exists()
    assert main(["card", "--model", "nope", "--format", "json", "--out", str(out)]) == 2
    assert capsys.readouterr().err == "error: unknown model 'nope'; registered models are 'other-mlp' or 'tiny-mlp'\n"


def test_bad_fields_file_and_other_models_records(
    card_home: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    bad = tmp_path / "fields.yaml"
    bad.write_text("model_details:\n  overview: ok\n  licenses: [Apache2]\n")
    out = tmp_path / "card.md"
    assert main(["card", "--model", MODEL_ID, "--format", "md", "--out", str(out), "--fields", str(bad)]) == 2
    assert capsys.readouterr().err.startswith(
        "error: model_details.licenses[0].identifier: license identifier 'Apache2' is not a known SPDX identifier "
        "(did you mean 'Apache-2.0'"
    )
    assert CardFieldStore().load(MODEL_ID, ModelRegistry().get(MODEL_ID).current.revision) is None  # nothing saved
    good = tmp_path / "good.yaml"
    good.write_text("model_details:\n  overview: ok\n")
    other = save_records(card_home, model_id="other-mlp")["privacy"].record_id
    args = ["card", "--model", MODEL_ID, "--format", "md", "--out", str(out), "--fields", str(good)]
    assert main([*args, "--records", other]) == 2
    assert capsys.readouterr().err.strip() == (
        f"error: record '{other}' belongs to model 'other-mlp', not to 'tiny-mlp'; "
        "a card cites only its own model's records"
    )
    assert not out.exists()


def test_unknown_format_is_an_argparse_error(card_home: Path, capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["card", "--model", MODEL_ID, "--format", "pdf", "--out", "x"])
    assert exit_.value.code == 2
    assert "invalid choice: 'pdf'" in capsys.readouterr().err

"""Lineage on the privacy audit page and the card page: model file -> revision -> data sets -> records -> card."""

# ruff: noqa: F811  (the shared fixtures are imported by name, then requested as arguments)

from __future__ import annotations

from pathlib import Path

from analysis.model_card import CardFieldStore
from analysis.model_card.lineage import build_lineage
from analysis.models.registry import ModelRegistry
from analysis.privacy import MembershipAuditSpec, SlicingOptions, run_membership_audit, save_audit
from analysis.records import RecordStore
from tests.analysis.model_card.model_card_support import (  # noqa: F401
    MODEL_ID,
    card_home,
    card_template,
    full_fields,
    save_records,
)
from tests.analysis.privacy.privacy_support import leaky_source
from tests.ui.app_support import open_app_page


def lineage_table(at):
    table = next(d.value for d in at.table if list(d.value.columns) == ["Step", "Name", "sha256", "Detail"])
    return table.assign(sha256=table["sha256"].str.replace(" ", ""))  # shown in groups of 16 digits


def test_the_card_page_shows_the_path_from_model_file_to_card(card_home: Path) -> None:
    records = save_records(card_home)
    revision = ModelRegistry().get(MODEL_ID).current
    CardFieldStore().save(MODEL_ID, revision.revision, full_fields())
    at = open_app_page("ui/pages/card.py", {"model": MODEL_ID})
    assert not at.exception, at.exception
    table = lineage_table(at)
    assert table["Step"].tolist() == [
        "model file",
        "revision",
        "data set",
        "data set",
        "data set",
        "record",
        "record",
        "card",
    ]
    assert table["Name"][0] == Path(revision.path).name  # a file name, never the server path
    assert not any(str(card_home) in name or name.startswith("/") for name in table["Name"])
    assert table["sha256"][0] == revision.revision
    cited = {
        records["fairness"].record_id: records["fairness"].digest(),
        records["privacy"].record_id: records["privacy"].digest(),
    }
    assert dict(zip(table["Name"][5:7], table["sha256"][5:7], strict=True)) == cited
    assert table["Name"].iloc[-1] == f"{MODEL_ID}-model_card.json" and len(table["sha256"].iloc[-1]) == 64


def test_a_stored_audit_shows_its_lineage(loupe_home):
    result = run_membership_audit(
        MembershipAuditSpec(source=leaky_source(200), attacks=("threshold",), slicing=SlicingOptions(), workers=1)
    )
    record = save_audit(result, RecordStore(loupe_home))
    at = open_app_page("ui/pages/privacy.py", {"audit": record.record_id}, timeout=240)
    assert not at.exception, at.exception
    table = lineage_table(at)
    assert table["Step"].tolist() == ["data set", "data set", "record"]
    assert table["sha256"].tolist() == [record.inputs["members"], record.inputs["nonmembers"], record.digest()]


def test_lineage_names_files_by_name_and_marks_legacy_records(loupe_home, tmp_path):
    store = RecordStore()
    record = store.save(
        kind="fairness",
        model_id=None,
        revision=None,
        inputs={"predictions": "e" * 64},
        parameters={},
        versions={},
        result={},
        extra={"locations": {"predictions": str(tmp_path / "secret" / "preds.csv")}},
    )
    steps = build_lineage([record], card=("card.json", b"{}"))
    assert [(s.stage, s.name) for s in steps] == [
        ("data set", "preds.csv"),
        ("record", record.record_id),
        ("card", "card.json"),
    ]

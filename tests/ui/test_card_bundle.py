"""The card page's lineage shows a cited record's signed bundle (its file name and sha256)."""

# ruff: noqa: F811  (the shared fixtures are imported by name, then requested as arguments)

from __future__ import annotations

import hashlib

from analysis.model_card import CardFieldStore
from analysis.models.registry import ModelRegistry
from tests.analysis.model_card.model_card_support import MODEL_ID, card_home, card_template, full_fields  # noqa: F401
from tests.analysis.model_card.test_model_card_bundles import signed  # noqa: F401
from tests.ui.app_support import open_app_page
from tests.ui.test_lineage import lineage_table


def test_the_card_page_shows_the_bundle_in_its_lineage(signed) -> None:
    CardFieldStore().save(MODEL_ID, ModelRegistry().get(MODEL_ID).current.revision, full_fields())
    at = open_app_page("ui/pages/card.py", {"model": MODEL_ID, "records": signed["privacy"]})
    assert not at.exception, at.exception
    table = lineage_table(at)
    bundle = table[table["Step"] == "signed bundle"]
    assert bundle["Name"].tolist() == ["audit.bundle.json"]
    assert bundle["sha256"].tolist() == [hashlib.sha256(signed["bundle"].read_bytes()).hexdigest()]
    assert table["Step"].tolist()[-3:] == ["record", "signed bundle", "card"]

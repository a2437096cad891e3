# ruff: noqa: F811  (the shared fixtures are imported by name, then requested as arguments)
"""Bad links name what is wrong and offer a way forward: the nearest model, the card with its default evidence."""

from __future__ import annotations

from pathlib import Path

from tests.analysis.model_card.model_card_support import (  # noqa: F401
    MODEL_ID,
    card_home,
    card_template,
    save_records,
)
from tests.ui.app_support import open_app_page


def test_an_unknown_model_links_to_the_nearest_registered_one(card_home: Path) -> None:
    at = open_app_page("ui/pages/card.py", {"model": "tiny-mpl"})
    assert not at.exception
    assert at.error[0].value.startswith("unknown model 'tiny-mpl'; registered models are")
    assert at.markdown[-1].value == f"[Open this page for `{MODEL_ID}` instead](?model={MODEL_ID})"


def test_an_unknown_record_in_a_card_link_offers_the_card_with_its_default_evidence(card_home: Path) -> None:
    records = save_records(card_home)
    at = open_app_page("ui/pages/card.py", {"model": MODEL_ID, "records": f"{records['fairness'].record_id},nope"})
    assert not at.exception
    assert "'nope'" in at.error[0].value
    (link,) = at.get("page_link")
    assert link.proto.page.endswith("card") or "card" in link.proto.page
    assert link.proto.label == f"Open the card of {MODEL_ID} with its default evidence instead"
    assert dict(link.proto.query_string and [p.split("=") for p in link.proto.query_string.split("&")]) == {
        "model": MODEL_ID
    }

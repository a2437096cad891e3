"""The exported HTML card in a real browser: it shows the model name and metrics, and requests nothing."""

# ruff: noqa: F811  (the shared fixtures are imported by name, then requested as arguments)

from __future__ import annotations

from pathlib import Path

import pytest

from analysis.model_card import CardFormat, ModelCardSpec, build_model_card, render_card
from tests.analysis.model_card.model_card_support import (  # noqa: F401
    HOSTILE,
    MODEL_ID,
    card_home,
    card_template,
    full_fields,
    save_records,
)

pytestmark = [pytest.mark.e2e]


def test_exported_html_card_renders_offline(card_home: Path, browser, tmp_path: Path) -> None:
    records = save_records(card_home)
    fields = full_fields(considerations__limitations=[HOSTILE])
    card = build_model_card(ModelCardSpec(model_id=MODEL_ID, fields=fields))
    path = tmp_path / "model_card.html"
    path.write_text(render_card(card, CardFormat.HTML), encoding="utf-8")

    page = browser.new_page(viewport={"width": 1100, "height": 1400})
    requests: list[str] = []
    dialogs: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(path.as_uri())
    page.get_by_role("heading", level=1, name="Tiny credit MLP").wait_for(timeout=30_000)

    tables = page.locator(f"table.metrics[data-record='{records['fairness'].record_id}']")
    assert tables.count() == 2  # five metrics, four columns per table
    table = tables.first
    assert table.locator("th").all_inner_texts() == ["slice", "threshold", "count", "selection rate", "accuracy", "tpr"]
    row = table.locator("tr", has_text="sex=F")
    assert "0.7123" in row.inner_text() and "[0.6234, 0.8011]" in row.inner_text()
    assert page.locator(f"table.metrics[data-record='{records['privacy'].record_id}']").count() == 1
    assert page.locator("svg").count() >= 4
    assert page.get_by_text(HOSTILE).count() == 1  # shown as text, never run
    assert dialogs == []
    assert [url for url in requests if not url.startswith(("file:", "data:"))] == []
    page.pdf(path=str(tmp_path / "card.pdf"))  # prints without error
    assert (tmp_path / "card.pdf").stat().st_size > 10_000
    page.close()

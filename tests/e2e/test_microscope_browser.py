"""A researcher opens a pasted unit link in a real browser, then steps to the next unit."""

from __future__ import annotations

import os
import re

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def test_unit_link_shows_image_and_title_then_next_unit(demo_home, app_server, browser, tmp_path):
    from analysis.microscope.dataset_examples import DatasetExamplesSpec, compute_dataset_examples
    from analysis.microscope.featurevis import RenderSpec, render_units

    os.environ["LOUPE_HOME"] = str(demo_home)  # pre-render with the page's own defaults
    render_units(RenderSpec(model_id="shapes-cnn", layer="conv4", units=(0, 1)))
    compute_dataset_examples(DatasetExamplesSpec(model_id="shapes-cnn", layer="conv4"))

    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(f"{app_server}/microscope?model=shapes-cnn&layer=conv4&unit=0")
    page.get_by_role("heading", name="shapes-cnn / conv4 / unit 0").wait_for(timeout=60_000)
    image = page.locator("[data-testid='stImage'] img").first
    image.wait_for(timeout=30_000)
    # The <img> is in the page before its bytes arrive (slowly on a loaded machine): wait for them.
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image.element_handle(), timeout=30_000)
    assert image.evaluate("img => img.naturalWidth") == 64  # the 64x64 visualization of shapes-cnn
    page.screenshot(path=str(tmp_path / "unit0.png"))

    page.get_by_role("link", name=re.compile("next unit")).click()
    page.get_by_role("heading", name="shapes-cnn / conv4 / unit 1").wait_for(timeout=60_000)
    # Streamlit changes the address with history.pushState (no page load), so poll it.
    page.wait_for_function("() => new URLSearchParams(location.search).get('unit') === '1'", timeout=30_000)
    assert "layer=conv4" in page.url and "model=shapes-cnn" in page.url
    page.locator("[data-testid='stImage'] img").first.wait_for(timeout=30_000)
    page.screenshot(path=os.environ.get("LOUPE_E2E_SCREENSHOT", str(tmp_path / "unit1.png")))

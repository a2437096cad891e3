"""A researcher opens a pasted unit link in a real browser, steps to the next unit, another technique, another unit."""

from __future__ import annotations

import os
import re

import pytest

from tests.e2e.conftest import SCRIPT_FINISHED

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
    image = page.get_by_role("img", name="channel visualization of unit 0")
    image.wait_for(timeout=30_000)
    # The <img> is in the page before its bytes are decoded (slowly on a loaded machine): wait for them.
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image.element_handle(), timeout=30_000)
    assert image.evaluate("img => img.naturalWidth") == 256  # the 64x64 visualization, each pixel 4x4
    page.screenshot(path=str(tmp_path / "unit0.png"))

    page.get_by_role("link", name=re.compile("next unit")).click()
    page.get_by_role("heading", name="shapes-cnn / conv4 / unit 1").wait_for(timeout=60_000)
    # Streamlit changes the address with history.pushState (no page load), so poll it.
    page.wait_for_function("() => new URLSearchParams(location.search).get('unit') === '1'", timeout=30_000)
    assert "layer=conv4" in page.url and "model=shapes-cnn" in page.url
    page.get_by_role("img", name="channel visualization of unit 1").wait_for(timeout=30_000)
    page.screenshot(path=os.environ.get("LOUPE_E2E_SCREENSHOT", str(tmp_path / "unit1.png")))

    # "Jump to unit" opens from a popover; a number there moves to that unit.
    page.wait_for_function(SCRIPT_FINISHED, timeout=60_000)  # unit 0's elements are gone
    page.get_by_role("button", name=re.compile("Jump to unit")).click()
    box = page.get_by_label(re.compile(r"Unit \(0-63\)"))
    box.fill("5")
    box.press("Enter")
    page.get_by_role("heading", name="shapes-cnn / conv4 / unit 5").wait_for(timeout=60_000)
    page.wait_for_function("() => new URLSearchParams(location.search).get('unit') === '5'", timeout=30_000)

    # The techniques are links: "negative" opens this unit's negative view at its own address (not
    # rendered yet here: the page queues it, and refreshes while it waits).
    page.get_by_role("link", name=re.compile("negative")).first.click()
    page.wait_for_function("() => new URLSearchParams(location.search).get('view') === 'negative'", timeout=30_000)
    assert "unit=5" in page.url
    page.get_by_text("an image that minimises", exact=False).first.wait_for(timeout=30_000)

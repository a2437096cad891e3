"""A real browser against a token-configured server: a viewer sees no upload box; the token makes a writer.

Screenshots of the Models page as viewer and writer, at 1400 and 420 px, go to ``$LOUPE_SCREENSHOTS``
when that is set (to look at them).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from analysis.models.registry import ModelRegistry, RegisterModelSpec
from tests.conftest import build_tiny_cnn
from tests.e2e.conftest import SCRIPT_FINISHED, serve_app

pytestmark = [pytest.mark.e2e]

TOKEN = "e2e-writer-token-0123456789abcdef"


@pytest.fixture(scope="module")
def token_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``streamlit run app.py`` on 127.0.0.1 with LOUPE_WRITER_TOKEN set and one tiny model registered."""
    home = tmp_path_factory.mktemp("access-home")
    model = home / "tiny.keras"
    build_tiny_cnn().save(model)
    ModelRegistry(home).register(RegisterModelSpec(path=model, model_id="tiny"))
    env = {**os.environ, "LOUPE_HOME": str(home), "LOUPE_WRITER_TOKEN": TOKEN, "TF_CPP_MIN_LOG_LEVEL": "2"}
    env.pop("LOUPE_DATA_ROOTS", None)
    with serve_app(env) as base:
        yield base


def _settle(page) -> None:
    page.get_by_test_id("stApp").wait_for(timeout=60_000)
    page.wait_for_function(SCRIPT_FINISHED, timeout=120_000)
    page.wait_for_timeout(500)
    page.wait_for_function(SCRIPT_FINISHED, timeout=120_000)


def _shoot(page, name: str) -> None:
    """The "Add a model" section in view (Streamlit scrolls inside its own container, not the page)."""
    folder = os.environ.get("LOUPE_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.get_by_role("heading", name="Add a model").scroll_into_view_if_needed()
        page.wait_for_timeout(300)
        page.screenshot(path=str(Path(folder) / f"{name}.png"))


@pytest.mark.parametrize("width", [1400, 420])
def test_viewer_sees_no_upload_box_until_signed_in_with_the_token(token_server, browser, width) -> None:
    context = browser.new_context(viewport={"width": width, "height": 1000})
    try:
        page = context.new_page()
        page.goto(f"{token_server}/models?model=tiny")
        _settle(page)
        assert page.get_by_text("Read-only: you can open every link").count() == 1
        assert page.get_by_test_id("stFileUploader").count() == 0
        assert page.get_by_role("button", name="Register").count() == 0
        assert page.get_by_text("Trust model code").count() == 0
        _shoot(page, f"models-viewer-{width}")
        if width < 640:  # the sidebar is collapsed on a phone-sized screen
            page.get_by_test_id("stExpandSidebarButton").click()
        page.get_by_label("Writer token", exact=True).fill(TOKEN)
        page.get_by_role("button", name="Sign in as writer").click()
        page.get_by_test_id("stFileUploader").first.wait_for(timeout=60_000)
        _settle(page)
        assert page.get_by_test_id("stFileUploader").count() == 2
        assert page.get_by_text("Trust model code").count() == 0
        assert TOKEN not in page.content()
        if width < 640:
            page.get_by_test_id("stSidebarCollapseButton").locator("button").click()
        _shoot(page, f"models-writer-{width}")
    finally:
        context.close()

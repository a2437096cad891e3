"""Every page, opened in a real browser, requests nothing from a host other than the server.

Loupe runs offline: no font service for icons, no CDN, no telemetry. Each page is opened in
its own tab, every request it makes (documents, scripts, fonts, images, websockets) is
recorded until the script finishes, and any URL on another host fails the test by name.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

# One link per page of app.py, including a unit page of the Microscope.
PAGES = (
    "/home",
    "/microscope?model=shapes-cnn",
    "/microscope?model=shapes-cnn&layer=conv4",
    "/microscope?model=shapes-cnn&layer=conv4&unit=0",
    "/privacy?model=shapes-cnn-memorizer",
    "/fairness?model=credit-mlp",
    "/explain?model=credit-mlp&example=0",
    "/card?model=shapes-cnn",
    "/models?model=shapes-cnn",
)
SCRIPT_FINISHED = """() => {
  const app = document.querySelector("[data-testid='stApp']");
  return app !== null && app.getAttribute("data-test-script-state") === "notRunning";
}"""


@pytest.fixture(scope="module")
def rendered_unit(demo_home) -> None:
    """Unit 0 of conv4 rendered ahead, as the Microscope test does, so its page does not wait on it."""
    from analysis.microscope.featurevis import RenderSpec, render_units

    with pytest.MonkeyPatch.context() as patch:  # the home for this call only, not for later test modules
        patch.setenv("LOUPE_HOME", str(demo_home))
        render_units(RenderSpec(model_id="shapes-cnn", layer="conv4", units=(0,)))


@pytest.mark.parametrize("path", PAGES)
def test_page_requests_only_the_server(path: str, rendered_unit, app_server: str, browser) -> None:
    server = urlsplit(app_server).netloc
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    try:
        page.goto(f"{app_server}{path}")
        page.get_by_test_id("stSidebarNav").wait_for(timeout=60_000)  # the navigation and its icons
        page.wait_for_function(SCRIPT_FINISHED, timeout=300_000)
        page.wait_for_load_state("networkidle", timeout=60_000)  # fonts and images the page asked for
        page.wait_for_function(SCRIPT_FINISHED, timeout=300_000)
    finally:
        page.close()
    # data: and blob: URLs (e.g. an emoji favicon) never leave the browser.
    elsewhere = sorted(
        {url for url in requested if urlsplit(url).scheme not in ("data", "blob") and urlsplit(url).netloc != server}
    )
    assert elsewhere == [], f"{path} requested from hosts other than {server}: {elsewhere}"
    assert any(urlsplit(url).netloc == server for url in requested)  # the recording saw the page load

"""The exported static site in a real browser: served by ``python -m http.server``, nothing leaves the site.

A tiny CNN (conv1 of 8 units, rendered) is exported; chromium opens a unit page and the
``latest`` alias of another, every request is recorded, and each must go to the
site's own loopback address; every image on the page must have loaded.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = [pytest.mark.e2e]

ALL_IMAGES_LOADED = "() => [...document.images].every(image => image.complete && image.naturalWidth > 0)"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """The exported site's folder and the tiny model's revision."""
    from analysis.microscope.dataset_examples import DatasetExamplesSpec
    from analysis.microscope.site_export import SiteExportSpec, export_site
    from analysis.microscope.unit_pages import compute_unit_pages
    from tests.analysis.microscope.featurevis_support import register_small_cnn
    from tests.analysis.microscope.site_support import MODEL_ID, SIZE, STEPS, render

    root = tmp_path_factory.mktemp("static-site")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LOUPE_HOME", str(root / "home"))
        patch.delenv("LOUPE_CACHE_DIR", raising=False)
        register_small_cnn(root, MODEL_ID, with_data=True, size=SIZE)
        compute_unit_pages(DatasetExamplesSpec(model_id=MODEL_ID, layer="conv1"))
        render({"conv1": tuple(range(8))})
        result = export_site(SiteExportSpec(model_id=MODEL_ID, out=root / "site", layers=("conv1",), steps=STEPS))
    return root / "site", result.revision


@pytest.fixture(scope="module")
def served(site: tuple[Path, str]) -> Iterator[str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1", "--directory", str(site[0])]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                with urllib.request.urlopen(f"{base}/index.html", timeout=2):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("http.server did not start") from None
                time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        process.wait(10)


def test_a_unit_page_loads_every_image_from_the_site_alone(browser, served: str, site: tuple[Path, str]) -> None:
    from tests.analysis.microscope.site_support import MODEL_ID

    revision = site[1][:12]
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    requests: list[str] = []
    context.on("request", lambda request: requests.append(request.url))
    page = context.new_page()
    response = page.goto(f"{served}/models/{MODEL_ID}/{revision}/conv1/1.html")
    assert response is not None and response.ok
    page.wait_for_load_state("networkidle")
    assert page.evaluate(ALL_IMAGES_LOADED)
    assert page.locator("img.vis").count() == 1 and page.locator(".thumbs img").count() >= 5
    assert page.locator("h1").inner_text() == f"{MODEL_ID} / conv1 / unit 1"
    page.goto(f"{served}/models/{MODEL_ID}/latest/conv1/5.html")  # the alias redirects to the pinned page
    page.wait_for_url(f"{served}/models/{MODEL_ID}/{revision}/conv1/5.html")
    page.wait_for_load_state("networkidle")
    assert page.evaluate(ALL_IMAGES_LOADED) and page.locator("img.vis").count() == 1
    page.get_by_role("link", name="all units of conv1").click()
    page.wait_for_load_state("networkidle")
    assert page.locator(".grid .tile").count() == 8 and page.evaluate(ALL_IMAGES_LOADED)
    context.close()
    outside = [url for url in requests if not url.startswith(served + "/")]
    assert outside == [] and len(requests) > 10

"""The app's unit page offers the published static copy only when the site at LOUPE_SITE_DIR has that page."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from ui.unit_page_cached import published_copy_url

REVISION = "ab" * 32


def link(unit: int) -> SimpleNamespace:
    return SimpleNamespace(
        model=SimpleNamespace(model_id="shapes-cnn"),
        revision=SimpleNamespace(revision=REVISION),
        layer=SimpleNamespace(name="conv4"),
        unit=unit,
    )


@pytest.fixture
def site(tmp_path: Path) -> Path:
    page = tmp_path / "models" / "shapes-cnn" / REVISION[:12] / "conv4" / "7.html"
    page.parent.mkdir(parents=True)
    page.write_text("<!doctype html>")
    (tmp_path / "manifest.json").write_text('{"format": "loupe-static-site", "files": {}}')
    return tmp_path


def test_the_published_copy_is_offered_when_the_site_has_the_page(site: Path, monkeypatch) -> None:
    monkeypatch.setenv("LOUPE_SITE_DIR", str(site))
    monkeypatch.setenv("LOUPE_SITE_URL", "https://example.org/loupe/")
    assert published_copy_url(link(7)) == f"https://example.org/loupe/models/shapes-cnn/{REVISION[:12]}/conv4/7.html"
    assert published_copy_url(link(8)) is None  # not exported


def test_nothing_is_offered_without_both_settings(site: Path, monkeypatch) -> None:
    monkeypatch.delenv("LOUPE_SITE_URL", raising=False)
    monkeypatch.setenv("LOUPE_SITE_DIR", str(site))
    assert published_copy_url(link(7)) is None
    monkeypatch.setenv("LOUPE_SITE_URL", "https://example.org/loupe")
    monkeypatch.setenv("LOUPE_SITE_DIR", str(site / "elsewhere"))
    assert published_copy_url(link(7)) is None

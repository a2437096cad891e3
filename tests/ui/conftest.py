"""UI test fixtures: the operator's settings for every UI test.

A writer token is configured (``open_app_page`` signs in with it; ``writer=False`` stays a viewer),
and the test's own temporary folder is the one folder server paths may point into.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.ui.app_support import WRITER_TOKEN


@pytest.fixture(autouse=True)
def writer_token(monkeypatch: pytest.MonkeyPatch) -> str:
    """The server's writer token (LOUPE_WRITER_TOKEN)."""
    monkeypatch.setenv("LOUPE_WRITER_TOKEN", WRITER_TOKEN)
    return WRITER_TOKEN


@pytest.fixture(autouse=True)
def data_roots(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """LOUPE_DATA_ROOTS: the test's tmp_path (predictions files and data sets the tests write there)."""
    monkeypatch.setenv("LOUPE_DATA_ROOTS", str(tmp_path))
    return tmp_path

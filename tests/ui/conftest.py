"""UI test fixtures: a writer token configured for every UI test (open_app_page signs in with it)."""

from __future__ import annotations

import pytest

from tests.ui.app_support import WRITER_TOKEN


@pytest.fixture(autouse=True)
def writer_token(monkeypatch: pytest.MonkeyPatch) -> str:
    """The server's writer token (LOUPE_WRITER_TOKEN); ``open_app_page(..., writer=False)`` stays a viewer."""
    monkeypatch.setenv("LOUPE_WRITER_TOKEN", WRITER_TOKEN)
    return WRITER_TOKEN

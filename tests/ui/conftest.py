"""UI test fixtures: the operator's settings for every UI test.

A writer token is configured (``open_app_page`` signs in with it; ``writer=False`` stays a viewer),
and the test's own temporary folder is the one folder server paths may point into.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from analysis.datasets import DatasetRole
from analysis.models.registry import ModelRegistry, RegisterModelSpec
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


@pytest.fixture
def tiny_model(loupe_home: Path, tmp_path: Path, tiny_cnn_path: Path) -> str:
    """A tiny CNN registered as ``tiny`` with 40 members and 30 non-members (random 8x8 images)."""
    rng = np.random.default_rng(0)
    sets = {}
    for role, n in ((DatasetRole.MEMBERS, 40), (DatasetRole.NONMEMBERS, 30)):
        sets[role] = tmp_path / f"{role.value}.npz"
        np.savez(sets[role], x=rng.uniform(0, 255, (n, 8, 8, 3)).astype(np.float32), y=np.arange(n) % 3)
    ModelRegistry(loupe_home).register(RegisterModelSpec(path=tiny_cnn_path, model_id="tiny", datasets=sets))
    return "tiny"

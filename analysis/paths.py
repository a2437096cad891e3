"""Where Loupe keeps its state: ``LOUPE_HOME`` and ``LOUPE_CACHE_DIR``."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def loupe_home() -> Path:
    """The Loupe home folder (registry, demo models, records); ``LOUPE_HOME`` overrides."""
    home = Path(os.environ.get("LOUPE_HOME") or PROJECT_ROOT / ".loupe").expanduser()
    home.mkdir(parents=True, exist_ok=True)
    return home


def cache_dir() -> Path:
    """The result cache folder; ``LOUPE_CACHE_DIR`` overrides, default ``<home>/cache``."""
    configured = os.environ.get("LOUPE_CACHE_DIR")
    path = Path(configured).expanduser() if configured else loupe_home() / "cache"
    path.mkdir(parents=True, exist_ok=True)
    return path


def open_result_store():  # -> cache.ResultStore (imported lazily: paths stays dependency-free)
    """The shared result store at :func:`cache_dir`, bounded by ``LOUPE_CACHE_SIZE_LIMIT`` bytes."""
    from cache import ResultStore
    from cache.store import DEFAULT_SIZE_LIMIT

    limit = int(os.environ.get("LOUPE_CACHE_SIZE_LIMIT", DEFAULT_SIZE_LIMIT))
    return ResultStore(cache_dir(), size_limit_bytes=limit)

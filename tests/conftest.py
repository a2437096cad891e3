"""Shared fixtures: an isolated Loupe home, tiny hand-made models, and the demo models (built once)."""

from __future__ import annotations

import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

import numpy as np
import pytest

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SHARED_REFERENCE = PROJECT_ROOT.parent / "shared" / "reference"


@pytest.fixture
def loupe_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty Loupe home (registry, records, cache) for one test."""
    home = tmp_path / "loupe-home"
    home.mkdir()
    monkeypatch.setenv("LOUPE_HOME", str(home))
    monkeypatch.delenv("LOUPE_CACHE_DIR", raising=False)
    return home


def build_tiny_cnn(seed: int = 0):
    """A 8x8x3 -> 3-class CNN with a Rescaling(1/255) front: layers conv (4 units), logits."""
    import keras

    keras.utils.set_random_seed(seed)
    inputs = keras.Input((8, 8, 3))
    x = keras.layers.Rescaling(1 / 255)(inputs)
    x = keras.layers.Conv2D(4, 3, activation="relu", name="conv")(x)
    x = keras.layers.GlobalAveragePooling2D(name="gap")(x)
    outputs = keras.layers.Dense(3, activation="softmax", name="logits")(x)
    return keras.Model(inputs, outputs)


@pytest.fixture
def tiny_cnn_path(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.keras"
    build_tiny_cnn().save(path)
    return path


@pytest.fixture
def tiny_dataset_path(tmp_path: Path) -> Path:
    rng = np.random.default_rng(0)
    path = tmp_path / "tiny-data.npz"
    np.savez(
        path,
        x=rng.uniform(0, 255, (12, 8, 8, 3)).astype(np.float32),
        y=np.arange(12) % 3,
        split=np.array(["train"] * 8 + ["test"] * 4),
        meta_sex=np.array(["F", "M"] * 6),
    )
    return path


@pytest.fixture(scope="session")
def demo_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A Loupe home with the three demo models registered (set LOUPE_HOME to it in your test).

    The build itself is cached in ``.loupe/demo-builds`` keyed by the builder's code and
    seed, shared with ``make run``: only the first session on a machine trains.
    """
    from analysis.demo.build import build_demo_models
    from analysis.models.registry import ModelRegistry

    home = tmp_path_factory.mktemp("demo-home")
    previous = {key: os.environ.get(key) for key in ("LOUPE_HOME", "LOUPE_DEMO_BUILD_DIR")}
    os.environ["LOUPE_DEMO_BUILD_DIR"] = os.environ.get("LOUPE_DEMO_BUILD_DIR") or str(
        PROJECT_ROOT / ".loupe" / "demo-builds"
    )
    os.environ["LOUPE_HOME"] = str(home)
    try:
        build_demo_models(registry=ModelRegistry(home), report=lambda message: None)
    finally:
        for key, value in previous.items():
            if key == "LOUPE_DEMO_BUILD_DIR":
                continue  # keep the shared build folder for later demo users in this session
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    return home

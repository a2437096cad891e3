"""Synthetic data written in every form Loupe accepts, from one set of arrays."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

CLASSES = ("circle", "square", "triangle")
SIZE = 16


@dataclass(frozen=True)
class ImageForms:
    pixels: np.ndarray  # uint8 [n, 16, 16]
    labels: np.ndarray  # int64 [n], index into CLASSES
    site: np.ndarray  # metadata column
    folder: Path  # class subfolders
    flat: Path  # flat folder with labels.csv
    npz: Path  # x in [-1, 1], y, meta_site


def expected_x(pixels: np.ndarray, low: float = -1.0, high: float = 1.0) -> np.ndarray:
    return (low + pixels.astype(np.float32)[..., None] / 255.0 * (high - low)).astype(np.float32)


@pytest.fixture
def image_forms(tmp_path: Path) -> ImageForms:
    return make_image_forms(tmp_path)


def make_image_forms(tmp_path: Path) -> ImageForms:
    from PIL import Image

    rng = np.random.default_rng(7)
    n = 12
    labels = np.repeat(np.arange(3), 4)
    pixels = rng.integers(0, 256, size=(n, SIZE, SIZE), dtype=np.uint8)
    pixels[labels == 1, 4:12, 4:12] = 255  # something for a conv unit to find
    site = np.array(["north", "south"] * 6)
    folder, flat = tmp_path / "folder", tmp_path / "flat"
    rows = ["file,label,site"]
    for i in range(n):
        name = f"img_{i:02d}.png"
        (folder / CLASSES[labels[i]]).mkdir(parents=True, exist_ok=True)
        Image.fromarray(pixels[i], mode="L").save(folder / CLASSES[labels[i]] / name)
        flat.mkdir(exist_ok=True)
        Image.fromarray(pixels[i], mode="L").save(flat / name)
        rows.append(f"{name},{CLASSES[labels[i]]},{site[i]}")
    (flat / "labels.csv").write_text("\n".join(rows) + "\n")
    npz = tmp_path / "images.npz"
    np.savez(npz, x=expected_x(pixels), y=labels, meta_site=site)
    return ImageForms(pixels=pixels, labels=labels, site=site, folder=folder, flat=flat, npz=npz)


@dataclass(frozen=True)
class TableForms:
    x: np.ndarray
    y: np.ndarray
    sex: np.ndarray
    csv: Path
    parquet: Path
    npz: Path


@pytest.fixture
def table_forms(tmp_path: Path) -> TableForms:
    return make_table_forms(tmp_path)


def make_table_forms(tmp_path: Path) -> TableForms:
    import pandas as pd

    rng = np.random.default_rng(3)
    n = 300
    x = rng.normal(size=(n, 4)).astype(np.float32)
    y = (x[:, 0] + 0.5 * x[:, 1] > 0).astype(np.int64)
    sex = rng.choice(["f", "m"], size=n)
    frame = pd.DataFrame({"age": x[:, 0], "income": x[:, 1], "label": y, "sex": sex, "hours": x[:, 2], "debt": x[:, 3]})
    csv, parquet, npz = tmp_path / "table.csv", tmp_path / "table.parquet", tmp_path / "table.npz"
    frame.to_csv(csv, index=False, float_format="%.9g")
    frame.to_parquet(parquet, index=False)
    np.savez(npz, x=x, y=y, meta_sex=sex, feature_names=np.array(["age", "income", "hours", "debt"]))
    return TableForms(x=x, y=y, sex=sex, csv=csv, parquet=parquet, npz=npz)

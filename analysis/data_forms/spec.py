"""What to read and how to convert it: the data-set forms, the source spec and the conversion policy."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

import numpy as np

from analysis.errors import AnalysisInputError, describe_choices

IMAGE_SUFFIXES = (".bmp", ".gif", ".jpeg", ".jpg", ".png")  # what keras.utils.image_dataset_from_directory reads
TABLE_SUFFIXES = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}
CONVERTED_SUFFIXES = tuple(TABLE_SUFFIXES)  # files converted to .npz (besides folders)


class DataForm(StrEnum):
    NPZ = "npz"  # numpy.savez with x, y (the native form)
    IMAGE_FOLDER = "image-folder"  # one subfolder per class, as keras.utils.image_dataset_from_directory reads
    IMAGE_LIST = "image-list"  # a flat folder of images and a labels CSV: file,label[,metadata...]
    CSV = "csv"
    PARQUET = "parquet"


class Fit(StrEnum):
    RESIZE = "resize"  # stretch to the model's size (keras's default, crop_to_aspect_ratio=False)
    CROP = "crop"  # centre-crop to the model's aspect ratio, then resize (crop_to_aspect_ratio=True)


@dataclass(frozen=True, slots=True, kw_only=True)
class DataSourceSpec:
    """Where a data set is and which columns mean what.

    ``labels_csv``: for a flat image folder, the CSV with ``file,label[,metadata...]`` (default:
    ``labels.csv`` inside the folder). ``label``/``features``/``meta``: table columns (``features``
    empty: every numeric column that is not the label, metadata or ``split``).
    """

    path: Path
    form: DataForm | None = None  # None: detected from the path
    label: str = "label"
    features: tuple[str, ...] = ()
    meta: tuple[str, ...] = ()
    labels_csv: Path | None = None
    fit: Fit = Fit.RESIZE

    def __post_init__(self) -> None:
        object.__setattr__(self, "path", Path(self.path))
        if self.form is None:
            object.__setattr__(self, "form", detect_form(self.path, labels_csv=self.labels_csv))
        for name in ("features", "meta"):
            value = getattr(self, name)
            if isinstance(value, str):
                object.__setattr__(self, name, tuple(c.strip() for c in value.split(",") if c.strip()))
        if self.label in self.features or set(self.meta) & set(self.features):
            raise AnalysisInputError(
                f"a column is both a feature and the label or metadata: features {list(self.features)}, "
                f"label {self.label!r}, metadata {list(self.meta)}"
            )

    def to_dict(self) -> dict[str, Any]:
        return {
            "form": str(self.form),
            "path": str(self.path),
            "label": self.label,
            "features": list(self.features),
            "meta": list(self.meta),
            "labels_csv": None if self.labels_csv is None else str(self.labels_csv),
            "fit": str(self.fit),
        }


def detect_form(path: Path, *, labels_csv: Path | None = None) -> DataForm:
    """The form of ``path``: by suffix for files; for a folder, class subfolders or a flat folder with a CSV."""
    path = Path(path)
    if not path.exists():
        raise AnalysisInputError(f"data path {str(path)!r} does not exist")
    if path.is_file():
        suffix = path.suffix.lower()
        if suffix == ".npz":
            return DataForm.NPZ
        if suffix in TABLE_SUFFIXES:
            return DataForm(TABLE_SUFFIXES[suffix])
        raise AnalysisInputError(
            f"data file {str(path)!r} has suffix {suffix or '(none)'!r}; Loupe reads "
            f"{describe_choices(['.npz', *TABLE_SUFFIXES])} files and image folders"
        )
    if labels_csv is not None or (path / "labels.csv").is_file():
        return DataForm.IMAGE_LIST
    return DataForm.IMAGE_FOLDER


@dataclass(frozen=True, slots=True, kw_only=True)
class ConversionPolicy:
    """How inputs become what the model takes: ``shape`` (without batch axis), ``input_range``, ``n_classes``.

    Images: decoded, converted to grey (``L``) or RGB by the model's channels, fitted to
    ``[height, width]`` by ``fit`` (bilinear), then pixel values 0..255 mapped linearly to
    ``input_range``. Tables: the features as float32, unchanged.
    """

    shape: tuple[int | None, ...]
    input_range: tuple[float, float] = (0.0, 1.0)
    n_classes: int | None = None
    fit: Fit = Fit.RESIZE

    def image_size(self) -> tuple[int, int, int]:
        """``(height, width, channels)`` of an image model; AnalysisInputError for other inputs."""
        if len(self.shape) != 3 or self.shape[-1] not in (1, 3) or None in self.shape:
            raise AnalysisInputError(
                f"an image folder needs a model that takes images [height, width, 1 or 3]; this model takes "
                f"{list(self.shape)}"
            )
        height, width, channels = self.shape
        return int(height), int(width), int(channels)

    def describe(self) -> str:
        """One sentence for the model page: what Loupe does to an image."""
        if len(self.shape) != 3:
            return f"table rows: the feature columns as float32, {self.shape[-1] if self.shape else '?'} per row"
        height, width, channels = self.shape
        colour = "grey (PIL 'L')" if channels == 1 else "RGB"
        fitted = "resized (bilinear)" if self.fit is Fit.RESIZE else "centre-cropped to the aspect ratio, then resized"
        low, high = self.input_range
        return (
            f"images {fitted} to {height}x{width}, converted to {colour}, pixels 0..255 mapped to [{low:g}, {high:g}]"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "shape": list(self.shape),
            "input_range": list(self.input_range),
            "n_classes": self.n_classes,
            "fit": str(self.fit),
        }


@dataclass(slots=True, kw_only=True)
class Batch:
    """Up to a few hundred examples: ``x`` float32 ``[n, ...]``, ``y`` labels ``[n]`` (ints or strings),
    ``meta`` columns ``[n]`` each, ``names`` the example's file or row number."""

    x: np.ndarray
    y: np.ndarray
    meta: dict[str, np.ndarray] = field(default_factory=dict)
    names: tuple[str, ...] = ()
    split: np.ndarray | None = None

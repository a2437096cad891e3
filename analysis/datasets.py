"""Datasets linked to a model: ``.npz`` files with ``x`` and ``y``.

Conventions (documented in docs/models.md):

- ``x``: inputs, ``[n, ...]`` matching the model's input shape; ``y``: integer labels ``[n]``;
- ``split`` (optional): strings ``"train"``/``"test"`` per example;
- ``feature_names`` (optional, tabular): one string per column of ``x``;
- ``meta_<column>`` (optional): a metadata column per example (e.g. ``meta_sex``),
  strings or numbers, used for slicing by privacy and fairness analyses.

Files are read with ``allow_pickle=False``: object arrays are refused.

Other forms (an image folder, a flat folder with ``labels.csv``, a CSV or Parquet table; see
:mod:`analysis.data_forms`) are converted once, streamed, into a content-addressed ``.npz`` under
``<LOUPE_HOME>/datasets/``: :attr:`DatasetInfo.path` is that file (what every analysis reads) and
:attr:`DatasetInfo.source` records the original path, its content hash and the conversion.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

import numpy as np

from analysis.errors import AnalysisInputError, describe_choices
from analysis.hashing import sha256_file

META_PREFIX = "meta_"


class DatasetRole(StrEnum):
    DATA = "data"  # general linked data set (optionally with a split column)
    MEMBERS = "members"  # training members, for privacy audits
    NONMEMBERS = "nonmembers"  # held-out non-members, for privacy audits


@dataclass(frozen=True, slots=True, kw_only=True)
class DatasetInfo:
    """A validated dataset file: where it is, its content hash and what it holds."""

    role: DatasetRole
    path: str
    sha256: str
    n_examples: int
    x_shape: tuple[int, ...]
    n_classes: int
    metadata_columns: tuple[str, ...]
    feature_names: tuple[str, ...]
    has_split: bool
    source: dict[str, Any] | None = None  # a converted form: original path, its sha256, columns, policy, skipped

    def to_dict(self) -> dict[str, Any]:
        return ({"source": self.source} if self.source is not None else {}) | {
            "role": self.role.value,
            "path": self.path,
            "sha256": self.sha256,
            "n_examples": self.n_examples,
            "x_shape": list(self.x_shape),
            "n_classes": self.n_classes,
            "metadata_columns": list(self.metadata_columns),
            "feature_names": list(self.feature_names),
            "has_split": self.has_split,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DatasetInfo:
        return cls(
            role=DatasetRole(data["role"]),
            path=data["path"],
            sha256=data["sha256"],
            n_examples=data["n_examples"],
            x_shape=tuple(data["x_shape"]),
            n_classes=data["n_classes"],
            metadata_columns=tuple(data["metadata_columns"]),
            feature_names=tuple(data["feature_names"]),
            has_split=data["has_split"],
            source=data.get("source"),
        )


ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")  # a zip archive's first bytes (the second: an empty archive)


def load_npz(path: Path) -> dict[str, np.ndarray]:
    """Every array of an ``.npz`` file, without pickles; AnalysisInputError if unreadable."""
    path = Path(path)
    if not path.is_file():
        raise AnalysisInputError(f"data file {str(path)!r} does not exist")
    if path.stat().st_size == 0:
        raise AnalysisInputError(f"data file {str(path)!r} is empty (0 bytes)")
    with path.open("rb") as handle:
        head = handle.read(8)
    if not head.startswith(ZIP_MAGIC):
        # np.load would read a lone .npy as one array, and anything else as a pickle (then refuse it)
        raise AnalysisInputError(
            f"data file {str(path)!r} is not a valid .npz file (it starts with bytes {head!r}, not a zip archive); "
            "write it with numpy.savez(path, x=..., y=...)"
        )
    try:
        with np.load(path, allow_pickle=False) as archive:
            return {name: archive[name] for name in archive.files}
    except ValueError as error:
        if "pickle" in str(error).lower():
            raise AnalysisInputError(
                f"data file {str(path)!r} holds object arrays, which Loupe refuses to unpickle; "
                "store strings as fixed-width arrays (np.array(values, dtype=str))"
            ) from error
        raise AnalysisInputError(f"data file {str(path)!r} is not a valid .npz file ({error})") from error
    except (OSError, zipfile.BadZipFile, EOFError) as error:
        raise AnalysisInputError(f"data file {str(path)!r} is not a valid .npz file ({error})") from error


def inspect_dataset(path: Path, role: DatasetRole, *, input_shape: tuple[int | None, ...] | None = None) -> DatasetInfo:
    """Validate a dataset file and describe it; errors name the file and the bad field.

    (Image folders and tables are converted to an ``.npz`` first, by the registry with
    :mod:`analysis.data_forms`; this checks the result.)
    """
    arrays = load_npz(path)
    for required in ("x", "y"):
        if required not in arrays:
            raise AnalysisInputError(
                f"data file {str(path)!r} has no array {required!r}; it has {describe_choices(sorted(arrays))}"
            )
    x, y = arrays["x"], arrays["y"]
    if x.ndim < 2 or len(x) == 0:
        raise AnalysisInputError(f"'x' in {str(path)!r} must be [n, ...] with n > 0, got shape {x.shape}")
    if y.shape != (len(x),):
        raise AnalysisInputError(f"'y' in {str(path)!r} must have shape ({len(x)},) like x, got {y.shape}")
    if not np.issubdtype(y.dtype, np.integer) or (len(y) and y.min() < 0):
        raise AnalysisInputError(f"'y' in {str(path)!r} must hold class indices 0, 1, ...; got dtype {y.dtype}")
    if not np.issubdtype(x.dtype, np.number):
        raise AnalysisInputError(f"'x' in {str(path)!r} must be numeric, got dtype {x.dtype}")
    if input_shape is not None:
        expected = tuple(input_shape)
        if len(expected) != x.ndim - 1 or any(e not in (None, a) for e, a in zip(expected, x.shape[1:], strict=False)):
            raise AnalysisInputError(
                f"'x' in {str(path)!r} has examples of shape {tuple(x.shape[1:])}, "
                f"but the model expects {tuple(expected)}"
            )
    metadata = tuple(sorted(name[len(META_PREFIX) :] for name in arrays if name.startswith(META_PREFIX)))
    for column in metadata:
        if arrays[META_PREFIX + column].shape[:1] != (len(x),):
            raise AnalysisInputError(f"metadata column {column!r} in {str(path)!r} must have {len(x)} rows")
    features = tuple(str(f) for f in arrays.get("feature_names", np.array([], dtype=str)).tolist())
    if features and (x.ndim != 2 or len(features) != x.shape[1]):
        raise AnalysisInputError(f"'feature_names' in {str(path)!r} has {len(features)} names for x of shape {x.shape}")
    if "split" in arrays:
        values = set(np.unique(arrays["split"]).tolist())
        if not values <= {"train", "test"} or arrays["split"].shape != (len(x),):
            raise AnalysisInputError(
                f"'split' in {str(path)!r} must hold 'train' or 'test' per example, found {sorted(map(str, values))}"
            )
    return DatasetInfo(
        role=role,
        path=str(Path(path).resolve()),
        sha256=sha256_file(path),
        n_examples=len(x),
        x_shape=tuple(int(d) for d in x.shape),
        n_classes=int(y.max()) + 1,
        metadata_columns=metadata,
        feature_names=features,
        has_split="split" in arrays,
    )

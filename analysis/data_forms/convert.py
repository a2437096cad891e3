"""Convert any data-set form into one deterministic ``.npz`` (streamed), and preview its first examples.

The converted file is content-addressed: its name hashes the source's content hash, the columns
chosen and the conversion policy, so linking the same data to the same kind of model reuses it.
It is written member by member (``x`` streamed batch by batch through a temporary file) with fixed
zip timestamps, so the same source gives the same bytes and the same SHA-256 on every machine.

Memory rule: converting holds one batch of inputs (256 images, or 65,536 table rows) plus the
labels and metadata of every example; the analyses then read the converted ``x`` whole, as they
read any ``.npz``: ``n x prod(input shape) x 4`` bytes (float32).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from analysis.data_forms.images import iter_image_batches, list_class_folder
from analysis.data_forms.spec import Batch, ConversionPolicy, DataForm, DataSourceSpec
from analysis.data_forms.tables import iter_table_batches
from analysis.errors import AnalysisInputError
from analysis.hashing import sha256_file, sha256_path

CODE_VERSION = "data-forms-2"  # 2: 16-bit grey scaled, source_json 0-d
ZIP_DATE = (1980, 1, 1, 0, 0, 0)
SHOWN_SKIPPED = 5


@dataclass(frozen=True, slots=True, kw_only=True)
class ConvertedDataset:
    """A converted data set: the ``.npz`` every analysis reads, and where it came from."""

    path: Path
    source: dict[str, Any]  # form, path, sha256, columns, policy, skipped count and first names, class names


def source_sha256(source: DataSourceSpec) -> str:
    """The stable content hash of the data where it is (a folder: every file's path and bytes)."""
    digest = sha256_path(Path(source.path))
    if source.form is DataForm.IMAGE_LIST and source.labels_csv is not None:
        digest = hashlib.sha256(f"{digest}|{sha256_file(Path(source.labels_csv))}".encode()).hexdigest()
    return digest


def iter_batches(
    source: DataSourceSpec, policy: ConversionPolicy, *, limit: int | None = None, skipped: list[str] | None = None
) -> Iterator[Batch]:
    """The data set's examples in batches, converted by ``policy`` (the one streaming interface)."""
    policy = replace(policy, fit=source.fit)  # the source says how to fit its images
    if source.form in (DataForm.IMAGE_FOLDER, DataForm.IMAGE_LIST):
        yield from iter_image_batches(source, policy, limit=limit, skipped=skipped)
    elif source.form in (DataForm.CSV, DataForm.PARQUET):
        yield from iter_table_batches(source, limit=limit)
    else:
        raise AnalysisInputError(f"{source.form} data needs no conversion; read it with analysis.datasets.load_npz")


def _check_shape(source: DataSourceSpec, batch: Batch, policy: ConversionPolicy, features: tuple[str, ...]) -> None:
    expected = tuple(policy.shape)
    got = tuple(batch.x.shape[1:])
    if len(expected) != len(got) or any(e not in (None, g) for e, g in zip(expected, got, strict=False)):
        if len(got) == 1:
            raise AnalysisInputError(
                f"table {str(source.path)!r} gives {got[0]} feature columns ({', '.join(features)}), but the model "
                f"takes inputs of shape {list(expected)}; choose the columns with --features"
            )
        raise AnalysisInputError(
            f"data {str(source.path)!r} gives examples of shape {list(got)}; the model takes {list(expected)}"
        )


def encode_labels(
    raw: np.ndarray, source: DataSourceSpec, policy: ConversionPolicy, classes: tuple[str, ...] = ()
) -> tuple[np.ndarray, tuple[str, ...]]:
    """Labels as class indices ``[n]`` int64, and the class names (empty for integer labels)."""
    whole = raw.dtype.kind in "iu" or (raw.dtype.kind == "f" and bool(np.all(np.mod(raw, 1) == 0)))
    digits = raw.dtype.kind in "UO" and all(str(v).lstrip("-").isdigit() for v in np.unique(raw))
    if not classes and (whole or digits):
        return _check_classes(raw.astype(np.int64), (), source, policy)
    if not classes and raw.dtype.kind == "f":
        example = raw[np.mod(raw, 1) != 0][0]
        raise AnalysisInputError(
            f"label column {source.label!r} of {str(source.path)!r} holds fractions (e.g. {example}); "
            "labels must be class indices 0, 1, ... or class names"
        )
    classes = classes or tuple(sorted({str(v) for v in np.unique(raw)}))
    lookup = {name: i for i, name in enumerate(classes)}
    y = np.fromiter((lookup[str(v)] for v in raw), dtype=np.int64, count=len(raw))
    return _check_classes(y, classes, source, policy)


def _check_classes(
    y: np.ndarray, classes: tuple[str, ...], source: DataSourceSpec, policy: ConversionPolicy
) -> tuple[np.ndarray, tuple[str, ...]]:
    n_classes = policy.n_classes
    if len(y) and y.min() < 0:
        raise AnalysisInputError(f"labels of {str(source.path)!r} must be 0 or more; found {int(y.min())}")
    if n_classes is not None and n_classes > 1 and len(y) and (y.max() >= n_classes or len(classes) > n_classes):
        outside = sorted({int(v) for v in np.unique(y) if v >= n_classes})
        named = [classes[i] for i in outside] if classes else outside
        raise AnalysisInputError(
            f"labels of {str(source.path)!r} fall outside the model's {n_classes} classes (0-{n_classes - 1}): "
            f"{named[:10]}" + (f" (classes in sorted order: {list(classes)})" if classes else "")
        )
    return y, classes


def _write_member(archive: zipfile.ZipFile, name: str, array: np.ndarray) -> None:
    info = zipfile.ZipInfo(f"{name}.npy", date_time=ZIP_DATE)
    with archive.open(info, "w", force_zip64=True) as member:
        array = np.asarray(array)  # (np.ascontiguousarray would turn a 0-d array into 1-d)
        np.lib.format.write_array(
            member, array if array.flags.c_contiguous else array.copy(order="C"), allow_pickle=False
        )


def convert_dataset(
    source: DataSourceSpec, policy: ConversionPolicy, *, out_dir: Path, batch_size: int = 256
) -> ConvertedDataset:
    """Stream ``source`` into ``<out_dir>/<hash>.npz`` (``x``, ``y``, ``class_names``, ``feature_names``,
    ``meta_<column>``, ``split``, ``source_json``); reuse it if the same conversion exists."""
    digest = source_sha256(source)
    policy = replace(policy, fit=source.fit)
    columns: tuple[str, ...] = ()
    if source.form in (DataForm.CSV, DataForm.PARQUET):
        from analysis.data_forms.tables import table_columns

        columns = table_columns(source)[1]
    identity = json.dumps(
        {
            "sha256": digest,
            "spec": {**source.to_dict(), "path": None},
            "policy": policy.to_dict(),
            "code": CODE_VERSION,
        },
        sort_keys=True,
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"{hashlib.sha256(identity.encode()).hexdigest()[:32]}.npz"
    if target.is_file():
        with np.load(target, allow_pickle=False) as archive:
            return ConvertedDataset(path=target, source=json.loads(str(archive["source_json"].reshape(-1)[0])))
    skipped: list[str] = []
    labels: list[np.ndarray] = []
    meta: dict[str, list[np.ndarray]] = {}
    splits: list[np.ndarray] = []
    n = 0
    shape: tuple[int, ...] | None = None
    with tempfile.TemporaryDirectory(dir=out_dir, prefix=".converting-") as scratch:
        raw_path = Path(scratch) / "x.raw"
        with raw_path.open("wb") as raw:
            for batch in iter_batches(source, policy, skipped=skipped):
                if shape is None:
                    _check_shape(source, batch, policy, columns)
                    shape = tuple(batch.x.shape[1:])
                raw.write(np.ascontiguousarray(batch.x, dtype=np.float32).tobytes())
                labels.append(batch.y)
                for column, values in batch.meta.items():
                    meta.setdefault(column, []).append(values)
                if batch.split is not None:
                    splits.append(batch.split)
                n += len(batch.x)
        if shape is None:
            raise AnalysisInputError(f"data {str(source.path)!r} holds no examples")
        classes: tuple[str, ...] = ()
        if source.form is DataForm.IMAGE_FOLDER:
            classes = list_class_folder(Path(source.path))[2]
        y, classes = encode_labels(np.concatenate(labels), source, policy, classes)
        record = {
            "form": str(source.form),
            "path": str(Path(source.path).resolve()),
            "sha256": digest,
            "spec": source.to_dict(),
            "policy": policy.to_dict(),
            "conversion": policy.describe(),
            "class_names": list(classes),
            "feature_names": list(columns),
            "n_examples": n,
            "skipped": len(skipped),
            "skipped_first": skipped[:SHOWN_SKIPPED],
        }
        arrays: dict[str, np.ndarray] = {"y": y, "source_json": np.array(json.dumps(record, sort_keys=True))}
        if classes:
            arrays["class_names"] = np.array(classes, dtype=str)
        if columns:
            arrays["feature_names"] = np.array(columns, dtype=str)
        for column, parts in meta.items():
            arrays[f"meta_{column}"] = np.concatenate(parts)
        if splits:
            arrays["split"] = np.concatenate(splits).astype(str)
        partial = Path(scratch) / "out.npz"
        with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as archive:
            info = zipfile.ZipInfo("x.npy", date_time=ZIP_DATE)
            with archive.open(info, "w", force_zip64=True) as member, raw_path.open("rb") as raw:
                header = {
                    "descr": np.lib.format.dtype_to_descr(np.dtype("<f4")),
                    "fortran_order": False,
                    "shape": (n, *shape),
                }
                np.lib.format.write_array_header_2_0(member, header)
                while chunk := raw.read(1 << 22):
                    member.write(chunk)
            for name in sorted(arrays):
                _write_member(archive, name, arrays[name])
        os.replace(partial, target)
    return ConvertedDataset(path=target, source=record)


def preview_dataset(source: DataSourceSpec, policy: ConversionPolicy, *, n: int = 8) -> Batch:
    """The first ``n`` examples as the model will see them (reads only those), for the Models page."""
    skipped: list[str] = []
    batches = list(iter_batches(source, policy, limit=n, skipped=skipped))
    return Batch(
        x=np.concatenate([b.x for b in batches]),
        y=np.concatenate([b.y for b in batches]),
        meta={k: np.concatenate([b.meta[k] for b in batches]) for k in batches[0].meta},
        names=tuple(name for b in batches for name in b.names),
    )

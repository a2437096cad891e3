"""Image folders, read in batches: class subfolders (keras's layout) or a flat folder with a labels CSV.

Order and labels follow ``keras.utils.image_dataset_from_directory(..., shuffle=False)``: class
names are the subfolders sorted alphanumerically (``sorted(os.listdir)``), label *i* is the *i*-th
name, and files are listed class by class, each subfolder walked in sorted order; files directly in
the top folder are ignored. Only ``.bmp .gif .jpeg .jpg .png`` files are read.

A file that cannot be decoded is skipped and reported (count and first names), unless more than
:data:`MAX_SKIPPED_SHARE` of the files are unreadable: then the folder is refused, as it is when
no image is left.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from analysis.data_forms.spec import IMAGE_SUFFIXES, Batch, ConversionPolicy, DataSourceSpec, Fit
from analysis.errors import AnalysisInputError

MAX_SKIPPED_SHARE = 0.05  # refuse a folder where more than 5% of the images are unreadable
LABELS_CSV = "labels.csv"


def _is_image(name: str) -> bool:
    return name.lower().endswith(IMAGE_SUFFIXES)


def list_class_folder(folder: Path) -> tuple[list[Path], list[str], tuple[str, ...]]:
    """Files, their labels (class names) and the sorted class names of a class-subfolder layout."""
    classes = tuple(sorted(entry for entry in os.listdir(folder) if (folder / entry).is_dir()))
    files: list[Path] = []
    labels: list[str] = []
    for name in classes:
        for root, dirs, names in sorted(os.walk(folder / name), key=lambda walked: walked[0]):
            dirs.sort()
            for file in sorted(names):
                if _is_image(file):
                    files.append(Path(root) / file)
                    labels.append(name)
    if not files:
        found = f"subfolders {list(classes)[:10]}" if classes else "no subfolders"
        raise AnalysisInputError(
            f"image folder {str(folder)!r} holds no images ({found}); give one subfolder per class with "
            f"{'/'.join(IMAGE_SUFFIXES)} files, or a flat folder with {LABELS_CSV} (file,label[,metadata...])"
        )
    return files, labels, classes


def read_labels_csv(folder: Path, labels_csv: Path | None) -> tuple[list[Path], list[str], dict[str, list[str]]]:
    """Files, labels and metadata columns of a flat folder's ``file,label[,metadata...]`` CSV."""
    table = Path(labels_csv) if labels_csv is not None else folder / LABELS_CSV
    if not table.is_file():
        raise AnalysisInputError(f"labels CSV {str(table)!r} does not exist; write file,label[,metadata...] rows")
    with table.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        header = reader.fieldnames or []
        missing = [c for c in ("file", "label") if c not in header]
        if missing:
            raise AnalysisInputError(
                f"labels CSV {str(table)!r} has no column {missing[0]!r}; its columns are {header}; "
                "the first row must name file,label[,metadata...]"
            )
        meta_columns = [c for c in header if c not in ("file", "label")]
        files, labels, meta = [], [], {c: [] for c in meta_columns}
        for number, row in enumerate(reader, start=2):
            name, label = (row.get("file") or "").strip(), (row.get("label") or "").strip()
            if not name or not label:
                raise AnalysisInputError(f"labels CSV {str(table)!r} line {number} has an empty file or label")
            path = (folder / name).resolve()
            if not path.is_relative_to(folder.resolve()) or not path.is_file():
                raise AnalysisInputError(
                    f"labels CSV {str(table)!r} line {number} names {name!r}, which is not a file in {str(folder)!r}"
                )
            files.append(path)
            labels.append(label)
            for column in meta_columns:
                meta[column].append((row.get(column) or "").strip())
    if not files:
        raise AnalysisInputError(f"labels CSV {str(table)!r} lists no images (the folder is empty for Loupe)")
    return files, labels, meta


def load_image(path: Path, policy: ConversionPolicy) -> np.ndarray:
    """One image as the model sees it: float32 ``[height, width, channels]`` in ``policy.input_range``.

    Raises OSError/ValueError (PIL's) when the file cannot be decoded.
    """
    from PIL import Image

    height, width, channels = policy.image_size()
    with Image.open(path) as opened:
        opened.load()
        decoded = opened
        if opened.mode.startswith("I;16") or opened.mode == "I":  # 16-bit grey: scale to 8 bits, don't clip
            deep = np.asarray(opened, dtype=np.float64)
            decoded = Image.fromarray(np.clip(np.round(deep / 257.0), 0, 255).astype(np.uint8), mode="L")
        image = decoded.convert("L" if channels == 1 else "RGB")
    if policy.fit is Fit.CROP:
        source_w, source_h = image.size
        target = width / height
        if source_w / source_h > target:  # too wide: crop the sides
            new_w = max(1, round(source_h * target))
            left = (source_w - new_w) // 2
            image = image.crop((left, 0, left + new_w, source_h))
        else:
            new_h = max(1, round(source_w / target))
            top = (source_h - new_h) // 2
            image = image.crop((0, top, source_w, top + new_h))
    if image.size != (width, height):
        image = image.resize((width, height), Image.Resampling.BILINEAR)
    pixels = np.asarray(image, dtype=np.float32).reshape(height, width, channels)
    low, high = policy.input_range
    return (low + pixels / 255.0 * (high - low)).astype(np.float32)


def iter_image_batches(
    source: DataSourceSpec,
    policy: ConversionPolicy,
    *,
    batch_size: int = 256,
    limit: int | None = None,
    skipped: list[str] | None = None,
) -> Iterator[Batch]:
    """The folder's images in batches of ``batch_size`` (the first ``limit`` only, if given).

    Unreadable files are appended to ``skipped`` (their paths relative to the folder) and left out.
    """
    from analysis.data_forms.spec import DataForm

    folder = Path(source.path)
    policy.image_size()  # refuses a non-image model before listing anything
    if source.form is DataForm.IMAGE_LIST:
        files, labels, meta = read_labels_csv(folder, source.labels_csv)
    else:
        files, labels, _ = list_class_folder(folder)
        meta = {}
    skipped = [] if skipped is None else skipped
    wanted = len(files) if limit is None else min(limit, len(files))
    emitted = 0
    xs: list[np.ndarray] = []
    ys: list[str] = []
    names: list[str] = []
    rows: list[int] = []

    def batch() -> Batch:
        return Batch(
            x=np.stack(xs),
            y=np.asarray(ys),
            meta={column: np.asarray([meta[column][r] for r in rows]) for column in meta},
            names=tuple(names),
        )

    for index, path in enumerate(files):
        if emitted + len(xs) >= wanted:
            break
        relative = path.relative_to(folder).as_posix() if path.is_relative_to(folder) else str(path)
        try:
            xs.append(load_image(path, policy))
        except (OSError, ValueError, SyntaxError):  # PIL's errors for broken or unknown files
            skipped.append(relative)
            if len(skipped) > max(1, MAX_SKIPPED_SHARE * len(files)):
                raise AnalysisInputError(
                    f"image folder {str(folder)!r}: more than {MAX_SKIPPED_SHARE:.0%} of {len(files):,} images "
                    f"cannot be read, e.g. {', '.join(skipped[:5])}; fix or remove them"
                ) from None
            continue
        ys.append(labels[index])
        names.append(relative)
        rows.append(index)
        if len(xs) == batch_size:
            yield batch()
            emitted += len(xs)
            xs, ys, names, rows = [], [], [], []
    if xs:
        yield batch()
    elif emitted == 0:
        raise AnalysisInputError(f"image folder {str(folder)!r}: none of its {len(files):,} images can be read")

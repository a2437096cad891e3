"""CSV and Parquet tables, streamed in record batches with ``pyarrow.dataset`` (never read whole).

Columns: ``label`` (integers 0..n-1, or strings mapped to classes in sorted order), ``features``
(default: every numeric column that is not the label, a metadata column or ``split``), ``meta``
(kept for slicing, as ``meta_<column>``), and ``split`` (``train``/``test``) if the table has one.
Features must be numeric and complete: a string column or a missing/NaN value is refused, naming
the column (and the first row where it happens).
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from analysis.data_forms.spec import Batch, DataForm, DataSourceSpec
from analysis.errors import AnalysisInputError

SPLIT_COLUMN = "split"


def _dataset(source: DataSourceSpec):  # -> pyarrow.dataset.Dataset
    import pyarrow as pa
    import pyarrow.dataset as ds

    try:
        return ds.dataset(str(source.path), format="csv" if source.form is DataForm.CSV else "parquet")
    except (pa.ArrowInvalid, OSError) as error:
        detail = (str(error).strip().splitlines() or [""])[0].rsplit(": ", 1)[-1]  # Arrow's reason, without paths
        raise AnalysisInputError(
            f"table {str(source.path)!r} is not a readable {source.form} file ({detail})"
        ) from error


def table_columns(source: DataSourceSpec) -> tuple[str, tuple[str, ...], tuple[str, ...], bool]:
    """``(label, features, meta, has_split)`` after checking every named column exists and features are numeric."""
    import pyarrow.types as pat

    schema = _dataset(source).schema
    names = list(schema.names)
    for what, columns in (("label", (source.label,)), ("feature", source.features), ("metadata", source.meta)):
        missing = [c for c in columns if c not in names]
        if missing:
            raise AnalysisInputError(
                f"table {str(source.path)!r} has no {what} column {', '.join(map(repr, missing))}; "
                f"its columns are {names}"
            )
    reserved = {source.label, *source.meta, SPLIT_COLUMN}
    numeric = [c for c in names if pat.is_integer(schema.field(c).type) or pat.is_floating(schema.field(c).type)]
    features = source.features or tuple(c for c in numeric if c not in reserved)
    if not features:
        raise AnalysisInputError(
            f"table {str(source.path)!r} has no numeric feature column besides label {source.label!r} and "
            f"metadata {list(source.meta)}; its columns are {names}"
        )
    bad = [f"{c} ({schema.field(c).type})" for c in features if c not in numeric]
    if bad:
        raise AnalysisInputError(
            f"table {str(source.path)!r}: feature columns must be numeric; {', '.join(bad)} are not "
            "(choose the features with --features, or move the column to --meta)"
        )
    has_split = SPLIT_COLUMN in names and SPLIT_COLUMN not in (*features, source.label, *source.meta)
    return source.label, tuple(features), tuple(source.meta), has_split


def count_rows(source: DataSourceSpec) -> int:
    return int(_dataset(source).count_rows())


def iter_table_batches(
    source: DataSourceSpec, *, batch_size: int = 65_536, limit: int | None = None
) -> Iterator[Batch]:
    """The table in batches of at most ``batch_size`` rows: features float32 ``[n, features]``."""
    import pyarrow as pa

    label, features, meta, has_split = table_columns(source)
    columns = list(dict.fromkeys([label, *features, *meta, *([SPLIT_COLUMN] if has_split else [])]))
    scanner = _dataset(source).scanner(columns=columns, batch_size=batch_size)
    start = 0
    try:
        for record_batch in scanner.to_batches():
            if not record_batch.num_rows:
                continue
            if limit is not None and start >= limit:
                return
            frame = {name: record_batch.column(name) for name in columns}
            x = np.empty((record_batch.num_rows, len(features)), dtype=np.float32)
            for j, name in enumerate(features):
                column = frame[name]
                values = column.to_numpy(zero_copy_only=False).astype(np.float32)
                bad = np.flatnonzero(~np.isfinite(values))
                if column.null_count or len(bad):
                    row = start + int(bad[0]) if len(bad) else start
                    raise AnalysisInputError(
                        f"table {str(source.path)!r}: feature column {name!r} has missing, NaN or infinite values "
                        f"(first at data row {row + 1}); fill or drop them before linking"
                    )
                x[:, j] = values
            labels = frame[label]
            if labels.null_count:
                raise AnalysisInputError(f"table {str(source.path)!r}: label column {label!r} has missing values")
            batch = Batch(
                x=x,
                y=labels.to_numpy(zero_copy_only=False),
                meta={name: _meta_values(frame[name]) for name in meta},
                names=tuple(str(start + i) for i in range(record_batch.num_rows)),
                split=frame[SPLIT_COLUMN].to_numpy(zero_copy_only=False).astype(str) if has_split else None,
            )
            if limit is not None and start + len(x) > limit:
                keep = limit - start
                batch = Batch(
                    x=batch.x[:keep],
                    y=batch.y[:keep],
                    meta={k: v[:keep] for k, v in batch.meta.items()},
                    names=batch.names[:keep],
                    split=None if batch.split is None else batch.split[:keep],
                )
            start += len(x)
            yield batch
    except pa.ArrowInvalid as error:  # e.g. a CSV column read as numbers that holds text further down
        raise AnalysisInputError(f"table {str(source.path)!r} cannot be read: {error}") from error


def _meta_values(column) -> np.ndarray:  # pyarrow.Array -> numpy
    """Metadata as numbers when numeric and complete, else strings (a missing value as '')."""
    import pyarrow.types as pat

    if (pat.is_integer(column.type) or pat.is_floating(column.type)) and not column.null_count:
        return column.to_numpy(zero_copy_only=False)
    return np.asarray(["" if v is None else str(v) for v in column.to_pylist()])

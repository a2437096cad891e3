"""Reading and checking the rows a fairness analysis slices: labels, scores, sensitive columns.

Everything the user can get wrong about the data is caught here, once, with a message
that names the bad column or value (kept as module constants, so tests assert the text).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from analysis.errors import AnalysisInputError, describe_choices
from analysis.fairness.spec import MISSING_LABEL, MissingPolicy
from analysis.hashing import sha256_arrays, sha256_file

MISSING_COLUMN = "column {column!r} is not in the {source}; its columns are {present}"
EMPTY_TABLE = "the {source} has no rows"
NON_BINARY_LABELS = "label column {column!r} must be binary (0/1 or true/false); found {values}"
NON_BINARY_PREDICTIONS = "prediction column {column!r} must hold predicted labels 0/1 (or true/false); found {values}"
NON_NUMERIC_SCORES = "score column {column!r} must be numeric probabilities in [0, 1]; found dtype {dtype}"
MISSING_SCORES = "{kind} column {column!r} has {count} missing values (first at row {row}); drop or fill those rows"
SCORES_OUT_OF_RANGE = (
    "score column {column!r} must hold probabilities in [0, 1] to apply thresholds; "
    "found values from {low!r} to {high!r} ({count} outside [0, 1], first at row {row})"
)
MISSING_SENSITIVE = (
    "sensitive column {column!r} has {count} missing values (first at row {row}); "
    "use --missing group to report them as their own group ('(missing)'), or drop those rows"
)
UNSUPPORTED_FILE = "predictions file {path!r} must be .csv or .parquet (got {suffix!r})"
UNREADABLE_FILE = "predictions file {path!r} could not be read as {kind}: {reason}"

_CSV_SUFFIXES = (".csv", ".txt")
_PARQUET_SUFFIXES = (".parquet", ".pq")


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class FairnessData:
    """Checked rows: ``y_true`` int8 ``[n]`` in {0, 1}; ``scores`` float64 ``[n]`` in [0, 1]
    (or the 0/1 predicted labels when ``is_prediction``); ``sensitive`` maps each column to
    its values as strings ``[n]``; ``content_hash`` identifies the data for the record."""

    y_true: np.ndarray
    scores: np.ndarray
    is_prediction: bool
    sensitive: Mapping[str, np.ndarray]
    content_hash: str

    @property
    def n_rows(self) -> int:
        return int(self.y_true.shape[0])


def read_predictions_file(path: Path | str) -> pd.DataFrame:
    """A CSV or Parquet file as a DataFrame; AnalysisInputError naming the file otherwise."""
    path = Path(path).expanduser()
    suffix = path.suffix.lower()
    if suffix not in _CSV_SUFFIXES + _PARQUET_SUFFIXES:
        raise AnalysisInputError(UNSUPPORTED_FILE.format(path=str(path), suffix=suffix))
    if not path.is_file():
        raise AnalysisInputError(f"predictions file {str(path)!r} does not exist")
    kind = "CSV" if suffix in _CSV_SUFFIXES else "Parquet"
    try:
        return pd.read_csv(path) if kind == "CSV" else pd.read_parquet(path)
    except pd.errors.EmptyDataError:
        return pd.DataFrame()
    except (OSError, ValueError, pd.errors.ParserError) as error:
        raise AnalysisInputError(UNREADABLE_FILE.format(path=str(path), kind=kind, reason=error)) from error


def as_frame(table: Any) -> pd.DataFrame:
    """An in-memory table (DataFrame, or mapping of column to list / ndarray / Series) as a DataFrame."""
    if isinstance(table, pd.DataFrame):
        return table.reset_index(drop=True)
    if isinstance(table, Mapping):
        columns = {str(k): (v.to_numpy() if isinstance(v, pd.Series) else v) for k, v in table.items()}
        lengths = {name: len(values) for name, values in columns.items()}
        if len(set(lengths.values())) > 1:
            raise AnalysisInputError(f"the table's columns have different lengths: {lengths}")
        return pd.DataFrame(columns)
    raise AnalysisInputError(
        f"a predictions table must be a file path, a DataFrame or a mapping of columns; got {type(table).__name__}"
    )


def load_table_data(
    table: Any,
    *,
    label: str,
    score: str | None,
    prediction: str | None,
    sensitive: Sequence[str],
    missing: MissingPolicy,
) -> FairnessData:
    """Read (if a path) and check a predictions table; see :class:`FairnessData`."""
    if isinstance(table, str | Path):
        frame, source = read_predictions_file(table), "predictions file"
        content_hash = sha256_file(Path(table).expanduser())
    else:
        frame, source = as_frame(table), "predictions table"
        content_hash = None
    value_column = score if score is not None else prediction
    for column in (label, value_column, *sensitive):
        if column not in frame.columns:
            raise AnalysisInputError(
                MISSING_COLUMN.format(column=column, source=source, present=describe_choices(map(str, frame.columns)))
            )
    if len(frame) == 0:
        raise AnalysisInputError(EMPTY_TABLE.format(source=source))
    y_true = check_labels(frame[label].to_numpy(), column=label)
    if score is not None:
        values = check_scores(frame[score].to_numpy(), column=score)
    else:
        values = check_labels(frame[prediction].to_numpy(), column=prediction, message=NON_BINARY_PREDICTIONS)
    columns = {c: sensitive_values(frame[c].to_numpy(), column=c, missing=missing) for c in sensitive}
    if content_hash is None:
        content_hash = sha256_arrays({"y_true": y_true, "values": values, **{f"s_{k}": v for k, v in columns.items()}})
    return FairnessData(
        y_true=y_true,
        scores=values.astype(np.float64),
        is_prediction=score is None,
        sensitive=columns,
        content_hash=content_hash,
    )


def check_labels(values: Any, *, column: str, message: str = NON_BINARY_LABELS) -> np.ndarray:
    """0/1 labels as int8 ``[n]``; accepts bool, integers and floats equal to 0 or 1."""
    array = np.asarray(values)
    if array.dtype == bool:
        return array.astype(np.int8)
    if array.dtype.kind in "iuf":
        finite = array[~pd.isna(array)] if array.dtype.kind == "f" else array
        if finite.size == array.size and np.isin(array, (0, 1)).all():
            return array.astype(np.int8)
    present = pd.unique(pd.Series(array, dtype=object).map(_render_value))
    shown = sorted(present.tolist(), key=str)
    raise AnalysisInputError(message.format(column=column, values=describe_choices(shown, limit=8)))


def check_scores(values: Any, *, column: str) -> np.ndarray:
    """Scores as float64 ``[n]`` in [0, 1]; refuses NaN, non-numeric data and values outside [0, 1]."""
    array = np.asarray(values)
    if array.dtype.kind not in "iufb":
        raise AnalysisInputError(NON_NUMERIC_SCORES.format(column=column, dtype=array.dtype))
    array = array.astype(np.float64)
    bad = np.flatnonzero(np.isnan(array))
    if bad.size:
        raise AnalysisInputError(MISSING_SCORES.format(kind="score", column=column, count=bad.size, row=int(bad[0])))
    outside = np.flatnonzero((array < 0.0) | (array > 1.0))
    if outside.size:
        raise AnalysisInputError(
            SCORES_OUT_OF_RANGE.format(
                column=column, low=float(array.min()), high=float(array.max()), count=outside.size, row=int(outside[0])
            )
        )
    return array


def sensitive_values(values: Any, *, column: str, missing: MissingPolicy) -> np.ndarray:
    """A sensitive column as strings ``[n]``; missing values refused or labelled '(missing)'."""
    codes, uniques = pd.factorize(pd.Series(np.asarray(values), dtype=object), use_na_sentinel=True)
    rendered = np.array([_render_value(v) for v in uniques] + [MISSING_LABEL], dtype=object)
    blank = np.flatnonzero([not text.strip() for text in rendered[:-1]])
    codes = np.where(np.isin(codes, blank), -1, codes)  # empty strings count as missing
    absent = codes < 0
    if absent.any() and missing is MissingPolicy.REFUSE:
        raise AnalysisInputError(
            MISSING_SENSITIVE.format(column=column, count=int(absent.sum()), row=int(np.flatnonzero(absent)[0]))
        )
    return rendered[codes].astype(str)  # code -1 picks the last entry, MISSING_LABEL


def _render_value(value: Any) -> str:
    """How a group value appears in results: ``1.0`` -> ``'1'``, ``'F'`` -> ``'F'``."""
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    if isinstance(value, np.generic):
        value = value.item()
    return str(value)

"""Fairness inputs: tables of any array type, CSV and Parquet files, and the exact errors for bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.errors import AnalysisInputError
from analysis.fairness import FairnessSpec, compute_fairness_slices


@pytest.fixture(autouse=True)
def _home(loupe_home):
    return loupe_home


def columns(n: int = 400, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        "y": rng.integers(0, 2, n),
        "p": rng.random(n).round(3),
        "sex": rng.choice(["F", "M"], n),
        "age_band": rng.choice(["young", "old"], n),
    }


def spec(table, **overrides) -> FairnessSpec:
    settings = dict(predictions=table, label="y", score="p", sensitive=("sex", "age_band"), n_bootstrap=20, seed=0)
    return FairnessSpec(**{**settings, **overrides})


def stable(result) -> dict:
    data = result.to_dict()
    return {k: v for k, v in data.items() if k not in ("record_id", "inputs")}


@pytest.mark.parametrize("kind", ["list", "ndarray", "Series"])
def test_every_input_type_gives_the_same_result(kind):
    data = columns()
    convert = {"list": lambda a: a.tolist(), "ndarray": lambda a: a, "Series": pd.Series}[kind]
    expected = compute_fairness_slices(spec(pd.DataFrame(data)))
    result = compute_fairness_slices(spec({k: convert(v) for k, v in data.items()}))
    assert stable(result) == stable(expected)


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_csv_and_parquet_files(tmp_path, suffix):
    frame = pd.DataFrame(columns())
    path = tmp_path / f"predictions{suffix}"
    frame.to_csv(path, index=False) if suffix == ".csv" else frame.to_parquet(path, index=False)
    result = compute_fairness_slices(spec(path))
    assert stable(result) == stable(compute_fairness_slices(spec(frame)))
    assert len(result.inputs["predictions"]) == 64  # the file's sha256


def test_missing_column_names_it_and_the_columns_present():
    with pytest.raises(AnalysisInputError) as error:
        compute_fairness_slices(spec(pd.DataFrame(columns()), sensitive=("sex", "race")))
    assert str(error.value) == (
        "column 'race' is not in the predictions table; its columns are 'y', 'p', 'sex' or 'age_band'"
    )


def test_missing_column_in_a_file_says_file(tmp_path):
    path = tmp_path / "p.csv"
    pd.DataFrame(columns()).to_csv(path, index=False)
    with pytest.raises(AnalysisInputError, match=r"^column 'score' is not in the predictions file; its columns are"):
        compute_fairness_slices(spec(path, score="score"))


def test_non_binary_labels():
    data = columns()
    data["y"][:3] = [2, 3, 2]
    with pytest.raises(AnalysisInputError) as error:
        compute_fairness_slices(spec(data))
    assert str(error.value) == "label column 'y' must be binary (0/1 or true/false); found '0', '1', '2' or '3'"


def test_scores_outside_unit_interval():
    data = columns()
    data["p"] = data["p"].astype(float)
    data["p"][5] = 1.5
    with pytest.raises(AnalysisInputError) as error:
        compute_fairness_slices(spec(data))
    assert str(error.value) == (
        "score column 'p' must hold probabilities in [0, 1] to apply thresholds; "
        f"found values from {float(data['p'].min())!r} to 1.5 (1 outside [0, 1], first at row 5)"
    )


def test_empty_table():
    empty = pd.DataFrame({"y": [], "p": [], "sex": [], "age_band": []})
    with pytest.raises(AnalysisInputError) as error:
        compute_fairness_slices(spec(empty))
    assert str(error.value) == "the predictions table has no rows"


def test_empty_csv_file_names_the_missing_column(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_text("")
    with pytest.raises(AnalysisInputError) as error:
        compute_fairness_slices(spec(path))
    assert str(error.value) == "column 'y' is not in the predictions file; its columns are (none)"


def test_missing_sensitive_values_are_refused_or_grouped():
    data = pd.DataFrame(columns())
    data.loc[[4, 9], "sex"] = None
    with pytest.raises(AnalysisInputError) as error:
        compute_fairness_slices(spec(data))
    assert str(error.value) == (
        "sensitive column 'sex' has 2 missing values (first at row 4); "
        "use --missing group to report them as their own group ('(missing)'), or drop those rows"
    )
    result = compute_fairness_slices(spec(data, missing="group", min_slice=1))
    groups = [s.group["sex"] for s in result.slices_at(0.5, ("sex",))]
    assert sorted(groups) == ["(missing)", "F", "M"]


def test_numeric_sensitive_values_render_as_integers():
    data = columns()
    data["age_band"] = np.where(data["age_band"] == "old", 1.0, 0.0)
    result = compute_fairness_slices(spec(data))
    assert sorted(s.group["age_band"] for s in result.slices_at(0.5, ("age_band",))) == ["0", "1"]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"thresholds": (0.5, 1.2)}, "threshold 1.2 must be a number in [0, 1]"),
        ({"sensitive": ()}, "name at least one sensitive column (e.g. --sensitive sex,age_band)"),
        (
            {"intersections": (("sex", "race"),)},
            "intersection 'sex*race' uses 'race', which is not a sensitive column; "
            "sensitive columns are 'sex' or 'age_band'",
        ),
        (
            {"score": None},
            "a predictions table needs exactly one of a score column (--score) or a predicted-label column (--pred)",
        ),
        ({"n_bootstrap": -1}, "bootstrap resamples -1 must be an integer in [0, 20000]"),
        ({"min_slice": 0}, "minimum slice size 0 must be a positive integer"),
        (
            {"baseline": "race=x"},
            "baseline column 'race' is not a sensitive column; sensitive columns are 'sex' or 'age_band'",
        ),
        ({"baseline": "sex"}, "baseline 'sex' must be 'overall' or COLUMN=VALUE[,COLUMN=VALUE], e.g. sex=M"),
        ({"missing": "drop"}, "missing-value policy 'drop' is not valid; choose 'refuse' or 'group'"),
    ],
)
def test_bad_parameters(overrides, message):
    with pytest.raises(AnalysisInputError) as error:
        spec(columns(), **overrides)
    assert str(error.value) == message


def test_baseline_value_that_does_not_exist():
    with pytest.raises(AnalysisInputError) as error:
        compute_fairness_slices(spec(columns(), baseline="sex=X"))
    assert str(error.value) == "baseline 'sex=X' matches no rows; values of sex are 'F' or 'M'"


def test_baseline_slice_below_the_minimum_size():
    data = pd.DataFrame(columns())
    data.loc[:5, "sex"] = "X"
    with pytest.raises(AnalysisInputError, match=r"^baseline 'sex=X' has 6 rows, fewer than the minimum slice size 30"):
        compute_fairness_slices(spec(data, baseline="sex=X"))


def test_unsupported_file_type(tmp_path):
    path = tmp_path / "p.xlsx"
    path.write_bytes(b"x")
    with pytest.raises(AnalysisInputError) as error:
        compute_fairness_slices(spec(path))
    assert str(error.value) == f"predictions file {str(path)!r} must be .csv or .parquet (got '.xlsx')"

"""Fairness point estimates against fairlearn's MetricFrame on the raw rows, and their edge cases."""

from __future__ import annotations

import json
from functools import partial

import numpy as np
import pandas as pd
import pytest
import sklearn.metrics as skm
from fairlearn.metrics import (
    MetricFrame,
    count,
    demographic_parity_difference,
    demographic_parity_ratio,
    equal_opportunity_difference,
    equalized_odds_difference,
    false_negative_rate,
    false_positive_rate,
    selection_rate,
    true_negative_rate,
    true_positive_rate,
)

from analysis.fairness import (
    FairnessSpec,
    compute_fairness_slices,
    find_fairness_record,
    save_fairness_record,
    store_fairness_record_once,
)
from analysis.fairness.metrics import AUC_NO_SCORES, AUC_ONE_CLASS, NO_POSITIVES, NO_PREDICTED_POSITIVES
from analysis.records import RecordStore

THRESHOLDS = (0.3, 0.5, 0.7)


@pytest.fixture(autouse=True)
def _home(loupe_home):
    return loupe_home


def make_table(n: int = 1500, seed: int = 0) -> pd.DataFrame:
    """Sex (F/M), age band (3 values, one rare), labels and scores rounded to 2 decimals (ties)."""
    rng = np.random.default_rng(seed)
    sex = rng.choice(["F", "M"], n)
    age = rng.choice(["18-25", "25-40", "60+"], n, p=[0.4, 0.5, 0.1])
    label = (rng.random(n) < np.where(sex == "F", 0.45, 0.55)).astype(int)
    score = np.clip(0.35 * label + 0.65 * rng.random(n) - 0.08 * (age == "18-25"), 0, 1).round(2)
    return pd.DataFrame({"y": label, "p": score, "sex": sex, "age_band": age})


def reference_frame(table: pd.DataFrame, columns: list[str], threshold: float) -> MetricFrame:
    predicted = (table["p"] >= threshold).astype(int)
    return MetricFrame(
        metrics={
            "count": count,
            "selection_rate": selection_rate,
            "accuracy": skm.accuracy_score,
            "tpr": true_positive_rate,
            "fpr": false_positive_rate,
            "tnr": true_negative_rate,
            "fnr": false_negative_rate,
            "precision": partial(skm.precision_score, zero_division=np.nan),
        },
        y_true=table["y"],
        y_pred=predicted,
        sensitive_features=table[columns],
    )


def run(table, **overrides):
    spec = dict(
        predictions=table,
        label="y",
        score="p",
        sensitive=("sex", "age_band"),
        intersections=(("sex", "age_band"),),
        thresholds=THRESHOLDS,
        n_bootstrap=50,
        min_slice=1,
        seed=3,
    )
    return compute_fairness_slices(FairnessSpec(**{**spec, **overrides}))


@pytest.mark.parametrize("columns", [["sex"], ["age_band"], ["sex", "age_band"]])
def test_every_point_estimate_equals_fairlearn_on_raw_rows(columns):
    table = make_table()
    result = run(table)
    for threshold in THRESHOLDS:
        reference = reference_frame(table, columns, threshold)
        slices = result.slices_at(threshold, tuple(columns))
        assert len(slices) == len(reference.by_group)
        for entry in slices:
            key = tuple(entry.group[c] for c in columns)
            expected = reference.by_group.loc[key if len(key) > 1 else key[0]]
            rows = table[np.logical_and.reduce([table[c] == v for c, v in zip(columns, key, strict=True)])]
            assert entry.count == expected["count"]
            for metric in ("selection_rate", "accuracy", "tpr", "fpr", "tnr", "fnr", "precision"):
                assert entry.metrics[metric].value == pytest.approx(expected[metric], abs=1e-12, rel=0), metric
            assert entry.metrics["base_rate"].value == pytest.approx(rows["y"].mean(), abs=1e-12, rel=0)
            assert entry.metrics["fdr"].value == pytest.approx(1 - expected["precision"], abs=1e-12, rel=0)
            tn, _fp, fn, _tp = skm.confusion_matrix(rows["y"], rows["p"] >= threshold, labels=[0, 1]).ravel()
            assert entry.metrics["for"].value == pytest.approx(fn / (fn + tn), abs=1e-12, rel=0)
            assert entry.metrics["auc"].value == pytest.approx(
                skm.roc_auc_score(rows["y"], rows["p"]), abs=1e-12, rel=0
            )
        overall = result.overall_at(threshold)
        for metric in ("selection_rate", "accuracy", "tpr", "fpr", "precision"):
            assert overall.metrics[metric].value == pytest.approx(reference.overall[metric], abs=1e-12, rel=0)
        assert overall.metrics["auc"].value == pytest.approx(skm.roc_auc_score(table["y"], table["p"]), abs=1e-12)


@pytest.mark.parametrize("columns", [["sex"], ["sex", "age_band"]])
def test_disparities_equal_fairlearns_functions(columns):
    table = make_table()
    result = run(table)
    functions = {
        "demographic_parity_difference": demographic_parity_difference,
        "demographic_parity_ratio": demographic_parity_ratio,
        "equalized_odds_difference": equalized_odds_difference,
        "equal_opportunity_difference": equal_opportunity_difference,
    }
    for threshold in THRESHOLDS:
        predicted = (table["p"] >= threshold).astype(int)
        ours = result.disparities_at(threshold, tuple(columns))
        for name, function in functions.items():
            expected = function(table["y"], predicted, sensitive_features=table[columns])
            assert ours[name].value == pytest.approx(expected, abs=1e-12, rel=0), name
            low, high = ours[name].ci
            assert low <= high


def test_differences_and_ratios_against_a_chosen_baseline():
    result = run(make_table(), baseline="sex=M")
    by_sex = result.slices_at(0.5, ("sex",))
    assert [s.group["sex"] for s in by_sex] == ["M", "F"]  # the baseline first
    male, female = by_sex
    assert male.is_baseline and male.vs_baseline["tpr"].difference == 0.0 and male.vs_baseline["tpr"].ratio == 1.0
    comparison = female.vs_baseline["selection_rate"]
    expected = female.metrics["selection_rate"].value - male.metrics["selection_rate"].value
    assert comparison.difference == pytest.approx(expected, abs=1e-15)
    assert comparison.ratio == pytest.approx(
        female.metrics["selection_rate"].value / male.metrics["selection_rate"].value
    )
    assert comparison.ci_difference[0] <= comparison.ci_difference[1]


def test_overall_is_the_default_baseline():
    result = run(make_table())
    entry = result.slices_at(0.5, ("sex",))[0]
    overall = result.overall_at(0.5)
    assert entry.vs_baseline["accuracy"].difference == pytest.approx(
        entry.metrics["accuracy"].value - overall.metrics["accuracy"].value, abs=1e-15
    )
    assert result.to_dict()["baseline"] == "overall"


def test_undefined_metrics_are_null_with_a_reason_never_nan():
    table = make_table()
    table.loc[table["sex"] == "F", "y"] = 0  # no actual positives among women
    table["p"] = table["p"].clip(upper=0.99)
    result = run(table, thresholds=(0.5, 1.0))
    female = next(s for s in result.slices_at(0.5, ("sex",)) if s.group["sex"] == "F")
    assert female.metrics["tpr"].value is None and female.metrics["tpr"].reason == NO_POSITIVES
    assert female.metrics["fnr"].value is None and female.metrics["fnr"].ci is None
    assert female.metrics["auc"].value is None and female.metrics["auc"].reason == AUC_ONE_CLASS
    assert female.vs_baseline["tpr"].difference is None
    assert female.metrics["fpr"].value is not None
    at_one = result.overall_at(1.0)  # no score is 1.0 or above
    assert at_one.metrics["precision"].value is None
    assert at_one.metrics["precision"].reason == NO_PREDICTED_POSITIVES
    sex_disparities = result.disparities_at(0.5, ("sex",))
    assert sex_disparities["equal_opportunity_difference"].value is None
    assert "tpr is undefined for slice sex=F" in sex_disparities["equal_opportunity_difference"].reason
    json.dumps(result.to_dict(), allow_nan=False)  # raises on any NaN


def test_predicted_labels_give_one_unthresholded_entry_and_no_auc():
    table = make_table()
    table["pred"] = (table["p"] >= 0.5).astype(int)
    result = run(table, score=None, prediction="pred")
    assert result.thresholds == (None,)
    reference = reference_frame(table, ["sex"], 0.5)
    for entry in result.slices_at(None, ("sex",)):
        assert entry.metrics["tpr"].value == pytest.approx(reference.by_group.loc[entry.group["sex"], "tpr"], abs=1e-12)
        assert entry.metrics["auc"].value is None and entry.metrics["auc"].reason == AUC_NO_SCORES
    assert result.to_dict()["parameters"]["positive_prediction_rule"] == "prediction == 1"


def test_small_and_unobserved_slices_are_reported_as_too_small():
    table = make_table()
    table = table[~((table["sex"] == "F") & (table["age_band"] == "60+"))]
    result = run(table, min_slice=100)
    too_small = {tuple(sorted(g.items())): c for g, c in result.too_small}
    assert too_small[(("age_band", "60+"), ("sex", "F"))] == 0  # no such rows at all
    small = too_small[(("age_band", "60+"), ("sex", "M"))]
    assert 0 < small < 100
    assert all(s.count >= 100 for s in result.slices)
    assert not any(s.group == {"sex": "M", "age_band": "60+"} for s in result.slices)


def test_every_threshold_applies_score_at_or_above_as_positive():
    table = pd.DataFrame({"y": [0, 1, 0, 1], "p": [0.2, 0.5, 0.5, 0.8], "sex": ["F", "F", "M", "M"]})
    result = compute_fairness_slices(
        FairnessSpec(
            predictions=table, label="y", score="p", sensitive=("sex",), thresholds=(0.5,), n_bootstrap=0, min_slice=1
        )
    )
    assert result.overall_at(0.5).metrics["selection_rate"].value == 0.75  # 0.5 >= 0.5 counts as positive


def test_results_are_reproducible_and_computing_stores_nothing():
    table = make_table()
    first, second = run(table, seed=11), run(table, seed=11)
    other = run(table, seed=12)
    assert first.record_id is None
    assert first.to_dict() == second.to_dict()
    assert first.to_dict() != other.to_dict()
    assert RecordStore().list(kind="fairness") == []


def test_saving_a_result_stores_a_record_with_its_provenance():
    first = run(make_table(), seed=11)
    record = RecordStore().get(save_fairness_record(first))
    assert record.kind == "fairness" and record.model_id is None
    assert record.parameters["seed"] == 11 and record.parameters["thresholds"] == list(THRESHOLDS)
    assert record.inputs["predictions"] == first.inputs["predictions"]
    assert {"fairlearn", "numpy", "scikit-learn"} <= set(record.versions)
    assert record.result == first.to_dict()
    assert save_fairness_record(first) != record.record_id  # saving always adds a record (the command line)


def test_a_distinct_analysis_is_stored_once():
    table = make_table()
    first = run(table, seed=11)
    assert find_fairness_record(first) is None
    record_id = store_fairness_record_once(first)
    assert find_fairness_record(first) == record_id
    assert store_fairness_record_once(run(table, seed=11)) == record_id  # the same analysis, recomputed
    other = store_fairness_record_once(run(table, seed=12))
    assert other != record_id
    assert [r.record_id for r in RecordStore().list(kind="fairness")] == [other, record_id]


def test_json_contract_shape():
    result = run(make_table())
    data = result.to_dict()
    assert set(data) >= {"overall", "slices", "disparities", "too_small", "record_id", "parameters"}
    entry = data["slices"][0]
    assert set(entry) >= {"group", "threshold", "count", "metrics", "vs_baseline"}
    assert list(entry["metrics"]) == [
        "count",
        "base_rate",
        "selection_rate",
        "accuracy",
        "tpr",
        "fpr",
        "tnr",
        "fnr",
        "precision",
        "fdr",
        "for",
        "auc",
    ]
    assert set(entry["metrics"]["tpr"]) == {"value", "ci"}
    assert set(entry["vs_baseline"]["tpr"]) == {"difference", "ratio", "ci_difference", "ci_ratio"}
    assert set(data["disparities"]) == {
        "demographic_parity_difference",
        "demographic_parity_ratio",
        "equalized_odds_difference",
        "equal_opportunity_difference",
    }
    assert set(data["disparities"]["equalized_odds_difference"][0]) == {"over", "threshold", "value", "ci"}
    assert result.to_frame().shape[0] == len(result.overall) * 12 + len(result.slices) * 12

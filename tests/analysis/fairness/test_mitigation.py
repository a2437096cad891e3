"""Threshold strategies: the mitigated metrics are fairlearn's ThresholdOptimizer's, called directly here."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from fairlearn.metrics import MetricFrame, selection_rate, true_positive_rate
from fairlearn.postprocessing import ThresholdOptimizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score

from analysis.cli.main import main
from analysis.errors import AnalysisInputError
from analysis.fairness import FairnessSpec, compute_fairness_slices
from analysis.fairness.mitigation import MitigationSpec, compute_mitigation

CONSTRAINTS = {
    "demographic_parity": "demographic_parity",
    "equal_opportunity": "true_positive_rate_parity",
    "equalized_odds": "equalized_odds",
}


@pytest.fixture(scope="module")
def lending():
    """A logistic regression on two features; group C's scores run lower than A's and B's."""
    rng = np.random.default_rng(7)
    n = 1500
    group = np.array(["A", "B", "C"])[rng.integers(0, 3, n)]
    x = rng.normal(size=(n, 2)) + np.where(group == "C", -0.6, 0.0)[:, None]
    y = (x @ np.array([1.0, 0.5]) + rng.normal(0, 1, n) > -0.3).astype(int)
    model = LogisticRegression().fit(x, y)
    table = pd.DataFrame({"label": y, "p": model.predict_proba(x)[:, 1], "group": group})
    return x, y, group, model, table


def spec_for(table: pd.DataFrame, strategy: str, **kwargs) -> MitigationSpec:
    fairness = FairnessSpec(predictions=table, score="p", sensitive=("group",), n_bootstrap=50, min_slice=1)
    return MitigationSpec(fairness=fairness, strategy=strategy, **kwargs)


@pytest.mark.parametrize("strategy", sorted(CONSTRAINTS))
def test_mitigated_metrics_equal_fairlearns(lending, strategy):
    x, y, group, model, table = lending
    result = compute_mitigation(spec_for(table, strategy, random_state=3))
    reference = ThresholdOptimizer(
        estimator=model, constraints=CONSTRAINTS[strategy], prefit=True, predict_method="predict_proba"
    ).fit(x, y, sensitive_features=group)
    predicted = reference.predict(x, sensitive_features=group, random_state=3)
    frame = MetricFrame(
        metrics={"selection_rate": selection_rate, "tpr": true_positive_rate, "accuracy": accuracy_score},
        y_true=y,
        y_pred=predicted,
        sensitive_features=group,
    )
    ours = {s.group["group"]: s for s in result.mitigated.slices}
    for name in ("A", "B", "C"):
        for metric in ("selection_rate", "tpr", "accuracy"):
            assert ours[name].metrics[metric].value == pytest.approx(frame.by_group.loc[name, metric], abs=1e-12)
            low, high = ours[name].metrics[metric].ci
            assert low <= ours[name].metrics[metric].value <= high
    assert result.overall_accuracy() == pytest.approx(accuracy_score(y, predicted), abs=1e-12)
    assert result.accuracy_cost == pytest.approx(
        accuracy_score(y, predicted) - accuracy_score(y, table["p"] >= 0.5), abs=1e-12
    )
    rules = reference.interpolated_thresholder_.interpolation_dict
    for rule in result.thresholds:
        assert rule.threshold0 == pytest.approx(rules[rule.group].operation0.threshold)
        assert rule.p0 == pytest.approx(rules[rule.group].p0)


def test_single_threshold_is_the_engine_at_that_threshold(lending):
    *_, table = lending
    result = compute_mitigation(spec_for(table, "single_threshold", threshold=0.4))
    direct = compute_fairness_slices(
        FairnessSpec(predictions=table, score="p", sensitive=("group",), thresholds=(0.4,), n_bootstrap=50, min_slice=1)
    )
    assert result.thresholds == () and result.accuracy_cost == 0.0
    for ours, theirs in zip(result.mitigated.slices, direct.slices, strict=True):
        assert ours.metrics["tpr"].value == pytest.approx(theirs.metrics["tpr"].value, abs=1e-12)
        low, high = ours.metrics["tpr"].ci  # resampled as predicted labels: the same method, other draws
        assert low <= theirs.metrics["tpr"].value <= high


@pytest.mark.parametrize("strategy", sorted(CONSTRAINTS))
def test_a_group_with_one_class_names_it(lending, strategy):
    *_, table = lending
    table = table.copy()
    table.loc[table["group"] == "B", "label"] = 0
    count = int((table["group"] == "B").sum())
    with pytest.raises(AnalysisInputError) as error:
        compute_mitigation(spec_for(table, strategy))
    assert str(error.value) == (
        f"strategy {strategy!r} cannot be satisfied: group group=B has only label 0 ({count} rows); every group "
        "needs both labels. Merge or drop that group, or choose 'single_threshold'"
    )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"strategy": "fair"},
            "threshold strategy 'fair' is not valid; choose 'single_threshold', 'demographic_parity', "
            "'equal_opportunity' or 'equalized_odds'",
        ),
        (
            {"strategy": "equalized_odds", "by": "sex"},
            "column 'sex' for per-group thresholds is not a sensitive column",
        ),
    ],
)
def test_bad_spec(lending, kwargs, message):
    *_, table = lending
    with pytest.raises(AnalysisInputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        spec_for(table, **kwargs)


def test_cli_mitigate_json(lending, loupe_home, tmp_path):
    *_, table = lending
    path = tmp_path / "preds.csv"
    table.to_csv(path, index=False)
    out = tmp_path / "mitigated.json"
    args = ["fairness", "--predictions", str(path), "--label", "label", "--score", "p", "--sensitive", "group"]
    code = main([*args, "--bootstrap", "20", "--mitigate", "equal_opportunity", "--json", str(out)])
    assert code == 0
    report = json.loads(out.read_text())
    assert report["strategy"] == "equal_opportunity"
    assert report["fairlearn_constraint"] == "true_positive_rate_parity"
    assert [t["group"] for t in report["group_thresholds"]] == ["A", "B", "C"]
    cost = report["overall_accuracy"]
    assert cost["cost"] == pytest.approx(cost["mitigated"]["value"] - cost["single_threshold"]["value"])
    assert main([*args, "--mitigate", "nope"]) == 2

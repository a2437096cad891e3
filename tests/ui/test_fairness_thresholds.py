"""/fairness page, Threshold strategies section: a deep link shows fairlearn's per-group rule; bad input is named."""

from __future__ import annotations

import pytest

from tests.analysis.fairness.test_fairness_metrics import make_table
from tests.ui.app_support import open_app_page

PAGE = "ui/pages/fairness.py"
BASE = {"label": "y", "score": "p", "sensitive": "sex,age_band", "bootstrap": "50"}


@pytest.fixture
def predictions(loupe_home, tmp_path):
    path = tmp_path / "preds.csv"
    make_table(800).to_csv(path, index=False)
    return path


def test_equal_opportunity_link_shows_rules_cost_and_charts(predictions):
    at = open_app_page(
        PAGE, {"predictions": str(predictions), **BASE, "mitigate": "equal_opportunity", "mitigate_by": "age_band"}
    )
    assert not at.exception and not at.error, [e.value for e in at.error]
    rules = at.dataframe[-1].value
    assert list(rules.columns) == ["age_band", "rows", "rule", "randomized"]
    assert rules["rows"].sum() == 800
    labels = [m.label for m in at.metric]
    assert labels[-3:] == ["Accuracy, single threshold", "Accuracy, strategy", "Cost in overall accuracy"]
    assert at.metric[-1].value.endswith(" pp")
    assert len(at.get("plotly_chart")) == 3 + 4  # the three default metrics, then four strategy charts


def test_a_group_with_one_class_is_named(tmp_path, loupe_home):
    table = make_table(800)
    table.loc[table["sex"] == "F", "y"] = 1
    path = tmp_path / "one-class.csv"
    table.to_csv(path, index=False)
    at = open_app_page(PAGE, {"predictions": str(path), **BASE, "mitigate": "equalized_odds", "mitigate_by": "sex"})
    assert not at.exception
    assert any("group sex=F has only label 1" in e.value for e in at.error)


def test_bad_strategy_in_the_link(predictions):
    at = open_app_page(PAGE, {"predictions": str(predictions), **BASE, "mitigate": "fairest"})
    assert not at.exception
    assert any("threshold strategy 'fairest' in the link is not valid" in e.value for e in at.error)

"""/fairness page: deep links reproduce the view; bad links give a readable error, never an exception."""

from __future__ import annotations

import numpy as np
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from analysis.records import RecordStore
from tests.analysis.fairness.test_fairness_metrics import make_table
from tests.ui.app_support import open_app_page

PAGE = "ui/pages/fairness.py"


@pytest.fixture
def predictions(loupe_home, tmp_path):
    path = tmp_path / "preds.csv"
    make_table(800).to_csv(path, index=False)
    return path


def open_page(params: dict[str, str]) -> AppTest:
    return open_app_page(PAGE, params)


def test_predictions_deep_link_reproduces_the_view(predictions):
    at = open_page(
        {
            "predictions": str(predictions),
            "label": "y",
            "score": "p",
            "sensitive": "sex,age_band",
            "intersections": "sex*age_band",
            "thresholds": "0.3,0.5",
            "threshold": "0.3",
            "metrics": "tpr,accuracy",
            "bootstrap": "100",
            "baseline": "sex=M",
        }
    )
    assert not at.exception, at.exception
    assert not at.error
    assert at.multiselect[0].value == ["sex", "age_band"]
    assert at.multiselect[1].value == ["sex*age_band"]
    assert at.select_slider[0].value == 0.3
    assert at.selectbox[0].value == "sex=M"
    assert at.multiselect[2].value == ["tpr", "accuracy"]
    table = at.table[0].value
    assert set(table["Metric"]) == {"true positive rate", "accuracy"}
    assert "sex=F, age_band=18-25" in set(table["Slice"])
    assert len(at.get("plotly_chart")) == 2
    assert at.query_params["threshold"] == "0.3"


def test_moving_the_threshold_slider_updates_the_url(predictions):
    at = open_page(
        {
            "predictions": str(predictions),
            "label": "y",
            "score": "p",
            "sensitive": "sex",
            "thresholds": "0.3,0.5,0.7",
            "bootstrap": "50",
        }
    )
    assert at.select_slider[0].value == 0.5
    at.select_slider[0].set_value(0.7).run()
    assert not at.exception
    assert at.query_params["threshold"] == "0.7"
    assert set(at.table[0].value["Slice"]) == {"overall", "sex=F", "sex=M"}


def test_each_distinct_analysis_is_stored_once(predictions):
    params = {"predictions": str(predictions), "label": "y", "score": "p", "sensitive": "sex", "bootstrap": "30"}
    at = open_page(params)
    at.select_slider[0].set_value(0.7).run()  # a rerun with the same analysis
    st.cache_data.clear()  # as after a restart or an eviction: computed again, stored already
    again = open_page(params)
    assert not again.exception and not again.error
    (record,) = RecordStore().list(kind="fairness")
    assert any(c.value.startswith(f"Record `{record.record_id}` · 800 rows") for c in again.caption)
    open_page({**params, "seed": "1"})  # another analysis, another record
    assert len(RecordStore().list(kind="fairness")) == 2


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (
            {"sensitive": "race"},
            "column 'race' is not in the predictions file; its columns are 'y', 'p', 'sex' or 'age_band'",
        ),
        (
            {"sensitive": "sex", "thresholds": "0.5,abc"},
            "thresholds '0.5,abc' must be numbers separated by commas, e.g. 0.3,0.5,0.7",
        ),
        (
            {"sensitive": "sex", "metrics": "tpx"},
            "metric 'tpx' is not valid; choose 'count', 'base_rate', 'selection_rate', "
            "'accuracy', 'tpr', 'fpr', 'tnr', 'fnr', 'precision', 'fdr', 'for' or 'auc'",
        ),
        ({"sensitive": "sex", "bootstrap": "many"}, "bootstrap 'many' in the link must be a whole number"),
        ({"sensitive": "sex", "threshold": "high"}, "threshold 'high' in the link must be a number"),
        ({"sensitive": "sex", "baseline": "sex=Z"}, "baseline 'sex=Z' matches no rows; values of sex are 'F' or 'M'"),
    ],
)
def test_bad_links_show_a_readable_error(predictions, params, message):
    at = open_page({"predictions": str(predictions), "label": "y", "score": "p", "bootstrap": "20", **params})
    assert not at.exception, at.exception
    assert [e.value for e in at.error] == [message]


def test_model_deep_link(loupe_home, tmp_path):
    import keras

    from analysis.datasets import DatasetRole
    from analysis.models.registry import ModelRegistry, RegisterModelSpec

    keras.utils.set_random_seed(0)
    inputs = keras.Input((3,))
    model = keras.Model(inputs, keras.layers.Dense(1, activation="sigmoid")(inputs))
    model.save(tmp_path / "tiny.keras")
    rng = np.random.default_rng(0)
    np.savez(
        tmp_path / "data.npz",
        x=rng.normal(size=(300, 3)).astype(np.float32),
        y=rng.integers(0, 2, 300),
        split=np.array(["train", "test"] * 150),
        meta_sex=rng.choice(["F", "M"], 300),
    )
    ModelRegistry().register(
        RegisterModelSpec(
            path=tmp_path / "tiny.keras", model_id="tiny", datasets={DatasetRole.DATA: tmp_path / "data.npz"}
        )
    )
    at = open_page({"model": "tiny", "sensitive": "sex", "split": "test", "bootstrap": "50", "min_slice": "10"})
    assert not at.exception, at.exception
    assert not at.error
    assert at.radio[0].value == "test"
    assert set(at.table[0].value["Slice"]) == {"overall", "sex=F", "sex=M"}


def test_rarely_changed_settings_are_folded_away_and_summarised(predictions):
    at = open_page(
        {
            "predictions": str(predictions),
            "label": "y",
            "score": "p",
            "sensitive": "sex",
            "thresholds": "0.3,0.5",
            "bootstrap": "100",
            "seed": "7",
            "min_slice": "40",
            "missing": "group",
        }
    )
    assert not at.exception and not at.error
    settings = at.expander[0]
    assert settings.label == "Thresholds, bootstrap and slice settings"
    assert [w.value for w in settings.text_input] == ["0.3,0.5"]
    assert [w.value for w in settings.number_input] == [100, 7, 40]
    assert settings.radio[0].value == "group"
    assert at.caption[1].value == (
        "Thresholds 0.3, 0.5 · 100 bootstrap resamples (seed 7) · slices under 40 rows not reported · "
        "missing sensitive values: group"
    )
    assert [w.label for w in at.multiselect] == ["Sensitive columns", "Intersections", "Metrics"]


def test_an_intersection_link_in_another_order_or_form_is_applied_or_named(predictions):
    base = {"predictions": str(predictions), "label": "y", "score": "p", "sensitive": "sex,age_band"}
    at = open_page({**base, "intersections": "age_band*sex", "bootstrap": "0"})
    assert not at.exception and not at.warning
    assert at.multiselect[1].value == ["sex*age_band"]  # the columns' order does not matter
    at = open_page({**base, "intersections": "age_band,sex", "bootstrap": "0"})
    assert not at.exception and not at.error
    warning = at.warning[0].value
    assert warning.startswith("intersections `age_band,sex` in the link: `age_band`, `sex` are not intersections")
    assert "(did you mean `age_band*sex`?)" in warning and "as in `age_band*sex`" in warning
    assert at.multiselect[1].value == []
    assert at.query_params["intersections"] == ""  # the page shows what it applied

"""/whatif page: deep links open an (edited) datapoint; bad links name what is wrong and link back."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from tests.analysis.explain.explain_support import register_mlp
from tests.ui.app_support import open_app_page

PAGE = "ui/pages/whatif.py"


def open_page(params: dict[str, str]) -> AppTest:
    """The whole app (the page links to itself, which needs the navigation), switched to /whatif."""
    return open_app_page(PAGE, params)


@pytest.fixture
def mlp(loupe_home, tmp_path):
    return register_mlp(tmp_path)


def test_edited_link_shows_prediction_shap_counterparts_and_pd(mlp):
    at = open_page({"model": "mlp", "example": "5", "set": "a:1.5,d:-0.5", "group": "group", "pd": "b"})
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert at.number_input(key="feature-a").value == 1.5 and at.number_input(key="feature-d").value == -0.5
    assert at.number_input(key="feature-b").value == pytest.approx(float(mlp["x"][5, 1]), rel=1e-6)
    assert at.metric[1].label == "Edited"
    assert len(at.get("plotly_chart")) == 3  # waterfall, bars, partial dependence
    tables = [t.value for t in at.dataframe]
    assert list(tables[0].columns) == ["feature", "this datapoint", "counterfactual", "difference"]
    assert at.selectbox[1].value == "group" and at.selectbox[3].value == "b"
    at.number_input(key="feature-c").set_value(0.75)
    at.button[0].click().run()  # Apply edits: the changed values go into the link
    assert at.query_params["set"] in ("a:1.5,c:0.75,d:-0.5", ["a:1.5,c:0.75,d:-0.5"])
    assert not at.exception and not at.error


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"set": "a:abc"}, "value 'abc' for feature 'a' must be a number, e.g. 42 or 0.3"),
        ({"set": "income_k:3"}, "feature 'income_k' in the edits is not an input of model 'mlp'; its features are"),
        ({"example": "600"}, "example 600 is out of range; the data set 'mlp.npz' has 60 rows"),
        ({"example": "7", "set": "b:1,b:2"}, "feature 'b' is edited twice"),
    ],
)
def test_bad_links_name_the_problem_and_link_back(mlp, params, message):
    at = open_page({"model": "mlp", **params})
    assert not at.exception
    assert len(at.error) == 1 and message in at.error[0].value
    back = f"Open example {params['example']} unedited" if "set" in params and "example" in params else None
    back = back or "Open example 0 unedited"
    assert [link.proto.label for link in at.get("page_link")][-1] == back  # the nearest good view
    assert len(at.get("plotly_chart")) == 0


def test_empty_home_opens_without_exception(loupe_home):
    at = open_page({})
    assert not at.exception and not at.error
    assert any("No models are registered yet" in i.value for i in at.info)


def test_a_viewer_sees_the_edit_without_computing_shap(mlp):
    at = open_app_page(PAGE, {"model": "mlp", "example": "1", "set": "b:2"}, writer=False)
    assert not at.exception and not at.error
    assert any("needs a writer" in i.value for i in at.info)
    assert len(at.get("plotly_chart")) == 1  # partial dependence only

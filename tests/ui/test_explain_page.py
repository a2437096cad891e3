"""/explain page: deep links explain one example; bad links give a readable error and no exception."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from tests.analysis.explain.explain_support import register_linear, register_linear_image
from tests.conftest import PROJECT_ROOT
from tests.ui.app_support import sign_in_as_writer

PAGE = str(PROJECT_ROOT / "ui" / "pages" / "explain.py")


def open_page(params: dict[str, str]) -> AppTest:
    at = sign_in_as_writer(AppTest.from_file(PAGE, default_timeout=180))
    for key, value in params.items():
        at.query_params[key] = value
    return at.run()


@pytest.fixture
def models(loupe_home, tmp_path):
    register_linear(tmp_path)
    register_linear_image(tmp_path)
    return tmp_path


def test_tabular_deep_link_shows_waterfall_and_bars(models):
    at = open_page({"model": "linear", "example": "3"})
    assert not at.exception and not at.error
    assert "exact explainer · class 0" in at.caption[0].value
    assert len(at.get("plotly_chart")) == 2
    assert at.number_input[0].value == 3
    table = at.table[0].value  # in the charts' order: the largest push first
    assert sorted(table["Feature"]) == ["a", "b", "c", "d"]
    pushes = [abs(float(text)) for text in table.iloc[:, 2]]
    assert pushes == sorted(pushes, reverse=True)


def test_global_view_lives_in_the_url(models):
    at = open_page({"model": "linear", "example": "0"})
    at.toggle(key="global").set_value(True).run()
    assert not at.exception and not at.error
    assert len(at.get("plotly_chart")) == 4
    assert at.query_params["view"] == "global"
    at = open_page({"model": "linear", "example": "0", "view": "global"})
    assert at.toggle(key="global").value is True and len(at.get("plotly_chart")) == 4


def test_an_unknown_view_in_the_link_is_named_with_the_accepted_form(models):
    at = open_page({"model": "linear", "example": "0", "view": "beeswarm"})
    assert not at.exception and not at.error
    assert at.warning[0].value.startswith("view `beeswarm` in the link is not a view of this page; `view=global`")
    assert len(at.get("plotly_chart")) == 2


def test_image_deep_link_with_a_target_class(models):
    at = open_page({"model": "linear-image", "example": "2", "target": "1"})
    assert not at.exception and not at.error
    assert "gradient explainer · class 1" in at.caption[0].value
    assert len(at.get("image")) == 2 and len(at.get("plotly_chart")) == 1


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"model": "linear", "example": "abc"}, "example 'abc' must be a row index of the data set (0, 1, 2, ...)"),
        (
            {"model": "linear-image", "target": "5"},
            "target class 5 is out of range for model 'linear-image'; valid classes are 0-1",
        ),
        (
            {"model": "linear", "target": "out:3"},
            "unit 3 is out of range for layer 'out' of model 'linear'; valid units are 0-0",
        ),
        (
            {"model": "linear", "target": "x y"},
            "target 'x y' is not valid; use a class index (e.g. 3), LAYER:UNIT (e.g. conv4:12) or 'predicted'",
        ),
        ({"model": "nope"}, "unknown model 'nope'; registered models are 'linear' or 'linear-image'"),
    ],
)
def test_bad_links_show_one_error(models, params, message):
    at = open_page(params)
    assert not at.exception
    assert [e.value for e in at.error] == [message]


def test_example_out_of_range(models):
    at = open_page({"model": "linear", "example": "60"})
    assert not at.exception
    assert at.error[0].value == (
        # pages show the data file's name, never its server path
        "example 60 is out of range; the data set 'linear.npz' has 60 rows (valid examples are 0-59)"
    )

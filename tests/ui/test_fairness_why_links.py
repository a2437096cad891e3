"""/fairness "why" panel: its choices (?why_column=, ?why_group=, ?why_vs=) round-trip through the URL.

One Loupe home per module holds ``people``: a small sigmoid MLP over 4 features whose data has
``meta_sex`` (F/M, 40 rows each) and ``meta_group`` (A-D, 20 rows each). Only
``test_a_link_reopens_the_same_comparison`` computes an explanation (group=D vs A); no other test
uses that pair, so its first visit always starts with the button.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from tests.analysis.explain.explain_support import register, tabular_arrays
from tests.analysis.fairness.test_fairness_metrics import make_table
from tests.ui.app_support import open_app_page

PAGE = "ui/pages/fairness.py"
LINK = {"model": "people", "sensitive": "sex,group", "bootstrap": "20", "min_slice": "5"}
WHY = ("why_column", "why_group", "why_vs")


@pytest.fixture(scope="module")
def shared_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import keras

    root = tmp_path_factory.mktemp("why-links")
    home = root / "home"
    home.mkdir()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LOUPE_HOME", str(home))
        patch.delenv("LOUPE_CACHE_DIR", raising=False)
        keras.utils.set_random_seed(3)
        inputs = keras.Input((4,))
        hidden = keras.layers.Dense(6, activation="tanh")(inputs)
        model = keras.Model(inputs, keras.layers.Dense(1, activation="sigmoid")(hidden))
        arrays = tabular_arrays(80)
        arrays["meta_sex"] = np.array(["F", "M"])[(np.arange(80) // 2) % 2]
        register(model, root, "people", arrays)
    return home


@pytest.fixture
def home(shared_home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("LOUPE_HOME", str(shared_home))
    monkeypatch.delenv("LOUPE_CACHE_DIR", raising=False)
    return shared_home


def open_page(params: dict[str, str]) -> AppTest:
    return open_app_page(PAGE, params)


def why_choices(at: AppTest) -> tuple[str, str, str]:
    return tuple(at.selectbox(key=key).value for key in ("why-column", "why-group-a", "why-group-b"))


def why_params(at: AppTest) -> dict[str, str]:
    return {key: at.query_params[key] for key in WHY if key in at.query_params}


def url_of(choices: tuple[str, str, str]) -> dict[str, str]:
    """The why parameters a choice writes: each one that is not its default."""
    defaults = ("sex", {"sex": "F", "group": "A"}[choices[0]], "(everyone else)")
    return {key: value for key, value, default in zip(WHY, choices, defaults, strict=True) if value != default}


def test_a_link_reopens_the_same_comparison(home):
    link = LINK | {"why_column": "group", "why_group": "D", "why_vs": "A"}
    at = open_page(link)
    assert not at.exception, at.exception
    assert not at.error
    assert why_choices(at) == ("group", "D", "A")
    assert why_params(at) == {"why_column": "group", "why_group": "D", "why_vs": "A"}
    assert at.button(key="why-run").label == "Explain the gap between group=D and A"
    at.button(key="why-run").click().run()
    assert not at.exception and not at.error
    assert "group=D (20) vs A (20)" in at.get("plotly_chart")[-1].proto.spec  # the chart's title names the pair

    again = open_page(link)  # a second visit to the link: the stored explanation, without a click
    assert not again.exception and not again.error
    assert why_choices(again) == ("group", "D", "A")
    assert "group=D (20) vs A (20)" in again.get("plotly_chart")[-1].proto.spec
    assert not [b for b in again.button if b.key == "why-run"]


def test_changing_the_choices_writes_the_url(home):
    at = open_page(LINK)
    assert why_choices(at) == ("sex", "F", "(everyone else)")
    assert why_params(at) == {}  # defaults stay out of the URL
    at.selectbox(key="why-column").select("group").run()
    assert why_params(at) == {"why_column": "group"}
    at.selectbox(key="why-group-a").select("C").run()
    assert why_params(at) == {"why_column": "group", "why_group": "C"}
    at.selectbox(key="why-group-b").select("B").run()
    assert why_params(at) == {"why_column": "group", "why_group": "C", "why_vs": "B"}
    # Group B was the comparison: it cannot be both, so the comparison starts afresh (everyone else).
    at.selectbox(key="why-group-a").select("B").run()
    assert why_choices(at) == ("group", "B", "(everyone else)")
    assert why_params(at) == {"why_column": "group", "why_group": "B"}
    at.selectbox(key="why-column").select("sex").run()
    assert why_choices(at) == ("sex", "F", "(everyone else)")
    assert why_params(at) == {}
    assert not at.exception and not at.error


def test_a_choice_made_stale_by_another_choice_falls_back_quietly(home):
    at = open_page(LINK | {"why_column": "group", "why_group": "D"})
    at.multiselect[0].set_value(["sex"]).run()  # the user drops the why panel's column from the view
    assert not at.exception and not at.error
    assert why_choices(at) == ("sex", "F", "(everyone else)")
    assert why_params(at) == {}


@pytest.mark.parametrize(
    ("params", "message", "choices"),
    [
        (
            {"why_column": "race"},
            "why_column 'race' in the link is not a sensitive column of this view; choose 'sex' or 'group'. "
            "Showing 'sex' instead.",
            ("sex", "F", "(everyone else)"),
        ),
        (
            {"sensitive": "sex", "why_column": "group"},
            "why_column 'group' in the link is not a sensitive column of this view; choose 'sex'. "
            "Showing 'sex' instead.",
            ("sex", "F", "(everyone else)"),
        ),
        (
            {"why_column": "race", "why_group": "D", "why_vs": "A"},  # what depends on a bad column is not checked
            "why_column 'race' in the link is not a sensitive column of this view; choose 'sex' or 'group'. "
            "Showing 'sex' instead.",
            ("sex", "F", "(everyone else)"),
        ),
        (
            {"why_column": "group", "why_group": "Z"},
            "why_group 'Z' in the link is not a value of column 'group'; its values are 'A', 'B', 'C' or 'D'. "
            "Showing 'A' instead.",
            ("group", "A", "(everyone else)"),
        ),
        (
            {"why_group": ""},
            "why_group '' in the link is not a value of column 'sex'; its values are 'F' or 'M'. Showing 'F' instead.",
            ("sex", "F", "(everyone else)"),
        ),
        (
            {"why_column": "group", "why_group": "D", "why_vs": "D"},
            "why_vs 'D' in the link is not a group to compare 'D' with; choose '(everyone else)', 'A', 'B' or 'C'. "
            "Showing '(everyone else)' instead.",
            ("group", "D", "(everyone else)"),
        ),
        (
            {"why_vs": "<script>alert(1)</script>"},
            "why_vs '<script>alert(1)</script>' in the link is not a group to compare 'F' with; "
            "choose '(everyone else)' or 'M'. Showing '(everyone else)' instead.",
            ("sex", "F", "(everyone else)"),
        ),
    ],
)
def test_bad_values_name_the_valid_choices_and_fall_back(home, params, message, choices):
    at = open_page(LINK | params)
    assert not at.exception, at.exception
    assert [e.value for e in at.error] == [message]
    assert why_choices(at) == choices
    assert why_params(at) == url_of(choices)  # the bad value is gone from the URL
    assert set(at.table[0].value["Slice"]) >= {"overall", "sex=F", "sex=M"}  # the rest of the page shows
    at.selectbox(key="why-group-b").select(at.selectbox(key="why-group-b").options[-1]).run()
    assert not at.exception and not at.error  # shown once: the next choice does not repeat it


def test_why_parameters_on_a_predictions_link_are_dropped(home, tmp_path):
    path = tmp_path / "preds.csv"
    make_table(200).to_csv(path, index=False)
    at = open_page(
        {"predictions": str(path), "label": "y", "score": "p", "sensitive": "sex", "bootstrap": "20"}
        | {"why_column": "sex", "why_group": "F", "why_vs": "M"}
    )
    assert not at.exception and not at.error
    assert why_params(at) == {}
    assert any("Attributions need a registered model" in caption.value for caption in at.main.caption)

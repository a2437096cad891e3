"""The explanation panels other pages call: the Fairness "why" panel and the Microscope unit overlays."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.analysis.explain.explain_support import register_linear
from tests.conftest import PROJECT_ROOT
from tests.ui.app_support import sign_in_as_writer

FAIRNESS_APP = """
import streamlit as st
from ui.explain_panels import show_slice_why_panel

def panel():
    show_slice_why_panel(SETTINGS)

st.navigation([st.Page(panel, url_path="fairness"),
               st.Page("ui/pages/explain.py", url_path="explain")]).run()
"""

MICROSCOPE_APP = """
import streamlit as st
from analysis.microscope.dataset_examples import DatasetExamplesSpec, compute_dataset_examples
from analysis.microscope.unit_links import resolve_unit_link
from ui.explain_panels import show_unit_attributions
from ui.shared import get_registry

def panel():
    link = resolve_unit_link({"model": "tiny-cnn", "layer": "conv", "unit": "1"}, get_registry())
    examples = compute_dataset_examples(DatasetExamplesSpec(model_id="tiny-cnn", layer="conv", k=3))
    show_unit_attributions(link, examples)

st.navigation([st.Page(panel, url_path="microscope"),
               st.Page("ui/pages/explain.py", url_path="explain")]).run()
"""


def app(folder: Path, source: str, **constants: object) -> AppTest:
    """An app with the panel's page and the /explain page, written beside a link to the project's ``ui``.

    Page paths resolve against the main script's folder, as in ``app.py``; the link keeps them the same.
    """
    folder = folder / "app"
    folder.mkdir(exist_ok=True)
    if not (folder / "ui").exists():
        (folder / "ui").symlink_to(PROJECT_ROOT / "ui")
    header = "".join(f"{name} = {value!r}\n" for name, value in constants.items())
    (folder / "app.py").write_text(header + source)
    return sign_in_as_writer(AppTest.from_file(str(folder / "app.py"), default_timeout=180))


def test_why_panel_needs_a_model(tmp_path):
    at = app(tmp_path, FAIRNESS_APP, SETTINGS={"predictions": "preds.csv", "sensitive": ("sex",)}).run()
    assert not at.exception
    assert "Attributions need a registered model" in at.caption[0].value


def test_why_panel_explains_the_gap_on_request_then_shows_it_at_once(loupe_home, tmp_path):
    register_linear(tmp_path, n=80)
    at = app(tmp_path, FAIRNESS_APP, SETTINGS={"model_id": "linear", "sensitive": ("group",)}).run()
    assert not at.exception and not at.get("plotly_chart")
    at.selectbox(key="why-group-a").select("D").run()
    at.button(key="why-run").click().run()
    assert not at.exception and not at.error
    assert len(at.get("plotly_chart")) == 1
    assert at.dataframe[0].value["feature"].iloc[0] == "d"  # the feature the data shifts for group D
    again = app(tmp_path, FAIRNESS_APP, SETTINGS={"model_id": "linear", "sensitive": ("group",)}).run()
    again.selectbox(key="why-group-a").select("D").run()
    assert len(again.get("plotly_chart")) == 1 and not again.get("button")  # stored: shown without a click


@pytest.mark.parametrize("group_b", ["A"])
def test_why_panel_against_a_named_group(loupe_home, tmp_path, group_b):
    register_linear(tmp_path, n=80)
    at = app(tmp_path, FAIRNESS_APP, SETTINGS={"model_id": "linear", "sensitive": ("group",)}).run()
    at.selectbox(key="why-group-a").select("D").run()
    at.selectbox(key="why-group-b").select(group_b).run()
    at.button(key="why-run").click().run()
    assert not at.exception and not at.error
    assert "group=D (20) vs A (20)" in at.get("plotly_chart")[0].proto.spec


def test_unit_overlays_for_the_strongest_examples(loupe_home, tmp_path, tiny_cnn_path, tiny_dataset_path):
    from analysis.datasets import DatasetRole
    from analysis.models.registry import ModelRegistry, RegisterModelSpec

    ModelRegistry().register(
        RegisterModelSpec(path=tiny_cnn_path, model_id="tiny-cnn", datasets={DatasetRole.DATA: tiny_dataset_path})
    )
    at = app(tmp_path, MICROSCOPE_APP).run()
    assert not at.exception and not at.get("image")
    at.button(key="unit-attributions").click().run()
    assert not at.exception and not at.error
    assert len(at.get("image")) == 3
    assert "Largest additivity error" in at.caption[-1].value

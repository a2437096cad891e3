"""Viewers start nothing: no run buttons, and forged links or widget states start no work."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from analysis.datasets import DatasetRole
from analysis.models.registry import ModelRegistry, RegisterModelSpec
from tests.ui.app_support import open_app_page
from ui.access import TOKEN_SESSION_KEY
from ui.admission import gate

RUN_LABELS = ("Render", "Run audit", "Register", "Explain", "Replace")


@pytest.fixture
def tiny_registered(loupe_home, tiny_cnn_path, tiny_dataset_path) -> None:
    ModelRegistry().register(
        RegisterModelSpec(path=tiny_cnn_path, model_id="tiny", datasets={DatasetRole.DATA: tiny_dataset_path})
    )


@pytest.fixture
def no_jobs(monkeypatch):
    """Fail the test if any job is admitted."""
    monkeypatch.setattr(gate(), "admit", lambda *a, **k: pytest.fail(f"job admitted: {a} {k}"))


def run_buttons(at: AppTest) -> list[str]:
    labels = [b.label for b in at.button] + [b.label for b in at.get("form_submit_button")]
    return [label for label in labels if label.startswith(RUN_LABELS)]


@pytest.mark.parametrize(
    ("page", "params"),
    [
        ("ui/pages/home.py", {}),
        ("ui/pages/models.py", {"model": "tiny"}),
        ("ui/pages/microscope.py", {"model": "tiny", "layer": "conv"}),
        ("ui/pages/microscope.py", {"model": "tiny", "layer": "conv", "unit": "1"}),
        ("ui/pages/microscope.py", {"model": "tiny", "layer": "conv", "unit": "1", "view": "deepdream"}),
        ("ui/pages/explain.py", {"model": "tiny", "example": "3"}),
    ],
)
def test_viewer_pages_have_no_run_buttons_and_start_nothing(tiny_registered, no_jobs, page, params):
    at = open_app_page(page, params, writer=False)
    assert not at.exception, at.exception
    assert run_buttons(at) == []
    assert not at.get("file_uploader")
    assert not at.checkbox


def test_viewer_unit_page_says_what_is_not_rendered(tiny_registered, no_jobs):
    at = open_app_page("ui/pages/microscope.py", {"model": "tiny", "layer": "conv", "unit": "1"}, writer=False)
    infos = " ".join(i.value for i in at.info)
    assert "Not rendered yet" in infos
    assert "dataset examples are not computed yet" in infos
    assert not at.get("image")


def test_forged_render_click_of_a_signed_out_session_starts_nothing(tiny_registered, monkeypatch):
    at = open_app_page("ui/pages/microscope.py", {"model": "tiny", "layer": "conv", "unit": "1"})
    monkeypatch.setattr(gate(), "admit", lambda *a, **k: pytest.fail(f"job admitted: {a} {k}"))
    button = next(b for b in at.button if b.label == "Render it now in this server instead")
    del at.session_state[TOKEN_SESSION_KEY]  # a viewer now, whose browser still shows the button
    at = button.click().run()
    assert not at.exception, at.exception
    assert run_buttons(at) == []
    assert "Download PNG" not in [b.label for b in at.get("download_button")]  # no feature visualization made


def test_viewer_explain_link_not_stored_yet_is_refused_not_computed(tiny_registered, no_jobs):
    at = open_app_page("ui/pages/explain.py", {"model": "tiny", "example": "3"}, writer=False)
    assert not at.exception, at.exception
    assert [w.value for w in at.warning] == [
        "Nothing was started: a SHAP run on 1 example(s) of tiny needs a writer. "
        "Sign in with the writer token (sidebar)."
    ]

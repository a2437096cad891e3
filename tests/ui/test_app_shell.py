"""AppTest smoke tests: every page of app.py opens; the Models page handles deep links."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from analysis.models.registry import ModelRegistry, RegisterModelSpec
from analysis.server_files import NOT_ALLOWED
from tests.conftest import PROJECT_ROOT
from tests.ui.app_support import open_app_page

APP = str(PROJECT_ROOT / "app.py")
PAGES = [
    "ui/pages/home.py",
    "ui/pages/microscope.py",
    "ui/pages/privacy.py",
    "ui/pages/fairness.py",
    "ui/pages/card.py",
    "ui/pages/models.py",
]


@pytest.mark.parametrize("page", PAGES)
def test_every_page_opens_without_exception_on_an_empty_home(loupe_home, page):
    at = AppTest.from_file(APP, default_timeout=120).run()
    at.switch_page(page).run()
    assert not at.exception, at.exception


def test_models_page_deep_link_and_bad_model(loupe_home, tiny_cnn_path):
    ModelRegistry().register(RegisterModelSpec(path=tiny_cnn_path, model_id="tiny"))
    at = AppTest.from_file(APP, default_timeout=120).run()
    at.switch_page("ui/pages/models.py")
    at.query_params["model"] = "tiny"
    at.run()
    assert not at.exception
    assert any("tiny · revision" in h.value for h in at.subheader)
    at.query_params["model"] = "nope"
    at.run()
    assert not at.exception
    assert [e.value for e in at.error] == ["unknown model 'nope'; registered models are 'tiny'"]


def test_models_page_add_form_reports_bad_path(loupe_home, tmp_path, monkeypatch):
    monkeypatch.setenv("LOUPE_DATA_ROOTS", str(tmp_path))
    at = open_app_page("ui/pages/models.py", {})
    at.text_input[0].input("mine")
    at.text_input[1].input("/no/such/model.keras")
    at.button[0].click().run()
    assert not at.exception
    assert [e.value for e in at.error] == [NOT_ALLOWED.format(text="model.keras")]  # server paths cut to names

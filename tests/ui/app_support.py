"""Opening one of the app's pages in AppTest, through app.py's navigation, with a link's query params."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from tests.conftest import PROJECT_ROOT

APP = str(PROJECT_ROOT / "app.py")


def open_app_page(page: str, params: dict[str, str | list[str]], *, timeout: float = 180) -> AppTest:
    """Run the app, switch to ``page`` (e.g. ``"ui/pages/fairness.py"``), set ``params`` and run it."""
    at = AppTest.from_file(APP, default_timeout=timeout).run()
    at.switch_page(page)
    for key, value in params.items():
        at.query_params[key] = value
    return at.run()

"""Opening one of the app's pages in AppTest, through app.py's navigation, with a link's query params."""

from __future__ import annotations

import base64
import re

from streamlit.testing.v1 import AppTest

from tests.conftest import PROJECT_ROOT
from ui.access import TOKEN_SESSION_KEY, token_digest

APP = str(PROJECT_ROOT / "app.py")
WRITER_TOKEN = "test-writer-token-0123456789"  # LOUPE_WRITER_TOKEN under tests/ui (see conftest.py)


def sign_in_as_writer(at: AppTest, token: str = WRITER_TOKEN) -> AppTest:
    """Give the AppTest session what the sign-in form stores after the writer token was typed."""
    at.session_state[TOKEN_SESSION_KEY] = token_digest(token)
    return at


def open_app_page(
    page: str, params: dict[str, str | list[str]], *, timeout: float = 180, writer: bool = True
) -> AppTest:
    """Run the app, switch to ``page`` (e.g. ``"ui/pages/fairness.py"``), set ``params`` and run it.

    ``writer`` signs the session in with the test writer token (the app's own default for an
    unknown client, as AppTest's is, is a viewer: pass ``writer=False`` to test that).
    """
    at = AppTest.from_file(APP, default_timeout=timeout)
    if writer:
        sign_in_as_writer(at)
    at.run()
    at.switch_page(page)
    for key, value in params.items():
        at.query_params[key] = value
    return at.run()


def markdown_images(at: AppTest) -> list[tuple[str, bytes]]:
    """The page's Markdown images (the feature visualizations): (alt text, PNG bytes) each, in page order."""
    found = []
    for element in at.markdown:
        for alt, data in re.findall(r"!\[([^\]]*)\]\(data:image/png;base64,([A-Za-z0-9+/=]+)\)", element.value):
            found.append((alt, base64.b64decode(data)))
    return found

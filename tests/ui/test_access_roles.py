"""Who may change what: the pure role decision (ui.access.decide_role) and the sidebar's sign-in."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from tests.ui.app_support import APP, WRITER_TOKEN, open_app_page
from ui.access import TOKEN_SESSION_KEY, AccessPolicy, Role, Visitor, decide_role, has_proxy_header, token_digest

TOKEN = AccessPolicy.from_settings(oidc=False, environ={"LOUPE_WRITER_TOKEN": "s3cret-token"})
NOTHING = AccessPolicy.from_settings(oidc=False, environ={})
OIDC = AccessPolicy.from_settings(oidc=True, environ={"LOUPE_WRITER_TOKEN": "ignored"})
OIDC_LISTED = AccessPolicy.from_settings(oidc=True, environ={"LOUPE_WRITER_EMAILS": "Ada@Example.org, bob@x.org"})


@pytest.mark.parametrize(
    ("policy", "visitor", "role"),
    [
        # Neither OIDC nor a token: only a direct connection from the server's own machine writes.
        (NOTHING, Visitor(peer_ip="127.0.0.1"), Role.WRITER),
        (NOTHING, Visitor(peer_ip="::1"), Role.WRITER),
        # A dual-stack server (streamlit run without --server.address) sees an IPv4 peer as IPv4-mapped IPv6.
        (NOTHING, Visitor(peer_ip="::ffff:127.0.0.1"), Role.WRITER),
        (NOTHING, Visitor(peer_ip="::ffff:10.0.0.7"), Role.VIEWER),
        (NOTHING, Visitor(peer_ip="127.0.0.1", proxied=True), Role.VIEWER),  # a proxy on the same host
        (NOTHING, Visitor(peer_ip="10.0.0.7"), Role.VIEWER),
        (NOTHING, Visitor(peer_ip=None), Role.VIEWER),  # unknown (AppTest): a viewer
        (NOTHING, Visitor(peer_ip="not-an-ip"), Role.VIEWER),
        (NOTHING, Visitor(peer_ip="10.0.0.7", token_sha256=token_digest("")), Role.VIEWER),
        # A token: only its holder writes, localhost or not.
        (TOKEN, Visitor(peer_ip="127.0.0.1"), Role.VIEWER),
        (TOKEN, Visitor(peer_ip="10.0.0.7", token_sha256=token_digest("s3cret-token")), Role.WRITER),
        (TOKEN, Visitor(peer_ip="10.0.0.7", token_sha256=token_digest("s3cret-tokeN")), Role.VIEWER),
        (TOKEN, Visitor(token_sha256=""), Role.VIEWER),
        # OIDC: signed-in users write (only the listed addresses when a list is set); tokens do not count.
        (OIDC, Visitor(oidc_signed_in=True, email="anyone@x.org"), Role.WRITER),
        (OIDC, Visitor(token_sha256=token_digest("ignored"), peer_ip="127.0.0.1"), Role.VIEWER),
        (OIDC_LISTED, Visitor(oidc_signed_in=True, email="ada@example.org"), Role.WRITER),
        (OIDC_LISTED, Visitor(oidc_signed_in=True, email="eve@example.org"), Role.VIEWER),
        (OIDC_LISTED, Visitor(oidc_signed_in=True, email=None), Role.VIEWER),
    ],
)
def test_decide_role(policy, visitor, role):
    assert decide_role(policy, visitor) is role


def test_policy_keeps_only_the_tokens_digest():
    assert "s3cret-token" not in repr(TOKEN)
    assert TOKEN.token_sha256 == token_digest("s3cret-token")
    assert AccessPolicy.from_settings(oidc=False, environ={"LOUPE_WRITER_TOKEN": ""}).token_sha256 is None


def test_proxy_headers_are_recognised_in_any_case():
    assert has_proxy_header(["Host", "X-Forwarded-For"])
    assert has_proxy_header(["forwarded"])
    assert not has_proxy_header(["Host", "Origin", "Cookie"])


def test_apptest_client_is_a_viewer_without_a_token(loupe_home, monkeypatch):
    """AppTest has no client connection (no peer address), so with nothing configured it is a viewer."""
    monkeypatch.delenv("LOUPE_WRITER_TOKEN")
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    assert any(info.value.startswith("Read-only") for info in at.info)
    assert "only the server's own machine" in at.sidebar.caption[0].value.lower()


def test_signing_in_with_the_token_makes_a_writer_and_never_echoes_it(loupe_home):
    at = open_app_page("ui/pages/models.py", {}, writer=False)
    assert not at.get("file_uploader")
    at.sidebar.text_input[0].input("wrong token")
    at.sidebar.button[0].click().run()
    assert [e.value for e in at.error] == ["That is not the writer token."]
    at.sidebar.text_input[0].input(WRITER_TOKEN)
    at.sidebar.button[0].click().run()
    assert not at.exception
    assert len(at.get("file_uploader")) == 2
    assert at.sidebar.caption[0].value == "Signed in as a writer (token)."
    shown = [str(e.value) for kind in ("text_input", "caption", "markdown", "error", "info") for e in at.get(kind)]
    assert not any(WRITER_TOKEN in text for text in shown)
    assert at.session_state[TOKEN_SESSION_KEY] == token_digest(WRITER_TOKEN)  # the digest, not the token
    assert not at.sidebar.text_input  # the form (cleared on submit) is gone
    at.sidebar.button[0].click().run()  # sign out
    assert not at.get("file_uploader")


def test_a_changed_token_signs_everyone_out(loupe_home, monkeypatch):
    at = open_app_page("ui/pages/models.py", {})
    assert at.get("file_uploader")
    monkeypatch.setenv("LOUPE_WRITER_TOKEN", "a-new-token-after-rotation")
    at.run()
    assert not at.get("file_uploader")

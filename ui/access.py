"""Who may change what: the two roles, decided in one place for every page.

Viewers open every link and see every stored result. Writers also register models, upload
files, run new analyses, edit model-card fields and choose a card's evidence. How a writer
proves it, in order of precedence (the operator configures one; see docs/security.md):

1. OpenID Connect: ``[auth]`` in ``.streamlit/secrets.toml``; a visitor signed in with ``st.login``
   is a writer (only the addresses in ``LOUPE_WRITER_EMAILS``, when that is set).
2. A shared token: ``LOUPE_WRITER_TOKEN``; a visitor who typed it into the sign-in form is a
   writer for that browser session. Only its SHA-256 is kept, in the session, and it is compared
   with ``hmac.compare_digest`` on every run (so changing the token signs everyone out).
3. Neither: the server's own machine, i.e. a direct connection from 127.0.0.1 or ::1 that carries
   no proxy headers. Behind a reverse proxy every visitor comes from the proxy's address, so the
   operator must set a token or OIDC there (a proxied connection is never taken for localhost).

:func:`decide_role` is the pure core (tests call it directly); :func:`current_role`,
:func:`can_write` and :func:`require_writer` are what pages use.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import ipaddress
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace

import streamlit as st

TOKEN_ENV = "LOUPE_WRITER_TOKEN"
EMAILS_ENV = "LOUPE_WRITER_EMAILS"
TOKEN_SESSION_KEY = "loupe:writer-token-sha256"  # no widget has this key, so no browser can set it
PROXY_HEADERS = frozenset({"x-forwarded-for", "x-forwarded-host", "x-real-ip", "forwarded"})
READ_ONLY = (
    "Read-only: you can open every link and see every stored result. Registering models, uploading "
    "files, running new analyses and editing model cards need a writer."
)


class Role(enum.StrEnum):
    VIEWER = "viewer"
    WRITER = "writer"


class SignIn(enum.StrEnum):
    """How writers prove who they are on this server."""

    OIDC = "oidc"
    TOKEN = "token"
    LOCALHOST = "localhost"


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True, slots=True, kw_only=True)
class AccessPolicy:
    """What the operator configured: OIDC, the writer token's digest, the writers' e-mail addresses."""

    oidc: bool = False
    token_sha256: str | None = None
    writer_emails: frozenset[str] = field(default_factory=frozenset)

    @property
    def sign_in(self) -> SignIn:
        if self.oidc:
            return SignIn.OIDC
        if self.token_sha256:
            return SignIn.TOKEN
        return SignIn.LOCALHOST

    @classmethod
    def from_settings(cls, *, oidc: bool, environ: Mapping[str, str]) -> AccessPolicy:
        token = environ.get(TOKEN_ENV, "")
        emails = {e.strip().lower() for e in environ.get(EMAILS_ENV, "").split(",") if e.strip()}
        return cls(oidc=oidc, token_sha256=token_digest(token) if token else None, writer_emails=frozenset(emails))


@dataclass(frozen=True, slots=True, kw_only=True)
class Visitor:
    """What the server knows about one browser session.

    ``peer_ip`` is the TCP peer (None when unknown, e.g. under AppTest); ``proxied`` is True when
    the connection carries a proxy header; ``email`` is the OIDC user's address when signed in.
    """

    peer_ip: str | None = None
    proxied: bool = False
    oidc_signed_in: bool = False
    email: str | None = None
    token_sha256: str | None = None


def is_loopback(ip: str | None) -> bool:
    """Whether ``ip`` is this machine. A server listening on IPv6 and IPv4 at once sees an IPv4 peer
    as ``::ffff:127.0.0.1``, which Python before 3.13 does not call loopback: it is unwrapped first."""
    if not ip:
        return False
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)
    return (mapped or address).is_loopback


def decide_role(policy: AccessPolicy, visitor: Visitor) -> Role:
    """The visitor's role under ``policy``; anything not proven is a viewer."""
    if policy.sign_in is SignIn.OIDC:
        if not visitor.oidc_signed_in:
            return Role.VIEWER
        if policy.writer_emails and (visitor.email or "").lower() not in policy.writer_emails:
            return Role.VIEWER
        return Role.WRITER
    if policy.sign_in is SignIn.TOKEN:
        proven = visitor.token_sha256 is not None and hmac.compare_digest(
            visitor.token_sha256.encode(), (policy.token_sha256 or "").encode()
        )
        return Role.WRITER if proven else Role.VIEWER
    return Role.WRITER if is_loopback(visitor.peer_ip) and not visitor.proxied else Role.VIEWER


def has_proxy_header(headers: Iterable[str]) -> bool:
    return any(name.lower() in PROXY_HEADERS for name in headers)


# -- Streamlit glue -----------------------------------------------------------------------------


def _oidc_configured() -> bool:
    try:
        return bool(st.secrets.get("auth"))
    except (FileNotFoundError, KeyError):
        return False


def _peer_ip() -> str | None:
    """The raw TCP peer of this session (st.context.ip_address maps localhost *and* unknown to None)."""
    from streamlit import runtime
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    if ctx is None or not runtime.exists():
        return None
    client = runtime.get_instance().get_client(ctx.session_id)
    context = getattr(client, "client_context", None)
    return getattr(context, "remote_ip", None)


def current_policy() -> AccessPolicy:
    return AccessPolicy.from_settings(oidc=_oidc_configured(), environ=os.environ)


def current_visitor(policy: AccessPolicy) -> Visitor:
    signed_in = bool(policy.oidc and st.user.get("is_logged_in"))
    return Visitor(
        peer_ip=_peer_ip(),
        proxied=has_proxy_header(st.context.headers.keys()),
        oidc_signed_in=signed_in,
        email=(str(st.user.get("email") or "") or None) if signed_in else None,
        token_sha256=st.session_state.get(TOKEN_SESSION_KEY),
    )


def current_role() -> Role:
    policy = current_policy()
    return decide_role(policy, current_visitor(policy))


def can_write() -> bool:
    return current_role() is Role.WRITER


def require_writer(action: str) -> None:
    """Stop the page with a note unless the visitor is a writer; ``action`` says what needed it."""
    if not can_write():
        st.info(f"{action} needs a writer. {sign_in_hint()}", icon=":material/lock:")
        st.stop()


def visitor_key() -> str:
    """Who counts against the per-visitor job cap: the signed-in user, else this browser session."""
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    if _oidc_configured() and st.user.get("is_logged_in") and st.user.get("email"):
        return f"user:{str(st.user.get('email')).lower()}"
    ctx = get_script_run_ctx()
    return f"session:{ctx.session_id if ctx else 'none'}"


def sign_in_hint() -> str:
    sign_in = current_policy().sign_in
    if sign_in is SignIn.OIDC:
        return "Sign in (sidebar) with an account the operator allows."
    if sign_in is SignIn.TOKEN:
        return "Sign in with the writer token (sidebar)."
    return "On this server only its own machine (localhost) can write; the operator can set a writer token."


def show_access_panel() -> None:
    """The sidebar's sign-in state: who you are, and the way to sign in or out."""
    policy = current_policy()
    visitor = current_visitor(policy)
    role = decide_role(policy, visitor)
    with st.sidebar:
        if policy.sign_in is SignIn.OIDC:
            if visitor.oidc_signed_in:
                st.caption(f"Signed in as {visitor.email or 'a user'} · {role.value}")
                if st.button("Sign out", key="loupe-sign-out"):
                    st.logout()
            elif st.button("Sign in to make changes", key="loupe-sign-in"):
                st.login()
        elif policy.sign_in is SignIn.TOKEN:
            if role is Role.WRITER:
                st.caption("Signed in as a writer (token).")
                if st.button("Sign out", key="loupe-sign-out"):
                    st.session_state.pop(TOKEN_SESSION_KEY, None)
                    st.rerun()
            else:
                _token_form(visitor)
        elif role is Role.WRITER:
            st.caption("Writer: you are on the server's own machine (localhost).")
        else:
            st.caption("Read-only. Only the server's own machine can write (no sign-in is configured).")


def _token_form(visitor: Visitor) -> None:
    with st.form("loupe-sign-in", clear_on_submit=True, border=False):
        typed = st.text_input("Writer token", type="password", help="Set by the operator (LOUPE_WRITER_TOKEN).")
        submitted = st.form_submit_button("Sign in as writer")
    if not submitted:
        return
    if not typed:
        st.error("Type the writer token first.", icon=":material/key:")
        return
    candidate = replace(visitor, token_sha256=token_digest(typed))
    if decide_role(current_policy(), candidate) is Role.WRITER:
        st.session_state[TOKEN_SESSION_KEY] = candidate.token_sha256
        st.rerun()
    st.error("That is not the writer token.", icon=":material/key_off:")

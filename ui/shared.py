"""The one place for cached resources shared by pages, and for showing user errors."""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import streamlit as st

from analysis.errors import AnalysisInputError
from analysis.models.registry import ModelRecord, ModelRegistry
from analysis.paths import loupe_home
from ui.admission import JobRefused

T = TypeVar("T")
# An absolute POSIX path (not part of a URL or of a relative path); of two or more parts the last is kept.
_SERVER_PATH = re.compile(r"(?<![\w:/.~-])/[^\s'\"]+")


@st.cache_resource
def _registry_at(home: str) -> ModelRegistry:
    return ModelRegistry(Path(home))


def get_registry() -> ModelRegistry:
    """One registry object per Loupe home (it opens a SQLite connection per call: thread-safe)."""
    return _registry_at(str(loupe_home()))


def list_models() -> list[ModelRecord]:
    return get_registry().list()


def redact_paths(message: str) -> str:
    """``message`` with absolute server paths cut to their file names (visitors see names and hashes)."""

    def name(match: re.Match[str]) -> str:
        parts = [part for part in match.group(0).split("/") if part]
        return parts[-1] if len(parts) > 1 else match.group(0)

    return _SERVER_PATH.sub(name, message)


@contextmanager
def user_errors() -> Iterator[None]:
    """Show AnalysisInputError as ``st.error`` (server paths cut to file names) and stop the page.

    A job the admission gate refused is shown as ``st.warning``; anything else is a bug.
    """
    try:
        yield
    except JobRefused as refusal:  # not the visitor's mistake: a viewer, or a busy server
        st.warning(str(refusal), icon=":material/hourglass_top:")
        st.stop()
    except AnalysisInputError as error:
        st.error(redact_paths(str(error)), icon=":material/error:")
        st.stop()


def model_picker(query_key: str = "model") -> ModelRecord | None:
    """A model selector bound to ``?model=``; returns None (with a hint) when none is registered."""
    registry = get_registry()
    ids = registry.ids()
    if not ids:
        st.info(
            "No models are registered yet. Run `make run` (it builds the demo models) or add one on the Models page."
        )
        st.page_link("ui/pages/models.py", label="Go to Models", icon=":material/deployed_code:")
        return None
    wanted = st.query_params.get(query_key)
    if wanted is not None and wanted not in ids:
        try:
            registry.get(wanted)  # raises, naming the registered models
        except AnalysisInputError as error:
            st.error(redact_paths(str(error)), icon=":material/error:")
            nearest = (difflib.get_close_matches(wanted, ids, n=1, cutoff=0.3) or ids)[0]
            # A relative link keeps the page and drops the rest of the bad link: a way forward.
            st.markdown(f"[Open this page for `{nearest}` instead](?{query_key}={nearest})")
            st.stop()
    index = ids.index(wanted) if wanted in ids else 0
    chosen = st.selectbox("Model", ids, index=index)
    if chosen != wanted:
        st.query_params[query_key] = chosen
    return registry.get(chosen)


def call_or_error(function: Callable[[], T]) -> T:
    """Run ``function``; a user error becomes ``st.error`` and stops the page."""
    with user_errors():
        return function()
    raise AssertionError("unreachable")  # pragma: no cover  (st.stop raises)

"""Cached fairness analyses for the /fairness page, and the URL <-> choices binding it uses."""

from __future__ import annotations

from typing import Any

import streamlit as st

from analysis.fairness import FairnessResult, FairnessSpec, compute_fairness_slices


@st.cache_data(show_spinner="Computing fairness slices and bootstrap intervals ...", max_entries=32)
def cached_fairness(settings: dict[str, Any]) -> dict[str, Any]:
    """``compute_fairness_slices`` for plain settings (spec keyword arguments), as its JSON dict.

    Cached by the settings, so moving the threshold slider or switching metrics never recomputes;
    each distinct computation is stored once as a record.
    """
    return compute_fairness_slices(FairnessSpec(**settings)).to_dict()


def load_result(settings: dict[str, Any]) -> FairnessResult:
    return FairnessResult.from_dict(cached_fairness(settings))


def url_value(key: str, default: str) -> str:
    """A choice from the URL (``?key=value``), or ``default``."""
    return st.query_params.get(key, default)


def url_list(key: str, default: list[str]) -> list[str]:
    """A comma-separated choice from the URL, or ``default``."""
    value = st.query_params.get(key)
    return [part for part in value.split(",") if part] if value is not None else list(default)


def set_url(**values: str | list[str] | None) -> None:
    """Write choices into the URL so a copied link reproduces the view (None removes a key)."""
    for key, value in values.items():
        text = ",".join(value) if isinstance(value, list) else value
        if text is None:
            if key in st.query_params:
                del st.query_params[key]
        elif st.query_params.get(key) != text:
            st.query_params[key] = text

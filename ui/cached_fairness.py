"""The cached fairness analysis behind the /fairness page."""

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

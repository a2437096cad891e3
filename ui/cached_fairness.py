"""The cached fairness analysis behind the /fairness page, and its record."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import streamlit as st

from analysis.fairness import FairnessResult, FairnessSpec, compute_fairness_slices, store_fairness_record_once


@st.cache_data(show_spinner="Computing fairness slices and bootstrap intervals ...", max_entries=32)
def cached_fairness(settings: dict[str, Any]) -> dict[str, Any]:
    """``compute_fairness_slices`` for plain settings (spec keyword arguments), as its JSON dict.

    Cached by the settings, so moving the threshold slider or switching metrics never recomputes.
    Pure: storing the record is :func:`load_result`'s separate step.
    """
    return compute_fairness_slices(FairnessSpec(**settings)).to_dict()


def load_result(settings: dict[str, Any]) -> FairnessResult:
    """The analysis for ``settings``, with the id of its record.

    Each distinct analysis (model, revision, inputs, parameters) is stored once: a rerun, a
    restart or a cache eviction finds the record already there (the model-card page cites the
    latest fairness record of a model).
    """
    result = FairnessResult.from_dict(cached_fairness(settings))
    return replace(result, record_id=store_fairness_record_once(result))

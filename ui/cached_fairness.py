"""The cached fairness analysis behind the /fairness page, and its record."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import streamlit as st

from analysis.datasets import DatasetRole
from analysis.fairness import FairnessResult, FairnessSpec, compute_fairness_slices, store_fairness_record_once
from analysis.hashing import sha256_file
from analysis.records import RecordStore
from ui.admission import admitted
from ui.shared import get_registry


@st.cache_data(show_spinner="Computing fairness slices and bootstrap intervals ...", max_entries=32)
def cached_fairness(settings: dict[str, Any]) -> dict[str, Any]:
    """``compute_fairness_slices`` for plain settings (spec keyword arguments), as its JSON dict.

    Cached by the settings, so moving the threshold slider or switching metrics never recomputes.
    Pure: storing the record is :func:`load_result`'s separate step.
    """
    return compute_fairness_slices(FairnessSpec(**settings)).to_dict()


def stored_result(settings: dict[str, Any]) -> FairnessResult | None:
    """The stored record of exactly this analysis (model revision, data hash, parameters), or None.

    Found without computing anything: this is what a viewer sees, and what a writer sees at once.
    """
    spec = FairnessSpec(**settings)
    if spec.predictions is not None:
        model_id, revision, inputs = None, None, {"predictions": sha256_file(Path(spec.predictions))}
    else:
        model = get_registry().get(spec.model_id)
        data = model.dataset(DatasetRole.DATA)
        model_id, revision, inputs = model.model_id, model.current.revision, {"data": data.sha256 if data else ""}
    parameters = spec.parameters()
    for record in RecordStore().list(kind="fairness", model_id=model_id):
        if (
            record.model_id == model_id
            and record.revision == revision
            and dict(record.inputs) == inputs
            and dict(record.parameters) == parameters
        ):
            return replace(FairnessResult.from_dict(dict(record.result)), record_id=record.record_id)
    return None


def load_result(settings: dict[str, Any]) -> FairnessResult:
    """The analysis for ``settings``, with the id of its record.

    A stored analysis is read back; a new one is computed (writers only, through the admission
    gate; JobRefused otherwise) and stored once: a rerun, a restart or a cache eviction finds the
    record already there (the model-card page cites the latest fairness record of a model).
    """
    stored = stored_result(settings)
    if stored is not None:
        return stored
    with admitted("fairness", f"a fairness analysis of {settings.get('model_id') or 'a predictions file'}"):
        result = FairnessResult.from_dict(cached_fairness(settings))
    return replace(result, record_id=store_fairness_record_once(result))

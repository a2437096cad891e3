"""Explanations for the pages: the shared model per revision, and cached-or-computed results with progress."""

from __future__ import annotations

from typing import Any

import streamlit as st

from analysis.explain import AttributionResult, ExplanationSpec, compute_attributions, load_cached_attributions
from ui.admission import admitted
from ui.shared import get_registry


@st.cache_resource(max_entries=4)
def _loaded_model(model_id: str, revision: str) -> Any:
    """One Keras model per revision per server (inference only, shared by sessions)."""
    from analysis.models.loading import load_revision

    return load_revision(get_registry().resolve(model_id, revision))


def cached_attributions(spec: ExplanationSpec) -> AttributionResult | None:
    """The stored result for ``spec`` or None (reads the result store; no TensorFlow)."""
    return load_cached_attributions(spec, registry=get_registry())


def explain_with_progress(spec: ExplanationSpec, text: str) -> AttributionResult:
    """The stored result, or computed now under a progress bar (writers only, through the admission gate).

    A rerun or a closed tab stops the script at the next progress update; the computation then
    ends with an exception before anything is stored, so no partial result is ever cached.
    """
    cached = cached_attributions(spec)
    if cached is not None:
        return cached
    registry = get_registry()
    revision = registry.resolve(spec.model_id, spec.revision)
    label = f"a SHAP run on {len(spec.examples)} example(s) of {spec.model_id}"
    with admitted("shap", label):  # writers only, within the job caps (JobRefused otherwise)
        bar = st.progress(0.0, text=text)
        model = _loaded_model(spec.model_id, revision.revision)
        result = compute_attributions(
            spec,
            model=model,
            registry=registry,
            progress=lambda fraction, message: bar.progress(min(fraction, 1.0), text=message),
        )
    bar.empty()
    return result

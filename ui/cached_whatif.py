"""What-If for the pages: the cached view, and SHAP attributions of an edited datapoint (composed from explain).

``analysis.whatif`` and ``analysis.explain`` do not import each other; this module joins them. An
unedited datapoint is explained exactly as the /explain page does (same cache entry). An edited
one is appended to the data as one extra row and explained with the same background rows; the
result is stored under the explain engine's content key, which hashes the explained row's values,
so one edit is explained once per server.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import streamlit as st

from analysis.explain import AttributionResult, ExplanationSpec
from analysis.explain.engine import compute_explanation, resolve_explanation
from analysis.whatif import WhatIfResult, WhatIfSpec, run_whatif
from cache import NPZ
from ui.admission import admitted
from ui.cached_explain import _loaded_model, explain_with_progress
from ui.shared import get_registry


@st.cache_data(show_spinner="Predicting, searching counterfactuals, computing partial dependence ...", max_entries=64)
def _whatif(
    model_id: str, revision: str, example: int, edits: tuple[tuple[str, float], ...], **choices
) -> WhatIfResult:
    spec = WhatIfSpec(model_id=model_id, revision=revision, example=example, edits=dict(edits), **choices)
    return run_whatif(spec, model=_loaded_model(model_id, revision), registry=get_registry())


def load_whatif(spec: WhatIfSpec) -> WhatIfResult:
    """``run_whatif`` on the server's shared model, cached by the spec's values (checked first, uncached)."""
    revision = get_registry().resolve(spec.model_id, spec.revision).revision
    from analysis.whatif import resolve_whatif

    resolve_whatif(spec, get_registry())  # bad input fails here, before anything is cached or loaded
    return _whatif(
        spec.model_id,
        revision,
        spec.example,
        tuple(spec.edits.items()),
        distance=spec.distance.value,
        group_column=spec.group_column,
        other_group=spec.other_group,
        pd_feature=spec.pd_feature,
    )


def explain_datapoint(result: WhatIfResult) -> tuple[AttributionResult, int]:
    """SHAP attributions of the (edited) datapoint and its row in the result (writers compute; viewers read).

    Raises ``JobRefused`` (an AnalysisInputError) when a viewer asks for an edit nobody has explained yet.
    """
    spec = ExplanationSpec(model_id=result.model_id, examples=(result.example,), revision=result.revision)
    if not result.edits:
        return explain_with_progress(spec, "Explaining this datapoint ..."), result.example
    registry = get_registry()
    resolved = resolve_explanation(spec, registry)
    x = np.asarray(resolved.x)
    row = len(x)
    edited = replace(
        resolved,
        x=np.concatenate([x, result.edited[None].astype(x.dtype)]),
        examples=np.array([row], dtype=np.int64),
    )
    from analysis.paths import open_result_store

    store = open_result_store()
    try:
        stored = store.get(edited.key(), NPZ)
        cached = stored is not None
        if stored is None:
            with admitted("shap", f"a SHAP run on an edited datapoint of {result.model_id}"):
                model = _loaded_model(result.model_id, resolved.revision.revision)
                with st.spinner("Explaining the edited datapoint ..."):
                    stored = store.get_or_compute(
                        edited.key(), lambda: compute_explanation(edited, model=model).to_npz(), NPZ
                    ).value
    finally:
        store.close()
    return AttributionResult.from_npz(stored, cached=cached), row

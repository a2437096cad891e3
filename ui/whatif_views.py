"""The /whatif page's pieces: the URL binding, the feature editor and the side-by-side counterparts."""

from __future__ import annotations

from typing import Any

import numpy as np
import streamlit as st

from analysis.datasets import DatasetRole
from analysis.errors import AnalysisInputError
from analysis.models.registry import ModelRecord
from analysis.whatif import Distance, WhatIfResult, WhatIfSpec, format_edits, parse_edits
from analysis.whatif.spec import Counterpart
from ui.shared import get_registry
from visualizers.whatif import counterpart_table

PAGE = "ui/pages/whatif.py"


def spec_from_link(model_id: str) -> WhatIfSpec:
    """``?example=N&set=F:V,...&dist=l1|l2&group=COLUMN&other=VALUE&pd=FEATURE&rev=`` as a checked spec."""
    params = st.query_params
    text = params.get("example", "0")
    if not text.strip().isdecimal():
        raise AnalysisInputError(f"example {text!r} must be a row index of the data set (0, 1, 2, ...)")
    return WhatIfSpec(
        model_id=model_id,
        example=int(text),
        edits=parse_edits(params.get("set")),
        distance=params.get("dist", Distance.L2.value),
        group_column=params.get("group") or None,
        other_group=params.get("other") or None,
        pd_feature=params.get("pd") or None,
        revision=params.get("rev") or None,
    )


def nearest_good_view(model: ModelRecord) -> dict[str, Any]:
    """``st.page_link`` arguments for a bad link: this example unedited (a bad edit), example 0, or a tabular model."""
    example = st.query_params.get("example", "0")
    if not _is_tabular(model):
        tabular = next((m for m in get_registry().list() if _is_tabular(m)), None)
        if tabular is None:
            return {"page": "ui/pages/models.py", "label": "What-If needs a tabular model: go to Models"}
        return {
            "page": PAGE,
            "label": f"Open What-If on {tabular.model_id}",
            "query_params": {"model": tabular.model_id},
        }
    if "set" in st.query_params and example.isdecimal():
        params = {"model": model.model_id, "example": example}
    else:
        params, example = {"model": model.model_id}, "0"
    return {
        "page": PAGE,
        "label": f"Open example {example} unedited",
        "icon": ":material/undo:",
        "query_params": params,
    }


def _is_tabular(model: ModelRecord) -> bool:
    data = model.dataset(DatasetRole.DATA)
    return data is not None and len(data.x_shape) == 2


def link(result: WhatIfResult | None, model_id: str, **changes: str | None) -> dict[str, str]:
    """The current view's query parameters with ``changes`` (None drops a key)."""
    params = {key: st.query_params[key] for key in st.query_params}
    params["model"] = model_id
    params.update(changes)
    return {key: value for key, value in params.items() if value is not None}


def show_editor(result: WhatIfResult) -> None:
    """One number box per feature, seeded with the edited values; Apply writes ``?set=`` (the changed ones)."""
    with st.form("editor"):
        st.markdown(f"**Feature values of example {result.example}** (edited ones marked ✎)")
        chosen = {}
        for i, name in enumerate(result.feature_names):
            if i % 4 == 0:  # one row of four per line, so a narrow screen stacks them in order
                columns = st.columns(4)
            label = f"{name} ✎" if name in result.edits else name
            chosen[name] = columns[i % 4].number_input(
                label, value=float(result.edited[i]), format="%.6g", key=f"feature-{name}"
            )
        apply, reset = st.columns(2)
        applied = apply.form_submit_button("Apply edits", type="primary")
        cleared = reset.form_submit_button("Reset to the data set's values")
    if applied or cleared:
        edits = (
            {}
            if cleared
            else {
                name: value
                for i, (name, value) in enumerate(chosen.items())
                if not np.isclose(value, result.original[i], rtol=1e-7, atol=0.0)
            }
        )
        st.query_params["set"] = format_edits(edits)
        if not edits:
            del st.query_params["set"]
        st.rerun()


def show_counterpart(result: WhatIfResult, counterpart: Counterpart | None, model_id: str, *, what: str) -> None:
    """The counterpart's prediction, its distance, a link to open it, and the side-by-side diff."""
    if counterpart is None:
        st.info(f"No row of the data set has a predicted class other than {result.edited_class}.")
        return
    probability = counterpart.probabilities[-1] if len(counterpart.probabilities) == 2 else counterpart.probabilities
    facts = [f"predicted class **{counterpart.predicted}**"]
    if len(counterpart.probabilities) == 2:
        facts.append(f"P(class 1) = {probability:.3f}")
    if counterpart.index is not None:
        facts.insert(0, f"row **{counterpart.index}**")
        facts.append(f"{result.distance.value.upper()} distance **{counterpart.distance:.3f}** (standardized features)")
    else:
        facts.insert(0, f"this datapoint with {counterpart.column} = {counterpart.group}, predicted again")
    st.markdown(" · ".join(facts))
    if counterpart.index is not None:
        st.page_link(
            PAGE,
            label=f"Open row {counterpart.index}",
            icon=":material/open_in_new:",
            query_params=link(result, model_id, example=str(counterpart.index), set=None),
        )
    st.dataframe(counterpart_table(result, counterpart, name=what), hide_index=True, width="stretch")

"""Explanation panels for other pages: "why" on the Fairness page, attribution overlays on Microscope unit pages.

Each panel is one call from its page; both show a stored result at once and compute a missing
one only when asked (a button), with a progress bar.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import streamlit as st

from analysis.dataset_examples import DatasetExamplesResult
from analysis.explain import (
    EVERYONE_ELSE,
    ExplanationSpec,
    SliceComparisonSpec,
    comparison_explanation,
    comparison_from_attributions,
    slice_labels,
)
from analysis.unit_links import UnitLink
from ui.cached_explain import cached_attributions, explain_with_progress
from ui.shared import get_registry, user_errors
from visualizers.explain import attribution_overlay, plot_slice_difference
from visualizers.microscope import to_display_image

EXPLAIN_PAGE = "ui/pages/explain.py"
PER_GROUP = 200
UNIT_EXAMPLES = 5


def show_slice_why_panel(settings: Mapping[str, Any]) -> None:
    """Fairness page: which features drive the gap between two slices (mean SHAP of slice A minus slice B).

    ``settings`` are the fairness page's spec settings; the panel needs ``model_id`` and ``sensitive``.
    """
    st.subheader("Why: which features drive a gap")
    model_id = settings.get("model_id")
    if not model_id:
        st.caption("Attributions need a registered model (open the page with ?model=<id>), not a predictions file.")
        return
    sensitive = list(settings.get("sensitive") or ())
    if not sensitive:
        return
    columns = st.columns(3)
    column = columns[0].selectbox("Slice column", sensitive, key="why-column")
    with user_errors():
        values = sorted(set(slice_labels(model_id, column, registry=get_registry()).tolist()))
    group_a = columns[1].selectbox("Group", values, key="why-group-a")
    group_b = columns[2].selectbox("Compared with", [EVERYONE_ELSE, *(v for v in values if v != group_a)],
                                   key="why-group-b")
    with user_errors():
        spec = SliceComparisonSpec(model_id=model_id, column=column, group_a=group_a, per_group=PER_GROUP,
                                   group_b=None if group_b == EVERYONE_ELSE else group_b)
        explanation, rows_a = comparison_explanation(spec, registry=get_registry())
        result = cached_attributions(explanation)
    if result is None:
        st.caption(f"Explains up to {PER_GROUP} rows of each group (seeded) with SHAP; stored for the next visit.")
        if not st.button(f"Explain the gap between {column}={group_a} and {group_b}", key="why-run"):
            return
        with user_errors():
            result = explain_with_progress(explanation, "Explaining both groups…")
    comparison = comparison_from_attributions(spec, result, rows_a)
    st.plotly_chart(plot_slice_difference(comparison), width="stretch")
    st.caption(
        f"Mean output: {group_a} {comparison.mean_output_a:.3f}, {group_b} {comparison.mean_output_b:.3f}. "
        "Bars split that gap into per-feature parts (attributions share one background, so they add up to it)."
    )
    st.dataframe(comparison.to_frame(), hide_index=True)


def show_unit_attributions(link: UnitLink, examples: DatasetExamplesResult | None) -> None:
    """Microscope unit page: which pixels of the unit's strongest dataset examples made it fire (expected gradients)."""
    if examples is None or len(link.revision.summary.input_shape) != 3:
        return
    unit = examples.unit(link.unit)
    indices = tuple(index for index, _ in unit.top_mean[:UNIT_EXAMPLES])
    spec = ExplanationSpec(model_id=link.model.model_id, revision=link.revision.revision, examples=indices,
                           target=f"{link.layer.name}:{link.unit}")
    st.markdown("**Why these examples fire** (SHAP attributions of the unit's channel mean)")
    with user_errors():
        result = cached_attributions(spec)
    if result is None:
        if not st.button(f"Explain the {len(indices)} strongest examples", key="unit-attributions"):
            return
        with user_errors():
            result = explain_with_progress(spec, "Explaining the strongest examples…")
    columns = st.columns(len(indices))
    value_range = link.revision.summary.input_range
    for position, index in enumerate(result.examples.tolist()):
        image = to_display_image(result.inputs[position], value_range)
        columns[position].image(attribution_overlay(image, result.values[position]), width="stretch",
                                caption=f"#{index}: error {result.additivity_errors[position]:+.2g}")
        columns[position].page_link(EXPLAIN_PAGE, label="explain", query_params={
            "model": link.model.model_id, "example": str(index), "target": f"{link.layer.name}:{link.unit}"})
    worst = float(np.abs(result.additivity_errors).max())
    st.caption(f"Red: pixels that raised the unit, blue: lowered it. Largest additivity error {worst:.2g} "
               "(expected gradients are additive on average; see the explain docs).")

"""Explanation panels for other pages: "why" on the Fairness page, attribution overlays on Microscope unit pages.

Each panel is one call from its page; both show a stored result at once and compute a missing
one only when asked (a button), with a progress bar.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import streamlit as st

from analysis.errors import describe_choices
from analysis.explain import (
    EVERYONE_ELSE,
    ExplanationSpec,
    SliceComparisonSpec,
    comparison_explanation,
    comparison_from_attributions,
    slice_labels,
)
from analysis.microscope.dataset_examples import DatasetExamplesResult
from analysis.microscope.unit_links import UnitLink
from ui.access import can_write
from ui.cached_explain import cached_attributions, explain_with_progress
from ui.fairness_controls import set_url
from ui.shared import get_registry, user_errors
from visualizers.explain import attribution_overlay, plot_slice_difference
from visualizers.microscope import to_display_image

EXPLAIN_PAGE = "ui/pages/explain.py"
PER_GROUP = 200
UNIT_EXAMPLES = 5
WHY_PARAMS = ("why_column", "why_group", "why_vs")
BAD_WHY_COLUMN = "why_column {value!r} in the link is not a sensitive column of this view; choose {choices}"
BAD_WHY_GROUP = "why_group {value!r} in the link is not a value of column {column!r}; its values are {choices}"
BAD_WHY_VS = "why_vs {value!r} in the link is not a group to compare {group!r} with; choose {choices}"


def show_slice_why_panel(settings: Mapping[str, Any]) -> None:
    """Fairness page: which features drive the gap between two slices (mean SHAP of slice A minus slice B).

    ``settings`` are the fairness page's spec settings; the panel needs ``model_id`` and ``sensitive``.
    Its choices live in the URL (``?why_column=sex&why_group=F&why_vs=M``; a key is left out when its
    choice is the default: the first sensitive column, its first value, everyone else), so a link
    reopens the same comparison, shown at once when its explanation is stored.
    """
    st.subheader("Why: which features drive a gap")
    model_id = settings.get("model_id")
    sensitive = list(settings.get("sensitive") or ())
    if not model_id or not sensitive:
        set_url(**dict.fromkeys(WHY_PARAMS))  # nothing to choose: a stale choice must not resurface later
        if not model_id:
            st.caption("Attributions need a registered model (open the page with ?model=<id>), not a predictions file.")
        return
    columns = st.columns(3)
    column = columns[0].selectbox(
        "Slice column",
        sensitive,
        key="why-column",
        index=linked_index("why_column", "why-column", sensitive, BAD_WHY_COLUMN),
    )
    with user_errors():
        values = sorted(set(slice_labels(model_id, column, registry=get_registry()).tolist()))
    # A group in the link belongs to the link's column, and a comparison to the link's group: once
    # either is not the one shown (a bad value, or another choice), what depends on it starts afresh.
    follows_link = column == st.query_params.get("why_column", sensitive[0])
    group_a = columns[1].selectbox(
        "Group",
        values,
        key="why-group-a",
        index=linked_index("why_group", "why-group-a", values, BAD_WHY_GROUP, column=column) if follows_link else 0,
    )
    follows_link = follows_link and group_a == st.query_params.get("why_group", values[0] if values else None)
    others = [EVERYONE_ELSE, *(v for v in values if v != group_a)]
    group_b = columns[2].selectbox(
        "Compared with",
        others,
        key="why-group-b",
        index=linked_index("why_vs", "why-group-b", others, BAD_WHY_VS, group=group_a) if follows_link else 0,
    )
    set_url(
        why_column=None if column == sensitive[0] else column,
        why_group=None if not values or group_a == values[0] else group_a,
        why_vs=None if group_b == EVERYONE_ELSE else group_b,
    )
    with user_errors():
        spec = SliceComparisonSpec(
            model_id=model_id,
            column=column,
            group_a=group_a,
            per_group=PER_GROUP,
            group_b=None if group_b == EVERYONE_ELSE else group_b,
        )
        explanation, rows_a = comparison_explanation(spec, registry=get_registry())
        result = cached_attributions(explanation)
    if result is None:
        st.caption(f"Explains up to {PER_GROUP} rows of each group (seeded) with SHAP; stored for the next visit.")
        if not can_write() or not st.button(f"Explain the gap between {column}={group_a} and {group_b}", key="why-run"):
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


def linked_index(param: str, widget: str, options: list[str], message: str, **names: str) -> int:
    """The index of ``?param=`` in ``options``, to seed the widget keyed ``widget`` (0, the default, without one).

    The link seeds the widget when it first shows; a value that is not an option is shown with
    ``st.error`` (``message`` names it and the options) and the default is used, so the rest of
    the page still shows. Once the widget shows it owns the choice: a parameter another choice
    made stale (a removed sensitive column, a group now on the other side) falls back silently.
    """
    value = st.query_params.get(param)
    if value is None:
        return 0
    if value in options:
        return options.index(value)
    if widget not in st.session_state and options:
        text = message.format(value=value, choices=describe_choices(options), **names)
        st.error(f"{text}. Showing {options[0]!r} instead.", icon=":material/error:")
    return 0


def show_unit_attributions(link: UnitLink, examples: DatasetExamplesResult | None) -> None:
    """Microscope unit page: which pixels of the unit's strongest dataset examples made it fire (expected gradients)."""
    if examples is None or len(link.revision.summary.input_shape) != 3:
        return
    unit = examples.unit(link.unit)
    indices = tuple(index for index, _ in unit.top_mean[:UNIT_EXAMPLES])
    spec = ExplanationSpec(
        model_id=link.model.model_id,
        revision=link.revision.revision,
        examples=indices,
        target=f"{link.layer.name}:{link.unit}",
    )
    st.markdown("**Why these examples fire** (SHAP attributions of the unit's channel mean)")
    with user_errors():
        result = cached_attributions(spec)
    if result is None:
        if not can_write() or not st.button(f"Explain the {len(indices)} strongest examples", key="unit-attributions"):
            return
        with user_errors():
            result = explain_with_progress(spec, "Explaining the strongest examples…")
    columns = st.columns(len(indices))
    value_range = link.revision.summary.input_range
    for position, index in enumerate(result.examples.tolist()):
        image = to_display_image(result.inputs[position], value_range)
        columns[position].image(
            attribution_overlay(image, result.values[position]),
            width="stretch",
            caption=f"#{index}: error {result.additivity_errors[position]:+.2g}",
        )
        columns[position].page_link(
            EXPLAIN_PAGE,
            label="explain",
            query_params={
                "model": link.model.model_id,
                "example": str(index),
                "target": f"{link.layer.name}:{link.unit}",
            },
        )
    worst = float(np.abs(result.additivity_errors).max())
    st.caption(
        f"Red: pixels that raised the unit, blue: lowered it. Largest additivity error {worst:.2g} "
        "(expected gradients are additive on average; see the explain docs)."
    )

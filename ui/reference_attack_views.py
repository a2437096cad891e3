"""The /privacy page's section for reference-model attacks (LiRA, offset, RMIA) of one audit."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from analysis.privacy.result import MembershipAuditResult
from visualizers.privacy_reference import plot_reference_roc, reference_table


def show_reference_attacks(result: MembershipAuditResult) -> None:
    """Nothing for audits without reference attacks; else how the references were made, the
    comparison chart and table, what was left out, and the members the strongest attack exposes."""
    summary = result.reference
    if summary is None:
        return
    st.subheader("Reference-model attacks")
    made = (
        f"{summary.trained} trained now, {summary.from_cache} from the cache"
        if summary.source == "trained"
        else "outputs brought from elsewhere (--reference-outputs)"
    )
    recipe = f" Training recipe: {summary.recipe_text()}." if summary.source == "trained" and summary.recipe else ""
    st.caption(
        f"{summary.n_used} of {summary.n_references} reference models ({made}).{recipe} LiRA uses a "
        f"{'shared' if summary.fix_variance else 'per-example'} variance; RMIA a = {summary.rmia_a:g}, "
        f"gamma = {summary.rmia_gamma:g}. Intervals are 95% (Clopper-Pearson for TPR): with few members or "
        "non-members they are wide, and an FPR below 1 / non-members cannot be measured at all."
    )
    for name, reason in summary.left_out:
        st.warning(f"{name}: {reason}", icon=":material/warning:")
    st.plotly_chart(plot_reference_roc(result), key="reference-roc")
    st.table(reference_table(result), hide_index=True)
    if not result.reference_exposed:
        return
    st.markdown(f"**Most exposed members by {summary.exposed_by}** (highest score first)")
    names = result.class_names
    examples = result.reference_exposed
    if all(example.image_png for example in examples):
        for cell, example in zip(st.columns(min(6, len(examples))) * 100, examples, strict=False):
            label = names[example.label] if example.label < len(names) else str(example.label)
            cell.image(
                example.image_png, width=96, caption=f"#{example.index} · {label} · score {example.risk_score:.3g}"
            )
    else:
        st.table(
            pd.DataFrame(
                [
                    {
                        "Member (row)": f"#{e.index}",
                        "Stored label": names[e.label] if e.label < len(names) else str(e.label),
                        "Predicted": names[e.predicted] if e.predicted < len(names) else str(e.predicted),
                        "Loss": f"{e.loss:.3g}",
                        f"{summary.exposed_by} score": f"{e.risk_score:.3g}",
                    }
                    for e in examples
                ]
            ),
            hide_index=True,
        )

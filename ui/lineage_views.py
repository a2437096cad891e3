"""The lineage table (model file -> revision -> data sets -> records -> card) shown under audits and cards."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import streamlit as st

from analysis.model_card.lineage import LineageStep


def show_lineage(steps: Sequence[LineageStep]) -> None:
    """A compact table, one row per step, with its full sha256 (what `records show` and bundles print)."""
    if not steps:
        return
    st.subheader(
        "Lineage",
        help="Where this came from, each step pinned by its sha256: re-run a record with "
        "`python -m analysis records verify ID`, check the chain with `records check`.",
    )
    frame = pd.DataFrame(
        {
            "Step": [s.stage for s in steps],
            "Name": [s.name for s in steps],
            "sha256": [s.sha256 or "—" for s in steps],
            "Detail": [s.detail for s in steps],
        }
    )
    st.dataframe(frame, hide_index=True, width="stretch")

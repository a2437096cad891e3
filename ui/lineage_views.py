"""The lineage table (model file -> revision -> data sets -> records -> card) shown under audits and cards."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import streamlit as st

from analysis.model_card.lineage import LineageStep


def show_lineage(steps: Sequence[LineageStep]) -> None:
    """A compact table, one row per step, with its full sha256 (what `records show` and bundles print),
    in groups of 16 digits."""
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
            "sha256": [_grouped(s.sha256) if s.sha256 else "—" for s in steps],
            "Detail": [s.detail for s in steps],
        }
    )
    st.table(frame, hide_index=True)  # wraps its cells, so every hash shows in full at any width


def _grouped(sha256: str) -> str:
    """A hash in groups of 16 hex digits (a key fingerprint's layout), so the table can wrap it."""
    return " ".join(sha256[i : i + 16] for i in range(0, len(sha256), 16))

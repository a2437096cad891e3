"""What the /card page shows besides the form: the records a card may cite, with their settings."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from analysis.model_card.candidates import DEFAULT_RULE, CardCandidate
from analysis.records import AnalysisRecord


def show_candidates(candidates: list[CardCandidate], chosen: list[AnalysisRecord], *, pinned: bool) -> None:
    """The model's fairness and privacy records as a table: kind, date, settings, standard or exploratory, cited."""
    st.subheader("Evidence")
    cited = {record.record_id for record in chosen}
    if pinned:
        st.caption("The link pins the records this card cites (`?records=`). " + DEFAULT_RULE)
    else:
        st.caption(DEFAULT_RULE + " Pin other records below; the link keeps them.")
    if not candidates:
        st.caption(
            "No fairness or privacy records of this model yet: run `python -m analysis fairness --model ...` "
            "or `privacy --model ...`, or use the Fairness and Privacy pages."
        )
        return
    st.table(
        pd.DataFrame(
            [
                {
                    "Cited": "yes" if c.record.record_id in cited else "",
                    "Record": c.record.record_id,
                    "Kind": c.record.kind,
                    "Made": c.record.created_at.replace("T", " ")[:16] + " UTC",
                    "Revision": "this one" if c.same_revision else f"other ({(c.record.revision or '?')[:12]})",
                    "Settings": c.summary(),
                    "Standard settings": "yes" if c.standard else "no: " + "; ".join(c.departures),
                }
                for c in candidates
            ]
        ),
        hide_index=True,
    )

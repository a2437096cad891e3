"""What the /card page shows besides the form: the records a card may cite, with their settings."""

from __future__ import annotations

import base64
import hashlib
import re

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


# Sizes the preview's frame to the card's full height (the card page shows it whole, no inner scrolling).
_FIT_FRAME = (
    "(function(){const f=window.frameElement;if(!f)return;"
    "const fit=()=>{f.style.height=document.documentElement.scrollHeight+'px';};"
    "fit();window.addEventListener('load',fit);new ResizeObserver(fit).observe(document.body);})();"
)


def preview_html(card_html: str) -> str:
    """The HTML card for the in-page preview: the same document plus one script that fits its frame to it.

    The card's Content-Security-Policy forbids scripts; the preview allows exactly this one, by its
    hash, so nothing else in the card could run. The downloads are the card unchanged.
    """
    digest = base64.b64encode(hashlib.sha256(_FIT_FRAME.encode()).digest()).decode()
    html = re.sub(
        r'(<meta http-equiv="Content-Security-Policy" content="[^"]*)"',
        lambda match: f"{match.group(1)}; script-src 'sha256-{digest}'\"",
        card_html,
        count=1,
    )
    return html.replace("</body>", f"<script>{_FIT_FRAME}</script></body>", 1)

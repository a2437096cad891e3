"""/privacy?compare=ID,ID,...: vulnerability against test accuracy and epoch across stored audits.

``compare=run:NAME`` compares the audits tagged with a run (the audit callback, the demo variants).
"""

from __future__ import annotations

import streamlit as st

from analysis.errors import AnalysisInputError
from analysis.privacy.report import PrivacyReport, compute_privacy_report
from analysis.privacy.report_records import load_report_audits, parse_ids
from ui.shared import user_errors
from visualizers.privacy_report import METRICS, plot_by_epochs, plot_privacy_vs_accuracy

RUN_PREFIX = "run:"


@st.cache_data(show_spinner=False, ttl=60)
def cached_report(compare: str) -> PrivacyReport:
    """The report for a ``compare=`` value (stored records only change by new audits: a short ttl)."""
    if compare.startswith(RUN_PREFIX):
        records, guarantees = load_report_audits(run=compare[len(RUN_PREFIX) :].strip())
    else:
        records, guarantees = load_report_audits(audits=parse_ids(compare))
    return compute_privacy_report(records, guarantees=guarantees)


def audit_url(record_id: str) -> str:
    return f"/privacy?audit={record_id}"


def show_comparison(compare: str) -> None:
    st.subheader("Privacy against utility")
    with user_errors():
        try:
            report = cached_report(compare)
        except AnalysisInputError:
            st.page_link("ui/pages/privacy.py", label="All privacy audits", icon=":material/arrow_back:")
            raise
    st.caption(
        f"{len(report.points)} audits of one task ("
        + ", ".join(f"{k}: {v}" for k, v in report.task.items())
        + "). Each point is one audit's best attack over its slices; click a label to open the audit. "
        "The frontier are the variants no other variant beats on both test accuracy and best AUC."
    )
    metric = st.radio(
        "Vulnerability",
        list(METRICS),
        format_func=lambda key: METRICS[key][0],
        horizontal=True,
        key="compare_metric",
    )
    st.plotly_chart(plot_privacy_vs_accuracy(report, metric=metric, audit_url=audit_url), use_container_width=True)
    if any(p.epoch is not None for p in report.points):
        st.plotly_chart(plot_by_epochs(report, metric=metric, audit_url=audit_url), use_container_width=True)
    frame = report.to_frame()
    frame["audit"] = [audit_url(p.record_id) for p in report.points]
    first = ["variant", "audit", "frontier"]  # the link and the frontier mark stay visible on a narrow screen
    frame = frame[first + [c for c in frame.columns if c not in first]]
    st.dataframe(
        frame,
        hide_index=True,
        column_config={
            "audit": st.column_config.LinkColumn("audit", display_text=r"audit=(.*)"),
            "test accuracy": st.column_config.NumberColumn(format="%.3f"),
            "best AUC": st.column_config.NumberColumn(format="%.3f"),
            "attacker advantage": st.column_config.NumberColumn(format="%.3f"),
            "TPR@1% FPR": st.column_config.NumberColumn(format="%.3f"),
            "TPR@0.1% FPR": st.column_config.NumberColumn(format="%.4f"),
            "epsilon (DP-SGD)": st.column_config.NumberColumn(format="%.3g"),
            "epsilon lower bound (audit)": st.column_config.NumberColumn(format="%.3g"),
        },
    )
    command = f"--run {compare[len(RUN_PREFIX) :]}" if compare.startswith(RUN_PREFIX) else f"--audits {compare}"
    st.caption(
        "Epsilon (DP-SGD) is the accountant's guarantee for the training run (an upper bound on what any attack "
        "can achieve); the lower bound is what the audit's attacks demonstrate. Same view from the command line: "
        f"`python -m analysis privacy-report {command}`."
    )

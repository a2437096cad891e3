"""Privacy-audit charts: ROC curves on log-log axes, loss distributions, AUC per slice.

Pure functions of a :class:`analysis.privacy.result.MembershipAuditResult`; no I/O, no analysis.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from analysis.privacy.result import AttackRow, MembershipAuditResult

CHANCE_COLOR = "#6b7280"
MEMBER_COLOR = "#dc2626"
NONMEMBER_COLOR = "#2563eb"


def plot_roc_loglog(result: MembershipAuditResult, *, rows: list[AttackRow] | None = None) -> go.Figure:
    """ROC curves of ``rows`` (default :meth:`~MembershipAuditResult.rows_to_plot`) on log-log axes.

    Log axes show the low-FPR region auditors care about (Carlini et al. 2022). FPR 0 cannot
    be drawn on a log axis; curves start at the smallest FPR the data can express
    (``1 / n_nonmembers``), and TPR 0 is drawn at that floor. The dashed diagonal is chance
    (TPR = FPR); dotted verticals mark the reported FPRs.
    """
    rows = result.rows_to_plot() if rows is None else rows
    floor = 1.0 / max(result.n_nonmembers, 1)
    figure = go.Figure()
    for row in rows:
        keep = row.roc_fpr > 0
        label = f"{row.attack.value} · {row.slice.label(result.class_names)} (AUC {row.auc:.3f})"
        figure.add_trace(
            go.Scatter(
                x=row.roc_fpr[keep],
                y=np.maximum(row.roc_tpr[keep], floor),
                mode="lines",
                line_shape="hv",
                name=label,
                hovertemplate="FPR %{x:.4g}<br>TPR %{y:.4g}<extra>" + label + "</extra>",
            )
        )
    figure.add_trace(
        go.Scatter(
            x=[floor, 1.0],
            y=[floor, 1.0],
            mode="lines",
            name="chance",
            line={"dash": "dash", "color": CHANCE_COLOR},
            hoverinfo="skip",
        )
    )
    for fpr in sorted({f for row in result.rows for f in row.tpr_at_fpr}):  # the FPRs the audit reports
        if fpr >= floor:
            figure.add_vline(
                x=fpr,
                line={"dash": "dot", "color": CHANCE_COLOR, "width": 1},
                annotation_text=f"{fpr * 100:g}% FPR",
                annotation_position="top left",
            )
    figure.update_xaxes(type="log", range=[np.log10(floor), 0], title="false positive rate")
    figure.update_yaxes(type="log", range=[np.log10(floor), 0], title="true positive rate")
    figure.update_layout(title="ROC curves (log-log)", legend={"font": {"size": 10}}, margin={"t": 50})
    return figure


def plot_loss_distributions(result: MembershipAuditResult) -> go.Figure:
    """Member and non-member loss histograms (fractions of each side) on a log loss axis."""
    histogram = result.loss_histogram
    centers = np.sqrt(histogram.edges[:-1] * histogram.edges[1:])  # geometric: the middle on a log axis
    figure = go.Figure()
    for name, values, color in (
        ("members", histogram.members, MEMBER_COLOR),
        ("non-members", histogram.nonmembers, NONMEMBER_COLOR),
    ):
        figure.add_trace(
            go.Scatter(
                x=centers,
                y=values,
                name=name,
                mode="lines",
                line_shape="hvh",
                fill="tozeroy",
                line={"color": color},
                opacity=0.6,
                hovertemplate="loss ≈ %{x:.3g}<br>%{y:.1%} of " + name + "<extra></extra>",
            )
        )
    figure.update_xaxes(type="log", title="per-example loss (cross-entropy)")
    figure.update_yaxes(title="fraction of side", tickformat=".0%")
    figure.update_layout(title="Loss distributions: members vs non-members", margin={"t": 50})
    return figure


def plot_slice_auc(result: MembershipAuditResult) -> go.Figure:
    """The best attack's AUC per slice, worst slice on top; small slices are drawn faded."""
    best: dict[str, AttackRow] = {}
    for row in result.rows:
        label = row.slice.label(result.class_names)
        if label not in best or row.auc > best[label].auc:
            best[label] = row
    ordered = sorted(best.items(), key=lambda item: item[1].auc)
    figure = go.Figure(
        go.Bar(
            x=[row.auc for _, row in ordered],
            y=[label for label, _ in ordered],
            orientation="h",
            marker={"color": MEMBER_COLOR, "opacity": [0.35 if row.small else 0.9 for _, row in ordered]},
            hovertext=[
                f"{row.attack.value}: AUC {row.auc:.3f}, {row.n_members} members / {row.n_nonmembers} "
                f"non-members" + (" (small slice)" if row.small else "")
                for _, row in ordered
            ],
            hoverinfo="text",
        )
    )
    figure.add_vline(x=0.5, line={"dash": "dash", "color": CHANCE_COLOR}, annotation_text="chance")
    figure.update_xaxes(range=[min(0.4, *(row.auc for _, row in ordered)) if ordered else 0.4, 1.0], title="AUC")
    figure.update_layout(
        title="Best attack's AUC per slice", height=max(300, 24 * len(ordered) + 120), margin={"t": 50}
    )
    return figure

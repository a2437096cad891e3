"""Privacy-audit charts: ROC curves on log-log axes, loss distributions, AUC per slice.

Pure functions of a :class:`analysis.privacy.result.MembershipAuditResult`; no I/O, no analysis.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from analysis.privacy.reliability import MIN_EXAMPLES_PER_SIDE, REPORTED_FPRS, format_fpr, min_nonmembers_for_fpr
from analysis.privacy.result import AttackRow, MembershipAuditResult
from visualizers.style import (
    MEMBER,
    NONMEMBER,
    REFERENCE_LINE,
    add_legend_entries,
    finish_layout,
    log_log_roc_axes,
    number_text,
    percent_text,
    wrap_label,
)

CHANCE_COLOR = "#6b7280"
MEMBER_COLOR = MEMBER
NONMEMBER_COLOR = NONMEMBER
SMALL_SLICE_COLOR = "#fca5a5"


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
        label = f"{row.attack.value} attack · {row.slice.label(result.class_names)} (AUC {number_text(row.auc)})"
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
            name="chance (a coin flip: TPR = FPR)",
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
    log_log_roc_axes(figure, floor)
    finish_layout(
        figure,
        title="How many members an attack finds (TPR) at few false alarms (FPR)",
        height=560 + 12 * len(rows),
        left=60,
    )
    figure.update_layout(margin={"b": 100 + 12 * len(rows)})
    return figure


def plot_loss_distributions(result: MembershipAuditResult) -> go.Figure:
    """Member and non-member loss histograms (fractions of each side) on a log loss axis."""
    histogram = result.loss_histogram
    centers = np.sqrt(histogram.edges[:-1] * histogram.edges[1:])  # geometric: the middle on a log axis
    figure = go.Figure()
    for name, values, color in (
        ("members (in the training data)", histogram.members, MEMBER_COLOR),
        ("non-members (held out)", histogram.nonmembers, NONMEMBER_COLOR),
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
    figure.update_xaxes(type="log", title="per-example loss (cross-entropy, log)")
    figure.update_yaxes(title="share of each side", tickformat=".0%")
    finish_layout(
        figure, title="Loss of members (training data) and non-members: apart means leaky", height=420, left=60
    )
    return figure


def best_rows(result: MembershipAuditResult) -> list[AttackRow]:
    """The strongest attack's row per slice (highest AUC), worst slice first."""
    best: dict[str, AttackRow] = {}
    for row in result.rows:
        label = row.slice.label(result.class_names)
        if label not in best or row.auc > best[label].auc:
            best[label] = row
    return sorted(best.values(), key=lambda row: -row.auc)


def plot_slice_auc(result: MembershipAuditResult) -> go.Figure:
    """The best attack's AUC per slice, worst slice on top, on an axis from 0 to 1 with chance (0.5) drawn.

    Slices with fewer than :data:`MIN_EXAMPLES_PER_SIDE` members or non-members are pale (the
    legend says so); whiskers are the AUC's interval where the audit stores one.
    """
    ordered = best_rows(result)[::-1]  # plotly draws the first bar at the bottom
    intervals = [getattr(row, "auc_ci", None) for row in ordered]
    has_intervals = any(ci is not None for ci in intervals)
    figure = go.Figure(
        go.Bar(
            x=[row.auc for row in ordered],
            y=[wrap_label(row.slice.label(result.class_names), 28) for row in ordered],
            orientation="h",
            marker={"color": [SMALL_SLICE_COLOR if row.small else MEMBER_COLOR for row in ordered]},
            error_x={
                "type": "data",
                "symmetric": False,
                "array": [0.0 if ci is None else ci[1] - row.auc for ci, row in zip(intervals, ordered, strict=True)],
                "arrayminus": [
                    0.0 if ci is None else row.auc - ci[0] for ci, row in zip(intervals, ordered, strict=True)
                ],
                "visible": has_intervals,
                "color": REFERENCE_LINE,
            },
            text=[number_text(row.auc) for row in ordered],
            textposition="outside",
            cliponaxis=False,
            hovertext=[
                f"{row.attack.value}: AUC {number_text(row.auc)}, {row.n_members} members / {row.n_nonmembers} "
                f"non-members" + (" (small slice)" if row.small else "")
                for row in ordered
            ],
            hoverinfo="text",
            showlegend=False,
        )
    )
    figure.add_vline(x=0.5, line={"dash": "dash", "color": CHANCE_COLOR})
    entries = [(MEMBER_COLOR, "AUC of the strongest attack on the slice")]
    if any(row.small for row in ordered):
        entries.append((SMALL_SLICE_COLOR, f"small slice (under {MIN_EXAMPLES_PER_SIDE} per side): unreliable"))
    add_legend_entries(figure, entries)
    add_legend_entries(figure, [(CHANCE_COLOR, "chance: AUC 0.5 (dashed)")], symbol="line-ns-open")
    if has_intervals:
        add_legend_entries(figure, [(REFERENCE_LINE, "whiskers: 95% interval")], symbol="line-ew-open")
    figure.update_xaxes(range=[0, 1.08], title="attack AUC (0.5 = chance, 1 = every member found)", dtick=0.1)
    finish_layout(
        figure,
        title="How well the strongest attack tells members apart, per slice",
        height=160 + 30 * len(ordered),
        left=10,
    )
    figure.update_yaxes(automargin=True)
    return figure


def audit_table(result: MembershipAuditResult, rows: list[AttackRow] | None = None) -> pd.DataFrame:
    """An audit's rows as a readable table (worst first): human column names, three significant digits,
    and for a TPR that cannot be reported an em dash with the reason (too few non-members in the slice)."""
    rows = best_rows(result) if rows is None else rows
    records = []
    for row in rows:
        auc_ci = getattr(row, "auc_ci", None)
        record = {
            "Slice": row.slice.label(result.class_names),
            "Attack": row.attack.value,
            "Members / non-members": f"{row.n_members:,} / {row.n_nonmembers:,}",
            "AUC": number_text(row.auc) + (f" [{number_text(auc_ci[0])}, {number_text(auc_ci[1])}]" if auc_ci else ""),
            "Attacker advantage": number_text(row.attacker_advantage),
        }
        for fpr in REPORTED_FPRS:
            tpr = row.tpr_at_fpr.get(fpr)
            ci = getattr(row, "tpr_ci", {}).get(fpr)
            if tpr is None:
                needed = min_nonmembers_for_fpr(fpr)
                text = f"— (needs {needed:,} non-members; the slice has {row.n_nonmembers:,})"
            else:
                text = percent_text(tpr) + (f" [{percent_text(ci[0])}, {percent_text(ci[1])}]" if ci else "")
            record[f"Members found at {format_fpr(fpr)} false positives"] = text
        records.append(record)
    return pd.DataFrame.from_records(records)

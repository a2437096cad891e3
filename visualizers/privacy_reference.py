"""Reference-attack charts: LiRA and RMIA against the best classic attack, on log-log ROC axes,
and their TPR at the reported FPRs with Clopper-Pearson intervals.

Pure functions of a :class:`analysis.privacy.result.MembershipAuditResult`; no I/O, no analysis.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from analysis.privacy.reliability import REPORTED_FPRS, format_fpr
from analysis.privacy.result import AttackRow, MembershipAuditResult
from analysis.privacy.slicing import SliceKind
from visualizers.style import finish_layout, log_log_roc_axes, number_text, percent_text

CHANCE_COLOR = "#6b7280"
CLASSIC_COLOR = "#6b7280"
REFERENCE_COLORS = {
    "lira": "#b91c1c",
    "lira-offline": "#f97316",
    "offset": "#a16207",
    "rmia": "#1d4ed8",
    "rmia-offline": "#0891b2",
}


def reference_rows(result: MembershipAuditResult) -> list[AttackRow]:
    """The reference attacks' rows (entire data set), in the order they were asked for."""
    return [row for row in result.rows if row.attack.needs_references and row.slice.kind is SliceKind.ENTIRE]


def best_classic_row(result: MembershipAuditResult) -> AttackRow | None:
    """The classic attack on the entire data set with the highest TPR at 1% FPR (then AUC)."""
    rows = [row for row in result.rows if not row.attack.needs_references and row.slice.kind is SliceKind.ENTIRE]
    return max(rows, key=lambda r: (r.tpr_at_fpr.get(0.01) or 0.0, r.auc)) if rows else None


def plot_reference_roc(result: MembershipAuditResult) -> go.Figure:
    """Log-log ROC of every reference attack and the best classic attack (grey), with chance dashed.

    Each reported FPR gets a marker with its Clopper-Pearson 95% interval as a whisker, so a TPR
    resting on a handful of members shows as the wide interval it is.
    """
    floor = 1.0 / max(result.n_nonmembers, 1)
    figure = go.Figure()
    classic = best_classic_row(result)
    rows = ([classic] if classic is not None else []) + reference_rows(result)
    for row in rows:
        color = REFERENCE_COLORS.get(row.attack.value, CLASSIC_COLOR)
        kind = "reference" if row.attack.needs_references else "best classic"
        label = f"{row.attack.value} ({kind}; AUC {number_text(row.auc)})"
        keep = row.roc_fpr > 0
        figure.add_trace(
            go.Scatter(
                x=row.roc_fpr[keep],
                y=np.maximum(row.roc_tpr[keep], floor),
                mode="lines",
                line_shape="hv",
                line={
                    "color": color,
                    "width": 2.5 if row.attack.needs_references else 2,
                    "dash": None if row.attack.needs_references else "dashdot",
                },
                name=label,
                legendgroup=row.attack.value,
                hovertemplate="FPR %{x:.4g}<br>TPR %{y:.4g}<extra>" + label + "</extra>",
            )
        )
        points = [(f, row.tpr_at_fpr.get(f), row.tpr_ci.get(f)) for f in REPORTED_FPRS]
        points = [(f, t, ci) for f, t, ci in points if t is not None and ci is not None]
        if points:
            tprs = np.array([max(t, floor) for _, t, _ in points])
            figure.add_trace(
                go.Scatter(
                    x=[f for f, _, _ in points],
                    y=tprs,
                    mode="markers",
                    marker={"color": color, "size": 9},
                    error_y={
                        "type": "data",
                        "symmetric": False,
                        "array": [max(ci[1], floor) - y for (_, _, ci), y in zip(points, tprs, strict=True)],
                        "arrayminus": [y - max(ci[0], floor) for (_, _, ci), y in zip(points, tprs, strict=True)],
                        "color": color,
                    },
                    legendgroup=row.attack.value,
                    showlegend=False,
                    hovertemplate="TPR %{y:.3g} at FPR %{x:g} (95% interval in the whisker)<extra>"
                    + row.attack.value
                    + "</extra>",
                )
            )
    figure.add_trace(
        go.Scatter(
            x=[floor, 1.0],
            y=[floor, 1.0],
            mode="lines",
            name="chance (TPR = FPR)",
            line={"dash": "dash", "color": CHANCE_COLOR, "width": 1},
            hoverinfo="skip",
        )
    )
    log_log_roc_axes(figure, floor)
    finish_layout(
        figure,
        title="Reference attacks vs the best classic one",
        height=560 + 14 * len(rows),
        left=60,
    )
    return figure


def reference_table(result: MembershipAuditResult) -> pd.DataFrame:
    """One row per reference attack and the best classic attack: AUC and TPR at each reported FPR
    with its Clopper-Pearson interval, and the ratio to the best classic attack's TPR."""
    classic = best_classic_row(result)
    rows = ([classic] if classic is not None else []) + reference_rows(result)
    records = []
    for row in rows:
        record = {
            "Attack": row.attack.value + ("" if row.attack.needs_references else " (best classic)"),
            "AUC": number_text(row.auc)
            + ("" if row.auc_ci is None else f" ({number_text(row.auc_ci[0])}–{number_text(row.auc_ci[1])})"),
        }
        for fpr in REPORTED_FPRS:
            tpr, ci = row.tpr_at_fpr.get(fpr), row.tpr_ci.get(fpr)
            record[f"TPR @ {format_fpr(fpr)} FPR (95% interval)"] = (
                "not measurable"
                if tpr is None
                else percent_text(tpr) + ("" if ci is None else f" ({percent_text(ci[0])}–{percent_text(ci[1])})")
            )
            base = None if classic is None else classic.tpr_at_fpr.get(fpr)
            record[f"× best classic @ {format_fpr(fpr)}"] = (
                "—" if row is classic or tpr is None or not base else f"{tpr / base:.3g}×"
            )
        records.append(record)
    return pd.DataFrame.from_records(records)

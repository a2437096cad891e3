"""The reference attacks' section of the HTML report: how the references were made, TPR at the
reported FPRs with Clopper-Pearson intervals against the best classic attack, and their log-log ROC.

Drawn with matplotlib as inline SVG, like the rest of :mod:`analysis.privacy.report_html`.
"""

from __future__ import annotations

import base64
from html import escape

import numpy as np

from analysis.privacy.reliability import REPORTED_FPRS, format_fpr
from analysis.privacy.result import AttackRow, MembershipAuditResult
from analysis.privacy.slicing import SliceKind


def reference_section(result: MembershipAuditResult) -> str:
    """HTML for the reference attacks, or ``""`` when the audit ran none."""
    summary = result.reference
    if summary is None:
        return ""
    from analysis.static_figures import svg_markup

    classic = best_classic_row(result)
    rows = ([classic] if classic else []) + [r for r in result.rows if r.attack.needs_references and _entire(r)]
    made = (
        f"{summary.n_used} of {summary.n_references} reference models used ({summary.source}"
        + (f"; {summary.trained} trained, {summary.from_cache} from the cache" if summary.source == "trained" else "")
        + f"); LiRA variance {'shared' if summary.fix_variance else 'per example'}; RMIA a={summary.rmia_a:g}, "
        f"gamma={summary.rmia_gamma:g}."
        + (f" Training recipe: {summary.recipe_text()}." if summary.source == "trained" and summary.recipe else "")
    )
    left = "".join(f"<li>{escape(name)}: {escape(reason)}</li>" for name, reason in summary.left_out)
    head = (
        "<tr><th>Attack</th><th>AUC (95% interval)</th>"
        + "".join(
            f"<th>TPR at {format_fpr(f)} FPR (95% Clopper-Pearson)</th><th>x best classic</th>" for f in REPORTED_FPRS
        )
        + "</tr>"
    )
    body = ""
    for row in rows:
        cells = [row.attack.value + ("" if row.attack.needs_references else " (best classic)")]
        cells.append(_value(row.auc, row.auc_ci, percent=False))
        for fpr in REPORTED_FPRS:
            tpr = row.tpr_at_fpr.get(fpr)
            cells.append("not measurable" if tpr is None else _value(tpr, row.tpr_ci.get(fpr), percent=True))
            base = None if classic is None else classic.tpr_at_fpr.get(fpr)
            cells.append("-" if row is classic or tpr is None or not base else f"{tpr / base:.3g}x")
        body += "<tr>" + "".join(f"<td>{escape(c)}</td>" for c in cells) + "</tr>"
    exposed = "".join(
        "<figure>"
        + (
            f"<img alt='member {e.index}' src='data:image/png;base64,{base64.b64encode(e.image_png).decode()}'><br>"
            if e.image_png
            else ""
        )
        + escape(f"#{e.index} label {e.label} score {e.risk_score:.3g}")
        + "</figure>"
        for e in result.reference_exposed
    )
    return "\n".join(
        [
            "<h2>Reference-model attacks (LiRA, offset, RMIA)</h2>",
            f"<p>{escape(made)}</p>",
            f"<p>Left out:</p><ul>{left}</ul>" if left else "",
            f"<table>{head}{body}</table>",
            svg_markup(_roc_figure(result, rows), title="Reference attacks against the best classic attack (log-log)"),
            (
                f"<h2>Most exposed members by {escape(summary.exposed_by or '')}</h2>" + exposed
                if result.reference_exposed
                else ""
            ),
        ]
    )


def best_classic_row(result: MembershipAuditResult) -> AttackRow | None:
    rows = [r for r in result.rows if not r.attack.needs_references and _entire(r)]
    return max(rows, key=lambda r: (r.tpr_at_fpr.get(0.01) or 0.0, r.auc)) if rows else None


def _entire(row: AttackRow) -> bool:
    return row.slice.kind is SliceKind.ENTIRE


def _value(value: float, interval: tuple[float, float] | None, *, percent: bool) -> str:
    text = (lambda v: f"{v:.2%}") if percent else (lambda v: f"{v:.3f}")
    return text(value) + ("" if interval is None else f" ({text(interval[0])}-{text(interval[1])})")


def _roc_figure(result: MembershipAuditResult, rows: list[AttackRow]):  # -> matplotlib Figure
    from matplotlib.figure import Figure

    figure = Figure(figsize=(5.2, 4.2))
    axes = figure.add_subplot()
    floor = 1.0 / max(result.n_nonmembers, 1)
    for row in rows:
        keep = row.roc_fpr > 0
        style = "-" if row.attack.needs_references else "-."
        line = axes.step(
            row.roc_fpr[keep],
            np.maximum(row.roc_tpr[keep], floor),
            style,
            where="post",
            label=f"{row.attack.value} (AUC {row.auc:.3f})",
        )[0]
        for fpr in REPORTED_FPRS:
            tpr, ci = row.tpr_at_fpr.get(fpr), row.tpr_ci.get(fpr)
            if tpr is not None and ci is not None:
                y = max(tpr, floor)
                axes.errorbar(
                    [fpr],
                    [y],
                    yerr=[[y - max(ci[0], floor)], [max(ci[1], floor) - y]],
                    fmt="o",
                    color=line.get_color(),
                    markersize=4,
                    capsize=3,
                )
    axes.plot([floor, 1], [floor, 1], color="grey", linestyle="--", label="chance")
    axes.set(
        xscale="log",
        yscale="log",
        xlabel="false positive rate",
        ylabel="true positive rate",
        xlim=(floor, 1),
        ylim=(floor, 1),
        title="Reference attacks vs best classic",
    )
    axes.legend(fontsize=6)
    return figure

"""A self-contained HTML report of a stored audit: one file, no scripts, no network.

Charts are inline SVG drawn with matplotlib (``analysis/`` may not import the plotly
visualizers, and an archived audit report should not need 4.6 MB of JavaScript); the
exposed examples' images are inline PNG. The interactive versions live on the /privacy page.
"""

from __future__ import annotations

import base64
from html import escape

import numpy as np
import pandas as pd

from analysis.privacy.reference_report import reference_section
from analysis.privacy.reliability import MIN_EXAMPLES_PER_SIDE, REPORTED_FPRS, format_fpr, min_nonmembers_for_fpr
from analysis.privacy.result import MembershipAuditResult
from analysis.records import AnalysisRecord
from analysis.static_figures import svg_markup

_STYLE = """
body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:1100px;color:#222}
table{border-collapse:collapse;font-size:.85rem;margin:.5rem 0 1.5rem}
td,th{border:1px solid #ccc;padding:.25rem .5rem;text-align:right}td:first-child,th:first-child{text-align:left}
.verdict{padding:1rem;border-radius:.5rem;font-weight:600}
.high{background:#fde2e1}.moderate{background:#fff4d6}.low{background:#e3f4e4}
.charts{display:flex;gap:1rem;flex-wrap:wrap}.note{color:#666;font-size:.8rem}
figure{display:inline-block;margin:.3rem;text-align:center;font-size:.75rem}
figure img{width:96px;image-rendering:pixelated}
"""


def render_html_report(record: AnalysisRecord, result: MembershipAuditResult) -> str:
    """The report of ``record`` (whose result is ``result``) as one HTML document."""
    level, sentence = result.verdict()
    summary = result.summary()
    title = f"Membership-inference audit {record.record_id}"
    parts = [
        f"<!doctype html><html><head><meta charset='utf-8'><title>{escape(title)}</title>",
        f"<style>{_STYLE}</style></head><body><h1>{escape(title)}</h1>",
        _table(
            [
                ("Model", result.model_id or "(precomputed outputs)"),
                ("Revision", result.revision or "-"),
                ("Created", record.created_at),
                ("Seed", result.seed),
                ("Attacks", ", ".join(a.value for a in result.attacks)),
                ("Slices", ", ".join(["entire data set", *result.slices])),
                ("Members / non-members", f"{result.n_members} / {result.n_nonmembers}"),
            ]
        ),
        f"<p class='verdict {level.value}'>{escape(sentence)}</p>",
        "<h2>Model</h2>",
        _table(
            [
                ("Train (member) accuracy", _fmt(result.train_accuracy)),
                ("Test (non-member) accuracy", _fmt(result.test_accuracy)),
                ("Mean member loss", _fmt(result.train_loss)),
                ("Mean non-member loss", _fmt(result.test_loss)),
                ("Loss gap", _fmt(result.loss_gap)),
                ("Max AUC", _fmt(summary["max_auc"])),
                ("Max TPR at 1% FPR", _fmt(summary["max_tpr_at_1pct_fpr"])),
            ]
        ),
        "<div class='charts'>",
        svg_markup(_roc_figure(result), title="ROC curves (log-log)"),
        svg_markup(_loss_figure(result), title="Loss distributions of members and non-members"),
        "</div>",
        "<h2>Slices, worst first</h2>",
        _frame_table(result),
        _skipped(result),
        _exposed(result),
        reference_section(result),
        "<h2>How to read the numbers</h2><p class='note'>",
        escape(
            f"TPR at a fixed FPR is reported only when the slice has at least ceil(1/FPR) non-members "
            f"({', '.join(f'{min_nonmembers_for_fpr(f)} for {format_fpr(f)}' for f in REPORTED_FPRS)}); "
            f"slices with fewer than {MIN_EXAMPLES_PER_SIDE} members or non-members are flagged and left out of "
            "the summary. Attacks and metrics are tensorflow-privacy's (run_attacks); trained attacks are seeded "
            "with the audit's seed, so the same inputs and seed give the same numbers."
        ),
        "</p><h2>Provenance</h2>",
        _table([(f"input {k}", v) for k, v in record.inputs.items()] + [(k, v) for k, v in record.versions.items()]),
        "</body></html>",
    ]
    return "\n".join(parts)


def _fmt(value: object) -> str:
    return "-" if value is None else f"{value:.4f}" if isinstance(value, float) else str(value)


def _table(rows: list[tuple[object, object]]) -> str:
    body = "".join(f"<tr><th>{escape(str(k))}</th><td>{escape(_fmt(v))}</td></tr>" for k, v in rows)
    return f"<table>{body}</table>"


def _frame_table(result: MembershipAuditResult) -> str:
    frame = result.to_frame()
    head = "".join(f"<th>{escape(str(c))}</th>" for c in frame.columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{escape(_fmt(None if pd.isna(v) else v))}</td>" for v in row) + "</tr>"
        for row in frame.itertuples(index=False)
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def _skipped(result: MembershipAuditResult) -> str:
    if not result.skipped:
        return ""
    items = "".join(
        f"<li>{escape(s.key.label(result.class_names))}{escape(' (' + s.attack + ')' if s.attack else '')}: "
        f"{escape(s.reason)}</li>"
        for s in result.skipped
    )
    return f"<h2>Skipped slices</h2><ul>{items}</ul>"


def _exposed(result: MembershipAuditResult) -> str:
    if not result.exposed:
        return ""
    cells = []
    for example in result.exposed:
        caption = f"#{example.index} label {example.label} risk {example.risk_score:.2f} loss {example.loss:.2g}"
        image = (
            f"<img alt='member {example.index}' src='data:image/png;base64,"
            f"{base64.b64encode(example.image_png).decode()}'><br>"
            if example.image_png
            else ""
        )
        cells.append(f"<figure>{image}{escape(caption)}</figure>")
    return "<h2>Most exposed members</h2>" + "".join(cells)


def _roc_figure(result: MembershipAuditResult):  # -> matplotlib Figure
    from matplotlib.figure import Figure

    figure = Figure(figsize=(5.2, 4.2))
    axes = figure.add_subplot()
    floor = 1.0 / max(result.n_nonmembers, 1)
    for row in result.rows_to_plot():
        keep = row.roc_fpr > 0
        axes.step(
            row.roc_fpr[keep],
            np.maximum(row.roc_tpr[keep], floor),
            where="post",
            label=f"{row.attack.value}, {row.slice.label(result.class_names)} (AUC {row.auc:.3f})",
        )
    axes.plot([floor, 1], [floor, 1], color="grey", linestyle="--", label="chance")
    axes.set(
        xscale="log",
        yscale="log",
        xlabel="false positive rate",
        ylabel="true positive rate",
        title="ROC (log-log)",
        xlim=(floor, 1),
        ylim=(floor, 1),
    )
    axes.legend(fontsize=6)
    return figure


def _loss_figure(result: MembershipAuditResult):  # -> matplotlib Figure
    from matplotlib.figure import Figure

    histogram = result.loss_histogram
    figure = Figure(figsize=(5.2, 4.2))
    axes = figure.add_subplot()
    widths = np.diff(histogram.edges)
    axes.bar(histogram.edges[:-1], histogram.members, width=widths, align="edge", alpha=0.5, label="members")
    axes.bar(histogram.edges[:-1], histogram.nonmembers, width=widths, align="edge", alpha=0.5, label="non-members")
    axes.set(xscale="log", xlabel="loss", ylabel="fraction of side", title="Loss distributions")
    axes.legend(fontsize=7)
    return figure

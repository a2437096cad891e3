"""The privacy report as one self-contained HTML file (``privacy-report --html``): table and SVG charts.

Static matplotlib SVG like the audit's own HTML report (see :mod:`analysis.static_figures`); the
interactive charts with links to each audit are the app's (``/privacy?compare=...``).
"""

from __future__ import annotations

import math
from html import escape
from typing import Any

from analysis.privacy.report import PrivacyReport, ReportPoint
from analysis.static_figures import svg_markup

_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:60rem;margin:1rem auto;padding:0 1rem}"
    "table{border-collapse:collapse;font-size:.85rem}td,th{border:1px solid #ccc;padding:.2rem .4rem;text-align:right}"
    "td:first-child,th:first-child{text-align:left}figure{display:inline-block;margin:0 1rem 1rem 0;max-width:100%}"
)


def render_report_html(report: PrivacyReport, *, title: str) -> str:
    frame = report.to_frame()
    rows = "".join(
        "<tr>" + "".join(f"<td>{escape(_fmt(value))}</td>" for value in row) + "</tr>"
        for row in frame.itertuples(index=False)
    )
    head = "".join(f"<th>{escape(str(c))}</th>" for c in frame.columns)
    task = ", ".join(f"{k}: {v}" for k, v in report.task.items())
    charts = [svg_markup(_figure(report, by_epoch=False), title="Best attack AUC against test accuracy")]
    if any(p.epoch is not None for p in report.points):
        charts.append(svg_markup(_figure(report, by_epoch=True), title="Best attack AUC against epoch"))
    return (
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{escape(title)}</title>"
        f"<style>{_STYLE}</style></head><body><h1>{escape(title)}</h1>"
        f"<p>{len(report.points)} audits of one task ({escape(task)}). Vulnerability is the best attack over each "
        "audit's slices; the frontier (marked) are the variants no other variant beats on both accuracy and AUC. "
        "Chance is AUC 0.5 and TPR 1% at 1% FPR.</p>"
        + "".join(f"<figure>{chart}</figure>" for chart in charts)
        + f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table></body></html>"
    )


def _fmt(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if isinstance(value, float):
        return f"{value:.3g}"
    return str(value)


def _figure(report: PrivacyReport, *, by_epoch: bool):  # -> matplotlib Figure
    from matplotlib.figure import Figure

    figure = Figure(figsize=(5.2, 4.0))
    axes = figure.add_subplot()
    points: list[ReportPoint] = [p for p in report.points if not by_epoch or p.epoch is not None]
    xs = [p.epoch if by_epoch else p.test_accuracy for p in points]
    axes.scatter(xs, [p.max_auc for p in points], color=["#c0392b" if p.on_frontier else "#34495e" for p in points])
    for x, p in zip(xs, points, strict=True):
        axes.annotate(p.label, (x, p.max_auc), fontsize=6, xytext=(3, 3), textcoords="offset points")
    if not by_epoch:
        frontier = report.frontier()
        axes.plot([p.test_accuracy for p in frontier], [p.max_auc for p in frontier], color="#c0392b", label="frontier")
        axes.legend(fontsize=7)
    axes.axhline(0.5, color="grey", linestyle="--", linewidth=0.8)
    axes.set(xlabel="epoch" if by_epoch else "test accuracy", ylabel="best attack AUC")
    return figure

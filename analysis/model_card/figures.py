"""The card's charts, drawn once with matplotlib: inline SVG in the HTML card, base64 PNG in the JSON card.

Fairness bars per slice with 95% interval whiskers and the overall value as a dashed reference,
membership-inference AUC bars against chance (0.5), and ROC curves when a privacy record
stores them. Figures come from :mod:`analysis.static_figures` helpers (no pyplot, offline,
deterministic bytes); both formats are cached per record id, records being immutable.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from analysis.model_card.charts import PALETTE, ChartData, chart_data, roc_curves_shown
from analysis.model_card.evidence import RecordEvidence, RocCurve
from analysis.model_card.tables import display_number
from analysis.static_figures import png_base64, svg_markup

ROC_TITLE = "ROC curves of the membership-inference attacks"


def bar_figure(data: ChartData) -> Any:
    """Horizontal bars in [0, 1] with 95% interval whiskers and a dashed reference line."""
    from matplotlib.figure import Figure

    rows = list(data.rows)
    labels = [label if len(label) <= 32 else label[:31] + "…" for label, _ in rows]
    height = 0.9 + 0.26 * len(rows)
    figure = Figure(figsize=(7.5, height))
    figure.subplots_adjust(
        left=0.05 + 0.0085 * max(map(len, labels), default=8), right=0.97, top=1 - 0.62 / height, bottom=0.4 / height
    )
    axes = figure.add_subplot()
    positions = list(range(len(rows)))
    values = [m.value if m.value is not None else 0.0 for _, m in rows]
    colors = ["#8a94a3" if label == "overall" else PALETTE[0] for label, _ in rows]
    axes.barh(positions, values, color=colors, height=0.7)
    whiskers = [
        (y, m) for y, (_, m) in zip(positions, rows, strict=True) if m.lower is not None and m.upper is not None
    ]
    if whiskers:  # one call for every interval: drawing stays fast with many slices
        centers = [(m.lower + m.upper) / 2 for _, m in whiskers]
        axes.errorbar(
            centers,
            [y for y, _ in whiskers],
            xerr=[(m.upper - m.lower) / 2 for _, m in whiskers],
            fmt="none",
            ecolor="#1d2430",
            capsize=3,
            linewidth=1.2,
        )
    for y, (_, metric) in zip(positions, rows, strict=True):
        end = max(metric.value or 0.0, metric.upper if metric.upper is not None else 0.0)
        text = display_number(metric.value) if metric.value is not None else "—"
        axes.text(end + 0.012, y, text, va="center", fontsize=7.5, color="#1d2430")  # right of the bar and whisker
    if data.reference is not None:
        value, label = data.reference
        axes.axvline(value, color="#c2255c", linestyle="--", linewidth=1)
        axes.annotate(  # the line's name above the plot, where no bar or value can cover it
            label, xy=(value, 1.0), xycoords=("data", "axes fraction"), xytext=(3, 1), textcoords="offset points",
            fontsize=7.5, color="#c2255c", va="bottom",
        )  # fmt: skip
    axes.set_yticks(positions, labels, fontsize=8)
    axes.invert_yaxis()
    axes.set_xlim(0.0, 1.12)  # room right of 1.0 for the value labels
    axes.set_xticks([0.0, 0.2, 0.4, 0.6, 0.8, 1.0])
    axes.set_title(data.title, fontsize=10, loc="left", pad=14)  # above the reference line's name
    axes.tick_params(axis="x", labelsize=8)
    axes.spines[["top", "right"]].set_visible(False)
    return figure


def roc_figure(curves: tuple[RocCurve, ...]) -> Any:
    """ROC curves on linear axes with the chance diagonal."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(5.5, 4.4))
    figure.subplots_adjust(left=0.12, right=0.97, top=0.92, bottom=0.11)
    axes = figure.add_subplot()
    axes.plot([0, 1], [0, 1], linestyle="--", color="#8a94a3", linewidth=1)
    for i, curve in enumerate(curves):
        auc = f" (AUC {curve.auc:.3f})" if curve.auc is not None else ""
        axes.plot(curve.fpr, curve.tpr, color=PALETTE[i % len(PALETTE)], linewidth=1.5, label=curve.label + auc)
    axes.set_xlim(0, 1)
    axes.set_ylim(0, 1)
    axes.set_xlabel("false positive rate", fontsize=9)
    axes.set_ylabel("true positive rate", fontsize=9)
    axes.set_title(ROC_TITLE, fontsize=10, loc="left")
    axes.legend(fontsize=7, loc="lower right", frameon=False)
    return figure


def _figures(evidence: RecordEvidence) -> list[tuple[str, Any]]:
    """(title, figure) for every chart of one record: its bars, then its ROC curves if stored."""
    figures = [(data.title, bar_figure(data)) for data in chart_data(evidence)]
    curves = roc_curves_shown(evidence)
    if curves:
        figures.append((ROC_TITLE, roc_figure(curves)))
    return figures


_CACHE: dict[tuple[str, str], tuple[tuple[str, str], ...]] = {}  # (record id, format) -> drawn charts
_CACHE_SIZE = 128


def _drawn(evidence: RecordEvidence, encode: str, draw: Callable[[Any, str], str]) -> tuple[tuple[str, str], ...]:
    key = (evidence.record.record_id, encode)
    if key not in _CACHE:
        if len(_CACHE) >= _CACHE_SIZE:
            _CACHE.pop(next(iter(_CACHE)), None)
        _CACHE[key] = tuple((title, draw(figure, title)) for title, figure in _figures(evidence))
    return _CACHE[key]


def render_graphics(evidence: tuple[RecordEvidence, ...]) -> tuple[tuple[str, str], ...]:
    """(name, base64 PNG) for every chart of every cited record; each name starts with the record id."""
    return tuple(
        (f"{item.record.record_id}: {title}", png)
        for item in evidence
        for title, png in _drawn(item, "png", lambda figure, title: png_base64(figure))
    )


def chart_svgs(evidence: RecordEvidence) -> tuple[str, ...]:
    """Inline ``<svg>`` markup of one record's charts, for the HTML card."""
    return tuple(svg for _, svg in _drawn(evidence, "svg", lambda figure, title: svg_markup(figure, title=title)))

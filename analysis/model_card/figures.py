"""The JSON card's graphics: the same charts as the HTML card, as base64 PNG (what schema v0.0.2 holds).

Drawn with matplotlib's object API (``Figure`` + the Agg canvas; no pyplot, no global backend
switch, no display), offline. PNGs carry no timestamp, so the same record gives the same
bytes; they are cached per (record id, chart), records being immutable.
"""

from __future__ import annotations

import base64
import io

from analysis.model_card.charts import PALETTE, ChartData, chart_data, roc_curves_shown
from analysis.model_card.evidence import RecordEvidence, RocCurve

_DPI = 100


def _png(figure) -> str:  # matplotlib.figure.Figure -> base64 text
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(figure)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=_DPI, metadata={"Software": None})
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def bar_chart_png(data: ChartData) -> str:
    """Horizontal bars in [0, 1] with 95% interval whiskers and a dashed reference line."""
    from matplotlib.figure import Figure

    rows = list(data.rows)
    labels = [label if len(label) <= 32 else label[:31] + "…" for label, _ in rows]
    height = 0.9 + 0.26 * len(rows)
    figure = Figure(figsize=(7.5, height))
    figure.subplots_adjust(
        left=0.05 + 0.0085 * max(map(len, labels), default=8), right=0.97, top=1 - 0.45 / height, bottom=0.4 / height
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
    if data.reference is not None:
        axes.axvline(data.reference[0], color="#c2255c", linestyle="--", linewidth=1, label=data.reference[1])
        axes.legend(loc="lower right", fontsize=8, frameon=False)
    axes.set_yticks(positions, labels, fontsize=8)
    axes.invert_yaxis()
    axes.set_xlim(0.0, 1.0)
    axes.set_title(data.title, fontsize=10, loc="left")
    axes.tick_params(axis="x", labelsize=8)
    axes.spines[["top", "right"]].set_visible(False)
    return _png(figure)


def roc_png(curves: tuple[RocCurve, ...]) -> str:
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
    axes.set_title("ROC curves of the membership-inference attacks", fontsize=10, loc="left")
    axes.legend(fontsize=7, loc="lower right", frameon=False)
    return _png(figure)


_CACHE: dict[str, tuple[tuple[str, str], ...]] = {}  # record id -> graphics (records never change)
_CACHE_SIZE = 64


def _draw(evidence: RecordEvidence) -> tuple[tuple[str, str], ...]:
    record_id = evidence.record.record_id
    graphics = [(f"{record_id}: {data.title}", bar_chart_png(data)) for data in chart_data(evidence)]
    curves = roc_curves_shown(evidence)
    if curves:
        graphics.append((f"{record_id}: ROC curves of the membership-inference attacks", roc_png(curves)))
    return tuple(graphics)


def render_graphics(evidence: tuple[RecordEvidence, ...]) -> tuple[tuple[str, str], ...]:
    """(name, base64 PNG) for every chart of every cited record; each name starts with the record id."""
    graphics: list[tuple[str, str]] = []
    for item in evidence:
        key = item.record.record_id
        if key not in _CACHE:
            if len(_CACHE) >= _CACHE_SIZE:
                _CACHE.pop(next(iter(_CACHE)), None)
            _CACHE[key] = _draw(item)
        graphics += _CACHE[key]
    return tuple(graphics)

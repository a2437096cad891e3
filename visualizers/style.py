"""Loupe's one chart language: colours with a legend, the baseline drawn, percentages, readable labels.

Every chart in ``visualizers/`` follows the same rules (the style of Fairness Indicators and the
What-If Tool that auditors know):

- every colour used on a chart has a legend entry (:func:`add_legend_entries`), and the legend sits
  outside the plot area, under it (:func:`finish_layout`), so it never covers data;
- a comparison to a baseline draws the baseline as a line and colours each bar by *direction*
  (above: orange, below: blue) and *significance* (the interval excludes the baseline: full colour;
  it does not: pale), with the magnitude written next to the bar (:func:`comparison_colour`);
- intervals are whiskers; rates are shown as percentages and their differences in percentage points
  (:func:`percent_text`, :func:`points_text`);
- long category names are wrapped (:func:`wrap_label`) and drawn on horizontal bars, never rotated.

Pure functions and constants: no I/O, no analysis.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterable

import plotly.graph_objects as go

BASELINE = "#4b5563"  # the reference: overall or the chosen baseline group
ABOVE = "#c2410c"  # higher than the baseline, interval excludes it
ABOVE_PALE = "#fdba74"  # higher, interval includes the baseline (not significant)
BELOW = "#1d4ed8"  # lower than the baseline, interval excludes it
BELOW_PALE = "#93c5fd"  # lower, not significant
UNDEFINED = "#d1d5db"
POSITIVE = "#dc2626"  # an attribution that raises the output (shap's convention)
NEGATIVE = "#2563eb"  # one that lowers it
MEMBER = "#dc2626"
NONMEMBER = "#2563eb"
REFERENCE_LINE = "#111827"
FONT_SIZE = 13

COMPARISON_LEGEND = {
    ABOVE: "above the baseline (interval excludes it)",
    ABOVE_PALE: "above, within noise (interval includes the baseline)",
    BELOW: "below the baseline (interval excludes it)",
    BELOW_PALE: "below, within noise (interval includes the baseline)",
    BASELINE: "baseline",
}


def comparison_colour(difference: float | None, significant: bool, *, is_baseline: bool = False) -> str:
    """The colour of a bar compared with the baseline: direction (orange above, blue below) x significance."""
    if is_baseline:
        return BASELINE
    if difference is None:
        return UNDEFINED
    if difference >= 0:
        return ABOVE if significant else ABOVE_PALE
    return BELOW if significant else BELOW_PALE


def percent_text(value: float | None, *, digits: int = 3) -> str:
    """A rate in [0, 1] as a percentage with ``digits`` significant digits: 0.8213 -> '82.1%'."""
    if value is None:
        return "—"
    return f"{_significant(value * 100, digits)}%"


def points_text(difference: float | None, *, digits: int = 3) -> str:
    """A difference of two rates in percentage points, signed: -0.0142 -> '-1.42 pp'."""
    if difference is None:
        return "—"
    text = _significant(difference * 100, digits)
    return f"{'+' if difference > 0 else ''}{text} pp"


def number_text(value: float | None, *, digits: int = 3) -> str:
    """A plain number with ``digits`` significant digits (never scientific for everyday magnitudes)."""
    if value is None:
        return "—"
    return _significant(value, digits)


def _significant(value: float, digits: int) -> str:
    if value == 0:
        return "0"
    magnitude = abs(value)
    if 1e-4 <= magnitude < 1e6:
        decimals = max(digits - 1 - int(f"{magnitude:e}".split("e")[1]), 0)
        text = f"{value:.{decimals}f}"
        return text.rstrip("0").rstrip(".") if "." in text else text
    return f"{value:.{digits}g}"


def wrap_label(text: str, width: int = 24) -> str:
    """A long category name broken into lines of about ``width`` characters (plotly's ``<br>``)."""
    return "<br>".join(textwrap.wrap(text, width=width, break_long_words=False)) or text


def add_legend_entries(figure: go.Figure, entries: Iterable[tuple[str, str]], *, symbol: str = "square") -> None:
    """One legend entry per (colour, meaning), drawn as an empty trace so the legend explains every colour."""
    for colour, meaning in entries:
        figure.add_trace(
            go.Scatter(
                x=[None],
                y=[None],
                mode="markers",
                marker={"color": colour, "size": 12, "symbol": symbol},
                name=meaning,
                showlegend=True,
                hoverinfo="skip",
            )
        )


def log_log_roc_axes(figure: go.Figure, floor: float) -> None:
    """Both ROC axes on a log scale from ``floor`` to 1, one tick per decade."""
    import math

    decades = [math.log10(floor), 0]
    figure.update_xaxes(type="log", range=decades, title="false positive rate (log)", dtick=1)
    figure.update_yaxes(type="log", range=decades, title="true positive rate (log)", dtick=1)


def finish_layout(figure: go.Figure, *, title: str, height: int, left: int = 10, legend: bool = True) -> go.Figure:
    """The common layout: a title that says what the chart means, the legend under the plot, one font size."""
    wrapped = wrap_label(title, 50)  # a long title wraps (plotly cuts it at the figure's edge otherwise)
    lines = wrapped.count("<br>")
    figure.update_layout(
        title={"text": wrapped, "x": 0, "xanchor": "left", "font": {"size": FONT_SIZE + 3}},
        height=height + 22 * lines,
        font={"size": FONT_SIZE},
        margin={"l": left, "r": 40, "t": 60 + 22 * lines, "b": 40 + (70 if legend else 0)},
        showlegend=legend,
        legend={
            "orientation": "h",
            "yref": "container",
            "y": 0,
            "yanchor": "bottom",
            "x": 0,
            "xanchor": "left",
            "font": {"size": FONT_SIZE - 1},
        },
    )
    return figure

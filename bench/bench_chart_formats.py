"""What a chart costs in a self-contained document, drawn each way Loupe could draw it.

The same fairness bar chart (12 slices with 95% intervals and a reference line) and the same
ROC chart (4 curves of 200 points) are drawn as: matplotlib inline SVG (what the HTML card and
the privacy report embed), matplotlib base64 PNG (what the JSON card's graphics hold), and a
plotly figure as an HTML fragment (what an interactive document would embed, plus plotly.js
once per document: its size is read from the installed package). Prints bytes and drawing time
(median of ``--repeats``). docs/architecture.md ("Charts") quotes these figures.
Run: ``.venv/bin/python bench/bench_chart_formats.py [--repeats 10]``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def timed(function: Callable[[], str], repeats: int) -> tuple[int, float]:
    times, size = [], 0
    for _ in range(repeats):
        start = time.perf_counter()
        size = len(function().encode())
        times.append(time.perf_counter() - start)
    return size, statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=10)
    args = parser.parse_args()

    import plotly
    import plotly.graph_objects as go

    from analysis.model_card.charts import ChartData
    from analysis.model_card.evidence import CardMetric, RocCurve
    from analysis.model_card.figures import bar_figure, roc_figure
    from analysis.static_figures import png_base64, svg_markup

    rng = np.random.default_rng(0)
    values = rng.uniform(0.55, 0.9, 12)
    rows = tuple(
        (
            f"group {i}",
            CardMetric(
                record_id="r",
                section="slice",
                name="accuracy",
                type="accuracy",
                slice=f"group {i}",
                value=float(v),
                lower=float(v - 0.04),
                upper=float(v + 0.04),
            ),
        )
        for i, v in enumerate(values)
    )
    bars = ChartData(title="accuracy at threshold 0.5, with 95% intervals", rows=rows, reference=(0.75, "overall"))
    grid = np.linspace(0, 1, 200)
    curves = tuple(
        RocCurve(label=f"attack {i}", fpr=tuple(grid), tpr=tuple(grid ** (1 / (1.2 + i))), auc=0.5 + 0.05 * i)
        for i in range(4)
    )

    def plotly_bars() -> str:
        figure = go.Figure(
            go.Bar(
                x=values,
                y=[label for label, _ in rows],
                orientation="h",
                error_x={"type": "data", "array": [0.04] * len(values)},
            )
        )
        figure.add_vline(x=0.75, line_dash="dash")
        return figure.to_html(include_plotlyjs=False, full_html=False)

    def plotly_roc() -> str:
        figure = go.Figure([go.Scatter(x=c.fpr, y=c.tpr, name=c.label) for c in curves])
        return figure.to_html(include_plotlyjs=False, full_html=False)

    plotly_js = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    print(f"{'chart':<8} {'format':<34} {'bytes':>10} {'ms to draw':>11}")
    for name, figure_of, plotly_of in (
        ("bars", lambda: bar_figure(bars), plotly_bars),
        ("ROC", lambda: roc_figure(curves), plotly_roc),
    ):
        for label, function in (
            ("matplotlib inline SVG", lambda f=figure_of: svg_markup(f(), title="t")),
            ("matplotlib base64 PNG", lambda f=figure_of: png_base64(f())),
            ("plotly HTML fragment (no plotly.js)", plotly_of),
        ):
            size, seconds = timed(function, args.repeats)
            print(f"{name:<8} {label:<34} {size:>10,} {seconds * 1000:>11.1f}")
    print(f"plotly.js, once per self-contained interactive document: {plotly_js.stat().st_size:,} bytes")


if __name__ == "__main__":
    main()

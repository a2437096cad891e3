"""Static figures for self-contained documents and cached images: the HTML model card, the privacy HTML
report, the JSON card, and the Microscope's precomputed unit-page histograms.

Loupe draws charts two ways, each for what it does best (docs/architecture.md, "Charts"):
plotly in ``visualizers/`` for the interactive app, and matplotlib here for documents that must
open offline, print and travel as one file. Plotly in a document needs plotly.js inline
(4.8 MB per file) or a headless Chrome to export images (kaleido), which this project cannot
download; a matplotlib SVG chart is a few kilobytes of text and needs nothing.

Every figure is a ``matplotlib.figure.Figure`` built with the object API (no pyplot, no global
backend, no display); these helpers turn it into inline SVG markup or base64 PNG. Output is
deterministic: no dates or software names are written, so the same figure gives the same bytes.
"""

from __future__ import annotations

import base64
import io
from html import escape
from typing import Any

PNG_DPI = 100


def svg_markup(figure: Any, *, title: str) -> str:
    """The figure as an inline ``<svg role="img">`` element with an accessible ``<title>`` (no XML prolog).

    The element scales down to its container (``max-width: 100%``), so a card reads on a phone.

    Text stays text (``svg.fonttype = none``: small, selectable, and drawn in the page's font).
    """
    from matplotlib import rc_context
    from matplotlib.backends.backend_svg import FigureCanvasSVG

    FigureCanvasSVG(figure)
    buffer = io.StringIO()
    with rc_context({"svg.fonttype": "none", "svg.hashsalt": "loupe"}):
        figure.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None, "Creator": None})
    text = buffer.getvalue()
    svg = text[text.index("<svg") :].strip()
    opening_end = svg.index(">") + 1
    # Scales down on a narrow screen (its width and height attributes are the largest size).
    opening = f'{svg[: opening_end - 1]} role="img" style="max-width: 100%; height: auto">'
    return f"{opening}\n<title>{escape(title)}</title>{svg[opening_end:]}"


def png_bytes(figure: Any, *, dpi: int = PNG_DPI) -> bytes:
    """The figure as PNG bytes (no software name or date written)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(figure)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi, metadata={"Software": None})
    return buffer.getvalue()


def png_base64(figure: Any) -> str:
    """The figure as base64 PNG text (what the Model Card Toolkit schema's graphics hold)."""
    return base64.b64encode(png_bytes(figure)).decode("ascii")

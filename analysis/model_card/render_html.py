"""``render_html(card) -> str``: a self-contained HTML page for a card.

No external requests: CSS is inline, charts are inline SVG drawn by matplotlib
(:mod:`analysis.model_card.figures`), and a Content-Security-Policy forbids loading anything
(and running any script) in case a browser is handed a tampered file. Every piece of text
is escaped by Jinja's autoescape: user text is data, never markup. Links are made only for
``http``, ``https`` and ``mailto`` references; anything else is shown as text.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jinja2
from markupsafe import Markup

from analysis.model_card.card import ModelCard
from analysis.model_card.charts import PALETTE
from analysis.model_card.document import (
    architecture_text,
    dataset_description,
    input_format_text,
    output_format_text,
)
from analysis.model_card.figures import chart_svgs
from analysis.model_card.performance import LABELS as PERFORMANCE_LABELS
from analysis.model_card.render_markdown import SUMMARY_LABELS
from analysis.model_card.tables import (
    disparity_metrics,
    display_ci,
    display_number,
    metric_table,
    privacy_summary,
    split_columns,
)

TEMPLATES = Path(__file__).parent / "templates"
TABLE_COLUMNS = 4  # metric columns per table: values with their intervals fit an A4/letter page


def is_safe_link(url: str) -> bool:
    """True for http(s) and mailto URLs, the only ones the page turns into links."""
    try:
        return urlsplit(url.strip()).scheme.lower() in ("http", "https", "mailto")
    except ValueError:
        return False


@cache
def _environment() -> jinja2.Environment:
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,  # every {{ }} is HTML-escaped, in SVG text too
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.tests["safe_link"] = is_safe_link
    environment.filters["number"] = display_number
    environment.filters["ci"] = display_ci
    return environment


def card_context(card: ModelCard) -> dict[str, Any]:
    """What the template shows (shared by the Markdown renderers' section logic)."""
    sections = []
    for evidence in card.evidence:
        sections.append(
            {
                "evidence": evidence,
                "record": evidence.record,
                "table": metric_table(evidence),
                "tables": split_columns(metric_table(evidence), TABLE_COLUMNS),
                "figures": [Markup(svg) for svg in chart_svgs(evidence)],  # drawn by matplotlib, labels escaped
                "disparities": disparity_metrics(evidence),
                "summary": privacy_summary(evidence),
            }
        )
    return {
        "card": card,
        "details": card.fields.model_details,
        "considerations": card.fields.considerations,
        "architecture": architecture_text(card),
        "input_format": input_format_text(card),
        "output_format": output_format_text(card),
        "datasets": [(info, dataset_description(info)) for info in card.datasets],
        "sections": sections,
        "provenance_records": ([card.performance.record] if card.performance and card.performance.record else [])
        + [e.record for e in card.evidence],
        "palette": PALETTE,
        "summary_labels": SUMMARY_LABELS,
        "performance_labels": PERFORMANCE_LABELS,
        "version_name": card.document["model_details"]["version"].get("name", ""),
    }


def render_html(card: ModelCard) -> str:
    """The card as one HTML document (UTF-8 text), printable and usable offline."""
    return _environment().get_template("card.html.j2").render(**card_context(card))

"""Model cards generated from the registry, stored fairness/privacy records and written fields.

``build_model_card(ModelCardSpec(model_id=...)) -> ModelCard`` assembles and validates a
card (Model Card Toolkit schema v0.0.2); ``render_card(card, CardFormat.HTML)`` turns it
into JSON, self-contained HTML, Markdown or a Hugging Face README.md.
"""

from __future__ import annotations

from enum import StrEnum

from analysis.model_card.assemble import build_model_card
from analysis.model_card.card import ModelCard, ModelCardSpec
from analysis.model_card.field_store import CardFieldStore, StoredFields
from analysis.model_card.fields import FieldProblem, ModelCardFields, load_fields_yaml, parse_fields


class CardFormat(StrEnum):
    JSON = "json"
    HTML = "html"
    MARKDOWN = "md"
    HUGGING_FACE = "hf"

    @property
    def file_name(self) -> str:
        """The conventional file name for a card of this format."""
        return {"json": "model_card.json", "html": "model_card.html", "md": "model_card.md", "hf": "README.md"}[
            self.value
        ]

    @property
    def label(self) -> str:
        return {"json": "JSON", "html": "HTML", "md": "Markdown", "hf": "Hugging Face README"}[self.value]

    @property
    def media_type(self) -> str:
        return {"json": "application/json", "html": "text/html", "md": "text/markdown", "hf": "text/markdown"}[
            self.value
        ]


def render_card(card: ModelCard, card_format: CardFormat) -> str:
    """The card's text in ``card_format``."""
    if card_format is CardFormat.JSON:
        return card.to_json()
    if card_format is CardFormat.HTML:
        from analysis.model_card.render_html import render_html

        return render_html(card)
    if card_format is CardFormat.MARKDOWN:
        from analysis.model_card.render_markdown import render_markdown

        return render_markdown(card)
    from analysis.model_card.render_hf import render_hf

    return render_hf(card)


__all__ = [
    "CardFieldStore",
    "CardFormat",
    "FieldProblem",
    "ModelCard",
    "ModelCardFields",
    "ModelCardSpec",
    "StoredFields",
    "build_model_card",
    "load_fields_yaml",
    "parse_fields",
    "render_card",
]

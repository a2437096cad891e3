"""Validation of card documents against the shipped Model Card Toolkit schema v0.0.2 (Draft 7)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft7Validator

from analysis.errors import AnalysisInputError

SCHEMA_VERSION = "0.0.2"
SCHEMA_PATH = Path(__file__).parent / "schema" / f"model_card.schema.v{SCHEMA_VERSION}.json"
NOT_CONFORMING = "the card does not conform to the Model Card Toolkit schema v{version}: {problems}"


@cache
def card_schema() -> dict[str, Any]:
    """The shipped schema (byte-identical to the upstream file; see schema/NOTICE)."""
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


@cache
def card_validator() -> Draft7Validator:
    schema = card_schema()
    Draft7Validator.check_schema(schema)
    return Draft7Validator(schema, format_checker=Draft7Validator.FORMAT_CHECKER)


def schema_problems(document: Any) -> list[str]:
    """Every schema violation as ``path: message`` (empty when the document is valid)."""
    errors = sorted(card_validator().iter_errors(document), key=lambda e: list(e.absolute_path))
    return [f"{'.'.join(map(str, e.absolute_path)) or '(top level)'}: {e.message}" for e in errors]


def validate_card_document(document: Any) -> None:
    """Raise AnalysisInputError naming every violation when ``document`` is not a valid v0.0.2 card."""
    problems = schema_problems(document)
    if problems:
        raise AnalysisInputError(NOT_CONFORMING.format(version=SCHEMA_VERSION, problems="; ".join(problems)))

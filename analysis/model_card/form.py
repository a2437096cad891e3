"""Qualitative fields as plain form text (for the /card page), and back.

Each :class:`FormField` is one text box with a simple convention: one item per line, and
``name | detail`` for pairs (owners with contacts, risks with mitigations). Citations are
separated by blank lines, since they often span lines. :func:`form_to_fields` keeps the
stored value of any box whose text did not change, so details the form cannot express
(e.g. a citation's ``style`` from a YAML file) survive editing other boxes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

from analysis.model_card.fields import (
    Citation,
    License,
    ModelCardFields,
    Owner,
    Reference,
    Risk,
    Version,
)


@dataclass(frozen=True, slots=True, kw_only=True)
class FormField:
    """One box: ``key`` is the field's path (problems under it are shown next to the box)."""

    key: str
    label: str
    help: str
    multiline: bool


FORM_FIELDS = (
    FormField(key="model_details.name", label="Name", help="Display name; default: the model id", multiline=False),
    FormField(key="model_details.overview", label="Overview (required)", help="One or two sentences", multiline=True),
    FormField(key="model_details.documentation", label="Documentation", help="How the model works", multiline=True),
    FormField(key="model_details.owners", label="Owners", help="One per line: name | contact", multiline=True),
    FormField(key="model_details.version.name", label="Version", help="e.g. 1.2", multiline=False),
    FormField(key="model_details.version.date", label="Version date", help="YYYY-MM-DD", multiline=False),
    FormField(key="model_details.version.diff", label="Changes", help="Changes from the last version", multiline=True),
    FormField(
        key="model_details.licenses", label="Licenses", help="SPDX ids, one per line (e.g. Apache-2.0)", multiline=True
    ),
    FormField(
        key="model_details.licenses.custom_text",
        label="Custom license text",
        help="For a license without an SPDX id",
        multiline=True,
    ),
    FormField(key="model_details.references", label="References", help="One URI per line", multiline=True),
    FormField(
        key="model_details.citations", label="Citations", help="Separate citations with a blank line", multiline=True
    ),
    FormField(key="considerations.users", label="Intended users", help="One per line", multiline=True),
    FormField(key="considerations.use_cases", label="Use cases", help="One per line", multiline=True),
    FormField(key="considerations.out_of_scope_uses", label="Out-of-scope uses", help="One per line", multiline=True),
    FormField(key="considerations.limitations", label="Limitations", help="One per line", multiline=True),
    FormField(key="considerations.tradeoffs", label="Trade-offs", help="One per line", multiline=True),
    FormField(
        key="considerations.ethical_considerations",
        label="Ethical considerations",
        help="One per line: risk | mitigation strategy",
        multiline=True,
    ),
)
_LIST_KEYS = ("users", "use_cases", "out_of_scope_uses", "limitations", "tradeoffs")


def _pair(first: str, second: str) -> str:
    return f"{first} | {second}" if second else first


def _split_pair(line: str) -> tuple[str, str]:
    first, _, second = line.partition("|")
    return first.strip(), second.strip()


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def fields_to_form(fields: ModelCardFields) -> dict[str, str]:
    """The text of every box for ``fields``."""
    details, considerations = fields.model_details, fields.considerations
    form = {
        "model_details.name": details.name,
        "model_details.overview": details.overview,
        "model_details.documentation": details.documentation,
        "model_details.owners": "\n".join(_pair(o.name, o.contact) for o in details.owners),
        "model_details.version.name": details.version.name,
        "model_details.version.date": details.version.date,
        "model_details.version.diff": details.version.diff,
        "model_details.licenses": "\n".join(lic.identifier for lic in details.licenses if lic.identifier),
        "model_details.licenses.custom_text": "\n\n".join(
            lic.custom_text for lic in details.licenses if lic.custom_text
        ),
        "model_details.references": "\n".join(r.reference for r in details.references),
        "model_details.citations": "\n\n".join(c.citation for c in details.citations),
        "considerations.ethical_considerations": "\n".join(
            _pair(r.name, r.mitigation_strategy) for r in considerations.ethical_considerations
        ),
    }
    form.update({f"considerations.{k}": "\n".join(getattr(considerations, k)) for k in _LIST_KEYS})
    return form


def form_to_fields(form: dict[str, str], base: ModelCardFields) -> ModelCardFields:
    """Fields from the boxes' text; boxes whose text equals ``base``'s keep ``base``'s value."""
    before = fields_to_form(base)
    changed = {key for key, text in form.items() if text != before.get(key, "")}
    details, considerations = base.model_details, base.considerations
    detail_changes: dict[str, Any] = {
        name: form[f"model_details.{name}"]
        for name in ("name", "overview", "documentation")
        if f"model_details.{name}" in changed
    }
    if "model_details.owners" in changed:
        detail_changes["owners"] = tuple(
            Owner(name=n, contact=c) for n, c in map(_split_pair, _lines(form["model_details.owners"]))
        )
    if changed & {"model_details.version.name", "model_details.version.date", "model_details.version.diff"}:
        detail_changes["version"] = Version(
            name=form["model_details.version.name"].strip(),
            date=form["model_details.version.date"].strip(),
            diff=form["model_details.version.diff"],
        )
    if changed & {"model_details.licenses", "model_details.licenses.custom_text"}:
        custom = form["model_details.licenses.custom_text"].strip()
        detail_changes["licenses"] = tuple(License(identifier=i) for i in _lines(form["model_details.licenses"])) + (
            (License(custom_text=custom),) if custom else ()
        )
    if "model_details.references" in changed:
        detail_changes["references"] = tuple(Reference(reference=r) for r in _lines(form["model_details.references"]))
    if "model_details.citations" in changed:
        paragraphs = [p.strip() for p in re.split(r"\n\s*\n", form["model_details.citations"]) if p.strip()]
        detail_changes["citations"] = tuple(Citation(citation=p) for p in paragraphs)
    consideration_changes: dict[str, Any] = {
        k: tuple(_lines(form[f"considerations.{k}"])) for k in _LIST_KEYS if f"considerations.{k}" in changed
    }
    if "considerations.ethical_considerations" in changed:
        consideration_changes["ethical_considerations"] = tuple(
            Risk(name=n, mitigation_strategy=m)
            for n, m in map(_split_pair, _lines(form["considerations.ethical_considerations"]))
        )
    return ModelCardFields(
        model_details=replace(details, **detail_changes) if detail_changes else details,
        considerations=replace(considerations, **consideration_changes) if consideration_changes else considerations,
    )


def form_key_for(problem_path: str) -> str:
    """The box a problem belongs to: ``model_details.owners[0].name`` -> ``model_details.owners``."""
    key = problem_path.split("[", 1)[0]
    return key if key in {f.key for f in FORM_FIELDS} else key.rsplit(".", 1)[0]

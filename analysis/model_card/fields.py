"""The qualitative fields of a model card: what a person writes, not what Loupe measures.

Field names and nesting are the Model Card Toolkit schema's own (v0.0.2), so a YAML file
reads like the card it produces::

    model_details:
      name: Credit approval MLP        # optional; default: the registry id
      overview: Predicts the probability that a loan is repaid.
      documentation: Longer description ...
      owners: [{name: Risk team, contact: risk@example.org}]
      version: {name: "1.2", date: 2025-01-31, diff: Retrained on 2024 data}
      licenses: [{identifier: Apache-2.0}]          # or {custom_text: ...}
      references: [{reference: https://example.org/paper}]
      citations: [{style: bibtex, citation: "@article{...}"}]
    considerations:
      users: [{description: Loan officers}]         # plain strings are accepted too
      use_cases: [{description: ...}]
      out_of_scope_uses: [{description: ...}]       # Loupe's addition, see below
      limitations: [{description: ...}]
      tradeoffs: [{description: ...}]
      ethical_considerations: [{name: ..., mitigation_strategy: ...}]

``out_of_scope_uses`` (Mitchell et al.'s "out-of-scope use cases") has no field in schema
v0.0.2; the JSON card lists them under ``considerations.use_cases`` with the prefix
``OUT_OF_SCOPE_PREFIX``, and the other formats give them their own section.

Parsing (:func:`parse_fields`) rejects unknown keys and wrong types at once; content
problems (an empty overview, an unknown SPDX id, a bad date) are collected by
:meth:`ModelCardFields.problems`, so a form can show each next to its field, and raised
together by :meth:`ModelCardFields.validated`.
"""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import yaml

from analysis.errors import AnalysisInputError, describe_choices
from analysis.model_card.spdx import canonical_license_id

OUT_OF_SCOPE_PREFIX = "Out of scope: "
EMPTY_REQUIRED = "{path} is required and is empty"
LICENSE_ONE_OF = "{path} needs exactly one of 'identifier' or 'custom_text'"
BAD_DATE = "{path} {value!r} is not a date in the form YYYY-MM-DD"
BAD_URI = "{path} {value!r} is not a URI (e.g. 'https://arxiv.org/abs/1810.03993')"
UNKNOWN_KEY = "unknown field {path!r} in {source}; {parent} has {choices}"
NOT_TEXT = "{path} in {source} must be text, got {kind} (quote it in YAML)"
NOT_LIST = "{path} in {source} must be a list, got {kind}"
NOT_MAPPING = "{path} in {source} must be a mapping of field names, got {kind}"
_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:[^\s]+$")


@dataclass(frozen=True, slots=True, kw_only=True)
class Owner:
    name: str = ""
    contact: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Version:
    name: str = ""
    date: str = ""  # ISO date, YYYY-MM-DD
    diff: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class License:
    """Exactly one of an SPDX ``identifier`` or a ``custom_text``."""

    identifier: str = ""
    custom_text: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Reference:
    reference: str = ""  # a URI


@dataclass(frozen=True, slots=True, kw_only=True)
class Citation:
    style: str = ""
    citation: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Risk:
    name: str = ""
    mitigation_strategy: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class ModelDetailsFields:
    name: str = ""
    overview: str = ""
    documentation: str = ""
    owners: tuple[Owner, ...] = ()
    version: Version = field(default_factory=Version)
    licenses: tuple[License, ...] = ()
    references: tuple[Reference, ...] = ()
    citations: tuple[Citation, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class ConsiderationsFields:
    """Lists of descriptions (``users`` ... ``tradeoffs``) and risks with their mitigations."""

    users: tuple[str, ...] = ()
    use_cases: tuple[str, ...] = ()
    out_of_scope_uses: tuple[str, ...] = ()
    limitations: tuple[str, ...] = ()
    tradeoffs: tuple[str, ...] = ()
    ethical_considerations: tuple[Risk, ...] = ()


@dataclass(frozen=True, slots=True)
class FieldProblem:
    """A content problem: ``path`` is the field (``model_details.owners[0].name``), ``message`` says what."""

    path: str
    message: str


_ITEM_TYPES: dict[str, type] = {
    "owners": Owner,
    "licenses": License,
    "references": Reference,
    "citations": Citation,
    "ethical_considerations": Risk,
}
_DESCRIPTION_LISTS = ("users", "use_cases", "out_of_scope_uses", "limitations", "tradeoffs")


@dataclass(frozen=True, slots=True, kw_only=True)
class ModelCardFields:
    """Everything a person writes on a card; parsed by :func:`parse_fields`, checked by :meth:`problems`."""

    model_details: ModelDetailsFields = field(default_factory=ModelDetailsFields)
    considerations: ConsiderationsFields = field(default_factory=ConsiderationsFields)

    def problems(self) -> list[FieldProblem]:
        """Every content problem, in field order (empty when the fields make a valid card)."""
        found: list[FieldProblem] = []

        def need(path: str, value: str) -> None:
            if not value.strip():
                found.append(FieldProblem(path, EMPTY_REQUIRED.format(path=path)))

        details, considerations = self.model_details, self.considerations
        need("model_details.overview", details.overview)
        for i, owner in enumerate(details.owners):
            need(f"model_details.owners[{i}].name", owner.name)
        if details.version.date.strip():
            try:
                _dt.date.fromisoformat(details.version.date.strip())
            except ValueError:
                path = "model_details.version.date"
                found.append(FieldProblem(path, BAD_DATE.format(path=path, value=details.version.date)))
        for i, license_ in enumerate(details.licenses):
            path = f"model_details.licenses[{i}]"
            if bool(license_.identifier.strip()) == bool(license_.custom_text.strip()):
                found.append(FieldProblem(path, LICENSE_ONE_OF.format(path=path)))
            elif license_.identifier.strip():
                try:
                    canonical_license_id(license_.identifier)
                except AnalysisInputError as error:
                    found.append(FieldProblem(f"{path}.identifier", f"{path}.identifier: {error}"))
        for i, reference in enumerate(details.references):
            path = f"model_details.references[{i}].reference"
            if not reference.reference.strip():
                need(path, reference.reference)
            elif not _URI.match(reference.reference.strip()):
                found.append(FieldProblem(path, BAD_URI.format(path=path, value=reference.reference)))
        for i, citation in enumerate(details.citations):
            need(f"model_details.citations[{i}].citation", citation.citation)
        for name in _DESCRIPTION_LISTS:
            for i, description in enumerate(getattr(considerations, name)):
                need(f"considerations.{name}[{i}].description", description)
        for i, risk in enumerate(considerations.ethical_considerations):
            need(f"considerations.ethical_considerations[{i}].name", risk.name)
        return found

    def validated(self) -> ModelCardFields:
        """These fields with SPDX ids in canonical case; AnalysisInputError listing every problem."""
        problems = self.problems()
        if problems:
            raise AnalysisInputError("; ".join(p.message for p in problems))
        licenses = tuple(
            replace(lic, identifier=canonical_license_id(lic.identifier)) if lic.identifier.strip() else lic
            for lic in self.model_details.licenses
        )
        return replace(self, model_details=replace(self.model_details, licenses=licenses))

    def to_dict(self) -> dict[str, Any]:
        """The YAML/JSON form, in the schema's nesting (what :func:`parse_fields` reads back)."""
        details, considerations = self.model_details, self.considerations
        return {
            "model_details": {
                "name": details.name,
                "overview": details.overview,
                "documentation": details.documentation,
                "owners": [_item_dict(o) for o in details.owners],
                "version": _item_dict(details.version),
                "licenses": [_item_dict(lic) for lic in details.licenses],
                "references": [_item_dict(r) for r in details.references],
                "citations": [_item_dict(c) for c in details.citations],
            },
            "considerations": {
                **{name: [{"description": d} for d in getattr(considerations, name)] for name in _DESCRIPTION_LISTS},
                "ethical_considerations": [_item_dict(r) for r in considerations.ethical_considerations],
            },
        }


def _item_dict(item: Any) -> dict[str, str]:
    return {f.name: getattr(item, f.name) for f in fields(item)}


def load_fields_yaml(path: Path) -> ModelCardFields:
    """Read qualitative fields from a YAML file (schema field names and nesting)."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise AnalysisInputError(f"cannot read fields file {str(path)!r}: {error.strerror or error}") from error
    except UnicodeDecodeError as error:
        raise AnalysisInputError(
            f"fields file {str(path)!r} is not UTF-8 text (byte {error.object[error.start]:#04x} at offset "
            f"{error.start}); give a YAML file"
        ) from error
    except yaml.YAMLError as error:
        raise AnalysisInputError(f"fields file {str(path)!r} is not valid YAML ({_yaml_problem(error)})") from error
    return parse_fields(data if data is not None else {}, source=f"fields file {str(path)!r}")


def _yaml_problem(error: yaml.YAMLError) -> str:
    """PyYAML's problem and position on one line (its own message spans several, with a source excerpt)."""
    mark = getattr(error, "problem_mark", None)
    problem = getattr(error, "problem", None)
    if problem and mark is not None:
        return f"{problem} at line {mark.line + 1}, column {mark.column + 1}"
    return " ".join(str(error).split())


def parse_fields(data: Any, *, source: str = "the fields") -> ModelCardFields:
    """Fields from a dict in the schema's nesting; AnalysisInputError naming the bad key or type."""
    top = _mapping(data, "(top level)", source, ("model_details", "considerations"))
    details = _mapping(
        top.get("model_details", {}), "model_details", source, [f.name for f in fields(ModelDetailsFields)]
    )
    considerations = _mapping(
        top.get("considerations", {}), "considerations", source, [f.name for f in fields(ConsiderationsFields)]
    )
    parsed_details: dict[str, Any] = {}
    for name, value in details.items():
        path = f"model_details.{name}"
        if name in _ITEM_TYPES:
            parsed_details[name] = _items(value, path, source, _ITEM_TYPES[name])
        elif name == "version":
            parsed_details[name] = _item(value if value is not None else {}, path, source, Version)
        else:
            parsed_details[name] = _text(value, path, source)
    parsed_considerations: dict[str, Any] = {}
    for name, value in considerations.items():
        path = f"considerations.{name}"
        if name in _ITEM_TYPES:
            parsed_considerations[name] = _items(value, path, source, _ITEM_TYPES[name])
        else:
            parsed_considerations[name] = tuple(
                _item(item, f"{path}[{i}]", source, None) for i, item in enumerate(_list(value, path, source))
            )
    return ModelCardFields(
        model_details=ModelDetailsFields(**parsed_details), considerations=ConsiderationsFields(**parsed_considerations)
    )


def _kind(value: Any) -> str:
    return {bool: "a boolean", list: "a list", dict: "a mapping"}.get(type(value), f"a {type(value).__name__}")


def _mapping(value: Any, path: str, source: str, allowed: Any) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise AnalysisInputError(NOT_MAPPING.format(path=path, source=source, kind=_kind(value)))
    for key in value:
        if key not in allowed:
            full = key if path == "(top level)" else f"{path}.{key}"
            parent = "the top level" if path == "(top level)" else path
            raise AnalysisInputError(
                UNKNOWN_KEY.format(path=full, source=source, parent=parent, choices=describe_choices(allowed))
            )
    return value


def _list(value: Any, path: str, source: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise AnalysisInputError(NOT_LIST.format(path=path, source=source, kind=_kind(value)))
    return value


def _text(value: Any, path: str, source: str) -> str:
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int | float | _dt.date):
        raise AnalysisInputError(NOT_TEXT.format(path=path, source=source, kind=_kind(value)))
    return value.isoformat() if isinstance(value, _dt.date) else str(value)


def _items(value: Any, path: str, source: str, kind: type) -> tuple[Any, ...]:
    return tuple(_item(item, f"{path}[{i}]", source, kind) for i, item in enumerate(_list(value, path, source)))


_SHORTHAND = {Owner: "name", License: "identifier", Reference: "reference", Citation: "citation", Risk: "name"}


def _item(value: Any, path: str, source: str, kind: type | None) -> Any:
    """One list item (``kind`` None: a description, as text or ``{description: ...}``)."""
    if kind is None:
        if isinstance(value, Mapping):
            return _text(
                _mapping(value, path, source, ("description",)).get("description"), f"{path}.description", source
            )
        return _text(value, path, source)
    if not isinstance(value, Mapping) and kind in _SHORTHAND:  # e.g. licenses: [MIT]
        value = {_SHORTHAND[kind]: value}
    names = [f.name for f in fields(kind)]
    mapping = _mapping(value, path, source, names)
    return kind(**{name: _text(mapping.get(name), f"{path}.{name}", source) for name in names})

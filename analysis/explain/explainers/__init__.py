"""Attribution methods: one module each, one interface (:class:`AttributionMethod`), one table.

:data:`EXPLAINERS` lists every method once, in the order of the
:class:`~analysis.explain.spec.Explainer` enum (the CLI's choices). The engine picks from it
(:func:`explainer_for`, :func:`default_explainer`); a caller that offers a choice lists
:func:`compatible_explainers`; the contract tests iterate over it. To add a method: a module
here with a subclass of :class:`AttributionMethod`, its value in ``Explainer``, and an entry in
:data:`EXPLAINERS` (see ``docs/explain.md``).
"""

from __future__ import annotations

from analysis.errors import AnalysisInputError, describe_choices
from analysis.explain.explainers.base import AttributionMethod, Attributions, TargetFunction
from analysis.explain.explainers.exact import ExactShapley
from analysis.explain.explainers.gradient import ExpectedGradients
from analysis.explain.explainers.permutation import PermutationShapley
from analysis.explain.spec import Explainer, ExplanationSpec
from analysis.models.summary import ModelSummary

EXPLAINERS: tuple[AttributionMethod, ...] = (PermutationShapley(), ExactShapley(), ExpectedGradients())


def explainer_for(kind: Explainer | str) -> AttributionMethod:
    """The method named ``kind`` (an :class:`Explainer` or its value)."""
    for method in EXPLAINERS:
        if method.kind == kind:
            return method
    raise AnalysisInputError(
        f"explainer {kind!r} is not valid; choose {describe_choices(m.kind.value for m in EXPLAINERS)}"
    )


def default_explainer(summary: ModelSummary) -> AttributionMethod:
    """The method a spec without an explainer gets: shap's own automatic rule (gradient for images;
    for tabular models exact up to 10 features, permutation beyond)."""
    return next(method for method in EXPLAINERS if method.is_automatic_for(summary))


def compatible_explainers(summary: ModelSummary, spec: ExplanationSpec) -> tuple[AttributionMethod, ...]:
    """The methods that can explain ``spec`` on a model with ``summary``, in table order (what to offer)."""
    return tuple(method for method in EXPLAINERS if method.is_compatible(summary, spec))


__all__ = [
    "EXPLAINERS",
    "AttributionMethod",
    "Attributions",
    "ExactShapley",
    "ExpectedGradients",
    "PermutationShapley",
    "TargetFunction",
    "compatible_explainers",
    "default_explainer",
    "explainer_for",
]

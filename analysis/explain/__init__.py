"""SHAP explanations: why a prediction, why a unit fired, why two groups are served differently.

    result = compute_attributions(ExplanationSpec(model_id="credit-mlp", examples=range(100)))
    result.to_dict()        # the `explain` CLI's JSON
    compare_slices(SliceComparisonSpec(model_id="credit-mlp", column="group", group_a="D"))

Tabular models: shap's Exact (up to 10 features) or Permutation explainer over ``predict``; image models:
shap's GradientExplainer (expected gradients) for a class or for a unit of any layer. Each method is
one module of :mod:`analysis.explain.explainers`, listed once in :data:`EXPLAINERS`; the engine
(:mod:`analysis.explain.engine`) computes, :mod:`analysis.explain.cached` stores.
"""

from analysis.explain.cached import compute_attributions, load_cached_attributions
from analysis.explain.engine import ExplanationCancelled, compute_explanation, resolve_explanation
from analysis.explain.explainers import EXPLAINERS, AttributionMethod, compatible_explainers
from analysis.explain.slices import (
    EVERYONE_ELSE,
    SliceAttributions,
    SliceComparison,
    SliceComparisonSpec,
    compare_slices,
    comparison_explanation,
    comparison_from_attributions,
    mean_attributions_by_slice,
    slice_labels,
)
from analysis.explain.spec import AttributionResult, Explainer, ExplanationSpec, Target, TargetKind

__all__ = [
    "EVERYONE_ELSE",
    "EXPLAINERS",
    "AttributionMethod",
    "AttributionResult",
    "Explainer",
    "ExplanationCancelled",
    "ExplanationSpec",
    "SliceAttributions",
    "SliceComparison",
    "SliceComparisonSpec",
    "Target",
    "TargetKind",
    "compare_slices",
    "comparison_explanation",
    "comparison_from_attributions",
    "compatible_explainers",
    "compute_attributions",
    "compute_explanation",
    "load_cached_attributions",
    "mean_attributions_by_slice",
    "resolve_explanation",
    "slice_labels",
]

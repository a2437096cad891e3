"""``permutation``: shap's Permutation explainer, antithetic feature orderings over ``predict``.

Exactly additive; exact for models without feature interactions (a linear model's attributions
are ``weight * (x - mean(background))``) and an unbiased estimate otherwise. Costs ``max_evals``
model evaluations per row (each over the whole background). The default beyond 10 features.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from analysis.explain.explainers.base import tabular_features
from analysis.explain.explainers.tabular import AUTO_EXACT_FEATURES, TabularShapley
from analysis.explain.spec import DEFAULT_MAX_EVALS, Explainer, ExplanationSpec
from analysis.models.summary import ModelSummary


class PermutationShapley(TabularShapley):
    kind = Explainer.PERMUTATION
    seeded = True
    parameters = ("max_evals",)

    def incompatibility(self, summary: ModelSummary, spec: ExplanationSpec) -> str | None:
        reason = super().incompatibility(summary, spec)
        features = tabular_features(summary)
        if reason is None and spec.max_evals < 2 * features + 1:
            reason = (
                f"max_evals {spec.max_evals} is too low for {features} features; the permutation explainer needs "
                f"at least 2 * features + 1 = {2 * features + 1}"
            )
        return reason

    def is_automatic_for(self, summary: ModelSummary) -> bool:
        return len(summary.input_shape) == 1 and tabular_features(summary) > AUTO_EXACT_FEATURES

    def explain_row(
        self,
        predict: Callable[[np.ndarray], np.ndarray],
        masker: Any,
        row: np.ndarray,
        *,
        seed: int,
        max_evals: int = DEFAULT_MAX_EVALS,
        **parameters: int,
    ) -> Any:
        import shap

        return shap.explainers.Permutation(predict, masker, seed=seed)(row, max_evals=max_evals, silent=True)

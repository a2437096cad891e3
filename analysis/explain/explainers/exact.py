"""``exact``: shap's Exact explainer, every coalition of features (``2^features`` of them).

Exact Shapley values for the background (features treated as independent); exactly additive;
no randomness. The default for tabular models up to 10 features, allowed up to 16.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from analysis.explain.explainers.base import tabular_features
from analysis.explain.explainers.tabular import AUTO_EXACT_FEATURES, TabularShapley
from analysis.explain.spec import Explainer, ExplanationSpec
from analysis.models.summary import ModelSummary

MAX_EXACT_FEATURES = 16


class ExactShapley(TabularShapley):
    kind = Explainer.EXACT
    seeded = False

    def incompatibility(self, summary: ModelSummary, spec: ExplanationSpec) -> str | None:
        reason = super().incompatibility(summary, spec)
        features = tabular_features(summary)
        if reason is None and features > MAX_EXACT_FEATURES:
            reason = (
                f"the exact explainer evaluates 2^features coalitions; {features} features is too many "
                f"(at most {MAX_EXACT_FEATURES}): use the permutation explainer"
            )
        return reason

    def is_automatic_for(self, summary: ModelSummary) -> bool:
        """Up to 10 features the 2^features coalitions cost fewer model rows than 500 permutation evaluations."""
        return len(summary.input_shape) == 1 and tabular_features(summary) <= AUTO_EXACT_FEATURES

    def explain_row(
        self, predict: Callable[[np.ndarray], np.ndarray], masker: Any, row: np.ndarray, *, seed: int, **parameters: int
    ) -> Any:
        import shap

        return shap.explainers.Exact(predict, masker)(row, silent=True)

"""What the exact and permutation explainers share: shap's model-agnostic explainers over ``predict``.

The background is an ``Independent`` masker over every background row (shap's default keeps only
100), so the expected value is exactly the target's mean over the background, and both explainers
are exactly additive: ``sum(values) = f(x) - mean f(background)`` up to float error.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from analysis.explain.explainers.base import AttributionMethod, Attributions, TargetFunction
from analysis.explain.rng import SHAP_LOCK
from analysis.explain.spec import ExplanationSpec
from analysis.models.summary import ModelSummary

AUTO_EXACT_FEATURES = 10  # shap's own automatic choice: exact up to 10 features, permutation beyond


class TabularShapley(AttributionMethod):
    """Shapley values of rows ``[n, features]`` by masking features with background values."""

    tabular_only = True
    exactly_additive = True

    def incompatibility(self, summary: ModelSummary, spec: ExplanationSpec) -> str | None:
        if len(summary.input_shape) != 1:
            return (
                f"the {self.kind.value} explainer needs tabular rows [n, features]; model {spec.model_id!r} takes "
                f"inputs of shape {list(summary.input_shape)}: use the gradient explainer"
            )
        return None

    @abstractmethod
    def explain_row(
        self, predict: Callable[[np.ndarray], np.ndarray], masker: Any, row: np.ndarray, *, seed: int, **parameters: int
    ) -> Any:
        """shap's ``Explanation`` of one row ``[1, features]`` (float64); called holding the shap lock."""

    def attribute(
        self,
        target: TargetFunction,
        inputs: np.ndarray,
        background: np.ndarray,
        *,
        seeds: Sequence[int],
        before_example: Callable[[int], None] | None = None,
        **parameters: int,
    ) -> Attributions:
        import shap

        masker = shap.maskers.Independent(np.asarray(background, dtype=np.float64), max_samples=len(background))
        values = np.zeros(inputs.shape, dtype=np.float32)
        expected = np.zeros(len(inputs), dtype=np.float64)
        for i in range(len(inputs)):
            if before_example is not None:
                before_example(i)
            row = np.asarray(inputs[i : i + 1], dtype=np.float64)
            with SHAP_LOCK:
                explanation = self.explain_row(target.predict, masker, row, seed=int(seeds[i]), **parameters)
            values[i] = np.asarray(explanation.values, dtype=np.float64).reshape(inputs.shape[1:])
            expected[i] = float(np.asarray(explanation.base_values).reshape(-1)[0])
        return Attributions(values=values, expected_values=expected)

"""Model-agnostic SHAP for tabular models: shap's Permutation or Exact explainer over ``predict``.

The background is an ``Independent`` masker over every background row (shap's default keeps
only 100), so the expected value is exactly the target's mean over the background. Both
explainers are exactly additive: ``sum(values) = f(x) - mean f(background)`` up to float error.
The permutation explainer is exact for models without feature interactions (e.g. linear ones)
and an unbiased estimate otherwise; ``exact`` enumerates all ``2^features`` coalitions.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from analysis.explain.rng import SHAP_LOCK
from analysis.explain.spec import Explainer


def explain_tabular(
    predict: Callable[[np.ndarray], np.ndarray],
    x: np.ndarray,
    background: np.ndarray,
    *,
    method: Explainer,
    seeds: Sequence[int],
    max_evals: int,
    before_example: Callable[[int], None] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """SHAP values float32 ``[n, features]`` and expected values float64 ``[n]`` for rows ``x``.

    ``predict`` maps ``[m, features]`` to float64 ``[m]``; ``seeds`` has one seed per row;
    ``before_example(i)`` runs before row ``i`` (progress, cancellation).
    """
    import shap

    masker = shap.maskers.Independent(np.asarray(background, dtype=np.float64), max_samples=len(background))
    values = np.zeros(x.shape, dtype=np.float32)
    expected = np.zeros(len(x), dtype=np.float64)
    for i in range(len(x)):
        if before_example is not None:
            before_example(i)
        row = np.asarray(x[i : i + 1], dtype=np.float64)
        with SHAP_LOCK:
            if method is Explainer.EXACT:
                explanation = shap.explainers.Exact(predict, masker)(row, silent=True)
            else:
                explainer = shap.explainers.Permutation(predict, masker, seed=int(seeds[i]))
                explanation = explainer(row, max_evals=max_evals, silent=True)
        values[i] = np.asarray(explanation.values, dtype=np.float64).reshape(x.shape[1:])
        expected[i] = float(np.asarray(explanation.base_values).reshape(-1)[0])
    return values, expected

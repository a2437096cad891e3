"""SHAP for image models: shap's GradientExplainer (expected gradients) on a target model.

Expected gradients average ``(x - x') * grad f(x' + t (x - x'))`` over background rows ``x'``
and ``t ~ U(0, 1)``: in expectation the attributions sum to ``f(x) - E f(background)``; with a
finite number of samples the sum is off by a Monte Carlo error, reported as the additivity
error. The target model (:mod:`analysis.explain.readout`) ends in a ``[batch, 1]`` scalar, so one
gradient is computed per sample whatever the number of classes or units.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from analysis.explain.rng import SHAP_LOCK


def explain_images(
    target_model: Any,
    x: np.ndarray,
    background: np.ndarray,
    *,
    samples: int,
    seeds: Sequence[int],
    before_example: Callable[[int], None] | None = None,
) -> np.ndarray:
    """Attributions float32 ``[n, *input_shape]`` of ``target_model``'s scalar for each row of ``x``.

    ``samples``: expected-gradients samples per example; ``seeds``: one per row.
    """
    import shap

    explainer = shap.GradientExplainer(target_model, np.asarray(background, dtype=np.float32), batch_size=50)
    values = np.zeros(x.shape, dtype=np.float32)
    for i in range(len(x)):
        if before_example is not None:
            before_example(i)
        with SHAP_LOCK:
            phi = explainer.shap_values(
                np.asarray(x[i : i + 1], dtype=np.float32), nsamples=samples, rseed=int(seeds[i])
            )
        values[i] = np.asarray(phi, dtype=np.float32).reshape(x.shape[1:])
    return values

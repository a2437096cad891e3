"""``gradient``: shap's GradientExplainer (expected gradients) on the target model.

Expected gradients average ``(x - x') * grad f(x' + t (x - x'))`` over background rows ``x'`` and
``t ~ U(0, 1)``: in expectation the attributions sum to ``f(x) - E f(background)``; with a finite
number of ``samples`` the sum is off by a Monte Carlo error (shrinking roughly as 1/sqrt(samples)),
reported as the additivity error. The target model ends in a ``[batch, 1]`` scalar, so one gradient
is computed per sample whatever the number of classes or units. The default for image models;
works for any differentiable input.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np

from analysis.explain.explainers.base import AttributionMethod, Attributions, TargetFunction
from analysis.explain.rng import SHAP_LOCK
from analysis.explain.spec import DEFAULT_SAMPLES, Explainer
from analysis.models.summary import ModelSummary

BATCH_SIZE = 50  # samples per gradient batch


class ExpectedGradients(AttributionMethod):
    kind = Explainer.GRADIENT
    needs_gradients = True
    exactly_additive = False
    seeded = True
    parameters = ("samples",)

    def is_automatic_for(self, summary: ModelSummary) -> bool:
        """Permutations over thousands of pixels are infeasible; gradients cost one pass per sample."""
        return len(summary.input_shape) != 1

    def additivity_tolerance(
        self, background_outputs: np.ndarray, *, samples: int = DEFAULT_SAMPLES, **parameters: int
    ) -> float:
        """Each sample draws one background row, so the error's standard deviation is about
        ``std(f(background)) / sqrt(samples)`` (exactly so for a linear target); four of them. A
        strongly curved target adds path noise: raise ``samples`` when the reported error is large."""
        return 4.0 * float(np.std(background_outputs)) / math.sqrt(samples)

    def attribute(
        self,
        target: TargetFunction,
        inputs: np.ndarray,
        background: np.ndarray,
        *,
        seeds: Sequence[int],
        before_example: Callable[[int], None] | None = None,
        samples: int = DEFAULT_SAMPLES,
        **parameters: int,
    ) -> Attributions:
        import shap

        explainer = shap.GradientExplainer(
            target.model, np.asarray(background, dtype=np.float32), batch_size=BATCH_SIZE
        )
        values = np.zeros(inputs.shape, dtype=np.float32)
        for i in range(len(inputs)):
            if before_example is not None:
                before_example(i)
            with SHAP_LOCK:
                phi = explainer.shap_values(
                    np.asarray(inputs[i : i + 1], dtype=np.float32), nsamples=samples, rseed=int(seeds[i])
                )
            values[i] = np.asarray(phi, dtype=np.float32).reshape(inputs.shape[1:])
        expected = np.full(len(inputs), target.predict(background).mean(), dtype=np.float64)
        return Attributions(values=values, expected_values=expected)

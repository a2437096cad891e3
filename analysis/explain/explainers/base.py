"""The interface every attribution method implements: capabilities declared on the class, one verb.

An :class:`AttributionMethod` says what it can explain (:meth:`~AttributionMethod.incompatibility`,
read before any model is loaded) and does it (:meth:`~AttributionMethod.attribute`, which imports
shap and TensorFlow). Each method lives in its own module and is listed once in
:data:`analysis.explain.explainers.EXPLAINERS`; the engine picks a method from that table and the
contract tests (``tests/analysis/test_explain_contracts.py``) run every method through the same checks.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from analysis.errors import AnalysisInputError
from analysis.explain.spec import Explainer, ExplanationSpec
from analysis.models.summary import ModelSummary


@dataclass(frozen=True, slots=True)
class TargetFunction:
    """The scalar being explained, in the two forms methods need.

    ``model``: a Keras model ``[batch, *input_shape] -> [batch, 1]`` (gradient methods differentiate
    it); ``predict``: ``[m, *input_shape] -> float64 [m]`` in batches (model-agnostic methods call only this).
    """

    model: Any
    predict: Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class Attributions:
    """What :meth:`AttributionMethod.attribute` returns for ``n`` rows.

    ``values`` float32 ``[n, *input_shape]``; ``expected_values`` float64 ``[n]``, the target's mean
    over the background that each row's attributions are relative to.
    """

    values: np.ndarray = field(repr=False)
    expected_values: np.ndarray = field(repr=False)


class AttributionMethod(ABC):
    """One SHAP algorithm behind Loupe's one attribution verb.

    Capabilities (class attributes, read by the engine, the CLI and the contract tests):

    - ``kind``: the :class:`~analysis.explain.spec.Explainer` value that names the method in specs,
      URLs, the CLI and the JSON.
    - ``tabular_only``: explains rows ``[n, features]`` only (else any input shape).
    - ``needs_gradients``: differentiates ``TargetFunction.model`` (else calls ``predict`` only).
    - ``exactly_additive``: ``sum(values) == output - expected_value`` up to float error for every
      row (else only in expectation: a Monte Carlo error that shrinks with more samples, bounded
      by :meth:`additivity_tolerance`).
    - ``seeded``: draws random numbers, so its values depend on the per-row seeds.
    - ``parameters``: the :class:`~analysis.explain.spec.ExplanationSpec` fields it reads; they are
      passed to :meth:`attribute` as keywords, stored in the result's ``parameters`` and in its cache key.
    """

    kind: ClassVar[Explainer]
    tabular_only: ClassVar[bool] = False
    needs_gradients: ClassVar[bool] = False
    exactly_additive: ClassVar[bool]
    seeded: ClassVar[bool]
    parameters: ClassVar[tuple[str, ...]] = ()

    def incompatibility(self, summary: ModelSummary, spec: ExplanationSpec) -> str | None:
        """Why this method cannot explain ``spec`` on a model with ``summary``, naming the bad value and
        what to use instead; None when it can. Pure: no TensorFlow, no data read."""
        return None

    def is_compatible(self, summary: ModelSummary, spec: ExplanationSpec) -> bool:
        return self.incompatibility(summary, spec) is None

    def check_compatible(self, summary: ModelSummary, spec: ExplanationSpec) -> None:
        """Raise :class:`~analysis.errors.AnalysisInputError` with the reason when this method does not fit."""
        reason = self.incompatibility(summary, spec)
        if reason is not None:
            raise AnalysisInputError(reason)

    def is_automatic_for(self, summary: ModelSummary) -> bool:
        """Whether a spec without an explainer gets this method (exactly one method says yes per model)."""
        return False

    def additivity_tolerance(self, background_outputs: np.ndarray, **parameters: int) -> float:
        """The documented bound on a row's ``|sum(values) - (output - expected_value)|`` beyond float
        round-off, given the target's outputs on the background: 0 for exactly additive methods."""
        return 0.0

    def parameters_from(self, spec: ExplanationSpec) -> dict[str, int]:
        """The spec's values of :attr:`parameters`, as :meth:`attribute` takes them."""
        return {name: int(getattr(spec, name)) for name in self.parameters}

    @abstractmethod
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
        """Attributions of ``target`` for each row of ``inputs`` (float32 ``[n, *input_shape]``)
        relative to ``background`` (float32 ``[b, *input_shape]``).

        ``seeds``: one per row, so a row's values do not depend on the other rows;
        ``before_example(i)`` runs before row ``i`` (progress, cancellation); ``parameters``: the
        method's :attr:`parameters` (e.g. ``samples=200``).
        """


def tabular_features(summary: ModelSummary) -> int:
    """The number of features of a tabular model (0 for other inputs)."""
    return int(summary.input_shape[0] or 0) if len(summary.input_shape) == 1 else 0

"""Epsilon at delta for a DP-SGD run, by Google's ``dp-accounting`` (RDP and PLD accountants).

A run of ``epochs`` over ``n_examples`` with expected batch size ``batch_size`` is
``steps = ceil(epochs * n_examples / batch_size)`` compositions of the Poisson-subsampled Gaussian
mechanism with sampling probability ``q = batch_size / n_examples`` and noise multiplier
``sigma``. The accounting assumes Poisson sampling (each example in each batch independently
with probability ``q``); :func:`analysis.training.dp_sgd.poisson_batches` samples that way.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from analysis.errors import AnalysisInputError, describe_choices


class Accountant(StrEnum):
    """``rdp``: Renyi DP (tensorflow-privacy's choice); ``pld``: privacy loss distributions (tighter)."""

    RDP = "rdp"
    PLD = "pld"


@dataclass(frozen=True, slots=True, kw_only=True)
class DPGuarantee:
    """A DP-SGD run's (epsilon, delta) guarantee and everything it was computed from.

    Stored with the model's registration (``analysis.models.registry``, table ``training_privacy``)
    and shown on its audits and model card; ``to_dict``/``from_dict`` are that stored form.
    """

    epsilon: float
    delta: float
    accountant: Accountant
    noise_multiplier: float
    l2_norm_clip: float
    sampling_probability: float
    steps: int
    epochs: float
    n_examples: int
    batch_size: int
    sampling: str = "poisson"

    def describe(self) -> str:
        return (
            f"epsilon {self.epsilon:.3g} at delta {self.delta:.0e} ({self.accountant.value.upper()} accountant; "
            f"noise multiplier {self.noise_multiplier:g}, clip {self.l2_norm_clip:g}, {self.steps} steps "
            f"with {self.sampling} sampling q={self.sampling_probability:.3g})"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "epsilon": self.epsilon,
            "delta": self.delta,
            "accountant": self.accountant.value,
            "noise_multiplier": self.noise_multiplier,
            "l2_norm_clip": self.l2_norm_clip,
            "sampling_probability": self.sampling_probability,
            "steps": self.steps,
            "epochs": self.epochs,
            "n_examples": self.n_examples,
            "batch_size": self.batch_size,
            "sampling": self.sampling,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DPGuarantee:
        return cls(**{**data, "accountant": Accountant(data["accountant"])})


def compute_dp_guarantee(
    *,
    n_examples: int,
    batch_size: int,
    epochs: float,
    noise_multiplier: float,
    l2_norm_clip: float,
    delta: float | None = None,
    accountant: Accountant | str = Accountant.RDP,
) -> DPGuarantee:
    """Epsilon at ``delta`` (default ``1 / n_examples``) for Poisson-sampled DP-SGD.

    Raises AnalysisInputError naming the value for a configuration with no finite epsilon
    (noise multiplier 0) or out-of-range numbers.
    """
    import dp_accounting
    from dp_accounting import pld, rdp

    try:
        accountant = Accountant(accountant)
    except ValueError as error:
        raise AnalysisInputError(
            f"unknown accountant {accountant!r}; accountants are {describe_choices(a.value for a in Accountant)}"
        ) from error
    if n_examples < 1 or not 1 <= batch_size <= n_examples:
        raise AnalysisInputError(f"batch size {batch_size} must be between 1 and the {n_examples} training examples")
    if not epochs > 0:
        raise AnalysisInputError(f"epochs {epochs!r} must be positive")
    if not l2_norm_clip > 0:
        raise AnalysisInputError(f"clipping norm {l2_norm_clip!r} must be positive")
    if not noise_multiplier > 0 or not math.isfinite(noise_multiplier):
        raise AnalysisInputError(
            f"noise multiplier {noise_multiplier!r} gives no finite epsilon: DP-SGD needs a positive noise "
            "multiplier (e.g. 0.5 to 2)"
        )
    delta = 1.0 / n_examples if delta is None else delta
    if not 0 < delta < 1:
        raise AnalysisInputError(
            f"delta {delta!r} must be between 0 and 1 (commonly at most 1/n = {1 / n_examples:.1e})"
        )
    q = batch_size / n_examples
    steps = math.ceil(epochs * n_examples / batch_size)
    event = dp_accounting.SelfComposedDpEvent(
        dp_accounting.PoissonSampledDpEvent(q, dp_accounting.GaussianDpEvent(noise_multiplier)), steps
    )
    engine = rdp.RdpAccountant() if accountant is Accountant.RDP else pld.PLDAccountant()
    engine.compose(event)
    epsilon = float(engine.get_epsilon(delta))
    if not math.isfinite(epsilon):
        raise AnalysisInputError(
            f"noise multiplier {noise_multiplier} over {steps} steps gives no finite epsilon at delta {delta:g}; "
            "add noise or train fewer steps"
        )
    return DPGuarantee(
        epsilon=epsilon,
        delta=delta,
        accountant=accountant,
        noise_multiplier=float(noise_multiplier),
        l2_norm_clip=float(l2_norm_clip),
        sampling_probability=q,
        steps=steps,
        epochs=float(epochs),
        n_examples=n_examples,
        batch_size=batch_size,
    )

"""The card's privacy section: DP-SGD's theoretical epsilon beside the audit's empirical lower bound.

- **Theoretical epsilon** (when the revision was registered with a DP-SGD guarantee,
  :meth:`analysis.models.registry.ModelRegistry.training_privacy`): the accountant's proof that
  no attack on any one training example can do better than (epsilon, delta)-DP allows. An upper
  bound on leakage, valid whatever the attacker does.
- **Empirical lower bound** (from the cited privacy audit): tensorflow-privacy's
  ``epsilon_lower_bound``, a high-confidence bound computed from the attacks' true and false
  positive counts, stored per attack in the audit; the best over the audit's regular rows. What
  these attacks demonstrate; a stronger attack could show more. When an audit stores none, the
  bound is read from its TPR at each reported FPR with the standard inequalities of (epsilon, delta)-DP,
  ``TPR <= e^eps * FPR + delta`` and ``1 - FPR <= e^eps * (1 - TPR) + delta`` (a point estimate).

A lower bound above the theoretical epsilon means a bug (training step, accounting or audit).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from analysis.records import AnalysisRecord

THEORY = (
    "Theoretical epsilon: the accountant's guarantee for this DP-SGD training run; no membership attack on a "
    "single training example can beat it, whatever the attacker does."
)
EMPIRICAL = (
    "Empirical lower bound: what the audit's attacks actually demonstrate; a stronger attack could show more, "
    "so the true leakage lies between the two."
)
NO_DP = "This revision was not registered as trained with DP-SGD, so it has no theoretical guarantee."
DEFAULT_DELTA = 1e-5


@dataclass(frozen=True, slots=True, kw_only=True)
class PrivacyGuaranteeSection:
    """``epsilon``/``delta``/``accountant``/``training``: the DP-SGD guarantee (None without one);
    ``lower_bound``: the audit's empirical bound (None without a cited audit), from ``lower_bound_record``."""

    epsilon: float | None
    delta: float | None
    accountant: str | None
    training: str | None
    lower_bound: float | None
    lower_bound_record: str | None
    lower_bound_method: str | None

    @property
    def contradicts(self) -> bool:
        """True when the demonstrated bound exceeds the guarantee: a bug somewhere."""
        return self.epsilon is not None and self.lower_bound is not None and self.lower_bound > self.epsilon

    def sentences(self) -> list[str]:
        lines = [THEORY if self.epsilon is not None else NO_DP]
        if self.lower_bound is not None:
            lines.append(EMPIRICAL)
        if self.contradicts:
            lines.append(
                f"The empirical bound {self.lower_bound:.3g} exceeds the theoretical epsilon {self.epsilon:.3g}: "
                "the training step, the accounting or the audit is wrong."
            )
        return lines

    def schema_metrics(self, *, theoretical: bool = True, empirical: bool = True) -> list[dict[str, Any]]:
        """Entries for the v0.0.2 ``performance_metrics`` (values are strings there): the DP-SGD epsilon
        (from the registry) and/or the empirical bound (from the cited audit, listed in its record's range)."""
        entries = []
        if theoretical and self.epsilon is not None:
            entries.append(
                {
                    "type": f"dp_sgd_epsilon ({self.accountant} accountant, delta={self.delta:.0e})",
                    "value": f"{self.epsilon:.4g}",
                }
            )
        if empirical and self.lower_bound is not None:
            entries.append(
                {
                    "type": f"empirical_epsilon_lower_bound ({self.lower_bound_method}, "
                    f"record {self.lower_bound_record})",
                    "value": f"{self.lower_bound:.4g}",
                }
            )
        return entries

    def markdown_lines(self, heading: str = "###") -> list[str]:
        lines = ["", f"{heading} Privacy guarantee", ""]
        if self.epsilon is not None:
            lines.append(
                f"- **theoretical epsilon (DP-SGD):** {self.epsilon:.3g} at delta {self.delta:.0e} ({self.training})"
            )
        if self.lower_bound is not None:
            lines.append(
                f"- **empirical epsilon lower bound:** {self.lower_bound:.3g} ({self.lower_bound_method}, "
                f"record `{self.lower_bound_record}`)"
            )
        return [*lines, "", *self.sentences(), ""]


def build_privacy_section(
    guarantee: Mapping[str, Any] | None, records: Sequence[AnalysisRecord]
) -> PrivacyGuaranteeSection | None:
    """The section for a card citing ``records``; None when there is neither a guarantee nor a privacy audit."""
    audit = next((r for r in records if r.kind == "privacy"), None)
    delta = float(guarantee["delta"]) if guarantee else DEFAULT_DELTA
    bound, method = (None, None) if audit is None else empirical_lower_bound(audit.result, delta=delta)
    if guarantee is None and bound is None:
        return None
    training = None
    if guarantee:
        training = (
            f"noise multiplier {guarantee['noise_multiplier']:g}, clip {guarantee['l2_norm_clip']:g}, "
            f"{guarantee['steps']} steps with {guarantee.get('sampling', 'poisson')} sampling "
            f"q={guarantee['sampling_probability']:.3g}"
        )
    return PrivacyGuaranteeSection(
        epsilon=None if guarantee is None else float(guarantee["epsilon"]),
        delta=None if guarantee is None else delta,
        accountant=None if guarantee is None else str(guarantee["accountant"]).upper(),
        training=training,
        lower_bound=bound,
        lower_bound_record=None if bound is None else audit.record_id,
        lower_bound_method=method,
    )


def empirical_lower_bound(result: Mapping[str, Any], *, delta: float) -> tuple[float | None, str | None]:
    """The best lower bound over the audit's regular rows: tensorflow-privacy's, else from TPR at FPR."""
    rows = [r for r in result.get("results") or () if isinstance(r, Mapping)]
    regular = [r for r in rows if not r.get("small_slice")] or rows
    stored = [float(r["epsilon_lower_bound"]) for r in regular if r.get("epsilon_lower_bound") is not None]
    if stored:
        return max(stored), "tensorflow-privacy epsilon_lower_bound"
    bounds = [
        bound_from_rates(float(tpr), float(fpr), delta)
        for r in regular
        for fpr, tpr in (r.get("tpr_at_fpr") or {}).items()
        if tpr is not None
    ]
    bounds = [b for b in bounds if b is not None]
    return (max(bounds), "from TPR at fixed FPR (point estimate)") if bounds else (None, None)


def bound_from_rates(tpr: float, fpr: float, delta: float) -> float | None:
    """Largest epsilon the (epsilon, delta)-DP inequalities force for one ROC point; 0 if none is forced."""
    candidates = [0.0]
    if fpr > 0 and tpr - delta > 0:
        candidates.append(math.log((tpr - delta) / fpr))
    if tpr < 1 and 1 - fpr - delta > 0:
        candidates.append(math.log((1 - fpr - delta) / (1 - tpr)))
    return max(candidates)

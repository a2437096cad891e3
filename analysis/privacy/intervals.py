"""Confidence intervals for the audit's headline numbers, so a small sample shows as a wide interval.

- TPR at a fixed FPR: the count of members above the threshold is binomial in the number of
  members; :func:`clopper_pearson` gives its exact (Clopper-Pearson) interval through SciPy's
  ``binomtest(...).proportion_ci(method="exact")``.
- AUC: Hanley & McNeil's (1982) standard error, a normal interval clipped to [0, 1].

These intervals cover the sampling of the audited examples, not the choice of threshold (which
is read off the same data, so the TPR at a fixed FPR is slightly optimistic for very few
non-members; :mod:`analysis.privacy.reliability` states when it is not reported at all).
"""

from __future__ import annotations

import math

CONFIDENCE = 0.95


def clopper_pearson(successes: int, trials: int, confidence: float = CONFIDENCE) -> tuple[float, float]:
    """Exact two-sided interval ``(low, high)`` for a binomial proportion; ``(0, 1)`` with no trials."""
    if trials <= 0:
        return 0.0, 1.0
    from scipy.stats import binomtest

    interval = binomtest(int(successes), int(trials)).proportion_ci(confidence_level=confidence, method="exact")
    return float(interval.low), float(interval.high)


def auc_interval(auc: float, n_members: int, n_nonmembers: int, confidence: float = CONFIDENCE) -> tuple[float, float]:
    """Hanley-McNeil normal interval for an AUC over ``n_members`` positives and ``n_nonmembers`` negatives."""
    from scipy.stats import norm

    if n_members <= 0 or n_nonmembers <= 0 or not math.isfinite(auc):
        return 0.0, 1.0
    q1, q2 = auc / (2 - auc), 2 * auc**2 / (1 + auc)
    variance = (auc * (1 - auc) + (n_members - 1) * (q1 - auc**2) + (n_nonmembers - 1) * (q2 - auc**2)) / (
        n_members * n_nonmembers
    )
    half = norm.ppf(0.5 + confidence / 2) * math.sqrt(max(variance, 0.0))
    return max(0.0, auc - half), min(1.0, auc + half)

"""When a slice is too small for a number to mean anything: the rule, defined once.

- **TPR at a fixed FPR** ``f`` is reported only when the slice has at least
  ``ceil(1 / f)`` non-members (1000 for 0.1 %, 100 for 1 %). With fewer, the smallest
  non-zero FPR the slice can express (one false positive, ``1 / n``) is already above
  ``f``, so the number would be the TPR at zero false positives dressed up as "TPR at
  0.1 % FPR". The result then holds ``null`` and a note saying so.
- **AUC, attacker advantage and PPV** are always computed, but when either side of a
  slice has fewer than :data:`MIN_EXAMPLES_PER_SIDE` examples the row carries a note and
  is left out of the summary (``max_auc``, ``worst_slice``): a 5-member slice reaches
  AUC 1.0 by chance too often to be anyone's worst case.
"""

from __future__ import annotations

import math

REPORTED_FPRS = (0.001, 0.01)
MIN_EXAMPLES_PER_SIDE = 20


def min_nonmembers_for_fpr(fpr: float) -> int:
    """Non-members a slice needs before TPR at ``fpr`` is reported: ``ceil(1 / fpr)``."""
    return math.ceil(1.0 / fpr - 1e-9)


def tpr_is_reportable(n_nonmembers: int, fpr: float) -> bool:
    return n_nonmembers >= min_nonmembers_for_fpr(fpr)


def too_few_nonmembers_note(n_nonmembers: int, fpr: float) -> str:
    return (
        f"TPR at {format_fpr(fpr)} FPR not reported: too few non-members "
        f"({n_nonmembers} < {min_nonmembers_for_fpr(fpr)})"
    )


def is_small_slice(n_members: int, n_nonmembers: int) -> bool:
    return min(n_members, n_nonmembers) < MIN_EXAMPLES_PER_SIDE


def small_slice_note(n_members: int, n_nonmembers: int) -> str:
    return (
        f"small slice ({n_members} members, {n_nonmembers} non-members; fewer than {MIN_EXAMPLES_PER_SIDE} on a side): "
        "AUC, advantage and PPV are noisy; left out of the summary"
    )


def format_fpr(fpr: float) -> str:
    """``0.001`` -> ``'0.1%'``, ``0.01`` -> ``'1%'``."""
    return f"{fpr * 100:.4g}%"

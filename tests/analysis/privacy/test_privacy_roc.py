"""TPR at fixed FPR against hand-computed ROC curves, the compact ROC, and the small-slice rule."""

from __future__ import annotations

import numpy as np
import pytest

from analysis.privacy import MembershipAuditSpec, ModelOutputs, OutputArraysSource, SlicingOptions, run_membership_audit
from analysis.privacy.library import AttackInputData, AttackType, SlicingSpec, run_attacks
from analysis.privacy.reliability import min_nonmembers_for_fpr
from analysis.privacy.roc import MAX_STORED_POINTS, compact_roc, tpr_at_fprs


def library_roc(loss_members: list[float], loss_nonmembers: list[float]) -> tuple[np.ndarray, np.ndarray]:
    data = AttackInputData(loss_train=np.array(loss_members), loss_test=np.array(loss_nonmembers))
    with np.errstate(all="ignore"):
        single = run_attacks(data, SlicingSpec(), [AttackType.THRESHOLD_ATTACK]).single_attack_results[0]
    return single.roc_curve.fpr, single.roc_curve.tpr


def test_tpr_at_fpr_matches_a_roc_counted_by_hand():
    # Members have losses 0.1 0.2 0.3 0.9, non-members 0.25 0.4 0.6 0.7 0.8; an example is
    # called a member when its loss is <= t. Counting, for the best t within each FPR budget:
    #   FPR 0   (no non-member below t): t = 0.2  -> 2 of 4 members -> TPR 0.50
    #   FPR 0.2 (1 of 5):                t = 0.3  -> 3 of 4          -> TPR 0.75
    #   FPR 0.6 (3 of 5):                t = 0.6  -> 3 of 4          -> TPR 0.75
    #   FPR 1.0:                         t = 0.9  -> 4 of 4          -> TPR 1.00
    fpr, tpr = library_roc([0.1, 0.2, 0.3, 0.9], [0.25, 0.4, 0.6, 0.7, 0.8])
    targets = [0.0, 0.1, 0.2, 0.39, 0.6, 0.99, 1.0]
    assert tpr_at_fprs(fpr, tpr, targets).tolist() == [0.5, 0.5, 0.75, 0.75, 0.75, 0.75, 1.0]


def binary_side(name: str, losses: np.ndarray) -> ModelOutputs:
    """A binary classifier's probabilities giving each example (label 1) exactly ``loss``."""
    p = np.exp(-losses)
    return ModelOutputs(
        name=name, outputs=np.stack([1 - p, p], axis=1), kind="probs", labels=np.ones(len(losses), dtype=np.int64)
    )


def audit_entire(members: np.ndarray, nonmembers: np.ndarray):
    spec = MembershipAuditSpec(
        source=OutputArraysSource(members=binary_side("members", members), nonmembers=binary_side("nm", nonmembers)),
        attacks=("threshold",),
        slicing=SlicingOptions.parse("none"),
        workers=1,
    )
    return run_membership_audit(spec).rows[0]


def test_audit_reports_tpr_at_1pct_fpr_counted_by_hand_and_refuses_0_1pct():
    nonmembers = np.arange(1, 101) / 10  # 0.1 .. 10.0: 100 non-members
    members = np.concatenate([[0.01, 0.02, 0.03, 0.15], np.linspace(5.05, 9.95, 16)])
    row = audit_entire(members, nonmembers)
    # 1% of 100 non-members = 1 false positive allowed: threshold below 0.2 -> 4 of 20 members.
    assert row.tpr_at_fpr[0.01] == pytest.approx(4 / 20)
    assert row.tpr_at_fpr[0.001] is None
    assert row.notes == ("TPR at 0.1% FPR not reported: too few non-members (100 < 1000)",)
    assert row.to_dict()["tpr_at_fpr"] == {"0.001": None, "0.01": pytest.approx(0.2)}


@pytest.mark.parametrize(("n_nonmembers", "reported"), [(999, False), (1000, True)])
def test_tpr_at_0_1pct_needs_1000_nonmembers(n_nonmembers, reported):
    rng = np.random.default_rng(0)
    row = audit_entire(rng.exponential(0.5, 200), rng.exponential(1.0, n_nonmembers))
    assert (row.tpr_at_fpr[0.001] is not None) is reported
    assert row.tpr_at_fpr[0.01] is not None


def test_small_slices_are_flagged_and_left_out_of_the_summary():
    rng = np.random.default_rng(1)
    row = audit_entire(rng.exponential(0.1, 5), rng.exponential(1.0, 500))
    assert row.small
    assert row.notes[0] == (
        "small slice (5 members, 500 non-members; fewer than 20 on a side): AUC, advantage and PPV are noisy; "
        "left out of the summary"
    )


def test_min_nonmembers_rule():
    assert min_nonmembers_for_fpr(0.001) == 1000
    assert min_nonmembers_for_fpr(0.01) == 100


def test_compact_roc_keeps_tpr_at_fpr_and_bounds_its_size():
    rng = np.random.default_rng(2)
    fpr, tpr = library_roc(rng.normal(0.0, 1, 5000).tolist(), rng.normal(0.3, 1, 5000).tolist())
    assert len(fpr) > MAX_STORED_POINTS
    small_fpr, small_tpr = compact_roc(fpr, tpr, n_nonmembers=5000)
    assert len(small_fpr) == MAX_STORED_POINTS
    assert small_fpr[0] == 0.0 and small_fpr[-1] == pytest.approx(1.0)
    assert np.array_equal(tpr_at_fprs(small_fpr, small_tpr, small_fpr), tpr_at_fprs(fpr, tpr, small_fpr))
    short = library_roc([0.1, 0.2], [0.3, 0.4])
    assert all(np.array_equal(a, b) for a, b in zip(compact_roc(*short, n_nonmembers=2), short, strict=True))

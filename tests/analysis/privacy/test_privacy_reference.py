"""Loupe's audit numbers against tensorflow-privacy called directly, reproducibility, and sanity.

The reference is the library's public ``run_attacks`` on the raw arrays (losses and
entropies computed by the library itself, per slice, as a user would call it).
"""

from __future__ import annotations

import numpy as np
import pytest

from analysis.privacy import (
    AttackKind,
    MembershipAuditSpec,
    ModelOutputs,
    OutputArraysSource,
    RiskLevel,
    SliceKind,
    SlicingOptions,
    run_membership_audit,
)
from analysis.privacy.library import AttackInputData, SlicingSpec, get_single_slice_specs, get_slice, run_attacks
from tests.analysis.privacy.privacy_support import leaky_source, make_logits

ALL_SLICES = SlicingOptions(by_class=True, by_percentile=True, by_correctness=True, columns=("group",))


def direct_input(source: OutputArraysSource) -> AttackInputData:
    return AttackInputData(
        logits_train=source.members.outputs,
        logits_test=source.nonmembers.outputs,
        labels_train=source.members.labels,
        labels_test=source.nonmembers.labels,
    )


def direct_slicing_spec(source: OutputArraysSource) -> SlicingSpec:
    """The library's own spelling of ALL_SLICES (group column as custom indices: A=0, B=1)."""
    return SlicingSpec(
        entire_dataset=True,
        by_class=True,
        by_percentiles=True,
        by_classification_correctness=True,
        all_custom_train_indices=[(source.members.metadata["group"] == "B").astype(int)],
        all_custom_test_indices=[(source.nonmembers.metadata["group"] == "B").astype(int)],
    )


def numbers(row_or_result) -> tuple[float, float, float]:
    if hasattr(row_or_result, "get_auc"):
        r = row_or_result
        return float(r.get_auc()), float(r.get_attacker_advantage()), float(r.get_ppv())
    return row_or_result.auc, row_or_result.attacker_advantage, row_or_result.ppv


@pytest.fixture(scope="module")
def source() -> OutputArraysSource:
    return leaky_source(600)


def test_threshold_attacks_equal_one_direct_run_attacks_call_on_every_slice(source):
    spec = MembershipAuditSpec(source=source, attacks=("threshold", "entropy"), slicing=ALL_SLICES, workers=2)
    result = run_membership_audit(spec)
    with np.errstate(all="ignore"):
        direct = run_attacks(
            direct_input(source),
            direct_slicing_spec(source),
            [AttackKind.THRESHOLD.library_type, AttackKind.ENTROPY.library_type],
        )
    expected = [numbers(r) for r in direct.single_attack_results]
    assert len(result.rows) == len(expected) == (1 + 4 + 10 + 2 + 2) * 2
    assert [numbers(row) for row in result.rows] == expected  # exactly: same arrays, same library code
    assert [row.n_members for row in result.rows] == [r.data_size.ntrain for r in direct.single_attack_results]
    epsilons = [r.get_epsilon_lower_bound()[0] for r in direct.single_attack_results]
    assert [row.epsilon_lower_bound for row in result.rows] == epsilons


@pytest.fixture
def worker_processes(monkeypatch):
    """Send trained attacks to worker processes even for these small inputs."""
    monkeypatch.setattr("analysis.privacy.tasks.MIN_EXAMPLES_COLD", 0)


def test_trained_attack_equals_direct_run_attacks_per_slice_with_the_same_seed(source, worker_processes):
    """Loupe's seed protocol: np.random.seed(seed) before each (slice, attack); the direct calls do the same."""
    from threadpoolctl import threadpool_limits

    spec = MembershipAuditSpec(source=source, attacks=("lr",), slicing=ALL_SLICES, seed=7, workers=2)
    result = run_membership_audit(spec)
    data = direct_input(source)
    expected = []
    with np.errstate(all="ignore"), threadpool_limits(limits=1):
        for single in get_single_slice_specs(direct_slicing_spec(source), data.num_classes):
            np.random.seed(7)
            run = run_attacks(get_slice(data, single), SlicingSpec(entire_dataset=True), [AttackKind.LR.library_type])
            expected.append(numbers(run.single_attack_results[0]))
    assert [numbers(row) for row in result.rows] == expected


def test_same_inputs_and_seed_give_identical_numbers_however_tasks_run(source, monkeypatch):
    spec = dict(source=source, attacks=("threshold", "lr", "knn"), slicing=SlicingOptions(by_percentile=False), seed=3)
    sequential = run_membership_audit(MembershipAuditSpec(**spec, workers=1)).to_dict()
    threads_and_inline = run_membership_audit(MembershipAuditSpec(**spec, workers=2)).to_dict()
    monkeypatch.setattr("analysis.privacy.tasks.MIN_EXAMPLES_COLD", 0)
    processes = run_membership_audit(MembershipAuditSpec(**spec, workers=2)).to_dict()
    again = run_membership_audit(MembershipAuditSpec(**spec, workers=2)).to_dict()
    assert sequential == threads_and_inline == processes == again
    other_seed = run_membership_audit(MembershipAuditSpec(**{**spec, "seed": 4}, workers=2)).to_dict()
    lr = [i for i, row in enumerate(processes["results"]) if row["attack"] == "lr"]
    assert any(processes["results"][i]["auc"] != other_seed["results"][i]["auc"] for i in lr), "the seed is used"


def test_a_null_model_stays_near_chance():
    """Members and non-members drawn from one distribution: nothing to infer."""
    members, member_labels = make_logits(3000, classes=4, margin=2.0, seed=10)
    others, other_labels = make_logits(3000, classes=4, margin=2.0, seed=11)
    source = OutputArraysSource(
        members=ModelOutputs(name="members", outputs=members, kind="logits", labels=member_labels),
        nonmembers=ModelOutputs(name="non-members", outputs=others, kind="logits", labels=other_labels),
    )
    result = run_membership_audit(MembershipAuditSpec(source=source, workers=2))
    entire = [row for row in result.rows if row.slice.kind is SliceKind.ENTIRE]
    assert {row.attack for row in entire} == {AttackKind.THRESHOLD, AttackKind.ENTROPY, AttackKind.LR}
    for row in entire:
        assert abs(row.auc - 0.5) < 0.03, row
        assert row.tpr_at_fpr[0.01] < 0.03
    assert result.max_auc() < 0.6
    assert result.verdict().level is RiskLevel.LOW


def test_a_leaky_model_is_flagged(source):
    result = run_membership_audit(MembershipAuditSpec(source=source, attacks=("threshold",), workers=1))
    entire = next(row for row in result.rows if row.slice.kind is SliceKind.ENTIRE)
    assert entire.auc > 0.7
    level, sentence = result.verdict()
    assert level is RiskLevel.HIGH and sentence.startswith("High membership-inference risk: ")
    assert result.train_accuracy > result.test_accuracy
    assert result.loss_gap > 0
